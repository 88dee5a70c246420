/**
 * `bind`: which PV a claim should get and the exact write that gets it there. Pure — a World in,
 * plans out; the command sends the patches. The write goes on the PV side (`spec.claimRef`),
 * the pre-binding upstream recommends; the PV controller then completes the binding
 * (pv_controller.go bind: claimRef, phases, the claim's volumeName and annotations).
 */
import type {
  V1Node,
  V1ObjectReference,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from '@kubernetes/client-node'
import {shortModes} from '../binding/accessModes.js'
import {
  isVolumeBoundToClaim,
  MISMATCH_CODES,
  type MismatchCode,
  pvFitsNodeLabels,
  volumeMismatches,
  volumeModeOf,
} from '../binding/matchVolume.js'
import {claimClass, isDelayBinding, pvClass} from '../binding/storageClass.js'
import {controllerPick, VolumeIndex} from '../binding/volumeIndex.js'
import {analysePod, isTerminated} from '../binding/consumers.js'
import {type Cause, diagnoseClaim, staleClaimHints} from '../diagnose/index.js'
import {effectiveClaim} from '../binding/effectiveClaim.js'
import {buildWorld, type World} from '../binding/world.js'
import {UserError} from '../errors.js'
import type {Snapshot} from '../snapshot/types.js'

/** A JSON merge patch (RFC 7386): `null` deletes a key. */
export interface MergePatch {
  metadata?: {resourceVersion?: string}
  spec: Record<string, unknown>
}

/**
 * bind: a write is planned. nothingToDo: bound already, or the controller/provisioner/scheduler
 * will finish without help. noCandidate: no PV fits. refused: the PV asked for (or named by the
 * claim) fails a check, or the claim cannot be bound at all (Lost, being deleted).
 */
export type BindStatus = 'bind' | 'nothingToDo' | 'noCandidate' | 'refused'

export interface Mismatch {
  check: MismatchCode
  text: string
}

/** What the API server answered to a write (or its dry run). */
export interface ServerAnswer {
  dryRun: boolean
  ok: boolean
  /** HTTP status of a rejection (409 Conflict, 403 Forbidden, 422 Invalid, ...). */
  code?: number
  reason?: string
  message?: string
  /** On a 409: what changed in the PV (or claim) since it was planned. */
  changes?: string[]
  /** Which object the answer is about. */
  object?: string
}

export interface Binding {
  claim: string
  volume: string | null
  status: BindStatus
  reason: string
  /** The engine's cause when no write is planned (noCandidate, nothingToDo, refused). */
  cause?: Cause
  warnings: string[]
  mismatches: Mismatch[]
  /** PVs the controller or scheduler could have picked just as well. */
  ties: string[]
  /** Merge patch for persistentvolume `volume`. */
  patch: MergePatch | null
  command: string | null
  /** Merge patch for the claim (spec.volumeName), only when the PV-side write alone may lose (see docs/bind.md). */
  claimPatch: MergePatch | null
  claimCommand: string | null
  fix: string[]
  applied: boolean
  server: ServerAnswer[]
  /** After --wait: true when the claim reached Bound. */
  bound?: boolean
}

export interface BindInput {
  namespace: string
  name: string
  /** --volume */
  volume?: string
  /** --reclaim: allow a Released PV that belonged to another claim. */
  reclaim?: boolean
}

/** A Binding with nothing decided yet (the plan fills it in). */
export function newBinding(claim: string): Binding {
  return {
    claim,
    volume: null,
    status: 'nothingToDo',
    reason: '',
    warnings: [],
    mismatches: [],
    ties: [],
    patch: null,
    command: null,
    claimPatch: null,
    claimCommand: null,
    fix: [],
    applied: false,
    server: [],
  }
}

const pvName = (pv: V1PersistentVolume) => pv.metadata?.name ?? ''

/** Plans the binding of one claim. Throws UserError when the claim or the --volume PV does not exist. */
export function planBinding(w: World, input: BindInput): Binding {
  const key = `${input.namespace}/${input.name}`
  const pvc = w.claims.get(key)
  if (!pvc)
    throw new UserError(
      `persistentvolumeclaim "${input.name}" not found in namespace "${input.namespace}"; list them with kubectl get pvc -n ${input.namespace}`,
    )
  const b = newBinding(key)
  const diag = diagnoseClaim(pvc, w)
  const volumeName = pvc.spec?.volumeName || undefined

  if (diag.cause === 'Bound') {
    b.volume = volumeName ?? null
    b.cause = diag.cause
    if (input.volume && input.volume !== volumeName)
      return refuse(
        b,
        `The claim is already bound to PV "${volumeName}"; a bound claim cannot be moved to "${input.volume}".`,
      )
    b.reason = `Already bound to PV "${volumeName}".`
    return b
  }
  if (diag.cause === 'ClaimLost' || diag.cause === 'ClaimTerminating') {
    b.volume = volumeName ?? null
    b.cause = diag.cause
    b.fix = diag.fix
    return refuse(b, diag.message)
  }

  if (input.volume && !w.index.byName.has(input.volume))
    throw new UserError(`persistentvolume "${input.volume}" not found; list them with kubectl get pv`)

  // Branch B of syncUnboundClaim: a claim that names a PV is only ever bound to that PV.
  if (volumeName) {
    if (input.volume && input.volume !== volumeName)
      return refuse(
        {...b, volume: input.volume},
        `The claim names PV "${volumeName}" in spec.volumeName, which cannot be changed once set; the controller will only ever bind that PV.`,
      )
    if (!w.index.byName.has(volumeName)) {
      b.cause = diag.cause
      b.fix = diag.fix
      return refuse({...b, volume: volumeName}, diag.message)
    }
    return planFor(w, pvc, input, b, volumeName, 'claimVolumeName')
  }
  if (input.volume) {
    const out = planFor(w, pvc, input, b, input.volume, 'flag')
    if (out.status === 'bind' && diag.wouldBind && diag.wouldBind !== input.volume)
      out.reason += ` Left alone, the cluster would bind "${diag.wouldBind}".`
    return out
  }

  // No choice from the user: the engine's wouldBind is the controller's (Immediate) or the
  // scheduler's per-node greedy choice (WaitForFirstConsumer, only with a consumer pod).
  // The diagnosis's fixes already start with the keep-the-data hint (one function for both).
  if (!diag.wouldBind) {
    b.cause = diag.cause
    // Handing another claim's Released data to this one is the riskiest option: it comes last.
    b.fix = [...diag.fix, ...reclaimHints(pvc, w)]
    b.reason = diag.message
    b.status = diag.severity === 'error' || diag.severity === 'warning' ? 'noCandidate' : 'nothingToDo'
    return b
  }
  const out = planFor(w, pvc, input, b, diag.wouldBind, 'engine', diag.ties)
  out.warnings.push(...staleClaimHints(pvc, w))
  return out
}

/** Released PVs of other claims that would otherwise fit: never chosen by the controller, possible with --reclaim. */
function reclaimHints(pvc: V1PersistentVolumeClaim, w: World): string[] {
  const claim = effectiveClaim(pvc, w)
  const ns = pvc.metadata?.namespace ?? 'default'
  const out: string[] = []
  for (const pv of w.index.ofClass(claimClass(claim))) {
    const ref = pv.spec?.claimRef
    if (!ref || w.phaseOf(pv) !== 'Released' || (ref.namespace === ns && ref.name === pvc.metadata?.name)) continue
    if (
      volumeMismatches({...pv, spec: {...pv.spec, claimRef: undefined}}, claim, {phase: 'Available', vac: w.rules.vac})
        .length
    )
      continue
    out.push(
      `PV "${pvName(pv)}" would fit but is Released from ${ref.namespace}/${ref.name}; if its old data may be exposed to this claim: kubectl pv-doctor bind -n ${ns} ${pvc.metadata?.name} --volume ${pvName(pv)} --reclaim`,
    )
    if (out.length === 3) break
  }
  return out
}

type Source = 'engine' | 'flag' | 'claimVolumeName'

function refuse(b: Binding, reason: string, mismatches: Mismatch[] = []): Binding {
  return {...b, status: 'refused', reason, mismatches}
}

/** The checks for one chosen PV, the patch, and the Immediate-binding caveat. */
function planFor(
  w: World,
  pvc: V1PersistentVolumeClaim,
  input: BindInput,
  b: Binding,
  name: string,
  source: Source,
  ties: string[] = [],
): Binding {
  const pv = w.index.byName.get(name)!
  const claim = effectiveClaim(pvc, w)
  const delay = isDelayBinding(claim, w.classes)
  b = {...b, volume: name, ties}
  const warnings: string[] = []

  const own = ownership(pv, pvc, w, input.reclaim === true, source === 'claimVolumeName')
  // Node affinity only matters where the scheduler picks the node: WaitForFirstConsumer with a consumer.
  const node = delay ? consumerNodes(pvc, w) : undefined
  const nodeAffinityOk = node?.nodes.length
    ? node.nodes.some((n) => pvFitsNodeLabels(pv, n.metadata?.labels))
    : undefined
  if (delay && pv.spec?.nodeAffinity?.required && nodeAffinityOk === undefined)
    warnings.push(
      node?.note ??
        `No pod uses the claim yet; PV "${name}" is pinned to certain nodes (spec.nodeAffinity), so the claim's pods will only be able to run there.`,
    )
  // Every check of FindMatchingVolume as if the PV were free; ownership is judged separately above.
  const free: V1PersistentVolume = {...pv, spec: {...pv.spec, claimRef: undefined}}
  let codes = volumeMismatches(free, claim, {phase: 'Available', nodeAffinityOk, vac: w.rules.vac})
  // checkVolumeSatisfyClaim (spec.volumeName set) does not look at the selector.
  if (source === 'claimVolumeName') codes = codes.filter((c) => c !== 'selector')
  const mismatches = [...own.mismatches, ...codes.map((c) => ({check: c, text: mismatchText(c, pv, claim, node)}))]
  mismatches.sort((x, y) => MISMATCH_CODES.indexOf(x.check) - MISMATCH_CODES.indexOf(y.check))
  if (mismatches.length) {
    b.fix = own.fix
    return refuse(
      b,
      `PV "${name}" fails ${mismatches.length === 1 ? 'a check' : `${mismatches.length} checks`} for this claim: ${mismatches.map((m) => m.text).join('; ')}.`,
      mismatches,
    )
  }
  warnings.push(...own.warnings)

  const patch = own.kind === 'reserved' ? null : claimRefPatch(pv, pvc)
  if (patch && !pv.metadata?.resourceVersion)
    warnings.push(
      `PV "${name}" has no metadata.resourceVersion in the snapshot, so the patch cannot guard against concurrent changes; plan against the live cluster before applying.`,
    )

  // pv_controller findBestMatchForClaim tries access-mode groups with fewer modes first, so a
  // PV pre-bound by claimRef can still lose to an eligible unreserved PV in such a group (or
  // tie with one in another group of the same size). Simulate the controller on the patched
  // PV; if it might pick another, also pre-bind the claim (spec.volumeName, settable once while empty).
  let claimPatch: MergePatch | null = null
  if (!pvc.spec?.volumeName) {
    const after = patch ? applyMergePatch(pv, patch) : pv
    const index = new VolumeIndex(w.snapshot.pvs.map((p) => (p === pv ? after : p)))
    const sim = controllerPick(claim, index, delay, w.phaseOf, w.rules.vac)
    if (!sim.winner || pvName(sim.winner) !== name || sim.ties.length) {
      const rival = [sim.winner, ...sim.ties].filter((p) => p && pvName(p) !== name).map((p) => `"${pvName(p!)}"`)
      claimPatch = {
        metadata: pvc.metadata?.resourceVersion ? {resourceVersion: pvc.metadata.resourceVersion} : undefined,
        spec: {volumeName: name},
      }
      if (!claimPatch.metadata) delete claimPatch.metadata
      warnings.push(
        `The PersistentVolume controller could still prefer ${rival.join(' or ') || 'another PV'} (an eligible PV in an access-mode group with no more modes than "${name}"'s), so the claim's spec.volumeName is set too; that field can be set only once, while it is empty.`,
      )
    }
  }

  if (!patch && !claimPatch) {
    b.reason = `PV "${name}" is already reserved for this claim (spec.claimRef); the PersistentVolume controller completes the binding on its next sync. If the claim stays Pending, check that kube-controller-manager is running.`
    b.warnings = warnings
    return b
  }
  const ns = pvc.metadata?.namespace ?? 'default'
  return {
    ...b,
    status: 'bind',
    reason: own.reason ?? whyReason(source, name, delay, ties, node?.pod),
    warnings,
    patch,
    command: patch ? kubectlPatchCommand('pv', name, patch) : null,
    claimPatch,
    claimCommand: claimPatch ? kubectlPatchCommand('pvc', pvc.metadata?.name ?? '', claimPatch, ns) : null,
  }
}

function whyReason(source: Source, name: string, delay: boolean, ties: string[], pod?: string): string {
  const tied = ties.length
    ? ` It ties with ${ties.map((t) => `"${t}"`).join(', ')} (the cluster would take any one of them); pre-binding "${name}" makes the choice explicit.`
    : ''
  if (source === 'claimVolumeName')
    return `The claim names PV "${name}" in spec.volumeName and the PV passes every check.`
  if (source === 'flag') return `Asked for with --volume; PV "${name}" passes every check.`
  return delay
    ? `The scheduler's choice for pod ${pod ?? '?'}: the smallest PV that fits on a node the pod can use (VolumeBinding FindPodVolumes).${tied}`
    : `The PersistentVolume controller's choice: the smallest fitting PV in the access-mode group with the fewest modes (findBestMatchForClaim).${tied}`
}

interface Ownership {
  kind: 'free' | 'reserved' | 'stale' | 'reclaim'
  mismatches: Mismatch[]
  warnings: string[]
  fix: string[]
  reason?: string
}

/** Who the PV belongs to, and whether pv-doctor may hand it to this claim. */
function ownership(
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  w: World,
  reclaim: boolean,
  namedByClaim: boolean,
): Ownership {
  const name = pvName(pv)
  const ref = pv.spec?.claimRef
  const phase = w.phaseOf(pv)
  const key = `${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name}`
  const out: Ownership = {kind: 'free', mismatches: [], warnings: [], fix: []}
  const failed = () =>
    out.mismatches.push({
      check: 'phase',
      text: `PV "${name}" is Failed (its reclaim policy failed); inspect the volume before you reuse it`,
    })
  if (!ref) {
    // syncVolume makes every PV without a claimRef Available at its next sync, whatever its phase.
    const shown = pv.status?.phase
    if (shown !== 'Available')
      out.warnings.push(
        `PV "${name}" is ${shown ?? 'without a phase'} but names no claim: the PersistentVolume controller makes it Available at its next sync, and binds it then.${shown === 'Failed' ? ' Its reclaim policy failed once: check what is on the volume before it is reused.' : ''}`,
      )
    return out
  }
  const refKey = `${ref.namespace ?? ''}/${ref.name ?? ''}`
  if (isVolumeBoundToClaim(pv, pvc)) return {...out, kind: 'reserved'}
  if (refKey === key) {
    // Same namespace/name, another uid: an earlier claim of this name (a re-created StatefulSet claim).
    if (phase === 'Failed') failed()
    return {
      ...out,
      kind: 'stale',
      reason: `PV "${name}" is ${phase} and still reserved for an earlier claim named ${key} (uid ${ref.uid}); updating claimRef.uid to this claim's uid (${pvc.metadata?.uid ?? 'unknown'}) hands the PV — and the data on it — to this claim.`,
    }
  }
  if (phase !== 'Released') {
    out.mismatches.push({
      check: 'claimedByOther',
      text: `PV "${name}" is ${phase === 'Bound' ? 'bound to' : 'reserved for'} ${refKey}`,
    })
    out.fix.push(
      namedByClaim
        ? `The claim's spec.volumeName is immutable once set: delete and recreate the claim without it (or naming a free PV); "${name}" belongs to ${refKey}.`
        : `Pick another PV; "${name}" belongs to ${refKey}.`,
    )
    return out
  }
  if (!reclaim) {
    out.mismatches.push({
      check: 'claimedByOther',
      text: `PV "${name}" is Released from ${refKey}; its old data would become visible to this claim (pass --reclaim to do that on purpose)`,
    })
    out.fix.push(
      `kubectl pv-doctor bind -n ${pvc.metadata?.namespace ?? 'default'} ${pvc.metadata?.name} --volume ${name} --reclaim   # only if ${refKey}'s data may be exposed to ${key}`,
    )
    return out
  }
  return {
    ...out,
    kind: 'reclaim',
    reason: `PV "${name}" is Released from ${refKey} and --reclaim was given: its claimRef is replaced by this claim.`,
    warnings: [
      `PV "${name}" was used by ${refKey}: whatever it left on the volume${pv.spec?.persistentVolumeReclaimPolicy === 'Retain' ? ' (reclaim policy Retain: nothing was wiped)' : ''} becomes readable and writable by ${key}.`,
    ],
  }
}

/** The nodes a WaitForFirstConsumer claim's consumer can run on, or none when no pod uses it. */
function consumerNodes(
  pvc: V1PersistentVolumeClaim,
  w: World,
): {pod?: string; nodes: V1Node[]; note?: string} | undefined {
  const pods: V1Pod[] = (
    w.podsByClaim.get(`${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name}`) ?? []
  ).filter((p) => !isTerminated(p))
  if (!pods.length) return undefined
  const placed = pods.find((p) => p.spec?.nodeName)
  if (placed) {
    const n = w.nodes.find((x) => x.metadata?.name === placed.spec?.nodeName)
    return {
      pod: placed.metadata?.name,
      nodes: n ? [n] : [],
      note: n
        ? undefined
        : `Pod ${placed.metadata?.name} runs on node ${placed.spec?.nodeName}, which is not in the snapshot; node affinity was not checked.`,
    }
  }
  const a = analysePod(pods[0], w)
  return {
    pod: pods[0].metadata?.name,
    nodes: a.feasible,
    note: a.feasible.length
      ? undefined
      : `Pod ${pods[0].metadata?.name} fits no node for reasons of its own (${a.preFilter ?? a.summary}); node affinity was not checked.`,
  }
}

function mismatchText(
  code: MismatchCode,
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  node?: {pod?: string; nodes: V1Node[]},
): string {
  const name = pvName(pv)
  switch (code) {
    case 'capacity':
      return `PV "${name}" holds ${pv.spec?.capacity?.storage ?? '0'}, the claim asks ${pvc.spec?.resources?.requests?.storage ?? '0'}`
    case 'volumeMode':
      return `PV "${name}" is volumeMode ${volumeModeOf(pv)}, the claim wants ${volumeModeOf(pvc)}`
    case 'volumeAttributesClass':
      return `PV "${name}" has volumeAttributesClassName "${pv.spec?.volumeAttributesClassName ?? ''}", the claim "${pvc.spec?.volumeAttributesClassName ?? ''}"`
    case 'deleting':
      return `PV "${name}" is being deleted`
    case 'selector':
      return `PV "${name}"'s labels do not match the claim's selector`
    case 'storageClass':
      return `PV "${name}" has storageClassName "${pvClass(pv)}", the claim "${claimClass(pvc)}"`
    case 'accessModes':
      return `PV "${name}" offers ${shortModes(pv.spec?.accessModes)}, the claim needs ${shortModes(pvc.spec?.accessModes)}`
    case 'nodeAffinity': {
      const list = (node?.nodes ?? []).map((n) => n.metadata?.name).slice(0, 8)
      return `PV "${name}" is pinned (spec.nodeAffinity) to nodes pod ${node?.pod ?? '?'} cannot use (it can use ${list.join(', ')}${(node?.nodes.length ?? 0) > 8 ? ', …' : ''})`
    }
    default:
      // claimedByOther and phase come from ownership(), never from the free copy.
      return `PV "${name}" fails the ${code} check`
  }
}

/** The claimRef the controller itself writes (GetBindVolumeToClaim), minus the claim's resourceVersion. */
export function claimRefFor(pvc: V1PersistentVolumeClaim): V1ObjectReference {
  const ref: V1ObjectReference = {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    namespace: pvc.metadata?.namespace ?? 'default',
    name: pvc.metadata?.name ?? '',
  }
  if (pvc.metadata?.uid) ref.uid = pvc.metadata.uid
  return ref
}

/**
 * The merge patch that makes `pv.spec.claimRef` name the claim: only the keys that differ, `null`
 * for keys the old reference has and the new one must not (resourceVersion, fieldPath), and the
 * PV's resourceVersion as a precondition (a changed PV → 409 Conflict, nothing written).
 */
export function claimRefPatch(pv: V1PersistentVolume, pvc: V1PersistentVolumeClaim): MergePatch {
  const want = claimRefFor(pvc) as Record<string, unknown>
  const have = (pv.spec?.claimRef ?? undefined) as Record<string, unknown> | undefined
  let claimRef: Record<string, unknown>
  if (!have) claimRef = want
  else {
    claimRef = {}
    for (const [k, v] of Object.entries(want)) if (have[k] !== v) claimRef[k] = v
    for (const k of Object.keys(have)) if (!(k in want) && have[k] !== undefined && have[k] !== null) claimRef[k] = null
  }
  const patch: MergePatch = {spec: {claimRef}}
  const rv = pv.metadata?.resourceVersion
  return rv ? {metadata: {resourceVersion: rv}, spec: patch.spec} : patch
}

/** RFC 7386 merge, enough to preview a patch's result. */
export function applyMergePatch<T>(target: T, patch: unknown): T {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as T
  const base: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? {...(target as Record<string, unknown>)} : {}
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k]
    else base[k] = applyMergePatch(base[k], v)
  }
  return base as T
}

/** POSIX shell single-quoting; bare when the word is safe. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export function kubectlPatchCommand(kind: 'pv' | 'pvc', name: string, patch: MergePatch, namespace?: string): string {
  const ns = kind === 'pvc' && namespace ? ` -n ${shellQuote(namespace)}` : ''
  return `kubectl patch ${kind}${ns} ${shellQuote(name)} --type=merge -p ${shellQuote(JSON.stringify(patch))}`
}

/** In scope for --all: claims that are Pending and not being deleted, sorted like explain. */
export function pendingClaims(snapshot: Snapshot, namespace: string | undefined): V1PersistentVolumeClaim[] {
  const out = snapshot.pvcs.filter(
    (p) =>
      (namespace === undefined || (p.metadata?.namespace ?? 'default') === namespace) &&
      !p.metadata?.deletionTimestamp &&
      (p.status?.phase ?? 'Pending') === 'Pending',
  )
  return out.sort(
    (a, b) =>
      (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '') ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )
}

/**
 * --all: plans every Pending claim in scope. A PV planned for one claim is not offered to the
 * next: on a collision the world is rebuilt with the planned claimRefs and the claim re-planned.
 */
export function planAll(
  snapshot: Snapshot,
  namespace: string | undefined,
  world: World = buildWorld(snapshot),
): Binding[] {
  const out: Binding[] = []
  const taken = new Map<string, V1PersistentVolume>()
  let w = world
  let stale = false
  for (const pvc of pendingClaims(snapshot, namespace)) {
    const input = {namespace: pvc.metadata?.namespace ?? 'default', name: pvc.metadata?.name ?? ''}
    let b = planBinding(w, input)
    if (b.status === 'bind' && b.volume && taken.has(b.volume) && stale) {
      w = buildWorld({...snapshot, pvs: snapshot.pvs.map((p) => taken.get(pvName(p)) ?? p)})
      stale = false
      b = planBinding(w, input)
    }
    if (b.status === 'bind' && b.volume) {
      const pv = w.index.byName.get(b.volume)!
      taken.set(b.volume, b.patch ? applyMergePatch(pv, b.patch) : pv)
      stale = true
    }
    out.push(b)
  }
  return out
}

/** none: write. client: plan only. server: send the writes with dryRun=All. */
export type DryRun = 'none' | 'client' | 'server'

export function bindPlanDocument(
  bindings: readonly Binding[],
  dryRun: DryRun,
): {apiVersion: 'pv-doctor/v1'; kind: 'BindPlan'; dryRun: string; bindings: readonly Binding[]} {
  return {apiVersion: 'pv-doctor/v1', kind: 'BindPlan', dryRun, bindings}
}

/** For a 409: what changed between the object as planned and as it is now, field by field. */
export function describeChange(
  planned: V1PersistentVolume | V1PersistentVolumeClaim,
  current: V1PersistentVolume | V1PersistentVolumeClaim,
): string[] {
  const out: string[] = []
  const rv = (o: typeof planned) => o.metadata?.resourceVersion ?? '?'
  if (rv(planned) !== rv(current)) out.push(`resourceVersion ${rv(planned)} → ${rv(current)}`)
  const show = (v: unknown) => (v === undefined ? 'unset' : typeof v === 'string' ? v : JSON.stringify(v))
  const ref = (o: typeof planned) => {
    const r = (o.spec as V1PersistentVolume['spec'])?.claimRef
    return r ? `${r.namespace}/${r.name}${r.uid ? ` (uid ${r.uid})` : ''}` : undefined
  }
  const fields: [string, (o: typeof planned) => unknown][] = [
    ['spec.claimRef', ref],
    ['status.phase', (o) => o.status?.phase],
    ['metadata.deletionTimestamp', (o) => o.metadata?.deletionTimestamp],
    ['spec.volumeName', (o) => (o.spec as V1PersistentVolumeClaim['spec'])?.volumeName],
    ['spec.capacity', (o) => (o.spec as V1PersistentVolume['spec'])?.capacity],
    ['spec.accessModes', (o) => o.spec?.accessModes],
    ['spec.storageClassName', (o) => o.spec?.storageClassName],
    ['spec.nodeAffinity', (o) => (o.spec as V1PersistentVolume['spec'])?.nodeAffinity],
    ['metadata.labels', (o) => o.metadata?.labels],
  ]
  for (const [path, get] of fields) {
    const a = JSON.stringify(get(planned))
    const b = JSON.stringify(get(current))
    if (a !== b) out.push(`${path}: ${show(get(planned))} → ${show(get(current))}`)
  }
  const otherSpec = new Set([...Object.keys(planned.spec ?? {}), ...Object.keys(current.spec ?? {})])
  for (const k of ['claimRef', 'volumeName', 'capacity', 'accessModes', 'storageClassName', 'nodeAffinity'])
    otherSpec.delete(k)
  for (const k of [...otherSpec].sort()) {
    const a = (planned.spec as Record<string, unknown> | undefined)?.[k]
    const b = (current.spec as Record<string, unknown> | undefined)?.[k]
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`spec.${k} changed`)
  }
  return out
}
