/** Fixture loading for the disk tests. */
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseProbeReport} from '../../src/disks/parseProbeReport.js'
import type {DiskVerdict, ProbeReport} from '../../src/disks/types.js'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

/**
 * The recorded machines were probed by probe version 1, before the remnant scan and the
 * exclusive-open check. The tests read them as if the current probe had run both and found
 * nothing; `recorded` gives the report exactly as it was saved.
 */
export function asCurrentProbe<T extends {devices: Record<string, unknown>[]}>(raw: T): T {
  return {
    ...raw,
    probeVersion: 2,
    checks: {remnants: true, exclusiveOpen: true},
    devices: raw.devices.map((d) => ({
      ...d,
      busy: d.parent === null && d.type !== 'part' && d.sizeBytes !== 0 ? false : null,
      remnants: [],
      backupPartitionTable: null,
    })),
  }
}

export function recorded(name: string): ProbeReport {
  return parseProbeReport(readFileSync(join(FIXTURES, name), 'utf8'), name)
}

export function fixture(name: string): ProbeReport {
  return parseProbeReport(JSON.stringify(asCurrentProbe(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')))), name)
}

/** A fixture as the current probe would print it, written to dir; returns its path. */
export function fixtureFile(name: string, dir: string): string {
  const out = join(dir, name)
  writeFileSync(out, JSON.stringify(asCurrentProbe(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'))), null, 1))
  return out
}

export function byName(verdicts: readonly DiskVerdict[]): Record<string, DiskVerdict> {
  return Object.fromEntries(verdicts.map((v) => [v.name, v]))
}
