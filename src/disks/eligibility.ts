/**
 * Which disks may become local PVs, and every reason the others may not. A disk is offered only
 * when nothing shows it holds or serves anything: the rules are the union of what DirectPV, NDM,
 * LSO and LVMS check (docs/spec/prior-art.md §2e), each with a stable code. Pure.
 */
import type {V1PersistentVolume} from '@kubernetes/client-node'
import {fingerprint} from './fingerprint.js'
import {byIdLinks, preferredId} from './identity.js'
import type {DiskVerdict, ProbeDevice, ProbeReport, ReasonCode} from './types.js'

export const DEFAULT_MIN_SIZE_BYTES = 1024 ** 3

export interface AssessOptions {
  /** Admit loop/ram/zram/nbd/rbd/zd/dm/md devices (labs and tests), named by kernel path when they have no by-id link. */
  includeVirtual?: boolean
  minSizeBytes?: number
  /** Existing PVs: a disk any of them points at is `in-use-by-pv`. */
  pvs?: readonly V1PersistentVolume[]
  /** The node's kubernetes.io/hostname label, to tell which PVs are on this node (defaults to the report's node name). */
  hostname?: string
}

/**
 * A mount at one of these, or at a directory above one, makes the disk a system disk: the OS,
 * the kubelet's and the container runtimes' state, etcd.
 */
export const SYSTEM_ROOTS = [
  '/',
  '/boot',
  '/usr',
  '/var/lib/kubelet',
  '/var/lib/containerd',
  '/var/lib/docker',
  '/var/lib/containers',
  '/var/lib/rancher',
  '/var/lib/k0s',
  '/var/lib/etcd',
  '/run/containerd',
  '/run/k3s',
]

export function isSystemMount(mountpoint: string): boolean {
  const mp = mountpoint.replace(/\/+$/, '') || '/'
  if (mp === '/' || mp === '/boot' || mp.startsWith('/boot/')) return true
  return SYSTEM_ROOTS.some((root) => root === mp || root.startsWith(`${mp}/`))
}

const VIRTUAL_TYPES = new Set(['loop', 'dm', 'mpath', 'lvm', 'crypt', 'md'])
const VIRTUAL_NAME = /^(loop|ram|zram|nbd|rbd|zd|dm-|md)\d/

export function isVirtual(dev: ProbeDevice): boolean {
  return VIRTUAL_TYPES.has(dev.type) || /^raid|^linear$/.test(dev.type) || VIRTUAL_NAME.test(dev.name)
}

/** Whole devices: what a PV can be made of. Partitions are never offered. */
export function wholeDevices(report: ProbeReport): ProbeDevice[] {
  return report.devices.filter((d) => d.parent === null && d.type !== 'part')
}

/** The device plus everything built on it: its partitions and, recursively, their holders. */
export function descendants(dev: ProbeDevice, byName: ReadonlyMap<string, ProbeDevice>): ProbeDevice[] {
  const seen = new Set<string>([dev.name])
  const out: ProbeDevice[] = []
  const queue = [...dev.partitions, ...dev.holders]
  while (queue.length > 0) {
    const name = queue.shift()!
    if (seen.has(name)) continue
    seen.add(name)
    const d = byName.get(name)
    if (!d) continue
    out.push(d)
    queue.push(...d.partitions, ...d.holders)
  }
  return out
}

export function assessDisks(report: ProbeReport, opts: AssessOptions = {}): DiskVerdict[] {
  const byName = new Map(report.devices.map((d) => [d.name, d]))
  const hostname = opts.hostname ?? report.node
  const pvPaths = pvPathsOnNode(opts.pvs ?? [], new Set([hostname, report.node]))
  return wholeDevices(report).map((dev) => assessDisk(dev, report, byName, pvPaths, opts))
}

export function eligibleDisks(verdicts: readonly DiskVerdict[]): DiskVerdict[] {
  return verdicts.filter((v) => v.eligible)
}

function assessDisk(
  dev: ProbeDevice,
  report: ProbeReport,
  byName: ReadonlyMap<string, ProbeDevice>,
  pvPaths: ReadonlyMap<string, string[]>,
  opts: AssessOptions,
): DiskVerdict {
  const below = descendants(dev, byName)
  const family = [dev, ...below]
  const mountpoints = [...new Set(family.flatMap((d) => d.mountpoints))].sort()
  const ids = byIdLinks(dev.links)
  const virtual = isVirtual(dev)
  const id = preferredId(ids) ?? (virtual && opts.includeVirtual ? dev.path : null)
  const paths = new Set(family.filter((d) => d === dev || d.type === 'part').flatMap((d) => [d.path, ...d.links]))
  const usedBy = [...new Set([...paths].flatMap((p) => pvPaths.get(p) ?? []))].sort()

  const reasons: ReasonCode[] = []
  if (mountpoints.length > 0) reasons.push('mounted')
  if (family.some((d) => d.swap)) reasons.push('swap')
  if (dev.partitions.length > 0) reasons.push('partitioned')
  if (dev.holders.length > 0) reasons.push('has-holders')
  if (heldUnexplained(dev, family)) reasons.push('busy')
  for (const type of new Set(dev.signatures.map((s) => s.type))) reasons.push(`has-signature:${type}`)
  for (const r of dev.remnants) reasons.push(`remnant-signature:${r.type}@${r.offset}`)
  if (dev.backupPartitionTable) reasons.push('backup-partition-table')
  if (dev.readOnly) reasons.push('read-only')
  if (dev.hidden) reasons.push('hidden')
  if (dev.removable) reasons.push('removable')
  if (dev.type === 'rom') reasons.push('rom')
  if (virtual && !opts.includeVirtual) reasons.push('virtual')
  if (dev.sizeBytes < (opts.minSizeBytes ?? DEFAULT_MIN_SIZE_BYTES)) reasons.push('too-small')
  if (mountpoints.some(isSystemMount)) reasons.push('system-disk')
  if (id === null) reasons.push('no-stable-id')
  if (usedBy.length > 0) reasons.push('in-use-by-pv')
  // Without the device's contents, the mount table or the deeper checks, "no reason found" proves nothing.
  const unchecked = uncheckedReason(report)
  if (dev.probeError !== null || !report.mountTableReadable || unchecked !== null) reasons.push('unreadable')

  return {
    node: report.node,
    name: dev.name,
    path: dev.path,
    id,
    ids,
    type: dev.type,
    sizeBytes: dev.sizeBytes,
    rotational: dev.rotational,
    model: dev.model,
    serial: dev.serial,
    wwn: dev.wwn,
    signatures: [...new Set(dev.signatures.map((s) => s.type))],
    mountpoints,
    partitions: dev.partitions,
    holders: dev.holders,
    remnants: dev.remnants,
    backupPartitionTable: dev.backupPartitionTable,
    busy: dev.busy,
    eligible: reasons.length === 0,
    reasons,
    usedBy,
    fingerprint: fingerprint(dev, mountpoints),
    probeError:
      dev.probeError ??
      (report.mountTableReadable ? null : 'the host mount table (/proc/1/mountinfo) could not be read') ??
      unchecked,
  }
}

/**
 * The kernel refused an exclusive open and nothing the probe names explains it (a mount, swap or
 * holder on the disk or anything built on it is reported under its own code). LSO refuses such
 * devices the same way (prior-art §2d).
 */
function heldUnexplained(dev: ProbeDevice, family: readonly ProbeDevice[]): boolean {
  if (dev.busy !== true) return false
  return !family.some((d) => d.mountpoints.length > 0 || d.swap || d.holders.length > 0)
}

/** Why the probe could not make the checks that find remnants and exclusive holders, or null. */
export function uncheckedReason(report: ProbeReport): string | null {
  if (report.probeVersion < 2)
    return `the report was made by probe version ${report.probeVersion}, which does not look for remnants of old partitions or for exclusive holders; run the current probe again`
  const missing = [
    !report.checks.remnants && 'remnants of old partitions (needs blkid, dd and od)',
    !report.checks.exclusiveOpen && 'exclusive holders (needs perl)',
  ].filter(Boolean)
  return missing.length ? `the probe could not look for ${missing.join(' or ')}; use an image that has them` : null
}

/**
 * path → PV names, for PVs that could be on this node: pinned to it by kubernetes.io/hostname, or
 * not pinned to a hostname at all (then we cannot rule this node out, so we count it).
 */
function pvPathsOnNode(pvs: readonly V1PersistentVolume[], hostnames: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const pv of pvs) {
    const path = pv.spec?.local?.path ?? pv.spec?.hostPath?.path
    if (!path) continue
    const pinned = hostnameValues(pv)
    if (pinned.length > 0 && !pinned.some((h) => hostnames.has(h))) continue
    const name = pv.metadata?.name ?? '?'
    const norm = path.replace(/\/+$/, '')
    out.set(norm, [...(out.get(norm) ?? []), name])
  }
  return out
}

function hostnameValues(pv: V1PersistentVolume): string[] {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []
  const values: string[] = []
  for (const term of terms) {
    const exprs = term.matchExpressions ?? []
    const host = exprs.find((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In')
    // A term that does not name hostnames could match any node.
    if (!host) return []
    values.push(...(host.values ?? []))
  }
  return values
}
