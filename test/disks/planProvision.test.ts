import {describe, expect, it} from 'vitest'
import type {V1StorageClass} from '@kubernetes/client-node'
import {assessDisks} from '../../src/disks/eligibility.js'
import {pvName} from '../../src/disks/identity.js'
import {type ProvisionInput, planProvision, recheckPlan} from '../../src/disks/planProvision.js'
import type {DiskVerdict} from '../../src/disks/types.js'
import {node, pv} from '../helpers/objects.js'
import {fixture} from './helpers.js'

const san = fixture('san-multipath.json')

function input(
  o: Partial<ProvisionInput> = {},
  disks: DiskVerdict[] = assessDisks(san, {pvs: o.existingPVs}),
): ProvisionInput {
  return {
    nodes: [{name: 'db-2', node: node('db-2'), disks}],
    existingPVs: [],
    storageClass: 'local-disks',
    volumeMode: 'Block',
    reclaimPolicy: 'Retain',
    toolVersion: '0.1.0',
    ...o,
  }
}

describe('planProvision', () => {
  it('makes one Block PV per eligible disk, on its by-id path, pinned to the node, plus the class', () => {
    const plan = planProvision(input())
    expect(plan.blocker).toBeUndefined()
    const creates = plan.items.filter((i) => i.action === 'create')
    expect(creates.map((i) => i.disk.name)).toEqual(['sdf', 'sdj'])
    const pv = creates[0].manifest!
    expect(pv.metadata!.name).toBe(pvName('db-2', '/dev/disk/by-id/wwn-0x5000cca0bbccdd01'))
    expect(pv.spec).toEqual({
      capacity: {storage: '4000787030016'},
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'local-disks',
      volumeMode: 'Block',
      local: {path: '/dev/disk/by-id/wwn-0x5000cca0bbccdd01'},
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: ['db-2']}]}],
        },
      },
    })
    expect(pv.metadata!.annotations).toMatchObject({
      'pv-doctor.io/node': 'db-2',
      'pv-doctor.io/disk-id': '/dev/disk/by-id/wwn-0x5000cca0bbccdd01',
      'pv-doctor.io/kernel-path': '/dev/sdf',
      'pv-doctor.io/fingerprint': creates[0].disk.fingerprint,
      'pv-doctor.io/version': '0.1.0',
    })
    expect(pv.metadata!.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'pv-doctor',
      'pv-doctor.io/node': 'db-2',
    })
    expect(plan.storageClass).toMatchObject({
      action: 'create',
      manifest: {
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'WaitForFirstConsumer',
        reclaimPolicy: 'Retain',
      },
    })
  })

  it('pins to the hostname label, not the node name, when they differ', () => {
    const plan = planProvision(
      input({nodes: [{name: 'db-2', node: node('db-2', {hostname: 'db-2.example.com'}), disks: assessDisks(san)}]}),
    )
    const pv = plan.items.find((i) => i.action === 'create')!.manifest!
    expect(pv.spec!.nodeAffinity!.required!.nodeSelectorTerms[0].matchExpressions![0].values).toEqual([
      'db-2.example.com',
    ])
  })

  it('is idempotent: once its PVs exist, a second plan creates nothing and reuses the class', () => {
    const first = planProvision(input())
    const made = first.items.filter((i) => i.action === 'create').map((i) => i.manifest!)
    const sc = first.storageClass.manifest
    const again = planProvision(input({existingPVs: made, existingClass: sc}))
    expect(again.items.filter((i) => i.action === 'create')).toEqual([])
    expect(again.items.filter((i) => i.action === 'exists').map((i) => i.pvName)).toEqual(
      made.map((m) => m.metadata!.name),
    )
    expect(again.storageClass.action).toBe('exists')
  })

  it('reports a PV that has our name but another path as a conflict', () => {
    const name = pvName('db-2', '/dev/disk/by-id/wwn-0x5000cca0bbccdd01')
    const plan = planProvision(input({existingPVs: [pv(name, {local: '/dev/sdz', hosts: ['db-2']})]}))
    expect(plan.items.find((i) => i.pvName === name)).toMatchObject({action: 'conflict'})
  })

  it('refuses a class of that name that binds Immediately, and says why', () => {
    const sc: V1StorageClass = {metadata: {name: 'local-disks'}, provisioner: 'kubernetes.io/no-provisioner'}
    expect(planProvision(input({existingClass: sc})).blocker).toMatch(
      /volumeBindingMode Immediate.*before the scheduler picks a node/,
    )
  })

  it('warns about a class with a real provisioner', () => {
    const sc: V1StorageClass = {
      metadata: {name: 'local-disks'},
      provisioner: 'ebs.csi.aws.com',
      volumeBindingMode: 'WaitForFirstConsumer',
    }
    const plan = planProvision(input({existingClass: sc}))
    expect(plan.blocker).toBeUndefined()
    expect(plan.warnings.join()).toMatch(/ebs.csi.aws.com/)
  })

  it('Filesystem mode carries fsType and a warning that the kubelet formats the disk', () => {
    const plan = planProvision(input({volumeMode: 'Filesystem', fsType: 'xfs'}))
    expect(plan.items.find((i) => i.action === 'create')!.manifest!.spec).toMatchObject({
      volumeMode: 'Filesystem',
      local: {fsType: 'xfs'},
    })
    expect(plan.warnings.join()).toMatch(/kubelet formats/)
  })

  it('skips nodes missing from the cluster or without a hostname label', () => {
    expect(
      planProvision(input({nodes: [{name: 'db-2', disks: assessDisks(san)}]})).items.filter(
        (i) => i.action === 'create',
      ),
    ).toEqual([])
    const noLabel = planProvision(
      input({nodes: [{name: 'db-2', node: node('db-2', {hostname: null}), disks: assessDisks(san)}]}),
    )
    expect(noLabel.items.find((i) => i.disk.name === 'sdf')).toMatchObject({
      action: 'skip',
      why: expect.stringMatching(/kubernetes.io\/hostname/),
    })
  })

  it('never plans an ineligible disk', () => {
    const plan = planProvision(input())
    for (const item of plan.items) if (!item.disk.eligible) expect(item.action).not.toBe('create')
  })
})

describe('recheckPlan', () => {
  const plan = planProvision(input())
  const creates = plan.items.filter((i) => i.action === 'create')

  it('keeps disks that probe the same', () => {
    const fresh = new Map([['db-2', {error: null, disks: assessDisks(san)}]])
    expect(recheckPlan(creates, fresh).ok).toHaveLength(2)
  })

  it('refuses a disk that got a filesystem since the plan, saying what changed', () => {
    const changed = structuredClone(san)
    changed.devices.find((d) => d.name === 'sdf')!.signatures = [{type: 'ext4', offset: '0x438'}]
    const r = recheckPlan(creates, new Map([['db-2', {error: null, disks: assessDisks(changed)}]]))
    expect(r.ok.map((i) => i.disk.name)).toEqual(['sdj'])
    expect(r.refused[0].why).toMatch(/changed since it was probed \(signatures none → ext4\)/)
  })

  it('refuses disks that vanished or a node that did not answer', () => {
    const gone = structuredClone(san)
    gone.devices = gone.devices.filter((d) => d.name !== 'sdj')
    expect(recheckPlan(creates, new Map([['db-2', {error: null, disks: assessDisks(gone)}]])).refused[0].why).toMatch(
      /no longer on db-2/,
    )
    expect(recheckPlan(creates, new Map([['db-2', {error: 'probe pod did not start', disks: []}]])).ok).toEqual([])
  })
})

describe('pvName', () => {
  it('is deterministic, distinct per disk, and a DNS-1123 label of at most 63 characters', () => {
    const long = 'ip-10-0-1-23.eu-central-1.compute.internal.example.very-long-domain.net'
    const a = pvName(long, '/dev/disk/by-id/wwn-1')
    expect(a).toBe(pvName(long, '/dev/disk/by-id/wwn-1'))
    expect(a).not.toBe(pvName(long, '/dev/disk/by-id/wwn-2'))
    expect(a.length).toBeLessThanOrEqual(63)
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    expect(pvName('n1', '/dev/loop3')).toMatch(/^local-n1-[0-9a-f]{10}$/)
  })
})
