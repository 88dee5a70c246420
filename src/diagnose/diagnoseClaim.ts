/**
 * One root cause per claim, in the order the issue's contract fixes, reproducing what the PV
 * controller (pv_controller.go syncUnboundClaim / syncBoundClaim) and the scheduler's
 * VolumeBinding plugin will do with it.
 */
import type {V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1StorageClass} from '@kubernetes/client-node'
import {
  checkAccessModes,
  checkVolumeSatisfyClaim,
  claimKey,
  isVolumeBoundToClaim,
  type MismatchCode,
  phaseAwaitsSync,
  pvFitsNodeLabels,
  requestOf,
  volumeModeOf,
} from '../binding/matchVolume.js'
import {formatBytes, toBytes} from '../binding/quantity.js'
import {BIND_COMPLETED, isClaimBound, REASON, SELECTED_NODE} from '../binding/scheduling.js'
import {claimClass, claimHasClass, findClass, isDelayBinding, NO_PROVISIONER} from '../binding/storageClass.js'
import {controllerPick} from '../binding/volumeIndex.js'
import type {VacMode} from '../binding/kubeVersion.js'
import {
  analysePod,
  claimOnFeasible,
  fitsSomeNode,
  isTerminated,
  nodeNameSet,
  type PodAnalysis,
  rejectedNodes,
} from '../binding/consumers.js'
import {nodeIsHealthy} from '../binding/attachDetach.js'
import {candidateRows} from './candidates.js'
import {checkFixes, classHasPinnedVolumes, fixesInOrder, nearMiss, splitCheckFixes, staleClaimHints} from './advice.js'
import {ATTACH_CAUSES, attachedHere, attachVerdict, podVolume} from './attach.js'
import {strandedFreedBy} from './diagnosePv.js'
import {MOUNT_CAUSES, mountVerdict} from './mount.js'
import {RESIZE_CAUSES, resizeVerdict} from './resize.js'
import {latest, quoteEvent} from '../snapshot/events.js'
import {provisionerOf, provisionState} from './provisioner.js'
import {CAUSES, type Cause, type ClaimDiagnosis, type Consumer} from './types.js'
import {effectiveClaim} from '../binding/effectiveClaim.js'
import type {World} from '../binding/world.js'

type Verdict = Pick<ClaimDiagnosis, 'cause' | 'message'> &
  Partial<Pick<ClaimDiagnosis, 'evidence' | 'fix' | 'wouldBind' | 'ties' | 'consumers' | 'failure'>> & {
    candidates?: ReturnType<typeof candidateRows>
  }

const MAX_NODES_LISTED = 50

export function diagnoseClaim(pvc: V1PersistentVolumeClaim, w: World, viaPod?: V1Pod): ClaimDiagnosis {
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const v = verdict(pvc, w, viaPod)
  const cand = v.candidates
  const events = w.events.about('PersistentVolumeClaim', ns, name, pvc.metadata?.uid)
  const evidence = v.evidence ?? []
  // Corroborate with the newest warning on the claim when the verdict quoted none.
  const warn = latest(events, (e) => e.type === 'Warning')
  if (CAUSES[v.cause] === 'error' && evidence.length === 0 && warn) evidence.push(quoteEvent(warn))
  // Keeping data comes first: a volume of an earlier claim of this name is handed back before anything else.
  const keepData = v.cause !== 'Bound' && v.cause !== 'VolumeClaimedByOther' ? staleClaimHints(pvc, w) : []
  const fix = fixesInOrder({keepData, other: v.fix ?? []})
  const out: ClaimDiagnosis = {
    namespace: ns,
    name,
    phase: pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? 'Pending'),
    storageClass: claimHasClass(pvc) ? claimClass(pvc) : null,
    request: (pvc.spec?.resources?.requests?.storage as string | undefined) ?? null,
    cause: v.cause,
    severity: CAUSES[v.cause],
    message: v.message,
    evidence,
    fix,
    wouldBind: v.wouldBind ?? null,
    ties: v.ties ?? [],
    candidates: cand?.rows ?? [],
    consumers: v.consumers ?? consumersOf(pvc, w),
  }
  if (cand && cand.omitted > 0) {
    out.candidatesOmitted = cand.omitted
    out.candidatesOmittedBy = cand.omittedBy
  }
  if (viaPod) out.pod = viaPod.metadata?.name ?? ''
  if (v.failure) out.failure = v.failure
  return out
}

function podsUsing(pvc: V1PersistentVolumeClaim, w: World): V1Pod[] {
  return w.podsByClaim.get(`${pvc.metadata?.namespace ?? 'default'}/${pvc.metadata?.name}`) ?? []
}

function consumersOf(pvc: V1PersistentVolumeClaim, w: World): Consumer[] {
  return podsUsing(pvc, w).map((p) => ({
    pod: p.metadata?.name ?? '',
    scheduled: Boolean(p.spec?.nodeName),
    node: p.spec?.nodeName || undefined,
    nodes: [],
  }))
}

/**
 * True when the claim's verdict is Bound (asked about directly, not through a pod): the first
 * checks of verdict(), in its order. Lets a scan over every claim skip the healthy majority.
 */
export function isHealthyBound(pvc: V1PersistentVolumeClaim, w: World): boolean {
  if (isLost(pvc, w) || pvc.metadata?.deletionTimestamp) return false
  return isClaimBound(pvc) && pvc.status?.phase !== 'Pending' && !resizeVerdict(pvc, w)
}

/** The claim carries pv.kubernetes.io/bind-completed: it was bound once, so syncBoundClaim owns it. */
function wasBound(pvc: V1PersistentVolumeClaim): boolean {
  return BIND_COMPLETED in (pvc.metadata?.annotations ?? {})
}

type LostReason = 'phase' | 'noVolumeName' | 'volumeGone' | 'misbound'

/**
 * Why the controller marks (or has marked) the claim Lost, or null (pv_controller.go
 * syncBoundClaim): a bind-completed claim whose spec.volumeName is empty, whose PV is gone, or
 * whose PV's claimRef holds another uid (another claim, or an earlier claim of this name).
 */
function lostReason(pvc: V1PersistentVolumeClaim, w: World): LostReason | null {
  const orPhase = () => (pvc.status?.phase === 'Lost' ? 'phase' : null)
  if (!wasBound(pvc)) return orPhase()
  const volumeName = pvc.spec?.volumeName
  if (!volumeName) return 'noVolumeName'
  if (w.skipped.has('persistentvolumes')) return orPhase()
  const pv = w.index.byName.get(volumeName)
  if (!pv) return 'volumeGone'
  const ref = pv.spec?.claimRef
  if (ref && ref.uid !== pvc.metadata?.uid) return 'misbound'
  return orPhase()
}

function isLost(pvc: V1PersistentVolumeClaim, w: World): boolean {
  return lostReason(pvc, w) !== null
}

interface ClaimContext {
  pvc: V1PersistentVolumeClaim
  w: World
  viaPod?: V1Pod
  ns: string
  name: string
  events: ReturnType<World['events']['about']>
  volumeName: string
}

interface Rule {
  /** The causes the rule gives, in the order of docs/causes.md. */
  causes: readonly Cause[]
  /** Causes of other rows that this rule's flow can also end in. */
  alsoGives?: readonly Cause[]
  applies: (c: ClaimContext) => boolean
  verdict: (c: ClaimContext) => Verdict
}

/**
 * The causes, in order: the first rule that applies gives the claim its verdict. docs/causes.md
 * lists them in this order; a new cause is a new row here (or in the rule that owns its case).
 */
export const RULES: readonly Rule[] = [
  {causes: ['ClaimLost'], applies: (c) => isLost(c.pvc, c.w), verdict: claimLost},
  {causes: ['ClaimTerminating'], applies: (c) => Boolean(c.pvc.metadata?.deletionTimestamp), verdict: claimTerminating},
  {
    causes: ['VolumeNodeAffinityConflict'],
    applies: (c) => isBoundNow(c) && afterBind(c)?.cause === 'VolumeNodeAffinityConflict',
    verdict: (c) => afterBind(c)!,
  },
  // After binding, through a pod: the volume is attached to the pod's node, then mounted there.
  ...[...ATTACH_CAUSES, ...MOUNT_CAUSES].map(
    (cause): Rule => ({
      causes: [cause],
      applies: (c) => isBoundNow(c) && afterBind(c)?.cause === cause,
      verdict: (c) => afterBind(c)!,
    }),
  ),
  // A Bound claim asked to grow: the expansion's state.
  ...RESIZE_CAUSES.map(
    (cause): Rule => ({
      causes: [cause],
      applies: (c) => isBoundNow(c) && resizeOf(c)?.cause === cause,
      verdict: (c) => resizeOf(c)!,
    }),
  ),
  {
    causes: ['Bound'],
    applies: isBoundNow,
    verdict: (c) => ({cause: 'Bound', message: `Bound to PV "${c.volumeName}".`, wouldBind: c.volumeName}),
  },
  {
    causes: ['VolumeNotFound', 'VolumeClaimedByOther', 'VolumeMismatch', 'BindPending'],
    applies: (c) => c.volumeName !== '',
    verdict: (c) => preboundClaim(c.pvc, c.volumeName, c.w, c.events),
  },
  // An unbound claim that names no PV: the controller's pick, the scheduler's view, then why
  // nothing can provision one — one row per cause, so each verdict's advice stands alone.
  {
    causes: ['VolumeAttributesClassDisabled'],
    applies: (c) => Boolean(unbound(c).pick.error),
    verdict: vacDisabled,
  },
  {causes: ['BindPending'], applies: (c) => Boolean(unbound(c).pick.winner), verdict: controllerWillBind},
  {causes: ['VolumeMismatch'], applies: (c) => Boolean(reservedModeClash(c.pvc, c.w)), verdict: reservedModeMismatch},
  {
    causes: [
      'WaitingForFirstConsumer',
      'ConsumerBypassedScheduler',
      'ConsumerUnschedulable',
      'NoVolumeOnFeasibleNodes',
      'TopologyNotAllowed',
      'InsufficientStorageCapacity',
    ],
    // The scheduler's flow also ends in causes of the rows above and below (a PV it will bind,
    // a missing class, an external provisioner's state).
    alsoGives: [
      'BindPending',
      'VolumeMismatch',
      'StorageClassNotFound',
      'ProvisionerNotFound',
      'ProvisionerNotRunning',
      'ProvisioningFailed',
      'ProvisionerNotResponding',
      'ProvisioningInProgress',
    ],
    applies: (c) => unbound(c).delay && c.pvc.metadata?.annotations?.[SELECTED_NODE] === undefined,
    verdict: (c) => waitForFirstConsumer(unbound(c).claim, unbound(c).sc!, c.w, unbound(c).defaultNote),
  },
  {
    causes: ['NoMatchingVolume'],
    applies: (c) => unbound(c).cls === '' && claimHasClass(c.pvc),
    verdict: noClassNoVolume,
  },
  {causes: ['NoDefaultStorageClass'], applies: (c) => unbound(c).cls === '', verdict: noDefaultClass},
  {causes: ['StorageClassNotFound'], applies: (c) => !unbound(c).sc, verdict: classNotFound},
  {
    causes: ['NoMatchingVolume'],
    applies: (c) => provisionerOf(unbound(c).sc!, c.w.rules).kind === 'none',
    verdict: noProvisionerNoVolume,
  },
  {
    causes: ['UnknownProvisioner'],
    applies: (c) => provisionerOf(unbound(c).sc!, c.w.rules).kind === 'unknown',
    verdict: unknownProvisioner,
  },
  {
    causes: [
      'ProvisionerNotFound',
      'ProvisionerNotRunning',
      'ProvisioningFailed',
      'ProvisionerNotResponding',
      'ProvisioningInProgress',
    ],
    applies: () => true,
    verdict: provisioning,
  },
]

function verdict(pvc: V1PersistentVolumeClaim, w: World, viaPod?: V1Pod): Verdict {
  const name = pvc.metadata?.name ?? ''
  const ns = pvc.metadata?.namespace ?? 'default'
  const events = w.events.about('PersistentVolumeClaim', ns, name, pvc.metadata?.uid)
  const c: ClaimContext = {pvc, w, viaPod, ns, name, events, volumeName: pvc.spec?.volumeName ?? ''}
  for (const rule of RULES) if (rule.applies(c)) return rule.verdict(c)
  throw new Error('unreachable: the last rule applies to every claim')
}

/** ClaimLost: the claim is Lost, or syncBoundClaim will make it so (lostReason says why). */
function claimLost(c: ClaimContext): Verdict {
  return lostVerdict(c.pvc, c.w, lostReason(c.pvc, c.w) ?? 'phase', c.events)
}

/** ClaimTerminating: deletionTimestamp set; pvc-protection or another finalizer holds it. */
function claimTerminating(c: ClaimContext): Verdict {
  const {pvc, w, ns} = c
  const holders = podsUsing(pvc, w).filter((p) => p.spec?.nodeName)
  const finalizers = (pvc.metadata?.finalizers ?? []).filter((f) => f !== 'kubernetes.io/pvc-protection')
  const who = holders.map((p) => p.metadata?.name ?? '')
  // A pod on a dead node is never confirmed gone by its kubelet: it holds the claim until removed.
  const stranded = holders.filter((p) => {
    const node = w.nodes.find((n) => n.metadata?.name === p.spec?.nodeName)
    return node !== undefined && !nodeIsHealthy(node) && !isTerminated(p)
  })
  const strandedNote = stranded.length
    ? ` ${stranded.map((p) => `${p.metadata?.name}${p.metadata?.deletionTimestamp ? ' (Terminating)' : ''}`).join(', ')} ${stranded.length === 1 ? 'is' : 'are'} on NotReady node ${[...new Set(stranded.map((p) => p.spec?.nodeName))].join(', ')}: no kubelet will confirm ${stranded.length === 1 ? 'it' : 'them'} gone, so waiting does not help.`
    : ''
  return {
    cause: 'ClaimTerminating',
    message: holders.length
      ? `The claim is being deleted but is still used by ${who.length === 1 ? 'pod' : 'pods'} ${who.join(', ')}; pvc-protection keeps it until no scheduled pod (in any phase, Completed and Failed included) references it.${strandedNote}`
      : finalizers.length
        ? `The claim is being deleted but finalizer(s) ${finalizers.join(', ')} hold it.`
        : 'The claim is being deleted; it goes away once its finalizers are removed.',
    fix: holders.length
      ? [
          `kubectl delete pod -n ${ns} ${who.join(' ')}   # or scale down the controller that owns them`,
          ...(stranded.length
            ? [
                `Only for a node that is really down (powered off): ${strandedFreedBy(stranded, ns, [...new Set(stranded.map((p) => p.spec?.nodeName ?? ''))])} Do not remove the claim's kubernetes.io/pvc-protection finalizer while a pod may still write to it.`,
              ]
            : []),
        ]
      : finalizers.length
        ? [
            `Find out which controller owns ${finalizers.join(', ')} and let it finish; remove a finalizer by hand only if that controller is gone.`,
          ]
        : [
            'Wait a few seconds; if it stays, check that kube-controller-manager (pvc-protection controller) is running.',
          ],
  }
}

function isBoundNow(c: ClaimContext): boolean {
  return isClaimBound(c.pvc) && c.pvc.status?.phase !== 'Pending'
}

const afterBindMemo = new WeakMap<ClaimContext, Verdict | null>()
const resizeMemo = new WeakMap<ClaimContext, Verdict | null>()

function resizeOf(c: ClaimContext): Verdict | null {
  let v = resizeMemo.get(c)
  if (v === undefined) {
    v = resizeVerdict(c.pvc, c.w) ?? null
    resizeMemo.set(c, v)
  }
  return v
}

/**
 * For a Bound claim asked about through a pod: VolumeNodeAffinityConflict when the pod cannot
 * follow the PV, else why the volume is not attached to or mounted on the pod's node yet
 * (attach.ts, mount.ts); null when nothing stands in the way.
 */
function afterBind(c: ClaimContext): Verdict | null {
  const memo = afterBindMemo.get(c)
  if (memo !== undefined) return memo
  let v: Verdict | null = null
  const {pvc, w, viaPod} = c
  if (viaPod) {
    v = boundAffinityConflict(pvc, viaPod, w) ?? null
    const pv = !v && (viaPod.status?.phase ?? 'Pending') === 'Pending' ? podVolume(viaPod, pvc, w) : undefined
    if (pv) v = attachVerdict(pv) ?? mountVerdict(pv, attachedHere(pv)) ?? null
  }
  afterBindMemo.set(c, v)
  return v
}

/**
 * What every rule for an unbound claim that names no PV looks at, computed once per claim: the
 * effective class (a claim that names none gets the default: admission on create, or the
 * controller's retroactive assignment once nothing class-less matched), the controller's pick,
 * and — when no PV fits — the candidates and the advice on them.
 */
interface Unbound {
  claim: V1PersistentVolumeClaim
  delay: boolean
  pick: ReturnType<typeof controllerPick>
  cls: string
  sc: V1StorageClass | undefined
  defaultNote: string
  /** No PV fits: the candidates, the near miss and the check fixes (lazy: only the rules below the pick need them). */
  missed: () => {
    candidates: ReturnType<typeof candidateRows>
    near: string
    checks: ReturnType<typeof splitCheckFixes>
  }
}

const unboundMemo = new WeakMap<ClaimContext, Unbound>()

function unbound(c: ClaimContext): Unbound {
  let u = unboundMemo.get(c)
  if (u) return u
  const claim = effectiveClaim(c.pvc, c.w)
  const delay = isDelayBinding(claim, c.w.classes)
  const cls = claimClass(claim)
  let missed: ReturnType<Unbound['missed']> | undefined
  u = {
    claim,
    delay,
    pick: controllerPick(claim, c.w.index, delay, c.w.phaseOf, c.w.rules.vac),
    cls,
    sc: findClass(c.w.classes, cls),
    defaultNote: claim !== c.pvc ? ` (the default class, applied because the claim names none)` : '',
    missed: () => {
      if (!missed) {
        const candidates = candidateRows(claim, c.w)
        missed = {
          candidates,
          near: nearMiss(candidates.rows, claim),
          checks: splitCheckFixes(checkFixes(candidates.rows, claim)),
        }
      }
      return missed
    },
  }
  unboundMemo.set(c, u)
  return u
}

/** BindPending: the controller's pick (findBestMatchForClaim) for an unbound claim that names no PV. */
function controllerWillBind(c: ClaimContext): Verdict {
  const {w, ns, name} = c
  const {claim, delay, sc, pick} = unbound(c)
  const pv = pick.winner!
  const prebound = isVolumeBoundToClaim(pv, claim)
  // A WaitForFirstConsumer claim with a PV pre-bound to it and a pod waiting: the controller
  // binds the pre-bound PV, but the scheduler may reserve its own choice first — a real race.
  const race = delay && sc ? schedulerChoices(claim, w).filter((n) => n !== pv.metadata?.name) : []
  const ties = [...pick.ties.map((p) => p.metadata?.name ?? ''), ...race]
  return {
    cause: 'BindPending',
    message:
      `PV "${pv.metadata?.name}" passes every check${prebound ? ' and is pre-bound to this claim' : ''}; the PersistentVolume controller will bind it on its next sync. If the claim stays Pending, the controller (kube-controller-manager) is not running.` +
      awaitingSync(pv, w) +
      (race.length
        ? ` A pod using the claim is waiting to be scheduled, and the scheduler may reserve ${race.join(' or ')} first; whichever is written first wins.`
        : ''),
    wouldBind: pv.metadata?.name ?? null,
    ties,
    candidates: candidateRows(claim, w),
    fix: ties.length
      ? [
          `Several PVs can end up bound (${[pv.metadata?.name, ...ties].join(', ')}). To choose, pre-bind: kubectl pv-doctor bind -n ${ns} ${name} --volume <pv>`,
        ]
      : [],
  }
}

/** VolumeAttributesClassDisabled: FindMatchingVolume fails before anything else; the controller logs it and retries, no event. */
function vacDisabled(c: ClaimContext): Verdict {
  const {pvc, w} = c
  const {claim, pick} = unbound(c)
  return {
    cause: 'VolumeAttributesClassDisabled',
    message: `The claim sets volumeAttributesClassName "${pvc.spec?.volumeAttributesClassName}", but on Kubernetes ${w.rules.version.text} the VolumeAttributesClass feature gate is off by default (beta in 1.31-1.33): the PersistentVolume controller and the scheduler fail on it (${pick.error}) and the claim stays Pending, with no event.`,
    candidates: candidateRows(claim, w),
    fix: [
      `Recreate the claim without volumeAttributesClassName, or enable the VolumeAttributesClass feature gate on kube-apiserver, kube-controller-manager and kube-scheduler (and the storage.k8s.io/v1beta1 API).`,
    ],
  }
}

/**
 * syncVolume: a PV reserved for this very claim (claimRef with its uid) whose volumeMode differs
 * is never bound; the controller warns on both objects instead.
 */
function reservedModeClash(pvc: V1PersistentVolumeClaim, w: World): V1PersistentVolume | undefined {
  return w.index
    .preboundTo(pvc)
    .find(
      (v) =>
        v.spec?.claimRef?.uid && v.spec.claimRef.uid === pvc.metadata?.uid && volumeModeOf(v) !== volumeModeOf(pvc),
    )
}

/** VolumeMismatch: the PV reserved for this claim has the other volumeMode. */
function reservedModeMismatch(c: ClaimContext): Verdict {
  const {pvc, w, events} = c
  const pv = reservedModeClash(pvc, w)!
  const pvName = pv.metadata?.name ?? ''
  return {
    cause: 'VolumeMismatch',
    message: `PV "${pvName}" is reserved for this claim (spec.claimRef) but is volumeMode ${volumeModeOf(pv)} and the claim asks ${volumeModeOf(pvc)}; the PersistentVolume controller never binds it: "Cannot bind PersistentVolume "${pvName}" to requested PersistentVolumeClaim due to incompatible volumeMode."`,
    evidence: evidenceFrom(events, 'VolumeMismatch'),
    candidates: candidateRows(unbound(c).claim, w),
    fix: [
      `Recreate the claim with volumeMode: ${volumeModeOf(pv)}, or release the PV: kubectl patch pv ${pvName} --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'`,
    ],
  }
}

/** NoMatchingVolume: storageClassName: "" set explicitly, and no class-less PV fits. */
function noClassNoVolume(c: ClaimContext): Verdict {
  const {claim} = unbound(c)
  const {candidates, near, checks} = unbound(c).missed()
  return {
    cause: 'NoMatchingVolume',
    message: `The claim sets storageClassName: "" (no dynamic provisioning), and no PV without a class fits${near}.`,
    candidates,
    evidence: evidenceFrom(c.events, 'FailedBinding'),
    fix: fixesInOrder({
      fixClaim: checks.fixClaim,
      createCapacity: [`Create a PV with no storageClassName that fits (${describeNeed(claim)}).`],
      other: checks.other,
    }),
  }
}

/** NoDefaultStorageClass: the claim names no class, none is default, no class-less PV fits. */
function noDefaultClass(c: ClaimContext): Verdict {
  const {w} = c
  const {claim} = unbound(c)
  const {candidates, near, checks} = unbound(c).missed()
  // "Mark a class default" only when there is a class to mark.
  const names = w.classes.map((k) => k.metadata?.name ?? '').slice(0, 5)
  return {
    cause: 'NoDefaultStorageClass',
    message: `The claim names no storageClassName and the cluster has no default StorageClass, so nothing can provision it; and no class-less PV fits${near}.`,
    candidates,
    fix: fixesInOrder({
      fixClaim: [
        names.length
          ? `Mark a StorageClass as default (the controller then assigns it to this claim; the claim's storageClassName may be set once while unset): kubectl patch storageclass ${names.length === 1 ? names[0] : `<${names.join('|')}>`} -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'`
          : 'The cluster has no StorageClass: create one marked default (storageclass.kubernetes.io/is-default-class: "true"); the controller then assigns it to this claim.',
        ...checks.fixClaim,
      ],
      createCapacity: [`Or create a PV with no storageClassName that fits (${describeNeed(claim)}).`],
      other: checks.other,
    }),
  }
}

/** StorageClassNotFound: the class named does not exist and no PV of that class name fits. */
function classNotFound(c: ClaimContext): Verdict {
  const {w, events} = c
  const {claim, cls, defaultNote} = unbound(c)
  const {candidates, near, checks} = unbound(c).missed()
  // PVs of that class name bind without the class object; only when there are none is the
  // name likely a typo.
  const hasPVs = w.index.ofClass(cls).length > 0
  const existing = w.classes.map((k) => k.metadata?.name ?? '').slice(0, 5)
  const rename = existing.length
    ? `If "${cls}" is a typo, recreate the claim with an existing class (storageClassName is immutable): ${existing.join(', ')}.`
    : ''
  return {
    cause: 'StorageClassNotFound',
    message: `StorageClass "${cls}" does not exist${defaultNote}, so nothing can provision the claim, and no PV of that class fits${near}.`,
    candidates,
    evidence: evidenceFrom(events, 'ProvisioningFailed'),
    fix: fixesInOrder({
      fixClaim: [...(hasPVs || !rename ? [] : [rename]), ...checks.fixClaim],
      createCapacity: [
        hasPVs
          ? `Create a PV with storageClassName: ${cls} that fits (${describeNeed(claim)}), or StorageClass "${cls}" with a provisioner.`
          : `Create StorageClass "${cls}" (with a provisioner), or a PV with storageClassName: ${cls} that fits (${describeNeed(claim)}).`,
      ],
      other: [...checks.other, ...(hasPVs && rename ? [rename] : [])],
    }),
  }
}

/** NoMatchingVolume: the class uses kubernetes.io/no-provisioner and no pre-created PV fits. */
function noProvisionerNoVolume(c: ClaimContext): Verdict {
  const {w, events} = c
  const {claim, cls, sc, defaultNote} = unbound(c)
  const {candidates, near, checks} = unbound(c).missed()
  return {
    cause: 'NoMatchingVolume',
    message: `StorageClass "${cls}"${defaultNote} uses kubernetes.io/no-provisioner: only pre-created PVs can satisfy the claim, and none fits${near}.`,
    candidates,
    evidence: evidenceFrom(events, 'ProvisioningFailed'),
    fix: fixesInOrder({
      fixClaim: checks.fixClaim,
      createCapacity: [
        `Create a PV of class ${cls} that fits (${describeNeed(claim)}) — for local disks: kubectl pv-doctor provision --storage-class ${cls}`,
      ],
      other: [
        ...checks.other,
        // Premise: PVs of the class are pinned to nodes; an Immediate class then binds one
        // without regard to where the pod can run.
        ...(sc!.volumeBindingMode !== 'WaitForFirstConsumer' && classHasPinnedVolumes(cls, w)
          ? [
              `StorageClass "${cls}" binds Immediately, ignoring the node affinity of its local PVs; recreate it with volumeBindingMode: WaitForFirstConsumer (the field is immutable).`,
            ]
          : []),
      ],
    }),
  }
}

/** UnknownProvisioner: a kubernetes.io/ provisioner with no in-tree plugin and no CSI migration. */
function unknownProvisioner(c: ClaimContext): Verdict {
  const {events} = c
  const {cls, sc} = unbound(c)
  const {candidates} = unbound(c).missed()
  const prov = provisionerOf(sc!, c.w.rules) as {kind: 'unknown'; name: string}
  return {
    cause: 'UnknownProvisioner',
    message: `StorageClass "${cls}" names the provisioner "${prov.name}", which is neither a built-in plugin nor migrated to CSI: no volume plugin matched name: ${prov.name}.`,
    candidates,
    evidence: evidenceFrom(events, 'ProvisioningFailed'),
    fix: [`Recreate StorageClass "${cls}" with the CSI driver's provisioner name (kubectl get csidrivers lists them).`],
  }
}

/** ProvisioningFailed / ProvisionerNotFound / ProvisioningInProgress: an external provisioner's turn. */
function provisioning(c: ClaimContext): Verdict {
  const {claim, sc} = unbound(c)
  const prov = provisionerOf(sc!, c.w.rules)
  const name = prov.kind === 'external' || prov.kind === 'inTree' ? prov.name : ''
  return {
    ...provisionState(claim, sc!, name, c.w, prov.kind === 'inTree'),
    candidates: unbound(c).missed().candidates,
  }
}

/** The controller's texts for each way a bound claim is lost (syncBoundClaim's events). */
const LOST_EVENT: Record<Exclude<LostReason, 'phase'>, string> = {
  noVolumeName: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
  volumeGone: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
  misbound: 'Two claims are bound to the same volume, this one is bound incorrectly',
}

function lostVerdict(
  pvc: V1PersistentVolumeClaim,
  w: World,
  lost: LostReason,
  events: ReturnType<World['events']['about']>,
): Verdict {
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const volumeName = pvc.spec?.volumeName ?? ''
  const ev = latest(events, (e) => e.reason === 'ClaimLost' || e.reason === 'ClaimMisbound')
  const ref = w.index.byName.get(volumeName)?.spec?.claimRef
  const owner = ref
    ? ref.namespace === ns && ref.name === name
      ? `an earlier claim of this name (uid ${ref.uid || 'none'})`
      : `${ref.namespace}/${ref.name}`
    : ''
  const message =
    lost === 'noVolumeName'
      ? `The claim was bound (pv.kubernetes.io/bind-completed) but its spec.volumeName is empty; the PersistentVolume controller marks it Lost: "${LOST_EVENT.noVolumeName}"`
      : lost === 'misbound'
        ? `The claim was bound to PV "${volumeName}", but that PV's claimRef now names ${owner}; the PersistentVolume controller marks this claim Lost (ClaimMisbound: "${LOST_EVENT.misbound}").`
        : volumeName
          ? `The claim was bound to PV "${volumeName}", which no longer exists (or is bound to another claim); the data on it is lost to this claim.`
          : 'The claim was bound but has lost the reference to its PersistentVolume.'
  const evidence = ev
    ? [quoteEvent(ev)]
    : lost !== 'phase'
      ? [
          `the controller's event on its next sync: Warning ${lost === 'misbound' ? 'ClaimMisbound' : 'ClaimLost'}: ${LOST_EVENT[lost]}`,
        ]
      : []
  const fix =
    lost === 'misbound'
      ? [
          `PV "${volumeName}" belongs to ${owner} now; a Lost claim is never bound again. Delete and recreate this claim: kubectl delete pvc -n ${ns} ${name}`,
          ...(ref && ref.namespace === ns && ref.name === name
            ? [
                `To keep its data, recreate the claim and hand the PV back to it: kubectl pv-doctor bind -n ${ns} ${name} --volume ${volumeName}`,
              ]
            : []),
        ]
      : [
          `If the volume still exists on the backend, recreate the PV "${volumeName || '<name>'}" with spec.claimRef = {namespace: ${ns}, name: ${name}, uid: ${pvc.metadata?.uid ?? '<claim uid>'}}${lost === 'noVolumeName' ? '' : '; the controller binds it back'}.`,
          `Otherwise delete and recreate the claim: kubectl delete pvc -n ${ns} ${name}`,
        ]
  return {cause: 'ClaimLost', message, evidence, fix}
}

/** A PV the controller will only see as Available after its next syncVolume: say so. */
/**
 * The first of the scheduler's PVs (sorted names) that is pre-bound to the claim but lacks its
 * access modes. Only PVs whose claimRef names the claim can be pre-bound to it, so those are
 * looked up in the list rather than the list scanned (it can hold every free PV of the class).
 */
function preboundStuck(
  pvc: V1PersistentVolumeClaim,
  uniq: readonly string[],
  w: World,
): V1PersistentVolume | undefined {
  let best: string | undefined
  for (const pv of w.index.claimedFor(pvc)) {
    const n = pv.metadata?.name ?? ''
    if (w.index.byName.get(n) !== pv || !isVolumeBoundToClaim(pv, pvc) || checkAccessModes(pv, pvc)) continue
    if ((best === undefined || n < best) && sortedIncludes(uniq, n)) best = n
  }
  return best === undefined ? undefined : w.index.byName.get(best)
}

function sortedIncludes(sorted: readonly string[], s: string): boolean {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] < s) lo = mid + 1
    else hi = mid
  }
  return sorted[lo] === s
}

const syncNotes = new WeakMap<readonly string[], string>()

/** awaitingSync for each of the scheduler's PVs, joined (memoised: pods of one workload share the list). */
function awaitingSyncAll(uniq: readonly string[], w: World): string {
  let s = syncNotes.get(uniq)
  if (s === undefined) {
    s = uniq.map((n) => awaitingSync(w.index.byName.get(n)!, w)).join('')
    syncNotes.set(uniq, s)
  }
  return s
}

function awaitingSync(pv: V1PersistentVolume, w: World): string {
  const shown = pv.status?.phase
  if (!phaseAwaitsSync(pv, w.phaseOf(pv))) return ''
  const why = pv.spec?.claimRef ? 'is reserved by name only (no claim uid)' : 'names no claim'
  return ` (PV "${pv.metadata?.name}" is ${shown ? `still ${shown}` : 'without a phase'}, but it ${why}: the controller makes it Available at its next sync.)`
}

function preboundClaim(
  pvc: V1PersistentVolumeClaim,
  volumeName: string,
  w: World,
  events: ReturnType<World['events']['about']>,
): Verdict {
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const pv = w.index.byName.get(volumeName)
  if (!pv) {
    return {
      cause: 'VolumeNotFound',
      message: `The claim asks for PV "${volumeName}" (spec.volumeName), which does not exist; the controller waits silently.`,
      fix: [
        `Create PV "${volumeName}" (ideally with spec.claimRef naming ${ns}/${name}), or recreate the claim without spec.volumeName (the field is immutable once set).`,
      ],
    }
  }
  const candidates = candidateRows(pvc, w, {extra: [pv]})
  if (pv.spec?.claimRef && !isVolumeBoundToClaim(pv, pvc)) {
    const ref = pv.spec.claimRef
    const stale = ref.namespace === ns && ref.name === name
    return {
      cause: 'VolumeClaimedByOther',
      message: stale
        ? `PV "${volumeName}" is reserved for an earlier claim of the same name (claimRef uid ${ref.uid}, this claim is ${pvc.metadata?.uid ?? 'not created yet'}); the controller never reuses it automatically.`
        : `PV "${volumeName}" is already claimed by ${ref.namespace}/${ref.name}.`,
      evidence: evidenceFrom(events, 'FailedBinding'),
      candidates,
      fix: stale
        ? [
            `Keep the data and hand the PV to this claim: kubectl pv-doctor bind -n ${ns} ${name} --volume ${volumeName}`,
            `or by hand: kubectl patch pv ${volumeName} --type=merge -p '{"spec":{"claimRef":{"uid":null,"resourceVersion":null}}}'`,
          ]
        : [
            `spec.volumeName is immutable once set: delete and recreate the claim without spec.volumeName (or naming a free PV): kubectl delete pvc -n ${ns} ${name}`,
            `Or, only if ${ref.namespace}/${ref.name} no longer needs it, release PV ${volumeName} from it first.`,
          ],
    }
  }
  if (!pv.spec?.claimRef) {
    const failing = satisfyFailures(pv, pvc, w.rules.vac)
    if (failing.length) {
      return {
        cause: 'VolumeMismatch',
        message: `The claim asks for PV "${volumeName}", which does not satisfy it: ${failing.map((f) => f.text).join('; ')}.`,
        evidence: evidenceFrom(events, 'VolumeMismatch'),
        candidates,
        fix: [
          ...failing.map((f) => f.fix),
          `Or use another PV: spec.volumeName is immutable once set, so recreate the claim without it (or naming a PV that fits).`,
        ],
      }
    }
  }
  return {
    cause: 'BindPending',
    message: `PV "${volumeName}" is free for this claim; the PersistentVolume controller binds it on its next sync. If the claim stays Pending, the controller (kube-controller-manager) is not running.`,
    wouldBind: volumeName,
    candidates,
  }
}

/** The failures of checkVolumeSatisfyClaim with upstream's texts (pv_controller.go) and our fixes. */
function satisfyFailures(
  pv: V1PersistentVolume,
  pvc: V1PersistentVolumeClaim,
  vac: VacMode,
): {code: MismatchCode; text: string; fix: string}[] {
  const name = pv.metadata?.name ?? ''
  const say: Partial<Record<MismatchCode, () => {text: string; fix: string}>> = {
    deleting: () => ({
      text: `the volume is marked for deletion "${name}"`,
      fix: `PV ${name} is being deleted; choose another volume.`,
    }),
    capacity: () => ({
      text: 'requested PV is too small',
      fix: `PV ${name} holds ${pv.spec?.capacity?.storage}, the claim asks ${pvc.spec?.resources?.requests?.storage}: grow the volume and the PV's capacity, or recreate the claim with a smaller request (immutable while unbound).`,
    }),
    storageClass: () => ({
      text: 'storageClassName does not match',
      fix: `Set PV ${name}'s storageClassName to the claim's "${claimClass(pvc)}" (the claim's is immutable).`,
    }),
    volumeAttributesClass: () =>
      vac === 'gateOff'
        ? {
            text: 'volumeAttributesClassName is not supported when the feature-gate VolumeAttributesClass is disabled',
            fix: 'Remove volumeAttributesClassName from the claim and the PV, or enable the VolumeAttributesClass feature gate.',
          }
        : {text: 'volumeAttributesClassName does not match', fix: 'Give both the same volumeAttributesClassName.'},
    volumeMode: () => ({
      text: 'incompatible volumeMode',
      fix: `PV ${name} is ${volumeModeOf(pv)}, the claim wants ${volumeModeOf(pvc)}: recreate the claim with volumeMode ${volumeModeOf(pv)} (immutable), or the PV as ${volumeModeOf(pvc)}.`,
    }),
    accessModes: () => ({
      text: 'incompatible accessMode',
      fix: `PV ${name} offers ${(pv.spec?.accessModes ?? []).join(',')}, the claim needs ${(pvc.spec?.accessModes ?? []).join(',')}: add the modes to the PV if the volume supports them, or recreate the claim (accessModes is immutable).`,
    }),
  }
  return checkVolumeSatisfyClaim(pv, pvc, vac).map((code) => ({code, ...say[code]!()}))
}

function waitForFirstConsumer(
  pvc: V1PersistentVolumeClaim,
  sc: V1StorageClass,
  w: World,
  defaultNote: string,
): Verdict {
  const cls = sc.metadata?.name ?? ''
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const events = w.events.about('PersistentVolumeClaim', ns, name, pvc.metadata?.uid)
  const pods = podsUsing(pvc, w).filter((p) => !isTerminated(p))
  const waiting = pods.filter((p) => !p.spec?.nodeName)
  const anyNode = (pv: V1PersistentVolume) => (w.nodes.length ? fitsSomeNode(pv, w.nodes) : undefined)
  if (pods.length === 0) {
    const candidates = candidateRows(pvc, w, {nodeAffinityOk: anyNode})
    const ev = latest(events, (e) => e.reason === 'WaitForFirstConsumer')
    return {
      cause: 'WaitingForFirstConsumer',
      message: `StorageClass "${cls}"${defaultNote} binds on first use (WaitForFirstConsumer) and no pod uses this claim yet; the scheduler picks the volume when one does.`,
      evidence: ev ? [quoteEvent(ev)] : [],
      candidates,
      fix: [`Create the workload that mounts ${name}; nothing is wrong.`],
    }
  }
  if (waiting.length === 0) {
    const p = pods[0]
    return {
      cause: 'ConsumerBypassedScheduler',
      message: `Pod ${p.metadata?.name} was created with spec.nodeName=${p.spec?.nodeName}, so the scheduler never saw it; only the scheduler binds WaitForFirstConsumer claims, so this claim waits forever.`,
      candidates: candidateRows(pvc, w, {nodeAffinityOk: anyNode}),
      fix: [
        `Use a nodeSelector (kubernetes.io/hostname: ${p.spec?.nodeName}) instead of spec.nodeName and recreate the pod,`,
        `or pre-bind a PV on that node: kubectl pv-doctor bind -n ${ns} ${name} --volume <pv on ${p.spec?.nodeName}>`,
      ],
      consumers: pods.map((q) => ({pod: q.metadata?.name ?? '', scheduled: true, node: q.spec?.nodeName, nodes: []})),
    }
  }
  const analyses = waiting.map((p) => analysePod(p, w))
  const consumers: Consumer[] = analyses.map(toConsumer)
  const a = analyses[0]
  const key = `${ns}/${name}`
  const feasibleNames = nodeNameSet(a.feasible)
  const onFeasible = (pv: V1PersistentVolume) => (a.feasible.length ? fitsSomeNode(pv, a.feasible) : anyNode(pv))
  const candidates = candidateRows(pvc, w, {
    nodeAffinityOk: onFeasible,
    usableNodes: nodeNames(a.feasible),
  })
  const checks = splitCheckFixes(checkFixes(candidates.rows, pvc))
  const podName = a.pod.metadata?.name ?? ''
  const podReason = scheduledCondition(a.pod)
  if (a.preFilter || a.feasible.length === 0) {
    return {
      cause: 'ConsumerUnschedulable',
      message: `Pod ${podName} cannot be scheduled for reasons of its own (${a.preFilter ?? 'no node passes its node selector, affinity, taints or unschedulable checks'}); the claim waits for it.`,
      evidence: [podReason ?? a.summary].filter(Boolean) as string[],
      candidates,
      consumers,
      fix:
        a.preFilter === REASON.unboundImmediate
          ? [`Fix the pod's other claim first: kubectl pv-doctor explain -n ${ns} pod/${podName}`]
          : [`Fix the pod's scheduling constraints (see the node reasons), then the scheduler binds the claim.`],
    }
  }
  const {onFits, satisfiable, statics: uniq, ties, kinds, provisionOn} = claimOnFeasible(a, key)
  if (onFits && uniq.length) {
    // The scheduler returns a PV pre-bound to the claim without checking access modes, but the
    // controller then looks it up through its access-mode index and never finds it: PreBind times out.
    const stuck = preboundStuck(pvc, uniq, w)
    if (stuck) {
      return {
        cause: 'VolumeMismatch',
        message: `PV "${stuck.metadata?.name}" is pre-bound to this claim (spec.claimRef) but offers ${(stuck.spec?.accessModes ?? []).join(',')} while the claim needs ${(pvc.spec?.accessModes ?? []).join(',')}: the scheduler reserves it, the PersistentVolume controller never completes the binding, and pod ${podName} fails PreBind (binding volumes: context deadline exceeded).`,
        evidence: [podReason].filter(Boolean) as string[],
        candidates,
        consumers,
        fix: [
          `Give PV ${stuck.metadata?.name} the claim's access modes, or remove its claimRef: kubectl patch pv ${stuck.metadata?.name} --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'`,
        ],
      }
    }
    // Nodes where no PV fits but the class provisions: the scheduler may pick one of those instead
    // (VolumeBinding does not prefer static PVs unless StorageCapacityScoring is on), and then the
    // provisioner creates a volume there.
    return {
      cause: 'BindPending',
      message:
        `Pod ${podName} fits on ${a.fits.length} node(s); the scheduler will bind ${uniq.length === 1 ? `PV "${uniq[0]}"` : `one of ${uniq.length} PVs, depending on the node it picks`}.` +
        (provisionOn.length
          ? ` On ${provisionOn.length} other node(s) (${provisionOn.slice(0, 8).join(', ')}${provisionOn.length > 8 ? ', …' : ''}) no PV fits and the provisioner creates a new volume instead, if the scheduler picks one of them.`
          : '') +
        awaitingSyncAll(uniq, w),
      wouldBind: uniq[0],
      ties,
      candidates,
      consumers,
      evidence: [podReason].filter(Boolean) as string[],
      fix: ['If the pod stays Pending, check that kube-scheduler and kube-controller-manager are running.'],
    }
  }
  if (onFits) {
    const prov = provisionerOf(sc, w.rules)
    if (prov.kind === 'external' || prov.kind === 'inTree')
      return {...provisionState(pvc, sc, prov.name, w, prov.kind === 'inTree'), candidates, consumers}
  }
  if (!onFits && satisfiable) {
    return {
      cause: 'ConsumerUnschedulable',
      message: `This claim could be satisfied on some nodes, but pod ${podName} fails there for other reasons: ${a.summary}`,
      evidence: [podReason ?? a.summary],
      candidates,
      consumers,
      fix: [`kubectl pv-doctor explain -n ${ns} pod/${podName} shows every claim of the pod.`],
    }
  }
  if (kinds.has('classMissing')) {
    return {
      cause: 'StorageClassNotFound',
      message: `StorageClass "${cls}" does not exist.`,
      candidates,
      consumers,
      fix: [`Create StorageClass "${cls}".`],
    }
  }
  const firstFeasible: (string | undefined)[] = []
  for (const n of feasibleNames) {
    if (firstFeasible.length === 8) break
    firstFeasible.push(n)
  }
  const feasibleList = firstFeasible.join(', ') + (feasibleNames.size > 8 ? ', …' : '')
  if (kinds.size > 0 && [...kinds].every((k) => k === 'topology')) {
    return {
      cause: 'TopologyNotAllowed',
      message: `StorageClass "${cls}" allowedTopologies exclude every node pod ${podName} can use (${feasibleList}), and no existing PV fits there.`,
      evidence: [podReason ?? a.summary],
      candidates,
      consumers,
      fix: [`Widen the class's allowedTopologies (recreate the class) or let the pod run in an allowed zone.`],
    }
  }
  if (kinds.has('capacity') && [...kinds].every((k) => k === 'capacity' || k === 'topology')) {
    return {
      cause: 'InsufficientStorageCapacity',
      message: `The CSI driver of class "${cls}" reports too little free capacity (CSIStorageCapacity) for ${pvc.spec?.resources?.requests?.storage} on every node pod ${podName} can use.`,
      evidence: [podReason ?? a.summary],
      candidates,
      consumers,
      fix: [
        'Free or add capacity, request less, or check that the driver publishes CSIStorageCapacity objects: kubectl get csistoragecapacities -A',
      ],
    }
  }
  return {
    cause: 'NoVolumeOnFeasibleNodes',
    message: `No PV of class "${cls}" fits on any node pod ${podName} can use (${feasibleList}), and the class cannot provision one (${sc.provisioner === NO_PROVISIONER ? 'kubernetes.io/no-provisioner' : 'selected node elsewhere'}).`,
    evidence: [podReason ?? a.summary],
    candidates,
    consumers,
    fix: fixesInOrder({
      fixClaim: checks.fixClaim,
      createCapacity: [
        `Create a PV of class ${cls} that fits (${describeNeed(pvc)}) on one of: ${feasibleList} — kubectl pv-doctor provision --node <node> --storage-class ${cls}`,
      ],
      other: [...checks.other, `Or relax the pod's constraints so it may run where a free PV is.`],
    }),
  }
}

const namesOf = new WeakMap<readonly V1Node[], string[]>()

/** The nodes' names, once per list: the feasible nodes of one pod class are shared by its claims. */
function nodeNames(nodes: readonly V1Node[]): string[] {
  let names = namesOf.get(nodes)
  if (!names) namesOf.set(nodes, (names = nodes.map((n) => n.metadata?.name ?? '')))
  return names
}

/** The PVs the scheduler would reserve for this claim, for the first waiting pod that fits somewhere. */
function schedulerChoices(pvc: V1PersistentVolumeClaim, w: World): string[] {
  for (const pod of podsUsing(pvc, w)) {
    if (pod.spec?.nodeName || isTerminated(pod)) continue
    const {statics} = claimOnFeasible(analysePod(pod, w), claimKey(pvc))
    if (statics.length) return statics
  }
  return []
}

/** For pod/NAME: a Bound claim whose PV's node affinity rules out every node the pod could use. */
function boundAffinityConflict(pvc: V1PersistentVolumeClaim, pod: V1Pod, w: World): Verdict | undefined {
  if (pod.spec?.nodeName) return undefined
  const pv = w.index.byName.get(pvc.spec?.volumeName ?? '')
  if (!pv?.spec?.nodeAffinity?.required) return undefined
  const a = analysePod(pod, w)
  if (a.preFilter || a.feasible.length === 0) return undefined
  if (a.feasible.some((n) => pvFitsNodeLabels(pv, n.metadata?.labels))) return undefined
  const where = w.nodes.filter((n) => pvFitsNodeLabels(pv, n.metadata?.labels)).map((n) => n.metadata?.name)
  return {
    cause: 'VolumeNodeAffinityConflict',
    message: `The claim is bound to PV "${pv.metadata?.name}", whose node affinity allows only ${where.length ? where.join(', ') : 'nodes that do not exist'}; pod ${pod.metadata?.name} cannot run on any of those.`,
    evidence: [scheduledCondition(pod) ?? a.summary],
    consumers: [toConsumer(a)],
    wouldBind: pv.metadata?.name ?? null,
    fix: [
      `Let the pod run where the volume is (remove the conflicting nodeSelector/affinity or taints on ${where[0] ?? 'that node'}),`,
      'or, for a local or Immediate-bound volume, recreate the claim with a WaitForFirstConsumer class so PV and node are chosen together.',
    ],
  }
}

function toConsumer(a: PodAnalysis): Consumer {
  const nodes = rejectedNodes(a, MAX_NODES_LISTED)
  return {
    pod: a.pod.metadata?.name ?? '',
    scheduled: Boolean(a.pod.spec?.nodeName),
    summary: a.summary,
    nodes: nodes.concat(a.fits.slice(0, MAX_NODES_LISTED).map((n) => ({name: n.metadata?.name ?? '', reasons: []}))),
  }
}

function scheduledCondition(pod: V1Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False')
  return c?.message ? `pod ${pod.metadata?.name}: ${c.message}` : undefined
}

function evidenceFrom(events: ReturnType<World['events']['about']>, reason: string): string[] {
  const e = latest(events, (x) => x.reason === reason)
  return e ? [quoteEvent(e)] : []
}

function describeNeed(pvc: V1PersistentVolumeClaim): string {
  const req = pvc.spec?.resources?.requests?.storage
  return `≥ ${req ?? formatBytes(toBytes(requestOf(pvc)))}, ${(pvc.spec?.accessModes ?? []).join(',') || 'no access modes'}, volumeMode ${volumeModeOf(pvc)}${pvc.spec?.selector ? ', labels matching the claim selector' : ''}`
}
