/**
 * `explain deploy/NAME` and `rs/NAME` on plain API objects: the claims a pod template uses
 * (shared persistentVolumeClaim volumes, per-pod ephemeral ones), the pods the workload owns
 * through its ReplicaSets, and why pods or claims were not created.
 */
import {describe, expect, it} from 'vitest'
import {parseObjectArg} from '../../src/base/args.js'
import {explainExitCode} from '../../src/base/exitCodes.js'
import {diagnose} from '../../src/diagnose/diagnose.js'
import {renderDiagnosis} from '../../src/output/renderDiagnosis.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {pvc, sc, snap} from '../helpers/objects.js'
import {
  csiPV,
  DRIVER,
  dataVol,
  deployment,
  ev,
  replicaSet,
  rsPod,
  scratchVol,
  rollingUpdateHeldByOldPod,
} from '../helpers/workloads.js'
import {Chalk} from 'chalk'

function explain(s: Snapshot, kind: 'deployment' | 'replicaset', name: string) {
  return diagnose(s, {targets: [{kind, namespace: 'app', name}], all: true})
}

describe('explain deploy/NAME', () => {
  it("rolling update: the new pod is held by the old pod's ReadWriteOnce volume (the pod diagnosis says so)", () => {
    const s = snap({
      ...rollingUpdateHeldByOldPod(),
    })
    const d = explain(s, 'deployment', 'web')
    const w = d.workloads![0]
    expect(w).toMatchObject({kind: 'Deployment', name: 'web', replicas: 1, severity: 'error'})
    expect(w.claims).toEqual([
      expect.objectContaining({
        name: 'data',
        template: 'data',
        source: 'persistentVolumeClaim',
        state: 'present',
        cause: 'Bound',
      }),
    ])
    expect(w.pods).toEqual([
      expect.objectContaining({
        name: 'web-aaa-1',
        replicaSet: 'web-aaa',
        revision: 'old',
        phase: 'Running',
        severity: 'ok',
      }),
      expect.objectContaining({
        name: 'web-bbb-1',
        replicaSet: 'web-bbb',
        revision: 'new',
        node: 'n2',
        severity: 'error',
        cause: 'VolumeAttachedElsewhere',
      }),
    ])
    expect(w.pods![1].message).toContain('still attached to node n1')
    // The claim followed through the stuck pod is the one reported in full.
    expect(d.claims.map((c) => [c.name, c.pod, c.cause])).toEqual([['data', 'web-bbb-1', 'VolumeAttachedElsewhere']])
    expect(explainExitCode(d)).toBe(1)
    const text = renderDiagnosis(d, new Chalk({level: 0}), {scopeLabel: 'in namespace app'})
    expect(text).toContain('deployment app/web  error  (1 replica(s))')
    expect(text).toMatch(/web-bbb-1\s+web-bbb \(new\)\s+Pending\s+n2\s+VolumeAttachedElsewhere/)
  })

  it('a missing claim, a pod refused by a quota (FailedCreate), an ephemeral claim refused by it (FailedBinding)', () => {
    const vols = [dataVol, {name: 'gone', persistentVolumeClaim: {claimName: 'gone'}}, scratchVol]
    const s = snap({
      storageClasses: [sc('fast', {provisioner: DRIVER})],
      deployments: [deployment(2, vols)],
      replicaSets: [replicaSet('aaa', 1, 2, vols)],
      pods: [rsPod('web-aaa-1', 'aaa', vols)],
      pvcs: [pvc('data', {bound: true, volumeName: 'vol'})],
      pvs: [csiPV('vol')],
      resourceQuotas: [
        {
          metadata: {name: 'small', namespace: 'app'},
          spec: {hard: {pods: '1', persistentvolumeclaims: '1'}},
          status: {hard: {pods: '1', persistentvolumeclaims: '1'}, used: {pods: '1', persistentvolumeclaims: '1'}},
        },
      ],
      events: [
        ev(
          'ReplicaSet',
          'web-aaa',
          'FailedCreate',
          'Error creating: pods "web-aaa-x2" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1',
        ),
        ev(
          'Pod',
          'web-aaa-1',
          'FailedBinding',
          'ephemeral volume scratch: create PVC web-aaa-1-scratch: persistentvolumeclaims "web-aaa-1-scratch" is forbidden: exceeded quota: small, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=1, limited: persistentvolumeclaims=1',
        ),
      ],
    })
    const w = explain(s, 'deployment', 'web').workloads![0]
    expect(w.severity).toBe('error')
    expect(w.claims.map((c) => [c.name, c.state, c.pod])).toEqual([
      ['data', 'present', undefined],
      ['gone', 'missing', undefined],
      ['web-aaa-1-scratch', 'missing', 'web-aaa-1'],
    ])
    expect(w.claims[1].why).toBe(
      `the pod template's volume "gone" names it and it does not exist: no pod that uses it can be scheduled`,
    )
    expect(w.claims[2].why).toBe(
      'the ephemeral volume controller could not create it: the ResourceQuota "small" refused it: requested persistentvolumeclaims=1, used persistentvolumeclaims=1, limited persistentvolumeclaims=1 (now persistentvolumeclaims: used 1 of 1)',
    )
    expect(w.claims[2].evidence[0]).toContain(
      'pod web-aaa-1: Warning FailedBinding: ephemeral volume scratch: create PVC',
    )
    expect(w.message).toContain(
      'ReplicaSet web-aaa has 1 of 2 pod(s): the ResourceQuota "small" refused the pod: requested pods=1, used pods=1, limited pods=1 (now pods: used 1 of 1)',
    )
    expect(w.evidence![0]).toBe(
      'ReplicaSet web-aaa: Warning FailedCreate: Error creating: pods "web-aaa-x2" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1',
    )
    expect(w.pods![0]).toMatchObject({name: 'web-aaa-1', severity: 'error'})
    expect(w.pods![0].message).toBe('waits for claim(s) that do not exist: gone, web-aaa-1-scratch')
    expect(w.fix).toContain(
      'Create the claim gone in app, or point the pod template\'s volume "gone" at a claim that exists',
    )
    expect(w.fix).toContain('Raise the quota or free what it counts in app: kubectl edit resourcequota -n app small')
  })

  it("an ephemeral claim's name taken by a claim the pod does not own (VolumeIsForPod)", () => {
    const taken = pvc('web-aaa-1-scratch', {cls: 'fast', size: '1Gi'})
    const w = explain(
      snap({
        deployments: [deployment(1, [scratchVol])],
        replicaSets: [replicaSet('aaa', 1, 1, [scratchVol])],
        pods: [rsPod('web-aaa-1', 'aaa', [scratchVol])],
        pvcs: [taken],
      }),
      'deployment',
      'web',
    ).workloads![0]
    expect(w.claims[0]).toMatchObject({name: 'web-aaa-1-scratch', state: 'foreign', severity: 'error'})
    expect(w.claims[0].why).toContain(
      'PVC app/web-aaa-1-scratch was not created for pod app/web-aaa-1 (pod is not owner)',
    )
  })

  it('without permission to read ReplicaSets: pods by the selector, and the answer says so', () => {
    const w = explain(
      snap({
        deployments: [deployment(1, [dataVol])],
        pods: [rsPod('web-aaa-1', 'aaa', [dataVol], {phase: 'Running', nodeName: 'n1'})],
        pvcs: [pvc('data', {bound: true, volumeName: 'vol'})],
        pvs: [csiPV('vol')],
        skipped: [{resource: 'replicasets', reason: 'forbidden'}],
      }),
      'deployment',
      'web',
    ).workloads![0]
    expect(w.pods!.map((p) => p.name)).toEqual(['web-aaa-1'])
    expect(w.message).toContain('ReplicaSets could not be read: pods are matched by the selector')
    expect(w.severity).toBe('ok')
  })
})

describe('explain rs/NAME', () => {
  it('a ReplicaSet on its own: its pods and claims; not found and unreadable are tool errors', () => {
    const s = snap({
      replicaSets: [replicaSet('aaa', 1, 1, [dataVol])],
      pods: [rsPod('web-aaa-1', 'aaa', [dataVol], {phase: 'Running', nodeName: 'n1'})],
      pvcs: [pvc('data', {bound: true, volumeName: 'vol'})],
      pvs: [csiPV('vol')],
    })
    const d = explain(s, 'replicaset', 'web-aaa')
    expect(d.workloads![0]).toMatchObject({kind: 'ReplicaSet', name: 'web-aaa', severity: 'ok'})
    expect(d.workloads![0].pods![0]).toMatchObject({name: 'web-aaa-1', replicaSet: 'web-aaa'})
    expect(d.workloads![0].pods![0].revision).toBeUndefined()
    expect(explainExitCode(d)).toBe(0)
    expect(() => explain(snap({}), 'replicaset', 'nope')).toThrow(
      /replicaset "nope" not found in namespace "app"; list them with kubectl get rs -n app/,
    )
    expect(() =>
      explain(snap({skipped: [{resource: 'deployments', reason: 'forbidden'}]}), 'deployment', 'web'),
    ).toThrow(/cannot read deployments \(forbidden\)/)
  })

  it("accepts kubectl's words for the kinds", () => {
    for (const w of ['deploy', 'deployment', 'deployments', 'deployments.apps'])
      expect(parseObjectArg(`${w}/web`, {pods: true, statefulSets: true, usage: ''})).toEqual({
        kind: 'deployment',
        namespace: undefined,
        name: 'web',
      })
    for (const w of ['rs', 'replicaset', 'ReplicaSets'])
      expect(parseObjectArg(`${w}/ns/web-1`, {pods: true, statefulSets: true, usage: ''})).toEqual({
        kind: 'replicaset',
        namespace: 'ns',
        name: 'web-1',
      })
  })
})
