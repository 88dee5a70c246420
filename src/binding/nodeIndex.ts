/**
 * Nodes indexed the ways the scheduler's non-volume filters read them, built once per node list
 * so a pod pinned to one node (a `kubernetes.io/hostname` selector or affinity) touches that node
 * only: by label (key → value → positions), by name, and by "taint class" — what
 * NodeUnschedulable and TaintToleration read (spec.unschedulable and the NoSchedule/NoExecute
 * taints), which few distinct nodes differ in.
 */
import type {V1Node, V1NodeSelectorTerm, V1Taint} from '@kubernetes/client-node'

export interface TaintClass {
  unschedulable: boolean
  /** The taints TaintToleration's Filter looks at, in the node's order. */
  taints: V1Taint[]
  /** Any node of the class (the filters read nothing else from it). */
  node: V1Node
  size: number
}

export class NodeIndex {
  readonly taintClasses: TaintClass[] = []
  /** Position → index into taintClasses. */
  readonly taintClassOf: Int32Array
  private readonly byLabel = new Map<string, Map<string, number[]>>()
  private readonly byName = new Map<string, number[]>()

  readonly size: number

  constructor(readonly nodes: readonly V1Node[]) {
    this.size = nodes.length
    this.taintClassOf = new Int32Array(nodes.length)
    const classIds = new Map<string, number>()
    nodes.forEach((node, i) => {
      const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
      const unschedulable = Boolean(node.spec?.unschedulable)
      const sig = JSON.stringify([unschedulable, taints.map((t) => [t.key, t.value, t.effect])])
      let id = classIds.get(sig)
      if (id === undefined) {
        id = this.taintClasses.length
        classIds.set(sig, id)
        this.taintClasses.push({unschedulable, taints, node, size: 0})
      }
      this.taintClasses[id].size++
      this.taintClassOf[i] = id
      push(this.byName, node.metadata?.name ?? '', i)
      for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
        let byValue = this.byLabel.get(k)
        if (!byValue) this.byLabel.set(k, (byValue = new Map()))
        push(byValue, v, i)
      }
    })
  }

  /** Positions of the nodes of this name (one, unless the list repeats a name). */
  named(name: string): readonly number[] {
    return this.byName.get(name) ?? []
  }

  /** Positions of the nodes whose label `key` is `value`, ascending. */
  withLabel(key: string, value: string): readonly number[] {
    return this.byLabel.get(key)?.get(value) ?? []
  }

  /**
   * Positions (ascending, unique) of a superset of the nodes that node selector terms can
   * match, or undefined when any node may: a term matches only nodes that satisfy each of its
   * `In` requirements (and, with `fields`, its `metadata.name In` field requirements), and an
   * empty term matches none (MatchNodeSelectorTerms). The caller still checks each node.
   */
  candidates(terms: readonly V1NodeSelectorTerm[] | undefined, fields: boolean): number[] | undefined {
    const union = new Set<number>()
    for (const term of terms ?? []) {
      const exprs = term.matchExpressions ?? []
      const fieldReqs = term.matchFields ?? []
      if (exprs.length === 0 && fieldReqs.length === 0) continue
      let narrowest: number[] | undefined
      const narrow = (positions: number[]) => {
        if (!narrowest || positions.length < narrowest.length) narrowest = positions
      }
      for (const r of exprs) if (r.operator === 'In') narrow(this.lookup(this.byLabel.get(r.key), r.values))
      if (fields)
        for (const r of fieldReqs)
          if (r.key === 'metadata.name' && r.operator === 'In') narrow(this.lookup(this.byName, r.values))
      if (!narrowest) return undefined
      for (const i of narrowest) union.add(i)
    }
    return [...union].sort((a, b) => a - b)
  }

  private lookup(byValue: Map<string, number[]> | undefined, values: readonly string[] | undefined): number[] {
    if (!byValue) return []
    const out: number[] = []
    for (const v of new Set(values ?? [])) for (const i of byValue.get(v) ?? []) out.push(i)
    return out
  }
}

const indexes = new WeakMap<readonly V1Node[], NodeIndex>()

/** The index of a node list, built on first use (again if the list has grown since). */
export function nodeIndexOf(nodes: readonly V1Node[]): NodeIndex {
  let ix = indexes.get(nodes)
  if (!ix || ix.size !== nodes.length) indexes.set(nodes, (ix = new NodeIndex(nodes)))
  return ix
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k)
  if (l) l.push(v)
  else m.set(k, [v])
}
