import type {CoreV1Event, V1StatefulSet} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {explainExitCode} from '../../src/base/exitCodes.js'
import {diagnose} from '../../src/diagnose/diagnose.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {pv, pvc, sc, snap} from '../helpers/objects.js'

function sts(
  name: string,
  o: {replicas?: number; policy?: 'OrderedReady' | 'Parallel'; retention?: object; start?: number} = {},
): V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {name, namespace: 'app', uid: `uid-${name}`},
    spec: {
      replicas: o.replicas ?? 2,
      serviceName: name,
      podManagementPolicy: o.policy ?? 'Parallel',
      selector: {matchLabels: {app: name}},
      template: {metadata: {labels: {app: name}}, spec: {containers: [{name: 'c', image: 'x'}]}},
      ...(o.retention ? {persistentVolumeClaimRetentionPolicy: o.retention} : {}),
      ...(o.start !== undefined ? {ordinals: {start: o.start}} : {}),
      volumeClaimTemplates: [
        {
          metadata: {name: 'data'},
          spec: {accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: {requests: {storage: '1Gi'}}},
        },
      ],
    },
  }
}

function stsEvent(set: string, reason: string, message: string): CoreV1Event {
  return {
    metadata: {name: `${set}.${reason}`, namespace: 'app'},
    involvedObject: {kind: 'StatefulSet', namespace: 'app', name: set, uid: `uid-${set}`},
    reason,
    message,
    type: 'Warning',
    source: {component: 'statefulset-controller'},
    lastTimestamp: '2026-11-25T10:00:00Z' as unknown as Date,
  }
}

const quota = {
  metadata: {name: 'storage', namespace: 'app'},
  spec: {hard: {'requests.storage': '1Gi'}},
  status: {hard: {'requests.storage': '1Gi'}, used: {'requests.storage': '1Gi'}},
}
const bound0 = pvc('data-db-0', {cls: 'fast', size: '1Gi', bound: true, volumeName: 'pv-0'})
const pv0 = pv('pv-0', {cls: 'fast', claimRef: {namespace: 'app', name: 'data-db-0', uid: 'uid-data-db-0'}})

function explainSts(s: Snapshot, name = 'db') {
  return diagnose(s, {targets: [{kind: 'statefulset', namespace: 'app', name}], all: true})
}

describe('explain sts/NAME', () => {
  it("names the quota and its figures when the StatefulSet's FailedCreate says the second claim exceeded it", () => {
    const d = explainSts(
      snap({
        storageClasses: [sc('fast', {provisioner: 'pvd.csi.test'})],
        statefulSets: [sts('db')],
        pvcs: [bound0],
        pvs: [pv0],
        resourceQuotas: [quota],
        events: [
          stsEvent(
            'db',
            'FailedCreate',
            'Create Claim data-db-1 for Pod db-1 in StatefulSet db failed error: persistentvolumeclaims "data-db-1" is forbidden: exceeded quota: storage, requested: requests.storage=1Gi, used: requests.storage=1Gi, limited: requests.storage=1Gi',
          ),
        ],
      }),
    )
    const w = d.workloads![0]
    expect(w.severity).toBe('error')
    expect(w.claims.map((c) => [c.name, c.state])).toEqual([
      ['data-db-0', 'present'],
      ['data-db-1', 'missing'],
    ])
    const missing = w.claims[1]
    expect(missing.why).toContain('ResourceQuota "storage" refused it')
    expect(missing.why).toContain(
      'requested requests.storage=1Gi, used requests.storage=1Gi, limited requests.storage=1Gi',
    )
    expect(missing.why).toContain('requests.storage: used 1Gi of 1Gi')
    expect(missing.evidence[0]).toContain('Warning FailedCreate: Create Claim data-db-1')
    expect(w.fix[0]).toContain('kubectl edit resourcequota -n app storage')
    expect(d.claims.map((c) => c.name)).toEqual(['data-db-0'])
    expect(explainExitCode(d)).toBe(1)
  })

  it('without an event: a quota the claim would exceed, or OrderedReady waiting for the previous pod', () => {
    const base = {
      storageClasses: [sc('fast', {provisioner: 'pvd.csi.test'})],
      pvcs: [bound0],
      pvs: [pv0],
    }
    const byQuota = explainSts(snap({...base, statefulSets: [sts('db')], resourceQuotas: [quota]}))
    expect(byQuota.workloads![0].claims[1].why).toMatch(
      /would refuse it \(requests.storage: used 1Gi of 1Gi, this claim asks 1Gi\)/,
    )
    const countQuota = {
      metadata: {name: 'count', namespace: 'app'},
      status: {
        hard: {'fast.storageclass.storage.k8s.io/persistentvolumeclaims': '1'},
        used: {'fast.storageclass.storage.k8s.io/persistentvolumeclaims': '1'},
      },
    }
    expect(
      explainSts(snap({...base, statefulSets: [sts('db')], resourceQuotas: [countQuota]})).workloads![0].claims[1].why,
    ).toContain(
      'ResourceQuota "count" would refuse it (fast.storageclass.storage.k8s.io/persistentvolumeclaims: used 1 of 1, this claim asks 1 more)',
    )
    const ordered = explainSts(snap({...base, statefulSets: [sts('db', {policy: 'OrderedReady'})]}))
    expect(ordered.workloads![0].claims[1].why).toContain(
      'OrderedReady creates pod db-1 (and its claims) only after db-0 is Running and Ready',
    )
  })

  it('a LimitRange minimum, quoted with the LimitRange named', () => {
    const d = explainSts(
      snap({
        storageClasses: [sc('fast', {provisioner: 'pvd.csi.test'})],
        statefulSets: [sts('db', {replicas: 1})],
        limitRanges: [
          {
            metadata: {name: 'min-2g', namespace: 'app'},
            spec: {limits: [{type: 'PersistentVolumeClaim', min: {storage: '2Gi'}}]},
          },
        ],
        events: [
          stsEvent(
            'db',
            'FailedCreate',
            'Create Claim data-db-0 for Pod db-0 in StatefulSet db failed error: persistentvolumeclaims "data-db-0" is forbidden: minimum storage usage per PersistentVolumeClaim is 2Gi, but request is 1Gi',
          ),
        ],
      }),
    )
    expect(d.workloads![0].claims[0].why).toBe(
      'a LimitRange ("min-2g") refused it: the minimum storage per claim is 2Gi, the template asks 1Gi',
    )
  })

  it('claims kept beyond the replicas by the retention policy; ordinals.start is honoured', () => {
    const kept = pvc('data-db-2', {cls: 'fast', size: '1Gi', bound: true, volumeName: 'pv-2'})
    const d = explainSts(
      snap({
        storageClasses: [sc('fast', {provisioner: 'pvd.csi.test'})],
        statefulSets: [sts('db', {replicas: 1})],
        pvcs: [bound0, kept],
        pvs: [pv0, pv('pv-2', {cls: 'fast', claimRef: {namespace: 'app', name: 'data-db-2', uid: 'uid-data-db-2'}})],
      }),
    )
    const w = d.workloads![0]
    expect(w.severity).toBe('ok')
    expect(w.retention).toEqual({whenDeleted: 'Retain', whenScaled: 'Retain'})
    expect(w.claims[1]).toMatchObject({name: 'data-db-2', state: 'retained', volume: 'pv-2'})
    expect(w.claims[1].why).toContain(
      'kept from a scale-down (whenScaled: Retain), still bound to PV pv-2; a scale-up to 3 replicas reuses it',
    )
    expect(explainExitCode(d)).toBe(0)
    const del = explainSts(
      snap({
        statefulSets: [sts('db', {replicas: 1, retention: {whenScaled: 'Delete', whenDeleted: 'Delete'}})],
        pvcs: [bound0, kept],
      }),
    ).workloads![0]
    expect(del.claims[1].why).toContain('whenScaled: Delete')
    const deleting = (whenDeleted: string) => {
      const set = sts('db', {replicas: 1, retention: {whenDeleted}})
      set.metadata!.deletionTimestamp = '2026-11-25T10:00:00Z' as unknown as Date
      return explainSts(snap({statefulSets: [set], pvcs: [bound0], pvs: [pv0]})).workloads![0].message
    }
    expect(deleting('Delete')).toContain('whenDeleted Delete, so the garbage collector deletes its claims with it')
    expect(deleting('Retain')).toContain('whenDeleted Retain, so its claims stay')
    const shifted = explainSts(snap({statefulSets: [sts('db', {replicas: 2, start: 5})]})).workloads![0]
    expect(shifted.claims.map((c) => c.name)).toEqual(['data-db-5', 'data-db-6'])
  })

  it('a StatefulSet that does not exist, or cannot be read, is a tool error', () => {
    expect(() => explainSts(snap({}))).toThrow(/statefulset "db" not found in namespace "app"/)
    expect(() => explainSts(snap({skipped: [{resource: 'statefulsets', reason: 'forbidden'}]}))).toThrow(
      /cannot read statefulsets \(forbidden\)/,
    )
  })
})
