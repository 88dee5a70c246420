/**
 * explain reads only what a verdict needs (diagnose/needs.ts): on the benchmark's S cluster
 * (100 fake nodes, 1,000 PVs, claims and pods, bound by the real PV controller, scheduled by
 * the real scheduler), every claim's verdict read that way equals the one a full read gives,
 * claim by claim, and so do pod/NAME and `explain -A`. Its own control plane (the S nodes); the
 * PV controller resyncs rarely so that the objects stand still while both are read (a claim
 * whose objects moved between the two reads is read again).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {KubeClient} from '../../src/kube/client.js'
import {diagnose, type Target} from '../../src/diagnose/diagnose.js'
import {scanPlanner, targetPlanner} from '../../src/diagnose/needs.js'
import {liveSnapshot} from '../../src/snapshot/liveSnapshot.js'
import {plannedSnapshot} from '../../src/snapshot/plannedSnapshot.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {loadCluster, type Loaded} from '../bench/load.js'
import {runCli} from '../helpers/cli.js'

let loaded: Loaded
let client: KubeClient

beforeAll(async () => {
  loaded = await loadCluster('S', {
    log: () => {},
    settleMin: 5,
    pvSyncPeriod: '1h',
    controllerQps: 400,
  })
  client = loaded.client
}, 15 * 60_000)

afterAll(async () => {
  await loaded?.cluster.stop()
})

const key = (t: Target) => `${t.kind}:${t.namespace}/${t.name}`

/**
 * The targets whose verdict from a planned read differs from a full read. Objects may move
 * between the reads (the controllers are live): a differing target is read again, both ways,
 * up to three times.
 */
async function differing(targets: Target[]): Promise<{target: string; got: unknown; want: unknown}[]> {
  let todo = targets
  let out: {target: string; got: unknown; want: unknown}[] = []
  for (let attempt = 0; attempt < 3 && todo.length; attempt++) {
    const full: Snapshot = await liveSnapshot(client, {})
    const next: Target[] = []
    out = []
    for (const t of todo) {
      const snap = await plannedSnapshot(client, targetPlanner([t]))
      const got = diagnose(snap, {targets: [t], all: false}).claims
      const want = diagnose(full, {targets: [t], all: false}).claims
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        next.push(t)
        out.push({target: key(t), got, want})
      }
    }
    todo = next
  }
  return out
}

describe('explain reads only what the verdict needs, and gives the verdict of a full read', () => {
  it('for every claim of the S cluster (NS/NAME)', async () => {
    const full = await liveSnapshot(client, {})
    const targets: Target[] = full.pvcs.map((p) => ({
      kind: 'claim',
      namespace: p.metadata!.namespace!,
      name: p.metadata!.name!,
    }))
    expect(targets.length).toBe(1000)
    const causes = new Set(diagnose(full, {targets, all: false}).claims.map((c) => c.cause))
    expect(causes.size).toBeGreaterThanOrEqual(8)
    expect(await differing(targets)).toEqual([])
  }, 600_000)

  it('for the claims of every tenth pod (pod/NAME)', async () => {
    const full = await liveSnapshot(client, {})
    const targets: Target[] = full.pods
      .filter((_, i) => i % 10 === 0)
      .map((p) => ({kind: 'pod', namespace: p.metadata!.namespace!, name: p.metadata!.name!}))
    expect(await differing(targets)).toEqual([])
  }, 600_000)

  it('for explain -A (claims and PVs first, details for the unhealthy ones)', async () => {
    let got: unknown
    let want: unknown
    for (let attempt = 0; attempt < 3; attempt++) {
      got = diagnose(await plannedSnapshot(client, scanPlanner({})), {targets: [], all: false})
      want = diagnose(await liveSnapshot(client, {}), {targets: [], all: false})
      if (JSON.stringify(got) === JSON.stringify(want)) break
    }
    expect(got).toEqual(want)
  }, 600_000)

  it('through the CLI: explain NS/NAME -o json says what explain -A -o json says about that claim', () => {
    const env = {KUBECONFIG: loaded.cluster.kubeconfig}
    const all = JSON.parse(runCli(['explain', '-A', '-o', 'json'], {env}).stdout)
    const sample = all.claims.filter((_: unknown, i: number) => i % 25 === 0)
    expect(sample.length).toBeGreaterThanOrEqual(3)
    for (const c of sample) {
      const one = runCli(['explain', '-n', c.namespace, c.name, '-o', 'json'], {env})
      expect(one.stderr).toBe('')
      expect(JSON.parse(one.stdout).claims).toEqual([c])
    }
  })
})
