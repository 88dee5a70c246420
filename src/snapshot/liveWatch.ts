/**
 * A Snapshot kept current by watches: one Reflector per collection liveSnapshot lists. Resources
 * that are forbidden (403) or not served (404) are skipped, as in liveSnapshot.
 */
import {KubeError} from '../kube/errors.js'
import {apiVersionOf, pathOf} from '../kube/paths.js'
import {sources, type Scope} from './liveSnapshot.js'
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
          const path = pathOf(resource, {namespace: src.allNamespaces ? undefined : scope.namespace})
          const r = new Reflector(lw, path, src.query ?? {}, onChange, fail)
          try {
            await r.start()
            reflectors.push({name: src.name, r, apiVersion: apiVersionOf(resource)})
            return
          } catch (error) {
            if (!(error instanceof KubeError)) throw error
            const {code} = error.status
            if (code === 404 && i < src.resources.length - 1) continue
            if (code === 403) skipped.set(src.name, 'forbidden')
            else if (code === 404) skipped.set(src.name, 'not served by this cluster')
            else throw error
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
      return snap
    },
    stop() {
      for (const x of reflectors) x.r.stop()
    },
  }
}
