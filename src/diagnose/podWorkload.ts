/**
 * `explain deploy/NAME` and `rs/NAME`: every claim a Deployment's or ReplicaSet's pod template
 * uses, the pods it owns, and what holds each one.
 *
 * Ownership follows the controllers: a Deployment owns ReplicaSets, a ReplicaSet owns pods, each
 * by a controller ownerReference (metav1.GetControllerOf; pkg/controller/deployment getReplicaSetsForDeployment,
 * replicaset claimPods). A Deployment's newest ReplicaSet is the one with the highest
 * `deployment.kubernetes.io/revision` (deployment/util MaxRevision).
 *
 * Claims: a persistentVolumeClaim volume names one claim every replica shares; a generic
 * ephemeral volume makes one claim per pod, `<pod>-<volume>`, owned by the pod
 * (component-helpers storage/ephemeral VolumeClaimName, VolumeIsForPod; the ephemeral volume
 * controller, pkg/controller/volume/ephemeral handleVolume, which reports a refused create on the
 * pod as `FailedBinding` "ephemeral volume V: create PVC C: ERROR").
 *
 * Why pods are missing: the ReplicaSet's `FailedCreate` "Error creating: ERROR"
 * (pkg/controller controller_utils RealPodControl.createPods).
 */
import type {V1Deployment, V1PersistentVolumeClaim, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'
import {labelSelectorMatches} from '../binding/selectors.js'
import {podClaimNames, type World} from '../binding/world.js'
import {eventMessage, latest, quoteEvent} from '../snapshot/events.js'
import type {Snapshot} from '../snapshot/types.js'
import {diagnoseClaim} from './diagnoseClaim.js'
import type {ClaimDiagnosis, Severity, WorkloadClaim, WorkloadDiagnosis, WorkloadPod} from './types.js'
import {explainRefusal} from './workload.js'

type Owned = {metadata?: {ownerReferences?: {kind?: string; name?: string; uid?: string; controller?: boolean}[]}}

/** metav1.GetControllerOf: the ownerReference with controller: true. */
function controllerOf(o: Owned): {kind?: string; name?: string; uid?: string} | undefined {
  return o.metadata?.ownerReferences?.find((r) => r.controller)
}

function controlledBy(o: Owned, kind: string, owner: {metadata?: {name?: string; uid?: string}}): boolean {
  const ref = controllerOf(o)
  if (!ref || ref.kind !== kind) return false
  return owner.metadata?.uid ? ref.uid === owner.metadata.uid : ref.name === owner.metadata?.name
}

const REVISION = 'deployment.kubernetes.io/revision'
const revisionOf = (rs: V1ReplicaSet) => Number(rs.metadata?.annotations?.[REVISION] ?? 0) || 0

const RANK: Record<Severity, number> = {ok: 0, info: 1, warning: 2, error: 3}
const worst = (list: Severity[]): Severity => list.reduce<Severity>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok')

/**
 * The ReplicaSets whose pods count (a Deployment's, newest first; or the ReplicaSet itself) and
 * the pods they own, sorted by name. Without ReplicaSets the owner chain is cut: a Deployment's
 * selector picks its pods (as `kubectl describe deploy` does), and `bySelector` says so.
 */
export function ownedPods(
  obj: V1Deployment | V1ReplicaSet,
  kind: 'Deployment' | 'ReplicaSet',
  snap: Snapshot,
): {sets: V1ReplicaSet[]; pods: V1Pod[]; bySelector: boolean} {
  const ns = obj.metadata?.namespace ?? 'default'
  const inNs = <T extends {metadata?: {namespace?: string}}>(l: readonly T[]) =>
    l.filter((x) => (x.metadata?.namespace ?? 'default') === ns)
  const sets: V1ReplicaSet[] =
    kind === 'ReplicaSet'
      ? [obj as V1ReplicaSet]
      : inNs(snap.replicaSets)
          .filter((rs) => controlledBy(rs, 'Deployment', obj))
          .sort((a, b) => revisionOf(b) - revisionOf(a))
  const bySelector = kind === 'Deployment' && snap.skipped.some((x) => x.resource === 'replicasets')
  const pods = bySelector
    ? inNs(snap.pods).filter(
        (p) => obj.spec?.selector && labelSelectorMatches(obj.spec.selector, p.metadata?.labels) === true,
      )
    : inNs(snap.pods).filter((p) => sets.some((rs) => controlledBy(p, 'ReplicaSet', rs)))
  pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
  return {sets, pods, bySelector}
}

export function diagnosePodWorkload(
  obj: V1Deployment | V1ReplicaSet,
  kind: 'Deployment' | 'ReplicaSet',
  w: World,
): {workload: WorkloadDiagnosis; claims: ClaimDiagnosis[]} {
  const ns = obj.metadata?.namespace ?? 'default'
  const name = obj.metadata?.name ?? ''
  const replicas = obj.spec?.replicas ?? 1
  const inNs = <T extends {metadata?: {namespace?: string}}>(l: readonly T[]) =>
    l.filter((x) => (x.metadata?.namespace ?? 'default') === ns)
  const quotas = inNs(w.snapshot.resourceQuotas)
  const limitRanges = inNs(w.snapshot.limitRanges)
  const fix = new Set<string>()
  const evidence: string[] = []
  const notes: string[] = []

  const {sets, pods, bySelector} = ownedPods(obj, kind, w.snapshot)
  const newest = kind === 'Deployment' ? sets[0] : undefined
  if (bySelector)
    notes.push(
      'ReplicaSets could not be read: pods are matched by the selector, and why pods were not created is unknown',
    )
  const rsOf = (p: V1Pod) => controllerOf(p)?.name ?? ''
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp)

  // Pods the ReplicaSets want but do not have, and what the API server said when they were created.
  for (const rs of sets) {
    const want = rs.spec?.replicas ?? 1
    const have = live.filter((p) => controlledBy(p, 'ReplicaSet', rs)).length
    if (have >= want) continue
    const rsName = rs.metadata?.name ?? ''
    const failed = latest(
      w.events.about('ReplicaSet', ns, rsName, rs.metadata?.uid),
      (e) => e.reason === 'FailedCreate',
    )
    if (failed) {
      evidence.push(`ReplicaSet ${rsName}: ${quoteEvent(failed)}`)
      const r = explainRefusal(eventMessage(failed), {
        namespace: ns,
        quotas,
        limitRanges,
        change: 'Change the pod template',
      })
      notes.push(
        `ReplicaSet ${rsName} has ${have} of ${want} pod(s): ${r.why.replace(/ refused it/, ' refused the pod')}`,
      )
      fix.add(r.fix)
    } else if (!w.skipped.has('events')) {
      notes.push(
        `ReplicaSet ${rsName} has ${have} of ${want} pod(s) (no FailedCreate event: the controller may still be creating them)`,
      )
    }
  }

  // Claims of the pod template.
  const claims: WorkloadClaim[] = []
  const diagnoses: ClaimDiagnosis[] = []
  const diagnosed = new Set<string>()
  const volumes = obj.spec?.template?.spec?.volumes ?? []
  for (const v of volumes) {
    if (v.persistentVolumeClaim?.claimName) {
      const claimName = v.persistentVolumeClaim.claimName
      const pvc = w.claims.get(`${ns}/${claimName}`)
      claims.push(
        pvc ? presentRow(pvc, {template: v.name, source: 'persistentVolumeClaim'}) : missingShared(claimName, v.name),
      )
    } else if (v.ephemeral) {
      for (const p of live) {
        const podName = p.metadata?.name ?? ''
        // VolumeClaimName: `<pod>-<volume>`.
        const claimName = `${podName}-${v.name}`
        const pvc = w.claims.get(`${ns}/${claimName}`)
        if (pvc && !controlledBy(pvc, 'Pod', p)) {
          // VolumeIsForPod's error: the pod cannot start until that claim is gone.
          claims.push({
            name: claimName,
            template: v.name,
            source: 'ephemeral',
            pod: podName,
            state: 'foreign',
            severity: 'error',
            phase: pvc.status?.phase ?? 'Pending',
            why: `PVC ${ns}/${claimName} was not created for pod ${ns}/${podName} (pod is not owner): the ephemeral volume controller will not use it`,
            evidence: [],
          })
          fix.add(
            `Delete or rename the claim ${claimName} in ${ns}: its name is the one pod ${podName}'s ephemeral volume ${v.name} needs`,
          )
        } else if (pvc) {
          claims.push(presentRow(pvc, {template: v.name, source: 'ephemeral', pod: podName}))
        } else {
          claims.push(missingEphemeral(claimName, v.name, p))
        }
      }
    }
  }

  // Each pod; one not running is followed through its claims (attach and mount included).
  const podRows: WorkloadPod[] = pods.map((p) => {
    const podName = p.metadata?.name ?? ''
    const phase = p.status?.phase ?? 'Pending'
    const row: WorkloadPod = {
      name: podName,
      replicaSet: rsOf(p),
      ...(newest ? {revision: controlledBy(p, 'ReplicaSet', newest) ? ('new' as const) : ('old' as const)} : {}),
      phase: p.metadata?.deletionTimestamp ? 'Terminating' : phase,
      ...(p.spec?.nodeName ? {node: p.spec.nodeName} : {}),
      severity: 'ok',
    }
    if (phase !== 'Pending' || p.metadata?.deletionTimestamp) return row
    const ds: ClaimDiagnosis[] = []
    const absent: string[] = []
    for (const {name: c} of podClaimNames(p)) {
      const pvc = w.claims.get(`${ns}/${c}`)
      if (!pvc) {
        absent.push(c)
        continue
      }
      const d = diagnoseClaim(pvc, w, p)
      ds.push(d)
      diagnoses.push(d)
      diagnosed.add(c)
    }
    if (absent.length) {
      row.severity = 'error'
      row.message = `waits for claim(s) that do not exist: ${absent.join(', ')}`
      return row
    }
    const bad = ds.filter((d) => RANK[d.severity] > 0).sort((a, b) => RANK[b.severity] - RANK[a.severity])[0]
    if (bad) {
      row.severity = bad.severity
      row.cause = bad.cause
      row.message = `${bad.name}: ${bad.message}`
    }
    return row
  })

  // The claims' own verdicts for those no pending pod followed.
  for (const c of claims) {
    if (c.state !== 'present' || diagnosed.has(c.name)) continue
    const pvc = w.claims.get(`${ns}/${c.name}`)!
    diagnoses.push(diagnoseClaim(pvc, w))
    diagnosed.add(c.name)
  }

  const missing = claims.filter((c) => c.state === 'missing' || c.state === 'foreign')
  const severity = worst([
    ...claims.map((c) => c.severity),
    ...podRows.map((p) => p.severity),
    ...(evidence.length ? (['error'] as const) : []),
  ])
  const ephemeral = volumes.filter((v) => v.ephemeral).map((v) => v.name)
  const parts = [
    `${replicas} replica(s), ${live.length} pod(s)${kind === 'Deployment' && !bySelector ? ` in ${sets.length} ReplicaSet(s)` : ''}`,
    `${claims.length - missing.length} claim(s) exist`,
    missing.length ? `${missing.length} missing or unusable (${missing.map((c) => c.name).join(', ')})` : '',
    ephemeral.length && live.length === 0
      ? `ephemeral volume(s) ${ephemeral.join(', ')} get a claim per pod, and there is no pod yet`
      : '',
  ].filter(Boolean)
  const message = volumes.some((v) => v.persistentVolumeClaim || v.ephemeral)
    ? `${parts.join(', ')}.${notes.length ? ` ${notes.join('. ')}.` : ''}`
    : `${kind} ${ns}/${name} uses no claims: its pod template has no persistentVolumeClaim or ephemeral volume.${notes.length ? ` ${notes.join('. ')}.` : ''}`
  return {
    workload: {
      kind,
      namespace: ns,
      name,
      replicas,
      severity,
      message,
      claims,
      pods: podRows,
      evidence,
      fix: [...fix],
    },
    claims: diagnoses,
  }

  function presentRow(
    pvc: V1PersistentVolumeClaim,
    o: {template: string; source: 'persistentVolumeClaim' | 'ephemeral'; pod?: string},
  ): WorkloadClaim {
    // The claim on its own (the pods' rows carry the verdict through each pod).
    const d = diagnoseClaim(pvc, w)
    return {
      name: pvc.metadata?.name ?? '',
      template: o.template,
      source: o.source,
      ...(o.pod ? {pod: o.pod} : {}),
      state: 'present',
      severity: d.severity,
      phase: d.phase,
      cause: d.cause,
      volume: pvc.spec?.volumeName || undefined,
      evidence: [],
    }
  }

  function missingShared(claimName: string, volume: string): WorkloadClaim {
    // The scheduler's VolumeBinding PreFilter: `persistentvolumeclaim "NAME" not found`.
    const text = `persistentvolumeclaim "${claimName}" not found`
    const seen = pods
      .map((p) =>
        latest(
          w.events.about('Pod', ns, p.metadata?.name ?? '', p.metadata?.uid),
          (e) => e.reason === 'FailedScheduling' && eventMessage(e).includes(text),
        ),
      )
      .find(Boolean)
    fix.add(
      `Create the claim ${claimName} in ${ns}, or point the pod template's volume "${volume}" at a claim that exists`,
    )
    return {
      name: claimName,
      template: volume,
      source: 'persistentVolumeClaim',
      state: 'missing',
      severity: 'error',
      why: `the pod template's volume "${volume}" names it and it does not exist: no pod that uses it can be scheduled`,
      evidence: seen ? [`pod ${seen.involvedObject.name}: ${quoteEvent(seen)}`] : [],
    }
  }

  function missingEphemeral(claimName: string, volume: string, pod: V1Pod): WorkloadClaim {
    const podName = pod.metadata?.name ?? ''
    const failed = latest(
      w.events.about('Pod', ns, podName, pod.metadata?.uid),
      (e) => e.reason === 'FailedBinding' && eventMessage(e).startsWith(`ephemeral volume ${volume}: `),
    )
    let why: string
    const ev: string[] = []
    if (failed) {
      ev.push(`pod ${podName}: ${quoteEvent(failed)}`)
      const r = explainRefusal(eventMessage(failed), {
        namespace: ns,
        quotas,
        limitRanges,
        change: `Change the request of the ephemeral volume "${volume}" in the pod template`,
      })
      why = `the ephemeral volume controller could not create it: ${r.why}`
      fix.add(r.fix)
    } else {
      why = w.skipped.has('events')
        ? 'not created, and events could not be read to say why'
        : 'not created yet, and pod has no FailedBinding event for it: check that kube-controller-manager runs the ephemeral-volume controller'
    }
    return {
      name: claimName,
      template: volume,
      source: 'ephemeral',
      pod: podName,
      state: 'missing',
      severity: 'error',
      why,
      evidence: ev,
    }
  }
}
