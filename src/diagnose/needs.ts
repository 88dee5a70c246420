/**
 * What explain must read for the claims it is asked about, so that a verdict read this way is the
 * one a full read (`-A`) gives: the plan, in rounds, for snapshot/plannedSnapshot.ts. Pure.
 *
 * What each verdict reads (diagnoseClaim and what it calls):
 * - every verdict: the claim, the pods of its namespace (its consumers), the claim's events;
 * - Bound: its PV (the Lost checks); a Bound claim seen through an unscheduled pod: the
 *   scheduler's view of that pod too (VolumeNodeAffinityConflict);
 * - anything else: every PV (the controller's pick, the candidate table, earlier claims' PVs),
 *   the StorageClasses, CSIDrivers, VolumeAttributesClasses, the namespace's quotas and limits;
 *   with WaitForFirstConsumer (the claim's class or the default one) the scheduler's view:
 *   nodes, CSINodes, CSIStorageCapacities; and every claim of every namespace (a PV's effective
 *   phase, which the candidate table counts for every PV of the class, depends on whether the
 *   claim its claimRef names exists; in a cluster of any size that is most claims).
 * Nothing reads pods of other namespaces: the scheduler simulation looks at nodes, PVs and the
 * pod's own claims only.
 */
import type {V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import type {V1LabelSelector} from '@kubernetes/client-node'
import {isClaimBound} from '../binding/scheduling.js'
import {claimClass, claimHasClass, defaultClass, findClass} from '../binding/storageClass.js'
import {buildWorld, podClaimNames} from '../binding/world.js'
import type {Planner, Read} from '../snapshot/plannedSnapshot.js'
import {emptySnapshot, RESOURCES, type ResourceName, type Snapshot} from '../snapshot/types.js'
import {deleterOf} from './diagnosePv.js'
import {isHealthyBound} from './diagnoseClaim.js'
import {type Target, selectClaims} from './diagnose.js'
import {ownedPods} from './podWorkload.js'
import {statefulSetClaimName} from './workload.js'

/** What the verdicts asked for depend on; grows round by round. */
interface Needs {
  /** Namespaces whose claims and pods are read whole. */
  namespaces: Set<string>
  /**
   * Read those namespaces' lists (claims, pods, quotas, limits) as one list of the whole scope
   * (a scan whose unhealthy claims are spread over many namespaces).
   */
  wholeScope: boolean
  /** The scan's namespace (undefined = all), for whole-scope lists. */
  scope?: string
  /** Claims (`ns/name`) whose events are read. */
  claimEvents: Set<string>
  /** Read every claim event of the scope in one list instead (many claims). */
  allClaimEvents: boolean
  /** Every PV, or these by name. */
  pvs: 'all' | Set<string>
  /** Every claim of every namespace. */
  allClaims: boolean
  /** An unbound, Lost or terminating claim: the controller's and the provisioner's side. */
  unbound: boolean
  /** The scheduler's view: WaitForFirstConsumer, or a pod asked about that is not scheduled. */
  scheduling: boolean
  /**
   * After binding: a pod asked about that is on a node and not running — attach and mount
   * (diagnose/attach.ts, mount.ts) read VolumeAttachments, CSINodes, CSIDrivers, Nodes, every
   * pod and the pods' events.
   */
  podSide: boolean
  /** A pod asked about: its events (FailedScheduling, FailedAttachVolume, FailedMount) are evidence. */
  podEvents: boolean
  /** PVs asked about (`pv/NAME`) whose events are read (diagnosePv). */
  pvEvents: Set<string>
  /**
   * An external provisioner is to delete a PV asked about: its Lease and CSIDriver
   * (provisionerLiveness), and the VolumeAttachments and nodes it waits on to detach.
   */
  deleterLiveness: boolean
  /** Pods of a PV asked about may sit on a NotReady node: the nodes are read. */
  podNodes: boolean
  /** The claim events a provisioner writes (its liveness), without the rest of an unbound claim's reads. */
  unboundEvents: boolean
}

const byName = (ns: string | undefined, name: string): Pick<Read, 'namespace' | 'fieldSelector'> => ({
  namespace: ns,
  fieldSelector: `metadata.name=${name}`,
})
const split = (key: string): [string, string] => {
  const i = key.indexOf('/')
  return [key.slice(0, i), key.slice(i + 1)]
}
const perNamespace = (name: ResourceName, n: Needs): Read[] =>
  n.wholeScope ? [{name, namespace: n.scope}] : [...n.namespaces].map((namespace) => ({name, namespace}))
/**
 * Quotas and limit ranges: a few small objects per namespace, if any. Beyond one namespace, one
 * list of the scope costs less than a request per namespace (a full read reads them all too).
 */
const fewPerNamespace = (name: ResourceName, n: Needs): Read[] =>
  n.namespaces.size > 1 ? [{name, namespace: n.scope}] : perNamespace(name, n)
const CLAIM_EVENTS = 'involvedObject.kind=PersistentVolumeClaim'
/** Events about a cluster-scoped object are written to the default namespace (client-go's recorder). */
const PV_EVENTS = 'involvedObject.kind=PersistentVolume'
const POD_EVENTS = 'involvedObject.kind=Pod'
/**
 * What a provisioner writes about claims (sig-storage-lib-external-provisioner): whether it has
 * spoken about any claim lately tells a running provisioner from a missing one
 * (provisionerLiveness). Events can be selected by reason (event strategy's selectable fields).
 */
const PROVISIONER_REASONS = ['Provisioning', 'ProvisioningSucceeded', 'ProvisioningFailed']

/**
 * How each kind is read for a set of needs. A new snapshot kind is one entry here (the type
 * makes it required): when its objects matter, and which of them.
 */
const READS: Record<ResourceName, (n: Needs) => Read[]> = {
  persistentvolumeclaims: (n) => [
    ...perNamespace('persistentvolumeclaims', n),
    ...(n.allClaims ? [{name: 'persistentvolumeclaims' as const}] : []),
  ],
  persistentvolumes: (n) =>
    n.pvs === 'all'
      ? [{name: 'persistentvolumes'}]
      : [...n.pvs].map((pv) => ({name: 'persistentvolumes' as const, ...byName(undefined, pv)})),
  storageclasses: () => [{name: 'storageclasses'}],
  nodes: (n) => (n.scheduling || n.podSide || n.podNodes || n.deleterLiveness ? [{name: 'nodes'}] : []),
  pods: (n) => (n.podSide ? [{name: 'pods'}] : perNamespace('pods', n)),
  events: (n) => [
    ...(n.unbound || n.unboundEvents
      ? PROVISIONER_REASONS.map((reason) => ({
          name: 'events' as const,
          namespace: n.scope,
          fieldSelector: `${CLAIM_EVENTS},reason=${reason}`,
        }))
      : []),
    ...(n.podSide || n.podEvents ? perNamespace('events', n).map((r) => ({...r, fieldSelector: POD_EVENTS})) : []),
    ...[...n.pvEvents].map((pv) => ({
      name: 'events' as const,
      namespace: 'default',
      fieldSelector: `${PV_EVENTS},involvedObject.name=${pv}`,
    })),
    ...(n.allClaimEvents
      ? [{name: 'events' as const, namespace: n.scope, fieldSelector: CLAIM_EVENTS}]
      : [...n.claimEvents].map((k) => {
          const [namespace, name] = split(k)
          return {name: 'events' as const, namespace, fieldSelector: `${CLAIM_EVENTS},involvedObject.name=${name}`}
        })),
  ],
  csidrivers: (n) => (n.unbound || n.podSide || n.deleterLiveness ? [{name: 'csidrivers'}] : []),
  csinodes: (n) => (n.scheduling || n.podSide ? [{name: 'csinodes'}] : []),
  volumeattachments: (n) => (n.podSide || n.deleterLiveness ? [{name: 'volumeattachments'}] : []),
  // Capacity objects live in the driver's namespace, not the claim's.
  csistoragecapacities: (n) => (n.scheduling ? [{name: 'csistoragecapacities'}] : []),
  volumeattributesclasses: (n) => (n.unbound ? [{name: 'volumeattributesclasses'}] : []),
  resourcequotas: (n) => (n.unbound ? fewPerNamespace('resourcequotas', n) : []),
  limitranges: (n) => (n.unbound ? fewPerNamespace('limitranges', n) : []),
  // An external provisioner's liveness (diagnose/provisionerLiveness.ts): its Lease, in any namespace.
  leases: (n) =>
    n.unbound || n.deleterLiveness ? [{name: 'leases', fieldSelector: 'metadata.namespace!=kube-node-lease'}] : [],
  // Only `explain sts/NAME`, `deploy/NAME` and `rs/NAME` read workloads (workloadPlanner).
  statefulsets: () => [],
  deployments: () => [],
  replicasets: () => [],
}

/**
 * A `limit=1` read of every kind the first reads leave out (in the namespace a full read of the
 * scope would use): a kind the user may not read is named in `skipped` exactly as a full read
 * names it, whether or not the verdicts end up needing it. They go out with the first reads.
 */
function probes(first: readonly Read[], namespace: string | undefined): Read[] {
  return RESOURCES.filter((r) => !first.some((f) => f.name === r.name)).map((r) => ({
    name: r.name,
    namespace: r.name === 'csistoragecapacities' || r.name === 'leases' ? undefined : namespace,
    probe: true,
  }))
}

function readsFor(n: Needs): Read[] {
  return RESOURCES.flatMap((r) => READS[r.name](n))
}

function emptyNeeds(): Needs {
  return {
    namespaces: new Set(),
    claimEvents: new Set(),
    allClaimEvents: false,
    wholeScope: false,
    pvs: new Set(),
    allClaims: false,
    unbound: false,
    scheduling: false,
    podSide: false,
    podEvents: false,
    pvEvents: new Set(),
    deleterLiveness: false,
    podNodes: false,
    unboundEvents: false,
  }
}

const keyOf = (o: {metadata?: {namespace?: string; name?: string}}) =>
  `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`

/** The claims a target set diagnoses, each with the pod it is asked through (pod/NAME). */
function targetClaims(snap: Snapshot, targets: readonly Target[]): {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] {
  const claims = new Map(snap.pvcs.map((c) => [keyOf(c), c]))
  const out: {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] = []
  for (const t of targets) {
    if (t.kind === 'volume') continue
    if (t.kind === 'claim') {
      const pvc = claims.get(`${t.namespace}/${t.name}`)
      if (pvc) out.push({pvc})
      continue
    }
    const pod = snap.pods.find((p) => keyOf(p) === `${t.namespace}/${t.name}`)
    for (const c of pod ? podClaimNames(pod) : []) {
      const pvc = claims.get(`${t.namespace}/${c.name}`)
      if (pvc) out.push({pvc, viaPod: pod})
    }
  }
  return out
}

/**
 * Adds what these claims' verdicts read, given what is known so far (the claims, pods, classes
 * and the PVs read by name). Bound claims stay cheap until their PV shows they are not healthy.
 */
function addClaimNeeds(
  n: Needs,
  snap: Snapshot,
  list: {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[],
  final: boolean,
): void {
  const world = buildWorld(snap)
  const def = defaultClass(snap.storageClasses)?.metadata?.name
  for (const {pvc, viaPod} of list) {
    const ns = pvc.metadata?.namespace ?? 'default'
    n.namespaces.add(ns)
    n.claimEvents.add(keyOf(pvc))
    if (viaPod) n.podEvents = true
    // ClaimTerminating calls out pods on NotReady nodes: the nodes are read.
    if (pvc.metadata?.deletionTimestamp) n.podNodes = true
    if (viaPod && !viaPod.spec?.nodeName) n.scheduling = true
    // diagnoseClaim's afterBind: a scheduled pod still Pending. The node's volume limit counts the
    // volumes of every pod on that node (any namespace), so all pods, claims and PVs are read.
    if (viaPod?.spec?.nodeName && (viaPod.status?.phase ?? 'Pending') === 'Pending') {
      n.podSide = true
      n.allClaims = true
      n.pvs = 'all'
    }
    const volume = pvc.spec?.volumeName
    const maybeHealthy = isClaimBound(pvc) && pvc.status?.phase !== 'Pending' && pvc.status?.phase !== 'Lost' && volume
    if (maybeHealthy) {
      // First pass: read its PV; the final pass decides with it (or without it: then it is Lost).
      if (!final && !world.index.byName.has(volume)) {
        if (n.pvs !== 'all') n.pvs.add(volume)
        continue
      }
      if (isHealthyBound(pvc, world)) continue
    }
    n.unbound = true
    n.pvs = 'all'
    n.allClaims = true
    const classes = [claimClass(pvc), ...(claimHasClass(pvc) || !def ? [] : [def])]
    if (classes.some((c) => c && findClass(snap.storageClasses, c)?.volumeBindingMode === 'WaitForFirstConsumer'))
      n.scheduling = true
  }
}

/**
 * What diagnosePv reads for the PVs asked about (`pv/NAME`): the PV and its events first; once the
 * PV is known, its claim's namespace (the claim and the pods that use it), the nodes those pods
 * are on when the PV is being deleted, and, when an external provisioner is to delete the volume,
 * its Lease and CSIDriver (and the claim events its liveness counts).
 */
function addVolumeNeeds(n: Needs, snap: Snapshot, volumes: readonly string[]): void {
  for (const name of volumes) {
    if (n.pvs !== 'all') n.pvs.add(name)
    n.pvEvents.add(name)
    const pv = snap.pvs.find((p) => p.metadata?.name === name)
    if (!pv) continue
    const ref = pv.spec?.claimRef
    if (ref?.name) {
      const ns = ref.namespace ?? 'default'
      n.namespaces.add(ns)
      if (pv.metadata?.deletionTimestamp) n.podNodes = true
    }
    const deleter = deleterOf(pv)
    if (deleter.kind === 'external' && (pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain') === 'Delete') {
      n.deleterLiveness = true
      n.unboundEvents = true
    }
  }
}

/** The plan for `explain NAME...` / `pod/NAME` / `pv/NAME`: targets first, then what their verdicts read. */
export function targetPlanner(targets: readonly Target[]): Planner {
  const n = emptyNeeds()
  const volumes = targets.filter((t) => t.kind === 'volume').map((t) => t.name)
  addVolumeNeeds(n, emptySnapshot(), volumes)
  for (const t of targets) {
    if (t.kind === 'volume') continue
    n.namespaces.add(t.namespace)
    if (t.kind === 'claim') n.claimEvents.add(`${t.namespace}/${t.name}`)
  }
  let stage = 0
  return (snap) => {
    const list = targetClaims(snap, targets)
    const now = stage++
    switch (now) {
      case 0: {
        const first = readsFor(n)
        return [...first, ...probes(first, n.namespaces.size === 1 ? [...n.namespaces][0] : undefined)]
      }
      case 1:
      case 2:
        // Twice: a Bound claim whose PV (read by name in the first pass) shows it is not healthy.
        addVolumeNeeds(n, snap, volumes)
        addClaimNeeds(n, snap, list, now === 2)
        return readsFor(n)
      default:
        return undefined
    }
  }
}

export interface ScanOptions {
  /** undefined = all namespaces */
  namespace?: string
  labelSelector?: Record<string, string> | V1LabelSelector
}

/** Above this many claims that need a diagnosis, one list of the scope's claim events beats one read per claim. */
const MAX_EVENTS_BY_CLAIM = 50
/** When the unhealthy claims live in more than this share of the namespaces, one list of pods beats one per namespace. */
const MAX_NAMESPACE_SHARE = 0.25

/**
 * The plan for `explain [-A]` with no names and without --all (which reports every claim, so
 * reads everything): claims and PVs first. When every claim in scope is
 * healthy (Bound, its PV there) nothing else is needed; the other kinds are only probed, so that
 * an unreadable one is still named. Otherwise what the unhealthy claims' verdicts read, as for
 * named claims — per namespace and per claim while they are few, whole lists when many.
 */
export function scanPlanner(opts: ScanOptions): Planner {
  const n = emptyNeeds()
  const scope = opts.namespace
  let stage = 0
  let unhealthy: {pvc: V1PersistentVolumeClaim}[] = []
  return (snap) => {
    const now = stage++
    switch (now) {
      case 0: {
        const first: Read[] = [
          {name: 'persistentvolumeclaims', namespace: scope},
          {name: 'persistentvolumes'},
          {name: 'storageclasses'},
        ]
        return [...first, ...probes(first, scope)]
      }
      case 1: {
        const world = buildWorld(snap)
        unhealthy = selectClaims(snap.pvcs, opts)
          .filter((pvc) => !isHealthyBound(pvc, world))
          .map((pvc) => ({pvc}))
        if (unhealthy.length === 0) return undefined
        const spread = new Set(unhealthy.map(({pvc}) => pvc.metadata?.namespace ?? 'default')).size
        const namespaces = new Set(snap.pvcs.map((p) => p.metadata?.namespace ?? 'default')).size
        n.scope = scope
        n.wholeScope = spread > MAX_NAMESPACE_SHARE * namespaces
        n.allClaimEvents = unhealthy.length > MAX_EVENTS_BY_CLAIM
        addClaimNeeds(n, snap, unhealthy, true)
        return readsFor(n)
      }
      default:
        return undefined
    }
  }
}

const isWorkload = (t: Target) => t.kind === 'statefulset' || t.kind === 'deployment' || t.kind === 'replicaset'

/**
 * What a workload's own verdict reads in its namespace, whatever its claims: the workloads (a
 * Deployment's ReplicaSets are found by owner, so all of them), the pods, the controllers' events
 * (FailedCreate on StatefulSets and ReplicaSets; FailedScheduling and FailedBinding on pods),
 * quotas and limits (what refused a claim or pod).
 */
function workloadReads(namespaces: ReadonlySet<string>): Read[] {
  return [...namespaces].flatMap((namespace) => [
    {name: 'statefulsets' as const, namespace},
    {name: 'deployments' as const, namespace},
    {name: 'replicasets' as const, namespace},
    {name: 'pods' as const, namespace},
    {name: 'resourcequotas' as const, namespace},
    {name: 'limitranges' as const, namespace},
    ...['StatefulSet', 'ReplicaSet', 'Pod'].map((kind) => ({
      name: 'events' as const,
      namespace,
      fieldSelector: `involvedObject.kind=${kind}`,
    })),
  ])
}

/**
 * The claims a workload's verdict diagnoses (diagnose/workload.ts, podWorkload.ts): a
 * StatefulSet's claims of its current ordinals; a Deployment's or ReplicaSet's template claims
 * and its pods' ephemeral claims on their own, and every claim of a pending pod through that pod.
 */
function workloadClaims(snap: Snapshot, t: Target): {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] {
  const claims = new Map(snap.pvcs.map((c) => [keyOf(c), c]))
  const claim = (name: string) => claims.get(`${t.namespace}/${name}`)
  const out: {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] = []
  const add = (pvc: V1PersistentVolumeClaim | undefined, viaPod?: V1Pod) => {
    if (pvc) out.push({pvc, viaPod})
  }
  const find = <T extends {metadata?: {namespace?: string; name?: string}}>(l: readonly T[]) =>
    l.find((x) => keyOf(x) === `${t.namespace}/${t.name}`)
  if (t.kind === 'statefulset') {
    const set = find(snap.statefulSets)
    const start = set?.spec?.ordinals?.start ?? 0
    for (const tpl of set?.spec?.volumeClaimTemplates ?? [])
      for (let i = start; i < start + (set?.spec?.replicas ?? 1); i++)
        add(claim(statefulSetClaimName(tpl.metadata?.name ?? '', t.name, i)))
    return out
  }
  const kind = t.kind === 'deployment' ? 'Deployment' : 'ReplicaSet'
  const obj = t.kind === 'deployment' ? find(snap.deployments) : find(snap.replicaSets)
  if (!obj) return out
  const {pods} = ownedPods(obj, kind, snap)
  const volumes = obj.spec?.template?.spec?.volumes ?? []
  for (const v of volumes) if (v.persistentVolumeClaim?.claimName) add(claim(v.persistentVolumeClaim.claimName))
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue
    for (const v of volumes) if (v.ephemeral) add(claim(`${p.metadata?.name}-${v.name}`))
    if ((p.status?.phase ?? 'Pending') === 'Pending') for (const c of podClaimNames(p)) add(claim(c.name), p)
  }
  return out
}

/**
 * The plan for `explain sts/NAME`, `deploy/NAME`, `rs/NAME` (and any claims or pods named with
 * them): the workloads' namespaces first (workloadReads), then what their claims' verdicts read,
 * as for named claims.
 */
export function workloadPlanner(targets: readonly Target[]): Planner {
  const n = emptyNeeds()
  const namespaces = new Set<string>()
  const volumes = targets.filter((t) => t.kind === 'volume').map((t) => t.name)
  addVolumeNeeds(n, emptySnapshot(), volumes)
  for (const t of targets) {
    if (t.kind === 'volume') continue
    n.namespaces.add(t.namespace)
    if (isWorkload(t)) namespaces.add(t.namespace)
    if (t.kind === 'claim') n.claimEvents.add(`${t.namespace}/${t.name}`)
  }
  const named = targets.filter((t) => !isWorkload(t))
  let stage = 0
  return (snap) => {
    const now = stage++
    switch (now) {
      case 0: {
        const first = [...readsFor(n), ...workloadReads(namespaces)]
        return [...first, ...probes(first, n.namespaces.size === 1 ? [...n.namespaces][0] : undefined)]
      }
      case 1:
      case 2: {
        const list = [
          ...targetClaims(snap, named),
          ...targets.filter(isWorkload).flatMap((t) => workloadClaims(snap, t)),
        ]
        addVolumeNeeds(n, snap, volumes)
        addClaimNeeds(n, snap, list, now === 2)
        return [...readsFor(n), ...workloadReads(namespaces)]
      }
      default:
        return undefined
    }
  }
}
