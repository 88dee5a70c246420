/**
 * A pod pinned the way the DaemonSet controller pins its pods (matchFields metadata.name In
 * [one node]) whose WaitForFirstConsumer claim's only local PV is on another node: the
 * scheduler's NodeAffinity PreFilter leaves every other node out, so FailedScheduling counts
 * them by the framework's absent-nodes status. Used on the suite's cluster and on each minor's.
 */
import type {Kube, Obj} from './kube.js'
import {type ClaimOut, podObj, pvcObj, pvObj, type Scenarios, scObj, usableNodes} from './scenario.js'

export interface PinnedByName {
  /** The pod's PodScheduled=False message (the FailedScheduling text). */
  condition: string
  /** Nodes in the cluster. */
  total: number
  /** pv-doctor's live verdict on the claim. */
  claim: ClaimOut
}

export async function pinnedByName(scenarios: Scenarios, kube: Kube): Promise<PinnedByName> {
  const s = await scenarios.create('pinned')
  const [withPV, pinnedTo] = await usableNodes(kube)
  const cls = s.n('local')
  for (const o of [
    scObj(cls, {wffc: true}),
    pvObj(s.n('pv-0'), {cls, hosts: [withPV.hostname]}),
    pvcObj('stuck', {cls}),
  ]) {
    await s.create(o)
    if (o.kind === 'PersistentVolume') await kube.waitPVPhase(o.metadata!.name!, ['Available'])
  }
  const pod = podObj('pinned', ['stuck'])
  ;(pod.spec as Record<string, unknown>).affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{matchFields: [{key: 'metadata.name', operator: 'In', values: [pinnedTo.name]}]}],
      },
    },
  }
  await s.create(pod)
  const condition = await kube.waitFor(
    async () =>
      (
        (await kube.get('Pod', 'pinned', s.ns)) as {status?: {conditions?: {type: string; message?: string}[]}}
      ).status?.conditions?.find((c) => c.type === 'PodScheduled')?.message,
    (m) => m.length > 0,
    30_000,
  )
  const total = (await kube.list<Obj>('Node')).length
  return {condition: condition ?? '', total, claim: s.explain(['stuck']).json!.claims[0]}
}
