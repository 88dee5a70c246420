/**
 * Why a pod whose claim is Bound cannot get the volume attached to its node: what the
 * attach-detach controller (pkg/controller/volume/attachdetach/reconciler) and the CSI attach
 * path (pkg/volume/csi/csi_attacher.go, external-attacher) will do, from VolumeAttachments,
 * CSINodes, Node status and the pod's events. Rules in order; the first that applies wins.
 */
import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1VolumeAttachment,
} from '@kubernetes/client-node'
import {
  attachedNodes,
  attacherFinalizer,
  attacherHasSeen,
  attachmentsOf,
  csiDriverOf,
  csiLimitExceeded,
  MAX_VOLUME_COUNT_EXCEEDED,
  hasOutOfServiceTaint,
  inUseOnNode,
  isMultiAttachAllowed,
  isPodTerminated,
  MAX_WAIT_FOR_UNMOUNT_MINUTES,
  nodeIsHealthy,
  OUT_OF_SERVICE_TAINT,
  requiresAttach,
} from '../binding/attachDetach.js'
import {analysePod} from '../binding/consumers.js'
import type {World} from '../binding/world.js'
import {eventMessage, latest, quoteEvent} from '../snapshot/events.js'
import type {ClaimDiagnosis} from './types.js'

export type AfterBindVerdict = Pick<ClaimDiagnosis, 'cause' | 'message'> &
  Partial<Pick<ClaimDiagnosis, 'evidence' | 'fix'>>

/** What every after-bind rule looks at: the pod, its claim, the PV, the node, the pod's events. */
export interface PodVolume {
  pod: V1Pod
  pvc: V1PersistentVolumeClaim
  pv: V1PersistentVolume
  node?: V1Node
  w: World
  events: ReturnType<World['events']['about']>
}

export function podVolume(pod: V1Pod, pvc: V1PersistentVolumeClaim, w: World): PodVolume | undefined {
  const pv = w.index.byName.get(pvc.spec?.volumeName ?? '')
  if (!pv) return undefined
  const node = nodeNamed(w, pod.spec?.nodeName)
  const events = w.events.about(
    'Pod',
    pod.metadata?.namespace ?? 'default',
    pod.metadata?.name ?? '',
    pod.metadata?.uid,
  )
  return {pod, pvc, pv, node, w, events}
}

export function nodeNamed(w: World, name: string | undefined): V1Node | undefined {
  return name ? w.nodes.find((n) => n.metadata?.name === name) : undefined
}

const podName = (p: V1Pod) => p.metadata?.name ?? ''

/** The upstream texts (reconciler.go reportMultiAttachError, both wordings; csi_attacher.go waitForVolumeAttachmentWithLister). */
const MULTI_ATTACH = /^(Multi-Attach error|Waiting for detach) for volume /
const ATTACHER_TIMEOUT = 'timed out waiting for external-attacher of'

/** Every attach rule, in order. Each returns a verdict or undefined (does not apply). */
const ATTACH_RULES: ((v: PodVolume) => AfterBindVerdict | undefined)[] = [
  readWriteOncePodInUse,
  volumeLimitExceeded,
  driverNotOnNode,
  attachedElsewhere,
  attachFailed,
  attachPending,
]

export const ATTACH_CAUSES = [
  'ReadWriteOncePodInUse',
  'VolumeLimitExceeded',
  'DriverNotOnNode',
  'VolumeAttachedElsewhere',
  'AttachFailed',
  'AttacherNotResponding',
  'AttachPending',
] as const

export function attachVerdict(v: PodVolume): AfterBindVerdict | undefined {
  for (const rule of ATTACH_RULES) {
    const r = rule(v)
    if (r) return r
  }
  return undefined
}

/** True when the volume is attached to the pod's node, or needs no attach at all. */
export function attachedHere(v: PodVolume): boolean {
  if (!needsAttach(v)) return true
  return attachedNodes(v.pv, v.w.snapshot.volumeAttachments, v.w.nodes).includes(v.pod.spec?.nodeName ?? '')
}

function needsAttach(v: PodVolume): boolean {
  return requiresAttach(v.pv, v.w.snapshot.csiDrivers) || attachmentsOf(v.pv, v.w.snapshot.volumeAttachments).length > 0
}

/** The pods that keep the claim wanted, other than this one (desired state: scheduled and not terminated). */
function otherUsers(v: PodVolume): V1Pod[] {
  const key = `${v.pvc.metadata?.namespace ?? 'default'}/${v.pvc.metadata?.name}`
  return (v.w.podsByClaim.get(key) ?? []).filter(
    (p) => p !== v.pod && p.metadata?.uid !== v.pod.metadata?.uid && p.spec?.nodeName && !isPodTerminated(p),
  )
}

/**
 * ReadWriteOncePod: the scheduler's VolumeRestrictions filter (ErrReasonReadWriteOncePodConflict;
 * older releases worded it "node has pod using PersistentVolumeClaim with the same name and
 * ReadWriteOncePod access mode") keeps a second pod off every node; one already placed fails at
 * mount in the kubelet.
 */
function readWriteOncePodInUse(v: PodVolume): AfterBindVerdict | undefined {
  if (!(v.pvc.spec?.accessModes ?? []).includes('ReadWriteOncePod')) return undefined
  const others = otherUsers(v)
  if (others.length === 0) return undefined
  const ns = v.pod.metadata?.namespace ?? 'default'
  const who = others.map(
    (p) => `${podName(p)} on ${p.spec?.nodeName}${p.metadata?.deletionTimestamp ? ' (Terminating)' : ''}`,
  )
  const scheduled = Boolean(v.pod.spec?.nodeName)
  const evidence: string[] = []
  const cond = v.pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message
  if (cond) evidence.push(`pod ${podName(v.pod)}: ${cond}`)
  const ev = latest(v.events, (e) => eventMessage(e).includes('ReadWriteOncePod'))
  if (ev) evidence.push(quoteEvent(ev))
  return {
    cause: 'ReadWriteOncePodInUse',
    message: `Claim ${v.pvc.metadata?.name} is ReadWriteOncePod and pod ${who.join(', ')} already uses it; only one pod in the cluster may. ${scheduled ? 'The kubelet refuses to mount it (volume uses the ReadWriteOncePod access mode and is already in use by another pod).' : 'The scheduler keeps this pod Pending: "node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod".'}`,
    evidence,
    fix: [
      `Stop the other pod first (kubectl delete pod -n ${ns} ${others.map(podName).join(' ')}), or use ReadWriteOnce if pods on one node may share the volume.`,
    ],
  }
}

const podsOnNodeMemo = new WeakMap<World, Map<string, V1Pod[]>>()

/** The scheduler's pods per node: assigned and not terminal. */
function podsOnNode(w: World, node: string): V1Pod[] {
  let m = podsOnNodeMemo.get(w)
  if (!m) {
    m = new Map()
    for (const p of w.snapshot.pods) {
      const n = p.spec?.nodeName
      if (!n || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue
      const l = m.get(n)
      if (l) l.push(p)
      else m.set(n, [p])
    }
    podsOnNodeMemo.set(w, m)
  }
  return m.get(node) ?? []
}

/**
 * A pod not placed yet whose every otherwise fitting node is at its CSI volume limit
 * (nodevolumelimits CSILimits: CSINode `allocatable.count` per driver).
 */
function volumeLimitExceeded(v: PodVolume): AfterBindVerdict | undefined {
  if (v.pod.spec?.nodeName || v.w.skipped.has('csinodes')) return undefined
  const a = analysePod(v.pod, v.w)
  if (a.preFilter || a.fits.length === 0) return undefined
  const hits: {node: string; hit: NonNullable<ReturnType<typeof csiLimitExceeded>>}[] = []
  for (const n of a.fits) {
    const node = n.metadata?.name ?? ''
    const hit = csiLimitExceeded(v.pod, node, {
      claims: v.w.claims,
      pvByName: (name) => v.w.index.byName.get(name),
      classes: v.w.classes,
      csiNodes: v.w.csiNodes,
      podsOnNode: (x) => podsOnNode(v.w, x),
    })
    if (!hit) return undefined
    hits.push({node, hit})
  }
  const cond = v.pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message
  const shown = hits.slice(0, 8)
  return {
    cause: 'VolumeLimitExceeded',
    message: `Every node pod ${podName(v.pod)} could otherwise use is at its limit of attachable volumes for the CSI driver (CSINode allocatable.count): ${shown.map((h) => `${h.node} ${h.hit.attached}/${h.hit.limit} of ${h.hit.driver} in use, +${h.hit.adding}`).join('; ')}${hits.length > shown.length ? '; …' : ''}. The scheduler: "${MAX_VOLUME_COUNT_EXCEEDED}".`,
    evidence: cond ? [`pod ${podName(v.pod)}: ${cond}`] : [],
    fix: [
      'Free a slot (stop a pod that uses a volume of that driver on one of these nodes), add nodes, or use instance types that allow more volumes.',
    ],
  }
}

/** The kubelet on the node has no node plugin of the PV's CSI driver (csi_client.go newCsiDriverClient). */
function driverNotOnNode(v: PodVolume): AfterBindVerdict | undefined {
  const driver = csiDriverOf(v.pv)
  const nodeName = v.pod.spec?.nodeName
  if (!driver || !nodeName || v.w.skipped.has('csinodes')) return undefined
  const csiNode = v.w.csiNodes.find((c) => c.metadata?.name === nodeName)
  if (csiNode?.spec?.drivers?.some((d) => d.name === driver)) return undefined
  const ev = latest(v.events, (e) => eventMessage(e).includes('not found in the list of registered CSI drivers'))
  return {
    cause: 'DriverNotOnNode',
    message: `CSI driver ${driver} is not registered on node ${nodeName} (${csiNode ? 'its CSINode does not list it' : 'the node has no CSINode object'}): the kubelet there cannot stage or mount PV ${v.pv.metadata?.name} ("driver name ${driver} not found in the list of registered CSI drivers"), and the external-attacher has no node ID to attach it to.`,
    evidence: ev ? [quoteEvent(ev)] : [],
    fix: [
      `Run the driver's node plugin on ${nodeName} (usually a DaemonSet: check its pod on that node and its node-driver-registrar container's log), then the kubelet registers it: kubectl get csinode ${nodeName} -o yaml`,
    ],
  }
}

/** reconciler.go attachDesiredVolumes: an RWO volume confirmed attached to another node is not attached here. */
function attachedElsewhere(v: PodVolume): AfterBindVerdict | undefined {
  const here = v.pod.spec?.nodeName
  if (!here || !needsAttach(v) || isMultiAttachAllowed(v.pv)) return undefined
  const others = attachedNodes(v.pv, v.w.snapshot.volumeAttachments, v.w.nodes).filter((n) => n !== here)
  const ev = latest(v.events, (e) => e.reason === 'FailedAttachVolume' && MULTI_ATTACH.test(eventMessage(e)))
  if (others.length === 0) return undefined
  const ns = v.pod.metadata?.namespace ?? 'default'
  const parts = others.map((n) => freeingOf(v, n))
  const pvName = v.pv.metadata?.name
  return {
    cause: 'VolumeAttachedElsewhere',
    message: `PV ${pvName} is ReadWriteOnce and still attached to ${others.length === 1 ? `node ${others[0]}` : `nodes ${others.join(', ')}`}; the attach-detach controller attaches it to ${here} only after it is detached there. ${parts.map((p) => p.status).join(' ')}`,
    evidence: [
      ...(ev ? [quoteEvent(ev)] : []),
      ...others.map((n) => {
        const va = attachmentsOf(v.pv, v.w.snapshot.volumeAttachments).find((a) => a.spec?.nodeName === n)
        const node = nodeNamed(v.w, n)
        return `node ${n}: ${nodeIsHealthy(node) ? 'Ready' : node ? 'NotReady' : 'not found'}${hasOutOfServiceTaint(node) ? `, tainted ${OUT_OF_SERVICE_TAINT}` : ''}; volume ${inUseOnNode(v.pv, node) ? 'in use (status.volumesInUse)' : 'not in use'}${va ? `; VolumeAttachment ${va.metadata?.name} attached=${Boolean(va.status?.attached)}${va.status?.detachError?.message ? `, detachError: ${va.status.detachError.message}` : ''}` : ''}`
      }),
    ],
    fix: parts.flatMap((p) => p.fix).map((f) => f.replaceAll('{ns}', ns)),
  }
}

interface Freeing {
  /** What holds the volume on that node and when it will be free. */
  status: string
  fix: string[]
}

/**
 * When the volume will leave `node` (reconciler.go reconcile): while a pod there that is not
 * terminated uses it, never; then, if the kubelet still reports it in use, only after it unmounts —
 * unless the node is NotReady and 6 minutes (maxWaitForUnmountDuration) have passed since the
 * detach was first wanted, or the node has the out-of-service taint: then it is detached at once.
 */
function freeingOf(v: PodVolume, nodeName: string): Freeing {
  const node = nodeNamed(v.w, nodeName)
  const ready = nodeIsHealthy(node)
  const outOfService = hasOutOfServiceTaint(node)
  const holders = otherUsers(v).filter((p) => p.spec?.nodeName === nodeName)
  const inUse = inUseOnNode(v.pv, node)
  const va = attachmentsOf(v.pv, v.w.snapshot.volumeAttachments).find((a) => a.spec?.nodeName === nodeName)
  const describe = (p: V1Pod) =>
    `${podName(p)} (${p.metadata?.deletionTimestamp ? `Terminating since ${String(p.metadata.deletionTimestamp)}` : (p.status?.phase ?? 'Pending')})`
  const names = holders.map(podName).join(' ')
  const notReadySince = node?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime
  const deadNode = `node ${nodeName} is NotReady${notReadySince ? ` since ${String(notReadySince)}` : ''}`
  const safety = `Do this only if ${nodeName} is really down (powered off or cut off from the storage): a node that still runs the pod may still write to the volume.`

  if (holders.length) {
    const who = `Pod${holders.length > 1 ? 's' : ''} ${holders.map(describe).join(', ')} on ${nodeName} still use${holders.length > 1 ? '' : 's'} it`
    if (!ready && !outOfService)
      return {
        status: `${who}, and ${deadNode}: no kubelet confirms ${holders.length > 1 ? 'they are' : 'it is'} gone, so the volume stays attached there until ${holders.length > 1 ? 'those pods are' : 'that pod is'} removed from the API — it is not freed by waiting.`,
        fix: [
          `If ${nodeName} is down, mark it out of service: kubectl taint node ${nodeName} ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute — its pods are deleted and the volume is detached at once, without the ${MAX_WAIT_FOR_UNMOUNT_MINUTES}-minute wait. ${safety}`,
          `Or delete the pod(s) by force: kubectl delete pod -n {ns} ${names} --force --grace-period=0 — the controller then force-detaches within ${MAX_WAIT_FOR_UNMOUNT_MINUTES} minutes (maxWaitForUnmountDuration) because the node is not Ready. ${safety}`,
        ],
      }
    if (outOfService)
      return {
        status: `${who}; ${nodeName} has the ${OUT_OF_SERVICE_TAINT} taint, so once the pod garbage collector deletes ${holders.length > 1 ? 'them' : 'it'} the volume is detached at once.`,
        fix: [
          `Wait a few seconds; if the pods stay, delete them: kubectl delete pod -n {ns} ${names} --force --grace-period=0`,
        ],
      }
    const terminating = holders.filter((p) => p.metadata?.deletionTimestamp)
    if (terminating.length === holders.length)
      return {
        status: `${who} while ${holders.length > 1 ? 'they stop' : 'it stops'}: the volume is detached once the kubelet on ${nodeName} (Ready) has stopped ${holders.length > 1 ? 'them' : 'it'} and unmounted it — usually within the pod's termination grace period (${holders[0].spec?.terminationGracePeriodSeconds ?? 30}s).`,
        fix: [
          `Wait; if it lasts, look at the kubelet's log on ${nodeName} for an unmount that fails (kubectl describe pod -n {ns} ${names}).`,
        ],
      }
    const rolling = rollingUpdateOf(v.pod, holders)
    return {
      status: `${who} (not being deleted), so the volume stays attached to ${nodeName} for as long as ${holders.length > 1 ? 'they run' : 'it runs'}: a ReadWriteOnce volume is attached to one node at a time.${rolling ? ` Both pods belong to Deployment ${rolling}: a rolling update starts the new pod before it deletes the old one, and the old one is deleted only once the new one is Ready — which it never becomes without the volume. The rollout is stuck for good.` : ''}`,
      fix: rolling
        ? [
            `Let the Deployment stop the old pod first: kubectl patch deployment -n {ns} ${rolling} -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'   (or rollingUpdate maxSurge: 0, maxUnavailable: 1)`,
            `Or run the new pod on ${nodeName}, where the volume is, or use a ReadWriteMany volume if the pods must share it across nodes.`,
          ]
        : [
            `Stop ${names} on ${nodeName} (kubectl delete pod -n {ns} ${names}, or scale down its owner), or run this pod on ${nodeName}; pods that must share a volume across nodes need ReadWriteMany.`,
          ],
    }
  }
  // No pod wants the volume there any more: the controller detaches it, if it may.
  if (va?.status?.detachError?.message)
    return {
      status: `No pod on ${nodeName} uses it any more, but detaching it failed: ${va.status.detachError.message}`,
      fix: [
        `Fix the detach in the storage backend (the CSI driver's controller log names it); the external-attacher retries VolumeAttachment ${va.metadata?.name}.`,
      ],
    }
  if (outOfService)
    return {
      status: `No pod on ${nodeName} uses it any more and the node has the ${OUT_OF_SERVICE_TAINT} taint: it is detached at once.`,
      fix: ['Wait a few seconds; if it lasts, check that kube-controller-manager and the CSI external-attacher run.'],
    }
  if (inUse && ready)
    return {
      status: `No pod on ${nodeName} uses it any more, but the kubelet there still reports it mounted (status.volumesInUse): the controller detaches it only after the kubelet unmounts it, and never force-detaches from a Ready node.`,
      fix: [
        `Look at the kubelet's log on ${nodeName} for the unmount that does not finish (TearDown / UnmountDevice).`,
      ],
    }
  if (inUse)
    return {
      status: `No pod on ${nodeName} uses it any more; the kubelet there last reported it mounted and ${deadNode}, so the controller force-detaches it ${MAX_WAIT_FOR_UNMOUNT_MINUTES} minutes (maxWaitForUnmountDuration) after the last pod there was removed.`,
      fix: [
        `Wait up to ${MAX_WAIT_FOR_UNMOUNT_MINUTES} minutes, or, if ${nodeName} is down, detach now: kubectl taint node ${nodeName} ${OUT_OF_SERVICE_TAINT}=nodeshutdown:NoExecute. ${safety}`,
      ],
    }
  return {
    status: `No pod on ${nodeName} uses it any more and nothing has it mounted: the controller is detaching it${va ? ` (VolumeAttachment ${va.metadata?.name})` : ''}.`,
    fix: [
      "Wait a few seconds; if it lasts, check that kube-controller-manager and the CSI driver's external-attacher run (the VolumeAttachment shows progress).",
    ],
  }
}

/** Two pods of one Deployment through different ReplicaSets (`<deployment>-<pod-template-hash>`): a rollout. */
function rollingUpdateOf(pod: V1Pod, holders: V1Pod[]): string | undefined {
  const deployment = (p: V1Pod): {name: string; rs: string} | undefined => {
    const rs = p.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'ReplicaSet')?.name
    const hash = p.metadata?.labels?.['pod-template-hash']
    if (!rs || !hash || !rs.endsWith(`-${hash}`)) return undefined
    return {name: rs.slice(0, -hash.length - 1), rs}
  }
  const mine = deployment(pod)
  if (!mine) return undefined
  return holders.some((h) => {
    const d = deployment(h)
    return d && d.name === mine.name && d.rs !== mine.rs
  })
    ? mine.name
    : undefined
}

function vaFor(v: PodVolume): V1VolumeAttachment | undefined {
  return attachmentsOf(v.pv, v.w.snapshot.volumeAttachments).find((a) => a.spec?.nodeName === v.pod.spec?.nodeName)
}

/** The external-attacher wrote the CSI ControllerPublishVolume error into the VolumeAttachment. */
function attachFailed(v: PodVolume): AfterBindVerdict | undefined {
  if (!v.pod.spec?.nodeName || !needsAttach(v)) return undefined
  const va = vaFor(v)
  const err = va?.status?.attachError
  if (!err || va?.status?.attached) return undefined
  const ev = latest(v.events, (e) => e.reason === 'FailedAttachVolume')
  const code = (err as {errorCode?: number}).errorCode
  return {
    cause: 'AttachFailed',
    message: `Attaching PV ${v.pv.metadata?.name} to node ${v.pod.spec.nodeName} failed in the CSI driver ${csiDriverOf(v.pv) ?? va?.spec?.attacher}: ${err.message ?? '(no message)'}${code !== undefined ? ` (errorCode ${code})` : ''}. The external-attacher retries; the pod waits in ContainerCreating.`,
    evidence: [
      // Without the error's time: the attacher rewrites it at every retry.
      `VolumeAttachment ${va?.metadata?.name}: attached=false, attachError: ${err.message ?? ''}`,
      ...(ev ? [quoteEvent(ev)] : []),
    ],
    fix: [
      code === 8 || /ResourceExhausted/.test(err.message ?? '')
        ? `The node has no room for another volume of this driver (ResourceExhausted): move the pod to another node or detach volumes there; check CSINode ${v.pod.spec.nodeName} allocatable.count.`
        : `Fix what the driver reports (its controller plugin log has the details); the attach is retried on its own.`,
    ],
  }
}

/** A VolumeAttachment not acted on (no status at all), or none yet: the attacher or the controller is not there. */
function attachPending(v: PodVolume): AfterBindVerdict | undefined {
  const nodeName = v.pod.spec?.nodeName
  if (!nodeName || !needsAttach(v) || v.w.skipped.has('volumeattachments')) return undefined
  if (attachedHere(v)) return undefined
  const va = vaFor(v)
  const timeout = latest(
    v.events,
    (e) => e.reason === 'FailedAttachVolume' && eventMessage(e).includes(ATTACHER_TIMEOUT),
  )
  const driver = csiDriverOf(v.pv) ?? va?.spec?.attacher ?? ''
  if (timeout)
    return {
      cause: 'AttacherNotResponding',
      message: `The attach-detach controller created VolumeAttachment ${va?.metadata?.name ?? '(now gone)'} for PV ${v.pv.metadata?.name} on ${nodeName}, but no external-attacher for ${driver} has acted on it: "${ATTACHER_TIMEOUT} ${driver} CSI driver to attach volume …".`,
      evidence: [quoteEvent(timeout)],
      fix: [
        `Start the CSI controller of ${driver} (its Deployment/StatefulSet with the csi-attacher sidecar) and check the sidecar's log; if the driver needs no attach, set attachRequired: false in its CSIDriver.`,
      ],
    }
  const unseen = va !== undefined && !attacherHasSeen(va)
  return {
    cause: 'AttachPending',
    message: va
      ? `VolumeAttachment ${va.metadata?.name} asks to attach PV ${v.pv.metadata?.name} to ${nodeName}; ${unseen ? `no external-attacher of ${driver} has picked it up yet (it carries no ${attacherFinalizer(va.spec?.attacher ?? driver)} finalizer and nothing in its status)` : `the external-attacher of ${driver} has not reported it attached yet`}.`
      : `PV ${v.pv.metadata?.name} is not attached to ${nodeName} and there is no VolumeAttachment for it yet: the attach-detach controller (kube-controller-manager) has not asked for it.`,
    fix: [
      va
        ? `Wait; if it lasts (the controller gives up after 2 minutes with "${ATTACHER_TIMEOUT} …"), check ${unseen ? `that the CSI controller of ${driver} runs with its csi-attacher sidecar` : `the csi-attacher sidecar of ${driver}`}.`
        : 'Wait a few seconds; if it lasts, check that kube-controller-manager runs.',
    ],
  }
}
