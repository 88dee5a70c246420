/**
 * A hash of everything that would make a disk unsafe to hand out if it changed between the plan
 * and the write (DirectPV's "device state changed" idea): size, identity, every signature (at the
 * start and at old partition starts), a backup GPT, partitions, holders, exclusive use, mounts,
 * swap, read-only.
 */
import {createHash} from 'node:crypto'
import type {ProbeDevice} from './types.js'

export function fingerprint(dev: ProbeDevice, mountpoints: readonly string[]): string {
  const sorted = (xs: readonly string[]) => [...xs].sort()
  const state = {
    sizeBytes: dev.sizeBytes,
    serial: dev.serial,
    wwn: dev.wwn,
    model: dev.model,
    ids: sorted(dev.links.filter((l) => l.startsWith('/dev/disk/by-id/'))),
    signatures: sorted(dev.signatures.map((s) => `${s.type}@${s.offset ?? ''}`)),
    partitions: sorted(dev.partitions),
    holders: sorted(dev.holders),
    mountpoints: sorted(mountpoints),
    swap: dev.swap,
    readOnly: dev.readOnly,
    probeError: dev.probeError,
    remnants: sorted(dev.remnants.map((r) => `${r.type}@${r.offset}`)),
    backupPartitionTable: dev.backupPartitionTable?.offset ?? null,
    busy: dev.busy,
  }
  return `sha256:${createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 32)}`
}
