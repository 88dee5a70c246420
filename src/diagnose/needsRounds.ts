/**
 * The later rounds of explain's read plans (diagnose/needs.ts): what the verdicts asked for read,
 * once the first reads show the claims, their pods and PVs. These ask the engine (the claims'
 * world, their health, a PV's deleter); needs.ts loads this module while its first reads are on
 * their way. Pure.
 */
import type {V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {isClaimBound} from '../binding/scheduling.js'
import {claimClass, claimHasClass, defaultClass, findClass} from '../binding/storageClass.js'
import {buildWorld, podClaimNames} from '../binding/world.js'
import type {Snapshot} from '../snapshot/types.js'
import {deleterOf} from './diagnosePv.js'
import {isHealthyBound} from './diagnoseClaim.js'
import {type Target, selectClaims} from './diagnose.js'
import {addVolumeNames, isWorkload, type Needs, type ScanOptions} from './needs.js'
import {ownedPods} from './podWorkload.js'
import {statefulSetClaimName} from './workload.js'

const keyOf = (o: {metadata?: {namespace?: string; name?: string}}) =>
  `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`

/** The claims a target set diagnoses, each with the pod it is asked through (pod/NAME). */
function targetClaims(snap: Snapshot, targets: readonly Target[]): {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] {
  const claims = new Map(snap.pvcs.map((c) => [keyOf(c), c]))
  const out: {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] = []
  for (const t of targets) {
    if (t.kind === 'volume') continue
    if (t.kind === 'claim') {
      const pvc = claims.get(`${t.namespace}/${t.name}`)
      if (pvc) out.push({pvc})
      continue
    }
    const pod = snap.pods.find((p) => keyOf(p) === `${t.namespace}/${t.name}`)
    for (const c of pod ? podClaimNames(pod) : []) {
      const pvc = claims.get(`${t.namespace}/${c.name}`)
      if (pvc) out.push({pvc, viaPod: pod})
    }
  }
  return out
}

/**
 * Adds what these claims' verdicts read, given what is known so far (the claims, pods, classes
 * and the PVs read by name). Bound claims stay cheap until their PV shows they are not healthy.
 */
export function addClaimNeeds(
  n: Needs,
  snap: Snapshot,
  list: {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[],
  final: boolean,
): void {
  const world = buildWorld(snap)
  const def = defaultClass(snap.storageClasses)?.metadata?.name
  for (const {pvc, viaPod} of list) {
    const ns = pvc.metadata?.namespace ?? 'default'
    n.namespaces.add(ns)
    n.claimEvents.add(keyOf(pvc))
    if (viaPod) n.podEvents = true
    // ClaimTerminating calls out pods on NotReady nodes: the nodes are read.
    if (pvc.metadata?.deletionTimestamp) n.podNodes = true
    if (viaPod && !viaPod.spec?.nodeName) n.scheduling = true
    // diagnoseClaim's afterBind: a scheduled pod still Pending. The node's volume limit counts the
    // volumes of every pod on that node (any namespace), so all pods, claims and PVs are read.
    if (viaPod?.spec?.nodeName && (viaPod.status?.phase ?? 'Pending') === 'Pending') {
      n.podSide = true
      n.allClaims = true
      n.pvs = 'all'
    }
    const volume = pvc.spec?.volumeName
    const maybeHealthy = isClaimBound(pvc) && pvc.status?.phase !== 'Pending' && pvc.status?.phase !== 'Lost' && volume
    if (maybeHealthy) {
      // First pass: read its PV; the final pass decides with it (or without it: then it is Lost).
      if (!final && !world.index.byName.has(volume)) {
        if (n.pvs !== 'all') n.pvs.add(volume)
        continue
      }
      if (isHealthyBound(pvc, world)) continue
    }
    n.unbound = true
    n.pvs = 'all'
    n.allClaims = true
    const classes = [claimClass(pvc), ...(claimHasClass(pvc) || !def ? [] : [def])]
    if (classes.some((c) => c && findClass(snap.storageClasses, c)?.volumeBindingMode === 'WaitForFirstConsumer'))
      n.scheduling = true
  }
}

/**
 * What diagnosePv reads for the PVs asked about (`pv/NAME`): the PV and its events first; once the
 * PV is known, its claim's namespace (the claim and the pods that use it), the nodes those pods
 * are on when the PV is being deleted, and, when an external provisioner is to delete the volume,
 * its Lease and CSIDriver (and the claim events its liveness counts).
 */
function addVolumeNeeds(n: Needs, snap: Snapshot, volumes: readonly string[]): void {
  addVolumeNames(n, volumes)
  for (const name of volumes) {
    const pv = snap.pvs.find((p) => p.metadata?.name === name)
    if (!pv) continue
    const ref = pv.spec?.claimRef
    if (ref?.name) {
      const ns = ref.namespace ?? 'default'
      n.namespaces.add(ns)
      if (pv.metadata?.deletionTimestamp) n.podNodes = true
    }
    const deleter = deleterOf(pv)
    if (deleter.kind === 'external' && (pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain') === 'Delete') {
      n.deleterLiveness = true
      n.unboundEvents = true
    }
  }
}

/**
 * The claims a workload's verdict diagnoses (diagnose/workload.ts, podWorkload.ts): a
 * StatefulSet's claims of its current ordinals; a Deployment's or ReplicaSet's template claims
 * and its pods' ephemeral claims on their own, and every claim of a pending pod through that pod.
 */
function workloadClaims(snap: Snapshot, t: Target): {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] {
  const claims = new Map(snap.pvcs.map((c) => [keyOf(c), c]))
  const claim = (name: string) => claims.get(`${t.namespace}/${name}`)
  const out: {pvc: V1PersistentVolumeClaim; viaPod?: V1Pod}[] = []
  const add = (pvc: V1PersistentVolumeClaim | undefined, viaPod?: V1Pod) => {
    if (pvc) out.push({pvc, viaPod})
  }
  const find = <T extends {metadata?: {namespace?: string; name?: string}}>(l: readonly T[]) =>
    l.find((x) => keyOf(x) === `${t.namespace}/${t.name}`)
  if (t.kind === 'statefulset') {
    const set = find(snap.statefulSets)
    const start = set?.spec?.ordinals?.start ?? 0
    for (const tpl of set?.spec?.volumeClaimTemplates ?? [])
      for (let i = start; i < start + (set?.spec?.replicas ?? 1); i++)
        add(claim(statefulSetClaimName(tpl.metadata?.name ?? '', t.name, i)))
    return out
  }
  const kind = t.kind === 'deployment' ? 'Deployment' : 'ReplicaSet'
  const obj = t.kind === 'deployment' ? find(snap.deployments) : find(snap.replicaSets)
  if (!obj) return out
  const {pods} = ownedPods(obj, kind, snap)
  const volumes = obj.spec?.template?.spec?.volumes ?? []
  for (const v of volumes) if (v.persistentVolumeClaim?.claimName) add(claim(v.persistentVolumeClaim.claimName))
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue
    for (const v of volumes) if (v.ephemeral) add(claim(`${p.metadata?.name}-${v.name}`))
    if ((p.status?.phase ?? 'Pending') === 'Pending') for (const c of podClaimNames(p)) add(claim(c.name), p)
  }
  return out
}

/** targetPlanner's later rounds: the targets' claims (a pod's, for pod/NAME) and PVs. */
export function addTargetNeeds(
  n: Needs,
  snap: Snapshot,
  targets: readonly Target[],
  volumes: readonly string[],
  final: boolean,
): void {
  const list = targetClaims(snap, targets)
  addVolumeNeeds(n, snap, volumes)
  addClaimNeeds(n, snap, list, final)
}

/** workloadPlanner's later rounds: the claims named and those of the workloads. */
export function addWorkloadNeeds(
  n: Needs,
  snap: Snapshot,
  targets: readonly Target[],
  volumes: readonly string[],
  final: boolean,
): void {
  const list = [
    ...targetClaims(
      snap,
      targets.filter((t) => !isWorkload(t)),
    ),
    ...targets.filter(isWorkload).flatMap((t) => workloadClaims(snap, t)),
  ]
  addVolumeNeeds(n, snap, volumes)
  addClaimNeeds(n, snap, list, final)
}

/** scanPlanner's second round: the claims in scope that need a diagnosis. */
export function unhealthyClaims(snap: Snapshot, opts: ScanOptions): {pvc: V1PersistentVolumeClaim}[] {
  const world = buildWorld(snap)
  return selectClaims(snap.pvcs, opts)
    .filter((pvc) => !isHealthyBound(pvc, world))
    .map((pvc) => ({pvc}))
}
