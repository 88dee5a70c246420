/**
 * Dynamic provisioning diagnosed against the real external-provisioner: its liveness (a
 * provisioner this test owns, with leader election, stopped and started again mid-test) and its
 * ProvisioningFailed texts (failures injected into the harness driver per StorageClass), each
 * answer checked live, offline from a `snapshot` file, and (for the Lease) without permission to
 * read Leases. Harness-only: skipped against an external cluster.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {type OwnProvisioner, startOwnProvisioner} from '../cluster/cluster.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {type ClaimOut, Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi)
  process.stderr.write('[pv-doctor e2e] provisioning.test.ts skipped: no harness CSI driver (external cluster)\n')

/** The test's own provisioner: its Lease is `le-pvd-csi-test` (dots become dashes). */
const OWN = 'le.pvd.csi.test'
const LEASE_SECONDS = 5

let kube: Kube
let s: Scenario
let own: OwnProvisioner | undefined
/** The fake node whose CSINode also lists the test's driver (the provisioner needs a node with its topology). */
const NODE = 'node-c1'
let csiNodeDrivers: unknown[] | undefined

type Claim = ClaimOut & {failure?: {reason: string; code?: string; retry: string}}
type PVC = Obj & {spec: {volumeName?: string}; status?: {phase?: string}}
type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string}}

function sc(name: string, provisioner: string, o: {wffc?: boolean; params?: Record<string, string>} = {}): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name},
    provisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: o.wffc ? 'WaitForFirstConsumer' : 'Immediate',
    ...(o.params ? {parameters: o.params} : {}),
  }
}

function pvc(name: string, cls: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
  }
}

const claimOf = (r: {json?: {claims: ClaimOut[]}}, name: string) =>
  r.json?.claims.find((c) => c.name === name) as Claim | undefined

function explainLive(name: string, extra: string[] = []): Claim | undefined {
  return claimOf(s.explain([name, ...extra]), name)
}

/** `snapshot` of the namespace, then `explain --from-file` on it. */
function explainOffline(name: string): Claim | undefined {
  const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  expect(snap.code, snap.stderr).toBe(0)
  const file = path.join(cluster.workDir, `${s.ns}-${name}-snapshot.json`)
  fs.writeFileSync(file, snap.stdout)
  const r = runCli(['explain', '-n', s.ns, name, '--from-file', file, '-o', 'json'])
  fs.rmSync(file)
  return claimOf({json: r.stdout ? JSON.parse(r.stdout) : undefined}, name)
}

/** What must be equal live and offline: times in messages may differ by the seconds between the two reads. */
const comparable = (c: Claim | undefined) =>
  c && {
    cause: c.cause,
    severity: c.severity,
    failure: c.failure,
    message: c.message.replace(/\d+ (s|min|minutes)\b/g, 'N $1'),
  }

const eventsOf = async (name: string) =>
  (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === name)

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'prov')
  await s.setup()
})

afterAll(async () => {
  if (!csi) return
  if (own && process.env.PV_DOCTOR_E2E_DEBUG)
    process.stderr.write(
      `[pv-doctor e2e] ${own.logFile}:\n${fs.readFileSync(own.logFile, 'utf8').split('\n').slice(-60).join('\n')}\n`,
    )
  await own?.dispose()
  if (csiNodeDrivers) await kube.patch('CSINode', NODE, {spec: {drivers: csiNodeDrivers}})
  await s.cleanup()
})

describe.skipIf(!csi)('provisioner liveness: the real external-provisioner with leader election', () => {
  it('stopped → ProvisionerNotRunning once its Lease goes stale (live = offline; without Lease access a partial answer); started again → Bound', async () => {
    own = await startOwnProvisioner(cluster, {driver: OWN, leaseNamespace: s.ns, leaseDurationSeconds: LEASE_SECONDS})
    // Its CSIDriver, as a deployment registers it (no capacity tracking, no attach).
    await s.create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSIDriver',
      metadata: {name: OWN},
      spec: {attachRequired: false, storageCapacity: false, volumeLifecycleModes: ['Persistent']},
    })
    // What node-driver-registrar would add if the driver's node plugin ran on NODE: without a node
    // that lists the driver, an Immediate claim fails with "no available topology found".
    const cn = await kube.get<Obj & {spec: {drivers: {name: string}[]}}>('CSINode', NODE)
    csiNodeDrivers = cn!.spec.drivers
    await kube.patch('CSINode', NODE, {
      spec: {
        drivers: [...csiNodeDrivers, {name: OWN, nodeID: NODE, topologyKeys: ['topology.kubernetes.io/zone']}],
      },
    })
    const cls = s.n('le')
    await s.create(sc(cls, OWN))
    await s.create(pvc('first', cls))
    expect(
      (
        await kube.waitFor(
          () => kube.get<PVC>('PersistentVolumeClaim', 'first', s.ns),
          (c) => c.status?.phase === 'Bound',
          30_000,
        )
      )?.status?.phase,
    ).toBe('Bound')
    const lease = await kube.get<Obj & {spec?: {holderIdentity?: string; leaseDurationSeconds?: number}}>(
      'Lease',
      'le-pvd-csi-test',
      s.ns,
    )
    expect(lease?.spec?.leaseDurationSeconds).toBe(LEASE_SECONDS)
    expect(lease?.spec?.holderIdentity).toBeTruthy()

    // A user who may read everything in docs/rbac.yaml except Leases.
    const full = (await import('js-yaml')).default.loadAll(
      fs.readFileSync(path.join(import.meta.dirname, '../../docs/rbac.yaml'), 'utf8'),
    )[0] as {rules: {apiGroups: string[]; resources: string[]; verbs: string[]}[]}
    const role = s.n('noleases')
    await s.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: role},
      rules: full.rules
        .map((r) => ({...r, resources: r.resources.filter((x) => x !== 'leases')}))
        .filter((r) => r.resources.length > 0),
    })
    await s.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name: role},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role},
      subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: role}],
    })

    // A running provisioner: the claim it has not finished is in progress, and the Lease says who leads.
    await own.stop()
    const stopped = Date.now()
    await s.create(pvc('second', cls))
    const young = explainLive('second')
    expect(young?.cause, young?.message).toBe('ProvisioningInProgress')

    const down = await kube.waitFor(
      async () => explainLive('second'),
      (c) => c.cause === 'ProvisionerNotRunning',
      LEASE_SECONDS * 1000 + 60_000,
      2000,
    )
    const after = Math.round((Date.now() - stopped) / 1000)
    expect(down?.cause, `not ProvisionerNotRunning ${after} s after the stop`).toBe('ProvisionerNotRunning')
    process.stderr.write(`[pv-doctor e2e] ProvisionerNotRunning ${after} s after the provisioner stopped\n`)
    expect(down!.severity).toBe('error')
    expect(down!.message).toContain(`Lease ${s.ns}/le-pvd-csi-test`)
    expect(down!.evidence[0]).toMatch(/^Lease .*le-pvd-csi-test: held by .*, last renewed \d+ s before the snapshot/)
    expect(comparable(explainOffline('second'))).toEqual(comparable(down))

    // Without permission to read Leases: a partial answer that says so (the claim is young, so in progress).
    const partial = s.explain(['second', '--as', 'someone', '--as-group', role])
    expect(partial.json?.skipped).toContainEqual({resource: 'leases', reason: 'forbidden'})
    const p = claimOf(partial, 'second')
    expect(p?.cause, p?.message).toBe('ProvisioningInProgress')
    expect(p?.message).toContain('Leases could not be read (forbidden)')

    await own.start()
    const bound = await kube.waitFor(
      () => kube.get<PVC>('PersistentVolumeClaim', 'second', s.ns),
      (c) => c.status?.phase === 'Bound',
      60_000,
    )
    expect(bound?.status?.phase).toBe('Bound')
    expect(explainLive('second')?.cause).toBe('Bound')
    const reasons = (await eventsOf('second')).map((e) => e.reason)
    expect(reasons).toEqual(expect.arrayContaining(['ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded']))
  })

  it('a selected node without a CSINode (NoCSINode: rescheduled) or whose CSINode lacks the driver (NodeNotRegistered: kept), from the real sidecar', async () => {
    // The test's driver does not track capacity, so the scheduler selects any node.
    const cls = s.n('le-wffc')
    await s.create(sc(cls, OWN, {wffc: true}))
    const ghost = `${s.ns}-nocsinode`.slice(0, 60)
    await s.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {name: ghost, labels: {'kubernetes.io/hostname': ghost, 'topology.kubernetes.io/zone': 'zone-z'}},
      spec: {taints: [{key: 'pv-doctor.io/e2e', value: s.ns, effect: 'NoSchedule'}]},
    })
    // A Ready node as the fake nodes are (allocatable pods, conditions): the status of node-b1.
    const model = await kube.get<Obj & {status?: object}>('Node', 'node-b1')
    await kube.client.request('PATCH', `/api/v1/nodes/${ghost}/status`, {
      body: {status: model!.status},
      contentType: 'application/merge-patch+json',
    })
    const podOn = (name: string, claim: string, nodeSelector: Record<string, string>, tolerate = false) =>
      s.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name},
        spec: {
          nodeSelector,
          ...(tolerate ? {tolerations: [{key: 'pv-doctor.io/e2e', operator: 'Exists', effect: 'NoSchedule'}]} : {}),
          terminationGracePeriodSeconds: 0,
          containers: [{name: 'c', image: 'none'}],
          volumes: [{name: 'data', persistentVolumeClaim: {claimName: claim}}],
        },
      })
    await s.create(pvc('ghost', cls))
    await s.create(pvc('unregistered', cls))
    await podOn('on-ghost', 'ghost', {'kubernetes.io/hostname': ghost}, true)
    await podOn('on-b1', 'unregistered', {'kubernetes.io/hostname': 'node-b1'})
    for (const [claim, text] of [
      ['ghost', `failed to get selected CSINode ${ghost}: csinode.storage.k8s.io "${ghost}" not found`],
      ['unregistered', 'no topology key found for node node-b1'],
    ]) {
      const ev = await kube.waitFor(
        () => eventsOf(claim),
        (l) => l.some((e) => e.reason === 'ProvisioningFailed'),
        30_000,
      )
      expect(ev?.find((e) => e.reason === 'ProvisioningFailed')?.message).toContain(text)
    }
    const live = s.explain([])
    const g = claimOf(live, 'ghost')
    expect(g?.cause, g?.message).toBe('ProvisioningFailed')
    expect(g?.failure?.reason).toBe('NoCSINode')
    const u = claimOf(live, 'unregistered')
    expect(u?.cause, u?.message).toBe('ProvisioningFailed')
    expect(u?.failure?.reason).toBe('NodeNotRegistered')
    expect(u?.message).toContain('The scheduler selected node node-b1 for the claim')
    expect(comparable(explainOffline('unregistered'))).toEqual(comparable(u))
    await kube.delete('Pod', 'on-ghost', s.ns)
    await kube.delete('Pod', 'on-b1', s.ns)
  })
})

describe.skipIf(!csi)("ProvisioningFailed explained: the real provisioner's texts, classified", () => {
  it('InvalidArgument (infeasible, retries delayed), ResourceExhausted, a timeout, Internal: sub-reason and retry, live = offline', async () => {
    const cases = [
      {
        claim: 'bad-param',
        fail: 'InvalidArgument: parameter "tier" must be one of gold, silver',
        reason: 'Infeasible',
        event:
          'Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = parameter "tier" must be one of gold, silver',
      },
      {
        claim: 'pool-full',
        fail: 'ResourceExhausted: storage pool is full',
        reason: 'ResourceExhausted',
        event: 'rpc error: code = ResourceExhausted desc = storage pool is full',
      },
      {claim: 'slow', fail: 'Hang', reason: 'Timeout', event: 'rpc error: code = DeadlineExceeded desc ='},
      {
        claim: 'broken',
        fail: 'Internal: backend exploded',
        reason: 'DriverError',
        event: 'rpc error: code = Internal desc = backend exploded',
      },
    ]
    for (const c of cases) {
      const cls = s.n(c.claim)
      await s.create(sc(cls, csi!.driver, {params: {'fail-create': c.fail}}))
      await s.create(pvc(c.claim, cls))
    }
    for (const c of cases) {
      const ev = await kube.waitFor(
        () => eventsOf(c.claim),
        (l) => l.some((e) => e.reason === 'ProvisioningFailed'),
        40_000,
      )
      expect(ev?.find((e) => e.reason === 'ProvisioningFailed')?.message).toContain(c.event)
    }
    const live = s.explain([])
    for (const c of cases) {
      const got = claimOf(live, c.claim)
      expect(got?.cause, got?.message).toBe('ProvisioningFailed')
      expect(got?.failure?.reason, got?.message).toBe(c.reason)
      expect(got?.evidence[0]).toContain(c.event)
    }
    expect(claimOf(live, 'bad-param')?.failure?.retry).toMatch(/Retries are delayed/)
    expect(claimOf(live, 'pool-full')?.failure?.retry).toMatch(/exponential backoff/)
    expect(claimOf(live, 'slow')?.failure?.retry).toMatch(/in progress/)
    for (const c of cases) expect(comparable(explainOffline(c.claim))).toEqual(comparable(claimOf(live, c.claim)))
  })
})

describe.skipIf(!csi)('WaitForFirstConsumer: provisioning on the node the scheduler selected', () => {
  it('ResourceExhausted on the selected node: the provisioner removes selected-node, PreBind fails, the pod goes back to scheduling — explain pod/NAME says so (live = offline)', async () => {
    const cls = s.n('wffc-full')
    await s.create(sc(cls, csi!.driver, {wffc: true, params: {'fail-create': 'ResourceExhausted: no room left'}}))
    await s.create(pvc('wffc-full', cls))
    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'wffc-pod'},
      spec: {
        nodeSelector: {'topology.kubernetes.io/zone': 'zone-a'},
        terminationGracePeriodSeconds: 0,
        containers: [{name: 'c', image: 'none'}],
        volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'wffc-full'}}],
      },
    })
    type Pod = Obj & {status?: {conditions?: {type: string; status: string; message?: string}[]}}
    const sentBack = await kube.waitFor(
      () => kube.get<Pod>('Pod', 'wffc-pod', s.ns),
      (p) =>
        Boolean(
          p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.message?.includes('provisioning failed')),
        ),
      40_000,
    )
    const condition = sentBack!.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message!
    expect(condition).toBe(
      'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "wffc-full"',
    )
    const reasons = (await eventsOf('wffc-full')).map((e) => `${e.reason}: ${e.message}`)
    expect(reasons).toContain('ProvisioningFailed: rpc error: code = ResourceExhausted desc = no room left')

    const live = claimOf(s.explain(['pod/wffc-pod']), 'wffc-full')
    expect(live?.cause, live?.message).toBe('ProvisioningFailed')
    expect(live?.failure?.reason).toBe('ResourceExhausted')
    expect(live?.failure?.retry).toContain('removes volume.kubernetes.io/selected-node')
    expect(live?.evidence.join('\n')).toContain('rpc error: code = ResourceExhausted desc = no room left')
    // The claim flips between "node selected" and "sent back" while the scheduler retries: both are said.
    expect(live?.message).toMatch(
      /The scheduler selected node node-a\d for the claim|Pod wffc-pod went back to scheduling/,
    )
    const offline = explainOffline('wffc-full')
    expect(offline?.cause).toBe('ProvisioningFailed')
    expect(offline?.failure).toEqual(live?.failure)
    await kube.delete('Pod', 'wffc-pod', s.ns)
  })
})
