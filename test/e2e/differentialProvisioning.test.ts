/**
 * The oracle for dynamic provisioning: random scenarios (generateProvisioning.ts) through the
 * harness's real external-provisioner, PV controller and scheduler. pv-doctor predicts from the
 * manifests plus what the cluster publishes (nodes, CSIDriver, CSINodes, CSIStorageCapacity), before
 * the claim exists; agreement means: it binds the static PV pv-doctor named (or a tie), it
 * provisions a new volume when pv-doctor said provisioning would, it stays Pending otherwise — and
 * where a CreateVolume failure was injected, the live answer is ProvisioningFailed with the
 * sub-reason of the injected gRPC code. Harness-only.
 *
 *   PV_DOCTOR_SEED=7 PV_DOCTOR_PROV_SCENARIOS=40 npm run test:e2e -- differentialProvisioning
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, inject, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'
import {generateProvisioning, type ProvScenario} from './generateProvisioning.js'
import {Kube, type Obj} from './kube.js'

const SEED = Number(process.env.PV_DOCTOR_SEED ?? 20261203)
const COUNT = Number(process.env.PV_DOCTOR_PROV_SCENARIOS ?? 100)
const BATCH = Number(process.env.PV_DOCTOR_BATCH ?? 20)
const OUT = join(ROOT, '.reports', 'differential-provisioning')
const cluster = inject('cluster')
const kubeconfig = inject('kubeconfig')

type Claim = {namespace: string; name: string; cause: string; message: string; wouldBind: string | null; ties: string[]}
type LiveClaim = Claim & {failure?: {reason: string}}

interface Outcome {
  s: ProvScenario
  predicted: Claim
  actual: string
  agree: boolean
}

async function runBatch(kube: Kube, batch: ProvScenario[], file: string, version: string): Promise<Outcome[]> {
  // 1. Classes and static PVs; wait for the PVs to settle and for capacity to be published.
  for (const s of batch) {
    await kube.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: s.ns}})
    for (const o of s.clusterObjects) await kube.create(structuredClone(o))
  }
  for (const s of batch)
    for (const o of s.clusterObjects)
      if (o.kind === 'PersistentVolume') await kube.waitPVPhase(o.metadata!.name!, ['Available'])
  const wffcClasses = new Set(batch.filter((s) => s.wffc).map((s) => s.cls))
  type Cap = Obj & {storageClassName: string}
  // One object per zone whose CSINode lists the driver. The provisioner writes them at its client's
  // rate (5 QPS by default), so a batch of classes takes a while.
  type CN = Obj & {spec: {drivers?: {name: string}[]}}
  const zoneOf = new Map(
    (await kube.list<Obj & {metadata: {name: string; labels?: Record<string, string>}}>('Node')).map((n) => [
      n.metadata.name,
      n.metadata.labels?.['topology.kubernetes.io/zone'],
    ]),
  )
  const zones = new Set(
    (await kube.list<CN>('CSINode'))
      .filter((c) => c.spec.drivers?.some((d) => d.name === cluster.csi!.driver))
      .map((c) => zoneOf.get(c.metadata!.name!)),
  )
  const published = await kube.waitFor(
    async () =>
      (await kube.list<Cap>('CSIStorageCapacity', 'kube-system')).filter((c) => wffcClasses.has(c.storageClassName)),
    (caps) => [...wffcClasses].every((c) => caps.filter((x) => x.storageClassName === c).length >= zones.size),
    120_000,
    1000,
  )
  if (!published) throw new Error('the provisioner did not publish CSIStorageCapacity for every class within 120 s')
  // 2. pv-doctor's prediction, offline, from what exists plus the manifests of claim and pod.
  const items = [
    ...(await kube.list<Obj>('Node')).map((o) => ({...o, apiVersion: 'v1', kind: 'Node'})),
    ...(await kube.list<Obj>('CSIDriver')).map((o) => ({...o, apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver'})),
    ...(await kube.list<Obj>('CSINode')).map((o) => ({...o, apiVersion: 'storage.k8s.io/v1', kind: 'CSINode'})),
    ...(await kube.list<Cap>('CSIStorageCapacity', 'kube-system'))
      .filter((c) => wffcClasses.has(c.storageClassName))
      .map((o) => ({...o, apiVersion: 'storage.k8s.io/v1', kind: 'CSIStorageCapacity'})),
    ...(await kube.list<Obj>('StorageClass'))
      .filter((c) => batch.some((s) => s.cls === c.metadata?.name))
      .map((o) => ({...o, apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass'})),
    ...(await kube.list<Obj>('PersistentVolume'))
      .filter((p) => batch.some((s) => p.metadata?.name?.startsWith(`${s.ns}-`)))
      .map((o) => ({...o, apiVersion: 'v1', kind: 'PersistentVolume'})),
    ...batch.flatMap((s) => [s.claim, ...(s.pod ? [s.pod] : [])]),
  ]
  writeFileSync(file, JSON.stringify({apiVersion: 'v1', kind: 'List', items}, null, 1))
  const r = runCli(['explain', '-A', '--all', '--from-file', file, '--kube-version', version, '-o', 'json'])
  if (r.code === 2) throw new Error(`explain failed: ${r.stderr}`)
  const predicted = new Map((JSON.parse(r.stdout) as {claims: Claim[]}).claims.map((c) => [c.namespace, c]))

  // 3. The real thing.
  await Promise.all(batch.map((s) => kube.create(structuredClone(s.claim))))
  await Promise.all(batch.filter((s) => s.pod).map((s) => kube.create(structuredClone(s.pod!))))
  type Ev = Obj & {reason?: string; involvedObject?: {name?: string}}
  const outcomes = await Promise.all(
    batch.map(async (s): Promise<Outcome> => {
      const p: Claim = predicted.get(s.ns) ?? {
        namespace: s.ns,
        name: 'data',
        cause: 'missing',
        message: '',
        wouldBind: null,
        ties: [],
      }
      const acts = p.cause === 'BindPending' || p.cause === 'ProvisioningInProgress'
      const settled = await kube.waitFor(
        async () => {
          const c = await kube.claimPhase(s.ns, 'data')
          if (c.phase === 'Bound') return {bound: true, volume: c.volumeName}
          const failed = (await kube.list<Ev>('Event', s.ns)).some((e) => e.reason === 'ProvisioningFailed')
          return {bound: false, failed, volume: undefined}
        },
        (x) => x.bound || (Boolean(s.failure) && Boolean(x.failed)),
        acts ? 60_000 : 8_000,
        500,
      )
      const final = settled ?? {bound: false, volume: undefined}
      const statics = s.clusterObjects.filter((o) => o.kind === 'PersistentVolume').map((o) => o.metadata!.name!)
      if (p.cause === 'BindPending') {
        // The scheduler may also pick a node where the class provisions instead (pv-doctor says so).
        const mayProvision = p.message.includes('the provisioner creates a new volume instead')
        if (!final.bound && mayProvision && s.failure) {
          // The scheduler picked such a node and the provisioner failed as injected: the live answer must say so.
          const c = liveClaim(kubeconfig, s.ns)
          const agree = c?.cause === 'ProvisioningFailed' && c.failure?.reason === s.failure
          return {s, predicted: p, actual: `${c?.cause} ${c?.failure?.reason ?? ''}`, agree}
        }
        const agree =
          final.bound &&
          ([p.wouldBind, ...p.ties].includes(final.volume ?? '') ||
            (mayProvision && !statics.includes(final.volume ?? '')))
        return {s, predicted: p, actual: final.bound ? `bound ${final.volume}` : 'not bound', agree}
      }
      if (p.cause === 'ProvisioningInProgress' && !s.failure) {
        const agree = final.bound && !statics.includes(final.volume ?? '')
        return {s, predicted: p, actual: final.bound ? `bound ${final.volume}` : 'not bound', agree}
      }
      if (p.cause === 'ProvisioningInProgress' && s.failure) {
        // The provisioner tried and failed: the live answer must name the injected failure.
        const c = liveClaim(kubeconfig, s.ns)
        const agree = !final.bound && c?.cause === 'ProvisioningFailed' && c.failure?.reason === s.failure
        return {
          s,
          predicted: p,
          actual: final.bound ? `bound ${final.volume}` : `${c?.cause} ${c?.failure?.reason ?? ''}`,
          agree,
        }
      }
      return {s, predicted: p, actual: final.bound ? `bound ${final.volume}` : 'not bound', agree: !final.bound}
    }),
  )
  // 4. Clean up: pods first, then claims (their provisioned volumes are deleted), then the rest.
  for (const s of batch) if (s.pod) await kube.delete('Pod', 'app', s.ns)
  await Promise.all(
    batch.map((s) =>
      kube.cleanup(
        s.ns,
        s.clusterObjects.map((o) => ({kind: o.kind!, name: o.metadata!.name!})),
      ),
    ),
  )
  return outcomes
}

/** pv-doctor's live verdict on the scenario's claim. */
function liveClaim(kubeconfig: string, ns: string): LiveClaim | undefined {
  const live = runCli(['explain', '-n', ns, 'data', '--kubeconfig', kubeconfig, '-o', 'json'])
  return (JSON.parse(live.stdout) as {claims: LiveClaim[]}).claims[0]
}

describe.skipIf(!cluster.csi)('differential: dynamic provisioning through the real external-provisioner', () => {
  it(`agrees on ${COUNT} random provisioning scenarios (seed ${SEED})`, {timeout: 30 * 60_000}, async () => {
    const kube = await Kube.open(kubeconfig)
    const version = (await kube.client.request<{gitVersion: string}>('GET', '/version')).gitVersion
    mkdirSync(OUT, {recursive: true})
    const outcomes: Outcome[] = []
    for (let start = 0, b = 0; start < COUNT; start += BATCH, b++) {
      const batch = Array.from({length: Math.min(BATCH, COUNT - start)}, (_, i) =>
        generateProvisioning(SEED, start + i, cluster.csi!.driver),
      )
      outcomes.push(...(await runBatch(kube, batch, join(OUT, `batch-${b}.json`), version)))
    }
    const bad = outcomes
      .filter((o) => !o.agree)
      .map(
        (o) =>
          `DISAGREE seed=${SEED} scenario=${o.s.id} (${o.s.summary}): predicted ${o.predicted.cause} ${o.predicted.wouldBind ?? ''}; cluster ${o.actual}`,
      )
    for (const d of bad) process.stdout.write(`${d}\n`)
    const byCause = new Map<string, number>()
    for (const o of outcomes) {
      const k =
        o.s.failure && o.predicted.cause === 'ProvisioningInProgress'
          ? `ProvisioningFailed/${o.s.failure}`
          : o.predicted.cause
      byCause.set(k, (byCause.get(k) ?? 0) + 1)
    }
    process.stdout.write(
      `\ndifferential provisioning (seed ${SEED}, ${version}): ${[...byCause].map(([c, n]) => `${c}=${n}`).join(' ')}\n` +
        `agreement: ${outcomes.length - bad.length}/${outcomes.length} (dynamic provisioning scenarios) on Kubernetes ${version}\n`,
    )
    expect(bad).toEqual([])
  })
})
