/**
 * The disagreements the conformance suite found, reproduced on the real control plane: what
 * pv-doctor says before the controller acts, then what the controller does.
 */
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {pvcObj, pvObj, type Scenario, Scenarios} from './scenario.js'

const kubeconfig = inject('kubeconfig')
let kube: Kube
let scenarios: Scenarios

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  scenarios = new Scenarios(kube, kubeconfig)
})
afterAll(() => scenarios.cleanup())

type Ev = {reason?: string; message?: string; involvedObject?: {name?: string}}
/** The claim's events, once one with this reason has been written (the recorder writes asynchronously). */
const claimEvents = async (s: Scenario, name: string, reason: string) =>
  (
    await kube.waitFor(
      async () =>
        (
          await kube.client.list<Ev>(`/api/v1/namespaces/${s.ns}/events`, {
            fieldSelector: `involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${name}`,
          })
        ).map((e) => `${e.reason}: ${e.message}`),
      (l) => l.some((e) => e.startsWith(`${reason}:`)),
      15_000,
    )
  )?.join('\n') ?? ''

describe('bound claims the PV controller marks Lost (syncBoundClaim)', () => {
  it('a bind-completed claim whose PV now names another claim: ClaimLost (ClaimMisbound) before and after the controller acts', async () => {
    const s = await scenarios.create('misbound')
    await s.create(pvObj(s.n('v'), {}))
    await kube.waitPVPhase(s.n('v'), ['Available'])
    await s.create(pvcObj('data', {volumeName: s.n('v')}))
    expect(
      (
        await kube.waitFor(
          () => kube.claimPhase(s.ns, 'data'),
          (c) => c.phase === 'Bound',
          20_000,
        )
      )?.volumeName,
    ).toBe(s.n('v'))
    // Another claim takes the PV over (an admin edits claimRef): this claim is now misbound.
    await s.create(pvcObj('other', {}))
    const other = (await kube.get<Obj & {metadata: {uid: string}}>('PersistentVolumeClaim', 'other', s.ns))!
    await kube.patch('PersistentVolume', s.n('v'), {
      spec: {claimRef: {name: 'other', namespace: s.ns, uid: other.metadata.uid, resourceVersion: null}},
    })
    const before = s.explain(['data'])
    expect(before.json?.claims[0].cause).toBe('ClaimLost')
    expect(before.json?.claims[0].message).toContain(
      'Two claims are bound to the same volume, this one is bound incorrectly',
    )
    expect(before.code).toBe(1)
    const lost = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (c) => c.phase === 'Lost',
      30_000,
    )
    expect(lost?.phase).toBe('Lost')
    expect(await claimEvents(s, 'data', 'ClaimMisbound')).toContain(
      'ClaimMisbound: Two claims are bound to the same volume, this one is bound incorrectly',
    )
    const after = s.explain(['data'])
    expect(after.json?.claims[0].cause).toBe('ClaimLost')
    expect(after.json?.claims[0].evidence.join('\n')).toContain('ClaimMisbound')
  })

  it('a claim created with bind-completed and no spec.volumeName: ClaimLost, not an unbound claim', async () => {
    const s = await scenarios.create('lostref')
    const claim = {
      ...pvcObj('data', {}),
      metadata: {name: 'data', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}},
    }
    const offline = s.explainOffline([claim], ['data'])
    expect(offline.json?.claims[0].cause).toBe('ClaimLost')
    await s.create(claim)
    const lost = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (c) => c.phase === 'Lost',
      30_000,
    )
    expect(lost?.phase).toBe('Lost')
    expect(await claimEvents(s, 'data', 'ClaimLost')).toContain(
      'ClaimLost: Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
    )
    expect(s.explain(['data']).json?.claims[0].cause).toBe('ClaimLost')
  })
})

describe('a Released PV whose claimRef an admin removed (syncVolume)', () => {
  it('explain and bind treat it as Available before the controller syncs; the controller then binds it', async () => {
    const s = await scenarios.create('recycle')
    await s.create(pvObj(s.n('v'), {}))
    await kube.waitPVPhase(s.n('v'), ['Available'])
    await s.create(pvcObj('first', {volumeName: s.n('v')}))
    await kube.waitFor(
      () => kube.claimPhase(s.ns, 'first'),
      (c) => c.phase === 'Bound',
      20_000,
    )
    await kube.delete('PersistentVolumeClaim', 'first', s.ns)
    const released = (await kube.waitPVPhase(s.n('v'), ['Released'], 20_000)) as Obj & {spec: Record<string, unknown>}
    expect(released).toBeTruthy()
    // The admin's edit, as pv-doctor would see it before the controller's next sync: still Released, no claimRef.
    const edited = {...released, kind: 'PersistentVolume', spec: {...released.spec, claimRef: undefined}}
    const claim = pvcObj('data', {})
    const offline = s.explainOffline([edited, claim], ['data'])
    expect(offline.json?.claims[0]).toMatchObject({cause: 'BindPending', wouldBind: s.n('v')})
    expect(offline.json?.claims[0].message).toContain('the controller makes it Available at its next sync')
    const plan = runCli(['bind', '-n', s.ns, 'data', '--from-file', offline.file, '--dry-run=client', '-o', 'json'])
    const binding = (JSON.parse(plan.stdout) as {bindings: {status: string; volume: string; warnings: string[]}[]})
      .bindings[0]
    expect(binding).toMatchObject({status: 'bind', volume: s.n('v')})
    expect(binding.warnings.join(' ')).toContain('Released but names no claim')
    // Now for real: remove the claimRef, create the claim; the controller binds that PV.
    await kube.patch('PersistentVolume', s.n('v'), {spec: {claimRef: null}})
    await s.create(claim)
    const bound = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (c) => c.phase === 'Bound',
      30_000,
    )
    expect(bound?.volumeName).toBe(s.n('v'))
  })
})

describe("the cluster's version", () => {
  it('snapshot records /version and that it read every namespace', async () => {
    const version = (await kube.client.request<{gitVersion: string}>('GET', '/version')).gitVersion
    const r = runCli(['snapshot', '-A', '--kubeconfig', kubeconfig, '-o', 'json'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as {serverVersion?: string; allNamespaces?: boolean}
    expect(doc.serverVersion).toBe(version)
    expect(doc.allNamespaces).toBe(true)
  })
})
