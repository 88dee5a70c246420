/**
 * The attach-detach controller's rules (pkg/controller/volume/attachdetach), as named predicates
 * over plain API objects: which volumes it attaches, which pods keep a volume wanted on a node,
 * when it refuses a second node, and when it detaches without waiting for the kubelet.
 */
import type {
  V1CSIDriver,
  V1Node,
  V1PersistentVolume,
  V1Pod,
  V1PodStatus,
  V1VolumeAttachment,
} from '@kubernetes/client-node'

/** reconciler.go DefaultTimerConfig ReconcilerMaxWaitForUnmountDuration: 6 minutes. */
export const MAX_WAIT_FOR_UNMOUNT_MINUTES = 6

/** v1.TaintNodeOutOfService: on such a node the controller detaches without the safe-to-detach wait. */
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service'

/**
 * pkg/volume/util IsMultiAttachAllowed: only a PV that offers ReadWriteMany or ReadOnlyMany (or
 * lists no modes at all) may be attached to several nodes; the access modes of the PV count, not
 * the claim's.
 */
export function isMultiAttachAllowed(pv: V1PersistentVolume): boolean {
  const modes = pv.spec?.accessModes ?? []
  if (modes.length === 0) return true
  return modes.includes('ReadWriteMany') || modes.includes('ReadOnlyMany')
}

function notRunning(statuses: V1PodStatus['containerStatuses']): boolean {
  return (statuses ?? []).every((s) => s.state?.terminated || s.state?.waiting)
}

/**
 * pkg/volume/util IsPodTerminated: Succeeded or Failed, or deleted with no container running. A
 * terminated pod no longer keeps its volumes wanted on its node (attachdetach/util DetermineVolumeAction).
 * A pod on a dead node keeps its last reported "running" statuses, so it is never terminated here.
 */
export function isPodTerminated(pod: V1Pod): boolean {
  const s = pod.status
  if (s?.phase === 'Succeeded' || s?.phase === 'Failed') return true
  return Boolean(
    pod.metadata?.deletionTimestamp &&
      notRunning(s?.initContainerStatuses) &&
      notRunning(s?.containerStatuses) &&
      notRunning(s?.ephemeralContainerStatuses),
  )
}

/** nodeIsHealthy (reconciler.go): the node's Ready condition is True. */
export function nodeIsHealthy(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** hasOutOfServiceTaint (reconciler.go): any taint with the out-of-service key, whatever its value. */
export function hasOutOfServiceTaint(node: V1Node | undefined): boolean {
  return (node?.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT)
}

/** The CSI driver of a CSI PV, else undefined (in-tree and local volumes). */
export function csiDriverOf(pv: V1PersistentVolume): string | undefined {
  return pv.spec?.csi?.driver || undefined
}

/**
 * csi_plugin.go skipAttach: a CSI volume is attached unless its CSIDriver says attachRequired:
 * false; a driver with no CSIDriver object is attached. Non-CSI volumes that need no attach
 * (local, hostPath, NFS, ...) return false; in-tree attachable ones are migrated to CSI and carry
 * VolumeAttachments, which `attachmentsOf` finds.
 */
export function requiresAttach(pv: V1PersistentVolume, drivers: readonly V1CSIDriver[]): boolean {
  const driver = csiDriverOf(pv)
  if (!driver) return false
  const d = drivers.find((x) => x.metadata?.name === driver)
  return d?.spec?.attachRequired !== false
}

/** The unique volume name the kubelet and the controller use in Node status: `kubernetes.io/csi/<driver>^<handle>`. */
export function uniqueVolumeName(pv: V1PersistentVolume): string | undefined {
  const c = pv.spec?.csi
  return c ? `kubernetes.io/csi/${c.driver}^${c.volumeHandle}` : undefined
}

/** The VolumeAttachments of a PV (source.persistentVolumeName), any node. */
export function attachmentsOf(pv: V1PersistentVolume, vas: readonly V1VolumeAttachment[]): V1VolumeAttachment[] {
  const name = pv.metadata?.name
  return vas.filter((v) => v.spec?.source?.persistentVolumeName === name)
}

/**
 * The nodes the volume is confirmed attached to (actual_state_of_world GetNodesForAttachedVolume
 * counts only confirmed attachments): a VolumeAttachment with `status.attached: true`, or the
 * node's own `status.volumesAttached`, which the controller writes.
 */
export function attachedNodes(
  pv: V1PersistentVolume,
  vas: readonly V1VolumeAttachment[],
  nodes: readonly V1Node[],
): string[] {
  const out = new Set<string>()
  for (const v of attachmentsOf(pv, vas)) if (v.status?.attached && v.spec?.nodeName) out.add(v.spec.nodeName)
  const unique = uniqueVolumeName(pv)
  if (unique)
    for (const n of nodes)
      if ((n.status?.volumesAttached ?? []).some((a) => a.name === unique) && n.metadata?.name) out.add(n.metadata.name)
  return [...out].sort()
}

/** The kubelet reports a volume in `status.volumesInUse` while it is mounted (or being mounted) there. */
export function inUseOnNode(pv: V1PersistentVolume, node: V1Node | undefined): boolean {
  const unique = uniqueVolumeName(pv)
  return Boolean(unique && (node?.status?.volumesInUse ?? []).includes(unique))
}
