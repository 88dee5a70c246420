/**
 * `explain pv/NAME`: why a PersistentVolume is Terminating, Released or Failed, and what frees it.
 * One cause per PV, the first rule of PV_RULES that applies, reproducing:
 * - the PV controller (pkg/controller/volume/persistentvolume/pv_controller.go): syncVolume marks a
 *   PV whose claim is gone (or has another uid) Released, then reclaimVolume applies the policy —
 *   Retain: nothing; Delete: deleteVolumeOperation, which leaves volumes of an external
 *   provisioner to it (doDeleteVolume "External deleter for volume requested") and marks a failed
 *   in-tree delete Failed with a VolumeFailedDelete event; an unknown policy: Failed,
 *   VolumeUnknownReclaimPolicy;
 * - the pv-protection controller (pkg/controller/volume/pvprotection): it removes
 *   `kubernetes.io/pv-protection` from a PV being deleted only when `status.phase` is not Bound;
 * - the external provisioner (sig-storage-lib-external-provisioner controller.go, used by
 *   kubernetes-csi/external-provisioner): shouldDelete (phase Released, reclaimPolicy Delete, and,
 *   once the PV is being deleted, only while its `external-provisioner.volume.kubernetes.io/finalizer`
 *   is on it), deleteVolumeOperation (VolumeFailedDelete with the error on failure; on success it
 *   deletes the PV and removes its finalizer); csi-provisioner's Delete refuses a volume that still
 *   has a VolumeAttachment: since sig-storage-lib-external-provisioner v13 (external-provisioner v6)
 *   a VolumeInUseError, reported as a Normal `VolumeDelete` event ("persistentvolume X is still
 *   attached to node N, waiting for detach"); before, a Warning VolumeFailedDelete without the tail.
 * Never advises removing a finalizer while something still uses the volume.
 */
import type {CoreV1Event, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {
  attachmentsOf,
  hasOutOfServiceTaint,
  inUseOnNode,
  MAX_WAIT_FOR_UNMOUNT_MINUTES,
  nodeIsHealthy,
  OUT_OF_SERVICE_TAINT,
} from '../binding/attachDetach.js'
import {isTerminated} from '../binding/consumers.js'
import {BETA_CLASS_ANNOTATION} from '../binding/storageClass.js'
import type {World} from '../binding/world.js'
import {eventMessage, eventSource, latest, quoteEvent} from '../snapshot/events.js'
import {fromProvisioner, type Liveness, provisionerLiveness} from './provisionerLiveness.js'
import {type DeleteFailureInfo, PV_CAUSES, type PvCause, type VolumeDiagnosis} from './types.js'

export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection'
/** sig-storage-lib-external-provisioner controller.go finalizerPV (HonorPVReclaimPolicy, KEP-2644). */
export const PROVISIONER_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer'
/** The PV controller's own finalizer for in-tree deletes (HonorPVReclaimPolicy). */
export const PV_CONTROLLER_FINALIZER = 'kubernetes.io/pv-controller'
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by'
const MIGRATED_TO = 'pv.kubernetes.io/migrated-to'

/** Who deletes the backing volume under reclaimPolicy Delete (pv_controller.go findDeletablePlugin). */
export type Deleter =
  | {kind: 'external'; name: string}
  | {kind: 'inTree'; name: string}
  /** No plugin can delete this kind of volume: the PV controller marks it Failed. */
  | {kind: 'none'}

/**
 * findDeletablePlugin: a provisioned-by name outside `kubernetes.io/` is an external provisioner's
 * (the controller stands down); a migrated PV is the CSI driver's (reclaimVolume returns early);
 * otherwise the plugin found by the PV's source. Of the in-tree deleters only host-path is left,
 * and it deletes only under /tmp. A statically created CSI PV is the external-provisioner's
 * (isProvisionerForVolume matches its spec.csi.driver).
 */
export function deleterOf(pv: V1PersistentVolume): Deleter {
  const a = pv.metadata?.annotations ?? {}
  if (a[MIGRATED_TO]) return {kind: 'external', name: a[MIGRATED_TO]}
  const by = a[PROVISIONED_BY]
  if (by && !by.startsWith('kubernetes.io/')) return {kind: 'external', name: by}
  if (pv.spec?.csi?.driver) return {kind: 'external', name: pv.spec.csi.driver}
  if (pv.spec?.hostPath) return {kind: 'inTree', name: 'kubernetes.io/host-path'}
  if (by) return {kind: 'inTree', name: by}
  return {kind: 'none'}
}

interface PvContext {
  pv: V1PersistentVolume
  w: World
  name: string
  policy: string
  /** The phase the PV controller gives the PV at its next sync (binding/matchVolume effectivePhase). */
  phase: string
  ref?: {namespace: string; name: string; uid?: string}
  /** The claim its claimRef names, when it exists with that uid. */
  claim?: V1PersistentVolumeClaim
  /** Pods that use that claim. */
  pods: V1Pod[]
  events: CoreV1Event[]
  deleter: Deleter
  finalizers: string[]
}

type PvVerdict = {
  cause: PvCause
  message: string
  evidence?: string[]
  fix?: string[]
  failure?: DeleteFailureInfo
}

interface PvRule {
  cause: PvCause
  applies: (c: PvContext) => boolean
  verdict: (c: PvContext) => PvVerdict
}

const deleting = (c: PvContext) => Boolean(c.pv.metadata?.deletionTimestamp)
/** isVolumeReleased: the claim it was bound to is gone (or replaced, or bound elsewhere). */
const released = (c: PvContext) => c.phase === 'Released' || c.phase === 'Failed'
/** The reclaim policy will delete the backing volume, and something is to do it. */
const toDelete = (c: PvContext) => released(c) && c.policy === 'Delete' && c.deleter.kind !== 'none'

const livenessMemo = new WeakMap<PvContext, Liveness | null>()
function liveness(c: PvContext): Liveness | null {
  if (!livenessMemo.has(c))
    livenessMemo.set(c, c.deleter.kind === 'external' ? provisionerLiveness(c.deleter.name, c.w.snapshot) : null)
  return livenessMemo.get(c)!
}

/** The newest word on deleting the PV: VolumeFailedDelete (a failure) or VolumeDelete (postponed: still in use). */
function lastDeleteEvent(c: PvContext): CoreV1Event | undefined {
  return latest(c.events, (e) => e.reason === 'VolumeFailedDelete' || e.reason === 'VolumeDelete')
}

/** The newest VolumeFailedDelete, when it is the newest word on the delete. */
function failedDelete(c: PvContext): CoreV1Event | undefined {
  const e = lastDeleteEvent(c)
  return e?.reason === 'VolumeFailedDelete' ? e : undefined
}

const IN_USE_TEXT = /is still attached to node (\S+?),? waiting for detach/

/**
 * The nodes the volume must be detached from before the provisioner deletes it (csi-provisioner
 * canDeleteVolume: any VolumeAttachment of the PV); from the VolumeAttachments when they could be
 * read, else from the provisioner's VolumeDelete "waiting for detach" event.
 */
function detachNodes(c: PvContext): string[] {
  if (!c.w.skipped.has('volumeattachments'))
    return [...new Set(attachmentsOf(c.pv, c.w.snapshot.volumeAttachments).map((v) => v.spec?.nodeName ?? ''))]
  const e = lastDeleteEvent(c)
  const m = e?.reason === 'VolumeDelete' ? IN_USE_TEXT.exec(eventMessage(e)) : null
  return m ? [m[1]] : []
}

/**
 * The causes, in order: the first rule that applies gives the PV its verdict. docs/causes.md
 * lists them in this order.
 */
export const PV_RULES: readonly PvRule[] = [
  {
    // pv_protection_controller.go isBeingUsed: status.phase == Bound keeps the finalizer.
    cause: 'VolumeProtected',
    applies: (c) =>
      deleting(c) && c.finalizers.includes(PV_PROTECTION_FINALIZER) && c.pv.status?.phase === 'Bound' && !released(c),
    verdict: protectedVerdict,
  },
  {
    cause: 'DeleterNotRunning',
    applies: (c) => toDelete(c) && liveness(c)?.state === 'down',
    verdict: deleterNotRunning,
  },
  {
    cause: 'DeleteWaitsForDetach',
    applies: (c) => toDelete(c) && c.deleter.kind === 'external' && detachNodes(c).length > 0,
    verdict: waitsForDetach,
  },
  {
    cause: 'VolumeFailedDelete',
    applies: (c) => released(c) && c.policy === 'Delete' && failedDelete(c) !== undefined,
    verdict: failedDeleteVerdict,
  },
  {
    // A Delete policy with no deleter: deleteVolumeOperation marks the PV Failed.
    cause: 'VolumeFailed',
    applies: (c) => c.phase === 'Failed' || (released(c) && c.policy === 'Delete' && c.deleter.kind === 'none'),
    verdict: failedVerdict,
  },
  {
    // syncVolume: a PV whose API phase is still Bound (or Available) but whose claim is gone.
    cause: 'VolumeClaimGone',
    applies: (c) => released(c) && c.pv.status?.phase !== 'Released' && c.pv.status?.phase !== 'Failed',
    verdict: claimGone,
  },
  {
    cause: 'VolumeReleasedRetain',
    applies: (c) => released(c) && c.policy !== 'Delete' && !deleting(c),
    verdict: releasedRetain,
  },
  {cause: 'VolumeDeletePending', applies: toDelete, verdict: deletePending},
  {cause: 'VolumeTerminating', applies: deleting, verdict: terminating},
  {
    cause: 'VolumeBound',
    applies: (c) => c.phase === 'Bound',
    verdict: (c) => ({
      cause: 'VolumeBound',
      message: `Bound to claim ${c.ref!.namespace}/${c.ref!.name}${c.claim?.metadata?.deletionTimestamp ? `, which is being deleted (kubectl pv-doctor explain -n ${c.ref!.namespace} ${c.ref!.name} says what holds it)` : ''}${c.pods.length ? `, used by ${plural(c.pods.length, 'pod')} ${names(c.pods)}` : ''}. reclaimPolicy ${c.policy}: ${policyWord(c)}`,
    }),
  },
  {
    cause: 'VolumeAvailable',
    applies: () => true,
    verdict: (c) => ({
      cause: 'VolumeAvailable',
      message: c.ref
        ? `Available, reserved for claim ${c.ref.namespace}/${c.ref.name} (spec.claimRef without a uid): only that claim can bind it.`
        : 'Available: any claim that fits can bind it.',
    }),
  },
]

export function diagnosePv(pv: V1PersistentVolume, w: World): VolumeDiagnosis {
  const name = pv.metadata?.name ?? ''
  const r = pv.spec?.claimRef
  const ref = r?.name ? {namespace: r.namespace ?? 'default', name: r.name, uid: r.uid} : undefined
  const found = ref ? w.claims.get(`${ref.namespace}/${ref.name}`) : undefined
  const claim = found && (!ref?.uid || found.metadata?.uid === ref.uid) ? found : undefined
  const c: PvContext = {
    pv,
    w,
    name,
    policy: pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain',
    phase: w.phaseOf(pv),
    ref,
    claim,
    pods: claim && ref ? (w.podsByClaim.get(`${ref.namespace}/${ref.name}`) ?? []).filter((p) => !isTerminated(p)) : [],
    events: w.events.about('PersistentVolume', '', name, pv.metadata?.uid),
    deleter: deleterOf(pv),
    finalizers: pv.metadata?.finalizers ?? [],
  }
  const rule = PV_RULES.find((x) => x.applies(c))!
  const v = rule.verdict(c)
  const evidence = v.evidence ?? []
  const warn = latest(c.events, (e) => e.type === 'Warning')
  if (PV_CAUSES[v.cause] === 'error' && evidence.length === 0 && warn) evidence.push(quoteEvent(warn))
  const cls = pv.metadata?.annotations?.[BETA_CLASS_ANNOTATION] ?? pv.spec?.storageClassName
  const out: VolumeDiagnosis = {
    name,
    phase: pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? 'Pending'),
    reclaimPolicy: c.policy,
    storageClass: cls === undefined ? null : cls,
    claim: ref ? `${ref.namespace}/${ref.name}` : null,
    finalizers: c.finalizers,
    deleter: c.deleter.kind === 'none' ? null : c.deleter.name,
    cause: v.cause,
    severity: PV_CAUSES[v.cause],
    message: v.message,
    evidence,
    fix: v.fix ?? [],
    pods: c.pods.map((p) => p.metadata?.name ?? ''),
  }
  if (v.failure) out.failure = v.failure
  return out
}

const plural = (n: number, word: string) => (n === 1 ? word : `${word}s`)
const names = (pods: readonly V1Pod[]) => pods.map((p) => p.metadata?.name ?? '').join(', ')

function policyWord(c: PvContext): string {
  if (c.policy === 'Retain') return 'when the claim is deleted the PV becomes Released and keeps its data.'
  if (c.policy === 'Delete')
    return c.deleter.kind === 'none'
      ? 'when the claim is deleted the PV controller finds no plugin to delete this kind of volume and marks the PV Failed.'
      : `when the claim is deleted ${c.deleter.kind === 'external' ? `the provisioner ${c.deleter.name}` : 'the PV controller'} deletes the volume and its data.`
  return `when the claim is deleted the PV controller applies ${c.policy}.`
}

/** Pods of the claim on a node that is not Ready: no kubelet confirms them gone. */
function stranded(c: PvContext): V1Pod[] {
  return c.pods.filter((p) => {
    const node = c.w.nodes.find((n) => n.metadata?.name === p.spec?.nodeName)
    return node !== undefined && !nodeIsHealthy(node)
  })
}

/**
 * What frees pods stranded on a NotReady node (pkg/controller/podgc gc_controller.go: gcOrphaned
 * deletes pods of a Node that no longer exists, gcTerminating force-deletes Terminating pods of a
 * NotReady node with the out-of-service taint; the taint manager evicts pods that do not tolerate
 * node.kubernetes.io/unreachable or not-ready, 300 s by default, which only makes them Terminating).
 */
export function strandedFreedBy(pods: readonly V1Pod[], ns: string, nodes: readonly string[]): string {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp)
  return (
    `What frees ${pods.length === 1 ? 'it' : 'them'}: the node coming back (its kubelet finishes ${pods.length === 1 ? 'it' : 'them'}); ` +
    `the taint ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute on ${nodes.join(', ')} (the pod garbage collector then force-deletes Terminating pods there and the attach-detach controller detaches at once); ` +
    `deleting the Node object of a machine that is gone (the pod garbage collector deletes pods of a node that no longer exists); ` +
    `or kubectl delete pod -n ${ns} ${pods.map((p) => p.metadata?.name).join(' ')} --force --grace-period=0.` +
    (live.length
      ? ` ${live.map((p) => p.metadata?.name).join(', ')} ${live.length === 1 ? 'is' : 'are'} not even Terminating yet: eviction from a NotReady node (after the pod's toleration of node.kubernetes.io/unreachable, 300 s by default) only makes ${live.length === 1 ? 'it' : 'them'} Terminating.`
      : '')
  )
}

/** VolumeProtected: being deleted, but Bound — pv-protection keeps it until its claim lets go. */
function protectedVerdict(c: PvContext): PvVerdict {
  const {ref, claim} = c
  const key = `${ref!.namespace}/${ref!.name}`
  const claimWord = !claim
    ? `claim ${key}`
    : claim.metadata?.deletionTimestamp
      ? `claim ${key}, itself being deleted (pvc-protection keeps it while pods use it)`
      : `claim ${key}`
  const stuck = stranded(c)
  const message =
    `The PV is being deleted, but it is Bound to ${claimWord}${c.pods.length ? `, used by ${plural(c.pods.length, 'pod')} ${names(c.pods)}` : ''}: ` +
    `the pv-protection controller removes ${PV_PROTECTION_FINALIZER} only once the PV is no longer Bound, which happens when the claim is deleted.` +
    (stuck.length
      ? ` ${names(stuck)} ${stuck.length === 1 ? 'is' : 'are'} on NotReady node ${[...new Set(stuck.map((p) => p.spec?.nodeName))].join(', ')}: no kubelet will confirm ${stuck.length === 1 ? 'it' : 'them'} gone.`
      : '')
  const fix: string[] = []
  if (c.policy === 'Delete' && c.deleter.kind !== 'none')
    fix.push(
      `Deleting the claim deletes the volume and its data (reclaimPolicy Delete). To keep the data on the storage (the PV object still goes), first: kubectl patch pv ${c.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
    )
  if (c.pods.length)
    fix.push(
      `Stop the pods that use it: kubectl delete pod -n ${ref!.namespace} ${names(c.pods).replaceAll(', ', ' ')}   # or scale down their controller`,
    )
  if (stuck.length)
    fix.push(
      `Only for a node that is really down (powered off): ${strandedFreedBy(stuck, ref!.namespace, [...new Set(stuck.map((p) => p.spec?.nodeName ?? ''))])}`,
    )
  if (!claim?.metadata?.deletionTimestamp)
    fix.push(`Delete the claim: kubectl delete pvc -n ${ref!.namespace} ${ref!.name}`)
  fix.push(
    `Do not remove the finalizer ${PV_PROTECTION_FINALIZER} by hand: the claim still points at this PV, and a pod may still write to it. If you did not mean to delete the PV, it cannot be undone; it stays usable until the claim goes.`,
  )
  return {cause: 'VolumeProtected', message, fix}
}

function leaseEvidence(c: PvContext): string[] {
  const l = liveness(c)
  return l?.lease ? [l.lease] : []
}

/** DeleterNotRunning: the volume is the external provisioner's to delete, and it is not running. */
function deleterNotRunning(c: PvContext): PvVerdict {
  const d = c.deleter as {name: string}
  const held = c.finalizers.includes(PROVISIONER_FINALIZER)
  const ev = failedDelete(c)
  return {
    cause: 'DeleterNotRunning',
    message:
      `The PV is ${c.pv.status?.phase ?? 'Released'} with reclaimPolicy Delete: the external provisioner ${d.name} deletes the volume, and it is not running (its leader-election Lease is not renewed), so nothing deletes it` +
      (held ? ` and its finalizer ${PROVISIONER_FINALIZER} keeps the PV.` : '.'),
    evidence: [...leaseEvidence(c), ...(ev ? [quoteEvent(ev)] : [])],
    fix: [
      `Start the provisioner's controller (the pod with the csi-provisioner sidecar for ${d.name}); it deletes the volume, then the PV.`,
      `Remove ${PROVISIONER_FINALIZER} by hand only if that provisioner is gone for good, and then delete the backing volume (handle ${c.pv.spec?.csi?.volumeHandle ?? 'in the PV spec'}) on the storage yourself: otherwise it leaks.`,
    ],
  }
}

/**
 * DeleteWaitsForDetach: the provisioner deletes only a detached volume, and it is still attached.
 * The attach-detach controller detaches once no pod on the node uses it and the kubelet no longer
 * reports it in `volumesInUse`; from a node that is not Ready, after 6 minutes (force detach) or at
 * once with the out-of-service taint (reconciler.go).
 */
function waitsForDetach(c: PvContext): PvVerdict {
  const d = c.deleter as {name: string}
  const nodes = detachNodes(c)
  const ev = lastDeleteEvent(c)
  const why: string[] = []
  const fix: string[] = []
  for (const name of nodes) {
    const node = c.w.nodes.find((n) => n.metadata?.name === name)
    if (!node) {
      why.push(
        c.w.skipped.has('nodes') || c.w.nodes.length === 0
          ? `node ${name}`
          : `node ${name}, which no longer exists (the attach-detach controller detaches from a deleted node)`,
      )
    } else if (!nodeIsHealthy(node)) {
      why.push(
        hasOutOfServiceTaint(node)
          ? `node ${name}, NotReady with the out-of-service taint: the attach-detach controller detaches it at once`
          : `node ${name}, which is NotReady: the attach-detach controller force-detaches it ${MAX_WAIT_FOR_UNMOUNT_MINUTES} minutes after the last pod there let go (unless --disable-force-detach-on-timeout)`,
      )
      fix.push(
        `If ${name} is really down (powered off): kubectl taint node ${name} ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute detaches at once.`,
      )
    } else if (inUseOnNode(c.pv, node)) {
      why.push(
        `node ${name}, whose kubelet still reports it in use (status.volumesInUse): a pod there still has it mounted, or the kubelet has not finished unmounting`,
      )
      fix.push(
        `Find what still uses it on ${name}: kubectl get pods -A --field-selector spec.nodeName=${name}; once the kubelet unmounts it, the attach-detach controller detaches it.`,
      )
    } else {
      why.push(`node ${name}: nothing uses it there any more, the attach-detach controller is detaching it`)
    }
  }
  fix.push(
    "Do not remove the VolumeAttachment's or the PV's finalizers: the volume may still be mounted on the node, and the storage would keep a volume nothing points at.",
  )
  return {
    cause: 'DeleteWaitsForDetach',
    message: `The claim is gone and reclaimPolicy is Delete, but the provisioner ${d.name} deletes the volume only once it is detached, and it is still attached to ${why.join('; ')}. It tries again on its own (exponential backoff up to 5 min).`,
    evidence: [
      ...attachmentsOf(c.pv, c.w.snapshot.volumeAttachments).map(
        (v) =>
          `VolumeAttachment ${v.metadata?.name}: node ${v.spec?.nodeName}, attached ${v.status?.attached ?? false}${v.status?.detachError?.message ? `, detachError: ${v.status.detachError.message}` : ''}`,
      ),
      ...(ev ? [quoteEvent(ev)] : []),
    ],
    fix,
  }
}

/**
 * VolumeFailedDelete's message, classified: who refused and what happens next. The provisioner
 * retries with exponential backoff (1 s doubling to --retry-interval-max, 5 min, in
 * external-provisioner); the PV controller retries an in-tree delete on every sync.
 */
export function classifyDeleteFailure(msg: string, fromPvController: boolean): DeleteFailureInfo {
  const retry = fromPvController
    ? 'the PV controller tries again on every sync of the PV (--pvclaimbinder-sync-period, 15 s)'
    : 'the provisioner tries again with exponential backoff (from 1 s up to --retry-interval-max, 5 min by default)'
  if (/^persistentvolume \S+ is still attached to node \S+/.test(msg)) return {reason: 'StillAttached', retry}
  if (/getting deleter volume plugin/i.test(msg) || /deleter only supports/.test(msg))
    return {reason: 'NoDeleter', retry}
  const rpc = /rpc error: code = (\w+) desc = /.exec(msg)
  if (rpc) {
    const code = rpc[1]
    const reason =
      code === 'FailedPrecondition'
        ? 'FailedPrecondition'
        : code === 'Unavailable'
          ? 'DriverUnavailable'
          : code === 'DeadlineExceeded' || code === 'Canceled' || code === 'Aborted'
            ? 'Timeout'
            : 'DriverError'
    return {reason, code, retry}
  }
  return {reason: 'Other', retry}
}

function failedDeleteVerdict(c: PvContext): PvVerdict {
  const ev = failedDelete(c)!
  const msg = eventMessage(ev)
  const byController = eventSource(ev) === 'persistentvolume-controller'
  const failure = classifyDeleteFailure(msg, byController)
  const who = byController
    ? 'the PV controller'
    : `the provisioner ${c.deleter.kind === 'external' ? c.deleter.name : eventSource(ev)}`
  const fix: string[] = []
  const attached = /is still attached to node (\S+)/.exec(msg)
  switch (failure.reason) {
    case 'StillAttached':
      fix.push(
        `The volume is still attached to node ${attached?.[1]}: the attach-detach controller detaches it once no pod on that node uses it (kubectl get volumeattachment | grep ${c.name}). If that node is down, delete its pods with --force or taint it ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute; the provisioner then deletes the volume.`,
      )
      break
    case 'NoDeleter':
      fix.push(
        `Nothing can delete this kind of volume: set the PV to Retain (kubectl patch pv ${c.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'), clean or keep the data on the storage yourself, then kubectl delete pv ${c.name}.`,
      )
      break
    case 'FailedPrecondition':
      fix.push(
        'The storage refuses to delete the volume in its current state (often: it still has snapshots or clones). Remove what the message names; the provisioner retries on its own.',
      )
      break
    case 'DriverUnavailable':
    case 'Timeout':
      fix.push(
        "The storage backend did not answer: check the CSI driver's controller pod and the backend; the delete is retried.",
      )
      break
    default:
      fix.push('Read the message above and fix what it names on the storage side; the delete is retried.')
  }
  fix.push(
    `Do not remove the PV's finalizers to make it go away: the backing volume would stay on the storage with nothing pointing at it.`,
  )
  return {
    cause: 'VolumeFailedDelete',
    message: `The claim is gone and reclaimPolicy is Delete, but ${who} could not delete the volume (${failure.reason}${failure.code && failure.code !== failure.reason ? `, gRPC ${failure.code}` : ''}); ${failure.retry}.`,
    evidence: [quoteEvent(ev), ...(c.pv.status?.message ? [`status.message: ${c.pv.status.message}`] : [])],
    fix,
    failure,
  }
}

/** VolumeFailed: the PV controller marked it Failed (an unknown policy, a failed recycle). */
function failedVerdict(c: PvContext): PvVerdict {
  const ev = latest(c.events, (e) => e.type === 'Warning')
  const unknown = c.policy !== 'Retain' && c.policy !== 'Delete' && c.policy !== 'Recycle'
  if (c.policy === 'Delete' && c.deleter.kind === 'none')
    return {
      cause: 'VolumeFailed',
      message: `The PV's claim is gone and its reclaimPolicy is Delete, but no volume plugin can delete this kind of volume (error getting deleter volume plugin for volume "${c.name}"): the PV controller marks it Failed and the data stays on the storage.`,
      evidence: ev ? [quoteEvent(ev)] : [],
      fix: [
        `Set it to Retain (kubectl patch pv ${c.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'), clean or keep the data on the storage yourself, then kubectl delete pv ${c.name}.`,
      ],
    }
  return {
    cause: 'VolumeFailed',
    message: unknown
      ? `The PV is Failed: its reclaimPolicy "${c.policy}" is not one the PV controller knows (Volume has unrecognized PersistentVolumeReclaimPolicy).`
      : `The PV is Failed: the PV controller could not ${c.policy === 'Recycle' ? 'recycle' : 'reclaim'} it${c.pv.status?.message ? ` (${c.pv.status.message})` : ''}; it keeps trying on every sync.`,
    evidence: ev ? [quoteEvent(ev)] : c.pv.status?.message ? [`status.message: ${c.pv.status.message}`] : [],
    fix: unknown
      ? [`Set a known policy: kubectl patch pv ${c.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`]
      : [
          `To keep the data and reuse the PV, remove its claimRef (kubectl patch pv ${c.name} --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'); to drop it, clean the storage yourself and kubectl delete pv ${c.name}.`,
        ],
  }
}

/** VolumeClaimGone: the API still says Bound, but the claim is gone: Released at the next sync. */
function claimGone(c: PvContext): PvVerdict {
  const key = `${c.ref!.namespace}/${c.ref!.name}`
  const found = c.w.claims.get(key)
  const why = found
    ? `claim ${key} was re-created (uid ${found.metadata?.uid}, the PV holds ${c.ref!.uid})`
    : `claim ${key} no longer exists`
  return {
    cause: 'VolumeClaimGone',
    message: `The PV is ${c.pv.status?.phase ?? 'Bound'} but ${why}: the PV controller marks it Released at its next sync, then ${c.policy === 'Delete' ? (c.deleter.kind === 'none' ? 'finds no plugin to delete it and marks it Failed' : `${c.deleter.kind === 'external' ? `the provisioner ${c.deleter.name}` : 'the PV controller'} deletes the volume and its data`) : 'keeps it and its data (Retain)'}.`,
    fix:
      c.policy === 'Delete'
        ? [
            `To keep the data, set Retain now: kubectl patch pv ${c.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
          ]
        : ['If it stays Bound, check that kube-controller-manager is running.'],
  }
}

/** VolumeReleasedRetain: Released, data kept, waiting for an admin (reclaimVolume: "policy is Retain, nothing to do"). */
function releasedRetain(c: PvContext): PvVerdict {
  const key = `${c.ref!.namespace}/${c.ref!.name}`
  const recycle = c.policy === 'Recycle'
  return {
    cause: 'VolumeReleasedRetain',
    message: recycle
      ? `The PV is Released from claim ${key}; reclaimPolicy Recycle (deprecated): the PV controller runs a recycler pod that wipes it, then makes it Available.`
      : `The PV is Released from claim ${key} and keeps its data (reclaimPolicy ${c.policy}): nothing happens until an admin reuses or deletes it; no other claim can bind it while its claimRef names ${key}.`,
    fix: recycle
      ? ['If it stays Released, look for the recycler pod and its events.']
      : [
          `To give it back to a re-created claim of the same name (keeps the data): kubectl pv-doctor bind -n ${c.ref!.namespace} ${c.ref!.name} --volume ${c.name}`,
          `To let any claim bind it (the next claim sees the old data): kubectl patch pv ${c.name} --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]'`,
          `To delete it: back up what you need, kubectl delete pv ${c.name}, then delete the volume on the storage yourself${c.pv.spec?.csi ? ` (handle ${c.pv.spec.csi.volumeHandle}); or let the provisioner do it: kubectl patch pv ${c.name} -p '{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}'` : ''}.`,
        ],
  }
}

/** VolumeDeletePending: Released + Delete, the deleter is expected to act (nothing failed, not known down). */
function deletePending(c: PvContext): PvVerdict {
  const d = c.deleter as {kind: 'external' | 'inTree'; name: string}
  const spoke = latest(c.events, (e) => d.kind === 'external' && fromProvisioner(e, d.name))
  return {
    cause: 'VolumeDeletePending',
    message:
      d.kind === 'external'
        ? `The PV is Released with reclaimPolicy Delete: the external provisioner ${d.name} deletes the volume, then the PV${c.finalizers.includes(PROVISIONER_FINALIZER) ? ` and its finalizer ${PROVISIONER_FINALIZER}` : ''}; the PV controller leaves it to it.`
        : `The PV is Released with reclaimPolicy Delete: the PV controller deletes it with the in-tree plugin ${d.name} at its next sync.`,
    evidence: [...leaseEvidence(c), ...(spoke ? [quoteEvent(spoke)] : [])],
    fix: [
      d.kind === 'external'
        ? `If it stays, check the provisioner for ${d.name} is running and its log for ${c.name}.`
        : 'If it stays, check that kube-controller-manager is running.',
    ],
  }
}

/** VolumeTerminating: being deleted and not Bound: whichever finalizers are left, and who removes them. */
function terminating(c: PvContext): PvVerdict {
  const left = c.finalizers
  const owner = (f: string) =>
    f === PV_PROTECTION_FINALIZER
      ? 'the pv-protection controller (kube-controller-manager) removes it now that the PV is not Bound'
      : f === PROVISIONER_FINALIZER
        ? c.phase !== 'Released' && c.policy === 'Delete'
          ? `the provisioner removes it only after deleting the volume, and it deletes only Released PVs: this PV is ${c.phase}, so it stays`
          : 'the provisioner removes it after deleting the volume (or at once for reclaimPolicy Retain)'
        : f === PV_CONTROLLER_FINALIZER
          ? 'the PV controller removes it after deleting the volume'
          : 'owned by another controller'
  const stuckProvisioner = left.includes(PROVISIONER_FINALIZER) && c.phase !== 'Released' && c.policy === 'Delete'
  return {
    cause: 'VolumeTerminating',
    message: left.length
      ? `The PV is being deleted (phase ${c.pv.status?.phase ?? 'Pending'}); finalizers left: ${left.map((f) => `${f} (${owner(f)})`).join('; ')}.`
      : 'The PV is being deleted and has no finalizers left: it goes away at once.',
    fix: stuckProvisioner
      ? [
          `Nothing uses the PV and the provisioner will not delete an unbound volume: delete the backing volume on the storage (handle ${c.pv.spec?.csi?.volumeHandle ?? '?'}) or keep it, then remove the finalizer: kubectl patch pv ${c.name} --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'`,
        ]
      : left.some((f) => f !== PV_PROTECTION_FINALIZER && f !== PROVISIONER_FINALIZER && f !== PV_CONTROLLER_FINALIZER)
        ? [
            'Find the controller that owns the other finalizers and let it finish; remove one by hand only if that controller is gone.',
          ]
        : ['If it stays, check that kube-controller-manager is running.'],
  }
}
