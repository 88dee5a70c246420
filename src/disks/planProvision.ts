/**
 * Turns assessed disks into the exact PV and StorageClass manifests `provision` would create,
 * and checks a plan against a fresh probe before anything is written. Pure: the command does
 * the reading and the writing.
 */
import type {V1Node, V1PersistentVolume, V1StorageClass} from '@kubernetes/client-node'
import {pvName} from './identity.js'
import type {DiskVerdict} from './types.js'

export const LABEL_DOMAIN = 'pv-doctor.io'
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner'
export const HOSTNAME_LABEL = 'kubernetes.io/hostname'
export const DEFAULT_STORAGE_CLASS = 'local-disks'

export const ANNOTATIONS = {
  node: `${LABEL_DOMAIN}/node`,
  diskId: `${LABEL_DOMAIN}/disk-id`,
  kernelPath: `${LABEL_DOMAIN}/kernel-path`,
  fingerprint: `${LABEL_DOMAIN}/fingerprint`,
  disk: `${LABEL_DOMAIN}/disk`,
  version: `${LABEL_DOMAIN}/version`,
} as const

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  node: `${LABEL_DOMAIN}/node`,
  diskHash: `${LABEL_DOMAIN}/disk-hash`,
} as const

export interface NodeInput {
  /** Node name as the probe reported it. */
  name: string
  /** The Node object; undefined when the cluster has no such node. */
  node?: V1Node
  disks: DiskVerdict[]
}

export interface ProvisionInput {
  nodes: NodeInput[]
  existingPVs: readonly V1PersistentVolume[]
  /** The existing StorageClass of that name, if any. */
  existingClass?: V1StorageClass
  storageClass: string
  volumeMode: 'Block' | 'Filesystem'
  fsType?: string
  reclaimPolicy: 'Retain' | 'Delete'
  toolVersion: string
}

export type PlanAction = 'create' | 'exists' | 'skip' | 'conflict'

export interface PlanItem {
  node: string
  disk: DiskVerdict
  action: PlanAction
  /** The PV name this disk gets (null when it has no stable id). */
  pvName: string | null
  /** Why it is skipped or in conflict. */
  why?: string
  manifest?: V1PersistentVolume
}

export interface ProvisionPlan {
  storageClass: {name: string; action: 'create' | 'exists'; manifest: V1StorageClass}
  /** Set when the plan must not be applied at all (e.g. the class binds Immediately). */
  blocker?: string
  items: PlanItem[]
  warnings: string[]
}

export function planProvision(input: ProvisionInput): ProvisionPlan {
  const warnings: string[] = []
  const scManifest = storageClassManifest(input)
  let blocker: string | undefined
  const existing = input.existingClass
  if (existing) {
    const mode = existing.volumeBindingMode ?? 'Immediate'
    if (mode !== 'WaitForFirstConsumer') {
      blocker = `StorageClass ${input.storageClass} exists with volumeBindingMode ${mode}: the PV controller would bind claims to local PVs before the scheduler picks a node, so a pod could be pinned to a node it cannot run on. Use another --storage-class, or recreate ${input.storageClass} with volumeBindingMode: WaitForFirstConsumer`
    }
    if (existing.provisioner !== NO_PROVISIONER) {
      warnings.push(
        `StorageClass ${input.storageClass} has provisioner ${existing.provisioner}, not ${NO_PROVISIONER}: claims that find no free local PV will wait for that provisioner`,
      )
    }
  }
  if (input.volumeMode === 'Filesystem') {
    warnings.push(
      `volumeMode Filesystem with fsType ${input.fsType}: the kubelet formats each disk (mkfs.${input.fsType}) the first time a pod mounts it`,
    )
  }

  const byName = new Map(input.existingPVs.map((pv) => [pv.metadata?.name ?? '', pv]))
  const items: PlanItem[] = []
  for (const n of input.nodes) {
    const hostname = n.node?.metadata?.labels?.[HOSTNAME_LABEL]
    for (const disk of n.disks) {
      const name = disk.id ? pvName(n.name, disk.id) : null
      const base = {node: n.name, disk, pvName: name}
      const pv = name ? byName.get(name) : undefined
      if (pv) {
        // Same name = same node and disk id; it is ours from an earlier run if it points at the disk.
        if (pv.spec?.local?.path === disk.id) items.push({...base, action: 'exists', why: `PV ${name} already exists`})
        else
          items.push({
            ...base,
            action: 'conflict',
            why: `a PV named ${name} exists but points at ${pv.spec?.local?.path ?? pv.spec?.hostPath?.path ?? 'something else'}`,
          })
        continue
      }
      if (!disk.eligible) {
        items.push({...base, action: 'skip', why: `not eligible: ${disk.reasons.join(', ')}`})
        continue
      }
      if (!n.node) {
        items.push({...base, action: 'skip', why: `the cluster has no Node named ${n.name}`})
        continue
      }
      if (!hostname) {
        items.push({
          ...base,
          action: 'skip',
          why: `node ${n.name} has no ${HOSTNAME_LABEL} label, which the scheduler uses to place pods next to local PVs`,
        })
        continue
      }
      items.push({...base, action: 'create', manifest: pvManifest(input, n.name, hostname, disk, name!)})
    }
  }
  return {
    storageClass: {name: input.storageClass, action: existing ? 'exists' : 'create', manifest: scManifest},
    blocker,
    items,
    warnings,
  }
}

export function storageClassManifest(
  input: Pick<ProvisionInput, 'storageClass' | 'reclaimPolicy' | 'toolVersion'>,
): V1StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: input.storageClass,
      labels: {[LABELS.managedBy]: 'pv-doctor'},
      annotations: {[ANNOTATIONS.version]: input.toolVersion},
    },
    provisioner: NO_PROVISIONER,
    volumeBindingMode: 'WaitForFirstConsumer',
    reclaimPolicy: input.reclaimPolicy,
  }
}

function pvManifest(
  input: ProvisionInput,
  node: string,
  hostname: string,
  disk: DiskVerdict,
  name: string,
): V1PersistentVolume {
  const labels: Record<string, string> = {[LABELS.managedBy]: 'pv-doctor', [LABELS.diskHash]: name.slice(-10)}
  // Label values are at most 63 characters; the annotation always has the full name.
  if (/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(node)) labels[LABELS.node] = node
  const diskText = [disk.model, disk.serial && `serial ${disk.serial}`, disk.wwn && `wwn ${disk.wwn}`]
    .filter(Boolean)
    .join(', ')
  const annotations: Record<string, string> = {
    [ANNOTATIONS.node]: node,
    [ANNOTATIONS.diskId]: disk.id!,
    [ANNOTATIONS.kernelPath]: disk.path,
    [ANNOTATIONS.fingerprint]: disk.fingerprint,
    [ANNOTATIONS.version]: input.toolVersion,
  }
  if (diskText) annotations[ANNOTATIONS.disk] = diskText
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name, labels, annotations},
    spec: {
      capacity: {storage: capacityOf(disk.sizeBytes)},
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: input.reclaimPolicy,
      storageClassName: input.storageClass,
      volumeMode: input.volumeMode,
      local: input.volumeMode === 'Filesystem' ? {path: disk.id!, fsType: input.fsType} : {path: disk.id!},
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{matchExpressions: [{key: HOSTNAME_LABEL, operator: 'In', values: [hostname]}]}],
        },
      },
    },
  }
}

/** The exact size, readable when it is whole GiB or MiB (disks rarely are: then plain bytes). */
export function capacityOf(bytes: number): string {
  if (bytes > 0 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}Gi`
  if (bytes > 0 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}Mi`
  return String(bytes)
}

export interface RecheckResult {
  ok: PlanItem[]
  refused: {item: PlanItem; why: string}[]
}

/**
 * Keeps only the planned disks that a fresh probe still finds with the same fingerprint and
 * still eligible; anything else changed between plan and write and is refused.
 */
export function recheckPlan(
  items: readonly PlanItem[],
  fresh: ReadonlyMap<string, {error: string | null; disks: readonly DiskVerdict[]}>,
): RecheckResult {
  const out: RecheckResult = {ok: [], refused: []}
  for (const item of items) {
    if (item.action !== 'create') continue
    const node = fresh.get(item.node)
    if (!node || node.error) {
      out.refused.push({item, why: `could not probe ${item.node} again${node?.error ? `: ${node.error}` : ''}`})
      continue
    }
    const now = node.disks.find((d) => d.id === item.disk.id)
    if (!now) out.refused.push({item, why: `${item.disk.id} is no longer on ${item.node}`})
    else if (now.fingerprint !== item.disk.fingerprint)
      out.refused.push({item, why: `${item.disk.id} changed since it was probed (${describeChange(item.disk, now)})`})
    else if (!now.eligible)
      out.refused.push({item, why: `${item.disk.id} is no longer eligible: ${now.reasons.join(', ')}`})
    else out.ok.push(item)
  }
  return out
}

function describeChange(before: DiskVerdict, after: DiskVerdict): string {
  const diffs: string[] = []
  const list = (xs: readonly string[]) => (xs.length ? xs.join(',') : 'none')
  if (before.sizeBytes !== after.sizeBytes) diffs.push(`size ${before.sizeBytes} → ${after.sizeBytes}`)
  if (list(before.signatures) !== list(after.signatures))
    diffs.push(`signatures ${list(before.signatures)} → ${list(after.signatures)}`)
  if (list(before.partitions) !== list(after.partitions))
    diffs.push(`partitions ${list(before.partitions)} → ${list(after.partitions)}`)
  if (list(before.holders) !== list(after.holders))
    diffs.push(`holders ${list(before.holders)} → ${list(after.holders)}`)
  if (list(before.mountpoints) !== list(after.mountpoints))
    diffs.push(`mounts ${list(before.mountpoints)} → ${list(after.mountpoints)}`)
  const remnants = (d: DiskVerdict) => list(d.remnants.map((r) => `${r.type}@${r.offset}`))
  if (remnants(before) !== remnants(after)) diffs.push(`remnants ${remnants(before)} → ${remnants(after)}`)
  if ((before.backupPartitionTable === null) !== (after.backupPartitionTable === null))
    diffs.push(
      `backup partition table ${before.backupPartitionTable ? 'yes' : 'none'} → ${after.backupPartitionTable ? 'yes' : 'none'}`,
    )
  const busy = (d: DiskVerdict) => (d.busy === null ? 'unchecked' : d.busy ? 'yes' : 'no')
  if (busy(before) !== busy(after)) diffs.push(`busy ${busy(before)} → ${busy(after)}`)
  if (before.serial !== after.serial) diffs.push(`serial ${before.serial ?? 'none'} → ${after.serial ?? 'none'}`)
  return diffs.join('; ') || `fingerprint ${before.fingerprint} → ${after.fingerprint}`
}
