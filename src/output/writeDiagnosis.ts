/**
 * explain's human text and JSON, written as they are made (./writeParts.ts). A scan's claims
 * come from diagnoseScan one at a time: each is diagnosed, written and let go, so memory never
 * holds the whole list (at 20,000 reported claims, hundreds of MB) nor the whole text.
 */
import type {ChalkInstance} from 'chalk'
import type {ClaimDiagnosis, Diagnosis, Severity} from '../diagnose/types.js'
import {type RenderOptions, renderDiagnosisParts} from './renderDiagnosis.js'
import {toJSONChunks} from './serialize.js'
import {writeParts} from './writeParts.js'

/** A Diagnosis whose claims may be a generator, read once. */
export type StreamedDiagnosis = Omit<Diagnosis, 'claims'> & {claims: Iterable<ClaimDiagnosis>}

export type WriteFormat = {json: true} | {json: false; chalk: ChalkInstance; render: RenderOptions}

/**
 * Writes `d` to stdout; gives the severities of what was written, for the exit status (after a
 * reader that went away, `| head`, only those of the claims written).
 */
export async function writeDiagnosis(
  d: StreamedDiagnosis,
  format: WriteFormat,
): Promise<Pick<Diagnosis, 'workloads' | 'volumes'> & {claims: {severity: Severity}[]}> {
  const claims: {severity: Severity}[] = []
  const counted = (function* () {
    for (const c of d.claims) {
      claims.push({severity: c.severity})
      yield c
    }
  })()
  const doc = {...d, claims: counted} // the same keys in the same order: the JSON is diagnose's
  await writeParts(format.json ? toJSONChunks(doc) : renderDiagnosisParts(doc, format.chalk, format.render))
  return {workloads: d.workloads, volumes: d.volumes, claims}
}
