/**
 * The oracle on the suite's control plane (differentialRun.ts): random scenarios, pv-doctor's
 * offline prediction, then the real controller and scheduler. Every disagreement is written out
 * with its seed and a replay command.
 *
 *   PV_DOCTOR_SEED=7 PV_DOCTOR_SCENARIOS=50 npm run test:e2e -- differential
 */
import {describe, expect, inject, it} from 'vitest'
import {runDifferential, summary} from './differentialRun.js'

const SEED = Number(process.env.PV_DOCTOR_SEED ?? 20261125)
const COUNT = Number(process.env.PV_DOCTOR_SCENARIOS ?? 200)
const BATCH = Number(process.env.PV_DOCTOR_BATCH ?? 25)

describe('differential: pv-doctor predicts what the real controller and scheduler do', () => {
  it(`agrees on every claim of ${COUNT} random scenarios (seed ${SEED})`, {timeout: 30 * 60_000}, async () => {
    const r = await runDifferential({
      kubeconfig: inject('kubeconfig'),
      external: inject('cluster').external,
      seed: SEED,
      count: COUNT,
      batch: BATCH,
    })
    for (const d of r.disagreements) process.stdout.write(`${d}\n`)
    process.stdout.write(summary(r, SEED))
    expect(r.disagreements).toEqual([])
  })
})
