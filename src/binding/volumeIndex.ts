/**
 * PVs indexed the ways the controller and the scheduler look them up, built once per snapshot
 * so a claim never scans every PV: by name, by the claim their claimRef names, and the
 * unclaimed ones per class in ascending capacity (where "smallest that fits" starts).
 */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {accessModesKey} from './accessModes.js'
import type {VacMode} from './kubeVersion.js'
import {
  capacityOf,
  checkAccessModes,
  claimKey,
  findMatchingVolume,
  isVolumeBoundToClaim,
  requestOf,
  vacClaimError,
} from './matchVolume.js'
import {claimClass, pvClass} from './storageClass.js'

interface Sized {
  pv: V1PersistentVolume
  qty: bigint
}

/**
 * Unclaimed PVs of one class by where they may land: no required node affinity (anywhere),
 * one term with one `key In [values]` requirement (by key and value: local PVs pinned to a
 * hostname, zonal disks), or anything else (checked node by node).
 */
interface Placement {
  anywhere: V1PersistentVolume[]
  byLabel: Map<string, Map<string, V1PersistentVolume[]>>
  other: V1PersistentVolume[]
}

export class VolumeIndex {
  readonly byName = new Map<string, V1PersistentVolume>()
  private readonly byClaimRef = new Map<string, V1PersistentVolume[]>()
  private readonly unclaimed = new Map<string, Sized[]>()
  private readonly allByClass = new Map<string, V1PersistentVolume[]>()
  /** PVs whose claimRef names a claim but that are not Bound: reservations and Released PVs. */
  private readonly reservedByClass = new Map<string, V1PersistentVolume[]>()
  private placement?: Map<string, Placement>

  constructor(readonly pvs: readonly V1PersistentVolume[]) {
    for (const pv of pvs) {
      this.byName.set(pv.metadata?.name ?? '', pv)
      const cls = pvClass(pv)
      push(this.allByClass, cls, pv)
      const ref = pv.spec?.claimRef
      if (ref) {
        push(this.byClaimRef, `${ref.namespace ?? ''}/${ref.name ?? ''}`, pv)
        if (pv.status?.phase !== 'Bound') push(this.reservedByClass, cls, pv)
      } else push(this.unclaimed, cls, {pv, qty: capacityOf(pv)})
    }
    for (const list of this.unclaimed.values()) list.sort((a, b) => (a.qty < b.qty ? -1 : a.qty > b.qty ? 1 : 0))
  }

  /** PVs whose claimRef names this claim's namespace/name (any uid). */
  claimedFor(pvc: V1PersistentVolumeClaim): V1PersistentVolume[] {
    return this.byClaimRef.get(claimKey(pvc)) ?? []
  }

  /** PVs whose claimRef names this claim and whose uid is empty or matches. */
  preboundTo(pvc: V1PersistentVolumeClaim): V1PersistentVolume[] {
    return this.claimedFor(pvc).filter((pv) => isVolumeBoundToClaim(pv, pvc))
  }

  reservedOfClass(cls: string): V1PersistentVolume[] {
    return this.reservedByClass.get(cls) ?? []
  }

  ofClass(cls: string): V1PersistentVolume[] {
    return this.allByClass.get(cls) ?? []
  }

  classes(): string[] {
    return [...this.allByClass.keys()]
  }

  /**
   * A superset of the unclaimed PVs of a class whose node affinity admits a node with these
   * labels, and no PV twice: every other unclaimed PV of the class fails that node's check.
   */
  unclaimedForNode(cls: string, labels: Record<string, string>): V1PersistentVolume[] {
    const p = this.placements().get(cls)
    if (!p) return []
    let out: V1PersistentVolume[] = p.anywhere
    let copied = false
    const add = (list: V1PersistentVolume[] | undefined) => {
      if (!list?.length) return
      if (!copied) {
        out = out.slice()
        copied = true
      }
      for (const pv of list) out.push(pv)
    }
    for (const [key, byValue] of p.byLabel) if (Object.hasOwn(labels, key)) add(byValue.get(labels[key]))
    add(p.other)
    return out
  }

  private placements(): Map<string, Placement> {
    if (this.placement) return this.placement
    this.placement = new Map()
    for (const [cls, list] of this.unclaimed) {
      const p: Placement = {anywhere: [], byLabel: new Map(), other: []}
      for (const {pv} of list) {
        const req = pv.spec?.nodeAffinity?.required
        if (!req) {
          p.anywhere.push(pv)
          continue
        }
        const terms = req.nodeSelectorTerms ?? []
        const e =
          terms.length === 1 && !terms[0].matchFields?.length && terms[0].matchExpressions?.length === 1
            ? terms[0].matchExpressions[0]
            : undefined
        if (e?.operator !== 'In' || !e.values?.length) {
          p.other.push(pv)
          continue
        }
        let byValue = p.byLabel.get(e.key)
        if (!byValue) p.byLabel.set(e.key, (byValue = new Map()))
        for (const v of new Set(e.values)) push(byValue, v, pv)
      }
      this.placement.set(cls, p)
    }
    return this.placement
  }

  /** Every unclaimed PV of a class, ascending by capacity. */
  *unclaimedOfClass(cls: string): Generator<V1PersistentVolume> {
    for (const {pv} of this.unclaimed.get(cls) ?? []) yield pv
  }

  /** Unclaimed PVs of a class with capacity >= min, ascending. */
  *unclaimedFrom(cls: string, min: bigint): Generator<V1PersistentVolume> {
    const list = this.unclaimed.get(cls)
    if (!list) return
    for (let i = firstAtLeast(list, min); i < list.length; i++) yield list[i].pv
  }

  /** Up to `n` unclaimed PVs of a class just below `max` (the ones that are too small), largest first. */
  unclaimedBelow(cls: string, max: bigint, n: number): V1PersistentVolume[] {
    const list = this.unclaimed.get(cls) ?? []
    // Sorted by size: binary-search the first one at least `max` (scanning down from the largest
    // cost every claim the whole class: quadratic past 10,000 PVs).
    const lo = firstAtLeast(list, max)
    const out: V1PersistentVolume[] = []
    for (let i = lo - 1; i >= 0 && out.length < n; i--) out.push(list[i].pv)
    return out
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k)
  if (l) l.push(v)
  else m.set(k, [v])
}

export interface Pick {
  /** The PV the controller binds, or null; when several are equally good, the first by name. */
  winner: V1PersistentVolume | null
  /** Other PVs the controller could pick just as well (its choice among them is arbitrary). */
  ties: V1PersistentVolume[]
  /** FindMatchingVolume's error: the controller gives up on the claim (logged, no event). */
  error?: string
}

/**
 * The PV controller's choice (pv_controller findBestMatchForClaim → index.go findByClaim):
 * access-mode groups that contain every requested mode, fewest modes first; within a group
 * FindMatchingVolume. Groups of the same size are tried in arbitrary order, so their winners tie.
 */
export function controllerPick(
  pvc: V1PersistentVolumeClaim,
  index: VolumeIndex,
  delayBinding: boolean,
  phaseOf: (pv: V1PersistentVolume) => string,
  vac: VacMode = 'strict',
): Pick {
  const error = vacClaimError(pvc, vac)
  if (error) return {winner: null, ties: [], error}
  const wanted = pvc.spec?.accessModes ?? []
  const groups = new Map<string, V1PersistentVolume[]>()
  const add = (pv: V1PersistentVolume) => {
    if (!checkAccessModes(pv, pvc)) return
    const key = accessModesKey(pv.spec?.accessModes)
    push(groups, key, pv)
  }
  for (const pv of index.claimedFor(pvc)) add(pv)
  if (!delayBinding) {
    // Every unbound PV that can pass FindMatchingVolume has the claim's class and room enough.
    const minKey = accessModesKey(wanted)
    let found: bigint | undefined
    for (const pv of index.unclaimedFrom(claimClass(pvc), requestOf(pvc))) {
      const qty = capacityOf(pv)
      // Once the exact-modes group has a winner and we are past its size, nothing can beat it.
      if (found !== undefined && qty > found) break
      add(pv)
      if (
        found === undefined &&
        accessModesKey(pv.spec?.accessModes) === minKey &&
        findMatchingVolume(pvc, [pv], {phaseOf, delayBinding, vac}).best.length
      )
        found = qty
    }
  }
  const levels = [...groups.keys()].sort((a, b) => count(a) - count(b))
  let level = -1
  let result: V1PersistentVolume[] = []
  for (const key of levels) {
    if (level !== -1 && count(key) > level) break
    const {best} = findMatchingVolume(pvc, groups.get(key)!, {phaseOf, delayBinding, vac})
    if (best.length) {
      level = count(key)
      result = result.concat(best)
    }
  }
  result.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
  return {winner: result[0] ?? null, ties: result.slice(1)}
}

function count(key: string): number {
  return key === '' ? 0 : key.split(',').length
}

/** Index of the first entry of a size-sorted list with qty >= `min` (list.length if none). */
function firstAtLeast(list: readonly {qty: bigint}[], min: bigint): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (list[mid].qty < min) lo = mid + 1
    else hi = mid
  }
  return lo
}
