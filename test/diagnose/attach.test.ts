/**
 * `explain pod/NAME` for a pod whose claim is Bound: attach (attach-detach controller, CSI
 * attacher) and mount (kubelet) causes, on plain API objects.
 */
import type {
  CoreV1Event,
  V1CSINode,
  V1Node,
  V1PersistentVolume,
  V1Pod,
  V1VolumeAttachment,
} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {diagnose} from '../../src/diagnose/diagnose.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pod, pv, pvc, snap} from '../helpers/objects.js'

const DRIVER = 'disk.csi.test'

function csiPV(name: string, modes = ['ReadWriteOnce']): V1PersistentVolume {
  const p = pv(name, {modes, claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}, phase: 'Bound'})
  delete p.spec!.hostPath
  p.spec!.csi = {driver: DRIVER, volumeHandle: `h-${name}`}
  return p
}

const unique = (name: string) => `kubernetes.io/csi/${DRIVER}^h-${name}`

function readyNode(
  name: string,
  o: {ready?: boolean; since?: string; inUse?: string[]; taints?: {key: string; value?: string; effect: string}[]} = {},
): V1Node {
  const n = node(name, {taints: o.taints})
  n.status = {
    conditions: [
      {
        type: 'Ready',
        status: o.ready === false ? 'Unknown' : 'True',
        lastTransitionTime: (o.since ?? '2026-11-25T09:00:00Z') as unknown as Date,
      },
    ],
    volumesInUse: o.inUse,
  }
  return n
}

function csiNode(name: string, drivers = [DRIVER]): V1CSINode {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSINode',
    metadata: {name},
    spec: {drivers: drivers.map((d) => ({name: d, nodeID: name}))},
  }
}

function va(
  pvName: string,
  nodeName: string,
  status: V1VolumeAttachment['status'] = {attached: true},
): V1VolumeAttachment {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: {name: `csi-${pvName}-${nodeName}`},
    spec: {attacher: DRIVER, nodeName, source: {persistentVolumeName: pvName}},
    status,
  }
}

/** A pod of Deployment `web` through ReplicaSet `web-<hash>`. */
function deployPod(name: string, hash: string, nodeName: string, o: {deleting?: boolean; phase?: string} = {}): V1Pod {
  const p = pod(name, ['data'], {nodeName, phase: o.phase})
  p.metadata!.uid = `uid-${name}`
  p.metadata!.labels = {app: 'web', 'pod-template-hash': hash}
  p.metadata!.ownerReferences = [
    {apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${hash}`, uid: `rs-${hash}`, controller: true},
  ]
  if (o.deleting) p.metadata!.deletionTimestamp = '2026-11-25T10:00:00Z' as unknown as Date
  return p
}

function podEvent(
  podName: string,
  reason: string,
  message: string,
  o: {at?: string; source?: string} = {},
): CoreV1Event {
  return {
    metadata: {name: `${podName}.${reason}`, namespace: 'app'},
    involvedObject: {kind: 'Pod', namespace: 'app', name: podName, uid: `uid-${podName}`},
    reason,
    message,
    type: 'Warning',
    source: {component: o.source ?? 'attachdetach-controller'},
    lastTimestamp: (o.at ?? '2026-11-25T10:01:00Z') as unknown as Date,
  }
}

function explainPod(s: Snapshot, name: string) {
  return diagnose(s, {targets: [{kind: 'pod', namespace: 'app', name}], all: true}).claims[0]
}

const claim = pvc('data', {bound: true, volumeName: 'vol'})
const base = (o: Partial<Snapshot>): Snapshot =>
  snap({
    pvcs: [claim],
    pvs: [csiPV('vol')],
    nodes: [readyNode('n1'), readyNode('n2')],
    csiNodes: [csiNode('n1'), csiNode('n2')],
    ...o,
  })

describe('attach: a ReadWriteOnce volume still attached to another node', () => {
  const oldPod = deployPod('web-aaa-1', 'aaa', 'n1', {phase: 'Running'})
  const newPod = deployPod('web-bbb-1', 'bbb', 'n2')

  it('rolling update: names the old pod and its node, says it never frees by itself, suggests Recreate', () => {
    const s = base({
      pods: [oldPod, newPod],
      volumeAttachments: [va('vol', 'n1')],
      events: [
        podEvent(
          'web-bbb-1',
          'FailedAttachVolume',
          'Multi-Attach error for volume "vol" Volume is already used by pod(s) web-aaa-1',
        ),
      ],
    })
    const d = explainPod(s, 'web-bbb-1')
    expect(d.cause).toBe('VolumeAttachedElsewhere')
    expect(d.severity).toBe('error')
    expect(d.message).toContain('still attached to node n1')
    expect(d.message).toContain('web-aaa-1 (Running) on n1')
    expect(d.message).toContain('Deployment web')
    expect(d.message).toContain('stuck for good')
    expect(d.evidence[0]).toBe(
      'Warning FailedAttachVolume: Multi-Attach error for volume "vol" Volume is already used by pod(s) web-aaa-1',
    )
    expect(d.fix[0]).toContain('kubectl patch deployment -n app web')
    expect(d.fix[0]).toContain('Recreate')
    expect(d.wouldBind).toBeNull()
  })

  it('recognises the newer "Waiting for detach" wording as evidence', () => {
    const s = base({
      pods: [oldPod, newPod],
      volumeAttachments: [va('vol', 'n1')],
      events: [
        podEvent(
          'web-bbb-1',
          'FailedAttachVolume',
          'Waiting for detach for volume "vol" Volume is already exclusively attached to one node, waiting on detach before it can be attached to another node',
        ),
      ],
    })
    const d = explainPod(s, 'web-bbb-1')
    expect(d.cause).toBe('VolumeAttachedElsewhere')
    expect(d.evidence[0]).toContain('Waiting for detach for volume "vol"')
  })

  it('found from the node status alone (status.volumesAttached) when there is no VolumeAttachment', () => {
    const n1 = readyNode('n1')
    n1.status!.volumesAttached = [{name: unique('vol'), devicePath: ''}]
    const d = explainPod(base({pods: [oldPod, newPod], nodes: [n1, readyNode('n2')]}), 'web-bbb-1')
    expect(d.cause).toBe('VolumeAttachedElsewhere')
  })

  it('a Terminating pod on a NotReady node: not freed by waiting; out-of-service taint or force delete, then 6 minutes', () => {
    const s = base({
      pods: [
        deployPod('db-old', 'aaa', 'n1', {deleting: true, phase: 'Running'}),
        pod('db-new', ['data'], {nodeName: 'n2'}),
      ],
      nodes: [readyNode('n1', {ready: false, since: '2026-11-25T09:30:00Z', inUse: [unique('vol')]}), readyNode('n2')],
      volumeAttachments: [va('vol', 'n1')],
    })
    // a pod on a dead node keeps its last "running" status: the controller still counts it
    s.pods[0].status!.containerStatuses = [
      {name: 'c', image: 'x', imageID: '', ready: true, restartCount: 0, state: {running: {}}},
    ]
    const d = explainPod(s, 'db-new')
    expect(d.cause).toBe('VolumeAttachedElsewhere')
    expect(d.message).toContain('db-old (Terminating since')
    expect(d.message).toContain('node n1 is NotReady since 2026-11-25T09:30:00Z')
    expect(d.message).toContain('not freed by waiting')
    expect(d.fix.join('\n')).toContain('kubectl taint node n1 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute')
    expect(d.fix.join('\n')).toContain('--force --grace-period=0')
    expect(d.fix.join('\n')).toContain('within 6 minutes')
    expect(d.fix.join('\n')).toContain('really down')
  })

  it('a Terminating pod on a Ready node: freed when the kubelet has stopped it (grace period)', () => {
    const old = deployPod('db-old', 'aaa', 'n1', {deleting: true, phase: 'Running'})
    old.spec!.terminationGracePeriodSeconds = 60
    old.status!.containerStatuses = [
      {name: 'c', image: 'x', imageID: '', ready: true, restartCount: 0, state: {running: {}}},
    ]
    const d = explainPod(
      base({pods: [old, pod('db-new', ['data'], {nodeName: 'n2'})], volumeAttachments: [va('vol', 'n1')]}),
      'db-new',
    )
    expect(d.cause).toBe('VolumeAttachedElsewhere')
    expect(d.message).toContain('grace period (60s)')
  })

  it('no pod left on a NotReady node that still reports the volume in use: force-detached after 6 minutes', () => {
    const d = explainPod(
      base({
        pods: [pod('db-new', ['data'], {nodeName: 'n2'})],
        nodes: [readyNode('n1', {ready: false, inUse: [unique('vol')]}), readyNode('n2')],
        volumeAttachments: [va('vol', 'n1')],
      }),
      'db-new',
    )
    expect(d.cause).toBe('VolumeAttachedElsewhere')
    expect(d.message).toContain('force-detaches it 6 minutes (maxWaitForUnmountDuration)')
  })

  it('no pod left on a Ready node whose kubelet still reports it mounted: waits for the unmount, never forced', () => {
    const d = explainPod(
      base({
        pods: [pod('db-new', ['data'], {nodeName: 'n2'})],
        nodes: [readyNode('n1', {inUse: [unique('vol')]}), readyNode('n2')],
        volumeAttachments: [va('vol', 'n1')],
      }),
      'db-new',
    )
    expect(d.message).toContain('never force-detaches from a Ready node')
  })

  it('the out-of-service taint: detached at once', () => {
    const d = explainPod(
      base({
        pods: [pod('db-new', ['data'], {nodeName: 'n2'})],
        nodes: [
          readyNode('n1', {
            ready: false,
            inUse: [unique('vol')],
            taints: [{key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute'}],
          }),
          readyNode('n2'),
        ],
        volumeAttachments: [va('vol', 'n1')],
      }),
      'db-new',
    )
    expect(d.message).toContain('detached at once')
  })

  it('a failed detach on the old node is quoted', () => {
    const d = explainPod(
      base({
        pods: [pod('db-new', ['data'], {nodeName: 'n2'})],
        volumeAttachments: [
          va('vol', 'n1', {attached: true, detachError: {message: 'rpc error: code = Internal desc = busy'}}),
        ],
      }),
      'db-new',
    )
    expect(d.message).toContain('detaching it failed: rpc error: code = Internal desc = busy')
  })

  it('a ReadWriteMany volume may be attached to several nodes: no conflict', () => {
    const d = explainPod(
      base({
        pvs: [csiPV('vol', ['ReadWriteMany'])],
        pods: [oldPod, newPod],
        volumeAttachments: [va('vol', 'n1'), va('vol', 'n2')],
      }),
      'web-bbb-1',
    )
    expect(d.cause).not.toBe('VolumeAttachedElsewhere')
  })
})

describe('attach: the attach itself', () => {
  const p = pod('db', ['data'], {nodeName: 'n2'})
  p.metadata!.uid = 'uid-db'

  it('AttachFailed: the VolumeAttachment carries the driver error and its errorCode', () => {
    const d = explainPod(
      base({
        pods: [p],
        volumeAttachments: [
          va('vol', 'n2', {
            attached: false,
            attachError: {message: 'rpc error: code = ResourceExhausted desc = too many disks', errorCode: 8} as never,
          }),
        ],
        events: [
          podEvent(
            'db',
            'FailedAttachVolume',
            'AttachVolume.Attach failed for volume "vol" : rpc error: code = ResourceExhausted desc = too many disks',
          ),
        ],
      }),
      'db',
    )
    expect(d.cause).toBe('AttachFailed')
    expect(d.message).toContain('(errorCode 8)')
    expect(d.evidence[1]).toContain('AttachVolume.Attach failed for volume "vol"')
    expect(d.fix[0]).toContain('allocatable.count')
  })

  it('AttacherNotResponding: the controller timed out waiting for the external-attacher', () => {
    const d = explainPod(
      base({
        pods: [p],
        volumeAttachments: [va('vol', 'n2', {} as never)],
        events: [
          podEvent(
            'db',
            'FailedAttachVolume',
            `AttachVolume.Attach failed for volume "vol" : timed out waiting for external-attacher of ${DRIVER} CSI driver to attach volume h-vol`,
          ),
        ],
      }),
      'db',
    )
    expect(d.cause).toBe('AttacherNotResponding')
    expect(d.fix[0]).toContain('csi-attacher')
  })

  it('AttachPending: a VolumeAttachment no external-attacher has picked up (no finalizer, nothing in its status)', () => {
    // as the attach-detach controller creates it
    const bare = va('vol', 'n2', {attached: false})
    const d = explainPod(base({pods: [p], volumeAttachments: [bare]}), 'db')
    expect(d.cause).toBe('AttachPending')
    expect(d.message).toContain(`no external-attacher of ${DRIVER} has picked it up yet`)
    expect(d.message).toContain('external-attacher/disk-csi-test finalizer')
  })

  it('AttachPending: no VolumeAttachment yet', () => {
    const d = explainPod(base({pods: [p]}), 'db')
    expect(d.cause).toBe('AttachPending')
    expect(d.severity).toBe('info')
  })

  it('a CSIDriver with attachRequired: false needs no attach: the mount is next', () => {
    const d = explainPod(
      base({pods: [p], csiDrivers: [{metadata: {name: DRIVER}, spec: {attachRequired: false}}]}),
      'db',
    )
    expect(d.cause).toBe('MountInProgress')
  })

  it("DriverNotOnNode: the CSINode of the pod's node lacks the driver", () => {
    const d = explainPod(
      base({
        pods: [p],
        csiNodes: [csiNode('n1'), csiNode('n2', ['other.csi'])],
        events: [
          podEvent(
            'db',
            'FailedMount',
            `MountVolume.MountDevice failed for volume "vol" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name ${DRIVER} not found in the list of registered CSI drivers`,
            {source: 'kubelet'},
          ),
        ],
      }),
      'db',
    )
    expect(d.cause).toBe('DriverNotOnNode')
    expect(d.message).toContain(`CSI driver ${DRIVER} is not registered on node n2`)
    expect(d.evidence[0]).toContain('not found in the list of registered CSI drivers')
  })

  it('DriverNotOnNode: the node has no CSINode object at all', () => {
    const d = explainPod(base({pods: [p], csiNodes: [csiNode('n1')]}), 'db')
    expect(d.cause).toBe('DriverNotOnNode')
    expect(d.message).toContain('the node has no CSINode object')
  })

  it('two nodes hold one ReadWriteOnce volume: both are named', () => {
    const d = explainPod(
      base({
        nodes: [readyNode('n1'), readyNode('n2'), readyNode('n3')],
        csiNodes: [csiNode('n1'), csiNode('n2'), csiNode('n3')],
        pods: [pod('db', ['data'], {nodeName: 'n3'})],
        volumeAttachments: [va('vol', 'n1'), va('vol', 'n2')],
      }),
      'db',
    )
    expect(d.cause).toBe('VolumeAttachedElsewhere')
    expect(d.message).toContain('still attached to nodes n1, n2')
  })

  it('CSINodes that could not be read: no DriverNotOnNode guess', () => {
    const s = base({pods: [p], csiNodes: []})
    s.skipped.push({resource: 'csinodes', reason: 'forbidden'})
    expect(explainPod(s, 'db').cause).not.toBe('DriverNotOnNode')
  })

  it('VolumeLimitExceeded: every node is at its CSINode allocatable.count for the driver', () => {
    const limited = (name: string, count: number): V1CSINode => ({
      ...csiNode(name),
      spec: {drivers: [{name: DRIVER, nodeID: name, allocatable: {count}}]},
    })
    const other = csiPV('other')
    other.spec!.claimRef = {namespace: 'app', name: 'other', uid: 'uid-other'}
    const busy = pod('busy', ['other'], {nodeName: 'n1', phase: 'Running'})
    const waiting = pod('db', ['data'], {condition: '0/2 nodes are available: 2 node(s) exceed max volume count.'})
    const s = base({
      pvs: [csiPV('vol'), other],
      pvcs: [claim, pvc('other', {bound: true, volumeName: 'other'})],
      csiNodes: [limited('n1', 1), limited('n2', 0)],
      pods: [busy, waiting],
    })
    const d = explainPod(s, 'db')
    expect(d.cause).toBe('VolumeLimitExceeded')
    expect(d.message).toContain(`n1 1/1 of ${DRIVER} in use, +1`)
    expect(d.message).toContain('n2 0/0')
    expect(d.evidence[0]).toContain('exceed max volume count')
    // one node with room: not this cause
    s.csiNodes = [limited('n1', 2), limited('n2', 0)]
    expect(explainPod(s, 'db').cause).not.toBe('VolumeLimitExceeded')
  })

  it('ReadWriteOncePodInUse: another pod holds a ReadWriteOncePod claim', () => {
    const rwop = pvc('data', {bound: true, volumeName: 'vol', modes: ['ReadWriteOncePod']})
    const holder = pod('first', ['data'], {nodeName: 'n1', phase: 'Running'})
    holder.metadata!.uid = 'uid-first'
    const waiting = pod('second', ['data'], {
      condition:
        '0/2 nodes are available: 2 node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod.',
    })
    const d = explainPod(base({pvcs: [rwop], pods: [holder, waiting]}), 'second')
    expect(d.cause).toBe('ReadWriteOncePodInUse')
    expect(d.message).toContain('first on n1')
    expect(d.evidence[0]).toContain('ReadWriteOncePod access mode')
  })
})

describe('mount: the kubelet on the node', () => {
  const localPV = pv('vol', {
    local: '/mnt/disks/gone',
    claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'},
    phase: 'Bound',
  })
  const p = pod('db', ['data'], {nodeName: 'n1'})
  p.metadata!.uid = 'uid-db'
  p.status!.containerStatuses = [
    {
      name: 'c',
      image: 'x',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: {waiting: {reason: 'ContainerCreating'}},
    },
  ]
  const mountSnap = (events: CoreV1Event[], o: Partial<Snapshot> = {}) =>
    base({pvs: [localPV], pods: [p], events, ...o})

  it('MountFailed (PathMissing): a local PV whose directory does not exist', () => {
    const d = explainPod(
      mountSnap([
        podEvent(
          'db',
          'FailedMount',
          'MountVolume.NewMounter initialization failed for volume "vol" : path "/mnt/disks/gone" does not exist',
          {source: 'kubelet'},
        ),
      ]),
      'db',
    )
    expect(d.cause).toBe('MountFailed')
    expect(d.message).toContain('(PathMissing)')
    expect(d.fix[0]).toContain('Create /mnt/disks/gone on n1')
  })

  it('MountFailed (PathMissing): a Block local PV whose device is missing (FailedMapVolume)', () => {
    const blockPV = pv('vol', {
      local: '/dev/gone',
      volumeMode: 'Block',
      claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'},
      phase: 'Bound',
    })
    const d = explainPod(
      mountSnap(
        [
          podEvent(
            'db',
            'FailedMapVolume',
            'MapVolume.EvalHostSymlinks failed for volume "vol" : lstat /dev/gone: no such file or directory',
            {source: 'kubelet'},
          ),
        ],
        {pvs: [blockPV]},
      ),
      'db',
    )
    expect(d.cause).toBe('MountFailed')
    expect(d.message).toContain('(PathMissing)')
    expect(d.fix[0]).toContain('Device /dev/gone does not exist on n1')
  })

  it('MountFailed (NFS): mount exit status 32', () => {
    const d = explainPod(
      mountSnap([
        podEvent(
          'db',
          'FailedMount',
          'MountVolume.SetUp failed for volume "vol" : mount failed: exit status 32\nMounting command: mount\nOutput: mount.nfs: access denied by server while mounting 10.0.0.5:/export',
          {source: 'kubelet'},
        ),
      ]),
      'db',
    )
    expect(d.cause).toBe('MountFailed')
    expect(d.message).toContain('(NFS)')
    expect(d.fix[0]).toContain('showmount -e')
  })

  it('MountFailed (FilesystemNeedsRepair)', () => {
    const d = explainPod(
      mountSnap([
        podEvent(
          'db',
          'FailedMount',
          'MountVolume.MountDevice failed for volume "vol" : rpc error: code = Internal desc = mount failed: wrong fs type, bad option, bad superblock on /dev/sdb',
          {source: 'kubelet'},
        ),
      ]),
      'db',
    )
    expect(d.message).toContain('(FilesystemNeedsRepair)')
  })

  it('VolumePermissionChangeSlow: suggests fsGroupChangePolicy: OnRootMismatch', () => {
    const d = explainPod(
      mountSnap([
        podEvent(
          'db',
          'VolumePermissionChangeInProgress',
          'Setting volume ownership for /var/lib/kubelet/pods/uid-db/volumes/kubernetes.io~local-volume/vol, processed 120000 files',
          {source: 'kubelet'},
        ),
      ]),
      'db',
    )
    expect(d.cause).toBe('VolumePermissionChangeSlow')
    expect(d.severity).toBe('warning')
    expect(d.fix[0]).toContain('fsGroupChangePolicy: OnRootMismatch')
  })

  it('MountInProgress: attached, ContainerCreating, no event: look at the kubelet log on the node', () => {
    const d = explainPod(base({pods: [p], volumeAttachments: [va('vol', 'n1')]}), 'db')
    expect(d.cause).toBe('MountInProgress')
    expect(d.message).toContain('attached to n1')
    expect(d.message).toContain('kubelet on n1')
    expect(d.fix[0]).toContain('journalctl -u kubelet')
  })

  it('a pod past ContainerCreating (pulling its image) has its volumes: Bound', () => {
    const pulling = pod('db', ['data'], {nodeName: 'n1'})
    pulling.status!.containerStatuses = [
      {
        name: 'c',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {waiting: {reason: 'ImagePullBackOff'}},
      },
    ]
    expect(explainPod(base({pvs: [localPV], pods: [pulling]}), 'db').cause).toBe('Bound')
  })

  it('a Running pod: Bound', () => {
    expect(explainPod(base({pods: [pod('db', ['data'], {nodeName: 'n1', phase: 'Running'})]}), 'db').cause).toBe(
      'Bound',
    )
  })
})

describe('explain --pods: every pending pod whose claims are Bound', () => {
  it('reports the pods held up after binding, with the pod named, and leaves running ones out', () => {
    const stuck = deployPod('web-bbb-1', 'bbb', 'n2')
    const running = pod('other', ['data2'], {nodeName: 'n1', phase: 'Running'})
    const s = base({
      pvcs: [claim, pvc('data2', {bound: true, volumeName: 'vol2'})],
      pvs: [csiPV('vol'), pv('vol2', {claimRef: {namespace: 'app', name: 'data2', uid: 'uid-data2'}, phase: 'Bound'})],
      pods: [deployPod('web-aaa-1', 'aaa', 'n1', {phase: 'Running'}), stuck, running],
      volumeAttachments: [va('vol', 'n1')],
    })
    const d = diagnose(s, {targets: [], namespace: 'app', all: false, pods: true})
    expect(d.claims.map((c) => [c.name, c.pod, c.cause])).toEqual([['data', 'web-bbb-1', 'VolumeAttachedElsewhere']])
    expect(diagnose(s, {targets: [], namespace: 'app', all: false}).claims).toEqual([])
  })
})
