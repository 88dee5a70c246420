/**
 * Builders that produce the same API objects as the constructors of upstream's test files
 * (newVolume/newClaim in persistentvolume/framework_test.go, makePVC/makeTestVolume in the index
 * and pv_helpers tests, makeTestPV/makeTestPVC in volumebinding/binder_test.go), so each fixture
 * reads like the upstream table row it translates. Plain JSON objects, nothing else.
 */
import type {
  V1CSIDriver,
  V1CSIStorageCapacity,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StorageClass,
} from '@kubernetes/client-node'

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed'
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller'
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node'

const RWO_ROX = ['ReadWriteOnce', 'ReadOnlyMany']

function annotations(list: string[]): Record<string, string> | undefined {
  return list.length ? Object.fromEntries(list.map((a) => [a, 'yes'])) : undefined
}

/** persistentvolume framework_test.go newVolume: RWO+ROX, Filesystem, claimRef in namespace "default". */
export function newVolume(
  name: string,
  capacity: string,
  uid: string,
  claim: string,
  phase: string,
  reclaim: string,
  cls: string,
  ...ann: string[]
): V1PersistentVolume {
  return {
    metadata: {name, resourceVersion: '1', annotations: annotations(ann)},
    spec: {
      capacity: {storage: capacity},
      gcePersistentDisk: {pdName: ''},
      accessModes: [...RWO_ROX],
      persistentVolumeReclaimPolicy: reclaim,
      storageClassName: cls,
      volumeMode: 'Filesystem',
      claimRef: claim
        ? {kind: 'PersistentVolumeClaim', apiVersion: 'v1', uid, namespace: 'default', name: claim}
        : undefined,
    },
    status: {phase: phase || undefined},
  }
}

/** persistentvolume framework_test.go newClaim: RWO+ROX, Filesystem, namespace "default"; class null = unset. */
export function newClaim(
  name: string,
  uid: string,
  capacity: string,
  volumeName: string,
  phase: string,
  cls: string | null,
  ...ann: string[]
): V1PersistentVolumeClaim {
  const pvc: V1PersistentVolumeClaim = {
    metadata: {name, namespace: 'default', uid, resourceVersion: '1', annotations: annotations(ann)},
    spec: {
      accessModes: [...RWO_ROX],
      resources: {requests: {storage: capacity}},
      volumeName: volumeName || undefined,
      volumeMode: 'Filesystem',
    },
    status: {phase},
  }
  if (cls !== null) pvc.spec!.storageClassName = cls
  if (phase === 'Bound') pvc.status = {...pvc.status, accessModes: [...RWO_ROX], capacity: {storage: capacity}}
  return pvc
}

export function withLabels<T extends V1PersistentVolume>(labels: Record<string, string>, pv: T): T {
  return {...pv, metadata: {...pv.metadata, labels}}
}
export function withSelector(labels: Record<string, string>, pvc: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return {...pvc, spec: {...pvc.spec, selector: {matchLabels: labels}}}
}
export function withClaimMode(mode: string, pvc: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return {...pvc, spec: {...pvc.spec, volumeMode: mode}}
}
export function withVolumeMode(mode: string | undefined, pv: V1PersistentVolume): V1PersistentVolume {
  return {...pv, spec: {...pv.spec, volumeMode: mode}}
}
export function withAccessModes(modes: string[], pvc: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return {...pvc, spec: {...pvc.spec, accessModes: modes}}
}
export function withClaimAnnotation(key: string, value: string, pvc: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return {...pvc, metadata: {...pvc.metadata, annotations: {...pvc.metadata?.annotations, [key]: value}}}
}
export function withVolumeVAC(vac: string, pv: V1PersistentVolume): V1PersistentVolume {
  return {...pv, spec: {...pv.spec, volumeAttributesClassName: vac}}
}
export function withClaimVAC(vac: string, pvc: V1PersistentVolumeClaim): V1PersistentVolumeClaim {
  return {...pvc, spec: {...pvc.spec, volumeAttributesClassName: vac}}
}
export function withClaimRef(
  ref: {name?: string; namespace?: string; uid?: string} | undefined,
  pv: V1PersistentVolume,
): V1PersistentVolume {
  return {...pv, spec: {...pv.spec, claimRef: ref}}
}
export function deleting<T extends V1PersistentVolume>(pv: T): T {
  return {...pv, metadata: {...pv.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' as unknown as Date}}
}

/** A plain PV for the index and pv_helpers tables (createTestVolumes, makeTestVolume, testVolume). */
export function plainVolume(
  name: string,
  size: string,
  o: {
    uid?: string
    modes?: string[]
    cls?: string
    phase?: string | null
    labels?: Record<string, string>
    claimRef?: {name?: string; namespace?: string; uid?: string}
    affinity?: [string, string]
    vac?: string
    volumeMode?: string | null
  } = {},
): V1PersistentVolume {
  return {
    metadata: {name, uid: o.uid, labels: o.labels},
    spec: {
      capacity: {storage: size},
      accessModes: o.modes ?? [...RWO_ROX],
      storageClassName: o.cls,
      claimRef: o.claimRef,
      volumeMode: o.volumeMode === null ? undefined : (o.volumeMode ?? 'Filesystem'),
      volumeAttributesClassName: o.vac,
      nodeAffinity: o.affinity
        ? {
            required: {
              nodeSelectorTerms: [{matchExpressions: [{key: o.affinity[0], operator: 'In', values: [o.affinity[1]]}]}],
            },
          }
        : undefined,
    },
    status: o.phase === null ? {} : {phase: o.phase ?? 'Available'},
  }
}

/** index_test.go makePVC / pv_helpers_test.go makeTestPersistentVolumeClaim: namespace "myns", no uid (not created). */
export function plainClaim(
  name: string,
  size: string,
  o: {modes?: string[]; cls?: string; selector?: Record<string, string>; vac?: string; volumeMode?: string | null} = {},
): V1PersistentVolumeClaim {
  return {
    metadata: {name, namespace: 'myns'},
    spec: {
      accessModes: o.modes ?? ['ReadOnlyMany', 'ReadWriteOnce'],
      resources: {requests: {storage: size}},
      storageClassName: o.cls,
      selector: o.selector ? {matchLabels: o.selector} : undefined,
      volumeAttributesClassName: o.vac,
      volumeMode: o.volumeMode === null ? undefined : (o.volumeMode ?? 'Filesystem'),
    },
  }
}

// --- the scheduler's volumebinding/binder_test.go ---

export const NODE_LABEL_KEY = 'nodeKey'
export const PROVISIONER = 'test-provisioner'

/** makeTestPVC: namespace "testns", uid "pvc-uid", no access modes; state unbound | prebound | bound | selectedNode. */
export function makeTestPVC(
  name: string,
  size: string,
  node: string,
  state: 'unbound' | 'prebound' | 'bound' | 'selectedNode',
  pvName: string,
  cls: string,
): V1PersistentVolumeClaim {
  const pvc: V1PersistentVolumeClaim = {
    metadata: {name, namespace: 'testns', uid: 'pvc-uid', resourceVersion: '1'},
    spec: {resources: {requests: {storage: size}}, storageClassName: cls, volumeMode: 'Filesystem'},
  }
  if (state === 'selectedNode') pvc.metadata!.annotations = {[ANN_SELECTED_NODE]: node}
  if (state === 'bound') pvc.metadata!.annotations = {[ANN_BIND_COMPLETED]: 'yes'}
  if (state === 'bound' || state === 'prebound') pvc.spec!.volumeName = pvName
  return pvc
}

/** makeTestPV: Available, pinned to `nodeKey In [node]` when node is set, claimRef to the given claim. */
export function makeTestPV(
  name: string,
  node: string,
  capacity: string,
  claim: V1PersistentVolumeClaim | null,
  cls: string,
): V1PersistentVolume {
  return {
    metadata: {name, resourceVersion: '1', annotations: claim ? {[ANN_BOUND_BY_CONTROLLER]: 'yes'} : undefined},
    spec: {
      capacity: {storage: capacity},
      storageClassName: cls,
      volumeMode: 'Filesystem',
      nodeAffinity: node
        ? {required: {nodeSelectorTerms: [{matchExpressions: [{key: NODE_LABEL_KEY, operator: 'In', values: [node]}]}]}}
        : undefined,
      claimRef: claim
        ? {
            kind: 'PersistentVolumeClaim',
            apiVersion: 'v1',
            name: claim.metadata!.name,
            namespace: claim.metadata!.namespace,
            uid: claim.metadata!.uid,
          }
        : undefined,
    },
    status: {phase: 'Available'},
  }
}

export function schedulerNode(name: string, labels: Record<string, string>): V1Node {
  return {metadata: {name, labels}}
}

/** The pod of the FindPodVolumes tests: namespace testns, nodeName node1, one volume per claim. */
export function testPod(claims: string[], o: {ephemeral?: string; uid?: string} = {}): V1Pod {
  const volumes: NonNullable<V1Pod['spec']>['volumes'] = claims.map((c, i) => ({
    name: `vol${i}`,
    persistentVolumeClaim: {claimName: c},
  }))
  if (o.ephemeral !== undefined) volumes.push({name: o.ephemeral, ephemeral: {volumeClaimTemplate: {spec: {}}}})
  return {
    metadata: {name: 'test-pod', namespace: 'testns', uid: o.uid},
    spec: {nodeName: 'node1', containers: [], volumes},
  }
}

export function storageClass(
  name: string,
  mode: 'Immediate' | 'WaitForFirstConsumer',
  provisioner?: string,
  allowed?: string[],
): V1StorageClass {
  return {
    metadata: {name},
    volumeBindingMode: mode,
    provisioner: provisioner ?? '',
    allowedTopologies: allowed ? [{matchLabelExpressions: [{key: NODE_LABEL_KEY, values: allowed}]}] : undefined,
  }
}

export function csiDriver(name: string, storageCapacity: boolean): V1CSIDriver {
  return {metadata: {name}, spec: {storageCapacity}}
}

export function capacity(cls: string, node: string | null, capacityStr: string, maxSize: string): V1CSIStorageCapacity {
  return {
    metadata: {name: 'net'},
    storageClassName: cls,
    nodeTopology: node ? {matchLabels: {[NODE_LABEL_KEY]: node}} : {},
    capacity: capacityStr || undefined,
    maximumVolumeSize: maxSize || undefined,
  }
}
