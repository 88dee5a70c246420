/**
 * `explain sts/NAME`: every claim a StatefulSet has or should have, one per volumeClaimTemplate and
 * ordinal, and why a missing one was not created. Follows the StatefulSet controller
 * (pkg/controller/statefulset: getPersistentVolumeClaimName, createPersistentVolumeClaims and
 * recordClaimEvent's `FailedCreate` texts; the retention policy) and the admission plugins that
 * refuse claims (ResourceQuota: "exceeded quota: ..."; LimitRanger: "minimum/maximum storage usage
 * per PersistentVolumeClaim is ...").
 */
import type {V1LimitRange, V1PersistentVolumeClaim, V1ResourceQuota, V1StatefulSet} from '@kubernetes/client-node'
import {requestOf} from '../binding/matchVolume.js'
import {quantityOrZero} from '../binding/quantity.js'
import {claimClass} from '../binding/storageClass.js'
import type {World} from '../binding/world.js'
import {eventMessage, latest, quoteEvent} from '../snapshot/events.js'
import {diagnoseClaim} from './diagnoseClaim.js'
import type {ClaimDiagnosis, Severity, WorkloadClaim, WorkloadDiagnosis} from './types.js'

/** statefulset getPersistentVolumeClaimName: `<template>-<set>-<ordinal>`. */
export function statefulSetClaimName(template: string, set: string, ordinal: number): string {
  return `${template}-${set}-${ordinal}`
}

const QUOTA_TEXT = /exceeded quota: ([^,]+), requested: (.+?), used: (.+?), limited: (.+)$/
const LIMIT_TEXT =
  /(minimum|maximum) storage usage per PersistentVolumeClaim is (\S+?),? (?:but request is (\S+)|\. {1,2}No request is specified)/

/** The resources a claim counts against (quota/v1 evaluator for persistentvolumeclaims). */
function quotaKeys(pvc: V1PersistentVolumeClaim): string[] {
  const cls = claimClass(pvc)
  const keys = ['persistentvolumeclaims', 'requests.storage']
  if (cls)
    keys.push(
      `${cls}.storageclass.storage.k8s.io/persistentvolumeclaims`,
      `${cls}.storageclass.storage.k8s.io/requests.storage`,
    )
  return keys
}

/** "requests.storage: used 1Gi of 1Gi" for each resource of the quota the claim counts against. */
function quotaFigures(q: V1ResourceQuota, keys: readonly string[]): string[] {
  const hard = q.status?.hard ?? q.spec?.hard ?? {}
  const used = q.status?.used ?? {}
  return keys.filter((k) => hard[k] !== undefined).map((k) => `${k}: used ${used[k] ?? '0'} of ${hard[k]}`)
}

/** Would creating the claim exceed a quota of the namespace (status.used + the claim's request > hard)? */
function exceededQuota(
  pvc: V1PersistentVolumeClaim,
  quotas: readonly V1ResourceQuota[],
): {q: V1ResourceQuota; key: string} | undefined {
  const req = requestOf(pvc)
  for (const q of quotas) {
    const hard = q.status?.hard ?? {}
    const used = q.status?.used ?? {}
    for (const k of quotaKeys(pvc)) {
      if (hard[k] === undefined) continue
      const add = k.endsWith('persistentvolumeclaims') ? quantityOrZero('1') : req
      if (quantityOrZero(used[k]) + add > quantityOrZero(hard[k])) return {q, key: k}
    }
  }
  return undefined
}

/**
 * Why the API server refused a claim (or pod) a controller tried to create, from the error it
 * quotes: ResourceQuota admission ("exceeded quota: NAME, requested: ..., used: ..., limited:
 * ..."; plugin/pkg/admission/resourcequota via quota/v1 CheckRequest), LimitRanger
 * (PersistentVolumeClaimValidateLimitFunc: minConstraint / maxRequestConstraint's "minimum|maximum
 * storage usage per PersistentVolumeClaim is X, but request is Y"), or anything else, quoted.
 */
export function explainRefusal(
  msg: string,
  o: {
    namespace: string
    quotas: readonly V1ResourceQuota[]
    limitRanges: readonly V1LimitRange[]
    /** The resources whose current figures are shown (default: those the message names). */
    quotaKeys?: readonly string[]
    /** The first half of the fix for a LimitRange refusal: how to change the request. */
    change: string
  },
): {why: string; fix: string} {
  const ns = o.namespace
  const quota = QUOTA_TEXT.exec(msg)
  if (quota) {
    const q = o.quotas.find((x) => x.metadata?.name === quota[1])
    const keys = o.quotaKeys ?? quota[2].split(',').map((kv) => kv.split('=')[0])
    const figures = q ? quotaFigures(q, keys) : []
    return {
      why: `the ResourceQuota "${quota[1]}" refused it: requested ${quota[2]}, used ${quota[3]}, limited ${quota[4]}${figures.length ? ` (now ${figures.join('; ')})` : ''}`,
      fix: `Raise the quota or free what it counts in ${ns}: kubectl edit resourcequota -n ${ns} ${quota[1]}`,
    }
  }
  const limit = LIMIT_TEXT.exec(msg)
  if (limit) {
    const bound = limit[1] === 'minimum' ? 'min' : 'max'
    const ranges = o.limitRanges.filter((l) =>
      (l.spec?.limits ?? []).some((x) => x.type === 'PersistentVolumeClaim' && x[bound]?.storage),
    )
    // The one whose bound the message quotes (the admission prints the LimitRange's own quantity).
    const lr =
      ranges.find((l) =>
        (l.spec?.limits ?? []).some((x) => x.type === 'PersistentVolumeClaim' && x[bound]?.storage === limit[2]),
      ) ?? ranges[0]
    return {
      why: `a LimitRange${lr ? ` ("${lr.metadata?.name}")` : ''} refused it: the ${limit[1]} storage per claim is ${limit[2]}${limit[3] ? `, the template asks ${limit[3]}` : ', and the template asks none'}`,
      fix: `${o.change}, or change the LimitRange: kubectl edit limitrange -n ${ns}${lr ? ` ${lr.metadata?.name}` : ''}`,
    }
  }
  return {why: `the API server refused it: ${msg}`, fix: 'Read the FailedCreate message above and fix what it names.'}
}

/** The claim the controller would create from a template for an ordinal (what quota and LimitRange see). */
function claimFromTemplate(set: V1StatefulSet, t: V1PersistentVolumeClaim, ordinal: number): V1PersistentVolumeClaim {
  const ns = set.metadata?.namespace ?? 'default'
  return {
    ...t,
    metadata: {
      ...t.metadata,
      name: statefulSetClaimName(t.metadata?.name ?? '', set.metadata?.name ?? '', ordinal),
      namespace: ns,
    },
  }
}

export function diagnoseStatefulSet(
  set: V1StatefulSet,
  w: World,
): {workload: WorkloadDiagnosis; claims: ClaimDiagnosis[]} {
  const ns = set.metadata?.namespace ?? 'default'
  const name = set.metadata?.name ?? ''
  const replicas = set.spec?.replicas ?? 1
  const start = set.spec?.ordinals?.start ?? 0
  const retention = {
    whenDeleted: set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain',
    whenScaled: set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain',
  }
  const events = w.events.about('StatefulSet', ns, name, set.metadata?.uid)
  const quotas = w.snapshot.resourceQuotas.filter((q) => (q.metadata?.namespace ?? 'default') === ns)
  const limitRanges = w.snapshot.limitRanges.filter((l) => (l.metadata?.namespace ?? 'default') === ns)
  const templates = set.spec?.volumeClaimTemplates ?? []
  const out: WorkloadClaim[] = []
  const diagnoses: ClaimDiagnosis[] = []
  const fix = new Set<string>()
  const orderedReady = (set.spec?.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady'

  for (const t of templates) {
    const template = t.metadata?.name ?? ''
    // Claims of this template that exist, for the current ordinals and beyond (kept from a scale-down).
    const prefix = `${template}-${name}-`
    const existing = new Map<number, V1PersistentVolumeClaim>()
    for (const c of w.snapshot.pvcs) {
      const n = c.metadata?.name ?? ''
      if ((c.metadata?.namespace ?? 'default') !== ns || !n.startsWith(prefix)) continue
      const suffix = n.slice(prefix.length)
      if (/^\d+$/.test(suffix)) existing.set(Number(suffix), c)
    }
    for (let ordinal = start; ordinal < start + replicas; ordinal++) {
      const claimName = statefulSetClaimName(template, name, ordinal)
      const pvc = existing.get(ordinal)
      if (pvc) {
        const d = diagnoseClaim(pvc, w)
        diagnoses.push(d)
        out.push({
          name: claimName,
          template,
          ordinal,
          state: 'present',
          severity: d.severity,
          phase: d.phase,
          cause: d.cause,
          volume: pvc.spec?.volumeName || undefined,
          evidence: [],
        })
        continue
      }
      out.push(missingClaim(claimName, template, ordinal))
    }
    for (const [ordinal, pvc] of [...existing].sort((a, b) => a[0] - b[0])) {
      if (ordinal >= start && ordinal < start + replicas) continue
      const volume = pvc.spec?.volumeName || undefined
      out.push({
        name: pvc.metadata?.name ?? '',
        template,
        ordinal,
        state: 'retained',
        severity: 'ok',
        phase: pvc.status?.phase ?? 'Pending',
        volume,
        why:
          retention.whenScaled === 'Delete'
            ? `beyond the ${replicas} replica(s); whenScaled: Delete, so the controller deletes it once pod ${name}-${ordinal} is gone`
            : `kept from a scale-down (whenScaled: Retain)${volume ? `, still bound to PV ${volume}` : ''}; a scale-up to ${ordinal + 1} replicas reuses it and its data`,
        evidence: [],
      })
    }

    function missingClaim(claimName: string, tpl: string, ordinal: number): WorkloadClaim {
      const failed = latest(
        events,
        (e) => e.reason === 'FailedCreate' && eventMessage(e).includes(`Claim ${claimName} `),
      )
      const evidence: string[] = []
      const want = claimFromTemplate(set, t, ordinal)
      let why: string
      if (failed) {
        evidence.push(quoteEvent(failed))
        const r = explainRefusal(eventMessage(failed), {
          namespace: ns,
          quotas,
          limitRanges,
          quotaKeys: quotaKeys(want),
          change: `Change the volumeClaimTemplate "${tpl}" request to fit the LimitRange (recreate the StatefulSet: templates are immutable)`,
        })
        why = r.why
        fix.add(r.fix)
      } else {
        const over = exceededQuota(want, quotas)
        const podExists = w.pods.has(`${ns}/${name}-${ordinal}`)
        if (over) {
          why = `not created yet, and the ResourceQuota "${over.q.metadata?.name}" would refuse it (${quotaFigures(over.q, [over.key]).join('; ')}, this claim asks ${over.key.endsWith('persistentvolumeclaims') ? '1 more' : (want.spec?.resources?.requests?.storage ?? '?')})`
          fix.add(`Raise the quota: kubectl edit resourcequota -n ${ns} ${over.q.metadata?.name}`)
        } else if (set.metadata?.deletionTimestamp) {
          why = 'the StatefulSet is being deleted'
        } else if (orderedReady && ordinal > start && !podExists) {
          why = `not created yet: podManagementPolicy OrderedReady creates pod ${name}-${ordinal} (and its claims) only after ${name}-${ordinal - 1} is Running and Ready`
        } else if (w.skipped.has('events')) {
          why = 'not created, and events could not be read to say why'
        } else {
          why =
            'not created, and the StatefulSet has no FailedCreate event for it (events expire after an hour): check that kube-controller-manager runs the statefulset controller'
        }
      }
      return {name: claimName, template: tpl, ordinal, state: 'missing', severity: 'error', why, evidence}
    }
  }

  const missing = out.filter((c) => c.state === 'missing')
  const unhealthy = out.filter((c) => c.state === 'present' && (c.severity === 'error' || c.severity === 'warning'))
  const retained = out.filter((c) => c.state === 'retained')
  const severity: Severity =
    missing.length || unhealthy.some((c) => c.severity === 'error') ? 'error' : unhealthy.length ? 'warning' : 'ok'
  const parts = [
    `${replicas} replica(s) × ${templates.length} volumeClaimTemplate(s): ${out.length - missing.length - retained.length} claim(s) exist`,
    missing.length ? `${missing.length} missing (${missing.map((c) => c.name).join(', ')})` : '',
    unhealthy.length ? `${unhealthy.length} not healthy` : '',
    retained.length ? `${retained.length} kept beyond the replicas` : '',
  ].filter(Boolean)
  // whenDeleted Delete: the controller makes the StatefulSet an owner of its claims
  // (stateful_pod_control UpdatePodClaimForRetentionPolicy), so the garbage collector removes them
  // with it; Retain leaves them, bound, for a StatefulSet of the same name to reuse.
  const deleting = !set.metadata?.deletionTimestamp
    ? ''
    : retention.whenDeleted === 'Delete'
      ? ' The StatefulSet is being deleted: whenDeleted Delete, so the garbage collector deletes its claims with it (and, with reclaimPolicy Delete, their volumes).'
      : ' The StatefulSet is being deleted: whenDeleted Retain, so its claims stay, and a StatefulSet of the same name reuses them.'
  const message =
    templates.length === 0
      ? `StatefulSet ${ns}/${name} has no volumeClaimTemplates: its pods' volumes are not its own claims.`
      : `${parts.join(', ')}. Retention: whenDeleted ${retention.whenDeleted}, whenScaled ${retention.whenScaled}.${deleting}`
  return {
    workload: {
      kind: 'StatefulSet',
      namespace: ns,
      name,
      replicas,
      retention,
      severity,
      message,
      claims: out,
      fix: [...fix],
    },
    claims: diagnoses,
  }
}
