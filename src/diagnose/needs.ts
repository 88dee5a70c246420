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
import type {V1LabelSelector} from '@kubernetes/client-node'
import type {Planner, Read} from '../snapshot/plannedSnapshot.js'
import {RESOURCES, type ResourceName} from '../snapshot/types.js'
import type {Target} from './diagnose.js'

/**
 * The later rounds, which ask the engine (the claims' world, their health, a PV's deleter): loaded
 * while the first reads are on their way, so a one-claim explain sends them before the engine's
 * modules have loaded. The first round needs only the targets.
 */
const laterRounds = () => import('./needsRounds.js')

/** What the verdicts asked for depend on; grows round by round. */
export interface Needs {
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
    // The scope's claim events, when read whole, hold these too.
    ...((n.unbound || n.unboundEvents) && !n.allClaimEvents
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

export function readsFor(n: Needs): Read[] {
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

/** A PV asked about (`pv/NAME`): it and its events, before anything about it is known (needsRounds' addVolumeNeeds). */
export function addVolumeNames(n: Needs, volumes: readonly string[]): void {
  for (const name of volumes) {
    if (n.pvs !== 'all') n.pvs.add(name)
    n.pvEvents.add(name)
  }
}

/**
 * Starts loading once the current task is over: plannedSnapshot sends the round's reads in the
 * same task that asked for them, so the requests go out first and the modules load while the
 * server answers. A rejection waits for the round that awaits it.
 */
function loadAfterTheseReads<T>(load: () => Promise<T>): Promise<T> {
  const p = new Promise<T>((resolve, reject) => setImmediate(() => load().then(resolve, reject)))
  p.catch(() => undefined)
  return p
}

/** The plan for `explain NAME...` / `pod/NAME` / `pv/NAME`: targets first, then what their verdicts read. */
export function targetPlanner(targets: readonly Target[]): Planner {
  const n = emptyNeeds()
  const volumes = targets.filter((t) => t.kind === 'volume').map((t) => t.name)
  addVolumeNames(n, volumes)
  for (const t of targets) {
    if (t.kind === 'volume') continue
    n.namespaces.add(t.namespace)
    if (t.kind === 'claim') n.claimEvents.add(`${t.namespace}/${t.name}`)
  }
  let stage = 0
  let later: ReturnType<typeof laterRounds> | undefined
  return async (snap) => {
    const now = stage++
    switch (now) {
      case 0: {
        const first = readsFor(n)
        later = loadAfterTheseReads(laterRounds)
        return [...first, ...probes(first, n.namespaces.size === 1 ? [...n.namespaces][0] : undefined)]
      }
      case 1:
      case 2: {
        // Twice: a Bound claim whose PV (read by name in the first pass) shows it is not healthy.
        const {addTargetNeeds} = await later!
        addTargetNeeds(n, snap, targets, volumes, now === 2)
        return readsFor(n)
      }
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
  let later: ReturnType<typeof laterRounds> | undefined
  return async (snap) => {
    const now = stage++
    switch (now) {
      case 0: {
        const first: Read[] = [
          {name: 'persistentvolumeclaims', namespace: scope},
          {name: 'persistentvolumes'},
          {name: 'storageclasses'},
        ]
        later = loadAfterTheseReads(laterRounds)
        return [...first, ...probes(first, scope)]
      }
      case 1: {
        const {unhealthyClaims, addClaimNeeds} = await later!
        const unhealthy = unhealthyClaims(snap, opts)
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

export const isWorkload = (t: Target) => t.kind === 'statefulset' || t.kind === 'deployment' || t.kind === 'replicaset'

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
 * The plan for `explain sts/NAME`, `deploy/NAME`, `rs/NAME` (and any claims or pods named with
 * them): the workloads' namespaces first (workloadReads), then what their claims' verdicts read,
 * as for named claims.
 */
export function workloadPlanner(targets: readonly Target[]): Planner {
  const n = emptyNeeds()
  const namespaces = new Set<string>()
  const volumes = targets.filter((t) => t.kind === 'volume').map((t) => t.name)
  addVolumeNames(n, volumes)
  for (const t of targets) {
    if (t.kind === 'volume') continue
    n.namespaces.add(t.namespace)
    if (isWorkload(t)) namespaces.add(t.namespace)
    if (t.kind === 'claim') n.claimEvents.add(`${t.namespace}/${t.name}`)
  }
  let stage = 0
  let later: ReturnType<typeof laterRounds> | undefined
  return async (snap) => {
    const now = stage++
    switch (now) {
      case 0: {
        const first = [...readsFor(n), ...workloadReads(namespaces)]
        later = loadAfterTheseReads(laterRounds)
        return [...first, ...probes(first, n.namespaces.size === 1 ? [...n.namespaces][0] : undefined)]
      }
      case 1:
      case 2: {
        const {addWorkloadNeeds} = await later!
        addWorkloadNeeds(n, snap, targets, volumes, now === 2)
        return [...readsFor(n), ...workloadReads(namespaces)]
      }
      default:
        return undefined
    }
  }
}
