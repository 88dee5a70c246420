/**
 * What CI formats report, one case per claim, from `explain`'s Diagnosis or `wait`'s outcome: did
 * it fail, the cause and message, the fix, and (with `wait -f`) the manifest line it comes from.
 */
import type {Diagnosis} from '../diagnose/types.js'
import type {SourceRef} from '../wait/manifests.js'
import type {WaitOutcome} from '../wait/loop.js'

export interface CiCase {
  namespace: string
  name: string
  /** error/warning fail the case; notice is reported but passes; none is silent. */
  level: 'error' | 'warning' | 'notice' | 'none'
  /** Not judged (wait ended early because another claim failed). */
  skipped?: string
  cause: string
  message: string
  fix: string[]
  evidence: string[]
  source?: SourceRef
  seconds?: number
}

export function casesFromDiagnosis(d: Diagnosis): CiCase[] {
  // A PV asked about (pv/NAME) is a case of its own, named pv/NAME (PVs have no namespace).
  const volumes: CiCase[] = (d.volumes ?? []).map((v) => ({
    namespace: '',
    name: `pv/${v.name}`,
    level: v.severity === 'error' ? 'error' : v.severity === 'warning' ? 'warning' : 'none',
    cause: v.cause,
    message: v.message,
    fix: v.fix,
    evidence: v.evidence,
  }))
  return volumes.concat(
    d.claims.map((c) => ({
      namespace: c.namespace,
      name: c.name,
      level: c.severity === 'error' ? 'error' : c.severity === 'warning' ? 'warning' : 'none',
      cause: c.cause,
      message: c.message,
      fix: c.fix,
      evidence: c.evidence,
    })),
  )
}

export function casesFromWait(o: WaitOutcome): CiCase[] {
  return o.claims.map((c) => {
    const d = c.diagnosis
    const base = {
      namespace: c.namespace,
      name: c.name,
      cause: c.cause,
      message: d?.message ?? c.summary,
      fix: d?.fix ?? [],
      evidence: d?.evidence ?? [],
      source: c.source,
      seconds: (c.doneAfterMs ?? o.elapsedMs) / 1000,
    }
    if (c.state === 'done') return {...base, level: 'none' as const}
    if (c.state === 'failed') return {...base, level: 'error' as const}
    if (o.result === 'timeout')
      return {
        ...base,
        level: 'error' as const,
        message: `Timed out after ${(o.elapsedMs / 1000).toFixed(0)}s while still waiting: ${base.message}`,
      }
    return {...base, level: 'none' as const, skipped: 'not finished: the wait ended because another claim failed'}
  })
}
