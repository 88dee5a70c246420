/**
 * How a disk is named in a PV: a stable /dev/disk/by-id link (kernel names like /dev/sdb move
 * between boots — rook #14363, LSO #423), and a deterministic PV name from node + that link.
 */
import {createHash} from 'node:crypto'

const BY_ID = '/dev/disk/by-id/'

/**
 * Most stable first: world-wide names and NVMe EUI/NGUID/UUID are burnt into the device; model +
 * serial links come next; names chosen by an admin (dm-name-, md-name-) last.
 */
const PREFERENCE: RegExp[] = [
  /^wwn-/,
  /^nvme-eui\./,
  /^nvme-nguid\./,
  /^nvme-uuid\./,
  /^scsi-3/,
  /^dm-uuid-mpath-/,
  /^nvme-/,
  /^ata-/,
  /^scsi-/,
  /^virtio-/,
  /^usb-/,
  /^mmc-/,
  /^md-uuid-/,
  /^dm-uuid-/,
]
const LAST: RegExp[] = [/^dm-name-/, /^md-name-/, /^lvm-pv-uuid-/]

export function byIdLinks(links: readonly string[]): string[] {
  return links.filter((l) => l.startsWith(BY_ID)).sort()
}

function rank(link: string): number {
  const base = link.slice(BY_ID.length)
  const i = PREFERENCE.findIndex((re) => re.test(base))
  if (i >= 0) return i
  return LAST.some((re) => re.test(base)) ? PREFERENCE.length + 1 : PREFERENCE.length
}

/** The by-id link a PV should use, or null when the disk has none. */
export function preferredId(ids: readonly string[]): string | null {
  const sorted = byIdLinks(ids).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
  return sorted[0] ?? null
}

export function shortHash(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars)
}

/**
 * `local-<node>-<10 hex of sha256(node, disk id)>`: a DNS-1123 label of at most 63 characters,
 * the same for the same disk on every run (so re-running finds it), different for every disk.
 */
export function pvName(node: string, diskId: string): string {
  const hash = shortHash(`${node}\n${diskId}`, 10)
  const room = 63 - 'local-'.length - 1 - hash.length
  const nodePart = node
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '')
  return nodePart ? `local-${nodePart}-${hash}` : `local-${hash}`
}
