/**
 * Shell completion for kubectl's plugin protocol. kubectl (>= 1.26) runs
 * `kubectl_complete-pv_doctor ARGS... WORD` with the words after `kubectl pv-doctor`, the last one
 * being the word under the cursor (empty for a new word), and reads cobra's answer: one candidate a
 * line (`value\tdescription`), then `:<directive>` (k8s.io/kubectl pkg/cmd/plugin
 * plugin_completion.go: pluginCompletion, getPluginCompletions; spf13/cobra completions.go).
 *
 * Pure: the commands and flags come from oclif's manifest, cluster names from a Lookup.
 */

/** cobra's ShellCompDirective bits (spf13/cobra completions.go). */
export const Directive = {Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4, KeepOrder: 32} as const

export interface ManifestFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  options?: string[]
  summary?: string
  description?: string
  hidden?: boolean
}
export interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  hidden?: boolean
  args?: Record<string, unknown>
  flags: Record<string, ManifestFlag>
}
export interface Manifest {
  commands: Record<string, ManifestCommand>
}

/** Names from the cluster or the kubeconfig; any failure is an empty list (never an error in the shell). */
export interface Lookup {
  claims(ctx: Scope): Promise<{name: string; phase?: string}[]>
  pods(ctx: Scope): Promise<string[]>
  /** Names of a workload kind in the namespace (explain sts/, deploy/, rs/). */
  workloads(ctx: Scope, kind: WorkloadKind): Promise<string[]>
  volumes(ctx: Scope): Promise<{name: string; phase?: string}[]>
  nodes(ctx: Scope): Promise<string[]>
  storageClasses(ctx: Scope): Promise<string[]>
  namespaces(ctx: Scope): Promise<string[]>
  contexts(ctx: Scope): Promise<string[]>
}

/** What the words typed so far say about where to look. */
export interface Scope {
  kubeconfig?: string
  context?: string
  namespace?: string
  requestTimeout?: string
}

export interface Answer {
  items: string[]
  directive: number
}

export type WorkloadKind = 'statefulsets' | 'deployments' | 'replicasets'

/** Flags whose value is a file: let the shell complete paths. */
const FILE_FLAGS = new Set(['from-file', 'from-report', 'kubeconfig'])
/** Commands whose positional argument is a claim (or pod/NAME). */
const CLAIM_ARGS = new Set(['explain', 'bind'])

const describe = (f: {summary?: string; description?: string}) => (f.summary ?? f.description ?? '').split('\n')[0]

export async function complete(words: string[], manifest: Manifest, lookup: Lookup): Promise<Answer> {
  const typed = words.slice(0, -1)
  const current = words.at(-1) ?? ''
  const ids = Object.keys(manifest.commands).filter((id) => !manifest.commands[id].hidden)

  // Walk the typed words: the verb, the scope flags, and whether the last one awaits a value.
  let verb: ManifestCommand | undefined
  const scope: Scope = {}
  let pending: ManifestFlag | undefined
  let positionals = 0
  for (const w of typed) {
    if (pending) {
      setScope(scope, pending.name, w)
      pending = undefined
      continue
    }
    if (w.startsWith('-') && w !== '-') {
      const flag = findFlag(verb, w)
      if (!flag) continue
      const eq = w.indexOf('=')
      if (eq > 0) setScope(scope, flag.name, w.slice(eq + 1))
      else if (flag.type === 'option' && !isOptionalValue(flag)) pending = flag
      continue
    }
    if (!verb && manifest.commands[w]) verb = manifest.commands[w]
    else positionals++
  }

  if (pending) return flagValues(pending, current, '', scope, lookup)
  if (current.startsWith('-')) {
    const eq = current.indexOf('=')
    if (eq > 0) {
      const flag = findFlag(verb, current.slice(0, eq))
      if (!flag) return {items: [], directive: Directive.NoFileComp}
      return flagValues(flag, current.slice(eq + 1), current.slice(0, eq + 1), scope, lookup)
    }
    return {items: flagNames(verb, current), directive: Directive.NoFileComp}
  }
  if (!verb) {
    return {
      items: ids.filter((id) => id.startsWith(current)).map((id) => `${id}\t${describe(manifest.commands[id])}`),
      directive: Directive.NoFileComp,
    }
  }
  if (verb.id === 'explain' && current.toLowerCase().startsWith(PV_PREFIX)) return volumeArgs(current, scope, lookup)
  if (CLAIM_ARGS.has(verb.id) && (verb.id === 'explain' || positionals === 0))
    return claimArgs(current, scope, lookup, verb.id === 'explain')
  return {items: [], directive: Directive.NoFileComp}
}

function findFlag(verb: ManifestCommand | undefined, word: string): ManifestFlag | undefined {
  if (!verb) return undefined
  const flags = Object.values(verb.flags)
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0]
    return flags.find((f) => f.name === name)
  }
  // -n shop, -nshop (a short flag with its value attached counts as complete)
  const ch = word.slice(1, 2)
  const f = flags.find((x) => x.char === ch)
  if (f && word.length > 2 && f.type === 'option') return {...f, type: 'boolean'}
  return f
}

/** `--dry-run` alone means `--dry-run=client` (see hooks/preparse.ts): its value only follows `=`. */
const isOptionalValue = (f: ManifestFlag) => f.name === 'dry-run'

function setScope(scope: Scope, name: string, value: string): void {
  if (name === 'namespace') scope.namespace = value
  else if (name === 'context') scope.context = value
  else if (name === 'kubeconfig') scope.kubeconfig = value
  else if (name === 'request-timeout') scope.requestTimeout = value
}

function flagNames(verb: ManifestCommand | undefined, current: string): string[] {
  const out: string[] = []
  const flags = verb ? Object.values(verb.flags).filter((f) => !f.hidden) : []
  for (const f of flags) {
    const long = `--${f.name}`
    if (long.startsWith(current)) out.push(`${long}\t${describe(f)}`)
  }
  if ('--help'.startsWith(current)) out.push('--help\tShow help')
  if (!verb && '--version'.startsWith(current)) out.push('--version\tShow the version')
  // Short forms only when the user typed a single dash and nothing else.
  if (current === '-') for (const f of flags) if (f.char) out.push(`-${f.char}\t${describe(f)}`)
  return out
}

async function flagValues(
  flag: ManifestFlag,
  current: string,
  prefix: string,
  scope: Scope,
  lookup: Lookup,
): Promise<Answer> {
  const pick = (values: string[]) => values.filter((v) => v.startsWith(current)).map((v) => prefix + v)
  if (flag.options?.length) return {items: pick(flag.options), directive: Directive.NoFileComp}
  if (FILE_FLAGS.has(flag.name)) return {items: [], directive: Directive.Default}
  const source: Record<string, ((s: Scope) => Promise<string[]>) | undefined> = {
    node: (s) => lookup.nodes(s),
    'storage-class': (s) => lookup.storageClasses(s),
    context: (s) => lookup.contexts(s),
    namespace: (s) => lookup.namespaces(s),
  }
  if (flag.name === 'volume') {
    // bind --volume: every PV, its phase as the description (Available and Released are the useful ones).
    const pvs = (await lookup.volumes(scope)).filter((v) => v.name.startsWith(current))
    return {
      items: pvs.map((v) => (v.phase ? `${prefix}${v.name}\t${v.phase}` : prefix + v.name)),
      directive: Directive.NoFileComp,
    }
  }
  const get = source[flag.name]
  return {items: get ? pick(await get(scope)) : [], directive: Directive.NoFileComp}
}

/** KIND/ prefixes of a claim argument: what each stands for and where its names come from. */
const PREFIXES: {
  prefix: string
  what: string
  names: (s: Scope, l: Lookup) => Promise<string[]>
  explainOnly?: boolean
}[] = [
  {prefix: 'pod/', what: 'every claim of a pod', names: (s, l) => l.pods(s)},
  {
    prefix: 'sts/',
    what: 'every claim of a StatefulSet',
    names: (s, l) => l.workloads(s, 'statefulsets'),
    explainOnly: true,
  },
  {
    prefix: 'deploy/',
    what: "a Deployment's claims and pods",
    names: (s, l) => l.workloads(s, 'deployments'),
    explainOnly: true,
  },
  {
    prefix: 'rs/',
    what: "a ReplicaSet's claims and pods",
    names: (s, l) => l.workloads(s, 'replicasets'),
    explainOnly: true,
  },
]

const PV_PREFIX = 'pv/'

/** explain pv/NAME: the PVs' names, with their phase. */
async function volumeArgs(current: string, scope: Scope, lookup: Lookup): Promise<Answer> {
  const name = current.slice(PV_PREFIX.length)
  const head = current.slice(0, PV_PREFIX.length)
  const pvs = (await lookup.volumes(scope)).filter((v) => v.name.startsWith(name))
  return {
    items: pvs.map((v) => (v.phase ? `${head}${v.name}\t${v.phase}` : head + v.name)),
    directive: Directive.NoFileComp,
  }
}

async function claimArgs(current: string, scope: Scope, lookup: Lookup, explain: boolean): Promise<Answer> {
  const prefixes = PREFIXES.filter((p) => explain || !p.explainOnly)
  const typed = prefixes.find((p) => current.toLowerCase().startsWith(p.prefix))
  if (typed) {
    const name = current.slice(typed.prefix.length)
    const names = await typed.names(scope, lookup)
    return {
      items: names.filter((n) => n.startsWith(name)).map((n) => current.slice(0, typed.prefix.length) + n),
      directive: Directive.NoFileComp,
    }
  }
  const claims = (await lookup.claims(scope)).filter((c) => c.name.startsWith(current))
  const items = claims.map((c) => (c.phase ? `${c.name}\t${c.phase}` : c.name))
  // A KIND/ is a prefix, not a whole word: when only prefixes match, no space after them.
  const matching = prefixes.filter((p) => p.prefix.startsWith(current))
  for (const p of matching) items.push(`${p.prefix}\t${p.what}`)
  if (matching.length && claims.length === 0) return {items, directive: Directive.NoFileComp | Directive.NoSpace}
  return {items, directive: Directive.NoFileComp}
}

/** cobra's wire format: candidates, then `:<directive>`. */
export function format(answer: Answer): string {
  return (
    answer.items.map((i) => i.split('\n')[0].trim()).join('\n') +
    (answer.items.length ? '\n' : '') +
    `:${answer.directive}\n`
  )
}
