/**
 * Test-side access to the real cluster: create objects, wait for the real controllers, clean up.
 * Uses pv-doctor's own raw client (it loads the kubeconfig with @kubernetes/client-node).
 */
import {connect, type KubeClient} from '../../src/kube/client.js'
import {KubeError} from '../../src/kube/errors.js'
import {
  CSI_DRIVERS,
  CSI_NODES,
  CSI_STORAGE_CAPACITIES,
  DEPLOYMENTS,
  EVENTS,
  LEASES,
  LIMIT_RANGES,
  NAMESPACES,
  NODES,
  PODS,
  PVCS,
  PVS,
  pathOf,
  REPLICA_SETS,
  RESOURCE_QUOTAS,
  type Resource,
  STATEFUL_SETS,
  STORAGE_CLASSES,
  VOLUME_ATTACHMENTS,
} from '../../src/kube/paths.js'

export type Obj = {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; [k: string]: unknown}
  [k: string]: unknown
}

const rbac = (plural: string, namespaced: boolean): Resource => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural,
  namespaced,
})

/** pv-doctor's own resource table (src/kube/paths.ts), plus what only the tests create. */
const RESOURCES: Record<string, Resource> = {
  PersistentVolume: PVS,
  PersistentVolumeClaim: PVCS,
  Pod: PODS,
  Event: EVENTS,
  StatefulSet: STATEFUL_SETS,
  Deployment: DEPLOYMENTS,
  ReplicaSet: REPLICA_SETS,
  Lease: LEASES,
  ResourceQuota: RESOURCE_QUOTAS,
  LimitRange: LIMIT_RANGES,
  VolumeAttachment: VOLUME_ATTACHMENTS,
  CSINode: CSI_NODES,
  Namespace: NAMESPACES,
  Node: NODES,
  StorageClass: STORAGE_CLASSES,
  CSIDriver: CSI_DRIVERS,
  CSIStorageCapacity: CSI_STORAGE_CAPACITIES,
  ClusterRole: rbac('clusterroles', false),
  ClusterRoleBinding: rbac('clusterrolebindings', false),
  Role: rbac('roles', true),
  RoleBinding: rbac('rolebindings', true),
}

export function pathFor(kind: string, namespace?: string, name?: string): string {
  const r = RESOURCES[kind]
  if (!r) throw new Error(`unknown kind ${kind}`)
  return pathOf(r, {namespace: namespace ?? 'default', name})
}

export class Kube {
  private constructor(readonly client: KubeClient) {}

  static async open(kubeconfig: string): Promise<Kube> {
    return new Kube(await connect({kubeconfig, timeoutMs: 30_000}))
  }

  async create<T extends Obj>(o: T): Promise<T> {
    return this.client.request<T>('POST', pathFor(o.kind!, o.metadata?.namespace), {body: o})
  }

  async get<T = Obj>(kind: string, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.client.request<T>('GET', pathFor(kind, namespace, name))
    } catch (e) {
      if (e instanceof KubeError && e.status.code === 404) return undefined
      throw e
    }
  }

  async list<T = Obj>(kind: string, namespace?: string, query?: Record<string, string>): Promise<T[]> {
    return this.client.list<T>(pathFor(kind, namespace), query)
  }

  async delete(kind: string, name: string, namespace?: string): Promise<void> {
    try {
      await this.client.request('DELETE', pathFor(kind, namespace, name), {query: {gracePeriodSeconds: '0'}})
    } catch (e) {
      if (!(e instanceof KubeError && e.status.code === 404)) throw e
    }
  }

  async patch(kind: string, name: string, body: unknown, namespace?: string): Promise<Obj> {
    return this.client.request('PATCH', pathFor(kind, namespace, name), {
      body,
      contentType: 'application/merge-patch+json',
    })
  }

  /**
   * Plays a fake node's kubelet for the attach-detach controller: reports `volumes` (unique volume
   * names, e.g. `kubernetes.io/csi/<driver>^<volumeHandle>`) as in use by the node. While a volume is
   * listed there, the controller does not detach it (it waits for the kubelet to unmount); [] releases.
   */
  async reportVolumesInUse(node: string, volumes: string[]): Promise<void> {
    await this.client.request('PATCH', `/api/v1/nodes/${encodeURIComponent(node)}/status`, {
      body: {status: {volumesInUse: volumes.length ? volumes : null}},
      contentType: 'application/merge-patch+json',
    })
  }

  /** Polls until `pred` holds (returns the value) or the time is up (returns undefined). */
  async waitFor<T>(
    what: () => Promise<T | undefined>,
    pred: (v: T) => boolean,
    timeoutMs: number,
    everyMs = 250,
  ): Promise<T | undefined> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const v = await what()
      if (v !== undefined && pred(v)) return v
      if (Date.now() > end) return undefined
      await new Promise((r) => setTimeout(r, everyMs))
    }
  }

  /** Waits for a PV's phase to settle (the controller moves new PVs to Available or Released). */
  async waitPVPhase(name: string, phases: string[], timeoutMs = 15_000): Promise<Obj | undefined> {
    return this.waitFor(
      () => this.get('PersistentVolume', name),
      (p) => phases.includes((p as {status?: {phase?: string}}).status?.phase ?? ''),
      timeoutMs,
    )
  }

  async claimPhase(ns: string, name: string): Promise<{phase?: string; volumeName?: string}> {
    const c = (await this.get('PersistentVolumeClaim', name, ns)) as
      | {status?: {phase?: string}; spec?: {volumeName?: string}}
      | undefined
    return {phase: c?.status?.phase, volumeName: c?.spec?.volumeName}
  }

  /** Removes a namespace and every cluster-scoped object a scenario made. Pods and claims first. */
  async cleanup(ns: string, clusterScoped: {kind: string; name: string}[]): Promise<void> {
    for (const p of await this.list<Obj>('Pod', ns)) await this.delete('Pod', p.metadata!.name!, ns)
    for (const c of await this.list<Obj>('PersistentVolumeClaim', ns)) {
      await this.patch('PersistentVolumeClaim', c.metadata!.name!, {metadata: {finalizers: null}}, ns).catch(
        () => undefined,
      )
      await this.delete('PersistentVolumeClaim', c.metadata!.name!, ns)
    }
    for (const o of clusterScoped) {
      if (o.kind === 'PersistentVolume')
        await this.patch('PersistentVolume', o.name, {metadata: {finalizers: null}}).catch(() => undefined)
      await this.delete(o.kind, o.name)
    }
    await this.delete('Namespace', ns)
  }
}
