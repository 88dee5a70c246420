/**
 * A Snapshot kept current by watches: one Reflector per collection liveSnapshot lists. Resources
 * that are forbidden (403) or not served (404) are skipped, as in liveSnapshot.
 */
import {apiVersionOf, pathOf} from '../kube/paths.js'
import {type Scope, sources, unreadable} from './liveSnapshot.js'
import {type ListWatch, Reflector} from './reflector.js'
import {type ResourceName, RESOURCES, type Snapshot, emptySnapshot} from './types.js'

export interface LiveWatch {
  /** The current picture (a fresh object each call; items are shared, treat them as read-only). */
  snapshot(): Snapshot
  stop(): void
}

export async function startLiveWatch(
  lw: ListWatch,
  scope: Scope,
  onChange: () => void,
  onError: (e: Error) => void,
): Promise<LiveWatch> {
  const reflectors: {name: ResourceName; r: Reflector; apiVersion: string}[] = []
  const skipped = new Map<ResourceName, string>()
  let failed = false
  const fail = (e: Error) => {
    if (failed) return
    failed = true
    for (const x of reflectors) x.r.stop()
    onError(e)
  }
  try {
    await Promise.all(
      sources().map(async (src) => {
        for (const [i, resource] of src.resources.entries()) {
          const path = pathOf(resource, {namespace: src.namespace ?? (src.allNamespaces ? undefined : scope.namespace)})
          const r = new Reflector(lw, path, src.query ?? {}, onChange, fail)
          try {
            await r.start()
            reflectors.push({name: src.name, r, apiVersion: apiVersionOf(resource)})
            return
          } catch (error) {
            const why = unreadable(error, i < src.resources.length - 1)
            if (why === 'next') continue
            skipped.set(src.name, why)
            return
          }
        }
      }),
    )
  } catch (error) {
    for (const x of reflectors) x.r.stop()
    throw error
  }
  const keyOf = new Map(RESOURCES.map((r) => [r.name, r]))
  return {
    snapshot() {
      const snap = emptySnapshot()
      for (const {name, r, apiVersion} of reflectors) {
        const {key, kind} = keyOf.get(name)!
        const items = r.items() as Record<string, unknown>[]
        for (const item of items) {
          item.apiVersion ??= apiVersion
          item.kind ??= kind
        }
        ;(snap[key] as unknown[]).push(...items)
      }
      snap.skipped = [...skipped].map(([resource, reason]) => ({resource, reason}))
      snap.takenAt = new Date().toISOString()
      return snap
    },
    stop() {
      for (const x of reflectors) x.r.stop()
    },
  }
}
