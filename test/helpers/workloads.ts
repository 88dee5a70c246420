/** Deployments, ReplicaSets and their pods as plain API objects, for the workload tests. */
import type {
  CoreV1Event,
  V1CSINode,
  V1Deployment,
  V1Node,
  V1PersistentVolume,
  V1Pod,
  V1ReplicaSet,
  V1Volume,
} from '@kubernetes/client-node'
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pv, pvc} from './objects.js'

export const DRIVER = 'disk.csi.test'
export const dataVol: V1Volume = {name: 'data', persistentVolumeClaim: {claimName: 'data'}}
export const scratchVol: V1Volume = {
  name: 'scratch',
  ephemeral: {
    volumeClaimTemplate: {
      spec: {accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: {requests: {storage: '1Gi'}}},
    },
  },
}

export function deployment(replicas: number, volumes: V1Volume[]): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name: 'web', namespace: 'app', uid: 'uid-web'},
    spec: {
      replicas,
      selector: {matchLabels: {app: 'web'}},
      template: {metadata: {labels: {app: 'web'}}, spec: {containers: [{name: 'c', image: 'x'}], volumes}},
    },
  }
}

export function replicaSet(hash: string, revision: number, replicas: number, volumes: V1Volume[]): V1ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `web-${hash}`,
      namespace: 'app',
      uid: `rs-${hash}`,
      annotations: {'deployment.kubernetes.io/revision': String(revision)},
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true}],
    },
    spec: {
      replicas,
      selector: {matchLabels: {app: 'web', 'pod-template-hash': hash}},
      template: {
        metadata: {labels: {app: 'web', 'pod-template-hash': hash}},
        spec: {containers: [{name: 'c', image: 'x'}], volumes},
      },
    },
  }
}

export function rsPod(
  name: string,
  hash: string,
  volumes: V1Volume[],
  o: {nodeName?: string; phase?: string} = {},
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'app',
      uid: `uid-${name}`,
      labels: {app: 'web', 'pod-template-hash': hash},
      ownerReferences: [
        {apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${hash}`, uid: `rs-${hash}`, controller: true},
      ],
    },
    spec: {containers: [{name: 'c', image: 'x'}], nodeName: o.nodeName, volumes},
    status: {phase: o.phase ?? 'Pending'},
  }
}

export function ev(
  kind: string,
  name: string,
  reason: string,
  message: string,
  uid = kind === 'Pod' ? `uid-${name}` : undefined,
): CoreV1Event {
  return {
    metadata: {name: `${name}.${reason}`, namespace: 'app'},
    involvedObject: {kind, namespace: 'app', name, uid},
    reason,
    message,
    type: 'Warning',
    lastTimestamp: '2026-11-25T10:01:00Z' as unknown as Date,
  }
}

export function csiPV(name: string): V1PersistentVolume {
  const p = pv(name, {
    modes: ['ReadWriteOnce'],
    claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'},
    phase: 'Bound',
  })
  delete p.spec!.hostPath
  p.spec!.csi = {driver: DRIVER, volumeHandle: `h-${name}`}
  return p
}

export function readyNode(name: string): V1Node {
  const n = node(name)
  n.status = {
    conditions: [{type: 'Ready', status: 'True', lastTransitionTime: '2026-11-25T09:00:00Z' as unknown as Date}],
  }
  return n
}

export const csiNode = (name: string): V1CSINode => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSINode',
  metadata: {name},
  spec: {drivers: [{name: DRIVER, nodeID: name}]},
})

/** A Deployment's rolling update whose new pod (on n2) waits for the ReadWriteOnce volume the old pod holds on n1. */
export function rollingUpdateHeldByOldPod(): Partial<Snapshot> {
  return {
    deployments: [deployment(1, [dataVol])],
    replicaSets: [replicaSet('aaa', 1, 1, [dataVol]), replicaSet('bbb', 2, 1, [dataVol])],
    pods: [
      rsPod('web-aaa-1', 'aaa', [dataVol], {nodeName: 'n1', phase: 'Running'}),
      rsPod('web-bbb-1', 'bbb', [dataVol], {nodeName: 'n2'}),
    ],
    pvcs: [pvc('data', {bound: true, volumeName: 'vol'})],
    pvs: [csiPV('vol')],
    nodes: [readyNode('n1'), readyNode('n2')],
    csiNodes: [csiNode('n1'), csiNode('n2')],
    volumeAttachments: [
      {
        metadata: {name: 'csi-vol-n1'},
        spec: {attacher: DRIVER, nodeName: 'n1', source: {persistentVolumeName: 'vol'}},
        status: {attached: true},
      },
    ],
    events: [
      ev(
        'Pod',
        'web-bbb-1',
        'FailedAttachVolume',
        'Multi-Attach error for volume "vol" Volume is already used by pod(s) web-aaa-1',
      ),
    ],
  }
}
