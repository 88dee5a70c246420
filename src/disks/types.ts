/**
 * The probe report (what scripts/probe.sh prints on a node) and what pv-doctor concludes from it.
 * Plain data: the probe report is the contract between the node and the CLI, documented in
 * docs/disks.md.
 */

export const PROBE_API_VERSION = 'pv-doctor/v1'

export interface Signature {
  /** libblkid's name: ext4, xfs, swap, gpt, dos, PMBR, LVM2_member, linux_raid_member, zfs_member, crypto_LUKS, ceph_bluestore… */
  type: string
  /** Where on the device it was found (wipefs), null when the probe only knows the type (blkid). */
  offset: string | null
}

/** A signature found past the start of a disk, at an old partition start: what `wipefs -a` or zeroing the first MiB left behind. */
export interface Remnant {
  /** libblkid's name (blkid -p -O <offset>), or `ambivalent` when libblkid found several. */
  type: string
  /** Byte offset on the disk, decimal, as `blkid -p -O` takes it. */
  offset: string
}

/** A GPT header in the last LBA while LBA 1 holds none: the primary table was zeroed or damaged, the backup still lists partitions. */
export interface BackupPartitionTable {
  /** Byte offset of the backup header, decimal. */
  offset: string
  /** Partitions its entries list. */
  partitions: number
}

/** One block device as the probe saw it: a disk, a partition, or a virtual device. */
export interface ProbeDevice {
  name: string
  /** Kernel path, /dev/<name>. */
  path: string
  majMin: string
  /** disk, part, loop, rom, dm, mpath, lvm, crypt, md or raidN. */
  type: string
  /** The whole disk of a partition, else null. */
  parent: string | null
  sizeBytes: number
  rotational: boolean
  removable: boolean
  readOnly: boolean
  hidden: boolean
  wwn: string | null
  serial: string | null
  model: string | null
  vendor: string | null
  /** Every udev link to it: /dev/disk/by-id/…, /dev/disk/by-path/…, /dev/mapper/…, sorted. */
  links: string[]
  /** Names of its kernel partitions. */
  partitions: string[]
  /** Names of the devices built on it (dm, md, bcache…), from /sys/class/block/X/holders. */
  holders: string[]
  /** Names of the devices it is built on (for dm and md). */
  slaves: string[]
  /** Where it is mounted in the host's mount table (bind mounts included). */
  mountpoints: string[]
  swap: boolean
  /** Every signature found by reading the device. */
  signatures: Signature[]
  /** Why the device could not be read; its signatures are then unknown. */
  probeError: string | null
  /** The kernel refused an O_RDONLY|O_EXCL open (EBUSY): something holds it. null when not checked (partitions, empty devices, probeVersion 1). */
  busy: boolean | null
  /** Signatures at old partition starts of a disk that otherwise shows at most a partition table (probeVersion 2). */
  remnants: Remnant[]
  backupPartitionTable: BackupPartitionTable | null
  backingFile?: string | null
  dmName?: string | null
  dmUuid?: string | null
}

export interface ProbeReport {
  apiVersion: typeof PROBE_API_VERSION
  kind: 'ProbeReport'
  probeVersion: number
  node: string
  time: string | null
  kernel: string | null
  /** Whether /run/udev/data existed (informational: the probe never relies on it). */
  udev: boolean
  /** False when /proc/1/mountinfo could not be read: no disk can then be shown to be unmounted. */
  mountTableReadable: boolean
  swaps: string[]
  /** Which of the deeper checks the probe could make (probeVersion 1 made neither). */
  checks: ProbeChecks
  devices: ProbeDevice[]
}

export interface ProbeChecks {
  /** Signatures at old partition starts and the backup GPT (needs blkid, dd, od). */
  remnants: boolean
  /** The exclusive-open test (needs perl). */
  exclusiveOpen: boolean
}

/**
 * Why a disk is not offered. Stable codes, documented in docs/disks.md; `has-signature:<type>`
 * carries libblkid's type name.
 */
export type ReasonCode =
  | 'mounted'
  | 'swap'
  | 'partitioned'
  | 'has-holders'
  | 'busy'
  | `has-signature:${string}`
  | `remnant-signature:${string}@${string}`
  | 'backup-partition-table'
  | 'read-only'
  | 'hidden'
  | 'removable'
  | 'rom'
  | 'virtual'
  | 'too-small'
  | 'system-disk'
  | 'no-stable-id'
  | 'in-use-by-pv'
  | 'unreadable'

/** One whole device and the verdict on it. */
export interface DiskVerdict {
  node: string
  name: string
  /** Kernel path (/dev/nvme0n1): changes across reboots, never used in a PV. */
  path: string
  /** The path a PV would use: the preferred /dev/disk/by-id link, or the kernel path of an admitted virtual disk; null when it has none. */
  id: string | null
  /** Every /dev/disk/by-id link. */
  ids: string[]
  type: string
  sizeBytes: number
  rotational: boolean
  model: string | null
  serial: string | null
  wwn: string | null
  signatures: string[]
  mountpoints: string[]
  partitions: string[]
  holders: string[]
  /** Signatures found at old partition starts. */
  remnants: Remnant[]
  backupPartitionTable: BackupPartitionTable | null
  /** The kernel holds it exclusively (null: not checked). */
  busy: boolean | null
  eligible: boolean
  reasons: ReasonCode[]
  /** PVs that already point at this disk (by any of its paths). */
  usedBy: string[]
  /** Hash of the probed state; provision refuses a disk whose fingerprint changed since the plan. */
  fingerprint: string
  probeError: string | null
}

export interface NodeDisks {
  name: string
  /** Why this node could not be probed (probe pod did not start, unreadable report…), else null. */
  error: string | null
  disks: DiskVerdict[]
}

/** `disks -o json`. */
export interface DiskReport {
  apiVersion: 'pv-doctor/v1'
  kind: 'DiskReport'
  nodes: NodeDisks[]
}
