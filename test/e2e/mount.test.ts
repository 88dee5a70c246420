/**
 * After attach: the real kubelet on the harness's real node fails to mount a volume and says so
 * in its own words; `explain pod/NAME` classifies the failure, live and from a snapshot. Needs the
 * real node; skipped, with the reason, where there is none.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {REAL_NODE_TOLERATION} from '../cluster/node.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {type ClaimOut, Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const node = cluster.realNode
if (!node) process.stderr.write(`[pv-doctor e2e] mount.test.ts skipped: no real node (${cluster.realNodeSkipped})\n`)

const TMP = mkdtempSync(join(tmpdir(), 'pvd-mount-'))
let kube: Kube
let s: Scenario

type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string}}

beforeAll(async () => {
  if (!node) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'mount')
  await s.setup()
})

afterAll(async () => {
  if (!node) return
  for (const name of ['nopath', 'nodevice']) {
    await kube.delete('Pod', name, s.ns)
    await kube.waitFor(
      () => kube.get('Pod', name, s.ns).then((p) => p ?? null),
      (p) => p === null,
      60_000,
      500,
    )
  }
  await s.cleanup()
})

/** A local PV on the real node at `path`, pre-bound to claim `name`, and a pod there that uses it. */
async function localVolumeAndPod(name: string, path: string, block: boolean): Promise<string> {
  const pvName = s.n(name)
  await s.create({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name: pvName},
    spec: {
      capacity: {storage: '1Gi'},
      accessModes: ['ReadWriteOnce'],
      storageClassName: '',
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: block ? 'Block' : 'Filesystem',
      local: {path},
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [node]}]}],
        },
      },
      claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: s.ns, name},
    },
  })
  await s.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: '',
      volumeMode: block ? 'Block' : 'Filesystem',
      resources: {requests: {storage: '1Gi'}},
    },
  })
  await s.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name},
    spec: {
      tolerations: [REAL_NODE_TOLERATION],
      nodeSelector: {'kubernetes.io/hostname': node},
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'debian:bookworm-slim',
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
          ...(block
            ? {volumeDevices: [{name: 'data', devicePath: '/dev/xdata'}]}
            : {volumeMounts: [{name: 'data', mountPath: '/data'}]}),
        },
      ],
      volumes: [{name: 'data', persistentVolumeClaim: {claimName: name}}],
    },
  })
  return pvName
}

/** The kubelet's first warning of `reason` on pod `name`. */
async function kubeletWarning(name: string, reason: string): Promise<string | undefined> {
  const events = await kube.waitFor(
    async () => (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === name),
    (l) => l.some((e) => e.reason === reason),
    60_000,
    500,
  )
  return events?.find((e) => e.reason === reason)?.message
}

/** explain pod/NAME from a snapshot, compared with live on all but the event's moving count. */
function offlineEqualsLive(name: string, live: ClaimOut & {fix: string[]}): void {
  const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  const file = join(TMP, `${name}.json`)
  writeFileSync(file, snap.stdout)
  const off = JSON.parse(runCli(['explain', '-n', s.ns, `pod/${name}`, '--from-file', file, '-o', 'json']).stdout)
  const strip = (x: ClaimOut & {fix: string[]}) => ({
    cause: x.cause,
    message: x.message,
    fix: x.fix,
    evidence: x.evidence.map((e) => e.replace(/ \(x\d+\)$/, '')),
  })
  expect(strip(off.claims[0])).toEqual(strip(live))
}

describe.skipIf(!node)('mount failures from the real kubelet', () => {
  it('MountFailed (PathMissing): a local PV whose directory does not exist on the node', async () => {
    const missing = `/nonexistent/pv-doctor-e2e/${s.ns}`
    const pvName = await localVolumeAndPod('nopath', missing, false)
    // the kubelet's own words (operation_generator.go, local volume plugin)
    expect(await kubeletWarning('nopath', 'FailedMount')).toBe(
      `MountVolume.NewMounter initialization failed for volume "${pvName}" : path "${missing}" does not exist`,
    )
    const live = s.explain(['pod/nopath'])
    expect(live.stderr).toBe('')
    const c = live.json!.claims[0] as ClaimOut & {fix: string[]}
    expect(c.cause).toBe('MountFailed')
    expect(c.message).toContain(`The kubelet on ${node} cannot mount PV ${pvName} for pod nopath (PathMissing)`)
    expect(c.fix[0]).toContain(`Create ${missing} on ${node}`)
    offlineEqualsLive('nopath', c)
  })

  it('MountFailed (PathMissing): a Block local PV whose device does not exist (FailedMapVolume)', async () => {
    const missing = `/dev/pv-doctor-e2e-${process.pid}`
    const pvName = await localVolumeAndPod('nodevice', missing, true)
    expect(await kubeletWarning('nodevice', 'FailedMapVolume')).toBe(
      `MapVolume.EvalHostSymlinks failed for volume "${pvName}" : lstat ${missing}: no such file or directory`,
    )
    const live = s.explain(['pod/nodevice'])
    const c = live.json!.claims[0] as ClaimOut & {fix: string[]}
    expect(c.cause).toBe('MountFailed')
    expect(c.message).toContain('(PathMissing)')
    expect(c.fix[0]).toContain(`Device ${missing} does not exist on ${node}`)
    offlineEqualsLive('nodevice', c)
  })
})
