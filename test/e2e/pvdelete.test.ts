/**
 * `explain pv/NAME` on PVs on their way out, through the real parts: the PV controller and the
 * pv-protection controller (kube-controller-manager) and the real csi-provisioner with the
 * harness driver, whose DeleteVolume fails while a runtime switch (`fail-key`) is on. No kubelet
 * is involved: the claims' consumer pods are never scheduled. Each verdict is compared with the
 * one `explain --from-file` gives on a `pv-doctor snapshot` of that moment.
 */
import * as fs from 'node:fs'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {PODS, pathOf} from '../../src/kube/paths.js'
import {nodeManifest} from '../cluster/cluster.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {type ClaimOut, pvcObj, pvObj, scObj, Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi) process.stderr.write('[pv-doctor e2e] pvdelete.test.ts skipped: no harness CSI driver (external cluster)\n')

let kube: Kube
let s: Scenario
const TMP = mkdtempSync(path.join(tmpdir(), 'pvd-pvdelete-'))

type PV = Obj & {
  metadata: {finalizers?: string[]; deletionTimestamp?: string}
  status?: {phase?: string}
}
type PVC = Obj & {spec: {volumeName?: string}; status?: {phase?: string}}
type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string; kind?: string}}
interface VolumeOut {
  name: string
  phase: string
  cause: string
  severity: string
  message: string
  evidence: string[]
  fix: string[]
  pods: string[]
  claim: string | null
  finalizers: string[]
  deleter: string | null
  failure?: {reason: string; code?: string; retry: string}
}

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'pvdel')
  await s.setup()
})

afterAll(async () => {
  if (!csi) return
  fs.rmSync(path.join(csi.failDir, s.ns), {recursive: true, force: true})
  await kube.reportVolumesInUse('node-b1', []).catch(() => undefined)
  await s.cleanup()
})

function storageClass(name: string, o: {reclaim?: string; params?: Record<string, string>} = {}): Obj {
  return scObj(name, {provisioner: csi!.driver, reclaim: o.reclaim ?? 'Delete', parameters: o.params})
}

/** A claim of the class, Bound by the provisioner and the PV controller; returns its PV's name. */
async function boundClaim(name: string, cls: string): Promise<string> {
  await s.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
  })
  const c = await kube.waitFor(
    () => kube.get<PVC>('PersistentVolumeClaim', name, s.ns),
    (x) => x.status?.phase === 'Bound',
    60_000,
  )
  expect(c?.status?.phase).toBe('Bound')
  return c!.spec.volumeName!
}

function explainLive(pv: string): {code: number; v: VolumeOut; stderr: string} {
  const r = runCli(['explain', `pv/${pv}`, '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  return {code: r.code, v: JSON.parse(r.stdout).volumes[0], stderr: r.stderr}
}

/** The same question asked offline, of a `pv-doctor snapshot` of the scenario's namespace. */
function explainOffline(pv: string): {code: number; v: VolumeOut} {
  const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  const file = path.join(TMP, `${pv}-${Date.now()}.json`)
  writeFileSync(file, snap.stdout)
  const r = runCli(['explain', `pv/${pv}`, '-n', s.ns, '--from-file', file, '-o', 'json'])
  return {code: r.code, v: JSON.parse(r.stdout).volumes[0]}
}

/** What must agree live and offline: the verdict and its advice (evidence carries ages and counts). */
const verdict = (v: VolumeOut) => ({
  cause: v.cause,
  message: v.message,
  fix: v.fix,
  pods: v.pods,
  failure: v.failure?.reason,
})

async function gone(pv: string, ms = 90_000): Promise<null | undefined> {
  return kube.waitFor(
    () => kube.get<PV>('PersistentVolume', pv).then((p) => p ?? null),
    (p) => p === null,
    ms,
  ) as Promise<null | undefined>
}

describe.skipIf(!csi)('explain pv/NAME through the PV, pv-protection and external-provisioner controllers', () => {
  it('VolumeAvailable, VolumeBound, then VolumeTerminating: a static PV through its life, held at the end by a finalizer of another controller', async () => {
    const pv = s.n('static')
    const hold = 'pv-doctor.test/hold'
    await s.create(pvObj(pv))
    expect(await kube.waitPVPhase(pv, ['Available'])).toBeDefined()
    let live = explainLive(pv)
    expect(live.code).toBe(0)
    expect(live.v).toMatchObject({cause: 'VolumeAvailable', severity: 'ok', claim: null})
    expect(live.v.message).toBe('Available: any claim that fits can bind it.')
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))

    await s.create(pvcObj('static', {volumeName: pv}))
    expect(await kube.waitPVPhase(pv, ['Bound'], 30_000)).toBeDefined()
    live = explainLive(pv)
    expect(live.code).toBe(0)
    expect(live.v).toMatchObject({cause: 'VolumeBound', claim: `${s.ns}/static`})
    expect(live.v.message).toContain(`Bound to claim ${s.ns}/static`)
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))

    // Another controller's finalizer (a backup tool's, say) keeps the PV after the claim is gone
    // and the PV deleted: pv-protection lets go of an unbound PV, the API server keeps the rest.
    await kube.delete('PersistentVolumeClaim', 'static', s.ns)
    expect(await kube.waitPVPhase(pv, ['Released'], 30_000)).toBeDefined()
    const now = await kube.get<PV>('PersistentVolume', pv)
    await kube.patch('PersistentVolume', pv, {metadata: {finalizers: [...(now?.metadata.finalizers ?? []), hold]}})
    try {
      await kube.delete('PersistentVolume', pv)
      const held = await kube.waitFor(
        () => kube.get<PV>('PersistentVolume', pv),
        (p) => Boolean(p.metadata.deletionTimestamp) && p.metadata.finalizers?.join() === hold,
        30_000,
      )
      expect(held?.metadata.finalizers).toEqual([hold])
      live = explainLive(pv)
      expect(live.stderr).toBe('')
      expect(live.v).toMatchObject({cause: 'VolumeTerminating', severity: 'warning', finalizers: [hold]})
      expect(live.v.message).toContain(`finalizers left: ${hold} (owned by another controller)`)
      expect(live.v.fix[0]).toContain('Find the controller that owns the other finalizers')
      expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))
    } finally {
      await kube.patch('PersistentVolume', pv, {metadata: {finalizers: []}}).catch(() => undefined)
    }
    expect(await gone(pv, 30_000)).toBeNull()
  })

  it('VolumeProtected: a PV deleted while its claim is Bound stays Terminating; deleting the pod and the claim frees it', async () => {
    const cls = s.n('prot')
    await s.create(storageClass(cls))
    const pv = await boundClaim('prot', cls)
    // A consumer that is never placed (no node matches): it still uses the claim.
    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'prot-user'},
      spec: {
        nodeSelector: {'pv-doctor.test/none': 'x'},
        terminationGracePeriodSeconds: 0,
        containers: [{name: 'c', image: 'none'}],
        volumes: [{name: 'd', persistentVolumeClaim: {claimName: 'prot'}}],
      },
    })
    await kube.delete('PersistentVolume', pv)
    const held = await kube.waitFor(
      () => kube.get<PV>('PersistentVolume', pv),
      (p) => Boolean(p.metadata.deletionTimestamp),
      15_000,
    )
    // What the real controllers put on a provisioned PV in this cluster.
    expect(held?.metadata.finalizers).toEqual(
      expect.arrayContaining(['kubernetes.io/pv-protection', 'external-provisioner.volume.kubernetes.io/finalizer']),
    )
    expect(held?.status?.phase).toBe('Bound')

    const live = explainLive(pv)
    expect(live.stderr).toBe('')
    expect(live.code).toBe(1)
    expect(live.v).toMatchObject({
      cause: 'VolumeProtected',
      phase: 'Terminating',
      claim: `${s.ns}/prot`,
      pods: ['prot-user'],
    })
    expect(live.v.message).toContain(`Bound to claim ${s.ns}/prot, used by pod prot-user`)
    expect(live.v.fix.join('\n')).toContain(`kubectl delete pvc -n ${s.ns} prot`)
    expect(live.v.fix.join('\n')).toContain(`kubectl delete pod -n ${s.ns} prot-user`)
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))

    // What the fix says: the pod, then the claim. The PV goes (Delete: the provisioner deletes the volume).
    await kube.delete('Pod', 'prot-user', s.ns)
    await kube.delete('PersistentVolumeClaim', 'prot', s.ns)
    expect(await gone(pv)).toBeNull()
  })

  it('VolumeReleasedRetain: the claim of a Retain PV is deleted; the PV is Released and waits, data kept', async () => {
    const cls = s.n('keep')
    await s.create(storageClass(cls, {reclaim: 'Retain'}))
    const pv = await boundClaim('keep', cls)
    await kube.delete('PersistentVolumeClaim', 'keep', s.ns)
    const released = await kube.waitPVPhase(pv, ['Released'], 30_000)
    expect(released).toBeDefined()

    const live = explainLive(pv)
    expect(live.code).toBe(0)
    expect(live.v).toMatchObject({
      cause: 'VolumeReleasedRetain',
      severity: 'info',
      phase: 'Released',
      deleter: csi!.driver,
    })
    expect(live.v.fix[0]).toBe(
      `To give it back to a re-created claim of the same name (keeps the data): kubectl pv-doctor bind -n ${s.ns} keep --volume ${pv}`,
    )
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))
    // The verdict's last advice, taken: let the provisioner delete it (Retain → Delete).
    await kube.patch('PersistentVolume', pv, {spec: {persistentVolumeReclaimPolicy: 'Delete'}})
    expect(await gone(pv)).toBeNull()
  })

  it('VolumeFailedDelete: DeleteVolume fails, the provisioner says so on the PV; once the storage lets it, the PV goes', async () => {
    const cls = s.n('nodel')
    const dir = path.join(csi!.failDir, s.ns)
    fs.mkdirSync(dir, {recursive: true})
    await s.create(storageClass(cls, {params: {'fail-key': s.ns}}))
    const pv = await boundClaim('nodel', cls)
    fs.writeFileSync(path.join(dir, 'DeleteVolume'), 'FailedPrecondition: volume has snapshots')
    await kube.delete('PersistentVolumeClaim', 'nodel', s.ns)
    const ev = await kube.waitFor(
      async () =>
        (await kube.list<Ev>('Event', 'default')).filter(
          (e) => e.involvedObject?.name === pv && e.reason === 'VolumeFailedDelete',
        ),
      (l) => l.length > 0,
      60_000,
    )
    expect(ev?.[0].message).toBe('rpc error: code = FailedPrecondition desc = volume has snapshots')
    const p = await kube.get<PV>('PersistentVolume', pv)
    expect(p?.status?.phase).toBe('Released')

    const live = explainLive(pv)
    expect(live.code).toBe(1)
    expect(live.v).toMatchObject({
      cause: 'VolumeFailedDelete',
      deleter: csi!.driver,
      failure: {reason: 'FailedPrecondition', code: 'FailedPrecondition'},
    })
    expect(live.v.evidence[0]).toContain(
      'VolumeFailedDelete: rpc error: code = FailedPrecondition desc = volume has snapshots',
    )
    expect(live.v.message).toContain(`the provisioner ${csi!.driver} could not delete the volume`)
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))

    // The storage lets go: the provisioner's next retry deletes the volume, then the PV.
    fs.rmSync(path.join(dir, 'DeleteVolume'))
    expect(await gone(pv, 120_000)).toBeNull()
  })

  it('DeleterNotRunning: a Released PV of a provisioner whose Lease went stale; deleting the PV leaves it Terminating under the provisioner finalizer', async () => {
    // A provisioner that stopped: its CSI PV and its leader-election Lease are what it left behind.
    const stopped = 'gone.pvd.test'
    const pv = s.n('orphan')
    const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
    await s.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: 'gone-pvd-test'},
      spec: {holderIdentity: 'gone-controller-0', leaseDurationSeconds: 15, renewTime: micro(Date.now() - 3600_000)},
    })
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pv,
        annotations: {'pv.kubernetes.io/provisioned-by': stopped},
        finalizers: ['external-provisioner.volume.kubernetes.io/finalizer'],
      },
      spec: {
        capacity: {storage: '1Gi'},
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: '',
        csi: {driver: stopped, volumeHandle: 'vol-orphan'},
        claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: s.ns, name: 'old', uid: 'uid-old-claim'},
      },
    })
    // The real PV controller: the claim is gone, so Released; the deleter is external, so it stands down.
    expect(await kube.waitPVPhase(pv, ['Released'], 30_000)).toBeDefined()
    const live = explainLive(pv)
    expect(live.code).toBe(1)
    expect(live.v).toMatchObject({cause: 'DeleterNotRunning', deleter: stopped, phase: 'Released'})
    expect(live.v.evidence[0]).toMatch(
      /^Lease e2e-pvdel-[\w-]+\/gone-pvd-test: held by gone-controller-0, last renewed 60 min before the snapshot/,
    )
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))

    await kube.delete('PersistentVolume', pv)
    const held = await kube.waitFor(
      () => kube.get<PV>('PersistentVolume', pv),
      (p) => Boolean(p.metadata.deletionTimestamp) && !p.metadata.finalizers?.includes('kubernetes.io/pv-protection'),
      15_000,
    )
    expect(held?.metadata.finalizers).toEqual(['external-provisioner.volume.kubernetes.io/finalizer'])
    const after = explainLive(pv)
    expect(after.v).toMatchObject({cause: 'DeleterNotRunning', phase: 'Terminating'})
    expect(after.v.message).toContain('its finalizer external-provisioner.volume.kubernetes.io/finalizer keeps the PV')
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(after.v))
    // The provisioner is gone for good: what the second fix says (the test's volume has no storage behind it).
    await kube.patch('PersistentVolume', pv, {metadata: {finalizers: null}})
    expect(await gone(pv, 15_000)).toBeNull()
  })

  it('DeleteWaitsForDetach: csi-provisioner will not delete a volume still attached to a node; once the node lets go, it does', async () => {
    // The test plays node-b1's kubelet: the volume stays in use there, so it stays attached.
    const cls = s.n('att')
    await s.create(storageClass(cls))
    const pv = await boundClaim('att', cls)
    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'att-user'},
      spec: {
        nodeName: 'node-b1',
        terminationGracePeriodSeconds: 0,
        containers: [{name: 'c', image: 'none'}],
        volumes: [{name: 'd', persistentVolumeClaim: {claimName: 'att'}}],
      },
    })
    const va = await kube.waitFor(
      async () =>
        (
          await kube.list<Obj & {spec: {source: {persistentVolumeName?: string}}; status?: {attached?: boolean}}>(
            'VolumeAttachment',
          )
        ).find((v) => v.spec.source.persistentVolumeName === pv),
      (v) => v.status?.attached === true,
      30_000,
    )
    expect(va).toBeDefined()
    const handle = (await kube.get<Obj & {spec: {csi: {volumeHandle: string}}}>('PersistentVolume', pv))!.spec.csi
      .volumeHandle
    await kube.reportVolumesInUse('node-b1', [`kubernetes.io/csi/${csi!.driver}^${handle}`])
    await kube.delete('Pod', 'att-user', s.ns)
    await kube.delete('PersistentVolumeClaim', 'att', s.ns)
    const ev = await kube.waitFor(
      async () =>
        (await kube.list<Ev>('Event', 'default')).filter(
          (e) => e.involvedObject?.name === pv && e.reason === 'VolumeDelete',
        ),
      (l) => l.length > 0,
      60_000,
    )
    // external-provisioner v6 (lib v13): postponed, not failed — a Normal VolumeDelete.
    expect(ev?.[0]).toMatchObject({
      type: 'Normal',
      message: `persistentvolume ${pv} is still attached to node node-b1, waiting for detach`,
    })
    const live = explainLive(pv)
    expect(live.code).toBe(1)
    expect(live.v.cause).toBe('DeleteWaitsForDetach')
    expect(live.v.message).toContain('still attached to node node-b1, whose kubelet still reports it in use')
    expect(live.v.fix[0]).toContain('kubectl get pods -A --field-selector spec.nodeName=node-b1')
    expect(verdict(explainOffline(pv).v)).toEqual(verdict(live.v))

    // "unmounted": the attach-detach controller detaches, the provisioner's retry deletes the volume and the PV.
    await kube.reportVolumesInUse('node-b1', [])
    expect(await gone(pv, 120_000)).toBeNull()
  })

  it('ClaimTerminating: a claim deleted while a Terminating pod on a NotReady node uses it says what frees it; force-deleting the pod does', async () => {
    // A node of its own that is down (Ready False: no kubelet posts its status), so no other test sees it.
    const dead = s.n('dead').slice(0, 60)
    await s.create({
      ...(nodeManifest({name: dead, zone: 'zone-a', region: 'region-1', ready: false}) as Obj),
      kind: 'Node',
    })
    const pv = s.n('static')
    await s.create(pvObj(pv))
    await s.create(pvcObj('held', {volumeName: pv}))
    expect(
      await kube.waitFor(
        () => kube.get<PVC>('PersistentVolumeClaim', 'held', s.ns),
        (c) => c.status?.phase === 'Bound',
        30_000,
      ),
    ).toBeDefined()
    await s.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'held-user'},
      spec: {
        nodeName: dead,
        terminationGracePeriodSeconds: 30,
        containers: [{name: 'c', image: 'none'}],
        volumes: [{name: 'd', persistentVolumeClaim: {claimName: 'held'}}],
      },
    })
    // Deleted with its grace period: no kubelet confirms it, so it stays Terminating (no pod GC runs here).
    await kube.client.request('DELETE', pathOf(PODS, {namespace: s.ns, name: 'held-user'}))
    await kube.delete('PersistentVolumeClaim', 'held', s.ns)
    const claim = await kube.waitFor(
      () =>
        kube.get<PVC & {metadata: {deletionTimestamp?: string; finalizers?: string[]}}>(
          'PersistentVolumeClaim',
          'held',
          s.ns,
        ),
      (c) => Boolean(c.metadata.deletionTimestamp),
      15_000,
    )
    expect(claim?.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection'])

    const live = s.explain(['held'])
    expect(live.stderr).toBe('')
    const c = live.json!.claims[0] as ClaimOut & {cause: string}
    expect(c.cause).toBe('ClaimTerminating')
    expect(c.message).toContain(`held-user (Terminating) is on NotReady node ${dead}`)
    expect(c.fix[1]).toContain(`node.kubernetes.io/out-of-service=nodeshutdown:NoExecute on ${dead}`)
    expect(c.fix[1]).toContain('Do not remove the claim')
    const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
    const file = path.join(TMP, `held-${Date.now()}.json`)
    writeFileSync(file, snap.stdout)
    const off = JSON.parse(runCli(['explain', '-n', s.ns, 'held', '--from-file', file, '-o', 'json']).stdout).claims[0]
    expect({cause: off.cause, message: off.message, fix: off.fix}).toEqual({
      cause: c.cause,
      message: c.message,
      fix: c.fix,
    })

    // The fix for a node that is really down: force-delete the pod; pvc-protection lets the claim go,
    // and the PV (Retain) is Released, waiting for an admin.
    await kube.delete('Pod', 'held-user', s.ns)
    expect(
      await kube.waitFor(
        () => kube.get('PersistentVolumeClaim', 'held', s.ns).then((x) => x ?? null),
        (x) => x === null,
        30_000,
      ),
    ).toBeNull()
    expect(await kube.waitPVPhase(pv, ['Released'], 30_000)).toBeDefined()
    expect(explainLive(pv).v.cause).toBe('VolumeReleasedRetain')
  })
})
