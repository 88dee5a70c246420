/**
 * The oracle: random scenarios, pv-doctor's offline prediction, then the real controller and
 * scheduler. Agreement means: it binds iff pv-doctor said it would, and to the PV pv-doctor named
 * (or one of the PVs it reported as tied). Every disagreement is written out with its seed.
 *
 *   PV_DOCTOR_SEED=7 PV_DOCTOR_SCENARIOS=50 npm run test:e2e -- differential
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'
import {generate, type GenScenario} from './generate.js'
import {Kube, type Obj} from './kube.js'
import {type LiveNode, usableNodes} from './scenario.js'

const SEED = Number(process.env.PV_DOCTOR_SEED ?? 20261125)
const COUNT = Number(process.env.PV_DOCTOR_SCENARIOS ?? 200)
const BATCH = Number(process.env.PV_DOCTOR_BATCH ?? 25)
const OUT = join(ROOT, '.reports', 'differential')

const kubeconfig = inject('kubeconfig')
let kube: Kube
let nodes: LiveNode[] = []
let liveNodes: Obj[] = []
/** The cluster's version: pv-doctor's offline prediction follows its rules (--kube-version). */
let kubeVersion = ''

/** Odd nodes for the scheduler's own filters: one tainted, one cordoned (only on our own control plane). */
const ODD_NODES = [
  {name: 'diff-tainted-1', zone: 'zone-a', spec: {taints: [{key: 'dedicated', value: 'db', effect: 'NoSchedule'}]}},
  {name: 'diff-cordoned-1', zone: 'zone-b', spec: {unschedulable: true}},
]

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  kubeVersion = (await kube.client.request<{gitVersion: string}>('GET', '/version')).gitVersion
  if (!inject('cluster').external) {
    const model = (await kube.list<Obj & {status?: Record<string, unknown>}>('Node'))[0]
    for (const n of ODD_NODES) {
      await kube.delete('Node', n.name)
      await kube.create({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: n.name,
          labels: {
            'kubernetes.io/hostname': n.name,
            'topology.kubernetes.io/zone': n.zone,
            'kubernetes.io/os': 'linux',
          },
        },
        spec: n.spec,
        status: model.status,
      })
    }
  }
  // PVs may sit on any node, the odd ones included; pods may tolerate the taint.
  nodes = (await usableNodes(kube)).concat(
    inject('cluster').external ? [] : ODD_NODES.map((n) => ({name: n.name, hostname: n.name, zone: n.zone})),
  )
  // The snapshot holds every node, tainted ones too: pv-doctor must see what the scheduler sees.
  liveNodes = await kube.list<Obj>('Node')
  mkdirSync(OUT, {recursive: true})
})

interface Outcome {
  scenario: GenScenario
  claim: string
  predicted: {cause: string; wouldBind: string | null; ties: string[]}
  actual: {bound: boolean; volume?: string}
  agree: boolean
}

const outcomes: Outcome[] = []

afterAll(async () => {
  if (!inject('cluster').external) for (const n of ODD_NODES) await kube.delete('Node', n.name)
  const agreeing = outcomes.filter((o) => o.agree).length
  const byCause = new Map<string, number>()
  for (const o of outcomes) byCause.set(o.predicted.cause, (byCause.get(o.predicted.cause) ?? 0) + 1)
  process.stdout.write(`\ndifferential (seed ${SEED}): causes ${[...byCause].map(([c, n]) => `${c}=${n}`).join(' ')}\n`)
  process.stdout.write(
    `agreement: ${agreeing}/${outcomes.length} (claims, in ${new Set(outcomes.map((o) => o.scenario.id)).size} scenarios) on Kubernetes ${kubeVersion}\n`,
  )
})

function snapshotFile(batch: GenScenario[], name: string): string {
  const items = [
    ...liveNodes.map((n) => ({...n, apiVersion: 'v1', kind: 'Node'})),
    ...batch.flatMap((s) => [...s.clusterObjects, ...s.claims, ...(s.pod ? [s.pod] : [])]),
  ]
  const file = join(OUT, name)
  writeFileSync(file, JSON.stringify({apiVersion: 'v1', kind: 'List', items}, null, 1))
  return file
}

async function runBatch(batch: GenScenario[], batchNo: number): Promise<Outcome[]> {
  // 1. Ask pv-doctor offline, before anything exists.
  const file = snapshotFile(batch, `batch-${batchNo}.json`)
  const r = runCli(['explain', '-A', '--all', '--from-file', file, '--kube-version', kubeVersion, '-o', 'json'])
  if (r.code === 2) throw new Error(`explain failed: ${r.stderr}`)
  const claims = new Map<string, {cause: string; wouldBind: string | null; ties: string[]}>(
    (
      JSON.parse(r.stdout) as {
        claims: {namespace: string; name: string; cause: string; wouldBind: string | null; ties: string[]}[]
      }
    ).claims.map((c) => [`${c.namespace}/${c.name}`, c]),
  )

  // 2. Create it for real: PVs first (and let them settle), then the claim, then the pod.
  await Promise.all(
    batch.map(async (s) => {
      await kube.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: s.ns}})
      for (const o of s.clusterObjects) await kube.create(structuredClone(o))
      for (const o of s.clusterObjects)
        if (o.kind === 'PersistentVolume') await kube.waitPVPhase(o.metadata!.name!, ['Available', 'Released', 'Bound'])
    }),
  )
  await Promise.all(batch.flatMap((s) => s.claims.map((c) => kube.create(structuredClone(c)))))
  await Promise.all(batch.filter((s) => s.pod).map((s) => kube.create(structuredClone(s.pod!))))

  // 3. Let the real controller and scheduler act: bounded time, longer where a bind is expected.
  const results = await Promise.all(
    batch.flatMap((s) =>
      s.claims.map(async (claim) => {
        const name = claim.metadata!.name!
        const predicted = claims.get(`${s.ns}/${name}`) ?? {cause: 'missing', wouldBind: null, ties: []}
        const expectBind = predicted.cause === 'BindPending'
        const c = await kube.waitFor(
          () => kube.claimPhase(s.ns, name),
          (x) => x.phase === 'Bound',
          expectBind ? 20_000 : 5_000,
        )
        const final = c ?? (await kube.claimPhase(s.ns, name))
        const actual = {bound: final.phase === 'Bound', volume: final.phase === 'Bound' ? final.volumeName : undefined}
        const agree = expectBind
          ? actual.bound && [predicted.wouldBind, ...predicted.ties].includes(actual.volume ?? '')
          : !actual.bound
        return {scenario: s, claim: name, predicted, actual, agree}
      }),
    ),
  )

  // 4. Clean up everything the batch made.
  await Promise.all(
    batch.map((s) =>
      kube.cleanup(
        s.ns,
        s.clusterObjects.map((o) => ({kind: o.kind!, name: o.metadata!.name!})),
      ),
    ),
  )
  return results
}

describe('differential: pv-doctor predicts what the real controller and scheduler do', () => {
  it(`agrees on every claim of ${COUNT} random scenarios (seed ${SEED})`, {timeout: 30 * 60_000}, async () => {
    for (let start = 0, b = 0; start < COUNT; start += BATCH, b++) {
      const batch = Array.from({length: Math.min(BATCH, COUNT - start)}, (_, i) => generate(SEED, start + i, nodes))
      outcomes.push(...(await runBatch(batch, b)))
    }
    const bad = outcomes.filter((o) => !o.agree)
    for (const o of bad) {
      const file = snapshotFile([o.scenario], `disagree-${o.scenario.id}.json`)
      process.stdout.write(
        `DISAGREE seed=${SEED} scenario=${o.scenario.id} claim=${o.claim} (${o.scenario.summary}): predicted ${o.predicted.cause} ${o.predicted.wouldBind ?? ''}${o.predicted.ties.length ? ` ties ${o.predicted.ties.join(',')}` : ''}; cluster ${o.actual.bound ? `bound ${o.actual.volume}` : 'did not bind'}\n  replay: kubectl pv-doctor explain -A --all --from-file ${file}\n`,
      )
    }
    expect(
      bad.map(
        (o) =>
          `${o.scenario.id}/${o.claim}: predicted ${o.predicted.cause} ${o.predicted.wouldBind}, actual ${o.actual.bound ? o.actual.volume : 'unbound'}`,
      ),
    ).toEqual([])
  })
})
