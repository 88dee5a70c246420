/**
 * `disks` and `provision` on the harness's real node (this machine, kubelet + containerd): the probe
 * pod really runs, reads loop devices this test made, and reports them; `provision --from-report`
 * makes a local PV for the blank one, and a pod of that class mounts it (the kubelet formats it,
 * as it would any blank disk given as a Filesystem PV) and writes a file the test reads back on
 * the host. Needs root and the real node; skipped, with the reason, where there is none.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {REAL_NODE_TOLERATION} from '../cluster/node.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {LoopDevices} from '../helpers/loops.js'
import {Kube, type Obj} from './kube.js'
import {Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const node = cluster.realNode
if (!node) process.stderr.write(`[pv-doctor e2e] realnode.test.ts skipped: no real node (${cluster.realNodeSkipped})\n`)

const loops = new LoopDevices('realnode')
let kube: Kube
let s: Scenario
let cls = ''
/** Where the host has `dev` mounted (the kubelet's mount for the pod), if anywhere. */
function mountPointOf(dev: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ')
    if (post?.split(' ')[1] === dev) return pre.split(' ')[4]
  }
  return undefined
}

beforeAll(async () => {
  if (!node) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'realnode')
  await s.setup()
  cls = s.n('local')
})

afterAll(async () => {
  if (!node) return
  // The pod first, and wait until it is gone: the kubelet then unmounts the device.
  await kube.delete('Pod', 'writer', s.ns)
  await kube.waitFor(
    () => kube.get('Pod', 'writer', s.ns).then((p) => p ?? null),
    (p) => p === null,
    60_000,
    500,
  )
  const pvs = await kube.list<Obj & {spec?: {storageClassName?: string}}>('PersistentVolume')
  await s.cleanup()
  for (const pv of pvs.filter((p) => p.spec?.storageClassName === cls)) {
    await kube.patch('PersistentVolume', pv.metadata!.name!, {metadata: {finalizers: null}}).catch(() => undefined)
    await kube.delete('PersistentVolume', pv.metadata!.name!)
  }
  await kube.delete('StorageClass', cls)
  loops.remove()
})

// Elsewhere the real node may be missing (not root, …) and its tests skip; CI must have it.
it.runIf(process.env.CI === 'true' && !cluster.external)('CI runs the real node', () => {
  expect(node, `no real node: ${cluster.realNodeSkipped}`).not.toBe('')
})

describe.skipIf(!node)('the real node', () => {
  it('is Ready, runs containerd, carries the zone and the taint, and has the CSI driver registered by its kubelet', async () => {
    const n = (await kube.get<
      Obj & {
        spec?: {taints?: {key: string}[]}
        status?: {
          conditions?: {type: string; status: string}[]
          nodeInfo?: {containerRuntimeVersion?: string; kubeletVersion?: string}
        }
      }
    >('Node', node))!
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True')
    expect(n.status?.nodeInfo).toMatchObject({containerRuntimeVersion: 'containerd://2.4.2', kubeletVersion: 'v1.36.3'})
    expect((n.metadata!.labels as Record<string, string>)['topology.kubernetes.io/zone']).toBe('zone-r')
    expect(n.spec?.taints?.map((t) => t.key)).toContain(REAL_NODE_TOLERATION.key)
    const csiNode = await kube.get<{spec: {drivers: {name: string; nodeID: string}[]}}>('CSINode', node)
    expect(csiNode?.spec.drivers).toEqual(
      expect.arrayContaining([expect.objectContaining({name: 'pvd.csi.test', nodeID: node})]),
    )
  })

  let blank = ''
  let ext4 = ''
  it('disks: the probe pod runs on it and reports the loop devices this test made', async () => {
    blank = loops.make(96)
    ext4 = loops.make(64, {fs: 'ext4'})
    const t0 = Date.now()
    const r = runCli(
      [
        'disks',
        '--kubeconfig',
        kubeconfig,
        '--node',
        node,
        '--include-virtual',
        '--min-size',
        '1Mi',
        '--timeout',
        '60s',
        '-o',
        'json',
      ],
      {timeoutMs: 90_000},
    )
    expect(r.stderr).not.toMatch(/probe pod/)
    const report = JSON.parse(r.stdout) as {
      nodes: {
        name: string
        error: string | null
        disks: {path: string; eligible: boolean; reasons: string[]; sizeBytes: number; signatures: string[]}[]
      }[]
    }
    expect(report.nodes.map((x) => [x.name, x.error])).toEqual([[node, null]])
    const byPath = new Map(report.nodes[0].disks.map((d) => [d.path, d]))
    expect(byPath.get(blank)).toMatchObject({eligible: true, sizeBytes: 96 * 1024 * 1024})
    expect(byPath.get(ext4)?.eligible).toBe(false)
    expect(byPath.get(ext4)?.signatures.join(' ')).toContain('ext4')
    process.stderr.write(
      `[pv-doctor e2e] disks on the real node ${node}: ${Date.now() - t0} ms; ${blank} eligible, ${ext4} not (${byPath.get(ext4)?.reasons.join(',')})\n`,
    )
    // no probe pod is left
    const pods = await kube.client.list<Obj>('/api/v1/pods')
    expect(pods.filter((p) => (p.metadata?.name ?? '').startsWith('pv-doctor-probe'))).toEqual([])
  })

  it('provision --from-report makes a local PV for the blank device; a pod of that class mounts it and writes a file the host reads back', async () => {
    expect(blank).not.toBe('')
    // The report made by hand on the node (as root), cut down to this test's blank device: the
    // probe sees every loop device of the machine, and other tests' devices are not ours to offer.
    const full = JSON.parse(
      execFileSync('sh', [join(ROOT, 'scripts', 'probe.sh')], {
        encoding: 'utf8',
        env: {...process.env, NODE_NAME: node},
      }),
    ) as {devices: {path: string}[]}
    full.devices = full.devices.filter((d) => d.path === blank)
    expect(full.devices).toHaveLength(1)
    const reportFile = join(loops.dir, 'report.json')
    writeFileSync(reportFile, JSON.stringify(full))
    // --from-report probes the node again (a probe pod) and compares fingerprints before writing
    const r = runCli(
      [
        'provision',
        '--kubeconfig',
        kubeconfig,
        '--from-report',
        reportFile,
        '--include-virtual',
        '--min-size',
        '1Mi',
        '--storage-class',
        cls,
        '--volume-mode',
        'Filesystem',
        '--fs-type',
        'ext4',
        '--yes',
        '-o',
        'json',
      ],
      {timeoutMs: 120_000},
    )
    expect(r.code, r.stderr).toBe(0)
    const pvs = (
      await kube.list<Obj & {spec: {storageClassName?: string; local?: {path: string}; nodeAffinity?: unknown}}>(
        'PersistentVolume',
      )
    ).filter((p) => p.spec.storageClassName === cls)
    expect(pvs.map((p) => p.spec.local?.path)).toEqual([blank])

    await s.create(pvcObjFor('data', cls, '96Mi'))
    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'writer'},
      spec: {
        tolerations: [REAL_NODE_TOLERATION],
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'w',
            image: 'debian:bookworm-slim',
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo "written by a pod on the real node" > /data/hello.txt && sync && sleep 3600'],
            volumeMounts: [{name: 'data', mountPath: '/data'}],
          },
        ],
        volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'data'}}],
      },
    })
    const pod = await kube.waitFor(
      () => kube.get<Obj & {spec?: {nodeName?: string}; status?: {phase?: string}}>('Pod', 'writer', s.ns),
      (p) => p.status?.phase === 'Running',
      90_000,
      500,
    )
    expect(pod?.spec?.nodeName).toBe(node)
    const claim = await kube.claimPhase(s.ns, 'data')
    expect(claim).toMatchObject({phase: 'Bound', volumeName: pvs[0].metadata!.name})
    // The kubelet formatted the blank device (no fsType on disk yet) and mounted it for the pod.
    const written = await kube.waitFor(
      async () => {
        const mp = mountPointOf(blank)
        try {
          return mp ? readFileSync(join(mp, 'hello.txt'), 'utf8') : undefined
        } catch {
          return undefined
        }
      },
      (t) => t.includes('written by a pod'),
      30_000,
      500,
    )
    expect(written).toBe('written by a pod on the real node\n')
    expect(execFileSync('blkid', ['-o', 'value', '-s', 'TYPE', blank], {encoding: 'utf8'}).trim()).toBe('ext4')
  })
})

function pvcObjFor(name: string, cls: string, size: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: size}}},
  }
}
