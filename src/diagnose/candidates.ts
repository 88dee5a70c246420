/** The candidate-PV table: the PVs that matter for a claim, each with every check it fails. */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {capacityOf, claimKey, requestOf, volumeMismatches, volumeModeOf} from '../binding/matchVolume.js'
import {formatBytes, toBytes} from '../binding/quantity.js'
import {claimClass, pvClass} from '../binding/storageClass.js'
import type {Candidate} from './types.js'
import type {World} from '../binding/world.js'

const ABOVE = 10
const BELOW = 3
const OTHER_CLASSES = 5
const RESERVED = 5

export interface CandidateOptions {
  /** Node-affinity verdict per PV (scheduler path); undefined = not checked. */
  nodeAffinityOk?: (pv: V1PersistentVolume) => boolean | undefined
  /** The scheduler checks access modes per PV; the controller through its index — both exclude. */
  extra?: V1PersistentVolume[]
}

export function candidateRows(
  pvc: V1PersistentVolumeClaim,
  w: World,
  opts: CandidateOptions = {},
): {rows: Candidate[]; omitted: number} {
  const seen = new Set<V1PersistentVolume>()
  const picked: V1PersistentVolume[] = []
  const add = (pv: V1PersistentVolume | undefined) => {
    if (pv && !seen.has(pv)) {
      seen.add(pv)
      picked.push(pv)
    }
  }
  for (const pv of opts.extra ?? []) add(pv)
  for (const pv of w.index.claimedFor(pvc)) add(pv)
  const cls = claimClass(pvc)
  const req = requestOf(pvc)
  let n = 0
  for (const pv of w.index.unclaimedFrom(cls, req)) {
    if (n++ >= ABOVE) break
    add(pv)
  }
  for (const pv of w.index.unclaimedBelow(cls, req, BELOW)) add(pv)
  // Reserved for another claim but not in use (user pre-binding, Released): often the PV the user meant.
  for (const pv of w.index.reservedOfClass(cls).slice(0, RESERVED)) add(pv)
  // PVs of other classes that would otherwise fit: the usual "default class got applied" surprise.
  let other = 0
  for (const c of w.index.classes()) {
    if (c === cls) continue
    for (const pv of w.index.unclaimedFrom(c, req)) {
      if (other >= OTHER_CLASSES) break
      if (volumeModeOf(pv) !== volumeModeOf(pvc)) continue
      add(pv)
      other++
      break
    }
  }
  const sized = picked.map((pv) => ({row: row(pv, pvc, w, opts), qty: capacityOf(pv)}))
  sized.sort(
    (a, b) =>
      Number(b.row.eligible) - Number(a.row.eligible) ||
      a.row.mismatches.length - b.row.mismatches.length ||
      (a.qty < b.qty ? -1 : a.qty > b.qty ? 1 : 0) ||
      a.row.name.localeCompare(b.row.name),
  )
  const rows = sized.map((s) => s.row)
  const totalSameClass = w.index.ofClass(cls).length
  const listedSameClass = picked.filter((p) => pvClass(p) === cls).length
  return {rows, omitted: Math.max(0, totalSameClass - listedSameClass)}
}

function row(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim, w: World, opts: CandidateOptions): Candidate {
  const phase = w.phaseOf(pv)
  const mismatches = volumeMismatches(pv, pvc, {phase, nodeAffinityOk: opts.nodeAffinityOk?.(pv), vac: w.rules.vac})
  const ref = pv.spec?.claimRef
  const bytes = toBytes(capacityOf(pv))
  return {
    name: pv.metadata?.name ?? '',
    eligible: mismatches.length === 0,
    mismatches,
    capacity: String(pv.spec?.capacity?.storage ?? formatBytes(bytes)),
    accessModes: pv.spec?.accessModes ?? [],
    storageClass: pvClass(pv),
    phase: pv.status?.phase ?? phase,
    volumeMode: volumeModeOf(pv),
    claimRef: ref
      ? `${ref.namespace}/${ref.name}${ref.uid && ref.uid !== pvc.metadata?.uid && `${ref.namespace}/${ref.name}` === claimKey(pvc) ? ` (uid ${ref.uid.slice(0, 8)}…, stale)` : ''}`
      : null,
  }
}
