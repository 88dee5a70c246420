/**
 * The advice of `explain` on the real control plane, for states of the advice review where the
 * first fix can be carried out and checked: the keep-data fix really binds the old volume, a
 * claim's spec really is immutable while it is unbound, and the closest candidates are the
 * claim's class.
 */
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {KubeError} from '../../src/kube/errors.js'
import {Kube, type Obj} from './kube.js'
import {pvcObj, pvObj, type Scenario, Scenarios, scObj} from './scenario.js'

const kubeconfig = inject('kubeconfig')
let kube: Kube
let scenarios: Scenarios

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  scenarios = new Scenarios(kube, kubeconfig)
})
afterAll(() => scenarios.cleanup())

async function createAll(s: Scenario, objs: Obj[]): Promise<void> {
  for (const o of objs) {
    await s.create(structuredClone(o))
    if (o.kind === 'PersistentVolume') await kube.waitPVPhase(o.metadata!.name!, ['Available', 'Released', 'Bound'])
  }
}

describe('advice on the real control plane', () => {
  it('a Released PV of a re-created claim: the first fix keeps the data, and doing it binds that PV', async () => {
    const s = await scenarios.create('adv-keep')
    const cls = s.n('manual')
    await createAll(s, [
      scObj(cls),
      pvObj(s.n('old'), {
        cls,
        size: '2Gi',
        claimRef: {namespace: s.ns, name: 'data', uid: '6f1d3a4e-0000-4000-8000-00000000000a'},
      }),
      pvObj(s.n('small'), {cls, size: '512Mi'}),
      pvObj(s.n('other-class'), {cls: s.n('slow'), size: '5Gi'}),
      pvcObj('data', {cls, size: '2Gi'}),
    ])
    await kube.waitPVPhase(s.n('old'), ['Released'])
    const c = s.explain(['data']).json!.claims[0]
    expect(c.cause).toBe('NoMatchingVolume')
    expect(c.fix[0]).toContain(`bind -n ${s.ns} data --volume ${s.n('old')}`)
    expect(c.fix.join('\n')).not.toContain(s.n('other-class'))
    expect(c.fix.join('\n')).not.toContain('WaitForFirstConsumer')
    const r = runCli(['bind', '-n', s.ns, 'data', '--volume', s.n('old'), '--yes', '--kubeconfig', kubeconfig])
    expect(r.code, r.stderr).toBe(0)
    const bound = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (p) => p.phase === 'Bound',
      20_000,
    )
    expect(bound?.volumeName).toBe(s.n('old'))
  })

  it("a spec.volumeName naming another claim's PV: the fix says recreate, and the API server does refuse the change", async () => {
    const s = await scenarios.create('adv-volname')
    const cls = s.n('manual')
    await createAll(s, [
      scObj(cls),
      pvObj(s.n('taken'), {cls, claimRef: {namespace: s.ns, name: 'other'}}),
      pvObj(s.n('free'), {cls}),
      pvcObj('data', {cls, volumeName: s.n('taken')}),
    ])
    const c = s.explain(['data']).json!.claims[0]
    expect(c.cause).toBe('VolumeClaimedByOther')
    expect(c.fix[0]).toMatch(/^spec.volumeName is immutable once set: delete and recreate the claim/)
    const change = kube.patch('PersistentVolumeClaim', 'data', {spec: {volumeName: s.n('free')}}, s.ns)
    await expect(change).rejects.toBeInstanceOf(KubeError)
    await expect(change).rejects.toThrow(/immutable/)
  })

  it('too small and wrong access mode: one sentence each, recreate first (the request cannot change while unbound)', async () => {
    const s = await scenarios.create('adv-checks')
    const cls = s.n('manual')
    await createAll(s, [
      scObj(cls),
      pvObj(s.n('small'), {cls, size: '512Mi'}),
      pvObj(s.n('shared'), {cls, size: '4Gi', modes: ['ReadWriteMany']}),
      pvcObj('data', {cls, size: '2Gi'}),
    ])
    const c = s.explain(['data']).json!.claims[0]
    expect(c.cause).toBe('NoMatchingVolume')
    expect(c.fix[0]).toContain(`PV ${s.n('small')} is too small (512Mi < 2Gi)`)
    expect(c.fix[1]).toContain(`PV ${s.n('shared')} offers RWX, the claim needs RWO`)
    const change = kube.patch(
      'PersistentVolumeClaim',
      'data',
      {spec: {resources: {requests: {storage: '512Mi'}}}},
      s.ns,
    )
    await expect(change).rejects.toThrow(/immutable/)
  })
})
