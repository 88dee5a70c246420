/**
 * `explain` against the real control plane: each scenario asks pv-doctor offline what will
 * happen, creates the objects, lets the real PV controller and scheduler act, and checks that
 * pv-doctor's verdict (offline and live) matches what they did.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {pinnedByName} from './pinnedByName.js'
import {type LiveNode, podObj, pvcObj, pvObj, type Scenario, Scenarios, scObj, usableNodes} from './scenario.js'

const kubeconfig = inject('kubeconfig')
let kube: Kube
let nodes: LiveNode[] = []
let scenarios: Scenarios

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  nodes = await usableNodes(kube)
  scenarios = new Scenarios(kube, kubeconfig)
})
afterAll(() => scenarios.cleanup())

const scenario = (label: string) => scenarios.create(label)

async function createAll(s: Scenario, objs: Obj[]): Promise<void> {
  for (const o of objs) {
    await s.create(structuredClone(o))
    if (o.kind === 'PersistentVolume') await kube.waitPVPhase(o.metadata!.name!, ['Available', 'Released', 'Bound'])
  }
}

describe('explain agrees with the real controller and scheduler', () => {
  it('Immediate static binding: predicts the PV, the controller binds exactly that one', async () => {
    const s = await scenario('immediate')
    const cls = s.n('manual')
    const objs = [
      pvObj(s.n('big'), {size: '5Gi', cls}),
      pvObj(s.n('exact'), {size: '2Gi', cls}),
      pvObj(s.n('small'), {size: '1Gi', cls}),
      pvcObj('data', {size: '2Gi', cls}),
    ]
    const offline = s.explainOffline(objs, ['data'])
    expect(offline.json?.claims[0]).toMatchObject({cause: 'BindPending', wouldBind: s.n('exact')})
    await createAll(s, objs)
    const bound = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (c) => c.phase === 'Bound',
      20_000,
    )
    expect(bound?.volumeName).toBe(s.n('exact'))
    const live = s.explain(['data'])
    expect(live.code).toBe(0)
    expect(live.json?.claims[0].cause).toBe('Bound')
  })

  it('every mismatch code shows on the candidate that fails it, and nothing binds', async () => {
    const s = await scenario('mismatch')
    const cls = s.n('manual')
    const other = s.n('other')
    const objs = [
      scObj(cls),
      pvObj(s.n('claimed'), {cls, labels: {tier: 'fast'}, claimRef: {namespace: s.ns, name: 'someone-else'}}),
      pvObj(s.n('small'), {cls, size: '512Mi', labels: {tier: 'fast'}}),
      pvObj(s.n('block'), {cls, volumeMode: 'Block', labels: {tier: 'fast'}, local: true, hosts: [nodes[0].hostname]}),
      pvObj(s.n('label'), {cls, labels: {tier: 'slow'}}),
      pvObj(s.n('class'), {cls: other, labels: {tier: 'fast'}}),
      pvObj(s.n('modes'), {cls, modes: ['ReadOnlyMany'], labels: {tier: 'fast'}}),
      pvcObj('data', {cls, selector: {matchLabels: {tier: 'fast'}}}),
    ]
    await createAll(s, objs)
    // give the controller a few syncs to prove it really does not bind
    await new Promise((r) => setTimeout(r, 3000))
    expect((await kube.claimPhase(s.ns, 'data')).phase).toBe('Pending')
    const live = s.explain(['data'])
    expect(live.code).toBe(1)
    const c = live.json!.claims[0]
    expect(c.cause).toBe('NoMatchingVolume')
    const mm = (n: string) => c.candidates.find((x) => x.name === s.n(n))?.mismatches
    expect(mm('claimed')).toEqual(['claimedByOther'])
    expect(mm('small')).toEqual(['capacity'])
    expect(mm('block')).toEqual(['volumeMode'])
    expect(mm('label')).toEqual(['selector'])
    // A PV of another class is no candidate while the claim's class has PVs (the advice rules:
    // closest = the claim's class); the storageClass check shows when the class has none (unit tests).
    expect(mm('class')).toBeUndefined()
    expect(mm('modes')).toEqual(['accessModes'])
  })

  it("a Released PV with a stale claimRef uid: VolumeClaimedByOther, with the controller's own event as evidence", async () => {
    const s = await scenario('released')
    const cls = s.n('manual')
    await createAll(s, [
      pvObj(s.n('old'), {cls, claimRef: {namespace: s.ns, name: 'data', uid: '6f1d3a4e-0000-4000-8000-000000000000'}}),
    ])
    expect((await kube.waitPVPhase(s.n('old'), ['Released'])) as unknown).toBeTruthy()
    await s.create(pvcObj('data', {cls, volumeName: s.n('old')}))
    const live = await kube.waitFor(
      async () => s.explain(['data']),
      (r) => (r.json?.claims[0].evidence.length ?? 0) > 0,
      15_000,
      1000,
    )
    expect(live?.json?.claims[0].cause).toBe('VolumeClaimedByOther')
    expect(live?.json?.claims[0].evidence.join('\n')).toContain(
      `volume "${s.n('old')}" already bound to a different claim.`,
    )
  })

  it('WaitForFirstConsumer: waits without a pod; with a pod the scheduler binds the predicted local PV on its node', async () => {
    const s = await scenario('wffc')
    const cls = s.n('local')
    const objs = [
      scObj(cls, {wffc: true}),
      pvObj(s.n('on-0'), {cls, hosts: [nodes[0].hostname]}),
      pvcObj('data', {cls}),
    ]
    await createAll(s, objs)
    const waiting = await kube.waitFor(
      async () => s.explain(['data']),
      (r) => r.json?.claims[0].evidence.length === 1,
      15_000,
      1000,
    )
    expect(waiting?.json?.claims[0].cause).toBe('WaitingForFirstConsumer')
    expect(waiting?.json?.claims[0].evidence[0]).toContain('waiting for first consumer to be created before binding')
    expect(waiting?.code).toBe(0)
    const pod = podObj('app', ['data'])
    const predicted = s.explainOffline(
      [...objs, pod, ...(await kube.list<Obj>('Node')).map((n) => ({...n, kind: 'Node'}))],
      ['data'],
    )
    expect(predicted.json?.claims[0]).toMatchObject({cause: 'BindPending', wouldBind: s.n('on-0')})
    await s.create(pod)
    const bound = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (c) => c.phase === 'Bound',
      30_000,
    )
    expect(bound?.volumeName).toBe(s.n('on-0'))
    const p = await kube.waitFor(
      async () => (await kube.get('Pod', 'app', s.ns)) as {spec?: {nodeName?: string}},
      (x) => Boolean(x.spec?.nodeName),
      30_000,
    )
    expect(p?.spec?.nodeName).toBe(nodes[0].name)
  })

  it("local PVs on specific nodes: a pod that can reach one binds, a pod that cannot gets NoVolumeOnFeasibleNodes with the scheduler's text", async () => {
    const s = await scenario('local')
    const cls = s.n('local')
    await createAll(s, [
      scObj(cls, {wffc: true}),
      pvObj(s.n('pv-0'), {cls, hosts: [nodes[0].hostname]}),
      pvcObj('ok', {cls}),
      pvcObj('stuck', {cls}),
    ])
    await s.create(podObj('fits', ['ok'], {nodeSelector: {'kubernetes.io/hostname': nodes[0].hostname}}))
    expect(
      (
        await kube.waitFor(
          () => kube.claimPhase(s.ns, 'ok'),
          (c) => c.phase === 'Bound',
          30_000,
        )
      )?.volumeName,
    ).toBe(s.n('pv-0'))
    await s.create(podObj('cannot', ['stuck'], {nodeSelector: {'kubernetes.io/hostname': nodes[1].hostname}}))
    const cond = await kube.waitFor(
      async () =>
        (
          (await kube.get('Pod', 'cannot', s.ns)) as {status?: {conditions?: {type: string; message?: string}[]}}
        ).status?.conditions?.find((c) => c.type === 'PodScheduled')?.message,
      (m) => m.length > 0,
      30_000,
    )
    const live = s.explain(['stuck'])
    const c = live.json!.claims[0]
    expect(c.cause).toBe('NoVolumeOnFeasibleNodes')
    // pv-doctor's summary reproduces the scheduler's own message (before the preemption part)
    expect(cond).toContain(c.consumers[0].summary!.replace(/\.$/, ''))
    expect(c.evidence.join('\n')).toContain("didn't find available persistent volumes to bind")
  })

  it("a pod pinned by matchFields metadata.name (as DaemonSet pods are): the scheduler's PreFilter narrows the nodes, and pv-doctor's summary counts the others as it does", async () => {
    const {condition, total, claim} = await pinnedByName(scenarios, kube)
    expect(condition).toContain(
      `0/${total} nodes are available: 1 node(s) didn't find available persistent volumes to bind, ${total - 1} node(s) didn't satisfy plugin(s) [NodeAffinity].`,
    )
    expect(claim.cause).toBe('NoVolumeOnFeasibleNodes')
    expect(condition).toContain(claim.consumers[0].summary!.replace(/\.$/, ''))
  })

  it('a StorageClass that does not exist', async () => {
    const s = await scenario('noclass')
    await s.create(pvcObj('data', {cls: s.n('missing')}))
    const live = await kube.waitFor(
      async () => s.explain(['data']),
      (r) => (r.json?.claims[0].evidence.length ?? 0) > 0,
      15_000,
      1000,
    )
    expect(live?.json?.claims[0].cause).toBe('StorageClassNotFound')
    expect(live?.json?.claims[0].evidence[0]).toContain(`storageclass.storage.k8s.io "${s.n('missing')}" not found`)
  })

  it('no storageClassName and no default class', async () => {
    const defaults = (await kube.list<Obj>('StorageClass')).filter(
      (c) =>
        (c.metadata?.annotations as Record<string, string> | undefined)?.[
          'storageclass.kubernetes.io/is-default-class'
        ] === 'true',
    )
    if (defaults.length) return // an external cluster with a default class: not applicable
    const s = await scenario('nodefault')
    await s.create(pvcObj('data', {cls: null, size: '999Gi'}))
    const live = s.explain(['data'])
    expect(live.json?.claims[0].cause).toBe('NoDefaultStorageClass')
  })

  it('an external provisioner that does not exist', async () => {
    const s = await scenario('noprov')
    const cls = s.n('ext')
    await createAll(s, [scObj(cls, {provisioner: `${s.ns}.csi.example.com`}), pvcObj('data', {cls})])
    const live = await kube.waitFor(
      async () => s.explain(['data']),
      (r) => (r.json?.claims[0].evidence.length ?? 0) > 0,
      15_000,
      1000,
    )
    expect(live?.json?.claims[0].cause).toBe('ProvisionerNotFound')
    expect(live?.json?.claims[0].evidence[0]).toContain(
      `Waiting for a volume to be created either by the external provisioner '${s.ns}.csi.example.com'`,
    )
  })

  it('snapshot: a file written from the live cluster gives the same verdicts offline', async () => {
    const s = await scenario('snapshot')
    const cls = s.n('local')
    await s.create(scObj(cls, {wffc: true}))
    await s.create(pvObj(s.n('pv'), {cls, hosts: [nodes[0].hostname], size: '1Gi'}))
    await s.create(pvcObj('big', {cls, size: '5Gi'}))
    await s.create(podObj('app', ['big']))
    await s.create(pvcObj('ghost', {cls: s.n('nope')}))
    const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
    expect(snap.code, snap.stderr).toBe(0)
    const doc = JSON.parse(snap.stdout)
    expect(doc).toMatchObject({apiVersion: 'pv-doctor/v1', kind: 'Snapshot', skipped: []})
    expect(doc.pvcs.every((c: Obj) => c.kind === 'PersistentVolumeClaim' && c.apiVersion === 'v1')).toBe(true)
    const file = join(mkdtempSync(join(tmpdir(), 'pvd-snap-')), 'snap.json')
    writeFileSync(file, snap.stdout)
    const offline = runCli(['explain', '-n', s.ns, '--from-file', file, '-o', 'json'])
    const live = s.explain([])
    const verdicts = (out: string) =>
      (JSON.parse(out) as {claims: {name: string; cause: string; wouldBind: string | null}[]}).claims.map((c) => [
        c.name,
        c.cause,
        c.wouldBind,
      ])
    expect(verdicts(offline.stdout)).toEqual(verdicts(live.stdout))
    expect(verdicts(live.stdout)).toEqual([
      ['big', 'NoVolumeOnFeasibleNodes', null],
      ['ghost', 'StorageClassNotFound', null],
    ])
  })

  it('pod/NAME: a Bound claim whose PV lives where the pod cannot run', async () => {
    const s = await scenario('podaff')
    const cls = s.n('manual')
    await createAll(s, [pvObj(s.n('pinned'), {cls, hosts: [nodes[0].hostname]}), pvcObj('data', {cls})])
    expect(
      (
        await kube.waitFor(
          () => kube.claimPhase(s.ns, 'data'),
          (c) => c.phase === 'Bound',
          20_000,
        )
      )?.volumeName,
    ).toBe(s.n('pinned'))
    await s.create(podObj('web', ['data'], {nodeSelector: {'kubernetes.io/hostname': nodes[1].hostname}}))
    const cond = await kube.waitFor(
      async () =>
        (
          (await kube.get('Pod', 'web', s.ns)) as {status?: {conditions?: {type: string; message?: string}[]}}
        ).status?.conditions?.find((c) => c.type === 'PodScheduled')?.message,
      (m) => m.length > 0,
      30_000,
    )
    expect(cond).toBeTruthy()
    const live = s.explain(['pod/web'])
    expect(live.json?.claims[0].cause).toBe('VolumeNodeAffinityConflict')
    expect(live.code).toBe(1)
  })
})
