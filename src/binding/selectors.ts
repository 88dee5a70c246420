/**
 * Label selectors (metav1.LabelSelectorAsSelector) and node selector terms
 * (component-helpers scheduling/corev1 MatchNodeSelectorTerms), evaluated on plain label maps.
 */
import type {V1LabelSelector, V1NodeSelectorRequirement, V1NodeSelectorTerm} from '@kubernetes/client-node'

type Labels = Record<string, string> | undefined

/** undefined selector = no filter. Returns 'invalid' for a selector the API would reject. */
export function labelSelectorMatches(
  selector: V1LabelSelector | undefined | null,
  labels: Labels,
): boolean | 'invalid' {
  if (!selector) return true
  const l = labels ?? {}
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key)
    switch (e.operator) {
      case 'In':
        if (!e.values?.length) return 'invalid'
        if (!has || !e.values.includes(l[e.key])) return false
        break
      case 'NotIn':
        if (!e.values?.length) return 'invalid'
        if (has && e.values.includes(l[e.key])) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
      default:
        return 'invalid'
    }
  }
  return true
}

function requirementMatches(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(value)
    case 'NotIn':
      return !has || !(r.values ?? []).includes(value)
    case 'Exists':
      return has
    case 'DoesNotExist':
      return !has
    case 'Gt':
    case 'Lt': {
      if (!has || r.values?.length !== 1) return false
      if (!/^-?\d+$/.test(value) || !/^-?\d+$/.test(r.values[0])) return false
      const a = BigInt(value)
      const b = BigInt(r.values[0])
      return r.operator === 'Gt' ? a > b : a < b
    }
    default:
      return false
  }
}

/**
 * Terms are ORed, requirements inside a term ANDed; an empty term matches nothing.
 * `nodeName` is the value `matchFields` on metadata.name sees: the PV check
 * (CheckNodeAffinity) builds a node with labels only, so it passes nothing there.
 */
export function nodeSelectorTermsMatch(
  terms: readonly V1NodeSelectorTerm[] | undefined,
  labels: Labels,
  nodeName?: string,
): boolean {
  const l = labels ?? {}
  for (const term of terms ?? []) {
    const exprs = term.matchExpressions ?? []
    const fields = term.matchFields ?? []
    if (exprs.length === 0 && fields.length === 0) continue
    const ok =
      exprs.every((r) => requirementMatches(r, Object.hasOwn(l, r.key) ? l[r.key] : undefined)) &&
      fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, nodeName ?? ''))
    if (ok) return true
  }
  return false
}

/**
 * Parses kubectl's `-l` syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) into a LabelSelector.
 * Returns undefined for text that is not a selector.
 */
export function parseLabelSelector(text: string): V1LabelSelector | undefined {
  const sel: Required<V1LabelSelector> = {matchLabels: {}, matchExpressions: []}
  const parts = text.match(/([^,(]+(\([^)]*\))?)/g) ?? []
  for (const raw of parts) {
    const p = raw.trim()
    if (!p) continue
    let m: RegExpMatchArray | null
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      sel.matchExpressions.push({
        key: m[1],
        operator: m[2] === 'in' ? 'In' : 'NotIn',
        values: m[3]
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      })
    } else if ((m = p.match(/^([\w./-]+)\s*!=\s*([\w.-]*)$/))) {
      sel.matchExpressions.push({key: m[1], operator: 'NotIn', values: [m[2]]})
    } else if ((m = p.match(/^([\w./-]+)\s*==?\s*([\w.-]*)$/))) {
      sel.matchLabels[m[1]] = m[2]
    } else if ((m = p.match(/^!([\w./-]+)$/))) {
      sel.matchExpressions.push({key: m[1], operator: 'DoesNotExist'})
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      sel.matchExpressions.push({key: m[1], operator: 'Exists'})
    } else return undefined
  }
  return sel
}
