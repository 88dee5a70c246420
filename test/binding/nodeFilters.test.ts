// The scheduler simulation by node class and label index (binding/nodeFilters.ts,
// binding/nodeIndex.ts) gives what evaluating every filter on every node gives: the same
// explain output, human (wide) and JSON, and the same verdict per pod and node, on generated
// clusters with pods pinned to single nodes in every way the filters read (hostname selector,
// affinity terms, matchFields, NotIn, nodeName, tolerations, cordoned and tainted nodes). Pods
// pinned by matchFields go through NodeAffinity's PreFilter first, in both.
import {Chalk} from 'chalk'
import {describe, expect, it, vi} from 'vitest'
import type {V1Node, V1Pod} from '@kubernetes/client-node'
import type {VersionRules} from '../../src/binding/kubeVersion.js'
// @ts-expect-error plain ESM module without types
import {addPinnedPods, generate} from '../bench/generate.mjs'

type Cluster = {nodes: V1Node[]; pods: V1Pod[]; [k: string]: unknown[]}

/** A small generated cluster, then every shape of node constraint the filters distinguish. */
function clusterText(seed: number): string {
  const c = addPinnedPods(generate({nodes: 60, pvs: 400, pvcs: 400, pods: 400}, seed), 30) as Cluster
  c.nodes.forEach((n, i) => {
    if (i % 9 === 4) n.spec!.taints = [...(n.spec!.taints ?? []), {key: 'maintenance', effect: 'NoExecute'}]
    if (i % 13 === 5) n.spec!.unschedulable = true
    if (i % 17 === 2) n.spec!.taints = [{key: 'spot', value: 'yes', effect: 'PreferNoSchedule'}]
  })
  const pinned = c.pods.filter((p) => p.metadata!.namespace!.startsWith('pinned-'))
  pinned.forEach((p, j) => {
    const spec = p.spec!
    const host =
      spec.nodeSelector?.['kubernetes.io/hostname'] ??
      spec.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]
        .matchExpressions![0].values![0]
    const other = c.nodes[(j * 7) % c.nodes.length].metadata!.name!
    const required = (terms: object[]) => {
      delete spec.nodeSelector
      spec.affinity = {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: terms}}}
    }
    if (j % 5 === 1) spec.tolerations!.push({key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule'})
    if (j % 6 === 2) spec.tolerations!.push({key: 'node.kubernetes.io/unschedulable', operator: 'Exists'})
    if (j % 7 === 3) spec.tolerations!.push({operator: 'Exists'})
    switch (j % 10) {
      case 1:
        required([
          {matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [host, other]}]},
          {matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-b']}]},
        ])
        break
      case 3:
        required([{matchFields: [{key: 'metadata.name', operator: 'In', values: [host]}]}])
        break
      case 5:
        required([{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'NotIn', values: [host]}]}])
        break
      case 6:
        spec.nodeSelector = {'kubernetes.io/hostname': host, 'topology.kubernetes.io/zone': 'zone-a'}
        break
      case 7:
        spec.nodeName = other
        break
      case 8:
        required(j % 20 === 8 ? [] : [{}])
        break
      case 9:
        required([
          {
            matchExpressions: [
              {key: 'disktype', operator: 'Exists'},
              {key: 'kubernetes.io/hostname', operator: 'In', values: []},
            ],
          },
          {matchExpressions: [{key: 'disktype', operator: 'In', values: ['nvme']}]},
        ])
        break
    }
  })
  const items = ['pvs', 'pvcs', 'storageClasses', 'nodes', 'pods', 'events', 'csiDrivers'].flatMap((k) => c[k])
  return JSON.stringify({apiVersion: 'v1', kind: 'List', items})
}

interface Outputs {
  human: string
  json: string
  pods: unknown[]
}

/** explain -A --all (wide and JSON) and every pod's analysis, with the modules as loaded now. */
async function outputs(text: string): Promise<Outputs> {
  const {parseSnapshot} = await import('../../src/snapshot/parseSnapshot.js')
  const {diagnose} = await import('../../src/diagnose/diagnose.js')
  const {renderDiagnosis} = await import('../../src/output/renderDiagnosis.js')
  const {serialize} = await import('../../src/output/serialize.js')
  const {buildWorld} = await import('../../src/binding/world.js')
  const {analysePod, claimOutcomeList, rejectedNodes} = await import('../../src/binding/consumers.js')
  const snapshot = parseSnapshot(text, 'generated')
  const d = diagnose(snapshot, {targets: [], all: true})
  const w = buildWorld(snapshot)
  const pods = snapshot.pods.map((p) => {
    const a = analysePod(p, w)
    return {
      summary: a.summary,
      preFilter: a.preFilter,
      error: a.error,
      nodes: a.nodes,
      firstRejected: rejectedNodes(a, 5),
      feasible: a.feasible.map((n) => n.metadata?.name),
      fits: a.fits.map((n) => n.metadata?.name),
      outcomes: [...a.claimOutcomes.keys()].map((k) => [k, claimOutcomeList(a, k)]),
    }
  })
  return {
    human: renderDiagnosis(d, new Chalk({level: 0}), {scopeLabel: 'in any namespace', wide: true, width: 200}),
    json: serialize(d, 'json'),
    pods,
  }
}

/** Every filter on every node, and no label index: what the simulation did before the classes. */
async function straightforward(text: string): Promise<Outputs> {
  vi.resetModules()
  vi.doMock('../../src/binding/nodeFilters.js', async () => {
    const {nodeAffinityPreFilter, nonVolumeReason} = await import('../../src/binding/scheduling.js')
    return {
      nonVolumeVerdicts: (pod: V1Pod, nodes: readonly V1Node[], rules: VersionRules) => {
        // findNodesThatFitPod: the nodes a PreFilterResult leaves out run no filter.
        const names = nodeAffinityPreFilter(pod).nodeNames
        const absent = rules.preFilterAbsent.reason(['NodeAffinity'])
        const reasons = nodes.map((n) =>
          names && !names.has(n.metadata?.name ?? '') ? absent : nonVolumeReason(pod, n, rules),
        )
        const histogram = new Map<string, number>()
        for (const r of reasons) if (r) histogram.set(r, (histogram.get(r) ?? 0) + 1)
        return {
          feasible: reasons.flatMap((r, i) => (r === null ? [i] : [])),
          reasonAt: (i: number) => reasons[i],
          histogram,
        }
      },
    }
  })
  vi.doMock('../../src/binding/nodeIndex.js', () => ({
    nodeIndexOf: () => ({candidates: () => undefined}),
  }))
  try {
    return await outputs(text)
  } finally {
    vi.doUnmock('../../src/binding/nodeFilters.js')
    vi.doUnmock('../../src/binding/nodeIndex.js')
    vi.resetModules()
  }
}

describe('scheduler simulation by node class', () => {
  for (const seed of [1, 7]) {
    it(`gives every node's verdict and the same explain output (seed ${seed})`, async () => {
      const text = clusterText(seed)
      const fast = await outputs(text)
      const slow = await straightforward(text)
      expect(fast.pods).toEqual(slow.pods)
      expect(fast.json).toBe(slow.json)
      expect(fast.human).toBe(slow.human)
      // The cluster exercises what it is meant to: pinned pods that fit, and ones that fail on
      // each non-volume filter (pods with spec.nodeName only in their own analysis: explain
      // reports their claims as bypassing the scheduler).
      const seen = fast.human + JSON.stringify(fast.pods)
      for (const want of [
        'fits on 1 node(s)',
        "didn't match Pod's node affinity/selector",
        "didn't match the requested node name",
        'untolerated taint',
        'were unschedulable',
        "didn't satisfy plugin(s) [NodeAffinity]",
      ])
        expect(seen).toContain(want)
    }, 60_000)
  }
})
