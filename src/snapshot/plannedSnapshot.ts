/**
 * A snapshot read in rounds: a planner looks at what has been read so far and names the next
 * reads, until it names none. explain uses it to read only what a verdict depends on (one claim
 * in a big cluster; a healthy cluster); the planner itself is the caller's decision logic, this
 * module only reads. Same error rules as liveSnapshot: 403/404 on a list record the kind in
 * `skipped`, anything else is fatal.
 */
import type {KubeClient} from '../kube/client.js'
import {apiVersionOf, pathOf} from '../kube/paths.js'
import {type Source, serverVersion, skippedInOrder, sources, unreadable} from './liveSnapshot.js'
import {emptySnapshot, type ResourceName, RESOURCES, type Snapshot} from './types.js'

/** One read of one kind: a list (in one namespace or all), narrowed by a field selector. */
export interface Read {
  name: ResourceName
  /** undefined = every namespace (and always for cluster-scoped kinds). */
  namespace?: string
  /** e.g. `metadata.name=pv-1`, or `involvedObject.name=data-0,...` for events. */
  fieldSelector?: string
  /**
   * Only learn whether the kind can be read (`limit=1`, nothing kept): so that a shortcut that
   * needs none of its objects still names it in `skipped` exactly as a full read would.
   */
  probe?: boolean
}

/**
 * The next reads given the snapshot so far (the first call sees an empty one); undefined when the
 * snapshot is complete. Reads already made are dropped, so a planner may repeat itself. A round
 * may be a promise (a planner that loads what its later rounds need meanwhile).
 */
export type Planner = (snap: Snapshot) => Read[] | undefined | Promise<Read[] | undefined>

/** A planner needs a handful of rounds; this only stops a planner that never says it is done. */
const MAX_ROUNDS = 12

/** `plan` may still be loading (the engine's modules): /version is asked meanwhile. */
export async function plannedSnapshot(client: KubeClient, plan: Planner | Promise<Planner>): Promise<Snapshot> {
  const snap = emptySnapshot()
  snap.takenAt = new Date().toISOString()
  const skipped = new Map<ResourceName, string>()
  const seen = new Map<ResourceName, Set<string>>()
  const done = new Set<string>()
  const version = serverVersion(client)
  version.catch(() => undefined)
  // An unreachable server fails /version before the plan's modules have loaded: report it then.
  const planner = await Promise.race([plan, version.then(() => new Promise<never>(() => {}))])
  // A planner reads every claim a verdict looks up, in any namespace; one that falls back to a
  // namespace's lists says so by setting this to false.
  snap.allNamespaces = true
  // Probes only name unreadable kinds in `skipped`; no round waits for them. A kind a later round
  // reads for real meets the same 403/404 itself, so the snapshot ends the same.
  const probing: Promise<void>[] = []
  for (let round = 0; round < MAX_ROUNDS; round++) {
    snap.skipped = [...skipped].map(([resource, reason]) => ({resource, reason}))
    const planned = await planner(snap)
    if (!planned) break
    const reads = planned.filter((r) => {
      const key = JSON.stringify([r.name, r.namespace, r.fieldSelector, r.probe])
      if (done.has(key) || (!r.probe && done.has(JSON.stringify([r.name, undefined, undefined, undefined]))))
        return false
      done.add(key)
      return !skipped.has(r.name)
    })
    // The reads first: requests take the pooled connections in the order they are made.
    const real = Promise.all(reads.filter((x) => !x.probe).map((r) => readOne(client, r, snap, skipped, seen)))
    for (const r of reads.filter((x) => x.probe)) {
      const p = readOne(client, r, snap, skipped, seen)
      p.catch(() => undefined)
      probing.push(p)
    }
    await real
  }
  await Promise.all(probing)
  snap.skipped = skippedInOrder(skipped)
  snap.serverVersion = await version
  return snap
}

const sourceOf = (name: ResourceName): Source => sources().find((s) => s.name === name)!

async function readOne(
  client: KubeClient,
  r: Read,
  snap: Snapshot,
  skipped: Map<ResourceName, string>,
  seen: Map<ResourceName, Set<string>>,
): Promise<void> {
  const src = sourceOf(r.name)
  const meta = RESOURCES.find((x) => x.name === r.name)!
  for (const [i, resource] of src.resources.entries()) {
    const path = pathOf(resource, {namespace: r.namespace})
    const query: Record<string, string> = {}
    if (r.fieldSelector) query.fieldSelector = r.fieldSelector
    try {
      if (r.probe) {
        await client.request('GET', path, {query: {...query, limit: '1'}, background: true})
        return
      }
      const items = await client.list<Record<string, unknown>>(path, query)
      const apiVersion = apiVersionOf(resource)
      let ids = seen.get(r.name)
      if (!ids) seen.set(r.name, (ids = new Set()))
      const into = snap[meta.key] as unknown[]
      for (const item of items) {
        const m = item.metadata as {namespace?: string; name?: string; uid?: string} | undefined
        // Rounds may overlap (a namespace's claims, then one of them by name): keep each object once.
        const id = m?.uid || `${m?.namespace ?? ''}/${m?.name ?? ''}`
        if (ids.has(id)) continue
        ids.add(id)
        item.apiVersion ??= apiVersion
        item.kind ??= meta.kind
        into.push(item)
      }
      return
    } catch (error) {
      const why = unreadable(error, i < src.resources.length - 1)
      if (why === 'next') continue
      skipped.set(r.name, why)
      return
    }
  }
}
