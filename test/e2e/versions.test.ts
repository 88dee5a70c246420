/**
 * The oracle on other Kubernetes minors (PV_DOCTOR_VERSIONS; default the two CI runs besides the
 * suite's own 1.36): each version's control plane is built from the Go module proxy by
 * test/cluster/build.sh with K8S_VERSION (cached per version, like the main one), started beside
 * the suite's cluster with fake nodes only, and differentialRun.ts runs on it, then the
 * matchFields-pinned pod of pinnedByName.ts (the scheduler's wording for nodes a PreFilterResult
 * leaves out). `PV_DOCTOR_VERSIONS=`
 * (empty) skips it.
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {describe, expect, inject, it} from 'vitest'
import {BUILD_SCRIPT, startCluster} from '../cluster/cluster.js'
import {runDifferential, summary} from './differentialRun.js'
import {Kube} from './kube.js'
import {pinnedByName} from './pinnedByName.js'
import {Scenarios} from './scenario.js'

const VERSIONS = (process.env.PV_DOCTOR_VERSIONS ?? '1.32.13,1.34.4')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
const SEED = Number(process.env.PV_DOCTOR_SEED ?? 20261125)
const COUNT = Number(process.env.PV_DOCTOR_VERSION_SCENARIOS ?? 100)

async function build(version: string): Promise<string> {
  const t0 = Date.now()
  const {stdout} = await promisify(execFile)('bash', [BUILD_SCRIPT], {
    env: {...process.env, K8S_VERSION: version},
    maxBuffer: 64 << 20,
  })
  const dir = stdout.trim().split('\n').pop()!
  process.stderr.write(
    `[pv-doctor e2e] Kubernetes v${version} binaries ready in ${Math.round((Date.now() - t0) / 1000)} s: ${dir}\n`,
  )
  return dir
}

describe.skipIf(inject('cluster').external || VERSIONS.length === 0)('the oracle on other Kubernetes minors', () => {
  for (const version of VERSIONS) {
    it(`agrees on every claim of ${COUNT} random scenarios on Kubernetes v${version} (seed ${SEED})`, {
      timeout: 60 * 60_000,
    }, async () => {
      const binDir = await build(version)
      const c = await startCluster({binDir, csi: false, realNode: false})
      try {
        const r = await runDifferential({
          kubeconfig: c.kubeconfig,
          external: false,
          seed: SEED,
          count: COUNT,
          batch: 25,
          label: `v${version}`,
        })
        for (const d of r.disagreements) process.stdout.write(`${d}\n`)
        process.stdout.write(summary(r, SEED))
        expect(r.version).toBe(`v${version}`)
        expect(r.disagreements).toEqual([])
        // FailedScheduling's wording for the nodes a PreFilterResult leaves out, on this minor.
        const kube = await Kube.open(c.kubeconfig)
        const scenarios = new Scenarios(kube, c.kubeconfig)
        try {
          const {condition, total, claim} = await pinnedByName(scenarios, kube)
          expect(condition).toContain(`${total - 1} node(s) didn't satisfy plugin(s) [NodeAffinity]`)
          expect(condition).toContain(claim.consumers[0].summary!.replace(/\.$/, ''))
        } finally {
          await scenarios.cleanup()
        }
      } finally {
        await c.stop()
      }
    })
  }
})
