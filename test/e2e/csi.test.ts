/**
 * Dynamic provisioning, attach and mount through real parts: the harness's CSI driver (pvd-csi)
 * behind the real external-provisioner and external-attacher, KCM's attach-detach controller,
 * the StatefulSet controller, and the real node's kubelet. Failures are injected per
 * StorageClass parameter (and switched at run time per `fail-key`), so nothing here disturbs
 * other tests. Harness-only: skipped against an external cluster; the real-node parts skip
 * where there is no real node.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {REAL_NODE_TOLERATION} from '../cluster/node.js'
import {Kube, type Obj} from './kube.js'
import {Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
const node = cluster.realNode
if (!csi) process.stderr.write('[pv-doctor e2e] csi.test.ts skipped: no harness CSI driver (external cluster)\n')
else if (!node)
  process.stderr.write(`[pv-doctor e2e] csi.test.ts: real-node cases skipped (${cluster.realNodeSkipped})\n`)

let kube: Kube
let s: Scenario

type PVC = Obj & {spec: {volumeName?: string}; status?: {phase?: string}}
type PV = Obj & {
  spec: {
    csi?: {driver: string; volumeHandle: string}
    nodeAffinity?: {required?: {nodeSelectorTerms: {matchExpressions: {key: string; values: string[]}[]}[]}}
  }
}
type VA = Obj & {
  spec: {attacher: string; nodeName: string; source: {persistentVolumeName?: string}}
  status?: {attached?: boolean; attachError?: {message?: string}}
}
type Ev = Obj & {reason?: string; message?: string; type?: string; involvedObject?: {name?: string; kind?: string}}

function sc(name: string, o: {wffc?: boolean; params?: Record<string, string>; zones?: string[]} = {}): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name},
    provisioner: csi!.driver,
    reclaimPolicy: 'Delete',
    volumeBindingMode: o.wffc ? 'WaitForFirstConsumer' : 'Immediate',
    ...(o.params ? {parameters: o.params} : {}),
    ...(o.zones
      ? {allowedTopologies: [{matchLabelExpressions: [{key: 'topology.kubernetes.io/zone', values: o.zones}]}]}
      : {}),
  }
}

function pvc(name: string, cls: string, size = '1Gi'): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: size}}},
  }
}

/** A pod on the real node that writes `text` into its volume and keeps running. */
/**
 * A WaitForFirstConsumer class of the driver (with `params`), a claim NAME of it, and a pod NAME
 * that uses the claim on the fake node `nodeSelector` picks (no kubelet: it stays Pending).
 */
async function wffcClaimAndPod(
  name: string,
  nodeSelector: Record<string, string>,
  params?: Record<string, string>,
): Promise<void> {
  const cls = s.n(name)
  await s.create(sc(cls, {wffc: true, params}))
  await s.create(pvc(name, cls))
  await s.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name},
    spec: {
      nodeSelector,
      terminationGracePeriodSeconds: 0,
      containers: [{name: 'c', image: 'none'}],
      volumes: [{name: 'data', persistentVolumeClaim: {claimName: name}}],
    },
  })
}

function writerSpec(claimVolume: object, text: string, extra: object = {}) {
  return {
    tolerations: [REAL_NODE_TOLERATION],
    nodeSelector: {'kubernetes.io/hostname': node},
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'w',
        image: 'debian:bookworm-slim',
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', `echo "${text}" > /data/hello.txt && sleep 3600`],
        volumeMounts: [{name: 'data', mountPath: '/data'}],
      },
    ],
    ...claimVolume,
    ...extra,
  }
}

const bound = (name: string) =>
  kube.waitFor(
    () => kube.get<PVC>('PersistentVolumeClaim', name, s.ns),
    (c) => c.status?.phase === 'Bound',
    30_000,
  )
const running = (name: string) =>
  kube.waitFor(
    () => kube.get<Obj & {spec?: {nodeName?: string}; status?: {phase?: string}}>('Pod', name, s.ns),
    (p) => p.status?.phase === 'Running',
    90_000,
    500,
  )
const attachmentOf = (pv: string) =>
  kube.waitFor(
    async () => (await kube.list<VA>('VolumeAttachment')).find((v) => v.spec.source.persistentVolumeName === pv),
    (v) => v.status?.attached === true,
    30_000,
  )
const eventsOf = async (name: string) =>
  (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === name)
const hostFile = (pv: PV) => path.join(csi!.dataDir, pv.spec.csi!.volumeHandle, 'hello.txt')

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'csi')
  await s.setup()
})

afterAll(async () => {
  if (!csi) return
  // StatefulSet first (else it recreates its pods), then pods, so the kubelet unmounts and the volumes detach.
  await kube.client.request('DELETE', `/apis/apps/v1/namespaces/${s.ns}/statefulsets/db`).catch(() => undefined)
  for (const p of await kube.list<Obj>('Pod', s.ns)) await kube.delete('Pod', p.metadata!.name!, s.ns)
  await kube.waitFor(
    () => kube.list<Obj>('Pod', s.ns),
    (l) => l.length === 0,
    60_000,
    500,
  )
  await s.cleanup()
  fs.rmSync(path.join(csi.failDir, s.ns), {recursive: true, force: true})
})

describe.skipIf(!csi)('dynamic provisioning through the real external-provisioner', () => {
  it('the driver publishes capacity per zone for a WaitForFirstConsumer class (CSIStorageCapacity)', async () => {
    const cls = s.n('cap')
    await s.create(sc(cls, {wffc: true, params: {capacity: 'zone-a=1Gi,zone-b=2Gi,*=0'}}))
    const caps = await kube.waitFor(
      async () =>
        (
          await kube.list<
            Obj & {storageClassName: string; capacity?: string; nodeTopology?: {matchLabels?: Record<string, string>}}
          >('CSIStorageCapacity', 'kube-system')
        ).filter((c) => c.storageClassName === cls),
      // one object per zone, published one after another
      (l) =>
        ['zone-a=1Gi', 'zone-b=2Gi', 'zone-c=0'].every((want) =>
          l.some((c) => `${c.nodeTopology?.matchLabels?.['topology.kubernetes.io/zone']}=${c.capacity}` === want),
        ),
      30_000,
    )
    expect(caps).toBeDefined()
    const byZone = Object.fromEntries(
      caps!.map((c) => [c.nodeTopology?.matchLabels?.['topology.kubernetes.io/zone'], c.capacity]),
    )
    expect(byZone).toMatchObject({'zone-a': '1Gi', 'zone-b': '2Gi', 'zone-c': '0'})
  })

  it("an injected CreateVolume failure is the provisioner's ProvisioningFailed event, verbatim", async () => {
    const cls = s.n('full')
    await s.create(sc(cls, {params: {'fail-create': 'ResourceExhausted: storage pool is full'}}))
    await s.create(pvc('full', cls))
    const ev = await kube.waitFor(
      () => eventsOf('full'),
      (l) => l.some((e) => e.reason === 'ProvisioningFailed'),
      30_000,
    )
    expect(ev?.find((e) => e.reason === 'ProvisioningFailed')?.message).toBe(
      'rpc error: code = ResourceExhausted desc = storage pool is full',
    )
    expect((await kube.get<PVC>('PersistentVolumeClaim', 'full', s.ns))?.status?.phase).toBe('Pending')
  })

  it('a failure switched on and off at run time (fail-key): the claim binds once it is off', async () => {
    const cls = s.n('switch')
    const dir = path.join(csi!.failDir, s.ns)
    fs.mkdirSync(dir, {recursive: true})
    fs.writeFileSync(path.join(dir, 'CreateVolume'), 'Unavailable: backend down for maintenance')
    await s.create(sc(cls, {params: {'fail-key': s.ns}}))
    await s.create(pvc('switched', cls))
    const ev = await kube.waitFor(
      () => eventsOf('switched'),
      (l) => l.some((e) => e.reason === 'ProvisioningFailed'),
      30_000,
    )
    expect(ev?.find((e) => e.reason === 'ProvisioningFailed')?.message).toBe(
      'rpc error: code = Unavailable desc = backend down for maintenance',
    )
    fs.rmSync(path.join(dir, 'CreateVolume'))
    expect(
      (
        await kube.waitFor(
          () => kube.get<PVC>('PersistentVolumeClaim', 'switched', s.ns),
          (c) => c.status?.phase === 'Bound',
          60_000,
        )
      )?.status?.phase,
    ).toBe('Bound')
  })

  it('a WaitForFirstConsumer claim of a pod on a fake node is provisioned in its zone and attached (VolumeAttachment attached: true)', async () => {
    await wffcClaimAndPod('on-fake', {'topology.kubernetes.io/zone': 'zone-c'})
    const claim = await bound('on-fake')
    const pv = (await kube.get<PV>('PersistentVolume', claim!.spec.volumeName!))!
    expect(pv.spec.nodeAffinity?.required?.nodeSelectorTerms[0].matchExpressions[0]).toMatchObject({
      key: 'topology.kubernetes.io/zone',
      values: ['zone-c'],
    })
    const va = await attachmentOf(pv.metadata!.name!)
    expect(va?.spec).toMatchObject({attacher: csi!.driver, nodeName: 'node-c1'})

    // The test plays node-c1's kubelet: while the volume is in use there, deleting the pod does not detach it.
    const unique = `kubernetes.io/csi/${csi!.driver}^${pv.spec.csi!.volumeHandle}`
    await kube.reportVolumesInUse('node-c1', [unique])
    await kube.delete('Pod', 'on-fake', s.ns)
    await new Promise((r) => setTimeout(r, 3000))
    expect((await kube.get<VA>('VolumeAttachment', va!.metadata!.name!))?.status?.attached).toBe(true)
    // "unmounted": the controller detaches, the attacher removes the attachment
    await kube.reportVolumesInUse('node-c1', [])
    expect(
      await kube.waitFor(
        () => kube.get<VA>('VolumeAttachment', va!.metadata!.name!).then((v) => v ?? null),
        (v) => v === null,
        30_000,
      ),
    ).toBeNull()
  })
})

describe.skipIf(!csi)('attach and delete through the real external-attacher and external-provisioner', () => {
  it('an injected ControllerPublish failure: the VolumeAttachment carries it, and the pod gets FailedAttachVolume from the attach-detach controller', async () => {
    await wffcClaimAndPod(
      'noattach',
      {'kubernetes.io/hostname': 'node-b1'},
      {'fail-attach': 'Internal: backend unreachable while attaching'},
    )
    const claim = await bound('noattach')
    const pv = claim!.spec.volumeName!
    const va = await kube.waitFor(
      async () => (await kube.list<VA>('VolumeAttachment')).find((v) => v.spec.source.persistentVolumeName === pv),
      (v) => Boolean(v.status?.attachError),
      30_000,
    )
    expect(va?.status).toMatchObject({
      attached: false,
      attachError: {message: 'rpc error: code = Internal desc = backend unreachable while attaching'},
    })
    const ev = await kube.waitFor(
      () => eventsOf('noattach'),
      (l) => l.some((e) => e.reason === 'FailedAttachVolume'),
      30_000,
    )
    expect(ev?.find((e) => e.reason === 'FailedAttachVolume')?.message).toBe(
      `AttachVolume.Attach failed for volume "${pv}" : rpc error: code = Internal desc = backend unreachable while attaching`,
    )
    await kube.delete('Pod', 'noattach', s.ns)
  })

  it('deleting a claim deletes its volume (reclaimPolicy Delete); an injected DeleteVolume failure leaves the PV Released with VolumeFailedDelete', async () => {
    const ok = s.n('del')
    const bad = s.n('nodelete')
    await s.create(sc(ok))
    await s.create(sc(bad, {params: {'fail-delete': 'FailedPrecondition: volume has snapshots'}}))
    await s.create(pvc('del', ok))
    await s.create(pvc('nodelete', bad))
    const pvOk = (await bound('del'))!.spec.volumeName!
    const pvBad = (await bound('nodelete'))!.spec.volumeName!
    await kube.delete('PersistentVolumeClaim', 'del', s.ns)
    await kube.delete('PersistentVolumeClaim', 'nodelete', s.ns)
    expect(
      await kube.waitFor(
        () => kube.get('PersistentVolume', pvOk).then((p) => p ?? null),
        (p) => p === null,
        30_000,
      ),
    ).toBeNull()
    const ev = await kube.waitFor(
      async () => (await kube.list<Ev>('Event', 'default')).filter((e) => e.involvedObject?.name === pvBad),
      (l) => l.some((e) => e.reason === 'VolumeFailedDelete'),
      30_000,
    )
    expect(ev?.find((e) => e.reason === 'VolumeFailedDelete')?.message).toBe(
      'rpc error: code = FailedPrecondition desc = volume has snapshots',
    )
    expect((await kube.get<Obj & {status?: {phase?: string}}>('PersistentVolume', pvBad))?.status?.phase).toBe(
      'Released',
    )
    // leave nothing: the test removes the PV the driver refused to delete
    await kube.patch('PersistentVolume', pvBad, {metadata: {finalizers: null}})
    await kube.delete('PersistentVolume', pvBad)
  })
})

describe.skipIf(!csi || !node)('dynamic volumes on the real node: provisioned, attached, mounted', () => {
  it('Immediate: the claim binds first, then a pod on the real node gets it attached and mounted', async () => {
    const cls = s.n('imm')
    await s.create(sc(cls, {zones: ['zone-r']}))
    await s.create(pvc('imm', cls))
    const claim = await bound('imm')
    const pv = (await kube.get<PV>('PersistentVolume', claim!.spec.volumeName!))!
    expect(pv.metadata!.annotations).toMatchObject({'pv.kubernetes.io/provisioned-by': csi!.driver})
    const reasons = (await eventsOf('imm')).map((e) => e.reason)
    expect(reasons).toEqual(expect.arrayContaining(['Provisioning', 'ProvisioningSucceeded']))

    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'imm-writer'},
      spec: writerSpec({volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'imm'}}]}, 'immediate'),
    })
    const pod = await running('imm-writer')
    expect(pod?.spec?.nodeName).toBe(node)
    const va = await attachmentOf(pv.metadata!.name!)
    expect(va?.spec.nodeName).toBe(node)
    const text = await kube.waitFor(
      async () => (fs.existsSync(hostFile(pv)) ? fs.readFileSync(hostFile(pv), 'utf8') : undefined),
      (t) => t.length > 0,
      15_000,
    )
    expect(text).toBe('immediate\n')
    const podEvents = (await eventsOf('imm-writer')).map((e) => `${e.reason}: ${e.message}`)
    expect(podEvents).toContain(
      `SuccessfulAttachVolume: AttachVolume.Attach succeeded for volume "${pv.metadata!.name}" `,
    )
  })

  it("WaitForFirstConsumer: a StatefulSet's volumeClaimTemplates claim is made by the controller, provisioned for the real node, attached and mounted", async () => {
    const cls = s.n('wffc')
    await s.create(sc(cls, {wffc: true}))
    await s.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {name: 'db'},
      spec: {
        serviceName: 'db',
        replicas: 1,
        selector: {matchLabels: {app: 'db'}},
        template: {metadata: {labels: {app: 'db'}}, spec: writerSpec({}, 'statefulset')},
        volumeClaimTemplates: [
          {
            metadata: {name: 'data'},
            spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
          },
        ],
      },
    })
    const claim = await bound('data-db-0')
    expect(claim?.metadata?.annotations).toMatchObject({
      'volume.kubernetes.io/selected-node': node,
      'volume.kubernetes.io/storage-provisioner': csi!.driver,
    })
    const pod = await running('db-0')
    expect(pod?.spec?.nodeName).toBe(node)
    const pv = (await kube.get<PV>('PersistentVolume', claim!.spec.volumeName!))!
    expect(pv.spec.nodeAffinity?.required?.nodeSelectorTerms[0].matchExpressions[0]).toMatchObject({
      key: 'topology.kubernetes.io/zone',
      values: ['zone-r'],
    })
    expect((await attachmentOf(pv.metadata!.name!))?.spec.nodeName).toBe(node)
    const text = await kube.waitFor(
      async () => (fs.existsSync(hostFile(pv)) ? fs.readFileSync(hostFile(pv), 'utf8') : undefined),
      (t) => t.length > 0,
      15_000,
    )
    expect(text).toBe('statefulset\n')
    const reasons = (await eventsOf('data-db-0')).map((e) => e.reason)
    expect(reasons).toEqual(
      expect.arrayContaining(['WaitForFirstConsumer', 'ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded']),
    )
  })
})
