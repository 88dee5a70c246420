/**
 * What a CSI external-provisioner's ProvisioningFailed message means, and what the provisioner does
 * next. The texts and the retry behaviour are upstream's: external-provisioner
 * pkg/controller/controller.go (Provision, prepareProvision, checkError; topology.go
 * GenerateAccessibilityRequirements) and sig-storage-lib-external-provisioner controller.go
 * (provisionClaimOperation, isInfeasibleError, provisionVolumeErrorHandling, rescheduleProvisioning).
 */

export type FailureReason =
  | 'Infeasible'
  | 'ResourceExhausted'
  | 'Timeout'
  | 'DriverUnavailable'
  | 'NoCSINode'
  | 'NodeNotRegistered'
  | 'NoTopology'
  | 'UnsupportedAccessMode'
  | 'ClassParameter'
  | 'SelectorNotSupported'
  | 'DriverError'
  | 'Other'

export interface FailureClass {
  reason: FailureReason
  /** The gRPC code the driver answered with, when the message carries one. */
  code?: string
  /** What went wrong, in a sentence. */
  meaning: string
  /** What the provisioner does next. */
  retry: string
  fix: string[]
}

/** The prefix sig-storage-lib-external-provisioner puts on an InvalidArgument failure (isInfeasibleError). */
export const INFEASIBLE_PREFIX = 'Volume provisioning failed with infeasible error. Retries will be delayed.'

/**
 * Every failure except those below is requeued with the claim queue's exponential backoff:
 * external-provisioner --retry-interval-start (1 s) doubling up to --retry-interval-max (5 min).
 */
const BACKOFF =
  'It retries with exponential backoff (--retry-interval-start 1 s, doubling up to --retry-interval-max, 5 min by default).'

function grpcCode(message: string): string | undefined {
  return /rpc error: code = (\w+)/.exec(message)?.[1]
}

export interface FailureContext {
  /** The claim carries volume.kubernetes.io/selected-node (WaitForFirstConsumer). */
  selectedNode?: string
  /** WaitForFirstConsumer: the provisioner only ever tries with a selected node, even if it has removed it since. */
  delayed?: boolean
  className: string
}

/** Classifies one ProvisioningFailed message from an external provisioner. */
export function classifyFailure(message: string, ctx: FailureContext): FailureClass {
  const code = grpcCode(message)
  const cls = ctx.className
  // A failure may send the pod back to the scheduler only for a claim with a selected node
  // (Provision: mayReschedule = supportsTopology && SelectedNodeName != "").
  const reschedule =
    ctx.selectedNode || ctx.delayed
      ? `With a selected node (${ctx.selectedNode ?? 'WaitForFirstConsumer'}) it removes volume.kubernetes.io/selected-node, so the scheduler picks a node again (rescheduleProvisioning); the pod's next attempt may land elsewhere.`
      : BACKOFF
  if (message.startsWith(INFEASIBLE_PREFIX) || code === 'InvalidArgument') {
    return {
      reason: 'Infeasible',
      code,
      meaning:
        'the driver rejected the request as invalid (InvalidArgument): a class parameter, the access mode, the volume mode or the size it does not support',
      retry:
        'Retries are delayed: after an InvalidArgument the provisioner skips the claim for --retry-interval-max (5 min by default), unless the StorageClass is recreated (its uid changes).',
      fix: [
        `Compare the claim (accessModes, volumeMode, size) and StorageClass "${cls}" parameters with what the driver supports; fix the one the message names.`,
        `StorageClass parameters are immutable: kubectl get storageclass ${cls} -o yaml > sc.yaml; edit; kubectl replace --force -f sc.yaml (a new class retries at once).`,
      ],
    }
  }
  if (code === 'ResourceExhausted') {
    return {
      reason: 'ResourceExhausted',
      code,
      meaning: 'the storage backend is out of capacity or quota for this request (ResourceExhausted)',
      retry: reschedule,
      fix: [
        'Free or add capacity in the backend (or raise its quota), or request less storage.',
        ...(ctx.selectedNode || ctx.delayed
          ? ['Or let the pod run in another zone/node where the driver has room.']
          : []),
      ],
    }
  }
  if (code === 'DeadlineExceeded' || code === 'Canceled' || code === 'Aborted') {
    return {
      reason: 'Timeout',
      code,
      meaning: `CreateVolume did not finish within the provisioner's --timeout (${code}); the volume may still be being created in the background`,
      retry: `The provisioner keeps the claim "in progress" and calls CreateVolume again (the driver must answer idempotently). ${BACKOFF}`,
      fix: [
        "Check the driver's controller logs and the backend's load; if creation is slow by nature, raise the csi-provisioner's --timeout.",
      ],
    }
  }
  if (code === 'Unavailable') {
    return {
      reason: 'DriverUnavailable',
      code,
      meaning: 'the CSI driver behind the provisioner is unreachable or shutting down (Unavailable)',
      retry: `A CreateVolume may still be running, so the claim stays in progress. ${BACKOFF}`,
      fix: ["Check the CSI driver's controller container (same pod as csi-provisioner) and its backend."],
    }
  }
  const csiNode = /failed to get selected CSINode (\S+?):/.exec(message)
  if (csiNode) {
    return {
      reason: 'NoCSINode',
      meaning: `the selected node ${csiNode[1]} has no CSINode object: the driver's node plugin is not running there`,
      retry: `The provisioner removes volume.kubernetes.io/selected-node (the node lookup is NotFound → ProvisioningReschedule) and the scheduler picks a node again.`,
      fix: [
        `Run the driver's node plugin (node-driver-registrar) on ${csiNode[1]}, or keep pods that need this class off that node.`,
      ],
    }
  }
  const noKey =
    /no topology key found for node (\S+)/.exec(message) ?? /topology labels from selected node/.exec(message)
  if (noKey) {
    return {
      reason: 'NodeNotRegistered',
      meaning: `the selected node${noKey[1] ? ` ${noKey[1]}` : ''} does not carry the driver's topology: its CSINode lacks the driver (node plugin not registered yet) or the node lacks the topology labels`,
      retry: `The selected node is kept and provisioning is retried. ${BACKOFF}`,
      fix: [
        "Check the driver's node plugin on that node (kubectl get csinode <node> -o yaml) and the node's topology labels.",
      ],
    }
  }
  if (/no available topology found/.test(message)) {
    return {
      reason: 'NoTopology',
      meaning:
        "no node's CSINode lists the driver with its topology keys, so the provisioner cannot say where to create the volume (the driver's node plugin runs on no node, or has not registered yet)",
      retry: BACKOFF,
      fix: [
        "Deploy the driver's node plugin (with node-driver-registrar) on the nodes: kubectl get csinode -o yaml must list the driver with its topologyKeys.",
      ],
    }
  }
  if (/ReadWriteOncePod|AccessMode combination|ReadOnlyMany and ReadWriteOnce/.test(message)) {
    return {
      reason: 'UnsupportedAccessMode',
      meaning: 'the claim asks a combination of access modes CSI cannot express (accessmodes.ToCSIAccessMode)',
      retry: BACKOFF,
      fix: ['Recreate the claim with a single access mode (or a combination the driver supports).'],
    }
  }
  if (/claim Selector is not supported/.test(message)) {
    return {
      reason: 'SelectorNotSupported',
      meaning: 'the claim has spec.selector, which dynamic provisioning cannot honour',
      retry: `${BACKOFF} It will fail the same way every time.`,
      fix: ['Remove spec.selector (recreate the claim), or create a matching PV by hand.'],
    }
  }
  if (
    /unknown parameter key|specified in parameters|secrets? specified|error getting secret|not a valid (secret|namespace) name|invalid tokens/.test(
      message,
    )
  ) {
    return {
      reason: 'ClassParameter',
      meaning: `a parameter of StorageClass "${cls}" is wrong (an unknown csi.storage.k8s.io/ key, a secret reference, or an fstype given twice)`,
      retry: `${BACKOFF} It fails the same way until the class is fixed.`,
      fix: [
        `Fix the parameters of StorageClass "${cls}" (immutable: kubectl get storageclass ${cls} -o yaml > sc.yaml; edit; kubectl replace --force -f sc.yaml).`,
      ],
    }
  }
  if (code) {
    return {
      reason: 'DriverError',
      code,
      meaning: `the driver's CreateVolume failed with ${code}`,
      retry: BACKOFF,
      fix: ["Read the driver's controller logs for the cause behind the message."],
    }
  }
  return {
    reason: 'Other',
    meaning: 'the provisioner failed before calling the driver',
    retry: BACKOFF,
    fix: ["Read the message and the csi-provisioner container's log."],
  }
}
