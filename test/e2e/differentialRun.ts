/**
 * The oracle's loop, for any control plane: random scenarios, pv-doctor's offline prediction
 * (with the cluster's version), then the real controller and scheduler. Agreement means: it binds
 * iff pv-doctor said it would, and to the PV pv-doctor named (or one of the PVs it reported as
 * tied). Used by differential.test.ts (the suite's cluster) and versions.test.ts (other minors).
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ROOT, runCli} from '../helpers/cli.js'
import {type GenScenario, generate} from './generate.js'
import {Kube, type Obj} from './kube.js'
import {type LiveNode, usableNodes} from './scenario.js'

const OUT = join(ROOT, '.reports', 'differential')

/** Odd nodes for the scheduler's own filters: one tainted, one cordoned (only on our own control plane). */
const ODD_NODES = [
  {name: 'diff-tainted-1', zone: 'zone-a', spec: {taints: [{key: 'dedicated', value: 'db', effect: 'NoSchedule'}]}},
  {name: 'diff-cordoned-1', zone: 'zone-b', spec: {unschedulable: true}},
]

export interface Outcome {
  scenario: GenScenario
  claim: string
  predicted: {cause: string; wouldBind: string | null; ties: string[]}
  actual: {bound: boolean; volume?: string}
  agree: boolean
}

export interface DifferentialResult {
  version: string
  outcomes: Outcome[]
  /** One line per disagreement, with the replay command. */
  disagreements: string[]
}

export async function runDifferential(opts: {
  kubeconfig: string
  external: boolean
  seed: number
  count: number
  batch: number
  label?: string
}): Promise<DifferentialResult> {
  const kube = await Kube.open(opts.kubeconfig)
  const version = (await kube.client.request<{gitVersion: string}>('GET', '/version')).gitVersion
  // The VolumeAttributesClass gate is on by default from 1.34; before, the API server drops the field.
  const vacOn = Number(/^v1\.(\d+)/.exec(version)?.[1] ?? 0) >= 34
  const out = join(OUT, opts.label ?? version)
  mkdirSync(out, {recursive: true})
  if (!opts.external) {
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
  try {
    // PVs may sit on any node, the odd ones included; pods may tolerate the taint.
    const nodes: LiveNode[] = (await usableNodes(kube)).concat(
      opts.external ? [] : ODD_NODES.map((n) => ({name: n.name, hostname: n.name, zone: n.zone})),
    )
    // The snapshot holds every node, tainted ones too: pv-doctor must see what the scheduler sees.
    const liveNodes = await kube.list<Obj>('Node')
    const snapshotFile = (batch: GenScenario[], name: string): string => {
      const items = [
        ...liveNodes.map((n) => ({...n, apiVersion: 'v1', kind: 'Node'})),
        ...batch.flatMap((s) => [...s.clusterObjects, ...s.claims, ...(s.pod ? [s.pod] : [])]),
      ]
      const file = join(out, name)
      writeFileSync(file, JSON.stringify({apiVersion: 'v1', kind: 'List', items}, null, 1))
      return file
    }
    const outcomes: Outcome[] = []
    for (let start = 0, b = 0; start < opts.count; start += opts.batch, b++) {
      const batch = Array.from({length: Math.min(opts.batch, opts.count - start)}, (_, i) =>
        generate(opts.seed, start + i, nodes, {volumeAttributesClasses: vacOn}),
      )
      outcomes.push(...(await runBatch(kube, batch, snapshotFile(batch, `batch-${b}.json`), version)))
    }
    const disagreements = outcomes
      .filter((o) => !o.agree)
      .map((o) => {
        const file = snapshotFile([o.scenario], `disagree-${o.scenario.id}.json`)
        return `DISAGREE on ${version} seed=${opts.seed} scenario=${o.scenario.id} claim=${o.claim} (${o.scenario.summary}): predicted ${o.predicted.cause} ${o.predicted.wouldBind ?? ''}${o.predicted.ties.length ? ` ties ${o.predicted.ties.join(',')}` : ''}; cluster ${o.actual.bound ? `bound ${o.actual.volume}` : 'did not bind'}\n  replay: kubectl pv-doctor explain -A --all --kube-version ${version} --from-file ${file}`
      })
    return {version, outcomes, disagreements}
  } finally {
    if (!opts.external) for (const n of ODD_NODES) await kube.delete('Node', n.name)
  }
}

/** The lines the CI log shows: causes, then `agreement: N/M ... on Kubernetes vX.Y.Z`. */
export function summary(r: DifferentialResult, seed: number): string {
  const agreeing = r.outcomes.filter((o) => o.agree).length
  const byCause = new Map<string, number>()
  for (const o of r.outcomes) byCause.set(o.predicted.cause, (byCause.get(o.predicted.cause) ?? 0) + 1)
  return (
    `\ndifferential (seed ${seed}, ${r.version}): causes ${[...byCause].map(([c, n]) => `${c}=${n}`).join(' ')}\n` +
    `agreement: ${agreeing}/${r.outcomes.length} (claims, in ${new Set(r.outcomes.map((o) => o.scenario.id)).size} scenarios) on Kubernetes ${r.version}\n`
  )
}

async function runBatch(kube: Kube, batch: GenScenario[], file: string, version: string): Promise<Outcome[]> {
  // 1. Ask pv-doctor offline, before anything exists, with the rules of the cluster's version.
  const r = runCli(['explain', '-A', '--all', '--from-file', file, '--kube-version', version, '-o', 'json'])
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
