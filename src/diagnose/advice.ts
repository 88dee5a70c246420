/**
 * Which advice a diagnosis gives, as explicit rules (issue: advice that is right as well as the
 * verdict):
 * - the closest candidates are PVs of the claim's class; other classes only when the class has
 *   no PV at all, and then the advice says so;
 * - fixes are ordered by what a person should do first: keep data > fix the claim > create
 *   capacity > the rest;
 * - one sentence per distinct failing check among the closest candidates;
 * - a hint only when its premise holds;
 * - a field that cannot be changed is named as immutable.
 */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {shortModes} from '../binding/accessModes.js'
import {type MismatchCode, MISMATCH_CODES, volumeModeOf} from '../binding/matchVolume.js'
import {quantityOrZero} from '../binding/quantity.js'
import {claimClass, claimHasClass} from '../binding/storageClass.js'
import type {World} from '../binding/world.js'
import type {Candidate} from './types.js'

export interface Advice {
  /** Hand back a volume that holds the claim's data. */
  keepData?: string[]
  /** Change (recreate) the claim so that an existing PV fits. */
  fixClaim?: string[]
  /** Create the PV, class or capacity the claim needs. */
  createCapacity?: string[]
  /** Everything else: the pod, the class's binding mode, waiting. */
  other?: string[]
}

/** The fixes in the order a storage engineer would try them. */
export function fixesInOrder(a: Advice): string[] {
  return [...(a.keepData ?? []), ...(a.fixClaim ?? []), ...(a.createCapacity ?? []), ...(a.other ?? [])]
}

/**
 * PVs that still hold the data of an earlier claim of this namespace/name (a re-created
 * StatefulSet claim): claimRef names the claim with another uid. The controller treats such a
 * PV as released whatever its recorded phase (syncVolume: the claim it names is gone), and never
 * binds it to the new claim by itself. Failed PVs are left out: their reclaim went wrong, bind
 * refuses them; PVs being deleted hold no data to keep.
 */
export function staleVolumes(pvc: V1PersistentVolumeClaim, w: World): V1PersistentVolume[] {
  return w.index
    .claimedFor(pvc)
    .filter(
      (pv) =>
        pv.spec?.claimRef?.uid &&
        pv.spec.claimRef.uid !== pvc.metadata?.uid &&
        !pv.metadata?.deletionTimestamp &&
        w.phaseOf(pv) !== 'Failed',
    )
}

/**
 * The keep-the-data fix for each stale volume; explain's first fix and bind's warning. Premise:
 * the claim names no other PV (spec.volumeName is immutable once set, and the controller binds
 * only that PV).
 */
export function staleClaimHints(pvc: V1PersistentVolumeClaim, w: World): string[] {
  const named = pvc.spec?.volumeName
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  return staleVolumes(pvc, w)
    .filter((pv) => !named || named === pv.metadata?.name)
    .map(
      (pv) =>
        `PV ${pv.metadata?.name} (${w.phaseOf(pv)}) holds the data of an earlier claim named ${ns}/${name}; to keep that data, hand it to this claim: kubectl pv-doctor bind -n ${ns} ${name} --volume ${pv.metadata?.name}`,
    )
}

export interface Closest {
  rows: Candidate[]
  /** True when the claim's class has no PV at all and the closest are of other classes. */
  otherClass: boolean
}

/**
 * The closest candidates: failing PVs of the claim's class that no other claim holds, with the
 * fewest failing checks. PVs of other classes only when the class has none.
 */
export function closestCandidates(rows: readonly Candidate[], pvc: V1PersistentVolumeClaim): Closest {
  const cls = claimClass(pvc)
  const open = rows.filter((r) => !r.eligible && !r.mismatches.includes('claimedByOther'))
  const ofClass = open.filter((r) => r.storageClass === cls)
  const classHasPVs = rows.some((r) => r.storageClass === cls)
  const pool = ofClass.length ? ofClass : classHasPVs ? [] : open
  const fewest = Math.min(...pool.map((r) => r.mismatches.length))
  return {rows: pool.filter((r) => r.mismatches.length === fewest), otherClass: !ofClass.length && pool.length > 0}
}

/** " (closest: a — too small (…))" for a verdict's message; the class is named when it is another. */
export function nearMiss(rows: readonly Candidate[], pvc: V1PersistentVolumeClaim): string {
  const {rows: closest, otherClass} = closestCandidates(rows, pvc)
  if (!closest.length) return ''
  const shown = closest
    .slice(0, 2)
    .map((r) => `${r.name}${otherClass ? ` (class ${r.storageClass || '""'})` : ''}: ${r.whyNot.join(', ')}`)
  return ` (closest${otherClass ? `, of another class since "${claimClass(pvc)}" has no PV` : ''}: ${shown.join('; ')}${closest.length > 2 ? '; …' : ''})`
}

export interface CheckFix {
  check: MismatchCode
  text: string
}

/** One sentence per distinct failing check among the closest candidates, in upstream's order. */
export function checkFixes(rows: readonly Candidate[], pvc: V1PersistentVolumeClaim): CheckFix[] {
  const {rows: closest, otherClass} = closestCandidates(rows, pvc)
  // A PV of another class is only worth a sentence when the class is all that stands in the way.
  if (otherClass && closest.every((r) => r.mismatches.length > 1)) return []
  const out: CheckFix[] = []
  for (const check of MISMATCH_CODES) {
    const hit = closest.filter((r) => r.mismatches.includes(check))
    if (!hit.length) continue
    const text = sentence(check, hit, pvc, otherClass)
    if (text) out.push({check, text})
  }
  return out
}

/** Checks whose fix is a change of the claim (its spec is immutable while unbound: recreate it). */
const CLAIM_SIDE: ReadonlySet<MismatchCode> = new Set([
  'capacity',
  'volumeMode',
  'accessModes',
  'storageClass',
  'selector',
  'volumeAttributesClass',
])

/** checkFixes split into fixes of the claim and the rest. */
export function splitCheckFixes(fixes: readonly CheckFix[]): {fixClaim: string[]; other: string[]} {
  return {
    fixClaim: fixes.filter((f) => CLAIM_SIDE.has(f.check)).map((f) => f.text),
    other: fixes.filter((f) => !CLAIM_SIDE.has(f.check)).map((f) => f.text),
  }
}

const IMMUTABLE = "a claim's spec cannot be changed while it is unbound, so recreate it"

function sentence(check: MismatchCode, hit: Candidate[], pvc: V1PersistentVolumeClaim, otherClass: boolean): string {
  const first = hit[0]
  const one = hit.length === 1
  const names = one
    ? `PV ${first.name}`
    : `PVs ${hit
        .slice(0, 3)
        .map((r) => r.name)
        .join(', ')}${hit.length > 3 ? ', …' : ''}`
  const distinct = (f: (r: Candidate) => string) => [...new Set(hit.map(f))].join(' / ')
  const req = pvc.spec?.resources?.requests?.storage ?? '0'
  switch (check) {
    case 'capacity': {
      // The biggest of them is the one a smaller request would fit.
      const biggest = [...hit].sort((a, b) => Number(quantityOrZero(b.capacity) - quantityOrZero(a.capacity)))[0]
      return `${names} ${one ? 'is' : 'are'} too small (${distinct((r) => r.capacity)} < ${req}): ${IMMUTABLE} asking ≤ ${biggest.capacity}, or use a PV of ≥ ${req}.`
    }
    case 'volumeMode':
      return `${names} ${one ? 'is' : 'are'} volumeMode ${first.volumeMode}, the claim wants ${volumeModeOf(pvc)}: ${IMMUTABLE} with volumeMode ${first.volumeMode}, or create a ${volumeModeOf(pvc)} PV.`
    case 'accessModes':
      return `${names} ${one ? 'offers' : 'offer'} ${distinct((r) => shortModes(r.accessModes))}, the claim needs ${shortModes(pvc.spec?.accessModes)}: ${IMMUTABLE} with modes ${one ? 'the PV offers' : 'one of them offers'}, or create a PV that offers ${shortModes(pvc.spec?.accessModes)}.`
    case 'storageClass': {
      if (!otherClass) return ''
      const what = `No PV of class "${claimClass(pvc)}" exists; ${names} of class "${first.storageClass}" would fit otherwise`
      // An unset storageClassName may be set once (RetroactiveDefaultStorageClass validation); "" or a name may not.
      return claimHasClass(pvc)
        ? `${what}: ${IMMUTABLE} with storageClassName: "${first.storageClass}" only if that class is meant for it.`
        : `${what}; the claim names no class, so it may be set once, only if that class is meant for it: kubectl patch pvc -n ${pvc.metadata?.namespace ?? 'default'} ${pvc.metadata?.name} -p '{"spec":{"storageClassName":"${first.storageClass}"}}'`
    }
    case 'volumeAttributesClass':
      return `${names} ${one ? 'has' : 'have'} another volumeAttributesClassName than the claim ("${pvc.spec?.volumeAttributesClassName ?? ''}"): give both the same one.`
    case 'selector':
      return `${names} ${one ? 'lacks' : 'lack'} the labels the claim's selector asks for: kubectl label pv ${first.name} <key>=<value>`
    case 'phase':
      return `${names} ${one ? 'is' : 'are'} ${first.phase}; ${first.phase === 'Released' ? `clear its claimRef to reuse it: kubectl patch pv ${first.name} --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'` : 'the controller moves it to Available when it syncs.'}`
    case 'nodeAffinity':
      return `${names}: ${first.whyNot.find((t) => t.startsWith('only on') || t.startsWith('on no')) ?? 'pinned to nodes the pod cannot use'}.`
    case 'deleting':
      return `${names} ${one ? 'is' : 'are'} being deleted.`
    default:
      return ''
  }
}

/**
 * The premise of "use WaitForFirstConsumer for local PVs": some PV of the class is pinned to
 * nodes (spec.nodeAffinity). Without such PVs an Immediate class loses nothing.
 */
export function classHasPinnedVolumes(cls: string, w: World): boolean {
  return w.index.ofClass(cls).some((pv) => Boolean(pv.spec?.nodeAffinity?.required))
}
