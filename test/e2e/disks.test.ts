/**
 * disks and provision against the real control plane's fake nodes. They have no kubelet, so `disks` must report
 * each of them as "probe pod did not start" (the real node's probe is test/e2e/realnode.test.ts) and leave no pod behind; `provision --from-report`
 * (recorded probe reports) creates the PVs and class, re-running changes nothing, and the real
 * scheduler then binds a claim of that class to a PV on the node the pod can use — as `explain` says.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {PODS, pathOf} from '../../src/kube/paths.js'
import {ROOT, runCli, spawnCli} from '../helpers/cli.js'
import {asCurrentProbe} from '../disks/helpers.js'
import {Kube, type Obj} from './kube.js'
import {type LiveNode, podObj, pvcObj, Scenario, usableNodes} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const external = inject('cluster').external
/** Only the fake nodes (no kubelet): the real node, when there is one, answers. */
const fakeOnly = inject('fakeNodes').flatMap((n) => ['--node', n])
let kube: Kube
let nodes: LiveNode[] = []
const tmp = mkdtempSync(join(tmpdir(), 'pvd-disks-'))
let s: Scenario
let cls = ''

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  nodes = await usableNodes(kube)
  s = new Scenario(kube, kubeconfig, 'disks')
  await s.setup()
  cls = s.n('local-disks')
})

afterAll(async () => {
  const pvs = await kube.list<Obj & {spec?: {storageClassName?: string}}>('PersistentVolume')
  await s.cleanup()
  for (const pv of pvs.filter((p) => p.spec?.storageClassName === cls)) {
    await kube.patch('PersistentVolume', pv.metadata!.name!, {metadata: {finalizers: null}}).catch(() => undefined)
    await kube.delete('PersistentVolume', pv.metadata!.name!)
  }
  await kube.delete('StorageClass', cls)
})

/** The recorded reports of two real machines, re-addressed to two nodes of this cluster (read as the current probe would print them). */
function reports(): string[] {
  return ['nvme-server.json', 'san-multipath.json'].map((f, i) => {
    const r = asCurrentProbe(JSON.parse(readFileSync(join(ROOT, 'test', 'disks', 'fixtures', f), 'utf8')))
    r.node = nodes[i].name
    const out = join(tmp, `${nodes[i].name}.json`)
    writeFileSync(out, JSON.stringify(r))
    return out
  })
}

const provision = (args: string[]) =>
  runCli([
    'provision',
    '--kubeconfig',
    kubeconfig,
    '--storage-class',
    cls,
    ...reports().flatMap((r) => ['--from-report', r]),
    ...args,
  ])

describe.skipIf(external)("disks and provision against the control plane's fake nodes (no kubelet)", () => {
  it('disks: every node reports that the probe pod did not start, and no pod is left behind', async () => {
    const t0 = Date.now()
    const r = runCli(['disks', '--kubeconfig', kubeconfig, ...fakeOnly, '--timeout', '5s', '-o', 'json'], {
      timeoutMs: 90_000,
    })
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as {nodes: {name: string; error: string | null}[]}
    expect(report.nodes.map((n) => n.name).sort()).toEqual(expect.arrayContaining(nodes.map((n) => n.name)))
    for (const n of report.nodes) expect(n.error).toMatch(/probe pod did not start/)
    expect(Date.now() - t0).toBeLessThan(60_000)
    const all = await kube.client.list<Obj>(pathOf(PODS))
    expect(all.filter((p) => (p.metadata?.name ?? '').includes('probe'))).toEqual([])
  })

  it('a node whose image cannot be pulled is reported with that reason (the test plays the kubelet), the others still answer', async () => {
    const target = nodes[0].name
    const child = spawnCli(['disks', '--kubeconfig', kubeconfig, ...fakeOnly, '--timeout', '8s', '-o', 'json'])
    // Act as target's kubelet: report the image pull failure on its probe pod's status.
    const pod = await kube.waitFor(
      async () =>
        (
          await kube.client.list<Obj & {spec: {nodeName?: string}}>(pathOf(PODS), {
            labelSelector: 'app.kubernetes.io/name=pv-doctor-probe',
          })
        ).find((p) => p.spec.nodeName === target),
      () => true,
      20_000,
      200,
    )
    expect(pod).toBeTruthy()
    await kube.client.request(
      'PATCH',
      pathOf(PODS, {namespace: pod!.metadata!.namespace, name: pod!.metadata!.name, subresource: 'status'}),
      {
        contentType: 'application/merge-patch+json',
        body: {
          status: {
            phase: 'Pending',
            containerStatuses: [
              {
                name: 'probe',
                image: 'x',
                imageID: '',
                ready: false,
                restartCount: 0,
                state: {waiting: {reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"'}},
              },
            ],
          },
        },
      },
    )
    const r = await child
    const report = JSON.parse(r.stdout) as {nodes: {name: string; error: string | null}[]}
    expect(report.nodes.find((n) => n.name === target)?.error).toMatch(/cannot be pulled \(ImagePullBackOff/)
    expect(
      report.nodes.filter((n) => n.name !== target).every((n) => /probe pod did not start/.test(n.error ?? '')),
    ).toBe(true)
    expect(await kube.client.list(pathOf(PODS), {labelSelector: 'app.kubernetes.io/name=pv-doctor-probe'})).toEqual([])
  })

  it('Ctrl-C while probing: the probe pods are deleted before it exits', async () => {
    const child = spawnCli(['disks', '--kubeconfig', kubeconfig, ...fakeOnly, '--timeout', '60s'])
    const some = await kube.waitFor(
      () => kube.client.list(pathOf(PODS), {labelSelector: 'app.kubernetes.io/name=pv-doctor-probe'}),
      (l) => l.length > 0,
      20_000,
      200,
    )
    expect(some?.length).toBeGreaterThan(0)
    child.child.kill('SIGINT')
    const r = await child
    expect(r.code).toBe(130)
    expect(await kube.client.list(pathOf(PODS), {labelSelector: 'app.kubernetes.io/name=pv-doctor-probe'})).toEqual([])
  })

  it('without --no-recheck it re-probes first, cannot (no kubelet), and writes nothing', async () => {
    const before = (await kube.list<Obj>('PersistentVolume')).length
    const r = provision(['--yes', '--timeout', '5s', '-o', 'json'])
    expect(r.code).toBe(1)
    expect((await kube.list<Obj>('PersistentVolume')).length).toBe(before)
  })

  it('provision --from-report: dry run writes nothing, then creates the class and one PV per eligible disk; re-running changes nothing', async () => {
    const dry = provision(['--no-recheck', '--dry-run', '-o', 'json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(await kube.get('StorageClass', cls)).toBeUndefined()

    const r = provision(['--no-recheck', '--yes', '-o', 'json'])
    expect(r.code, r.stderr).toBe(0)
    const sc = (await kube.get<Obj & {provisioner?: string; volumeBindingMode?: string}>('StorageClass', cls))!
    expect(sc).toMatchObject({provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer'})
    // The PV controller moves each new PV to Available (a status write): compare after it has.
    const created = (await kube.list<Obj & {spec: {storageClassName: string}}>('PersistentVolume')).filter(
      (p) => p.spec.storageClassName === cls,
    )
    for (const pv of created) await kube.waitPVPhase(pv.metadata!.name!, ['Available'])
    const pvs = (
      await kube.list<Obj & {spec: {storageClassName: string; local: {path: string}; volumeMode: string}}>(
        'PersistentVolume',
      )
    ).filter((p) => p.spec.storageClassName === cls)
    expect(pvs.length).toBeGreaterThan(0)
    for (const pv of pvs) {
      expect(pv.spec.local.path).toMatch(/^\/dev\/disk\/by-id\//)
      expect(pv.spec.volumeMode).toBe('Block')
    }
    const again = provision(['--no-recheck', '--yes', '-o', 'json'])
    expect(again.code, again.stderr).toBe(0)
    const after = (
      await kube.list<Obj & {spec: {storageClassName: string}; metadata: {resourceVersion: string}}>('PersistentVolume')
    ).filter((p) => p.spec.storageClassName === cls)
    expect(after.map((p) => `${p.metadata!.name}@${p.metadata.resourceVersion}`).sort()).toEqual(
      pvs.map((p) => `${p.metadata!.name}@${p.metadata!.resourceVersion}`).sort(),
    )
  })

  it("a claim of that class with a pod: the scheduler binds a PV on the pod's node, and explain said so first", async () => {
    const target = nodes[1]
    const claim = pvcObj('data', {cls, size: '1Gi', volumeMode: 'Block'})
    const pod = podObj('app', ['data'], {nodeSelector: {'kubernetes.io/hostname': target.hostname}})
    await s.create(claim)
    await s.create(pod)
    const before = s.explain(['data'])
    const predicted = before.json!.claims[0]
    // The scheduler may already have bound it by the time we ask; either way the PV must be on target.
    const bound = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (c) => c.phase === 'Bound',
      30_000,
    )
    expect(bound?.volumeName).toBeTruthy()
    if (predicted.cause === 'BindPending') expect([predicted.wouldBind, ...predicted.ties]).toContain(bound!.volumeName)
    else expect(predicted.cause).toBe('Bound')
    const pv = (await kube.get<
      Obj & {spec: {nodeAffinity: {required: {nodeSelectorTerms: {matchExpressions: {values: string[]}[]}[]}}}}
    >('PersistentVolume', bound!.volumeName!))!
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([target.hostname])
    const live = s.explain(['data'])
    expect(live.json!.claims[0].cause).toBe('Bound')
  })
})
