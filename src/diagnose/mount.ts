/**
 * Why a pod whose volume is attached (or needs no attach) still does not start: the kubelet's
 * mount of it, read from the kubelet's events on the pod (pkg/volume/util/operationexecutor
 * operation_generator.go: `MountVolume.<step> failed for volume "<pv>" : <error>`, reason
 * FailedMount; `MapVolume.<step> failed …`, reason FailedMapVolume for block volumes).
 */
import type {CoreV1Event} from '@kubernetes/client-node'
import {eventMessage, eventTime, latest, quoteEvent} from '../snapshot/events.js'
import type {AfterBindVerdict, PodVolume} from './attach.js'

export const MOUNT_CAUSES = ['MountFailed', 'VolumePermissionChangeSlow', 'MountInProgress'] as const

const MOUNT_REASONS = new Set(['FailedMount', 'FailedMapVolume'])

/** One sub-reason of a failed mount: how to recognise its text, what it means, and the fix. */
interface MountKind {
  kind: string
  test: RegExp
  means: string
  fix: (v: PodVolume, node: string) => string
}

/** In order: the first that matches names the failure. Texts are the kubelet's and the mount tools'. */
const MOUNT_KINDS: MountKind[] = [
  {
    kind: 'PathMissing',
    test: /NewMounter initialization failed.*does not exist|MapVolume\.EvalHostSymlinks failed/,
    means:
      "the PV's path or device does not exist on the node (local and hostPath volumes are never created by Kubernetes)",
    fix: (v, node) => {
      const path = v.pv.spec?.local?.path ?? v.pv.spec?.hostPath?.path ?? 'the path'
      return v.pv.spec?.volumeMode === 'Block'
        ? `Device ${path} does not exist on ${node}: attach the disk there (a local PV's device must exist before use), or point the PV at one that does.`
        : `Create ${path} on ${node} (a local PV's directory must exist before use), or point the PV at one that does.`
    },
  },
  {
    kind: 'NodeAffinity',
    test: /NodeAffinity check failed/,
    means:
      "the PV's node affinity excludes the node the pod was placed on (the pod bypassed the scheduler with spec.nodeName)",
    fix: () => 'Recreate the pod without spec.nodeName so the scheduler places it where the volume is.',
  },
  {
    kind: 'NFS',
    test: /exit status 32|mount\.nfs|nfs:/i,
    means:
      'mount(8) failed (exit status 32): for NFS, the server, the export or its options refused the node, or the node lacks the NFS client',
    fix: (_, node) =>
      `From ${node}, check the server answers and exports the path to it (showmount -e <server>), and that the NFS client (nfs-common / nfs-utils) is installed there.`,
  },
  {
    kind: 'PermissionDenied',
    test: /permission denied|access denied/i,
    means: 'the storage or the node refused access (export options, credentials in the secret, SELinux)',
    fix: () =>
      "Check the volume's credentials (nodeStageSecretRef/nodePublishSecretRef), the export's client list and root squashing, and SELinux labels on the node.",
  },
  {
    kind: 'FilesystemNeedsRepair',
    test: /wrong fs type|bad superblock|structure needs cleaning|fsck|needs repair|corrupt/i,
    means: 'the filesystem on the device is damaged or not what the PV says',
    fix: () =>
      'Detach the volume (stop the pod), run fsck on it from a maintenance host, or check the PV fsType matches the filesystem on the disk.',
  },
  {
    kind: 'DeadlineExceeded',
    test: /DeadlineExceeded|context deadline exceeded/,
    means: 'the CSI node plugin did not answer in time (NodeStageVolume / NodePublishVolume); it may still be working',
    fix: () => "Look at the CSI node plugin's log on the node; the kubelet retries.",
  },
  {
    kind: 'WaitForAttach',
    test: /WaitForAttach failed/,
    means: 'the attached device never showed up on the node',
    fix: (_, node) => `Check the storage backend's attachment of the disk to ${node} and the node's kernel log.`,
  },
  {
    kind: 'MountDevice',
    test: /MountDevice failed/,
    means: 'staging the volume on the node (NodeStageVolume / formatting / mounting the device) failed',
    fix: () => "Read the error above; the CSI node plugin's log on the node has the details.",
  },
  {
    kind: 'SetUp',
    test: /SetUp failed|SetUpDevice failed|MapPodDevice failed/,
    means: "mounting the volume into the pod's directory (NodePublishVolume / bind mount) failed",
    fix: () => "Read the error above; the CSI node plugin's or the kubelet's log on the node has the details.",
  },
]

/** Events about this volume: the kubelet names the PV (volume spec name) or the pod's volume. */
function aboutVolume(v: PodVolume, e: CoreV1Event): boolean {
  const m = eventMessage(e)
  const podVolumes = (v.pod.spec?.volumes ?? [])
    .filter((x) => x.persistentVolumeClaim?.claimName === v.pvc.metadata?.name)
    .map((x) => x.name)
  return m.includes(`"${v.pv.metadata?.name}"`) || podVolumes.some((n) => m.includes(`"${n}"`) || m.includes(`[${n}`))
}

/** The pod is still waiting for its volumes: Pending on a node, no container past ContainerCreating. */
export function waitingForVolumes(v: PodVolume): boolean {
  if (!v.pod.spec?.nodeName || v.pod.status?.phase !== 'Pending') return false
  const statuses = [...(v.pod.status?.initContainerStatuses ?? []), ...(v.pod.status?.containerStatuses ?? [])]
  return statuses.every((s) => ['ContainerCreating', 'PodInitializing'].includes(s.state?.waiting?.reason ?? ''))
}

export function mountVerdict(v: PodVolume, attached: boolean): AfterBindVerdict | undefined {
  if (!waitingForVolumes(v)) return undefined
  const node = v.pod.spec?.nodeName ?? ''
  const ns = v.pod.metadata?.namespace ?? 'default'
  const pod = v.pod.metadata?.name ?? ''
  const failed = latest(v.events, (e) => MOUNT_REASONS.has(e.reason ?? '') && aboutVolume(v, e))
  const chown = latest(v.events, (e) => e.reason === 'VolumePermissionChangeInProgress')
  // The newest word wins: an ownership walk that started after a failure means the mount got further.
  if (failed && !(chown && eventTime(chown) > eventTime(failed))) {
    const text = eventMessage(failed)
    const k = MOUNT_KINDS.find((x) => x.test.test(text))
    return {
      cause: 'MountFailed',
      message: `The kubelet on ${node} cannot mount PV ${v.pv.metadata?.name} for pod ${pod}${k ? ` (${k.kind}): ${k.means}` : ''}.`,
      evidence: [quoteEvent(failed)],
      fix: [
        k
          ? k.fix(v, node)
          : "Read the kubelet's error above; the CSI node plugin's or the kubelet's log on the node has the details.",
        `The kubelet retries on its own; kubectl describe pod -n ${ns} ${pod} shows the latest attempt.`,
      ],
    }
  }
  if (chown) {
    const policy = v.pod.spec?.securityContext?.fsGroupChangePolicy
    return {
      cause: 'VolumePermissionChangeSlow',
      message: `The kubelet on ${node} is changing the owner of every file in the volume to the pod's fsGroup (${v.pod.spec?.securityContext?.fsGroup ?? '?'}) before the containers start; on a volume with many files this takes long, and is repeated at every start while fsGroupChangePolicy is ${policy ?? 'Always (the default)'}.`,
      evidence: [quoteEvent(chown)],
      fix:
        policy === 'OnRootMismatch'
          ? ["The volume's root has other owners, so the walk runs; let it finish once (later starts skip it)."]
          : [
              `Set spec.securityContext.fsGroupChangePolicy: OnRootMismatch in the pod template: the kubelet then skips the walk when the volume's root already has the right owner.`,
            ],
    }
  }
  return {
    cause: 'MountInProgress',
    message: `PV ${v.pv.metadata?.name} is ${attached ? `attached to ${node}` : 'ready (it needs no attach)'} and the kubelet on ${node} has reported no mount error: it is still mounting the volume, or has not got to it. The kubelet no longer writes an event when a mount merely takes long.`,
    fix: [
      `If it lasts, look at the kubelet's log on ${node} (journalctl -u kubelet | grep ${v.pv.metadata?.name}) and the CSI node plugin's log there.`,
    ],
  }
}
