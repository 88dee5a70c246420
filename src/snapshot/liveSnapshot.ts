/**
 * Builds a Snapshot from a live cluster: every list in parallel, paginated. A resource that is
 * forbidden (403) or not served (404) leaves its part empty and is recorded in `skipped`; any
 * other failure (unreachable, unauthorized, timeout) is fatal and reported in one line.
 */
import type {KubeClient} from '../kube/client.js'
import {KubeError} from '../kube/errors.js'
import {type ResourceName, RESOURCES, type Snapshot, emptySnapshot} from './types.js'

export interface Scope {
  /** undefined = all namespaces */
  namespace?: string
}

export interface Source {
  name: ResourceName
  paths: string[]
  query?: Record<string, string>
}

export function sources(scope: Scope): Source[] {
  const ns = scope.namespace
  const core = (plural: string, namespaced: boolean) =>
    namespaced && ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/${plural}` : `/api/v1/${plural}`
  const storage = (version: string, plural: string) => `/apis/storage.k8s.io/${version}/${plural}`
  return [
    {name: 'persistentvolumeclaims', paths: [core('persistentvolumeclaims', true)]},
    {name: 'persistentvolumes', paths: [core('persistentvolumes', false)]},
    {name: 'storageclasses', paths: [storage('v1', 'storageclasses')]},
    {name: 'nodes', paths: [core('nodes', false)]},
    {name: 'pods', paths: [core('pods', true)]},
    // Only events about claims and pods matter; two filtered lists are far smaller than one.
    {
      name: 'events',
      paths: [core('events', true)],
      query: {fieldSelector: 'involvedObject.kind=PersistentVolumeClaim'},
    },
    {name: 'events', paths: [core('events', true)], query: {fieldSelector: 'involvedObject.kind=Pod'}},
    {name: 'csidrivers', paths: [storage('v1', 'csidrivers')]},
    {name: 'csinodes', paths: [storage('v1', 'csinodes')]},
    // Capacity objects live in the driver's namespace, not the claim's: always list them all.
    {name: 'csistoragecapacities', paths: [storage('v1', 'csistoragecapacities')]},
    {
      name: 'volumeattributesclasses',
      paths: [storage('v1', 'volumeattributesclasses'), storage('v1beta1', 'volumeattributesclasses')],
    },
    {name: 'resourcequotas', paths: [core('resourcequotas', true)]},
    {name: 'limitranges', paths: [core('limitranges', true)]},
  ]
}

export async function liveSnapshot(
  client: KubeClient,
  scope: Scope,
  only?: ReadonlySet<ResourceName>,
): Promise<Snapshot> {
  const snap = emptySnapshot()
  const keyOf = new Map(RESOURCES.map((r) => [r.name, r.key]))
  const skipped = new Map<ResourceName, string>()
  await Promise.all(
    sources(scope)
      .filter((s) => !only || only.has(s.name))
      .map(async (src) => {
        for (const [i, path] of src.paths.entries()) {
          try {
            const items = await client.list<Record<string, unknown>>(path, src.query)
            // Lists omit each item's kind; put it back so a written snapshot reads like kubectl's.
            const {kind} = RESOURCES.find((r) => r.name === src.name)!
            const apiVersion = path.startsWith('/api/v1') ? 'v1' : path.split('/').slice(2, 4).join('/')
            for (const item of items) {
              item.apiVersion ??= apiVersion
              item.kind ??= kind
            }
            ;(snap[keyOf.get(src.name)!] as unknown[]).push(...items)
            return
          } catch (error) {
            if (!(error instanceof KubeError)) throw error
            const {code} = error.status
            if (code === 404 && i < src.paths.length - 1) continue
            if (code === 403) skipped.set(src.name, 'forbidden')
            else if (code === 404) skipped.set(src.name, 'not served by this cluster')
            else throw error
            return
          }
        }
      }),
  )
  snap.skipped = [...skipped].map(([resource, reason]) => ({resource, reason}))
  return snap
}
