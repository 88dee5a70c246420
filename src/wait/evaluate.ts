/**
 * One look at the cluster for `wait`: which claims it waits for, the diagnosis of each, and
 * whether that claim is done, failed, or still worth waiting for. Pure: a snapshot and the clock in.
 */
import type {V1LabelSelector, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {labelSelectorMatches} from '../binding/selectors.js'
import {buildWorld, podClaimNames} from '../binding/world.js'
import {type Cause, type ClaimDiagnosis, diagnoseClaim} from '../diagnose/index.js'
import type {Snapshot} from '../snapshot/types.js'
import {timeOf} from '../snapshot/time.js'
import type {SourceRef} from './manifests.js'
import {type ClaimVerdict, claimVerdict, type WaitFor} from './terminal.js'

export type WaitTarget =
  | {kind: 'claim'; namespace: string; name: string; source?: SourceRef}
  | {kind: 'pod'; namespace: string; name: string}

export interface WaitSpec {
  /** Named claims and pods; empty = every claim in `scope`. */
  targets: WaitTarget[]
  scope?: {namespace?: string; selector?: V1LabelSelector}
  for: WaitFor
  graceMs: number
  failAfterRetries?: number
}

export interface ClaimStatus {
  namespace: string
  /** The claim's name, or `pod/NAME` for a pod that does not exist yet. */
  name: string
  state: ClaimVerdict
  /** `NotCreated`: the claim (or pod) does not exist yet; waiting for it is waiting for the apply. */
  cause: Cause | 'NotCreated'
  /** One line for progress and success output. */
  summary: string
  diagnosis?: ClaimDiagnosis
  source?: SourceRef
}

export function evaluate(snapshot: Snapshot, spec: WaitSpec, now: number): ClaimStatus[] {
  const world = buildWorld(snapshot)
  const out: ClaimStatus[] = []
  const seen = new Set<string>()
  const judge = (pvc: V1PersistentVolumeClaim, via?: V1Pod, source?: SourceRef) => {
    const key = `${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name}`
    if (seen.has(key)) return
    seen.add(key)
    const d = diagnoseClaim(pvc, world, via)
    const events = world.events.about('PersistentVolumeClaim', d.namespace, d.name, pvc.metadata?.uid)
    const retries = events
      .filter((e) => e.reason === 'ProvisioningFailed')
      .reduce((n, e) => n + Math.max(1, e.count ?? 1), 0)
    const state = claimVerdict(d, {
      for: spec.for,
      ageMs: now - timeOf(pvc.metadata?.creationTimestamp),
      graceMs: spec.graceMs,
      retries,
      failAfterRetries: spec.failAfterRetries,
    })
    out.push({
      namespace: d.namespace,
      name: d.name,
      state,
      cause: d.cause,
      summary: d.cause === 'Bound' ? `Bound to ${d.wouldBind}` : `${d.cause}: ${d.message}`,
      diagnosis: d,
      source,
    })
  }
  const notCreated = (namespace: string, name: string, what: string, source?: SourceRef) =>
    out.push({namespace, name, state: 'waiting', cause: 'NotCreated', summary: `${what} does not exist yet`, source})

  if (spec.targets.length === 0) {
    for (const pvc of snapshot.pvcs) {
      const ns = pvc.metadata?.namespace ?? 'default'
      if (spec.scope?.namespace !== undefined && ns !== spec.scope.namespace) continue
      if (spec.scope?.selector && labelSelectorMatches(spec.scope.selector, pvc.metadata?.labels) !== true) continue
      judge(pvc)
    }
  }
  for (const t of spec.targets) {
    if (t.kind === 'claim') {
      const pvc = world.claims.get(`${t.namespace}/${t.name}`)
      if (pvc) judge(pvc, undefined, t.source)
      else notCreated(t.namespace, t.name, `claim ${t.namespace}/${t.name}`, t.source)
    } else {
      const pod = world.pods.get(`${t.namespace}/${t.name}`)
      if (!pod) {
        notCreated(t.namespace, `pod/${t.name}`, `pod ${t.namespace}/${t.name}`)
        continue
      }
      for (const c of podClaimNames(pod)) {
        const pvc = world.claims.get(`${t.namespace}/${c.name}`)
        if (pvc) judge(pvc, pod)
        else notCreated(t.namespace, c.name, `claim ${t.namespace}/${c.name} of pod ${t.name}`)
      }
    }
  }
  return out
}

/** failed when any claim failed (no point waiting for the rest), done when all are, else waiting. */
export function overall(claims: readonly ClaimStatus[]): ClaimVerdict {
  if (claims.some((c) => c.state === 'failed')) return 'failed'
  return claims.every((c) => c.state === 'done') ? 'done' : 'waiting'
}
