/**
 * Which nodes VolumeBinding's Filter cannot tell apart for one pod: FindPodVolumes
 * (volumebinding/binder.go) reads a node only through its labels — the bound PVs' node affinity
 * (checkBoundClaims), the free PVs' node affinity (findMatchingVolumes → FindMatchingVolume),
 * the class's allowedTopologies and the CSIStorageCapacity topologies (checkVolumeProvisions) —
 * plus its name against a claim's selected-node annotation and its CSINode for in-tree PVs
 * migrated to CSI. A node's "topology signature" keeps of its labels only what those selectors
 * can distinguish: for a key compared with `In`/`NotIn`/equality, whether the value is one of the
 * values named (and which) or another one; for `Exists`/`DoesNotExist`, whether the key is there;
 * for `Gt`/`Lt`, the whole value. Nodes with equal signatures get the same outcome for every
 * claim, so the filter runs once per signature instead of once per node.
 */
import type {
  V1CSINode,
  V1LabelSelector,
  V1Node,
  V1NodeSelectorTerm,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
} from '@kubernetes/client-node'
import {MIGRATED_PLUGINS_ANNOTATION, schedulerViewOfPV} from './csiMigration.js'
import {SELECTED_NODE} from './scheduling.js'
import {claimClass, findClass} from './storageClass.js'
import type {World} from './world.js'

/** Per label key: the values some selector names, or 'whole' when a selector compares the whole value. */
export class LabelUse {
  readonly keys = new Map<string, Set<string> | 'whole'>()

  private values(key: string, values: readonly string[]): void {
    const cur = this.keys.get(key)
    if (cur === 'whole') return
    const set = cur ?? new Set<string>()
    for (const v of values) set.add(v)
    this.keys.set(key, set)
  }

  /** Node selector terms (MatchNodeSelectorTerms); matchFields read no label. */
  terms(terms: readonly V1NodeSelectorTerm[] | undefined): void {
    for (const t of terms ?? [])
      for (const e of t.matchExpressions ?? []) {
        if (e.operator === 'In' || e.operator === 'NotIn') this.values(e.key, e.values ?? [])
        else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') this.values(e.key, [])
        else this.keys.set(e.key, 'whole')
      }
  }

  /** A label selector (metav1.LabelSelectorAsSelector). */
  selector(sel: V1LabelSelector | undefined): void {
    for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) this.values(k, [v])
    for (const e of sel?.matchExpressions ?? []) {
      if (e.operator === 'In' || e.operator === 'NotIn') this.values(e.key, e.values ?? [])
      else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') this.values(e.key, [])
      else this.keys.set(e.key, 'whole')
    }
  }

  /** What of these labels the recorded selectors can tell apart. */
  signature(labels: Record<string, string>): string {
    let s = ''
    for (const [key, use] of this.keys) {
      if (!Object.hasOwn(labels, key)) s += '\u0000-'
      else {
        const v = labels[key]
        s += use === 'whole' || use.has(v) ? `\u0000=${v}` : '\u0000+'
      }
    }
    return s
  }
}

const byWorld = new WeakMap<World, {classes: Map<string, LabelUse>; csiNodes?: Map<string, V1CSINode>}>()

function memoOf(w: World) {
  let m = byWorld.get(w)
  if (!m) byWorld.set(w, (m = {classes: new Map()}))
  return m
}

/** The labels the free PVs of a class look at (memoised per world: the class's PVs do not change). */
function classUse(cls: string, w: World): LabelUse {
  const memo = memoOf(w).classes
  let use = memo.get(cls)
  if (!use) {
    use = new LabelUse()
    for (const pv of w.index.unclaimedOfClass(cls)) use.terms(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms)
    const sc = findClass(w.classes, cls)
    // allowedTopologies: v1helper.MatchTopologySelectorTerms compares values like `In`.
    for (const t of sc?.allowedTopologies ?? [])
      for (const e of t.matchLabelExpressions ?? [])
        use.terms([{matchExpressions: [{key: e.key, operator: 'In', values: e.values ?? []}]}])
    // hasEnoughCapacity: the class's CSIStorageCapacity topologies, when its driver publishes them.
    const driver = w.csiDrivers.find((d) => d.metadata?.name === sc?.provisioner)
    if (w.capacityKnown && driver?.spec?.storageCapacity === true)
      for (const c of w.capacities) if (c.storageClassName === cls) use.selector(c.nodeTopology)
    memo.set(cls, use)
  }
  return use
}

function csiNodeByName(w: World): Map<string, V1CSINode> {
  const memo = memoOf(w)
  if (!memo.csiNodes) {
    memo.csiNodes = new Map()
    for (const c of w.csiNodes)
      if (!memo.csiNodes.has(c.metadata?.name ?? '')) memo.csiNodes.set(c.metadata?.name ?? '', c)
  }
  return memo.csiNodes
}

/**
 * A function giving each node's topology signature for this pod's claims: nodes with the same
 * signature get the same volumeBindingOnNode verdict (see the module comment).
 */
export function topologySignature(
  bound: readonly V1PersistentVolumeClaim[],
  delayed: readonly V1PersistentVolumeClaim[],
  w: World,
): (node: V1Node) => string {
  const uses: LabelUse[] = []
  const own = new LabelUse()
  uses.push(own)
  // checkBoundClaims: the PV as translated for the node's CSINode, when its plugin is migrated there.
  let readsCSINode = false
  const csiNodes = csiNodeByName(w)
  const csiViews = [undefined, ...new Map([...csiNodes.values()].map((c) => [csiKey(c), c])).values()]
  for (const pvc of bound) {
    const pv = w.index.byName.get(pvc.spec?.volumeName ?? '')
    if (!pv) continue
    for (const c of csiViews) {
      const view: V1PersistentVolume = schedulerViewOfPV(pv, c)
      if (view !== pv) readsCSINode = true
      own.terms(view.spec?.nodeAffinity?.required?.nodeSelectorTerms)
    }
  }
  const selected = new Set<string>()
  const classes = new Set<string>()
  for (const pvc of delayed) {
    const sel = pvc.metadata?.annotations?.[SELECTED_NODE]
    if (sel !== undefined) selected.add(sel)
    const cls = claimClass(pvc)
    if (!classes.has(cls)) {
      classes.add(cls)
      uses.push(classUse(cls, w))
    }
    // PVs whose claimRef names the claim are candidates whatever their class's free list holds.
    for (const pv of w.index.claimedFor(pvc)) own.terms(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms)
  }
  return (node) => {
    const labels = node.metadata?.labels ?? {}
    const name = node.metadata?.name ?? ''
    let s = selected.size && selected.has(name) ? `${name}\u0001` : '\u0001'
    if (readsCSINode) s += `${csiKey(csiNodes.get(name))}\u0001`
    for (const u of uses) s += u.signature(labels)
    return s
  }
}

/** What schedulerViewOfPV reads from a CSINode. */
function csiKey(c: V1CSINode | undefined): string {
  return c === undefined ? '' : `+${c.metadata?.annotations?.[MIGRATED_PLUGINS_ANNOTATION] ?? ''}`
}
