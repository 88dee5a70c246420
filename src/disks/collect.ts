/**
 * Gets probe results for the nodes a command asked about, from pods, from this machine, or from
 * saved reports — the one piece of I/O `disks` and `provision` share. Talks to the cluster only
 * through the raw-JSON KubeClient it is given.
 */
import {hostname} from 'node:os'
import type {V1Node} from '@kubernetes/client-node'
import type {KubeClient} from '../kube/client.js'
import {statusCode} from '../kube/errors.js'
import {NODES, pathOf} from '../kube/paths.js'
import {UserError} from '../errors.js'
import type {ProbeResult} from './diskReport.js'
import {probeLocally, readProbeScript, readReportFiles} from './probeSources.js'
import {probeWithPods} from './probePods.js'

export type Source =
  | {kind: 'pods'; image: string; namespace: string}
  | {kind: 'local'}
  | {kind: 'files'; files: string[]}

export interface CollectOptions {
  source: Source
  /** --node names (empty = every node, or every report). */
  nodeNames: readonly string[]
  /** -l: only nodes with these labels (pods only). */
  nodeSelector?: string
  timeoutMs: number
  onProgress?: (done: number, total: number) => void
}

export interface Collected {
  results: ProbeResult[]
  /** Probe pods that could not be deleted. */
  leftovers: string[]
  interrupted: boolean
}

/** Node objects by name: those named, or those matching the selector, or all. */
export async function resolveNodes(client: KubeClient, names: readonly string[], selector?: string): Promise<V1Node[]> {
  if (names.length > 0 && selector) throw new UserError('give either --node or --selector, not both')
  if (names.length > 0) {
    const nodes = await Promise.all(
      names.map((n) =>
        client.request<V1Node>('GET', pathOf(NODES, {name: n})).catch((error: unknown) => {
          if (statusCode(error) === 404) throw new UserError(`node "${n}" not found; see \`kubectl get nodes\``)
          throw error
        }),
      ),
    )
    return nodes
  }
  const nodes = await client.list<V1Node>(pathOf(NODES), {labelSelector: selector})
  if (nodes.length === 0)
    throw new UserError(selector ? `no node matches the selector "${selector}"` : 'the cluster has no nodes')
  return nodes
}

export async function collect(client: KubeClient | undefined, opts: CollectOptions): Promise<Collected> {
  const src = opts.source
  if (src.kind === 'files') {
    let reports = readReportFiles(src.files)
    if (opts.nodeNames.length > 0) {
      const missing = opts.nodeNames.filter((n) => !reports.some((r) => r.node === n))
      if (missing.length > 0)
        throw new UserError(
          `no --from-report file is for node ${missing.join(', ')} (the reports are for ${reports.map((r) => r.node).join(', ')})`,
        )
      reports = reports.filter((r) => opts.nodeNames.includes(r.node))
    }
    return {results: reports.map((report) => ({node: report.node, report})), leftovers: [], interrupted: false}
  }
  if (src.kind === 'local') {
    if (opts.nodeNames.length > 1)
      throw new UserError('--local probes this machine only; give at most one --node (the name of this node)')
    const node = opts.nodeNames[0] ?? hostname()
    const report = await probeLocally(node, opts.timeoutMs)
    return {results: [{node, report}], leftovers: [], interrupted: false}
  }
  if (!client) throw new UserError('probing nodes needs a cluster; use --local or --from-report to work without one')
  const nodes = await resolveNodes(client, opts.nodeNames, opts.nodeSelector)
  const names = nodes.map((n) => n.metadata?.name ?? '').filter(Boolean)
  const outcome = await probeWithPods(client, {
    namespace: src.namespace,
    image: src.image,
    timeoutMs: opts.timeoutMs,
    script: readProbeScript(),
    nodes: names,
    onProgress: opts.onProgress,
  })
  return {results: outcome.results, leftovers: outcome.leftovers, interrupted: outcome.interrupted}
}
