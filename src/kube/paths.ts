/**
 * Where each resource lives on the API server: every path pv-doctor reads or writes is built here,
 * so a group, version or plural is spelled once.
 */

export interface Resource {
  /** '' for the core group (/api/v1). */
  group: string
  version: string
  plural: string
  namespaced: boolean
}

const core = (plural: string, namespaced: boolean): Resource => ({group: '', version: 'v1', plural, namespaced})
const storage = (plural: string, namespaced = false, version = 'v1'): Resource => ({
  group: 'storage.k8s.io',
  version,
  plural,
  namespaced,
})

export const PVS = core('persistentvolumes', false)
export const PVCS = core('persistentvolumeclaims', true)
export const NODES = core('nodes', false)
export const NAMESPACES = core('namespaces', false)
export const PODS = core('pods', true)
export const EVENTS = core('events', true)
export const RESOURCE_QUOTAS = core('resourcequotas', true)
export const LIMIT_RANGES = core('limitranges', true)
export const STATEFUL_SETS: Resource = {group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true}
export const DEPLOYMENTS: Resource = {group: 'apps', version: 'v1', plural: 'deployments', namespaced: true}
export const REPLICA_SETS: Resource = {group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true}
export const STORAGE_CLASSES = storage('storageclasses')
export const CSI_DRIVERS = storage('csidrivers')
export const CSI_NODES = storage('csinodes')
export const VOLUME_ATTACHMENTS = storage('volumeattachments')
export const CSI_STORAGE_CAPACITIES = storage('csistoragecapacities', true)
export const VOLUME_ATTRIBUTES_CLASSES = storage('volumeattributesclasses')
/** Served before VolumeAttributesClass reached v1 (Kubernetes < 1.34). */
export const VOLUME_ATTRIBUTES_CLASSES_BETA = storage('volumeattributesclasses', false, 'v1beta1')

export const LEASES: Resource = {group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true}

/** The apiVersion of the resource's objects: `v1`, `storage.k8s.io/v1`, ... */
export function apiVersionOf(r: Resource): string {
  return r.group ? `${r.group}/${r.version}` : r.version
}

/**
 * The collection (no name), one object, or one of its subresources (`log`, `status`). A namespaced
 * resource without a namespace is the list across all namespaces.
 */
export function pathOf(r: Resource, o: {namespace?: string; name?: string; subresource?: string} = {}): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`
  const ns = r.namespaced && o.namespace ? `/namespaces/${encodeURIComponent(o.namespace)}` : ''
  const name = o.name === undefined ? '' : `/${encodeURIComponent(o.name)}${o.subresource ? `/${o.subresource}` : ''}`
  return `${base}${ns}/${r.plural}${name}`
}
