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
import {scanPlanner, targetPlanner} from '../../src/diagnose/needs.js'
import {diagnose} from '../../src/diagnose/diagnose.js'
// @ts-expect-error plain ESM module without types
import {generate} from '../bench/generate.mjs'

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
      const [k, v] = term.split('=')
      items = items.filter((o) => String(field(o, k) ?? '') === v)
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
