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
  await kube.delete('Pod', 'nopath', s.ns)
  await kube.waitFor(
    () => kube.get('Pod', 'nopath', s.ns).then((p) => p ?? null),
    (p) => p === null,
    60_000,
    500,
  )
  await s.cleanup()
})

describe.skipIf(!node)('mount failures from the real kubelet', () => {
  it('MountFailed (PathMissing): a local PV whose directory does not exist on the node', async () => {
    const pvName = s.n('nopath')
    const missing = `/nonexistent/pv-doctor-e2e/${pvName}`
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {name: pvName},
      spec: {
        capacity: {storage: '1Gi'},
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        persistentVolumeReclaimPolicy: 'Retain',
        local: {path: missing},
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [node]}]}],
          },
        },
        claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: s.ns, name: 'nopath'},
      },
    })
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {name: 'nopath'},
      spec: {accessModes: ['ReadWriteOnce'], storageClassName: '', resources: {requests: {storage: '1Gi'}}},
    })
    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'nopath'},
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
            volumeMounts: [{name: 'data', mountPath: '/data'}],
          },
        ],
        volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'nopath'}}],
      },
    })
    const events = await kube.waitFor(
      async () => (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === 'nopath'),
      (l) => l.some((e) => e.reason === 'FailedMount'),
      60_000,
      500,
    )
    const failed = events?.find((e) => e.reason === 'FailedMount')
    // the kubelet's own words (operation_generator.go, local volume plugin)
    expect(failed?.message).toBe(
      `MountVolume.NewMounter initialization failed for volume "${pvName}" : path "${missing}" does not exist`,
    )

    const live = s.explain(['pod/nopath'])
    expect(live.stderr).toBe('')
    const c = live.json!.claims[0] as ClaimOut & {fix: string[]}
    expect(c.cause).toBe('MountFailed')
    expect(c.message).toContain(`The kubelet on ${node} cannot mount PV ${pvName} for pod nopath (PathMissing)`)
    expect(c.fix[0]).toContain(`Create ${missing} on ${node}`)

    const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
    const file = join(TMP, 'nopath.json')
    writeFileSync(file, snap.stdout)
    const off = JSON.parse(runCli(['explain', '-n', s.ns, 'pod/nopath', '--from-file', file, '-o', 'json']).stdout)
    const o = off.claims[0] as ClaimOut & {fix: string[]}
    // the kubelet retries and its event's count moves on: compare all but the quoted count
    const strip = (x: ClaimOut & {fix: string[]}) => ({
      cause: x.cause,
      message: x.message,
      fix: x.fix,
      evidence: x.evidence.map((e) => e.replace(/ \(x\d+\)$/, '')),
    })
    expect(strip(o)).toEqual(strip(c))
  })
})
