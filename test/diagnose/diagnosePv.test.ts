import type {CoreV1Event, V1Lease, V1PersistentVolume} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {explainExitCode} from '../../src/base/exitCodes.js'
import {diagnose} from '../../src/diagnose/diagnose.js'
import {classifyDeleteFailure, deleterOf} from '../../src/diagnose/diagnosePv.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pod, pv, pvc, snap} from '../helpers/objects.js'

const DRIVER = 'pvd.csi.example.com'
const TAKEN = '2026-11-25T10:10:00Z'

function explainPv(s: Snapshot, name = 'vol') {
  const d = diagnose(s, {targets: [{kind: 'volume', namespace: 'app', name}], all: false})
  return {v: d.volumes![0], d}
}

/** A PV the CSI provisioner made for claim app/data (Delete), with the finalizers a 1.36 cluster puts on it. */
function csiPv(
  o: {phase?: string; deleting?: boolean; reclaim?: string; claimUid?: string; finalizers?: string[]} = {},
): V1PersistentVolume {
  const p = pv('vol', {
    claimRef: {namespace: 'app', name: 'data', uid: o.claimUid ?? 'uid-data'},
    phase: o.phase ?? 'Bound',
    reclaim: o.reclaim ?? 'Delete',
    deleting: o.deleting,
    annotations: {'pv.kubernetes.io/provisioned-by': DRIVER},
  })
  p.metadata!.uid = 'uid-vol'
  p.metadata!.finalizers = o.finalizers ?? [
    'kubernetes.io/pv-protection',
    'external-provisioner.volume.kubernetes.io/finalizer',
  ]
  delete p.spec!.hostPath
  p.spec!.csi = {driver: DRIVER, volumeHandle: 'h-1'}
  return p
}

function pvEvent(reason: string, message: string, o: {source?: string; type?: string} = {}): CoreV1Event {
  return {
    metadata: {name: `vol.${reason}`, namespace: 'default'},
    involvedObject: {kind: 'PersistentVolume', name: 'vol', uid: 'uid-vol'},
    reason,
    message,
    type: o.type ?? 'Warning',
    source: {component: o.source ?? `${DRIVER}_csi-controller-0_1234`},
    lastTimestamp: '2026-11-25T10:05:00Z' as unknown as Date,
  }
}

function lease(renewed: string): V1Lease {
  return {
    metadata: {name: 'pvd-csi-example-com', namespace: 'kube-system'},
    spec: {holderIdentity: 'csi-controller-0', leaseDurationSeconds: 15, renewTime: renewed as unknown as Date},
  }
}

const boundClaim = pvc('data', {bound: true, volumeName: 'vol'})

describe('explain pv/NAME', () => {
  it('VolumeProtected: deleted while its claim is Bound and used — names the claim and the pods, and says to delete them, not the finalizer', () => {
    const s = snap({
      takenAt: TAKEN,
      allNamespaces: true,
      pvs: [csiPv({deleting: true})],
      pvcs: [boundClaim],
      pods: [pod('web-0', ['data'], {nodeName: 'n1', phase: 'Running'})],
      nodes: [node('n1')],
    })
    const {v, d} = explainPv(s)
    expect(v.cause).toBe('VolumeProtected')
    expect(v.phase).toBe('Terminating')
    expect(v.claim).toBe('app/data')
    expect(v.pods).toEqual(['web-0'])
    expect(v.message).toContain('Bound to claim app/data, used by pod web-0')
    expect(v.fix.join('\n')).toContain('kubectl delete pod -n app web-0')
    expect(v.fix.join('\n')).toContain('kubectl delete pvc -n app data')
    // the data goes with the claim under Delete: say so before anything else
    expect(v.fix[0]).toContain('persistentVolumeReclaimPolicy":"Retain"')
    expect(v.fix.at(-1)).toMatch(/^Do not remove the finalizer kubernetes.io\/pv-protection/)
    expect(explainExitCode(d)).toBe(1)
  })

  it('VolumeProtected: a pod of the claim on a NotReady node is called out with what frees it', () => {
    const down = node('n2')
    down.status = {conditions: [{type: 'Ready', status: 'Unknown'}]}
    const s = snap({
      allNamespaces: true,
      pvs: [csiPv({deleting: true})],
      pvcs: [
        pvc('data', {bound: true, volumeName: 'vol', deleting: true, finalizers: ['kubernetes.io/pvc-protection']}),
      ],
      pods: [pod('web-0', ['data'], {nodeName: 'n2', phase: 'Running'})],
      nodes: [down],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('VolumeProtected')
    expect(v.message).toContain('itself being deleted')
    expect(v.message).toContain('web-0 is on NotReady node n2')
    expect(v.fix.join('\n')).toContain('--force --grace-period=0')
    expect(v.fix.join('\n')).toContain('node.kubernetes.io/out-of-service')
    // the claim is already being deleted: no advice to delete it again
    expect(v.fix.join('\n')).not.toContain('kubectl delete pvc')
  })

  it('DeleterNotRunning: Released with Delete, the provisioner finalizer holds it and its Lease is stale', () => {
    const s = snap({
      takenAt: TAKEN,
      allNamespaces: true,
      pvs: [
        csiPv({phase: 'Released', deleting: true, finalizers: ['external-provisioner.volume.kubernetes.io/finalizer']}),
      ],
      leases: [lease('2026-11-25T09:00:00Z')],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('DeleterNotRunning')
    expect(v.deleter).toBe(DRIVER)
    expect(v.message).toContain('its finalizer external-provisioner.volume.kubernetes.io/finalizer keeps the PV')
    expect(v.evidence[0]).toContain('Lease kube-system/pvd-csi-example-com: held by csi-controller-0')
    expect(v.fix[0]).toContain('Start the provisioner')
  })

  it('VolumeFailedDelete: the provisioner could not delete the volume — quoted and classified, retried by the provisioner', () => {
    const s = snap({
      takenAt: TAKEN,
      allNamespaces: true,
      pvs: [csiPv({phase: 'Released'})],
      leases: [lease('2026-11-25T10:09:59Z')],
      events: [pvEvent('VolumeFailedDelete', 'rpc error: code = FailedPrecondition desc = volume has snapshots')],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('VolumeFailedDelete')
    expect(v.failure).toMatchObject({reason: 'FailedPrecondition', code: 'FailedPrecondition'})
    expect(v.evidence[0]).toContain(
      'VolumeFailedDelete: rpc error: code = FailedPrecondition desc = volume has snapshots',
    )
    expect(v.message).toContain(`the provisioner ${DRIVER} could not delete the volume`)
    expect(v.fix.join('\n')).toContain('snapshots')
    expect(v.fix.at(-1)).toContain("Do not remove the PV's finalizers")
  })

  it('DeleteWaitsForDetach: the provisioner postpones the delete while a VolumeAttachment remains; the kubelet still reports it in use', () => {
    const n1 = node('n1')
    n1.status = {
      conditions: [{type: 'Ready', status: 'True'}],
      volumesInUse: [`kubernetes.io/csi/${DRIVER}^h-1`],
    }
    const s = snap({
      takenAt: TAKEN,
      allNamespaces: true,
      pvs: [csiPv({phase: 'Released'})],
      nodes: [n1],
      leases: [lease(TAKEN)],
      volumeAttachments: [
        {
          metadata: {name: 'csi-1'},
          spec: {attacher: DRIVER, nodeName: 'n1', source: {persistentVolumeName: 'vol'}},
          status: {attached: true},
        },
      ],
      events: [
        pvEvent('VolumeDelete', 'persistentvolume vol is still attached to node n1, waiting for detach', {
          type: 'Normal',
        }),
      ],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('DeleteWaitsForDetach')
    expect(v.message).toContain('still attached to node n1, whose kubelet still reports it in use')
    expect(v.evidence[0]).toBe('VolumeAttachment csi-1: node n1, attached true')
    expect(v.evidence[1]).toContain(
      'VolumeDelete: persistentvolume vol is still attached to node n1, waiting for detach',
    )
    expect(v.fix[0]).toContain('kubectl get pods -A --field-selector spec.nodeName=n1')
  })

  it('DeleteWaitsForDetach from the event alone (a dump without VolumeAttachments); a NotReady node: force detach after 6 minutes or the out-of-service taint', () => {
    const down = node('n2')
    down.status = {conditions: [{type: 'Ready', status: 'Unknown'}]}
    const s = snap({
      allNamespaces: true,
      pvs: [csiPv({phase: 'Released'})],
      nodes: [down],
      skipped: [{resource: 'volumeattachments', reason: 'not in the input file'}],
      events: [
        pvEvent('VolumeDelete', 'persistentvolume vol is still attached to node n2, waiting for detach', {
          type: 'Normal',
        }),
      ],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('DeleteWaitsForDetach')
    expect(v.message).toContain('node n2, which is NotReady: the attach-detach controller force-detaches it 6 minutes')
    expect(v.fix[0]).toBe(
      'If n2 is really down (powered off): kubectl taint node n2 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute detaches at once.',
    )
  })

  it('VolumeFailedDelete texts: still attached, no deleter plugin, gRPC codes', () => {
    expect(classifyDeleteFailure('persistentvolume pvc-1 is still attached to node n1', false).reason).toBe(
      'StillAttached',
    )
    expect(
      classifyDeleteFailure(
        'error getting deleter volume plugin for volume "nfs": no deletable volume plugin matched',
        true,
      ),
    ).toMatchObject({reason: 'NoDeleter', retry: expect.stringContaining('every sync')})
    expect(
      classifyDeleteFailure('host_path deleter only supports /tmp/.+ but received provided /data', true).reason,
    ).toBe('NoDeleter')
    expect(classifyDeleteFailure('rpc error: code = Unavailable desc = down', false)).toMatchObject({
      reason: 'DriverUnavailable',
      code: 'Unavailable',
      retry: expect.stringContaining('5 min'),
    })
    expect(classifyDeleteFailure('rpc error: code = DeadlineExceeded desc = x', false).reason).toBe('Timeout')
    expect(classifyDeleteFailure('rpc error: code = Internal desc = x', false).reason).toBe('DriverError')
    expect(classifyDeleteFailure('something else', false).reason).toBe('Other')
  })

  it('VolumeFailed: a static NFS PV with reclaimPolicy Delete has no deleter; the PV controller marks it Failed', () => {
    const p = pv('vol', {
      claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'},
      phase: 'Failed',
      reclaim: 'Delete',
    })
    delete p.spec!.hostPath
    p.spec!.nfs = {server: 'nas', path: '/export'}
    expect(deleterOf(p)).toEqual({kind: 'none'})
    const {v} = explainPv(snap({allNamespaces: true, pvs: [p]}))
    expect(v.cause).toBe('VolumeFailed')
    expect(v.deleter).toBeNull()
    expect(v.message).toContain('no volume plugin can delete this kind of volume')
    expect(v.fix[0]).toContain('"persistentVolumeReclaimPolicy":"Retain"')
  })

  it('VolumeFailed: an unknown reclaim policy', () => {
    const p = pv('vol', {
      claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'},
      phase: 'Failed',
      reclaim: 'Bogus',
    })
    const {v} = explainPv(snap({allNamespaces: true, pvs: [p]}))
    expect(v.cause).toBe('VolumeFailed')
    expect(v.message).toContain('Volume has unrecognized PersistentVolumeReclaimPolicy')
  })

  it('VolumeClaimGone: still Bound in the API but its claim was deleted — Released at the next sync, then deleted', () => {
    const s = snap({takenAt: TAKEN, allNamespaces: true, pvs: [csiPv({finalizers: []})], leases: [lease(TAKEN)]})
    const {v} = explainPv(s)
    expect(v.cause).toBe('VolumeClaimGone')
    expect(v.message).toContain('claim app/data no longer exists')
    expect(v.message).toContain(`the provisioner ${DRIVER} deletes the volume and its data`)
    expect(v.fix[0]).toContain('Retain')
  })

  it('VolumeClaimGone: a claim of the same name re-created (another uid)', () => {
    const s = snap({
      allNamespaces: true,
      pvs: [csiPv({finalizers: [], reclaim: 'Retain'})],
      pvcs: [pvc('data', {uid: 'uid-new'})],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('VolumeClaimGone')
    expect(v.message).toContain('was re-created (uid uid-new, the PV holds uid-data)')
    expect(v.message).toContain('keeps it and its data (Retain)')
  })

  it('VolumeReleasedRetain: waits for an admin; the data is kept; how to reuse or delete it', () => {
    const s = snap({
      allNamespaces: true,
      pvs: [csiPv({phase: 'Released', reclaim: 'Retain', finalizers: ['kubernetes.io/pv-protection']})],
    })
    const {v, d} = explainPv(s)
    expect(v.cause).toBe('VolumeReleasedRetain')
    expect(v.severity).toBe('info')
    expect(v.message).toContain('keeps its data (reclaimPolicy Retain)')
    expect(v.fix[0]).toBe(
      'To give it back to a re-created claim of the same name (keeps the data): kubectl pv-doctor bind -n app data --volume vol',
    )
    expect(v.fix[1]).toContain('"path":"/spec/claimRef"')
    expect(v.fix[2]).toContain('handle h-1')
    expect(explainExitCode(d)).toBe(0)
  })

  it('VolumeDeletePending: Released with Delete and a live provisioner: it deletes the volume, then the PV', () => {
    const s = snap({
      takenAt: TAKEN,
      allNamespaces: true,
      pvs: [csiPv({phase: 'Released'})],
      leases: [lease('2026-11-25T10:09:58Z')],
    })
    const {v} = explainPv(s)
    expect(v.cause).toBe('VolumeDeletePending')
    expect(v.message).toContain(`the external provisioner ${DRIVER} deletes the volume`)
    expect(v.evidence[0]).toContain('held by csi-controller-0')
  })

  it('VolumeDeletePending: an in-tree deleter (hostPath under /tmp) is the PV controller itself', () => {
    const p = pv('vol', {
      claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'},
      phase: 'Released',
      reclaim: 'Delete',
    })
    const {v} = explainPv(snap({allNamespaces: true, pvs: [p]}))
    expect(v.cause).toBe('VolumeDeletePending')
    expect(v.deleter).toBe('kubernetes.io/host-path')
    expect(v.message).toContain('the PV controller deletes it with the in-tree plugin kubernetes.io/host-path')
  })

  it('VolumeTerminating: an Available PV with the provisioner finalizer is never deleted by the provisioner (it deletes Released PVs only)', () => {
    const p = csiPv({deleting: true, finalizers: ['external-provisioner.volume.kubernetes.io/finalizer']})
    delete p.spec!.claimRef
    p.status = {phase: 'Available'}
    const {v} = explainPv(snap({allNamespaces: true, pvs: [p]}))
    expect(v.cause).toBe('VolumeTerminating')
    expect(v.message).toContain('it deletes only Released PVs')
    expect(v.fix[0]).toContain('handle h-1')
  })

  it('VolumeBound: a Bound PV whose claim is healthy is ok; Available is ok', () => {
    const s = snap({allNamespaces: true, pvs: [csiPv()], pvcs: [boundClaim]})
    const {v, d} = explainPv(s)
    expect(v.cause).toBe('VolumeBound')
    expect(v.severity).toBe('ok')
    expect(v.message).toContain(
      `reclaimPolicy Delete: when the claim is deleted the provisioner ${DRIVER} deletes the volume`,
    )
    expect(explainExitCode(d)).toBe(0)
    expect(explainPv(snap({pvs: [pv('vol')]})).v.cause).toBe('VolumeAvailable')
  })

  it('a PV that does not exist is a tool error', () => {
    expect(() => explainPv(snap({}))).toThrow('persistentvolume "vol" not found')
  })
})
