import type {
  CoreV1Event,
  V1CSIDriver,
  V1Deployment,
  V1CSINode,
  V1CSIStorageCapacity,
  V1Lease,
  V1LimitRange,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1ReplicaSet,
  V1ResourceQuota,
  V1StatefulSet,
  V1StorageClass,
  V1VolumeAttachment,
  V1VolumeAttributesClass,
} from '@kubernetes/client-node'

/** One read-only picture of everything the engine looks at. Objects are raw API JSON. */
export interface Snapshot {
  pvcs: V1PersistentVolumeClaim[]
  pvs: V1PersistentVolume[]
  storageClasses: V1StorageClass[]
  nodes: V1Node[]
  pods: V1Pod[]
  events: CoreV1Event[]
  csiDrivers: V1CSIDriver[]
  csiNodes: V1CSINode[]
  csiStorageCapacities: V1CSIStorageCapacity[]
  volumeAttributesClasses: V1VolumeAttributesClass[]
  /** Which node each attachable volume is (being) attached to: the attach-detach controller's requests. */
  volumeAttachments: V1VolumeAttachment[]
  resourceQuotas: V1ResourceQuota[]
  limitRanges: V1LimitRange[]
  /** Leader-election Leases (external provisioners' liveness); node heartbeats are left out. */
  leases: V1Lease[]
  statefulSets: V1StatefulSet[]
  /** `explain deploy/NAME`, `rs/NAME`: the workload, its ReplicaSets (which own its pods). */
  deployments: V1Deployment[]
  replicaSets: V1ReplicaSet[]
  /** Resources that could not be read; the checks that need them are skipped. */
  skipped: Skipped[]
  /** True when claims, pods and events of every namespace were read (unknown for kubectl dumps). */
  allNamespaces?: boolean
  /** The API server's version (`/version` gitVersion, or --kube-version); verdicts follow it. */
  serverVersion?: string
  /** When the snapshot was read (ISO time); "now" for the checks that age things (Leases, waits). */
  takenAt?: string
}

export interface Skipped {
  resource: ResourceName
  reason: string
}

/** The `skipped` reason for a kind that no --from-file input held (it may exist in the cluster). */
export const NOT_IN_INPUT = 'not in the input file'

export type ResourceName = (typeof RESOURCES)[number]['name']

/** Every kind the snapshot holds: its plural name, the key it lives under, and its API path. */
export const RESOURCES = [
  {name: 'persistentvolumeclaims', key: 'pvcs', kind: 'PersistentVolumeClaim', group: '', namespaced: true},
  {name: 'persistentvolumes', key: 'pvs', kind: 'PersistentVolume', group: '', namespaced: false},
  {name: 'storageclasses', key: 'storageClasses', kind: 'StorageClass', group: 'storage.k8s.io', namespaced: false},
  {name: 'nodes', key: 'nodes', kind: 'Node', group: '', namespaced: false},
  {name: 'pods', key: 'pods', kind: 'Pod', group: '', namespaced: true},
  {name: 'events', key: 'events', kind: 'Event', group: '', namespaced: true},
  {name: 'csidrivers', key: 'csiDrivers', kind: 'CSIDriver', group: 'storage.k8s.io', namespaced: false},
  {name: 'csinodes', key: 'csiNodes', kind: 'CSINode', group: 'storage.k8s.io', namespaced: false},
  {
    name: 'csistoragecapacities',
    key: 'csiStorageCapacities',
    kind: 'CSIStorageCapacity',
    group: 'storage.k8s.io',
    namespaced: true,
  },
  {
    name: 'volumeattributesclasses',
    key: 'volumeAttributesClasses',
    kind: 'VolumeAttributesClass',
    group: 'storage.k8s.io',
    namespaced: false,
  },
  {
    name: 'volumeattachments',
    key: 'volumeAttachments',
    kind: 'VolumeAttachment',
    group: 'storage.k8s.io',
    namespaced: false,
  },
  {name: 'resourcequotas', key: 'resourceQuotas', kind: 'ResourceQuota', group: '', namespaced: true},
  {name: 'limitranges', key: 'limitRanges', kind: 'LimitRange', group: '', namespaced: true},
  {name: 'leases', key: 'leases', kind: 'Lease', group: 'coordination.k8s.io', namespaced: true},
  {name: 'statefulsets', key: 'statefulSets', kind: 'StatefulSet', group: 'apps', namespaced: true},
  {name: 'deployments', key: 'deployments', kind: 'Deployment', group: 'apps', namespaced: true},
  {name: 'replicasets', key: 'replicaSets', kind: 'ReplicaSet', group: 'apps', namespaced: true},
] as const

export type SnapshotKey = (typeof RESOURCES)[number]['key']

export function emptySnapshot(): Snapshot {
  return {
    pvcs: [],
    pvs: [],
    storageClasses: [],
    nodes: [],
    pods: [],
    events: [],
    csiDrivers: [],
    csiNodes: [],
    csiStorageCapacities: [],
    volumeAttributesClasses: [],
    volumeAttachments: [],
    resourceQuotas: [],
    limitRanges: [],
    leases: [],
    statefulSets: [],
    deployments: [],
    replicaSets: [],
    skipped: [],
  }
}
