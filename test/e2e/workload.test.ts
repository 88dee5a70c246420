/**
 * `explain sts/NAME` against the real StatefulSet controller and the real ResourceQuota admission:
 * a quota that leaves room for one claim only, a StatefulSet of two replicas (Parallel, so the
 * second pod does not wait for the first to be Ready on a fake node). Live, from a `snapshot`
 * file, and in the human view.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import type {WorkloadDiagnosis} from '../../src/diagnose/types.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi) process.stderr.write('[pv-doctor e2e] workload.test.ts skipped: no harness CSI driver (external cluster)\n')

let kube: Kube
let s: Scenario
type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string; kind?: string}}

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'sts')
  await s.setup()
})

afterAll(async () => {
  if (!csi) return
  await kube.delete('StatefulSet', 'db', s.ns)
  for (const p of await kube.list<Obj>('Pod', s.ns)) await kube.delete('Pod', p.metadata!.name!, s.ns)
  await s.cleanup()
})

describe.skipIf(!csi)('explain sts/NAME', () => {
  it("a ResourceQuota rejects the second replica's claim: explain names the quota and its numbers (live = offline)", async () => {
    const cls = s.n('fast')
    await s.create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {name: cls},
      provisioner: csi!.driver,
      volumeBindingMode: 'Immediate',
      reclaimPolicy: 'Delete',
    })
    await s.create({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: {name: 'storage'},
      spec: {hard: {'requests.storage': '1Gi'}},
    })
    // The quota admission plugin refuses everything a quota covers until the controller has filled its status.
    await kube.waitFor(
      () => kube.get<Obj & {status?: {hard?: object}}>('ResourceQuota', 'storage', s.ns),
      (q) => Boolean(q.status?.hard),
      30_000,
    )
    await s.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {name: 'db'},
      spec: {
        serviceName: 'db',
        replicas: 2,
        podManagementPolicy: 'Parallel',
        selector: {matchLabels: {app: 'db'}},
        template: {
          metadata: {labels: {app: 'db'}},
          spec: {terminationGracePeriodSeconds: 0, containers: [{name: 'c', image: 'none'}]},
        },
        volumeClaimTemplates: [
          {
            metadata: {name: 'data'},
            spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
          },
        ],
      },
    })
    const ev = await kube.waitFor(
      async () =>
        (await kube.list<Ev>('Event', s.ns)).filter(
          (e) => e.involvedObject?.kind === 'StatefulSet' && e.reason === 'FailedCreate',
        ),
      (l) => l.some((e) => e.message?.includes('exceeded quota')),
      30_000,
    )
    const failed = ev!.find((e) => e.message?.includes('exceeded quota'))!.message!
    // Which replica loses the race for the last 1Gi is up to the controller's parallel creates.
    const lost = /Claim (data-db-\d) /.exec(failed)![1]
    expect(failed).toBe(
      `Create Claim ${lost} for Pod ${lost.slice(5)} in StatefulSet db failed error: persistentvolumeclaims "${lost}" is forbidden: exceeded quota: storage, requested: requests.storage=1Gi, used: requests.storage=1Gi, limited: requests.storage=1Gi`,
    )

    const live = runCli(['explain', '-n', s.ns, 'sts/db', '--kubeconfig', kubeconfig, '-o', 'json'])
    expect(live.code, live.stderr).toBe(1)
    const w = (JSON.parse(live.stdout) as {workloads: WorkloadDiagnosis[]}).workloads[0]
    expect(w).toMatchObject({kind: 'StatefulSet', name: 'db', replicas: 2, severity: 'error'})
    const missing = w.claims.find((c) => c.state === 'missing')!
    expect(missing.name).toBe(lost)
    expect(missing.why).toContain(
      'the ResourceQuota "storage" refused it: requested requests.storage=1Gi, used requests.storage=1Gi, limited requests.storage=1Gi (now requests.storage: used 1Gi of 1Gi)',
    )
    expect(w.claims.filter((c) => c.state === 'present')).toHaveLength(1)
    expect(w.fix[0]).toContain(`kubectl edit resourcequota -n ${s.ns} storage`)

    const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
    expect(snap.code, snap.stderr).toBe(0)
    const file = path.join(cluster.workDir, `${s.ns}-sts.json`)
    fs.writeFileSync(file, snap.stdout)
    const offline = runCli(['explain', '-n', s.ns, 'sts/db', '--from-file', file, '-o', 'json'])
    // The controller retries while the test reads: only the events' counts (xN) may have grown.
    const counts = (x: unknown) => JSON.stringify(x).replace(/ \(x\d+\)/g, '')
    expect(counts((JSON.parse(offline.stdout) as {workloads: WorkloadDiagnosis[]}).workloads)).toBe(counts([w]))

    const human = runCli(['explain', '-n', s.ns, 'sts/db', '--from-file', file])
    fs.rmSync(file)
    expect(human.stdout).toContain(`statefulset ${s.ns}/db  error  (2 replica(s))`)
    expect(human.stdout).toMatch(new RegExp(`${lost}\\s+missing`))
    expect(human.stdout).toContain(`${lost}: the ResourceQuota "storage" refused it`)
  })
})
