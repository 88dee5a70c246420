// The read plans of explain (diagnose/needs.ts): a verdict read with only what its plan asks for
// equals the one a full read gives, claim by claim, on the benchmark's S cluster. The objects
// are served from memory by `servedFrom` (lists, namespaces and the field selectors the plans
// use, as the API server answers them); test/e2e/targeted.test.ts checks the same against the
// real control plane.
import {describe, expect, it} from 'vitest'
import type {KubeClient} from '../../src/kube/client.js'
import {KubeError} from '../../src/kube/errors.js'
import {RESOURCES, type Snapshot, emptySnapshot} from '../../src/snapshot/types.js'
import {plannedSnapshot} from '../../src/snapshot/plannedSnapshot.js'
import {scanPlanner, targetPlanner, workloadPlanner} from '../../src/diagnose/needs.js'
import {diagnose} from '../../src/diagnose/diagnose.js'
// @ts-expect-error plain ESM module without types
import {generate} from '../bench/generate.mjs'
import type {Target} from '../../src/diagnose/diagnose.js'
import {pv, pvc, sc, snap as snapOf} from '../helpers/objects.js'
import {
  DRIVER,
  dataVol,
  deployment,
  ev,
  replicaSet,
  rsPod,
  scratchVol,
  rollingUpdateHeldByOldPod,
} from '../helpers/workloads.js'

type Obj = {metadata?: {namespace?: string; name?: string}; [k: string]: unknown}

/** A read-only API server over plain objects; records every request. */
function servedFrom(snap: Snapshot, opts: {forbidden?: string[]} = {}): KubeClient & {requests: string[]} {
  const requests: string[] = []
  const byPlural = new Map<string, Obj[]>(RESOURCES.map((r) => [r.name, snap[r.key] as unknown as Obj[]]))
  const field = (o: Obj, path: string): unknown =>
    path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o)
  const request = async <T>(_m: string, path: string, ro: {query?: Record<string, string | undefined>} = {}) => {
    requests.push(
      `${path}${ro.query?.fieldSelector ? `?${ro.query.fieldSelector}` : ''}${ro.query?.limit === '1' ? ' (probe)' : ''}`,
    )
    if (path === '/version') return {gitVersion: 'v1.36.0'} as T
    const m = path.match(/^\/apis?\/(?:[^/]+\/)?v1\/(?:namespaces\/([^/]+)\/)?([a-z]+)$/)
    if (!m) throw new KubeError({code: 404, reason: 'NotFound', message: path})
    const [, ns, plural] = m
    if (opts.forbidden?.includes(plural)) throw new KubeError({code: 403, reason: 'Forbidden', message: plural})
    let items = (byPlural.get(plural) ?? []).filter((o) => !ns || o.metadata?.namespace === ns)
    for (const term of (ro.query?.fieldSelector ?? '').split(',').filter(Boolean)) {
      const not = term.includes('!=')
      const [k, v] = term.split(not ? '!=' : '=')
      items = items.filter((o) => (String(field(o, k) ?? '') === v) !== not)
    }
    if (ro.query?.limit === '1') items = items.slice(0, 1)
    return {items: structuredClone(items)} as T
  }
  return {
    server: 'memory',
    namespace: 'default',
    contextName: 'memory',
    requests,
    request,
    list: async <T>(path: string, query?: Record<string, string | undefined>) =>
      ((await request<{items: T[]}>('GET', path, {query})) as {items: T[]}).items,
    listWithVersion: async <T>(path: string, query?: Record<string, string | undefined>) => ({
      items: ((await request<{items: T[]}>('GET', path, {query})) as {items: T[]}).items,
      resourceVersion: '1',
    }),
    watch: () => {
      throw new Error('explain does not watch')
    },
  }
}

function benchS(): Snapshot {
  const g = generate('S')
  const snap = emptySnapshot()
  Object.assign(snap, {
    pvs: g.pvs,
    pvcs: g.pvcs,
    storageClasses: g.storageClasses,
    nodes: g.nodes,
    pods: g.pods,
    events: g.events,
    csiDrivers: g.csiDrivers,
    allNamespaces: true,
    serverVersion: 'v1.36.0',
  })
  return snap
}

const full = benchS()
const fullDiagnosis = (targets: Parameters<typeof diagnose>[1]['targets']) =>
  diagnose(full, {targets, all: false}).claims

describe('explain NAME reads only what the verdict needs', () => {
  it('gives every claim of the S cluster the verdict a full read gives', async () => {
    const causes = new Set<string>()
    for (const pvc of full.pvcs) {
      const target = {kind: 'claim' as const, namespace: pvc.metadata!.namespace!, name: pvc.metadata!.name!}
      const client = servedFrom(full)
      const snap = await plannedSnapshot(client, targetPlanner([target]))
      const [got] = diagnose(snap, {targets: [target], all: false}).claims
      const [want] = fullDiagnosis([target])
      expect(got, `${target.namespace}/${target.name}`).toEqual(want)
      causes.add(want.cause)
    }
    // The comparison covers the bench's mix, not just Bound claims.
    expect(causes.size).toBeGreaterThanOrEqual(8)
  }, 120_000)

  it('gives every claim of each pod the verdict a full read gives (pod/NAME)', async () => {
    const pods = full.pods.filter((_, i) => i % 7 === 0)
    for (const pod of pods) {
      const target = {kind: 'pod' as const, namespace: pod.metadata!.namespace!, name: pod.metadata!.name!}
      const snap = await plannedSnapshot(servedFrom(full), targetPlanner([target]))
      expect(diagnose(snap, {targets: [target], all: false}).claims).toEqual(fullDiagnosis([target]))
    }
  }, 120_000)

  it('reads a Bound claim, its namespace, its PV and its events, and no node, event list or other PV', async () => {
    const pvc = full.pvcs.find((p) => p.status?.phase === 'Bound')!
    const ns = pvc.metadata!.namespace!
    const client = servedFrom(full)
    await plannedSnapshot(client, targetPlanner([{kind: 'claim', namespace: ns, name: pvc.metadata!.name!}]))
    expect(client.requests.filter((r) => !r.endsWith('(probe)')).sort()).toEqual(
      [
        '/version',
        `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
        `/api/v1/namespaces/${ns}/pods`,
        `/api/v1/namespaces/${ns}/events?involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${pvc.metadata!.name}`,
        `/api/v1/persistentvolumes?metadata.name=${pvc.spec!.volumeName}`,
        '/apis/storage.k8s.io/v1/storageclasses',
      ].sort(),
    )
  })
})

describe('explain -A reads pods and events only when a claim needs a diagnosis', () => {
  const scan = async (snap: Snapshot, opts: {forbidden?: string[]} = {}) => {
    const client = servedFrom(snap, opts)
    const got = await plannedSnapshot(client, scanPlanner({}))
    return {client, diagnosis: diagnose(got, {targets: [], all: false})}
  }

  it('on a healthy cluster: claims and PVs only, the rest probed', async () => {
    const healthy = {...full, pvcs: full.pvcs.filter((p) => p.status?.phase === 'Bound')}
    const {client, diagnosis} = await scan(healthy)
    expect(diagnosis).toEqual(diagnose(healthy, {targets: [], all: false}))
    expect(client.requests.filter((r) => r.includes('/pods') && !r.endsWith('(probe)'))).toEqual([])
    expect(client.requests.filter((r) => r.includes('/events') && !r.endsWith('(probe)'))).toEqual([])
  })

  it('names an unreadable kind as a full read does, even when it needs none of its objects', async () => {
    const healthy = {...full, pvcs: full.pvcs.filter((p) => p.status?.phase === 'Bound')}
    const {diagnosis} = await scan(healthy, {forbidden: ['events', 'nodes']})
    expect(diagnosis.skipped.map((s) => s.resource).sort()).toEqual(['events', 'nodes'])
  })

  it('with a few unhealthy claims: those claims in detail, the same answer as a full read', async () => {
    // A broken app or two: the unhealthy claims of two namespaces.
    const pending = full.pvcs.filter(
      (p) => p.status?.phase !== 'Bound' && ['team-0001', 'team-0004'].includes(p.metadata!.namespace!),
    )
    const some = {...full, pvcs: full.pvcs.filter((p) => p.status?.phase === 'Bound' || pending.includes(p))}
    const {client, diagnosis} = await scan(some)
    expect(diagnosis).toEqual(diagnose(some, {targets: [], all: false}))
    expect(diagnosis.claims.length).toBeGreaterThan(5)
    // Only the pods of the unhealthy claims' namespaces.
    expect(client.requests.filter((r) => r.endsWith('/pods')).sort()).toEqual([
      '/api/v1/namespaces/team-0001/pods',
      '/api/v1/namespaces/team-0004/pods',
    ])
  })

  it('with many unhealthy claims: whole lists of pods and claim events, the same answer', async () => {
    const {client, diagnosis} = await scan(full)
    expect(diagnosis).toEqual(diagnose(full, {targets: [], all: false}))
    expect(client.requests).toContain('/api/v1/pods')
    expect(client.requests).toContain('/api/v1/events?involvedObject.kind=PersistentVolumeClaim')
  })

  it('in one namespace: the same answer as a full read of it', async () => {
    for (const namespace of ['team-0000', 'team-0003']) {
      const client = servedFrom(full)
      const got = await plannedSnapshot(client, scanPlanner({namespace}))
      const want = diagnose(
        {...full, allNamespaces: false, pvcs: full.pvcs.filter((p) => p.metadata?.namespace === namespace)},
        {targets: [], namespace, all: false},
      )
      expect(diagnose(got, {targets: [], namespace, all: false})).toEqual(want)
    }
  })
})

describe('explain sts/NAME, deploy/NAME, rs/NAME read the workload, what it owns and what its claims need', () => {
  // The S cluster's objects in other namespaces, so that the plan has something to leave out.
  const noise = (o: Partial<Snapshot>): Snapshot =>
    snapOf({
      ...o,
      pvs: [...(o.pvs ?? []), ...full.pvs.slice(0, 50)],
      pvcs: [...(o.pvcs ?? []), ...full.pvcs.slice(0, 50)],
      pods: [...(o.pods ?? []), ...full.pods.slice(0, 50)],
      storageClasses: [...(o.storageClasses ?? []), ...full.storageClasses],
      nodes: [...(o.nodes ?? []), ...full.nodes.slice(0, 10)],
      allNamespaces: true,
      serverVersion: 'v1.36.0',
    })
  const vols = [dataVol, {name: 'gone', persistentVolumeClaim: {claimName: 'gone'}}, scratchVol]
  const stsObj = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {name: 'db', namespace: 'app', uid: 'uid-db'},
    spec: {
      replicas: 3,
      serviceName: 'db',
      podManagementPolicy: 'Parallel',
      selector: {matchLabels: {app: 'db'}},
      template: {metadata: {labels: {app: 'db'}}, spec: {containers: [{name: 'c', image: 'x'}]}},
      volumeClaimTemplates: [
        {
          metadata: {name: 'data'},
          spec: {accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: {requests: {storage: '1Gi'}}},
        },
      ],
    },
  }
  const cases: {what: string; snap: Snapshot; target: Target}[] = [
    {
      what: 'a rolling update held by the old pod',
      target: {kind: 'deployment', namespace: 'app', name: 'web'},
      snap: noise({
        ...rollingUpdateHeldByOldPod(),
      }),
    },
    {
      what: 'a missing claim, a pod and an ephemeral claim refused by a quota',
      target: {kind: 'replicaset', namespace: 'app', name: 'web-aaa'},
      snap: noise({
        storageClasses: [sc('fast', {provisioner: DRIVER, mode: 'WaitForFirstConsumer'})],
        deployments: [deployment(2, vols)],
        replicaSets: [replicaSet('aaa', 1, 2, vols)],
        pods: [rsPod('web-aaa-1', 'aaa', vols)],
        pvcs: [pvc('data', {cls: 'fast', size: '1Gi'})],
        resourceQuotas: [
          {
            metadata: {name: 'small', namespace: 'app'},
            status: {hard: {pods: '1'}, used: {pods: '1'}},
          },
        ],
        events: [
          ev(
            'ReplicaSet',
            'web-aaa',
            'FailedCreate',
            'Error creating: pods "web-aaa-x" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1',
          ),
          ev(
            'Pod',
            'web-aaa-1',
            'FailedBinding',
            'ephemeral volume scratch: create PVC web-aaa-1-scratch: persistentvolumeclaims "web-aaa-1-scratch" is forbidden: exceeded quota: small, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=1, limited: persistentvolumeclaims=1',
          ),
        ],
      }),
    },
    {
      what: "a StatefulSet's claims: one Bound, one Pending, one refused, one kept beyond the replicas",
      target: {kind: 'statefulset', namespace: 'app', name: 'db'},
      snap: noise({
        storageClasses: [sc('fast', {provisioner: DRIVER})],
        statefulSets: [stsObj],
        pvcs: [
          pvc('data-db-0', {cls: 'fast', size: '1Gi', bound: true, volumeName: 'pv-0'}),
          pvc('data-db-1', {cls: 'fast', size: '1Gi'}),
          pvc('data-db-3', {cls: 'fast', size: '1Gi', bound: true, volumeName: 'pv-3'}),
        ],
        pvs: [
          pv('pv-0', {cls: 'fast', claimRef: {namespace: 'app', name: 'data-db-0', uid: 'uid-data-db-0'}}),
          pv('pv-3', {cls: 'fast', claimRef: {namespace: 'app', name: 'data-db-3', uid: 'uid-data-db-3'}}),
        ],
        limitRanges: [
          {
            metadata: {name: 'min', namespace: 'app'},
            spec: {limits: [{type: 'PersistentVolumeClaim', min: {storage: '1Gi'}}]},
          },
        ],
        events: [
          {
            ...ev(
              'StatefulSet',
              'db',
              'FailedCreate',
              'Create Claim data-db-2 for Pod db-2 in StatefulSet db failed error: persistentvolumeclaims "data-db-2" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 1Gi',
            ),
            involvedObject: {kind: 'StatefulSet', namespace: 'app', name: 'db', uid: 'uid-db'},
          },
        ],
      }),
    },
  ]
  for (const c of cases)
    it(`${c.what}: the answer of a full read`, async () => {
      const want = diagnose(c.snap, {targets: [c.target], all: false})
      const client = servedFrom(c.snap)
      const got = diagnose(await plannedSnapshot(client, workloadPlanner([c.target])), {
        targets: [c.target],
        all: false,
      })
      expect(got).toEqual(want)
      expect(want.workloads![0].severity).toBe('error')
      // Only the workload's namespace is listed whole; other namespaces are not read pod by pod.
      expect(client.requests.filter((r) => r.endsWith('/pods') && !r.includes('/namespaces/app/'))).toEqual(
        c.target.kind === 'deployment' ? ['/api/v1/pods'] : [],
      )
    })

  it('names what it may not read as a full read does', async () => {
    const c = cases[1]
    const client = servedFrom(c.snap, {forbidden: ['replicasets', 'events']})
    const got = await plannedSnapshot(client, workloadPlanner([{kind: 'deployment', namespace: 'app', name: 'web'}]))
    expect(got.skipped.map((x) => x.resource).sort()).toEqual(['events', 'replicasets'])
  })
})

describe('explain pv/NAME reads only what the verdict needs', () => {
  // The bench's PVs, and PVs on their way out: deleted while Bound, Released under Delete with a
  // failed delete, with a provisioner that is down or alive, Released under Retain.
  const now = new Date().toISOString()
  const world = benchS()
  world.takenAt = now
  const driver = 'pvd.csi.example.com'
  const mk = (name: string, o: {phase: string; reclaim: string; deleting?: boolean; claim: string; uid: string}) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      uid: `uid-${name}`,
      annotations: {'pv.kubernetes.io/provisioned-by': driver},
      finalizers: ['kubernetes.io/pv-protection', 'external-provisioner.volume.kubernetes.io/finalizer'],
      ...(o.deleting ? {deletionTimestamp: now} : {}),
    },
    spec: {
      capacity: {storage: '1Gi'},
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: o.reclaim,
      csi: {driver, volumeHandle: name},
      claimRef: {namespace: 'pvt', name: o.claim, uid: o.uid},
    },
    status: {phase: o.phase},
  })
  world.pvcs.push({
    metadata: {
      name: 'data',
      namespace: 'pvt',
      uid: 'uid-data',
      annotations: {'pv.kubernetes.io/bind-completed': 'yes'},
    },
    spec: {volumeName: 'pvt-protected', accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}},
    status: {phase: 'Bound'},
  })
  world.pods.push({
    metadata: {name: 'web-0', namespace: 'pvt'},
    spec: {
      nodeName: world.nodes[0].metadata!.name,
      containers: [],
      volumes: [{name: 'd', persistentVolumeClaim: {claimName: 'data'}}],
    },
    status: {phase: 'Running'},
  })
  world.pvs.push(
    mk('pvt-protected', {phase: 'Bound', reclaim: 'Delete', deleting: true, claim: 'data', uid: 'uid-data'}) as never,
    mk('pvt-faildel', {phase: 'Released', reclaim: 'Delete', claim: 'gone', uid: 'uid-gone'}) as never,
    mk('pvt-retain', {phase: 'Released', reclaim: 'Retain', claim: 'gone2', uid: 'uid-gone2'}) as never,
    mk('pvt-claimgone', {phase: 'Bound', reclaim: 'Delete', claim: 'gone3', uid: 'uid-gone3'}) as never,
  )
  world.events.push({
    metadata: {name: 'pvt-faildel.1', namespace: 'default'},
    involvedObject: {kind: 'PersistentVolume', name: 'pvt-faildel', uid: 'uid-pvt-faildel'},
    reason: 'VolumeFailedDelete',
    message: 'rpc error: code = Internal desc = backend said no',
    type: 'Warning',
    source: {component: `${driver}_ctrl-0`},
    lastTimestamp: now as unknown as Date,
  })
  const lease = {
    metadata: {name: 'pvd-csi-example-com', namespace: 'kube-system'},
    spec: {holderIdentity: 'ctrl-0', leaseDurationSeconds: 15, renewTime: now as unknown as Date},
  }
  world.leases.push(lease)
  /** The provisioner renews its Lease just now: a planned read (taken now) and the full one agree it is alive. */
  const renew = () => {
    const t = new Date().toISOString()
    world.takenAt = t
    lease.spec.renewTime = t as unknown as Date
  }

  it('gives every PV the verdict a full read gives', async () => {
    const causes = new Set<string>()
    const pvs = world.pvs.filter((p, i) => i % 5 === 0 || p.metadata!.name!.startsWith('pvt-'))
    for (const pv of pvs) {
      const target = {kind: 'volume' as const, namespace: 'default', name: pv.metadata!.name!}
      renew()
      const snap = await plannedSnapshot(servedFrom(world), targetPlanner([target]))
      const got = diagnose(snap, {targets: [target], all: false}).volumes
      const want = diagnose(world, {targets: [target], all: false}).volumes
      expect(got, target.name).toEqual(want)
      causes.add(want![0].cause)
    }
    expect([...causes]).toEqual(
      expect.arrayContaining(['VolumeProtected', 'VolumeFailedDelete', 'VolumeReleasedRetain', 'VolumeClaimGone']),
    )
  }, 120_000)

  it("reads the PV, its events, its claim's namespace and the provisioner's Lease; no other PV", async () => {
    const client = servedFrom(world)
    await plannedSnapshot(client, targetPlanner([{kind: 'volume', namespace: 'default', name: 'pvt-protected'}]))
    const reads = client.requests.filter((r) => !r.endsWith('(probe)'))
    expect(reads).toEqual(
      expect.arrayContaining([
        '/api/v1/persistentvolumes?metadata.name=pvt-protected',
        '/api/v1/namespaces/default/events?involvedObject.kind=PersistentVolume,involvedObject.name=pvt-protected',
        '/api/v1/namespaces/pvt/persistentvolumeclaims',
        '/api/v1/namespaces/pvt/pods',
        '/api/v1/nodes',
        '/apis/coordination.k8s.io/v1/leases?metadata.namespace!=kube-node-lease',
      ]),
    )
    expect(reads).not.toContain('/api/v1/persistentvolumes')
    expect(reads.filter((r) => r.includes('/pods')).length).toBe(1)
  })

  it('a user who may not read events gets a partial answer that names them', async () => {
    const target = {kind: 'volume' as const, namespace: 'default', name: 'pvt-faildel'}
    renew()
    const snap = await plannedSnapshot(servedFrom(world, {forbidden: ['events']}), targetPlanner([target]))
    const d = diagnose(snap, {targets: [target], all: false})
    expect(d.skipped).toContainEqual({resource: 'events', reason: 'forbidden'})
    // without the event, the delete is only known to be pending
    expect(d.volumes![0].cause).toBe('VolumeDeletePending')
  })
})
