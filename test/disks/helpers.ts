/** Fixture loading for the disk tests. */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {V1Node, V1PersistentVolume} from '@kubernetes/client-node'
import {parseProbeReport} from '../../src/disks/parseProbeReport.js'
import type {DiskVerdict, ProbeReport} from '../../src/disks/types.js'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

export function fixture(name: string): ProbeReport {
  return parseProbeReport(readFileSync(join(FIXTURES, name), 'utf8'), name)
}

export function byName(verdicts: readonly DiskVerdict[]): Record<string, DiskVerdict> {
  return Object.fromEntries(verdicts.map((v) => [v.name, v]))
}

/** A Node; hostname null = without the kubernetes.io/hostname label. */
export function node(name: string, hostname: string | null = name): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {name, labels: hostname === null ? {} : {'kubernetes.io/hostname': hostname}},
  }
}

export function localPV(name: string, path: string, hosts?: string[]): V1PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name},
    spec: {
      capacity: {storage: '1Ti'},
      accessModes: ['ReadWriteOnce'],
      local: {path},
      nodeAffinity: hosts
        ? {
            required: {
              nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: hosts}]}],
            },
          }
        : undefined,
    },
  }
}
