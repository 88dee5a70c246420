/** `explain` on a Bound claim asked to grow: the expansion's state, on plain API objects. */
import type {CoreV1Event, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {diagnose} from '../../src/diagnose/diagnose.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {event, pod, pv, pvc, snap} from '../helpers/objects.js'

function growing(o: {conditions?: object[]; allocated?: string} = {}): V1PersistentVolumeClaim {
  const c = pvc('data', {bound: true, volumeName: 'vol', size: '20Gi'})
  c.status = {
    phase: 'Bound',
    capacity: {storage: '10Gi'},
    conditions: o.conditions as never,
    ...(o.allocated ? {allocatedResourceStatuses: {storage: o.allocated}} : {}),
  }
  return c
}

const vol = pv('vol', {claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}, phase: 'Bound'})

function explain(s: Snapshot) {
  return diagnose(s, {targets: [{kind: 'claim', namespace: 'app', name: 'data'}], all: true}).claims[0]
}

const ev = (reason: string, message: string, at: string, source = 'external-resizer pvd.csi.test'): CoreV1Event => ({
  ...event('data', reason, message, {at, source, type: reason === 'VolumeResizeFailed' ? 'Warning' : 'Normal'}),
  metadata: {name: `data.${reason}.${at}`, namespace: 'app'},
})

describe('resize of a Bound claim', () => {
  it('ResizeFailed: the resizer failed; lowering the request back is offered from 1.32', () => {
    const s = snap({
      pvcs: [growing()],
      pvs: [vol],
      events: [
        ev(
          'ExternalExpanding',
          'waiting for an external controller to expand this PVC',
          '2026-11-25T10:00:00Z',
          'volume_expand',
        ),
        ev(
          'VolumeResizeFailed',
          'resize volume "vol" by resizer "pvd.csi.test" failed: rpc error: code = OutOfRange desc = too big',
          '2026-11-25T10:00:05Z',
        ),
      ],
    })
    const d = explain(s)
    expect(d.cause).toBe('ResizeFailed')
    expect(d.message).toContain('from 10Gi to 20Gi failed: resize volume "vol"')
    // a size strictly above status.capacity: the API server refuses status.capacity itself
    expect(d.fix.join('\n')).toContain('above status.capacity 10Gi (the API server refuses 10Gi itself)')
    expect(d.fix.join('\n')).toContain(`-p '{"spec":{"resources":{"requests":{"storage":"<SIZE>"}}}}'`)
    s.serverVersion = 'v1.31.4'
    expect(explain(s).fix.join('\n')).toContain('cannot be lowered')
  })

  it('ResizeFailed: an infeasible allocatedResourceStatuses', () => {
    const d = explain(snap({pvcs: [growing({allocated: 'ControllerResizeInfeasible'})], pvs: [vol]}))
    expect(d.cause).toBe('ResizeFailed')
    expect(d.message).toContain('ControllerResizeInfeasible: infeasible at this size, retried only every few minutes')
  })

  it('a later success clears an old failure', () => {
    const c = growing()
    const d = explain(
      snap({
        pvcs: [c],
        pvs: [vol],
        events: [
          ev('VolumeResizeFailed', 'failed once', '2026-11-25T10:00:05Z'),
          ev('VolumeResizeSuccessful', 'Resize volume succeeded', '2026-11-25T10:01:00Z'),
        ],
      }),
    )
    expect(d.cause).not.toBe('ResizeFailed')
  })

  it('FileSystemResizePending: restart the pod that mounts it', () => {
    const d = explain(
      snap({
        pvcs: [
          growing({
            conditions: [
              {
                type: 'FileSystemResizePending',
                status: 'True',
                message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
              },
            ],
          }),
        ],
        pvs: [vol],
        pods: [pod('db', ['data'], {nodeName: 'n1', phase: 'Running'})],
      }),
    )
    expect(d.cause).toBe('FileSystemResizePending')
    expect(d.severity).toBe('warning')
    expect(d.fix[0]).toContain('kubectl delete pod -n app db')
  })

  it('ResizerNotResponding: ExternalExpanding for 5 minutes and no word from a resizer', () => {
    const e = ev(
      'ExternalExpanding',
      'waiting for an external controller to expand this PVC',
      '2026-11-25T10:06:00Z',
      'volume_expand',
    )
    e.firstTimestamp = '2026-11-25T10:00:00Z' as unknown as Date
    const d = explain(snap({pvcs: [growing()], pvs: [vol], events: [e]}))
    expect(d.cause).toBe('ResizerNotResponding')
    expect(d.message).toContain('waited 6 minutes')
  })

  it('ResizerNotResponding is timed from the one ExternalExpanding to when the snapshot was taken', () => {
    // expand_controller.go says ExternalExpanding once per growth of the request, never again
    const e = ev(
      'ExternalExpanding',
      'waiting for an external controller to expand this PVC',
      '2026-11-25T10:00:00Z',
      'volume_expand',
    )
    const s = snap({pvcs: [growing()], pvs: [vol], events: [e]})
    s.takenAt = '2026-11-25T10:04:59Z'
    expect(explain(s).cause).toBe('ResizeInProgress')
    s.takenAt = '2026-11-25T10:05:00Z'
    expect(explain(s).cause).toBe('ResizerNotResponding')
    s.takenAt = '2026-11-25T10:07:30Z'
    expect(explain(s).message).toContain('waited 7 minutes')
    // a resizer that has answered is not "not responding"
    s.events.push(ev('Resizing', 'External resizer is resizing volume vol', '2026-11-25T10:00:01Z'))
    expect(explain(s).cause).toBe('ResizeInProgress')
  })

  it('ResizeInProgress: shown in a scan of unhealthy claims, not hidden as Bound', () => {
    const s = snap({pvcs: [growing()], pvs: [vol]})
    expect(explain(s).cause).toBe('ResizeInProgress')
    const all = diagnose(s, {targets: [], namespace: 'app', all: false})
    expect(all.claims.map((c) => c.cause)).toEqual(['ResizeInProgress'])
  })

  it('a claim at its size is Bound', () => {
    const c = growing()
    c.status!.capacity = {storage: '20Gi'}
    expect(explain(snap({pvcs: [c], pvs: [vol]})).cause).toBe('Bound')
  })
})
