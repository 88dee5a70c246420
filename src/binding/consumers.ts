/**
 * The scheduler's view of a consumer pod: PreFilter (VolumeBinding's claim checks), then per
 * node the filters before VolumeBinding, then VolumeBinding itself.
 */
import type {V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {claimKey, pvFitsNodeLabels} from './matchVolume.js'
import {nonVolumeVerdicts, type NonVolumeVerdicts} from './nodeFilters.js'
import {
  type ClaimOnNode,
  isClaimBound,
  nodeAffinityPreFilter,
  REASON,
  SELECTED_NODE,
  volumeBindingOnNode,
} from './scheduling.js'
import {claimClass, isDelayBinding} from './storageClass.js'
import {podClaimNames, type World} from './world.js'

/** One node and why the scheduler would reject the pod there (no reasons: feasible). */
export interface NodeVerdict {
  name: string
  reasons: string[]
}

export interface PodAnalysis {
  pod: V1Pod
  /** A PreFilter rejection: the pod cannot be scheduled anywhere, with upstream's text. */
  preFilter?: string
  /** Every node's verdict, in node order; built on first use (pods × nodes objects otherwise). */
  readonly nodes: NodeVerdict[]
  /** The verdict of the node at a position of the world's node list. */
  nodeAt(i: number): NodeVerdict
  /** Nodes that pass the non-volume filters. */
  feasible: V1Node[]
  /** Feasible nodes where VolumeBinding passes too. */
  fits: V1Node[]
  /** Per claim key, what VolumeBinding decided on each feasible node. */
  claimOutcomes: Map<string, {node: string; outcome: ClaimOnNode}[]>
  summary: string
  error?: string
}

export function isTerminated(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
}

/** metav1.IsControlledBy: the controller owner reference carries the owner's uid. */
function isControlledBy(pvc: V1PersistentVolumeClaim, pod: V1Pod): boolean {
  if ((pvc.metadata?.namespace ?? 'default') !== (pod.metadata?.namespace ?? 'default')) return false
  const ref = (pvc.metadata?.ownerReferences ?? []).find((o) => o.controller === true)
  return ref !== undefined && (ref.uid ?? '') === (pod.metadata?.uid ?? '')
}

export function podClaims(pod: V1Pod, w: World): {name: string; ephemeral: boolean; pvc?: V1PersistentVolumeClaim}[] {
  const ns = pod.metadata?.namespace ?? 'default'
  return podClaimNames(pod).map((c) => ({...c, pvc: w.claims.get(`${ns}/${c.name}`)}))
}

export function analysePod(pod: V1Pod, w: World): PodAnalysis {
  const claims = podClaims(pod, w)
  const bound: V1PersistentVolumeClaim[] = []
  const delayed: V1PersistentVolumeClaim[] = []
  // NodeAffinity's PreFilter runs before VolumeRestrictions' and VolumeBinding's (default profile order).
  let preFilter: string | undefined = nodeAffinityPreFilter(pod).rejection
  for (const c of claims) {
    const pvc = c.pvc
    if (!pvc) {
      preFilter ??= c.ephemeral
        ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${c.name}"`
        : `persistentvolumeclaim "${c.name}" not found`
      continue
    }
    // ephemeral.VolumeIsForPod: an ephemeral volume's claim must be controlled by the pod itself.
    if (c.ephemeral && !isControlledBy(pvc, pod)) {
      preFilter ??= `PVC ${pvc.metadata?.namespace}/${pvc.metadata?.name} was not created for pod ${pod.metadata?.namespace}/${pod.metadata?.name} (pod is not owner)`
      continue
    }
    if (pvc.status?.phase === 'Lost')
      preFilter ??= `persistentvolumeclaim "${c.name}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ''}"`
    else if (pvc.metadata?.deletionTimestamp) preFilter ??= `persistentvolumeclaim "${c.name}" is being deleted`
    else if (isClaimBound(pvc)) bound.push(pvc)
    else if (!pvc.spec?.volumeName && isDelayBinding(pvc, w.classes)) delayed.push(pvc)
    else preFilter ??= REASON.unboundImmediate
  }
  const total = w.nodes.length
  if (preFilter) {
    // PreFilter rejects the pod before any node is looked at.
    return {
      pod,
      preFilter,
      nodes: [],
      nodeAt: () => ({name: '', reasons: []}),
      feasible: [],
      fits: [],
      claimOutcomes: new Map(),
      summary: `0/${total} nodes are available: ${preFilter}.`,
    }
  }
  // Pods of one workload share their constraints and their claims' shapes: the node loop is the
  // same for all of them, so it runs once per (constraints, claims) and only the keys differ.
  const ordered = [...bound, ...delayed]
  const keys = ordered.map(claimKey)
  const caches = cachesOf(w)
  const eqKey = equivalenceKey(pod, bound, delayed, keys, w)
  let loop = eqKey === undefined ? undefined : caches.loops.get(eqKey)
  if (!loop) {
    loop = nodeLoop(pod, bound, delayed, keys, w, caches)
    if (eqKey !== undefined) caches.loops.set(eqKey, loop)
  }
  const shared = loop
  const result: PodAnalysis = {
    pod,
    get nodes() {
      return allVerdicts(shared)
    },
    nodeAt: (i) => shared.nodeAt(i),
    feasible: loop.feasible,
    fits: loop.fits,
    claimOutcomes: new Map(),
    summary: loop.summary,
  }
  loopOf.set(result, loop)
  for (const [pos, list] of loop.outcomes) result.claimOutcomes.set(keys[pos], list)
  if (loop.error) result.error = loop.error
  return result
}

const loopOf = new WeakMap<PodAnalysis, NodeLoop>()
const allByLoop = new WeakMap<NodeLoop, NodeVerdict[]>()

function allVerdicts(loop: NodeLoop): NodeVerdict[] {
  let all = allByLoop.get(loop)
  if (!all) {
    all = []
    for (let i = 0; i < loop.nodeCount; i++) all.push(loop.nodeAt(i))
    allByLoop.set(loop, all)
  }
  return all
}

/** The per-node part of an analysis, with claim outcomes by the claim's position (bound, then delayed). */
interface NodeLoop {
  nodeCount: number
  nodeAt(i: number): NodeVerdict
  feasible: V1Node[]
  fits: V1Node[]
  outcomes: Map<number, {node: string; outcome: ClaimOnNode}[]>
  summary: string
  error?: string
}

interface Caches {
  /** Non-volume filter verdicts over the nodes, by the pod's scheduling constraints. */
  nonVolume: Map<string, NonVolumeVerdicts>
  loops: Map<string, NodeLoop>
}

const cachesByWorld = new WeakMap<World, Caches>()

function cachesOf(w: World): Caches {
  let c = cachesByWorld.get(w)
  if (!c) cachesByWorld.set(w, (c = {nonVolume: new Map(), loops: new Map()}))
  return c
}

/** Everything nonVolumeReason reads from the pod. */
function constraintsKey(pod: V1Pod): string {
  const s = pod.spec
  return JSON.stringify([
    s?.nodeName ?? null,
    s?.tolerations ?? null,
    s?.nodeSelector ?? null,
    s?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null,
  ])
}

/**
 * Everything the node loop reads from the pod and its claims, except the claim keys; undefined
 * when the loop must not be shared (a claim used twice, or one that a PV's claimRef names).
 */
function equivalenceKey(
  pod: V1Pod,
  bound: readonly V1PersistentVolumeClaim[],
  delayed: readonly V1PersistentVolumeClaim[],
  keys: readonly string[],
  w: World,
): string | undefined {
  if (new Set(keys).size !== keys.length) return undefined
  const parts: unknown[] = [constraintsKey(pod), bound.length]
  for (const pvc of bound) parts.push(pvc.spec?.volumeName ?? '')
  for (const pvc of delayed) {
    if (w.index.claimedFor(pvc).length) return undefined
    parts.push([
      pvc.metadata?.annotations?.[SELECTED_NODE] ?? null,
      claimClass(pvc),
      pvc.spec?.resources?.requests?.storage ?? null,
      pvc.spec?.volumeMode ?? null,
      pvc.spec?.volumeAttributesClassName ?? null,
      pvc.spec?.selector ?? null,
      pvc.spec?.accessModes ?? null,
    ])
  }
  return JSON.stringify(parts)
}

function nodeLoop(
  pod: V1Pod,
  bound: readonly V1PersistentVolumeClaim[],
  delayed: readonly V1PersistentVolumeClaim[],
  keys: readonly string[],
  w: World,
  caches: Caches,
): NodeLoop {
  const ck = constraintsKey(pod)
  let nv = caches.nonVolume.get(ck)
  if (!nv) {
    nv = nonVolumeVerdicts(pod, w.nodes, w.rules)
    caches.nonVolume.set(ck, nv)
  }
  const position = new Map(keys.map((k, i) => [k, i]))
  // Only the nodes that pass the non-volume filters get a verdict object here; the others' are
  // made on demand from the class verdicts (nodeAt).
  const onFeasible = new Map<number, NodeVerdict>()
  const reasonAt = nv.reasonAt
  const nodes = w.nodes
  const loop: NodeLoop = {
    nodeCount: nodes.length,
    nodeAt: (i) => onFeasible.get(i) ?? {name: nodes[i].metadata?.name ?? '', reasons: [reasonAt(i)!]},
    feasible: [],
    fits: [],
    outcomes: new Map(),
    summary: '',
  }
  const histogram = new Map(nv.histogram)
  for (const i of nv.feasible) {
    const node = nodes[i]
    loop.feasible.push(node)
    const v = volumeBindingOnNode(node, bound, delayed, w)
    for (const [key, outcome] of v.claims) {
      const pos = position.get(key)!
      const l = loop.outcomes.get(pos) ?? []
      l.push({node: node.metadata?.name ?? '', outcome})
      loop.outcomes.set(pos, l)
    }
    if (v.error) loop.error ??= `running "VolumeBinding" filter plugin: ${v.error}`
    onFeasible.set(i, {name: node.metadata?.name ?? '', reasons: v.error ? [v.error] : v.reasons})
    if (!v.error && v.reasons.length === 0) loop.fits.push(node)
    for (const r of v.reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1)
  }
  loop.summary = fitSummary(nodes.length, loop.fits.length, histogram)
  return loop
}

// Pods that share a node loop share what is derived from it, so it is computed once.
const rejectedByLoop = new WeakMap<NodeLoop, Map<number, NodeVerdict[]>>()

/**
 * The nodes of an analysis that have a reason against them, in node order, at most `limit`
 * (memoised per node loop): it stops at the limit instead of making every node's verdict.
 */
export function rejectedNodes(a: PodAnalysis, limit = Infinity): NodeVerdict[] {
  const loop = loopOf.get(a)
  if (!loop) return a.nodes.filter((n) => n.reasons.length).slice(0, limit)
  let byLimit = rejectedByLoop.get(loop)
  if (!byLimit) rejectedByLoop.set(loop, (byLimit = new Map()))
  let r = byLimit.get(limit)
  if (!r) {
    r = []
    for (let i = 0; i < loop.nodeCount && r.length < limit; i++) {
      const v = loop.nodeAt(i)
      if (v.reasons.length) r.push(v)
    }
    byLimit.set(limit, r)
  }
  return r
}

const namesByNodes = new WeakMap<readonly V1Node[], Set<string | undefined>>()

/** The names of these nodes as a set (memoised per node list). */
export function nodeNameSet(nodes: readonly V1Node[]): Set<string | undefined> {
  let s = namesByNodes.get(nodes)
  if (!s) namesByNodes.set(nodes, (s = new Set(nodes.map((n) => n.metadata?.name))))
  return s
}

export interface ClaimOnFeasible {
  /** What VolumeBinding decided for the claim on each feasible node. */
  outcomes: {node: string; outcome: ClaimOnNode}[]
  /** The outcomes on nodes where the whole pod fits. */
  good: {node: string; outcome: ClaimOnNode}[]
  /** The PVs the scheduler may bind on those nodes (winners and ties), sorted, unique. */
  statics: string[]
  kinds: Set<ClaimOnNode['kind']>
}

const onFeasibleByList = new WeakMap<object, ClaimOnFeasible>()

/** A claim's outcomes on the feasible and on the fitting nodes of an analysis (memoised per loop). */
export function claimOnFeasible(a: PodAnalysis, key: string): ClaimOnFeasible {
  const list = a.claimOutcomes.get(key)
  const memo = list ? onFeasibleByList.get(list) : undefined
  if (memo) return memo
  const feasibleNames = nodeNameSet(a.feasible)
  const outcomes = (list ?? []).filter((o) => feasibleNames.has(o.node))
  const fitNames = nodeNameSet(a.fits)
  const good = outcomes.filter((o) => fitNames.has(o.node))
  const statics = [
    ...new Set(good.flatMap((o) => (o.outcome.kind === 'static' ? [o.outcome.pv, ...o.outcome.ties] : []))),
  ].sort()
  const r: ClaimOnFeasible = {outcomes, good, statics, kinds: new Set(outcomes.map((o) => o.outcome.kind))}
  if (list) onFeasibleByList.set(list, r)
  return r
}

const fitsByNodes = new WeakMap<readonly V1Node[], WeakMap<V1PersistentVolume, boolean>>()

/** Whether the PV's node affinity admits at least one of these nodes (memoised per node list). */
export function fitsSomeNode(pv: V1PersistentVolume, nodes: readonly V1Node[]): boolean {
  let m = fitsByNodes.get(nodes)
  if (!m) fitsByNodes.set(nodes, (m = new WeakMap()))
  let v = m.get(pv)
  if (v === undefined) {
    v = nodes.some((n) => pvFitsNodeLabels(pv, n.metadata?.labels))
    m.set(pv, v)
  }
  return v
}

/** FitError's format: counts sorted as strings, joined by ", ". */
export function fitSummary(total: number, fits: number, histogram: Map<string, number>): string {
  if (fits > 0) return `${fits}/${total} nodes are available.`
  if (total === 0) return '0/0 nodes are available: no nodes in the snapshot.'
  const parts = [...histogram].map(([r, n]) => `${n} ${r}`).sort()
  // Empty when every node was left out by a PreFilterResult that counts none of them (1.30.2–1.31).
  return parts.length ? `0/${total} nodes are available: ${parts.join(', ')}.` : `0/${total} nodes are available:`
}

/** The claim key of a pod's claim, for looking up its outcomes. */
export {claimKey}
