/**
 * Which PV fits a claim, exactly as component-helpers FindMatchingVolume decides, plus the
 * full list of failing checks per PV for the candidate table.
 */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {containsAllModes} from './accessModes.js'
import {quantityOrZero} from './quantity.js'
import {labelSelectorMatches, nodeSelectorTermsMatch} from './selectors.js'
import type {VacMode} from './kubeVersion.js'
import {claimClass, pvClass} from './storageClass.js'

/** Mismatch codes in upstream's check order. */
export const MISMATCH_CODES = [
  'claimedByOther',
  'capacity',
  'volumeMode',
  'volumeAttributesClass',
  'deleting',
  'phase',
  'selector',
  'storageClass',
  'accessModes',
  'nodeAffinity',
] as const
export type MismatchCode = (typeof MISMATCH_CODES)[number]

export function claimKey(pvc: V1PersistentVolumeClaim): string {
  return `${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name ?? ''}`
}

/** IsVolumeBoundToClaim: claimRef names this claim, and its uid is empty or this claim's. */
export function isVolumeBoundToClaim(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef
  if (!ref) return false
  if (ref.name !== pvc.metadata?.name || (ref.namespace ?? '') !== (pvc.metadata?.namespace ?? 'default')) return false
  return !ref.uid || ref.uid === pvc.metadata?.uid
}

export function volumeModeOf(obj: {spec?: {volumeMode?: string}}): string {
  return obj.spec?.volumeMode || 'Filesystem'
}

export function requestOf(pvc: V1PersistentVolumeClaim): bigint {
  return quantityOrZero(pvc.spec?.resources?.requests?.storage as string | undefined)
}

export function capacityOf(pv: V1PersistentVolume): bigint {
  return quantityOrZero(pv.spec?.capacity?.storage as string | undefined)
}

/** How the engine looks up the claim a PV's claimRef names. */
export interface ClaimLookup {
  /** The claim of that namespace/name in the snapshot, if any. */
  get(namespace: string, name: string): V1PersistentVolumeClaim | undefined
  /** False when claims could not be read: nothing can be said about any claim. */
  readable: boolean
  /** True when the snapshot holds every claim of every namespace, so an absent claim is gone. */
  complete: boolean
}

/**
 * The phase a PV has once the controller has synced it (pv_controller.go syncVolume):
 * - no claimRef, or a claimRef without uid (a pre-binding): Available, whatever the phase says
 *   (this is how an admin recycles a Released PV: remove its claimRef);
 * - the claim it names is gone, or that name now belongs to another claim (another uid): Released
 *   (Failed stays Failed); a claim absent from a snapshot of one namespace may just be elsewhere,
 *   so then the API's phase stands;
 * - its claim is bound to this PV: Bound; bound to another PV: the controller rolls this PV back
 *   to Available; not bound yet: unchanged (Bound when it has no phase yet).
 */
export function effectivePhase(pv: V1PersistentVolume, claims: ClaimLookup): string {
  const phase = pv.status?.phase
  const set = phase && phase !== 'Pending' ? phase : undefined
  const ref = pv.spec?.claimRef
  if (!ref?.uid) return 'Available'
  if (!claims.readable) return set ?? 'Bound'
  const claim = claims.get(ref.namespace ?? '', ref.name ?? '')
  if (claim && claim.metadata?.uid === ref.uid) {
    const volumeName = claim.spec?.volumeName
    if (volumeName === pv.metadata?.name) return 'Bound'
    if (volumeName) return 'Available'
    return set ?? 'Bound'
  }
  if (claim || claims.complete || !set) return set === 'Failed' || set === 'Released' ? set : 'Released'
  return set
}

/** True when the API's phase is not yet what the controller will make of it at its next sync. */
export function phaseAwaitsSync(pv: V1PersistentVolume, effective: string): boolean {
  return (pv.status?.phase ?? '') !== effective
}

// One predicate per upstream check; FindMatchingVolume, checkVolumeSatisfyClaim, the candidate
// table, bind's refusals and the scheduler view all ask these, never an inline copy.

/** The PV's capacity is below the claim's storage request ("requested PV is too small"). */
export function volumeTooSmall(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim): boolean {
  return capacityOf(pv) < requestOf(pvc)
}

/** GetPersistentVolumeClass(pv) == GetPersistentVolumeClaimClass(pvc): beta annotation first, then spec. */
export function storageClassMatches(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim): boolean {
  return pvClass(pv) === claimClass(pvc)
}

/** volumeAttributesClassName equal, unset counting as "" (VolumeAttributesClass, on by default since 1.34). */
export function volumeAttributesClassMatches(
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  mode: VacMode = 'strict',
): boolean {
  const volume = pv.spec?.volumeAttributesClassName ?? ''
  if (mode === 'ignore') return true
  if (mode === 'gateOff') return volume === ''
  return volume === (pvc.spec?.volumeAttributesClassName ?? '')
}

/** CheckVolumeModeMismatches: the volume modes differ (unset means Filesystem). */
export function volumeModeMismatches(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim): boolean {
  return volumeModeOf(pv) !== volumeModeOf(pvc)
}

/** CheckAccessModes: the PV offers every mode the claim asks for. */
export function checkAccessModes(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim): boolean {
  return containsAllModes(pv.spec?.accessModes, pvc.spec?.accessModes)
}

/**
 * checkVolumeSatisfyClaim (pkg/controller/volume/persistentvolume/pv_controller.go): the checks
 * for a claim that names its PV in spec.volumeName, in upstream's order. Upstream stops at the
 * first failure; all of them are listed here so one report shows every fix.
 */
export function checkVolumeSatisfyClaim(
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  vac: VacMode = 'strict',
): MismatchCode[] {
  const out: MismatchCode[] = []
  if (pv.metadata?.deletionTimestamp) out.push('deleting')
  if (volumeTooSmall(pv, pvc)) out.push('capacity')
  if (!storageClassMatches(pv, pvc)) out.push('storageClass')
  // With the gate off (1.31-1.33) any class on either side fails: "volumeAttributesClassName is
  // not supported when the feature-gate VolumeAttributesClass is disabled".
  const vacFails =
    vac === 'gateOff'
      ? Boolean(pv.spec?.volumeAttributesClassName || pvc.spec?.volumeAttributesClassName)
      : !volumeAttributesClassMatches(pv, pvc, vac)
  if (vacFails) out.push('volumeAttributesClass')
  if (volumeModeMismatches(pv, pvc)) out.push('volumeMode')
  if (!checkAccessModes(pv, pvc)) out.push('accessModes')
  return out
}

/** CheckNodeAffinity: no required terms means any node; otherwise the node's labels decide. */
export function pvFitsNodeLabels(pv: V1PersistentVolume, labels: Record<string, string> | undefined): boolean {
  const req = pv.spec?.nodeAffinity?.required
  if (!req) return true
  return nodeSelectorTermsMatch(req.nodeSelectorTerms, labels)
}

/** FindMatchingVolume's error for a claim with a volumeAttributesClassName while the gate is off, or undefined. */
export function vacClaimError(pvc: V1PersistentVolumeClaim, mode: VacMode = 'strict'): string | undefined {
  if (mode !== 'gateOff' || !pvc.spec?.volumeAttributesClassName) return undefined
  return `unsupported volumeAttributesClassName is set on claim ${claimKey(pvc)} when the feature-gate VolumeAttributesClass is disabled`
}

export interface CheckOptions {
  phase: string
  vac?: VacMode
  /** Scheduler path: the node-affinity verdict for the node(s) in question; undefined = not checked. */
  nodeAffinityOk?: boolean
  /** Controller path checks access modes through its index; the scheduler checks them per PV. */
  checkAccessModes?: boolean
}

/**
 * Every check the PV fails for this claim, in upstream order. For a PV pre-bound to the claim
 * upstream skips phase, selector and class (FindMatchingVolume step "IsVolumeBoundToClaim").
 */
export function volumeMismatches(
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  opts: CheckOptions,
): MismatchCode[] {
  const out: MismatchCode[] = []
  const ref = pv.spec?.claimRef
  const prebound = isVolumeBoundToClaim(pv, pvc)
  if (ref && !prebound) out.push('claimedByOther')
  if (volumeTooSmall(pv, pvc)) out.push('capacity')
  if (volumeModeMismatches(pv, pvc)) out.push('volumeMode')
  if (!volumeAttributesClassMatches(pv, pvc, opts.vac) || vacClaimError(pvc, opts.vac))
    out.push('volumeAttributesClass')
  if (pv.metadata?.deletionTimestamp) out.push('deleting')
  if (!prebound) {
    if (opts.phase !== 'Available') out.push('phase')
    if (labelSelectorMatches(pvc.spec?.selector, pv.metadata?.labels) !== true) out.push('selector')
    if (!storageClassMatches(pv, pvc)) out.push('storageClass')
  }
  if (opts.checkAccessModes !== false && !checkAccessModes(pv, pvc)) out.push('accessModes')
  if (opts.nodeAffinityOk === false) out.push('nodeAffinity')
  return out
}

export interface FindOptions {
  phaseOf: (pv: V1PersistentVolume) => string
  /** Scheduler path: the node's labels. */
  nodeLabels?: Record<string, string>
  excluded?: ReadonlySet<string>
  delayBinding: boolean
  vac?: VacMode
}

export interface MatchResult {
  /** Equally good winners: upstream returns one of them, depending on iteration order. */
  best: V1PersistentVolume[]
  /** FindMatchingVolume returned an error (a claim with a VAC while the gate is off). */
  error?: string
}

/**
 * FindMatchingVolume (component-helpers storage/volume/pv_helpers.go), step for step.
 * `pvs` must be in ascending capacity order when `stopEarly` is used.
 */
export function findMatchingVolume(
  pvc: V1PersistentVolumeClaim,
  pvs: Iterable<V1PersistentVolume>,
  opts: FindOptions,
): MatchResult {
  const requested = requestOf(pvc)
  const error = vacClaimError(pvc, opts.vac)
  if (error) return {best: [], error}
  const node = opts.nodeLabels
  const prebound: V1PersistentVolume[] = []
  let best: V1PersistentVolume[] = []
  let bestQty = 0n
  for (const pv of pvs) {
    const name = pv.metadata?.name ?? ''
    if (opts.excluded?.has(name)) continue
    const bound = isVolumeBoundToClaim(pv, pvc)
    if (pv.spec?.claimRef && !bound) continue
    const qty = capacityOf(pv)
    if (qty < requested) continue
    if (volumeModeMismatches(pv, pvc)) continue
    if (!volumeAttributesClassMatches(pv, pvc, opts.vac)) continue
    if (pv.metadata?.deletionTimestamp) continue
    const nodeOk = node === undefined || pvFitsNodeLabels(pv, node)
    if (bound) {
      // A pre-bound PV that does not fit the node ends the whole search with no match.
      if (!nodeOk) return {best: []}
      prebound.push(pv)
      continue
    }
    if (node === undefined && opts.delayBinding) continue
    if (opts.phaseOf(pv) !== 'Available') continue
    if (labelSelectorMatches(pvc.spec?.selector, pv.metadata?.labels) !== true) continue
    if (!storageClassMatches(pv, pvc)) continue
    if (!nodeOk) continue
    if (node !== undefined && !checkAccessModes(pv, pvc)) continue
    if (best.length === 0 || qty < bestQty) {
      best = [pv]
      bestQty = qty
    } else if (qty === bestQty) best.push(pv)
  }
  if (prebound.length > 0) return {best: prebound}
  return {best}
}
