/** Plain API objects for tests: only the fields a test cares about, the rest defaulted. */
import type {
  CoreV1Event,
  V1Node,
  V1ObjectReference,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StorageClass,
} from '@kubernetes/client-node'
import {emptySnapshot, type Snapshot} from '../../src/snapshot/types.js'

type DeepPartial<T> = {[K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | T[K] : T[K]}

export function pv(
  name: string,
  o: {
    size?: string
    modes?: string[]
    cls?: string
    phase?: string
    claimRef?: V1ObjectReference
    labels?: Record<string, string>
    volumeMode?: string
    hosts?: string[]
    vac?: string
    deleting?: boolean
    annotations?: Record<string, string>
    /** metadata.resourceVersion, `rv-NAME` unless given. */
    rv?: string
    reclaim?: string
    /** A local PV on this device or directory (instead of a hostPath one). */
    local?: string
  } = {},
): V1PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      resourceVersion: o.rv ?? `rv-${name}`,
      labels: o.labels,
      annotations: o.annotations,
      ...(o.deleting ? {deletionTimestamp: '2026-11-25T10:00:00Z' as unknown as Date} : {}),
    },
    spec: {
      capacity: {storage: o.size ?? '10Gi'},
      accessModes: o.modes ?? ['ReadWriteOnce'],
      storageClassName: o.cls ?? 'manual',
      volumeMode: o.volumeMode,
      volumeAttributesClassName: o.vac,
      claimRef: o.claimRef ? {kind: 'PersistentVolumeClaim', ...o.claimRef} : undefined,
      ...(o.local ? {local: {path: o.local}} : {hostPath: {path: `/mnt/${name}`}}),
      persistentVolumeReclaimPolicy: o.reclaim,
      nodeAffinity: o.hosts
        ? {
            required: {
              nodeSelectorTerms: [
                {matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: o.hosts}]},
              ],
            },
          }
        : undefined,
    },
    status: {phase: o.phase ?? (o.claimRef?.uid ? 'Bound' : 'Available')},
  }
}

export function pvc(
  name: string,
  o: {
    ns?: string
    size?: string
    modes?: string[]
    cls?: string | null
    volumeName?: string
    selector?: V1PersistentVolumeClaim['spec'] extends infer S ? (S extends {selector?: infer L} ? L : never) : never
    volumeMode?: string
    uid?: string
    phase?: string
    annotations?: Record<string, string>
    deleting?: boolean
    finalizers?: string[]
    vac?: string
    /** Bound by the controller: phase Bound and its bind-completed annotation. */
    bound?: boolean
  } = {},
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: o.ns ?? 'app',
      uid: o.uid ?? `uid-${name}`,
      resourceVersion: `rv-claim-${name}`,
      annotations: o.bound ? {'pv.kubernetes.io/bind-completed': 'yes', ...o.annotations} : o.annotations,
      finalizers: o.finalizers,
      ...(o.deleting ? {deletionTimestamp: '2026-11-25T10:00:00Z' as unknown as Date} : {}),
    },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: {requests: {storage: o.size ?? '5Gi'}},
      ...(o.cls === null ? {} : {storageClassName: o.cls ?? 'manual'}),
      volumeName: o.volumeName,
      selector: o.selector,
      volumeMode: o.volumeMode,
      volumeAttributesClassName: o.vac,
    },
    status: {phase: o.phase ?? (o.bound ? 'Bound' : 'Pending')},
  }
}

export function sc(
  name: string,
  o: {
    provisioner?: string
    mode?: 'Immediate' | 'WaitForFirstConsumer'
    isDefault?: boolean
    created?: string
    allowedZones?: string[]
  } = {},
): V1StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name,
      creationTimestamp: (o.created ?? '2026-01-01T00:00:00Z') as unknown as Date,
      annotations: o.isDefault ? {'storageclass.kubernetes.io/is-default-class': 'true'} : undefined,
    },
    provisioner: o.provisioner ?? 'kubernetes.io/no-provisioner',
    volumeBindingMode: o.mode ?? 'Immediate',
    allowedTopologies: o.allowedZones
      ? [{matchLabelExpressions: [{key: 'topology.kubernetes.io/zone', values: o.allowedZones}]}]
      : undefined,
  }
}

export function node(
  name: string,
  o: {
    zone?: string
    labels?: Record<string, string>
    taints?: {key: string; value?: string; effect: string}[]
    unschedulable?: boolean
    /** The kubernetes.io/hostname label (the node's name unless given); null: without it. */
    hostname?: string | null
  } = {},
): V1Node {
  const hostname: Record<string, string> = o.hostname === null ? {} : {'kubernetes.io/hostname': o.hostname ?? name}
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {...hostname, ...(o.zone ? {'topology.kubernetes.io/zone': o.zone} : {}), ...o.labels},
    },
    spec: {taints: o.taints, unschedulable: o.unschedulable},
  }
}

export function pod(
  name: string,
  claims: string[],
  o: {ns?: string; nodeName?: string; nodeSelector?: Record<string, string>; phase?: string; condition?: string} = {},
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace: o.ns ?? 'app'},
    spec: {
      containers: [{name: 'c', image: 'x'}],
      nodeName: o.nodeName,
      nodeSelector: o.nodeSelector,
      volumes: claims.map((c, i) => ({name: `v${i}`, persistentVolumeClaim: {claimName: c}})),
    },
    status: {
      phase: o.phase ?? 'Pending',
      conditions: o.condition
        ? [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: o.condition}]
        : undefined,
    },
  }
}

export function event(
  claim: string,
  reason: string,
  message: string,
  o: {ns?: string; type?: string; source?: string; at?: string; uid?: string} = {},
): CoreV1Event {
  return {
    metadata: {name: `${claim}.${reason}`, namespace: o.ns ?? 'app'},
    involvedObject: {kind: 'PersistentVolumeClaim', namespace: o.ns ?? 'app', name: claim, uid: o.uid},
    reason,
    message,
    type: o.type ?? 'Warning',
    source: {component: o.source ?? 'persistentvolume-controller'},
    lastTimestamp: (o.at ?? '2026-11-25T10:00:00Z') as unknown as Date,
  }
}

export function snap(parts: DeepPartial<Snapshot>): Snapshot {
  return {...emptySnapshot(), ...(parts as Partial<Snapshot>)}
}
