/** Assembles the `disks` result (pv-doctor/v1 DiskReport) from probe results. Pure. */
import type {V1Node, V1PersistentVolume} from '@kubernetes/client-node'
import {assessDisks} from './eligibility.js'
import type {DiskReport, NodeDisks, ProbeReport} from './types.js'

export interface ProbeResult {
  node: string
  report?: ProbeReport
  error?: string
}

export interface ReportOptions {
  includeVirtual?: boolean
  minSizeBytes?: number
  pvs?: readonly V1PersistentVolume[]
  nodes?: ReadonlyMap<string, V1Node>
}

export function assessResults(results: readonly ProbeResult[], opts: ReportOptions = {}): NodeDisks[] {
  return results.map((r) => {
    if (!r.report) return {name: r.node, error: r.error ?? 'no probe report', disks: []}
    const hostname = opts.nodes?.get(r.node)?.metadata?.labels?.['kubernetes.io/hostname']
    const disks = assessDisks(r.report, {
      includeVirtual: opts.includeVirtual,
      minSizeBytes: opts.minSizeBytes,
      pvs: opts.pvs,
      hostname,
    })
    const error = r.report.mountTableReadable
      ? null
      : 'the host mount table (/proc/1/mountinfo) could not be read, so no disk can be shown to be unused; run the probe as root in the host PID namespace'
    return {name: r.node, error, disks}
  })
}

export function diskReport(nodes: NodeDisks[]): DiskReport {
  return {apiVersion: 'pv-doctor/v1', kind: 'DiskReport', nodes}
}
