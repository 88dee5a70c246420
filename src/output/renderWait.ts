/** The human and JSON views of `wait`: progress lines, one line per claim on success, the root-cause blocks on failure. */
import type {ChalkInstance} from 'chalk'
import type {ClaimStatus} from '../wait/evaluate.js'
import type {WaitOutcome} from '../wait/loop.js'
import {renderDiagnosis} from './renderDiagnosis.js'

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`

/** One line per claim for the live status on a terminal. */
export function progressLines(claims: readonly ClaimStatus[], elapsedMs: number, c: ChalkInstance): string[] {
  return claims.map((x) => {
    const mark = x.state === 'done' ? c.green('✓') : x.state === 'failed' ? c.red('✗') : c.yellow('…')
    const what = x.state === 'done' ? x.summary : x.cause
    return `${mark} ${x.namespace}/${x.name}  ${what}  ${c.dim(secs(elapsedMs))}`
  })
}

export function renderWait(o: WaitOutcome, c: ChalkInstance): string {
  if (o.result === 'done') {
    const lines = o.claims.map(
      (x) => `${c.green('✓')} ${x.namespace}/${x.name}  ${doneWhat(x)}  (${secs(x.doneAfterMs ?? o.elapsedMs)})`,
    )
    if (lines.length === 0) lines.push('No claims to wait for.')
    return `${lines.join('\n')}\n`
  }
  const bad = o.claims.filter((x) => x.state === 'failed' || (o.result === 'timeout' && x.state !== 'done'))
  const head =
    o.result === 'failed'
      ? c.red(
          `wait failed after ${secs(o.elapsedMs)}: only a change by a person can resolve ${bad.map((x) => `${x.namespace}/${x.name}`).join(', ')}.`,
        )
      : c.yellow(
          `wait timed out after ${secs(o.elapsedMs)} while ${bad.map((x) => `${x.namespace}/${x.name}`).join(', ')} ${bad.length === 1 ? 'was' : 'were'} still progressing.`,
        )
  const diags = bad.flatMap((x) => (x.diagnosis ? [x.diagnosis] : []))
  const missing = bad.filter((x) => !x.diagnosis).map((x) => `${x.namespace}/${x.name}  ${x.cause}: ${x.summary}`)
  const body = diags.length
    ? renderDiagnosis({apiVersion: 'pv-doctor/v1', kind: 'Diagnosis', skipped: o.skipped, claims: diags}, c, {
        scopeLabel: '',
      })
    : ''
  return `${[head, '', body.trimEnd(), ...missing].filter((l, i) => l !== '' || i === 1).join('\n')}\n`
}

function doneWhat(x: ClaimStatus): string {
  if (x.cause === 'WaitingForFirstConsumer')
    return 'WaitingForFirstConsumer (usable: binds when its first pod is scheduled)'
  return x.summary
}

/** The `-o json|yaml` document of `wait` (docs/output.md). */
export function waitDocument(o: WaitOutcome) {
  return {
    apiVersion: 'pv-doctor/v1',
    kind: 'WaitResult',
    result: o.result,
    elapsedSeconds: Number((o.elapsedMs / 1000).toFixed(3)),
    skipped: o.skipped,
    claims: o.claims.map((x) => ({
      namespace: x.namespace,
      name: x.name,
      state: x.state,
      cause: x.cause,
      ...(x.doneAfterMs === undefined ? {} : {seconds: Number((x.doneAfterMs / 1000).toFixed(3))}),
      ...(x.source ? {source: x.source} : {}),
      ...(x.state === 'done' || !x.diagnosis ? {} : {diagnosis: x.diagnosis}),
    })),
  }
}
