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
  type VolumeVerdict,
  volumeBindingOnNode,
} from './scheduling.js'
import {claimClass, isDelayBinding} from './storageClass.js'
import {topologySignature} from './volumeTopology.js'
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
  /** Per claim key, what VolumeBinding decided on the feasible nodes, by group of nodes it decides alike. */
  claimOutcomes: Map<string, ClaimOutcomes>
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

/**
 * Feasible nodes that VolumeBinding cannot tell apart for the pod (same topology signature,
 * volumeTopology.ts): one verdict for all of them.
 */
interface NodeGroup {
  verdict: VolumeVerdict
  /** The reasons each node of the group shows (the error, when VolumeBinding fails with one). */
  reasons: string[]
  fits: boolean
  /** Positions in the world's node list, ascending. */
  nodes: number[]
}

/** What VolumeBinding decided for one claim: per node group, its outcome (undefined: not reached). */
export interface ClaimOutcomes {
  readonly groups: readonly NodeGroup[]
  readonly byGroup: readonly (ClaimOnNode | undefined)[]
  /** Positions of the feasible nodes, ascending; groupAt maps a position to its group. */
  readonly feasible: readonly number[]
  readonly groupAt: Int32Array
  readonly nodes: readonly V1Node[]
}

/** The per-node part of an analysis, with claim outcomes by the claim's position (bound, then delayed). */
interface NodeLoop {
  nodeCount: number
  nodeAt(i: number): NodeVerdict
  feasible: V1Node[]
  fits: V1Node[]
  outcomes: Map<number, ClaimOutcomes>
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
  const reasonAt = nv.reasonAt
  const nodes = w.nodes
  // FindPodVolumes runs once per group of feasible nodes with one topology signature (the
  // nodes it cannot tell apart), not once per node: no per-node objects either; a node's
  // verdict is made on demand (nodeAt) from its group's or its class's.
  const groupAt = new Int32Array(nodes.length).fill(-1)
  const groups: NodeGroup[] = []
  const loop: NodeLoop = {
    nodeCount: nodes.length,
    nodeAt: (i) => {
      const g = groupAt[i]
      return {name: nodes[i].metadata?.name ?? '', reasons: g >= 0 ? groups[g].reasons : [reasonAt(i)!]}
    },
    feasible: [],
    fits: [],
    outcomes: new Map(),
    summary: '',
  }
  const signature = nv.feasible.length > 1 ? topologySignature(bound, delayed, w) : undefined
  const groupIds = new Map<string, number>()
  for (const i of nv.feasible) {
    const node = nodes[i]
    loop.feasible.push(node)
    const sig = signature?.(node)
    let g = sig === undefined ? undefined : groupIds.get(sig)
    if (g === undefined) {
      g = groups.length
      if (sig !== undefined) groupIds.set(sig, g)
      const v = volumeBindingOnNode(node, bound, delayed, w)
      // Groups are made in node order: the first group with an error holds the first such node.
      if (v.error) loop.error ??= `running "VolumeBinding" filter plugin: ${v.error}`
      groups.push({
        verdict: v,
        reasons: v.error ? [v.error] : v.reasons,
        fits: !v.error && v.reasons.length === 0,
        nodes: [],
      })
    }
    groupAt[i] = g
    groups[g].nodes.push(i)
    if (groups[g].fits) loop.fits.push(node)
  }
  const histogram = new Map(nv.histogram)
  const byGroups = new Map<number, (ClaimOnNode | undefined)[]>()
  groups.forEach((group, g) => {
    for (const r of group.verdict.reasons) histogram.set(r, (histogram.get(r) ?? 0) + group.nodes.length)
    for (const [key, outcome] of group.verdict.claims) {
      const pos = position.get(key)!
      let byGroup = byGroups.get(pos)
      if (!byGroup) {
        byGroups.set(pos, (byGroup = []))
        loop.outcomes.set(pos, {groups, byGroup, feasible: nv.feasible, groupAt, nodes})
      }
      byGroup[g] = outcome
    }
  })
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
  /** The kinds of outcome the claim has on the feasible nodes. */
  kinds: Set<ClaimOnNode['kind']>
  /** Some feasible node has a PV for the claim or can provision one. */
  satisfiable: boolean
  /** The claim has an outcome on some node where the whole pod fits. */
  onFits: boolean
  /** The PVs the scheduler may bind on those nodes (winners and ties), sorted, unique. */
  statics: string[]
  /** statics without its first (shared by the claims of one node loop: not to be changed). */
  ties: string[]
  /** The nodes where the pod fits and the claim would be provisioned, in node order, unique. */
  provisionOn: string[]
}

const onFeasibleByOutcomes = new WeakMap<ClaimOutcomes, ClaimOnFeasible>()

/** A claim's outcomes on the feasible and on the fitting nodes of an analysis (memoised per loop). */
export function claimOnFeasible(a: PodAnalysis, key: string): ClaimOnFeasible {
  const co = a.claimOutcomes.get(key)
  if (!co) return {kinds: new Set(), satisfiable: false, onFits: false, statics: [], ties: [], provisionOn: []}
  let r = onFeasibleByOutcomes.get(co)
  if (r) return r
  const kinds = new Set<ClaimOnNode['kind']>()
  const statics = new Set<string>()
  let onFits = false
  let provisionOnFits = false
  co.groups.forEach((group, g) => {
    const o = co.byGroup[g]
    if (!o) return
    kinds.add(o.kind)
    if (!group.fits) return
    onFits = true
    if (o.kind === 'provision') provisionOnFits = true
    if (o.kind === 'static') {
      statics.add(o.pv)
      for (const t of o.ties) statics.add(t)
    }
  })
  const provisionOn: string[] = []
  if (provisionOnFits) {
    const seen = new Set<string>()
    for (const i of co.feasible) {
      const g = co.groupAt[i]
      if (!co.groups[g].fits || co.byGroup[g]?.kind !== 'provision') continue
      const name = co.nodes[i].metadata?.name ?? ''
      if (!seen.has(name)) {
        seen.add(name)
        provisionOn.push(name)
      }
    }
  }
  const sorted = [...statics].sort()
  r = {
    kinds,
    satisfiable: kinds.has('static') || kinds.has('provision'),
    onFits,
    statics: sorted,
    ties: sorted.slice(1),
    provisionOn,
  }
  onFeasibleByOutcomes.set(co, r)
  return r
}

/** A claim's outcome on each feasible node, in node order (every node spelled out: for tests and checks). */
export function claimOutcomeList(a: PodAnalysis, key: string): {node: string; outcome: ClaimOnNode}[] {
  const co = a.claimOutcomes.get(key)
  if (!co) return []
  const out: {node: string; outcome: ClaimOnNode}[] = []
  for (const i of co.feasible) {
    const o = co.byGroup[co.groupAt[i]]
    if (o) out.push({node: co.nodes[i].metadata?.name ?? '', outcome: o})
  }
  return out
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
