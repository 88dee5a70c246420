/**
 * Resizing a Bound claim against the real API server (admission), expand controller and CSI
 * external-resizer (v2, beside the harness's provisioner and attacher), with pvd-csi answering
 * ControllerExpandVolume as each class asks (max-size → OutOfRange, fail-expand,
 * node-expansion-required). Every verdict is checked live and from a `pv-doctor snapshot` file.
 *
 * ResizerNotResponding needs the expand controller's ExternalExpanding to be 5 minutes old with no
 * word from a resizer (NOT_ANSWERING_MS): the claim of a driver no resizer serves is grown first
 * (beforeAll), the other scenarios run meanwhile, and the last test waits out the rest of the
 * 5 minutes on the real clock — the same claim is ResizeInProgress before and ResizerNotResponding
 * after. Nothing here writes what a real component would write.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {NOT_ANSWERING_MS} from '../../src/diagnose/provisioner.js'
import {KubeError} from '../../src/kube/errors.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {type ClaimOut, Scenario, scObj} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi) process.stderr.write('[pv-doctor e2e] resize.test.ts skipped: no harness CSI driver (external cluster)\n')

let kube: Kube
let s: Scenario
const TMP = mkdtempSync(join(tmpdir(), 'pvd-resize-'))
type Ev = Obj & {reason?: string; message?: string; count?: number; involvedObject?: {name?: string}}
type PVC = Obj & {
  spec: {volumeName?: string; resources: {requests: {storage: string}}}
  status?: {
    phase?: string
    capacity?: {storage?: string}
    allocatedResourceStatuses?: Record<string, string>
    allocatedResources?: Record<string, string>
    conditions?: {type: string; status: string; message?: string}[]
  }
}

/** When the expand controller first said it waits for an external resizer of the unserved claim. */
let unservedSince = 0

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'resize')
  await s.setup()
  await unservedClaim()
}, 120_000)

afterAll(async () => {
  if (!csi) return
  await s.cleanup()
})

function storageClass(name: string, expand: boolean, parameters?: Record<string, string>, provisioner?: string): Obj {
  return scObj(name, {provisioner: provisioner ?? csi!.driver, reclaim: 'Delete', parameters, expand})
}

const getClaim = (name: string) => kube.get<PVC>('PersistentVolumeClaim', name, s.ns)

async function boundClaim(name: string, cls: string): Promise<void> {
  await s.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
  })
  const c = await kube.waitFor(
    () => getClaim(name),
    (x) => x.status?.phase === 'Bound',
    30_000,
  )
  expect(c).toBeDefined()
}

const resize = (name: string, storage = '2Gi') =>
  kube.patch('PersistentVolumeClaim', name, {spec: {resources: {requests: {storage}}}}, s.ns)

const claimEvents = async (name: string) =>
  (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === name)

function waitClaim(name: string, ok: (c: PVC) => boolean, ms = 30_000) {
  return kube.waitFor(() => getClaim(name), ok, ms)
}

function waitEvents(name: string, ok: (l: Ev[]) => boolean, ms = 30_000) {
  return kube.waitFor(() => claimEvents(name), ok, ms)
}

/** `explain` live, then offline from a `pv-doctor snapshot` of the namespace taken right after. */
function explainBoth(claim: string): {live: ClaimOut; offline: ClaimOut} {
  const live = s.explain([claim])
  expect(live.stderr).toBe('')
  const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  expect(snap.code, snap.stderr).toBe(0)
  const file = join(TMP, `${claim}-${Date.now()}.json`)
  writeFileSync(file, snap.stdout)
  const off = runCli(['explain', '-n', s.ns, claim, '--from-file', file, '-o', 'json'])
  expect(off.stderr).toBe('')
  return {live: live.json!.claims[0], offline: (JSON.parse(off.stdout) as {claims: ClaimOut[]}).claims[0]}
}

/** What must agree live and offline; an event's count (` (xN)`) moves on between the two reads. */
const verdict = (c: ClaimOut) => ({
  cause: c.cause,
  message: c.message,
  evidence: c.evidence.map((e) => e.replace(/ \(x\d+\)$/, '')),
  fix: c.fix,
})

/**
 * A static CSI PV of a driver that no external-resizer serves (nothing in the harness runs one for
 * it), pre-bound to a claim of an expandable class, and the claim grown: the expand controller says
 * ExternalExpanding once and nobody answers.
 */
async function unservedClaim(): Promise<void> {
  const driver = `${s.ns}.noresizer.test`
  const cls = s.n('unserved')
  await s.create(storageClass(cls, true, undefined, driver))
  await s.create({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name: s.n('unserved')},
    spec: {
      capacity: {storage: '1Gi'},
      accessModes: ['ReadWriteOnce'],
      storageClassName: cls,
      persistentVolumeReclaimPolicy: 'Retain',
      csi: {driver, volumeHandle: 'h-unserved'},
      claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: s.ns, name: 'unserved'},
    },
  })
  await boundClaim('unserved', cls)
  await resize('unserved')
  const events = await waitEvents('unserved', (l) => l.some((e) => e.reason === 'ExternalExpanding'))
  const e = events!.find((x) => x.reason === 'ExternalExpanding')! as Ev & {firstTimestamp?: string}
  expect(e.message).toBe('waiting for an external controller to expand this PVC')
  unservedSince = Date.parse(e.firstTimestamp!)
}

describe.skipIf(!csi)('resizing a Bound claim', () => {
  it('a class without allowVolumeExpansion: admission refuses the edit with the text docs/causes.md quotes', async () => {
    const cls = s.n('fixed')
    await s.create(storageClass(cls, false))
    await boundClaim('fixed', cls)
    const err = await resize('fixed').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(KubeError)
    expect((err as KubeError).message).toContain(
      'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    )
  })

  it('the resizer expands the volume: VolumeResizeSuccessful, capacity 2Gi, Bound again', async () => {
    const cls = s.n('grow')
    await s.create(storageClass(cls, true))
    await boundClaim('grow', cls)
    await resize('grow')
    const c = await waitClaim('grow', (x) => x.status?.capacity?.storage === '2Gi')
    expect(c?.status?.allocatedResourceStatuses).toBeUndefined()
    const events = await claimEvents('grow')
    expect(events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['ExternalExpanding', 'Resizing', 'VolumeResizeSuccessful']),
    )
    const {live, offline} = explainBoth('grow')
    expect(live.cause).toBe('Bound')
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('ResizeFailed, infeasible: the driver answers OutOfRange; ControllerResizeInfeasible', async () => {
    const cls = s.n('capped')
    await s.create(storageClass(cls, true, {'max-size': '1536Mi'}))
    await boundClaim('capped', cls)
    await resize('capped')
    const c = await waitClaim(
      'capped',
      (x) => x.status?.allocatedResourceStatuses?.storage === 'ControllerResizeInfeasible',
    )
    expect(c).toBeDefined()
    const failed = (await claimEvents('capped')).find((e) => e.reason === 'VolumeResizeFailed')
    expect(failed?.message).toContain(
      'rpc error: code = OutOfRange desc = requested 2147483648 bytes exceeds the maximum volume size 1610612736 bytes',
    )
    const {live, offline} = explainBoth('capped')
    expect(live.cause).toBe('ResizeFailed')
    expect(live.message).toContain('Expanding the claim from 1Gi to 2Gi failed: ')
    expect(live.message).toContain('ControllerResizeInfeasible')
    expect(live.fix.join('\n')).toContain('above status.capacity 1Gi (the API server refuses 1Gi itself)')
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('recovery (RecoverVolumeExpansionFailure): status.capacity itself is refused; a lower size the driver can give is expanded → Bound', async () => {
    // the claim of the previous test, left infeasible at 2Gi; the API server wants strictly more than status.capacity
    const err = await resize('capped', '1Gi').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(KubeError)
    expect((err as KubeError).message).toContain(
      'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
    )
    // below max-size: the resizer expands it and clears allocatedResourceStatuses
    await resize('capped', '1536Mi')
    const grown = await waitClaim('capped', (x) => x.status?.capacity?.storage === '1536Mi')
    expect(grown?.status?.allocatedResourceStatuses).toBeUndefined()
    expect((await claimEvents('capped')).map((e) => e.reason)).toContain('VolumeResizeSuccessful')
    const after = explainBoth('capped')
    expect(after.live.cause).toBe('Bound')
    expect(verdict(after.offline)).toEqual(verdict(after.live))
  })

  it('ResizeFailed, retried: the driver fails with Internal; the resizer keeps trying (ControllerResizeInProgress)', async () => {
    const cls = s.n('flaky')
    await s.create(storageClass(cls, true, {'fail-expand': 'Internal: backend busy'}))
    await boundClaim('flaky', cls)
    await resize('flaky')
    const events = await waitEvents('flaky', (l) =>
      l.some((e) => e.reason === 'VolumeResizeFailed' && (e.count ?? 1) >= 2),
    )
    expect(events?.find((e) => e.reason === 'VolumeResizeFailed')?.message).toContain(
      'rpc error: code = Internal desc = backend busy',
    )
    const c = await getClaim('flaky')
    expect(c?.status?.allocatedResourceStatuses?.storage).toBe('ControllerResizeInProgress')
    const {live, offline} = explainBoth('flaky')
    expect(live.cause).toBe('ResizeFailed')
    expect(live.message).toContain('backend busy')
    expect(live.message).not.toContain('Infeasible')
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('FileSystemResizePending: the driver asks for node expansion; no pod mounts the claim', async () => {
    const cls = s.n('fsgrow')
    await s.create(storageClass(cls, true, {'node-expansion-required': 'true'}))
    await boundClaim('fsgrow', cls)
    await resize('fsgrow')
    const c = await waitClaim('fsgrow', (x) =>
      (x.status?.conditions ?? []).some((k) => k.type === 'FileSystemResizePending' && k.status === 'True'),
    )
    expect(c?.status?.conditions?.find((k) => k.type === 'FileSystemResizePending')?.message).toBe(
      'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
    )
    expect(c?.status?.allocatedResourceStatuses?.storage).toBe('NodeResizePending')
    // recorded after the status patch (markForPendingNodeExpansion)
    const events = await waitEvents('fsgrow', (l) => l.some((e) => e.reason === 'FileSystemResizeRequired'))
    expect(events?.find((e) => e.reason === 'FileSystemResizeRequired')?.message).toBe(
      'Require file system resize of volume on node',
    )
    const {live, offline} = explainBoth('fsgrow')
    expect(live.cause).toBe('FileSystemResizePending')
    expect(live.fix[0]).toContain('Start a pod that mounts the claim')
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it(
    'ResizeInProgress, then ResizerNotResponding: no external-resizer serves the driver; 5 minutes after ExternalExpanding',
    async () => {
      const before = explainBoth('unserved')
      // Unless the scenarios above took 5 minutes (they take well under one), it is still early.
      if (Date.now() - unservedSince < NOT_ANSWERING_MS - 30_000) {
        expect(before.live.cause).toBe('ResizeInProgress')
        expect(before.live.message).toBe('The claim asks 2Gi and holds 1Gi: the expansion is under way.')
        expect(before.live.evidence[0]).toContain(
          'ExternalExpanding: waiting for an external controller to expand this PVC',
        )
        expect(verdict(before.offline)).toEqual(verdict(before.live))
        // a scan of unhealthy claims lists it too
        expect(s.explain([]).json!.claims.map((x: ClaimOut) => x.name)).toContain('unserved')
      }
      // The rest of the 5 minutes, on the real clock (events carry second precision: one more).
      const left = unservedSince + NOT_ANSWERING_MS + 1000 - Date.now()
      if (left > 0) await new Promise((r) => setTimeout(r, left))
      const {live, offline} = explainBoth('unserved')
      expect(live.cause).toBe('ResizerNotResponding')
      expect(live.message).toContain(
        `an external resizer of ${s.ns}.noresizer.test to expand the claim from 1Gi to 2Gi ("waiting for an external controller to expand this PVC")`,
      )
      // The minutes in the message may tick over between the two reads.
      const noMinutes = (c: ClaimOut) => ({...verdict(c), message: c.message.replace(/\d+ minutes/, 'N minutes')})
      expect(noMinutes(offline)).toEqual(noMinutes(live))
      // Only one event, ever: the expand controller does not repeat ExternalExpanding.
      const ext = (await claimEvents('unserved')).filter((e) => e.reason === 'ExternalExpanding')
      expect(ext.map((e) => e.count ?? 1)).toEqual([1])
    },
    NOT_ANSWERING_MS + 120_000,
  )
})
