/** Fixture loading for the disk tests. */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseProbeReport} from '../../src/disks/parseProbeReport.js'
import type {DiskVerdict, ProbeReport} from '../../src/disks/types.js'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

export function fixture(name: string): ProbeReport {
  return parseProbeReport(readFileSync(join(FIXTURES, name), 'utf8'), name)
}

export function byName(verdicts: readonly DiskVerdict[]): Record<string, DiskVerdict> {
  return Object.fromEntries(verdicts.map((v) => [v.name, v]))
}
