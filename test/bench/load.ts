// Loads a synthetic cluster of test/bench/generate.mjs into a fresh test control plane
// (test/cluster): fake nodes with the generated labels and taints, then the objects as a user
// would send them, bindings left for the real PV controller. Used by the live benchmark and by
// test/e2e/targeted.test.ts.
import {type Cluster, startCluster, type FakeNodeSpec} from '../cluster/cluster.js'
import {connect, type KubeClient} from '../../src/kube/client.js'
import * as paths from '../../src/kube/paths.js'
// @ts-expect-error plain ESM module without types
import {generate} from './generate.mjs'

export type Obj = {
  apiVersion: string
  kind: string
  metadata: Record<string, any>
  spec?: any
  status?: any
  [k: string]: any
}

const RESOURCES: Record<string, paths.Resource> = {
  Namespace: {group: '', version: 'v1', plural: 'namespaces', namespaced: false},
  StorageClass: paths.STORAGE_CLASSES,
  CSIDriver: paths.CSI_DRIVERS,
  PersistentVolume: paths.PVS,
  PersistentVolumeClaim: paths.PVCS,
  Pod: paths.PODS,
  Event: paths.EVENTS,
}

/** What a user would have sent: no server-set fields; bindings left for the real controller to complete. */
function forCreate(o: Obj): Obj {
  const {uid: _u, resourceVersion: _r, creationTimestamp: _c, ownerReferences: _o, ...metadata} = o.metadata
  const out: Obj = {...o, metadata}
  delete out.status
  if (o.kind === 'PersistentVolume') {
    const ref = o.spec.claimRef
    // Bound pairs: claimRef without uid (a pre-binding); stale Released PVs keep the old uid.
    if (ref && o.status?.phase === 'Bound')
      out.spec = {
        ...o.spec,
        claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', name: ref.name, namespace: ref.namespace},
      }
    else if (ref)
      out.spec = {
        ...o.spec,
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          name: ref.name,
          namespace: ref.namespace,
          uid: ref.uid,
        },
      }
    const ann = {...metadata.annotations}
    delete ann['pv.kubernetes.io/bound-by-controller']
    out.metadata = {...metadata, annotations: ann}
  }
  if (o.kind === 'PersistentVolumeClaim') {
    const ann = {...metadata.annotations}
    for (const k of ['pv.kubernetes.io/bind-completed', 'pv.kubernetes.io/bound-by-controller']) delete ann[k]
    out.metadata = {...metadata, annotations: ann}
  }
  if (o.kind === 'Event') {
    const {uid: _x, resourceVersion: _y, ...involvedObject} = o.involvedObject
    out.involvedObject = involvedObject
  }
  return out
}

async function createAll(
  client: KubeClient,
  objs: Obj[],
  what: string,
  log: (m: string) => void,
  concurrency = 24,
): Promise<void> {
  const t = Date.now()
  let next = 0
  let done = 0
  const worker = async () => {
    while (next < objs.length) {
      const o = objs[next++]
      for (let attempt = 0; ; attempt++) {
        try {
          await client.request('POST', paths.pathOf(RESOURCES[o.kind], {namespace: o.metadata.namespace}), {
            body: forCreate(o),
          })
          break
        } catch (e: any) {
          if (e?.status?.code === 409) break
          if (attempt >= 5)
            throw new Error(`creating ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${e?.message}`)
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)))
        }
      }
      done++
    }
  }
  await Promise.all(Array.from({length: concurrency}, worker))
  log(`created ${done} ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`)
}

export interface Loaded {
  cluster: Cluster
  client: KubeClient
  gen: any
}

/**
 * Starts the control plane with the size's nodes and loads it; waits (at most `settleMin`
 * minutes) for the PV controller to bind the pre-bound pairs. The caller stops the cluster.
 */
export async function loadCluster(
  size: string,
  opts: {log: (m: string) => void; settleMin: number; pvSyncPeriod: string; controllerQps: number},
): Promise<Loaded> {
  const {log} = opts
  const gen = generate(size)
  const nodeSpecs: FakeNodeSpec[] = gen.nodes.map((n: Obj) => ({
    name: n.metadata.name,
    labels: n.metadata.labels,
    taints: n.spec.taints
      ?.filter((t: any) => t.key !== 'node.kubernetes.io/unschedulable')
      .map(({key, value, effect}: any) => ({key, value, effect})),
    unschedulable: n.spec.unschedulable,
  }))
  log(`starting the control plane with ${nodeSpecs.length} nodes`)
  // no CSI layer: the bench measures binding, and its pods on fake nodes would get VolumeAttachments
  const cluster = await startCluster({
    nodes: nodeSpecs,
    csi: false,
    pvSyncPeriod: opts.pvSyncPeriod,
    controllerQps: opts.controllerQps,
  })
  try {
    log(`up in ${cluster.timings.total} ms at ${cluster.server}`)
    const client = await connect({kubeconfig: cluster.kubeconfig, timeoutMs: 60_000})
    const namespaces = [...new Set([...gen.pvcs, ...gen.pods].map((o: Obj) => o.metadata.namespace))].map((name) => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {name},
    }))
    await createAll(
      client,
      [...namespaces, ...gen.storageClasses, ...gen.csiDrivers] as Obj[],
      'namespaces, classes, drivers',
      log,
    )
    await createAll(client, gen.pvs, 'PVs', log)
    await createAll(client, gen.pvcs, 'PVCs', log)
    await createAll(client, gen.pods, 'pods', log)
    await createAll(client, gen.events, 'events', log)
    // Let the PV controller finish binding the pre-bound pairs (it works through them at its own pace).
    const want = gen.counts.bound
    let last = -1
    let stable = 0
    // The timings compare two readers of the same objects; full binding is realism, not a requirement.
    const deadline = Date.now() + opts.settleMin * 60_000
    while (Date.now() < deadline) {
      const pvcs = await client.list<Obj>(paths.pathOf(paths.PVCS))
      const bound = pvcs.filter((p) => p.status?.phase === 'Bound').length
      log(`${bound}/${want} claims bound`)
      if (bound >= want) break
      stable = bound === last ? stable + 1 : 0
      if (stable >= 6) break
      last = bound
      await new Promise((r) => setTimeout(r, 5000))
    }
    return {cluster, client, gen}
  } catch (e) {
    await cluster.stop()
    throw e
  }
}
