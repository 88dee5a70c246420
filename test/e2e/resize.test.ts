/**
 * Resizing a Bound claim against the real API server (admission) and expand controller. The
 * harness runs no external-resizer, so an expansion stays with the expand controller's
 * ExternalExpanding event: pv-doctor says it is in progress, live and from a snapshot.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {KubeError} from '../../src/kube/errors.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {type ClaimOut, Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi) process.stderr.write('[pv-doctor e2e] resize.test.ts skipped: no harness CSI driver (external cluster)\n')

let kube: Kube
let s: Scenario
type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string}}

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'resize')
  await s.setup()
})

afterAll(async () => {
  if (!csi) return
  await s.cleanup()
})

function storageClass(name: string, expand: boolean): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name},
    provisioner: csi!.driver,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    ...(expand ? {allowVolumeExpansion: true} : {}),
  }
}

async function boundClaim(name: string, cls: string): Promise<void> {
  await s.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
  })
  const c = await kube.waitFor(
    () => kube.get<Obj & {status?: {phase?: string}}>('PersistentVolumeClaim', name, s.ns),
    (x) => x.status?.phase === 'Bound',
    30_000,
  )
  expect(c).toBeDefined()
}

const grow = (name: string) =>
  kube.patch('PersistentVolumeClaim', name, {spec: {resources: {requests: {storage: '2Gi'}}}}, s.ns)

describe.skipIf(!csi)('resizing a Bound claim', () => {
  it('a class without allowVolumeExpansion: admission refuses the edit with the text docs/causes.md quotes', async () => {
    const cls = s.n('fixed')
    await s.create(storageClass(cls, false))
    await boundClaim('fixed', cls)
    const err = await grow('fixed').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(KubeError)
    expect((err as KubeError).message).toContain(
      'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    )
  })

  it('ResizeInProgress: the expand controller waits for an external resizer (ExternalExpanding)', async () => {
    const cls = s.n('grow')
    await s.create(storageClass(cls, true))
    await boundClaim('grow', cls)
    await grow('grow')
    const events = await kube.waitFor(
      async () => (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === 'grow'),
      (l) => l.some((e) => e.reason === 'ExternalExpanding'),
      30_000,
    )
    expect(events?.find((e) => e.reason === 'ExternalExpanding')?.message).toBe(
      'waiting for an external controller to expand this PVC',
    )
    const live = s.explain(['grow'])
    expect(live.stderr).toBe('')
    const c = live.json!.claims[0]
    expect(c.cause).toBe('ResizeInProgress')
    expect(c.message).toBe('The claim asks 2Gi and holds 1Gi: the expansion is under way.')
    expect(c.evidence[0]).toContain('ExternalExpanding: waiting for an external controller to expand this PVC')
    // a scan of unhealthy claims lists it too
    expect(s.explain([]).json!.claims.map((x: ClaimOut) => x.name)).toContain('grow')

    const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
    const file = join(mkdtempSync(join(tmpdir(), 'pvd-resize-')), 'grow.json')
    writeFileSync(file, snap.stdout)
    const off = JSON.parse(runCli(['explain', '-n', s.ns, 'grow', '--from-file', file, '-o', 'json']).stdout)
    expect({cause: off.claims[0].cause, message: off.claims[0].message}).toEqual({cause: c.cause, message: c.message})
  })
})
