/**
 * `explain sts/NAME`, `deploy/NAME` and `rs/NAME` against the real StatefulSet, Deployment,
 * ReplicaSet and ephemeral volume controllers and the real ResourceQuota and LimitRanger
 * admission: a quota that leaves room for one claim only, a StatefulSet of two replicas
 * (Parallel, so the second pod does not wait for the first to be Ready on a fake node), a
 * LimitRange the claim template does not fit, a scale-down whose claim is kept, a Deployment
 * whose second pod and whose ephemeral claim a quota refuses. Live, from a `snapshot` file, and
 * in the human view. Nodes are fake: no kubelet runs the pods, which stay Pending.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import type {WorkloadDiagnosis} from '../../src/diagnose/types.js'
import yaml from 'js-yaml'
import {ROOT, runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi) process.stderr.write('[pv-doctor e2e] workload.test.ts skipped: no harness CSI driver (external cluster)\n')

let kube: Kube
let s: Scenario
let lr: Scenario
let ret: Scenario
let dep: Scenario
type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string; kind?: string}}

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'sts')
  lr = new Scenario(kube, kubeconfig, 'sts-lr')
  ret = new Scenario(kube, kubeconfig, 'sts-ret')
  dep = new Scenario(kube, kubeconfig, 'deploy')
  for (const x of [s, lr, ret, dep]) await x.setup()
})

afterAll(async () => {
  if (!csi) return
  for (const x of [s, lr, ret, dep]) {
    // The owners first, so that no controller re-creates what the cleanup removes.
    for (const kind of ['StatefulSet', 'Deployment', 'ReplicaSet'])
      for (const o of await kube.list<Obj>(kind, x.ns)) await kube.delete(kind, o.metadata!.name!, x.ns)
    for (const p of await kube.list<Obj>('Pod', x.ns)) await kube.delete('Pod', p.metadata!.name!, x.ns)
    await x.cleanup()
  }
})

/** A StorageClass of the harness's CSI driver (Immediate: claims provision without a pod). */
async function csiClass(x: Scenario): Promise<string> {
  const cls = x.n('fast')
  await x.create({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name: cls},
    provisioner: csi!.driver,
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Delete',
  })
  return cls
}

function statefulSet(name: string, cls: string, size: string, spec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {name},
    spec: {
      serviceName: name,
      replicas: 1,
      podManagementPolicy: 'Parallel',
      selector: {matchLabels: {app: name}},
      template: {
        metadata: {labels: {app: name}},
        spec: {terminationGracePeriodSeconds: 0, containers: [{name: 'c', image: 'none'}]},
      },
      volumeClaimTemplates: [
        {
          metadata: {name: 'data'},
          spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: size}}},
        },
      ],
      ...spec,
    },
  }
}

/** A kind's Warning events in a namespace, once one satisfies `pred`. */
/** A ResourceQuota, once its controller has filled its status: until then the quota admission plugin refuses everything the quota covers. */
async function quota(x: Scenario, name: string, hard: Record<string, string>): Promise<void> {
  await x.create({apiVersion: 'v1', kind: 'ResourceQuota', metadata: {name}, spec: {hard}})
  await kube.waitFor(
    () => kube.get<Obj & {status?: {hard?: object}}>('ResourceQuota', name, x.ns),
    (q) => Boolean(q.status?.hard),
    30_000,
  )
}

async function eventFor(x: Scenario, kind: string, reason: string, pred: (m: string) => boolean): Promise<string> {
  const ev = await kube.waitFor(
    async () =>
      (await kube.list<Ev>('Event', x.ns)).filter((e) => e.involvedObject?.kind === kind && e.reason === reason),
    (l) => l.some((e) => pred(e.message ?? '')),
    30_000,
  )
  expect(ev, `no ${kind} ${reason} event`).toBeDefined()
  return ev!.find((e) => pred(e.message ?? ''))!.message!
}

/**
 * `explain TARGET -o json` live, then offline from a `snapshot` of the namespace: the workloads
 * must be equal (but for event counts, which grow while controllers retry). Returns the live one
 * and the human view of the offline one.
 */
function liveEqualsOffline(x: Scenario, target: string, code: number): {w: WorkloadDiagnosis; human: string} {
  const live = runCli(['explain', '-n', x.ns, target, '--kubeconfig', kubeconfig, '-o', 'json'])
  expect(live.code, live.stderr).toBe(code)
  const w = (JSON.parse(live.stdout) as {workloads: WorkloadDiagnosis[]}).workloads[0]
  const snap = runCli(['snapshot', '-n', x.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  expect(snap.code, snap.stderr).toBe(0)
  const file = path.join(cluster.workDir, `${x.ns}-${target.replace('/', '-')}.json`)
  fs.writeFileSync(file, snap.stdout)
  const offline = runCli(['explain', '-n', x.ns, target, '--from-file', file, '-o', 'json'])
  // Each retry of a refused pod is a new event naming a new generated pod name.
  const counts = (v: unknown) =>
    JSON.stringify(v)
      .replace(/ \(x\d+\)/g, '')
      .replace(/pods \\"([a-z0-9-]+)-[a-z0-9]{5}\\" is forbidden/g, 'pods \\"$1-*\\" is forbidden')
  expect(counts((JSON.parse(offline.stdout) as {workloads: WorkloadDiagnosis[]}).workloads)).toBe(counts([w]))
  const human = runCli(['explain', '-n', x.ns, target, '--from-file', file])
  fs.rmSync(file)
  return {w, human: human.stdout}
}

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
    await quota(s, 'storage', {'requests.storage': '1Gi'})
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

describe.skipIf(!csi)('explain sts/NAME: LimitRange and retention', () => {
  it('a claim template below the LimitRange minimum, another above its maximum: the LimitRange, its numbers and the admission text', async () => {
    const cls = await csiClass(lr)
    await lr.create({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: {name: 'pvc-bounds'},
      spec: {limits: [{type: 'PersistentVolumeClaim', min: {storage: '2Gi'}, max: {storage: '5Gi'}}]},
    })
    await lr.create(statefulSet('small', cls, '1Gi'))
    await lr.create(statefulSet('big', cls, '10Gi'))
    // LimitRanger (on by default in kube-apiserver) refuses the claims; the controller says so on each set.
    const small = await eventFor(lr, 'StatefulSet', 'FailedCreate', (m) => m.includes('data-small-0'))
    expect(small).toBe(
      'Create Claim data-small-0 for Pod small-0 in StatefulSet small failed error: persistentvolumeclaims "data-small-0" is forbidden: minimum storage usage per PersistentVolumeClaim is 2Gi, but request is 1Gi',
    )
    const big = await eventFor(lr, 'StatefulSet', 'FailedCreate', (m) => m.includes('data-big-0'))
    expect(big).toContain(
      'persistentvolumeclaims "data-big-0" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi',
    )

    const a = liveEqualsOffline(lr, 'sts/small', 1)
    expect(a.w.claims[0]).toMatchObject({name: 'data-small-0', state: 'missing', severity: 'error'})
    expect(a.w.claims[0].why).toBe(
      'a LimitRange ("pvc-bounds") refused it: the minimum storage per claim is 2Gi, the template asks 1Gi',
    )
    expect(a.w.claims[0].evidence[0]).toContain(
      'minimum storage usage per PersistentVolumeClaim is 2Gi, but request is 1Gi',
    )
    expect(a.w.fix[0]).toContain(`kubectl edit limitrange -n ${lr.ns} pvc-bounds`)
    expect(a.human).toContain('data-small-0: a LimitRange ("pvc-bounds") refused it')

    const b = liveEqualsOffline(lr, 'sts/big', 1)
    expect(b.w.claims[0].why).toBe(
      'a LimitRange ("pvc-bounds") refused it: the maximum storage per claim is 5Gi, the template asks 10Gi',
    )
  })

  it('whenScaled Retain: a scale-down keeps the claim bound to its PV; a scale-up uses it again', async () => {
    const cls = await csiClass(ret)
    await ret.create(
      statefulSet('kv', cls, '1Gi', {
        replicas: 2,
        persistentVolumeClaimRetentionPolicy: {whenScaled: 'Retain', whenDeleted: 'Delete'},
      }),
    )
    const bound = await kube.waitFor(
      async () => Promise.all(['data-kv-0', 'data-kv-1'].map((n) => kube.claimPhase(ret.ns, n))),
      (l) => l.every((c) => c.phase === 'Bound'),
      60_000,
    )
    expect(bound, 'the claims did not bind').toBeDefined()
    const pv1 = bound![1].volumeName!
    await kube.patch('StatefulSet', 'kv', {spec: {replicas: 1}}, ret.ns)
    // The controller deletes pod kv-1 and, with whenScaled Retain, leaves its claim alone.
    await kube.waitFor(
      async () => (await kube.list<Obj>('Pod', ret.ns)).map((p) => p.metadata!.name),
      (l) => !l.includes('kv-1'),
      30_000,
    )
    const down = liveEqualsOffline(ret, 'sts/kv', 0)
    expect(down.w.retention).toEqual({whenDeleted: 'Delete', whenScaled: 'Retain'})
    expect(down.w.claims.map((c) => [c.name, c.state, c.volume])).toEqual([
      ['data-kv-0', 'present', bound![0].volumeName],
      ['data-kv-1', 'retained', pv1],
    ])
    expect(down.w.claims[1].why).toBe(
      `kept from a scale-down (whenScaled: Retain), still bound to PV ${pv1}; a scale-up to 2 replicas reuses it and its data`,
    )
    expect(down.human).toMatch(new RegExp(`data-kv-1\\s+retained, Bound\\s+${pv1}`))

    await kube.patch('StatefulSet', 'kv', {spec: {replicas: 2}}, ret.ns)
    await kube.waitFor(
      async () => (await kube.list<Obj>('Pod', ret.ns)).map((p) => p.metadata!.name),
      (l) => l.includes('kv-1'),
      30_000,
    )
    const up = liveEqualsOffline(ret, 'sts/kv', 0)
    expect(up.w.claims.map((c) => [c.name, c.state, c.volume])).toEqual([
      ['data-kv-0', 'present', bound![0].volumeName],
      ['data-kv-1', 'present', pv1],
    ])
  })
})

describe.skipIf(!csi)('explain deploy/NAME and rs/NAME', () => {
  it('a claim that does not exist, a pod and an ephemeral claim refused by a quota: each named, live = offline', async () => {
    const cls = await csiClass(dep)
    await quota(dep, 'small', {pods: '1', persistentvolumeclaims: '1'})
    await dep.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {name: 'data'},
      spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
    })
    expect(
      await kube.waitFor(
        () => kube.claimPhase(dep.ns, 'data'),
        (c) => c.phase === 'Bound',
        60_000,
      ),
    ).toBeDefined()
    await dep.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'web'},
      spec: {
        replicas: 2,
        selector: {matchLabels: {app: 'web'}},
        template: {
          metadata: {labels: {app: 'web'}},
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{name: 'c', image: 'none'}],
            volumes: [
              {name: 'data', persistentVolumeClaim: {claimName: 'data'}},
              {name: 'gone', persistentVolumeClaim: {claimName: 'gone'}},
              {
                name: 'scratch',
                ephemeral: {
                  volumeClaimTemplate: {
                    spec: {
                      accessModes: ['ReadWriteOnce'],
                      storageClassName: cls,
                      resources: {requests: {storage: '1Gi'}},
                    },
                  },
                },
              },
            ],
          },
        },
      },
    })
    const failedPod = await eventFor(dep, 'ReplicaSet', 'FailedCreate', (m) => m.includes('exceeded quota'))
    expect(failedPod).toMatch(
      /^Error creating: pods "web-[a-z0-9]+-[a-z0-9]+" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1$/,
    )
    const failedClaim = await eventFor(dep, 'Pod', 'FailedBinding', (m) => m.startsWith('ephemeral volume scratch'))
    const pod = /create PVC (web-\S+)-scratch: /.exec(failedClaim)![1]
    expect(failedClaim).toBe(
      `ephemeral volume scratch: create PVC ${pod}-scratch: persistentvolumeclaims "${pod}-scratch" is forbidden: exceeded quota: small, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=1, limited: persistentvolumeclaims=1`,
    )
    const rs = (await kube.list<Obj>('ReplicaSet', dep.ns))[0].metadata!.name!

    const {w, human} = liveEqualsOffline(dep, 'deploy/web', 1)
    expect(w).toMatchObject({kind: 'Deployment', name: 'web', replicas: 2, severity: 'error'})
    expect(w.claims.map((c) => [c.name, c.state])).toEqual([
      ['data', 'present'],
      ['gone', 'missing'],
      [`${pod}-scratch`, 'missing'],
    ])
    expect(w.claims[2].why).toBe(
      'the ephemeral volume controller could not create it: the ResourceQuota "small" refused it: requested persistentvolumeclaims=1, used persistentvolumeclaims=1, limited persistentvolumeclaims=1 (now persistentvolumeclaims: used 1 of 1)',
    )
    expect(w.message).toContain(
      `ReplicaSet ${rs} has 1 of 2 pod(s): the ResourceQuota "small" refused the pod: requested pods=1, used pods=1, limited pods=1 (now pods: used 1 of 1)`,
    )
    expect(w.pods).toEqual([
      expect.objectContaining({name: pod, replicaSet: rs, revision: 'new', phase: 'Pending', severity: 'error'}),
    ])
    expect(w.pods![0].message).toBe(`waits for claim(s) that do not exist: gone, ${pod}-scratch`)
    expect(w.fix).toContain(
      `Raise the quota or free what it counts in ${dep.ns}: kubectl edit resourcequota -n ${dep.ns} small`,
    )
    expect(human).toContain(`deployment ${dep.ns}/web  error  (2 replica(s))`)
    expect(human).toMatch(/gone\s+gone\s+missing/)
    expect(human).toContain(`ReplicaSet ${rs}: Warning FailedCreate: Error creating: pods "web-`)

    // The ReplicaSet on its own says the same about its pods and claims.
    const r = liveEqualsOffline(dep, `rs/${rs}`, 1)
    const rows = (l: WorkloadDiagnosis['claims']) => l.map((c) => [c.name, c.state, c.why])
    expect(rows(r.w.claims)).toEqual(rows(w.claims))
    expect(r.w.pods!.map((p) => p.name)).toEqual([pod])
  })

  it('a user who may not read ReplicaSets: a partial answer that names what was skipped', async () => {
    const rules = (
      yaml.loadAll(fs.readFileSync(path.join(ROOT, 'docs', 'rbac.yaml'), 'utf8'))[0] as {
        rules: {resources: string[]}[]
      }
    ).rules.map((r) => ({...r, resources: r.resources.filter((x) => x !== 'replicasets')}))
    const group = `${dep.ns}-no-rs`
    await dep.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: group},
      rules,
    })
    await dep.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name: group},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: group},
      subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group}],
    })
    const as = ['--kubeconfig', kubeconfig, '--as', 'someone', '--as-group', group]
    const r = await kube.waitFor(
      async () => runCli(['explain', '-n', dep.ns, 'deploy/web', ...as, '-o', 'json']),
      (x) => x.code !== 2,
      10_000,
      500,
    )
    expect(r, 'RBAC did not settle').toBeDefined()
    const d = JSON.parse(r!.stdout) as {skipped: {resource: string; reason: string}[]; workloads: WorkloadDiagnosis[]}
    expect(d.skipped).toEqual([{resource: 'replicasets', reason: 'forbidden'}])
    expect(d.workloads[0].message).toContain('ReplicaSets could not be read: pods are matched by the selector')
    expect(d.workloads[0].pods!).toHaveLength(1)
    expect(r!.stderr).toContain('warning: could not read replicasets (forbidden)')
    const rs = runCli(['explain', '-n', dep.ns, 'rs/anything', ...as])
    expect(rs.code).toBe(2)
    expect(rs.stderr).toMatch(/^error: cannot read replicasets \(forbidden\)/)
  })
})
