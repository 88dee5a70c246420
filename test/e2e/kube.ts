/**
 * Test-side access to the real cluster: create objects, wait for the real controllers, clean up.
 * Uses pv-doctor's own raw client (it loads the kubeconfig with @kubernetes/client-node).
 */
import {connect, type KubeClient} from '../../src/kube/client.js'
import {KubeError} from '../../src/kube/errors.js'

export type Obj = {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; [k: string]: unknown}
  [k: string]: unknown
}

const PLURAL: Record<string, {plural: string; group: string; namespaced: boolean}> = {
  PersistentVolume: {plural: 'persistentvolumes', group: '', namespaced: false},
  PersistentVolumeClaim: {plural: 'persistentvolumeclaims', group: '', namespaced: true},
  Pod: {plural: 'pods', group: '', namespaced: true},
  Namespace: {plural: 'namespaces', group: '', namespaced: false},
  StatefulSet: {plural: 'statefulsets', group: 'apps/v1', namespaced: true},
  Node: {plural: 'nodes', group: '', namespaced: false},
  StorageClass: {plural: 'storageclasses', group: 'storage.k8s.io/v1', namespaced: false},
  CSIDriver: {plural: 'csidrivers', group: 'storage.k8s.io/v1', namespaced: false},
  CSIStorageCapacity: {plural: 'csistoragecapacities', group: 'storage.k8s.io/v1', namespaced: true},
  ClusterRole: {plural: 'clusterroles', group: 'rbac.authorization.k8s.io/v1', namespaced: false},
  ClusterRoleBinding: {plural: 'clusterrolebindings', group: 'rbac.authorization.k8s.io/v1', namespaced: false},
  Role: {plural: 'roles', group: 'rbac.authorization.k8s.io/v1', namespaced: true},
  RoleBinding: {plural: 'rolebindings', group: 'rbac.authorization.k8s.io/v1', namespaced: true},
}

export function pathFor(kind: string, namespace?: string, name?: string): string {
  const r = PLURAL[kind]
  if (!r) throw new Error(`unknown kind ${kind}`)
  const base = r.group ? `/apis/${r.group}` : '/api/v1'
  const ns = r.namespaced ? `/namespaces/${namespace ?? 'default'}` : ''
  return `${base}${ns}/${r.plural}${name ? `/${name}` : ''}`
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
