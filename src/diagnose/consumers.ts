/**
 * The scheduler's view of a consumer pod: PreFilter (VolumeBinding's claim checks), then per
 * node the filters before VolumeBinding, then VolumeBinding itself.
 */
import type {V1Node, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {claimKey} from '../binding/matchVolume.js'
import {type ClaimOnNode, isClaimBound, nonVolumeReason, REASON, volumeBindingOnNode} from '../binding/scheduling.js'
import {isDelayBinding} from '../binding/storageClass.js'
import type {NodeVerdict} from './types.js'
import {podClaimNames, type World} from './world.js'

export interface PodAnalysis {
  pod: V1Pod
  /** A PreFilter rejection: the pod cannot be scheduled anywhere, with upstream's text. */
  preFilter?: string
  nodes: NodeVerdict[]
  /** Nodes that pass the non-volume filters. */
  feasible: V1Node[]
  /** Feasible nodes where VolumeBinding passes too. */
  fits: V1Node[]
  /** Per claim key, what VolumeBinding decided on each feasible node. */
  claimOutcomes: Map<string, {node: string; outcome: ClaimOnNode}[]>
  summary: string
  error?: string
}

export function isTerminated(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
}

export function podClaims(pod: V1Pod, w: World): {name: string; ephemeral: boolean; pvc?: V1PersistentVolumeClaim}[] {
  const ns = pod.metadata?.namespace ?? 'default'
  return podClaimNames(pod).map((c) => ({...c, pvc: w.claims.get(`${ns}/${c.name}`)}))
}

export function analysePod(pod: V1Pod, w: World): PodAnalysis {
  const claims = podClaims(pod, w)
  const bound: V1PersistentVolumeClaim[] = []
  const delayed: V1PersistentVolumeClaim[] = []
  let preFilter: string | undefined
  for (const c of claims) {
    const pvc = c.pvc
    if (!pvc) {
      preFilter ??= c.ephemeral
        ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${c.name}"`
        : `persistentvolumeclaim "${c.name}" not found`
      continue
    }
    if (pvc.status?.phase === 'Lost') preFilter ??= `persistentvolumeclaim "${c.name}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ''}"`
    else if (pvc.metadata?.deletionTimestamp) preFilter ??= `persistentvolumeclaim "${c.name}" is being deleted`
    else if (isClaimBound(pvc)) bound.push(pvc)
    else if (!pvc.spec?.volumeName && isDelayBinding(pvc, w.classes)) delayed.push(pvc)
    else preFilter ??= REASON.unboundImmediate
  }
  const total = w.nodes.length
  const result: PodAnalysis = {pod, preFilter, nodes: [], feasible: [], fits: [], claimOutcomes: new Map(), summary: ''}
  if (preFilter) {
    result.summary = `0/${total} nodes are available: ${preFilter}.`
    return result
  }
  const histogram = new Map<string, number>()
  for (const node of w.nodes) {
    const r = nonVolumeReason(pod, node)
    if (r) {
      result.nodes.push({name: node.metadata?.name ?? '', reasons: [r]})
      histogram.set(r, (histogram.get(r) ?? 0) + 1)
      continue
    }
    result.feasible.push(node)
    const v = volumeBindingOnNode(node, bound, delayed, w)
    for (const [key, outcome] of v.claims) {
      const l = result.claimOutcomes.get(key) ?? []
      l.push({node: node.metadata?.name ?? '', outcome})
      result.claimOutcomes.set(key, l)
    }
    if (v.error) result.error ??= `running "VolumeBinding" filter plugin: ${v.error}`
    result.nodes.push({name: node.metadata?.name ?? '', reasons: v.error ? [v.error] : v.reasons})
    if (!v.error && v.reasons.length === 0) result.fits.push(node)
    for (const r of v.reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1)
  }
  result.summary = fitSummary(total, result.fits.length, histogram)
  return result
}

/** FitError's format: counts sorted as strings, joined by ", ". */
export function fitSummary(total: number, fits: number, histogram: Map<string, number>): string {
  if (fits > 0) return `${fits}/${total} nodes are available.`
  if (total === 0) return '0/0 nodes are available: no nodes in the snapshot.'
  const parts = [...histogram].map(([r, n]) => `${n} ${r}`).sort()
  return `0/${total} nodes are available: ${parts.join(', ')}.`
}

/** The claim key of a pod's claim, for looking up its outcomes. */
export {claimKey}
