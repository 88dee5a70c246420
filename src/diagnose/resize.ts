/**
 * A Bound claim whose request is above its capacity: the expansion the expand controller
 * (pkg/controller/volume/expand/expand_controller.go), the CSI external-resizer and the kubelet
 * carry out in turn, and where it stands, from the claim's status and events.
 */
import type {V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {parseQuantity} from '../binding/quantity.js'
import type {World} from '../binding/world.js'
import {eventMessage, eventSource, eventTime, latest, quoteEvent} from '../snapshot/events.js'
import {snapshotNow, timeOf} from '../snapshot/time.js'
import {NOT_ANSWERING_MS} from './provisioner.js'
import type {ClaimDiagnosis} from './types.js'

type ResizeVerdict = Pick<ClaimDiagnosis, 'cause' | 'message'> & Partial<Pick<ClaimDiagnosis, 'evidence' | 'fix'>>

export const RESIZE_CAUSES = [
  'ResizeFailed',
  'FileSystemResizePending',
  'ResizerNotResponding',
  'ResizeInProgress',
] as const

/** Events the external-resizer (or an in-tree expander) writes: it has acted on the claim. */
const RESIZER_REASONS = new Set([
  'Resizing',
  'VolumeResizeFailed',
  'VolumeResizeSuccessful',
  'FileSystemResizeRequired',
  'FileSystemResizeSuccessful',
])

/** expand_controller.go: an expansion is wanted while the request is above status.capacity. */
export function resizeWanted(pvc: V1PersistentVolumeClaim): boolean {
  const want = parseQuantity(pvc.spec?.resources?.requests?.storage)
  const have = parseQuantity(pvc.status?.capacity?.storage)
  return want !== undefined && have !== undefined && want > have
}

const INFEASIBLE = new Set(['ControllerResizeInfeasible', 'NodeResizeInfeasible'])

export function resizeVerdict(pvc: V1PersistentVolumeClaim, w: World): ResizeVerdict | undefined {
  const fsPending = pvc.status?.conditions?.find((c) => c.type === 'FileSystemResizePending' && c.status === 'True')
  const allocated = (pvc.status?.allocatedResourceStatuses as Record<string, string> | undefined)?.storage
  if (!resizeWanted(pvc) && !fsPending && !INFEASIBLE.has(allocated ?? '')) return undefined
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const want = pvc.spec?.resources?.requests?.storage
  const have = pvc.status?.capacity?.storage
  const events = w.events.about('PersistentVolumeClaim', ns, name, pvc.metadata?.uid)
  const failed = latest(events, (e) => e.reason === 'VolumeResizeFailed')
  const ok = latest(events, (e) => e.reason === 'VolumeResizeSuccessful' || e.reason === 'FileSystemResizeSuccessful')
  const pods = (w.podsByClaim.get(`${ns}/${name}`) ?? []).filter((p) => p.spec?.nodeName)
  const recover = w.rules.recoverExpansion
    ? [
        // ValidatePersistentVolumeClaimUpdate (pkg/apis/core/validation): a lowered request must stay
        // strictly above status.capacity ("field can not be less than status.capacity" otherwise).
        `To settle for less, lower the request to a size the storage can give, above status.capacity ${have} (the API server refuses ${have} itself): kubectl patch pvc -n ${ns} ${name} -p '{"spec":{"resources":{"requests":{"storage":"<SIZE>"}}}}'   (RecoverVolumeExpansionFailure)`,
      ]
    : [
        `On Kubernetes ${w.rules.version.text} the request cannot be lowered (RecoverVolumeExpansionFailure is off before 1.32); fix the cause and let the resizer retry.`,
      ]

  if (INFEASIBLE.has(allocated ?? '') || (failed && (!ok || eventTime(ok) < eventTime(failed)))) {
    // external-resizer callResizeOnPlugin: a final gRPC error also sets the ControllerResizeError
    // condition ("failed to expand pvc with ..."); an infeasible one (InvalidArgument, OutOfRange,
    // NotFound: util.IsInfeasibleError) sets ControllerResizeInfeasible and is retried only after
    // --retry-interval-max (markForSlowRetry), others keep ControllerResizeInProgress and back off.
    const condition = pvc.status?.conditions?.find((c) => c.type === 'ControllerResizeError' && c.status === 'True')
    return {
      cause: 'ResizeFailed',
      message: `Expanding the claim from ${have} to ${want} failed${failed ? `: ${eventMessage(failed)}` : ''}${allocated ? ` (status.allocatedResourceStatuses: ${allocated}${INFEASIBLE.has(allocated) ? ': infeasible at this size, retried only every few minutes' : ''})` : ''}.`,
      evidence: [
        ...(failed ? [quoteEvent(failed)] : []),
        ...(condition ? [`condition ControllerResizeError: ${condition.message ?? ''}`] : []),
      ],
      fix: [
        `Fix what the resizer reports (its log, in the CSI controller pod), or ask for a size the storage can give.`,
        ...recover,
      ],
    }
  }
  if (fsPending || allocated === 'NodeResizePending') {
    return {
      cause: 'FileSystemResizePending',
      message: `The volume itself is expanded; the filesystem on it grows when a kubelet next mounts it: "${fsPending?.message ?? 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.'}"`,
      evidence: fsPending
        ? [`condition FileSystemResizePending since ${String(fsPending.lastTransitionTime ?? '?')}`]
        : [],
      fix: pods.length
        ? [
            `Restart the pod that mounts it (kubectl delete pod -n ${ns} ${pods.map((p) => p.metadata?.name).join(' ')}; its controller recreates it), unless its driver expands online, which the kubelet then does within a minute.`,
          ]
        : [`Start a pod that mounts the claim; the kubelet finishes the resize when it mounts it.`],
    }
  }
  const expanding = events.filter((e) => e.reason === 'ExternalExpanding')
  const heard = events.some((e) => RESIZER_REASONS.has(e.reason ?? '') && eventSource(e) !== 'volume_expand')
  if (expanding.length && !heard) {
    // The expand controller says ExternalExpanding once per growth of the request and never again
    // (expand_controller.go: NewExpandController's UpdateFunc enqueues a claim only when its request
    // or capacity grows, and syncHandler returns nil, no requeue, after the event), so the wait is
    // measured from its first event to now, not across repeats of it.
    const start = Math.min(...expanding.map((e) => timeOf(e.firstTimestamp) || eventTime(e)).filter((t) => t > 0))
    const waited = snapshotNow(w.snapshot) - start
    const driver = w.index.byName.get(pvc.spec?.volumeName ?? '')?.spec?.csi?.driver
    if (waited >= NOT_ANSWERING_MS)
      return {
        cause: 'ResizerNotResponding',
        message: `The expand controller has waited ${Math.floor(waited / 60_000)} minutes for an external resizer${driver ? ` of ${driver}` : ''} to expand the claim from ${have} to ${want} ("waiting for an external controller to expand this PVC"), and none has written a word about it.`,
        evidence: [quoteEvent(latest(expanding, () => true)!)],
        fix: [
          `Check that the CSI controller${driver ? ` of ${driver}` : ''} runs with its csi-resizer sidecar (and that the driver supports expansion at all).`,
          ...recover,
        ],
      }
  }
  return {
    cause: 'ResizeInProgress',
    message: `The claim asks ${want} and holds ${have}: the expansion is under way${heard ? ' (the resizer has answered)' : ''}.`,
    evidence: latest(events, (e) => e.reason === 'Resizing' || e.reason === 'ExternalExpanding')
      ? [quoteEvent(latest(events, (e) => e.reason === 'Resizing' || e.reason === 'ExternalExpanding')!)]
      : [],
    fix: ["Wait; if it lasts, look at the CSI controller's csi-resizer log."],
  }
}
