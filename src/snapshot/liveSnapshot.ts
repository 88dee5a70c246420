/**
 * Builds a Snapshot from a live cluster: every list in parallel, paginated. A resource that is
 * forbidden (403) or not served (404) leaves its part empty and is recorded in `skipped`; any
 * other failure (unreachable, unauthorized, timeout) is fatal and reported in one line.
 */
import type {KubeClient} from '../kube/client.js'
import {KubeError} from '../kube/errors.js'
import {
  apiVersionOf,
  CSI_DRIVERS,
  CSI_NODES,
  CSI_STORAGE_CAPACITIES,
  DEPLOYMENTS,
  EVENTS,
  LEASES,
  LIMIT_RANGES,
  NODES,
  PODS,
  PVCS,
  PVS,
  pathOf,
  REPLICA_SETS,
  RESOURCE_QUOTAS,
  STATEFUL_SETS,
  type Resource,
  STORAGE_CLASSES,
  VOLUME_ATTRIBUTES_CLASSES,
  VOLUME_ATTACHMENTS,
  VOLUME_ATTRIBUTES_CLASSES_BETA,
} from '../kube/paths.js'
import {type ResourceName, RESOURCES, type Snapshot, emptySnapshot} from './types.js'

export interface Scope {
  /** undefined = all namespaces */
  namespace?: string
}

export interface Source {
  name: ResourceName
  /** The first one served is read (an older API version after a newer one). */
  resources: Resource[]
  query?: Record<string, string>
  /** Listed in every namespace even when the scope is one. */
  allNamespaces?: boolean
  /** Listed in this namespace whatever the scope. */
  namespace?: string
}

/**
 * How a failed list of one kind ends: 'next' to try its next API version (404 with one left),
 * else the reason the kind is skipped (403, or not served). Any other failure is thrown.
 */
export function unreadable(error: unknown, hasNext: boolean): 'next' | 'forbidden' | 'not served by this cluster' {
  if (!(error instanceof KubeError)) throw error
  const {code} = error.status
  if (code === 404) return hasNext ? 'next' : 'not served by this cluster'
  if (code === 403) return 'forbidden'
  throw error
}

export function sources(): Source[] {
  return [
    {name: 'persistentvolumeclaims', resources: [PVCS]},
    {name: 'persistentvolumes', resources: [PVS]},
    {name: 'storageclasses', resources: [STORAGE_CLASSES]},
    {name: 'nodes', resources: [NODES]},
    {name: 'pods', resources: [PODS]},
    // Only events about claims, pods, StatefulSets and ReplicaSets matter; filtered lists are far smaller than one.
    {name: 'events', resources: [EVENTS], query: {fieldSelector: 'involvedObject.kind=PersistentVolumeClaim'}},
    {name: 'events', resources: [EVENTS], query: {fieldSelector: 'involvedObject.kind=Pod'}},
    // Events about PVs (VolumeFailedDelete, ...): client-go writes those of cluster-scoped objects to "default".
    {
      name: 'events',
      resources: [EVENTS],
      namespace: 'default',
      query: {fieldSelector: 'involvedObject.kind=PersistentVolume'},
    },
    {name: 'csidrivers', resources: [CSI_DRIVERS]},
    {name: 'csinodes', resources: [CSI_NODES]},
    // Capacity objects live in the driver's namespace, not the claim's: always list them all.
    {name: 'csistoragecapacities', resources: [CSI_STORAGE_CAPACITIES], allNamespaces: true},
    {name: 'volumeattributesclasses', resources: [VOLUME_ATTRIBUTES_CLASSES, VOLUME_ATTRIBUTES_CLASSES_BETA]},
    {name: 'volumeattachments', resources: [VOLUME_ATTACHMENTS]},
    {name: 'resourcequotas', resources: [RESOURCE_QUOTAS]},
    {name: 'limitranges', resources: [LIMIT_RANGES]},
    // An external provisioner's leader-election Lease lives in its own namespace (csi-lib-utils
    // leaderelection: --leader-election-namespace, else the pod's); node heartbeats are not wanted.
    {
      name: 'leases',
      resources: [LEASES],
      allNamespaces: true,
      query: {fieldSelector: 'metadata.namespace!=kube-node-lease'},
    },
    {name: 'statefulsets', resources: [STATEFUL_SETS]},
    // Why a StatefulSet's claim or pod was not created (FailedCreate) is only said on the StatefulSet.
    {name: 'events', resources: [EVENTS], query: {fieldSelector: 'involvedObject.kind=StatefulSet'}},
    {name: 'deployments', resources: [DEPLOYMENTS]},
    {name: 'replicasets', resources: [REPLICA_SETS]},
    // Why a ReplicaSet's pod was not created (FailedCreate: quota on pods, admission) is said on it.
    {name: 'events', resources: [EVENTS], query: {fieldSelector: 'involvedObject.kind=ReplicaSet'}},
  ]
}

/** The kinds skipped, in RESOURCES order: the same answer whichever read failed first. */
export function skippedInOrder(skipped: ReadonlyMap<ResourceName, string>): Snapshot['skipped'] {
  return RESOURCES.filter((r) => skipped.has(r.name)).map((r) => ({resource: r.name, reason: skipped.get(r.name)!}))
}

/** `/version`'s gitVersion; undefined when the server does not say (the newest rules apply then). */
export async function serverVersion(client: KubeClient): Promise<string | undefined> {
  try {
    const v = await client.request<{gitVersion?: string}>('GET', '/version')
    return v.gitVersion || undefined
  } catch (error) {
    if (error instanceof KubeError && (error.status.code === 403 || error.status.code === 404)) return undefined
    throw error
  }
}

export async function liveSnapshot(
  client: KubeClient,
  scope: Scope,
  only?: ReadonlySet<ResourceName>,
): Promise<Snapshot> {
  const snap = emptySnapshot()
  snap.takenAt = new Date().toISOString()
  const keyOf = new Map(RESOURCES.map((r) => [r.name, r.key]))
  const skipped = new Map<ResourceName, string>()
  await Promise.all(
    sources()
      .filter((s) => !only || only.has(s.name))
      .map(async (src) => {
        for (const [i, resource] of src.resources.entries()) {
          const namespace = src.namespace ?? (src.allNamespaces ? undefined : scope.namespace)
          try {
            const items = await client.list<Record<string, unknown>>(pathOf(resource, {namespace}), src.query)
            // Lists omit each item's kind; put it back so a written snapshot reads like kubectl's.
            const {kind} = RESOURCES.find((r) => r.name === src.name)!
            const apiVersion = apiVersionOf(resource)
            for (const item of items) {
              item.apiVersion ??= apiVersion
              item.kind ??= kind
            }
            ;(snap[keyOf.get(src.name)!] as unknown[]).push(...items)
            return
          } catch (error) {
            const why = unreadable(error, i < src.resources.length - 1)
            if (why === 'next') continue
            skipped.set(src.name, why)
            return
          }
        }
      }),
  )
  snap.skipped = skippedInOrder(skipped)
  snap.allNamespaces = scope.namespace === undefined
  snap.serverVersion = await serverVersion(client)
  return snap
}
