/**
 * The scheduler's view of one pod on one node: the non-volume filters that run before
 * VolumeBinding (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity), and the
 * VolumeBinding filter itself (volumebinding/binder.go FindPodVolumes), with its exact reasons.
 */
import type {
  V1CSIDriver,
  V1CSINode,
  V1CSIStorageCapacity,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StorageClass,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node'
import {schedulerViewOfPV} from './csiMigration.js'
import {rulesFor, type VersionRules} from './kubeVersion.js'
import {parseQuantity} from './quantity.js'
import {claimKey, findMatchingVolume, pvFitsNodeLabels, requestOf, storageClassMatches} from './matchVolume.js'
import {labelSelectorMatches, nodeSelectorTermsMatch} from './selectors.js'
import {claimClass, findClass, NO_PROVISIONER} from './storageClass.js'
import type {VolumeIndex} from './volumeIndex.js'

export const REASON = {
  unschedulable: 'node(s) were unschedulable',
  nodeName: "node(s) didn't match the requested node name",
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  // volumebinding ConflictReasons (the node-affinity one depends on the version: VersionRules).
  bindConflict: "node(s) didn't find available persistent volumes to bind",
  notEnoughSpace: 'node(s) did not have enough free storage',
  pvNotExist: 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)',
  unboundImmediate: 'pod has unbound immediate PersistentVolumeClaims',
  // nodeaffinity errReasonConflict: NodeAffinity's PreFilter rejection.
  affinityTermsConflict: 'pod affinity terms conflict',
} as const

/** TaintToleration's Filter reason; its text changed in 1.35 (see kubeVersion.ts). */
export function untoleratedTaintReason(t: V1Taint, rules: VersionRules = rulesFor()): string {
  return rules.taintReason(t)
}

/** v1helper.TolerationsTolerateTaint */
export function tolerates(tolerations: readonly V1Toleration[] | undefined, taint: V1Taint): boolean {
  return (tolerations ?? []).some((tol) => {
    if (tol.effect && tol.effect !== taint.effect) return false
    if (tol.operator === 'Exists') return !tol.key || tol.key === taint.key
    return tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '')
  })
}

/** NodeUnschedulable's Filter: reads only spec.unschedulable and the pod's tolerations. */
export function unschedulableReason(pod: V1Pod, node: V1Node): string | null {
  if (
    node.spec?.unschedulable &&
    !tolerates(pod.spec?.tolerations, {key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule'})
  )
    return REASON.unschedulable
  return null
}

/** NodeName's Filter. */
export function nodeNameReason(pod: V1Pod, node: V1Node): string | null {
  return pod.spec?.nodeName && pod.spec.nodeName !== node.metadata?.name ? REASON.nodeName : null
}

/** TaintToleration's Filter: the first NoSchedule/NoExecute taint the pod does not tolerate. */
export function taintReason(pod: V1Pod, node: V1Node, rules: VersionRules = rulesFor()): string | null {
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue
    if (!tolerates(pod.spec?.tolerations, taint)) return untoleratedTaintReason(taint, rules)
  }
  return null
}

/** NodeAffinity's Filter: the pod's nodeSelector, then its required node affinity. */
export function nodeAffinityReason(pod: V1Pod, node: V1Node): string | null {
  const labels = node.metadata?.labels ?? {}
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return REASON.nodeAffinity
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
  if (required && !nodeSelectorTermsMatch(required.nodeSelectorTerms, labels, node.metadata?.name))
    return REASON.nodeAffinity
  return null
}

/** What NodeAffinity's PreFilter decides for a pod (nodeaffinity/node_affinity.go, PreFilter). */
export interface NodeAffinityPreFilter {
  /** The PreFilterResult: the only node names the filters will run on; undefined = every node. */
  nodeNames?: ReadonlySet<string>
  /** An UnschedulableAndUnresolvable status: the pod is rejected before any node is looked at. */
  rejection?: string
}

/**
 * NodeAffinity's PreFilter, the same in 1.30–1.36: when every required term names nodes by
 * `matchFields` `metadata.name In` (DaemonSet pods do), the union over the terms of each term's
 * intersection is the PreFilterResult; a term without such a field lets every node through
 * (terms are ORed); a union left empty rejects the pod ("pod affinity terms conflict").
 * Neither the nodeSelector nor the label expressions narrow it: the Filter checks them.
 */
export function nodeAffinityPreFilter(pod: V1Pod): NodeAffinityPreFilter {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
  if (!terms?.length) return {}
  const union = new Set<string>()
  for (const t of terms) {
    let names: Set<string> | undefined
    for (const r of t.matchFields ?? []) {
      if (r.key !== 'metadata.name' || r.operator !== 'In') continue
      const values = new Set(r.values ?? [])
      names = names ? new Set([...names].filter((n) => values.has(n))) : values
    }
    if (!names) return {}
    for (const n of names) union.add(n)
  }
  return union.size ? {nodeNames: union} : {rejection: REASON.affinityTermsConflict}
}

/**
 * The first non-volume filter that rejects the node, in the default profile's order
 * (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity; the framework stops at the
 * first failing filter of a node), or null.
 */
export function nonVolumeReason(pod: V1Pod, node: V1Node, rules: VersionRules = rulesFor()): string | null {
  return (
    unschedulableReason(pod, node) ??
    nodeNameReason(pod, node) ??
    taintReason(pod, node, rules) ??
    nodeAffinityReason(pod, node)
  )
}

export const SELECTED_NODE = 'volume.kubernetes.io/selected-node'
export const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed'

export function isClaimBound(pvc: V1PersistentVolumeClaim): boolean {
  return Boolean(pvc.spec?.volumeName) && BIND_COMPLETED in (pvc.metadata?.annotations ?? {})
}

export interface SchedulingWorld {
  index: VolumeIndex
  classes: readonly V1StorageClass[]
  csiDrivers: readonly V1CSIDriver[]
  capacities: readonly V1CSIStorageCapacity[]
  csiNodes: readonly V1CSINode[]
  /** False when CSIStorageCapacities or CSIDrivers could not be read: the capacity check is skipped. */
  capacityKnown: boolean
  phaseOf: (pv: V1PersistentVolume) => string
  /** The rules and texts of the cluster's Kubernetes version. */
  rules: VersionRules
}

/** What VolumeBinding decided for one claim on one node. */
export type ClaimOnNode =
  | {kind: 'bound'; ok: boolean; missingPV?: boolean}
  | {kind: 'static'; pv: string; ties: string[]}
  | {kind: 'provision'}
  | {kind: 'selectedElsewhere'; node: string}
  | {kind: 'noProvisioner'}
  | {kind: 'topology'}
  | {kind: 'capacity'}
  | {kind: 'classMissing'; class: string}
  | {kind: 'notChecked'}

export interface VolumeVerdict {
  reasons: string[]
  /** Set when VolumeBinding would fail with an error rather than a reason. */
  error?: string
  claims: Map<string, ClaimOnNode>
}

/**
 * FindPodVolumes for one node. `bound` are the pod's bound claims, `delayed` its unbound
 * WaitForFirstConsumer claims (spec.volumeName empty).
 */
export function volumeBindingOnNode(
  node: V1Node,
  bound: readonly V1PersistentVolumeClaim[],
  delayed: readonly V1PersistentVolumeClaim[],
  w: SchedulingWorld,
): VolumeVerdict {
  const claims = new Map<string, ClaimOnNode>()
  const labels = node.metadata?.labels ?? {}
  const nodeName = node.metadata?.name ?? ''
  let boundSatisfied = true
  let boundFound = true
  let unboundSatisfied = true
  let sufficientStorage = true
  for (const pvc of bound) {
    const pv = w.index.byName.get(pvc.spec?.volumeName ?? '')
    if (!pv) {
      boundFound = false
      claims.set(claimKey(pvc), {kind: 'bound', ok: false, missingPV: true})
      break
    }
    // checkBoundClaims: an in-tree PV migrated to CSI on this node is checked as translated.
    const ok = pvFitsNodeLabels(
      schedulerViewOfPV(
        pv,
        w.csiNodes.find((c) => c.metadata?.name === nodeName),
      ),
      labels,
    )
    if (!ok) boundSatisfied = false
    claims.set(claimKey(pvc), {kind: 'bound', ok})
  }
  const reasons = () => {
    const r: string[] = []
    if (!boundSatisfied) r.push(w.rules.nodeConflictReason)
    if (!unboundSatisfied) r.push(REASON.bindConflict)
    if (!sufficientStorage) r.push(REASON.notEnoughSpace)
    if (!boundFound) r.push(REASON.pvNotExist)
    return r
  }
  if (!boundFound) return {reasons: reasons(), claims}

  const toMatch: V1PersistentVolumeClaim[] = []
  const toProvision: V1PersistentVolumeClaim[] = []
  for (const pvc of delayed) {
    const selected = pvc.metadata?.annotations?.[SELECTED_NODE]
    if (selected !== undefined) {
      if (selected !== nodeName) {
        claims.set(claimKey(pvc), {kind: 'selectedElsewhere', node: selected})
        unboundSatisfied = false
        return {reasons: reasons(), claims}
      }
      toProvision.push(pvc)
    } else toMatch.push(pvc)
  }
  // Greedy, smallest request first; each chosen PV is excluded for the next claim.
  const excluded = new Set<string>()
  const sorted = [...toMatch].sort((a, b) => (requestOf(a) < requestOf(b) ? -1 : requestOf(a) > requestOf(b) ? 1 : 0))
  for (const pvc of sorted) {
    const {best, error} = findMatchingVolume(pvc, candidatesOnNode(pvc, labels, w), {
      phaseOf: w.phaseOf,
      nodeLabels: labels,
      excluded,
      delayBinding: true,
      vac: w.rules.vac,
    })
    if (error) return {reasons: reasons(), claims, error}
    if (best.length) {
      const names = best.map((p) => p.metadata?.name ?? '').sort()
      excluded.add(names[0])
      claims.set(claimKey(pvc), {kind: 'static', pv: names[0], ties: names.slice(1)})
    } else {
      toProvision.push(pvc)
      unboundSatisfied = false
    }
  }
  if (toProvision.length) {
    // checkVolumeProvisions: resets the flags and stops at the first claim that cannot be provisioned.
    unboundSatisfied = true
    sufficientStorage = true
    for (const pvc of toProvision) {
      const cls = claimClass(pvc)
      const sc = findClass(w.classes, cls)
      if (!sc) {
        claims.set(claimKey(pvc), {kind: 'classMissing', class: cls})
        return {reasons: reasons(), claims, error: `failed to find storage class "${cls}"`}
      }
      if (!sc.provisioner || sc.provisioner === NO_PROVISIONER) {
        claims.set(claimKey(pvc), {kind: 'noProvisioner'})
        unboundSatisfied = false
        break
      }
      if (!allowedTopologiesMatch(sc, labels)) {
        claims.set(claimKey(pvc), {kind: 'topology'})
        unboundSatisfied = false
        break
      }
      if (!hasEnoughCapacity(pvc, sc, labels, w)) {
        claims.set(claimKey(pvc), {kind: 'capacity'})
        sufficientStorage = false
        break
      }
      claims.set(claimKey(pvc), {kind: 'provision'})
    }
    for (const pvc of toProvision) if (!claims.has(claimKey(pvc))) claims.set(claimKey(pvc), {kind: 'notChecked'})
  }
  return {reasons: reasons(), claims}
}

/**
 * The PVs of the claim's class that FindMatchingVolume can return on this node: those whose
 * claimRef names the claim, and the unclaimed ones whose node affinity may admit the node.
 * Every other PV of the class is skipped by it (claimed by another, or not on this node).
 */
function candidatesOnNode(
  pvc: V1PersistentVolumeClaim,
  labels: Record<string, string>,
  w: SchedulingWorld,
): V1PersistentVolume[] {
  const cls = claimClass(pvc)
  const unclaimed = w.index.unclaimedForNode(cls, labels)
  const claimed = w.index.claimedFor(pvc)
  if (claimed.length === 0) return unclaimed
  return [...claimed.filter((pv) => storageClassMatches(pv, pvc)), ...unclaimed]
}

/** v1helper.MatchTopologySelectorTerms: empty = everywhere; terms ORed, expressions ANDed. */
export function allowedTopologiesMatch(sc: V1StorageClass, labels: Record<string, string>): boolean {
  const terms = sc.allowedTopologies ?? []
  if (terms.length === 0) return true
  return terms.some((t) =>
    (t.matchLabelExpressions ?? []).every((e) => e.key in labels && (e.values ?? []).includes(labels[e.key])),
  )
}

/** volumebinding hasEnoughCapacity (CSIStorageCapacity). */
export function hasEnoughCapacity(
  pvc: V1PersistentVolumeClaim,
  sc: V1StorageClass,
  labels: Record<string, string>,
  w: SchedulingWorld,
): boolean {
  const req = pvc.spec?.resources?.requests?.storage
  if (req === undefined || !w.capacityKnown) return true
  const driver = w.csiDrivers.find((d) => d.metadata?.name === sc.provisioner)
  if (driver?.spec?.storageCapacity !== true) return true
  const want = requestOf(pvc)
  return w.capacities.some((c) => {
    if (c.storageClassName !== sc.metadata?.name) return false
    if (!c.nodeTopology || labelSelectorMatches(c.nodeTopology, labels) !== true) return false
    const size =
      c.maximumVolumeSize !== undefined
        ? parseQuantity(c.maximumVolumeSize as string)
        : parseQuantity(c.capacity as string | undefined)
    return size !== undefined && size >= want
  })
}
