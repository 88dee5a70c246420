/**
 * The attach-detach controller's rules (pkg/controller/volume/attachdetach), as named predicates
 * over plain API objects: which volumes it attaches, which pods keep a volume wanted on a node,
 * when it refuses a second node, and when it detaches without waiting for the kubelet.
 */
import type {
  V1CSIDriver,
  V1CSINode,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodStatus,
  V1StorageClass,
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

/**
 * external-attacher GetFinalizerName: the finalizer the attacher puts on a VolumeAttachment before
 * it acts on it (the driver name with every character outside [a-zA-Z0-9-] made '-').
 */
export function attacherFinalizer(driver: string): string {
  const name = driver.replace(/[^a-zA-Z0-9-]/g, '-')
  return `external-attacher/${name.endsWith('-') ? `${name}X` : name}`
}

/**
 * True when an external-attacher of the VolumeAttachment's driver has picked it up: its finalizer,
 * or anything it writes into the status (the controller creates the object with `attached: false`).
 */
export function attacherHasSeen(va: V1VolumeAttachment): boolean {
  const st = va.status
  return Boolean(
    st?.attached ||
      st?.attachError ||
      st?.detachError ||
      (va.metadata?.finalizers ?? []).includes(attacherFinalizer(va.spec?.attacher ?? '')),
  )
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

/** nodevolumelimits ErrReasonMaxVolumeCountExceeded. */
export const MAX_VOLUME_COUNT_EXCEEDED = 'node(s) exceed max volume count'

export interface VolumeLimitHit {
  driver: string
  limit: number
  /** Volumes of that driver already used by pods on the node. */
  attached: number
  /** Volumes of that driver the pod would add. */
  adding: number
}

/**
 * nodevolumelimits CSILimits.Filter for a pod on one node: the CSI volumes of its claims (by
 * driver and handle, each counted once) against the CSINode's `allocatable.count` per driver,
 * after the volumes of the pods already on the node. Returns the first driver over its limit.
 * Claims not bound yet count under their class's provisioner (getCSIDriverInfoFromSC).
 */
export function csiLimitExceeded(
  pod: V1Pod,
  nodeName: string,
  w: {
    claims: Map<string, V1PersistentVolumeClaim>
    pvByName: (name: string) => V1PersistentVolume | undefined
    classes: readonly V1StorageClass[]
    csiNodes: readonly V1CSINode[]
    podsOnNode: (node: string) => readonly V1Pod[]
  },
): VolumeLimitHit | undefined {
  const csiNode = w.csiNodes.find((c) => c.metadata?.name === nodeName)
  const limits = new Map<string, number>()
  for (const d of csiNode?.spec?.drivers ?? [])
    if (typeof d.allocatable?.count === 'number') limits.set(d.name, d.allocatable.count)
  if (limits.size === 0) return undefined
  const volumesOf = (p: V1Pod, isNew: boolean, into: Map<string, string>) => {
    const ns = p.metadata?.namespace ?? 'default'
    for (const v of p.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${p.metadata?.name}-${v.name}` : '')
      if (!claimName) continue
      const pvc = w.claims.get(`${ns}/${claimName}`)
      if (!pvc) continue
      const pv = pvc.spec?.volumeName ? w.pvByName(pvc.spec.volumeName) : undefined
      let driver = pv?.spec?.csi?.driver
      let handle = pv?.spec?.csi?.volumeHandle
      if (!pv) {
        const cls = w.classes.find((c) => c.metadata?.name === pvc.spec?.storageClassName)
        driver = cls?.provisioner
        handle = `${isNew ? 'new' : 'old'}-${ns}/${claimName}`
      }
      if (driver && handle) into.set(`${driver}/${handle}`, driver)
    }
  }
  const adding = new Map<string, string>()
  volumesOf(pod, true, adding)
  if (adding.size === 0) return undefined
  const attached = new Map<string, string>()
  for (const p of w.podsOnNode(nodeName)) if (p !== pod) volumesOf(p, false, attached)
  const attachedCount = new Map<string, number>()
  for (const [unique, driver] of attached) {
    adding.delete(unique)
    attachedCount.set(driver, (attachedCount.get(driver) ?? 0) + 1)
  }
  const addingCount = new Map<string, number>()
  for (const driver of adding.values()) addingCount.set(driver, (addingCount.get(driver) ?? 0) + 1)
  for (const [driver, count] of addingCount) {
    const limit = limits.get(driver)
    const have = attachedCount.get(driver) ?? 0
    if (limit !== undefined && have + count > limit) return {driver, limit, attached: have, adding: count}
  }
  return undefined
}
