/** The candidate-PV table: the PVs that matter for a claim, each with every check it fails, in words. */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {shortModes} from '../binding/accessModes.js'
import {
  capacityOf,
  claimKey,
  type MismatchCode,
  pvFitsNodeLabels,
  requestOf,
  volumeMismatches,
  volumeModeOf,
} from '../binding/matchVolume.js'
import {formatBytes, toBytes} from '../binding/quantity.js'
import {nodeIndexOf} from '../binding/nodeIndex.js'
import {claimClass, pvClass} from '../binding/storageClass.js'
import type {Candidate, OmittedCandidates} from './types.js'
import type {World} from '../binding/world.js'

const ABOVE = 10
const BELOW = 3
const OTHER_CLASSES = 5
const RESERVED = 5
const NODES_NAMED = 3

export interface CandidateOptions {
  /** Node-affinity verdict per PV (scheduler path); undefined = not checked. */
  nodeAffinityOk?: (pv: V1PersistentVolume) => boolean | undefined
  /** The nodes the consumer pod can use (for the words of a node-affinity failure); undefined = no pod. */
  usableNodes?: readonly string[]
  /** The scheduler checks access modes per PV; the controller through its index — both exclude. */
  extra?: V1PersistentVolume[]
}

export interface CandidateList {
  rows: Candidate[]
  /** PVs of the claim's class that are not listed. */
  omitted: number
  omittedBy: OmittedCandidates
}

export function candidateRows(pvc: V1PersistentVolumeClaim, w: World, opts: CandidateOptions = {}): CandidateList {
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
  // PVs of other classes only when the claim's class has none at all: otherwise they are noise
  // (a claim never binds a PV of another class), and advice built on them misleads.
  if (w.index.ofClass(cls).length === 0) {
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
  // The class's counts (once per world) less the listed PVs of the class: not a scan per claim.
  const ofClass = standingsOfClass(cls, w)
  const omittedBy: OmittedCandidates = {...ofClass.counts}
  for (const pv of seen) if (ofClass.members.has(pv)) omittedBy[standing(pv, w)]--
  const omitted = Object.values(omittedBy).reduce((a, b) => a + b, 0)
  return {rows, omitted, omittedBy}
}

interface ClassStandings {
  counts: OmittedCandidates
  members: Set<V1PersistentVolume>
}

const standingsByWorld = new WeakMap<World, Map<string, ClassStandings>>()

/** The PVs of a class and how many are of each standing (memoised per world). */
function standingsOfClass(cls: string, w: World): ClassStandings {
  let m = standingsByWorld.get(w)
  if (!m) standingsByWorld.set(w, (m = new Map()))
  let s = m.get(cls)
  if (!s) {
    s = {counts: {boundElsewhere: 0, reserved: 0, released: 0, furtherFromFitting: 0}, members: new Set()}
    for (const pv of w.index.ofClass(cls)) {
      s.counts[standing(pv, w)]++
      s.members.add(pv)
    }
    m.set(cls, s)
  }
  return s
}

/** What an unlisted PV is: taken (bound, reserved, released) or free but further from fitting. */
function standing(pv: V1PersistentVolume, w: World): keyof OmittedCandidates {
  if (!pv.spec?.claimRef) return 'furtherFromFitting'
  const phase = w.phaseOf(pv)
  return phase === 'Bound' ? 'boundElsewhere' : phase === 'Released' ? 'released' : 'reserved'
}

function row(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim, w: World, opts: CandidateOptions): Candidate {
  const phase = w.phaseOf(pv)
  const mismatches = volumeMismatches(pv, pvc, {phase, nodeAffinityOk: opts.nodeAffinityOk?.(pv), vac: w.rules.vac})
  const ref = pv.spec?.claimRef
  const bytes = toBytes(capacityOf(pv))
  const stale = Boolean(ref?.uid && ref.uid !== pvc.metadata?.uid && `${ref.namespace}/${ref.name}` === claimKey(pvc))
  return {
    name: pv.metadata?.name ?? '',
    eligible: mismatches.length === 0,
    mismatches,
    whyNot: whyNot(mismatches, pv, pvc, w, opts.usableNodes),
    capacity: String(pv.spec?.capacity?.storage ?? formatBytes(bytes)),
    accessModes: pv.spec?.accessModes ?? [],
    storageClass: pvClass(pv),
    phase: pv.status?.phase ?? phase,
    volumeMode: volumeModeOf(pv),
    claimRef: ref ? `${ref.namespace}/${ref.name}${stale ? ` (uid ${ref.uid!.slice(0, 8)}…, stale)` : ''}` : null,
  }
}

const nodesByWorld = new WeakMap<World, WeakMap<V1PersistentVolume, (string | undefined)[]>>()

/**
 * The names of the nodes the PV's node affinity admits, in node order (memoised per world);
 * only the nodes its `In` requirements name are checked (the node label index).
 */
function nodesOfPV(pv: V1PersistentVolume, w: World): (string | undefined)[] {
  let m = nodesByWorld.get(w)
  if (!m) nodesByWorld.set(w, (m = new WeakMap()))
  let on = m.get(pv)
  if (!on) {
    const required = pv.spec?.nodeAffinity?.required
    const positions = required ? nodeIndexOf(w.nodes).candidates(required.nodeSelectorTerms, false) : undefined
    const nodes = positions ? positions.map((i) => w.nodes[i]) : w.nodes
    on = nodes.filter((n) => pvFitsNodeLabels(pv, n.metadata?.labels)).map((n) => n.metadata?.name)
    m.set(pv, on)
  }
  return on
}

const listNodes = (names: readonly (string | undefined)[]) =>
  names.slice(0, NODES_NAMED).join(', ') + (names.length > NODES_NAMED ? `, … (${names.length})` : '')

/**
 * Every failing check in words and values, in upstream's order. The phase check is folded into
 * the claimRef one when that already names the phase (bound / reserved / Released).
 */
export function whyNot(
  codes: readonly MismatchCode[],
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  w: World,
  usableNodes?: readonly string[],
): string[] {
  const ref = pv.spec?.claimRef
  const phase = w.phaseOf(pv)
  const refName = `${ref?.namespace}/${ref?.name}`
  const out: string[] = []
  for (const code of codes) {
    switch (code) {
      case 'claimedByOther':
        out.push(
          refName === claimKey(pvc)
            ? "holds an earlier claim's data"
            : phase === 'Bound'
              ? `bound to ${refName}`
              : phase === 'Released' || phase === 'Failed'
                ? `${phase} from ${refName}`
                : `reserved for ${refName}`,
        )
        break
      case 'capacity':
        out.push(`too small (${pv.spec?.capacity?.storage ?? '0'} < ${pvc.spec?.resources?.requests?.storage ?? '0'})`)
        break
      case 'volumeMode':
        out.push(`volumeMode ${volumeModeOf(pv)}, claim wants ${volumeModeOf(pvc)}`)
        break
      case 'volumeAttributesClass':
        out.push(
          `volumeAttributesClass "${pv.spec?.volumeAttributesClassName ?? ''}", claim wants "${pvc.spec?.volumeAttributesClassName ?? ''}"`,
        )
        break
      case 'deleting':
        out.push('being deleted')
        break
      case 'phase':
        if (!codes.includes('claimedByOther')) out.push(`phase ${phase}`)
        break
      case 'selector':
        out.push("labels don't match the claim's selector")
        break
      case 'storageClass':
        out.push(`class ${pvClass(pv) || '""'}, claim wants ${claimClass(pvc) || '""'}`)
        break
      case 'accessModes':
        out.push(
          `modes ${shortModes(pv.spec?.accessModes) || 'none'}, claim needs ${shortModes(pvc.spec?.accessModes)}`,
        )
        break
      case 'nodeAffinity': {
        const on = nodesOfPV(pv, w)
        const where = on.length ? `only on ${listNodes(on)}` : 'on no existing node'
        out.push(usableNodes?.length ? `${where}; pod can use ${listNodes(usableNodes)}` : where)
        break
      }
    }
  }
  return out
}
