/**
 * The non-volume filters of one pod over every node, without evaluating every node: what
 * NodeUnschedulable and TaintToleration say depends only on a node's taint class, and only the
 * nodes the pod names (spec.nodeName) or may select (its nodeSelector and required affinity,
 * looked up in the label index) can pass NodeName and NodeAffinity. Those few nodes are
 * evaluated one by one (nonVolumeReason); every other node fails with its class's first
 * failing filter, so a pod pinned to one node costs one node plus one check per class.
 * When NodeAffinity's PreFilter names the nodes (matchFields `metadata.name In`), only those
 * run the filters and every other node gets the framework's status for nodes left out.
 */
import type {V1Node, V1Pod} from '@kubernetes/client-node'
import type {VersionRules} from './kubeVersion.js'
import {nodeIndexOf, type NodeIndex} from './nodeIndex.js'
import {nodeAffinityPreFilter, nonVolumeReason, REASON, taintReason, unschedulableReason} from './scheduling.js'

export interface NonVolumeVerdicts {
  /** Positions (in the node list) of the nodes that pass every non-volume filter, ascending. */
  feasible: number[]
  /** The first failing filter's reason at a position, or null. */
  reasonAt(i: number): string | null
  /** How many nodes each reason rejects (FitError's histogram, before VolumeBinding). */
  histogram: Map<string, number>
}

/** nonVolumeReason for every node of the list, by class (see the module comment). */
export function nonVolumeVerdicts(pod: V1Pod, nodes: readonly V1Node[], rules: VersionRules): NonVolumeVerdicts {
  const ix = nodeIndexOf(nodes)
  const names = nodeAffinityPreFilter(pod).nodeNames
  if (names) return narrowedVerdicts(pod, nodes, ix, names, rules)
  const hasNodeName = Boolean(pod.spec?.nodeName)
  const affinity = hasAffinity(pod)
  // The reason of a node outside `special`, per class: the filters it runs, in order, up to the
  // first that fails; outside `special`, NodeName (when set) and NodeAffinity (when constrained) fail.
  const classReason = ix.taintClasses.map(
    (c) =>
      unschedulableReason(pod, c.node) ??
      (hasNodeName ? REASON.nodeName : null) ??
      taintReason(pod, c.node, rules) ??
      (affinity ? REASON.nodeAffinity : null),
  )
  const special = specialNodes(pod, ix, hasNodeName, affinity)
  const specialReason = new Map<number, string | null>()
  for (const i of special) specialReason.set(i, nonVolumeReason(pod, nodes[i], rules))

  const histogram = new Map<string, number>()
  const add = (r: string | null, n: number) => {
    if (r !== null && n > 0) histogram.set(r, (histogram.get(r) ?? 0) + n)
  }
  const outside = ix.taintClasses.map((c) => c.size)
  for (const [i, r] of specialReason) {
    outside[ix.taintClassOf[i]]--
    add(r, 1)
  }
  for (let c = 0; c < classReason.length; c++) add(classReason[c], outside[c])

  let feasible: number[]
  if (!hasNodeName && !affinity) {
    // Every node is "outside": the pod may run wherever its class lets it.
    feasible = []
    for (let i = 0; i < nodes.length; i++) if (classReason[ix.taintClassOf[i]] === null) feasible.push(i)
  } else feasible = special.filter((i) => specialReason.get(i) === null)
  return {
    feasible,
    reasonAt: (i) => {
      const r = specialReason.get(i)
      return r !== undefined ? r : classReason[ix.taintClassOf[i]]
    },
    histogram,
  }
}

/**
 * schedule_one.go findNodesThatFitPod with a PreFilterResult: the filters run only on the nodes
 * it names that the snapshot has; the others get the absent-nodes status of the version
 * (VersionRules.preFilterAbsent), which FitError counts as all nodes minus those with a status.
 * NodeAffinity is the only in-tree plugin returning node names in 1.32–1.36 (VolumeBinding's
 * PreFilter returns none from 1.32.0, 1.31.3, 1.30.7: PR #125398).
 */
function narrowedVerdicts(
  pod: V1Pod,
  nodes: readonly V1Node[],
  ix: NodeIndex,
  names: ReadonlySet<string>,
  rules: VersionRules,
): NonVolumeVerdicts {
  const named = [...new Set([...names].flatMap((n) => ix.named(n)))].sort((a, b) => a - b)
  const reasonOf = new Map(named.map((i) => [i, nonVolumeReason(pod, nodes[i], rules)]))
  const absent = rules.preFilterAbsent.reason(['NodeAffinity'])
  const histogram = new Map<string, number>()
  for (const r of reasonOf.values()) if (r !== null) histogram.set(r, (histogram.get(r) ?? 0) + 1)
  if (rules.preFilterAbsent.counted && nodes.length > named.length)
    histogram.set(absent, (histogram.get(absent) ?? 0) + nodes.length - named.length)
  return {
    feasible: named.filter((i) => reasonOf.get(i) === null),
    reasonAt: (i) => {
      const r = reasonOf.get(i)
      return r !== undefined ? r : absent
    },
    histogram,
  }
}

/** Whether NodeAffinity's Filter constrains the pod at all (a nodeSelector or a required affinity). */
function hasAffinity(pod: V1Pod): boolean {
  return (
    Object.keys(pod.spec?.nodeSelector ?? {}).length > 0 ||
    Boolean(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution)
  )
}

/**
 * A superset, ascending, of the nodes that may pass NodeName and NodeAffinity: the nodes of
 * that name; else those the nodeSelector's narrowest label or the affinity's terms can match;
 * none when neither constrains the pod (then every node is decided by its class).
 */
function specialNodes(pod: V1Pod, ix: NodeIndex, hasNodeName: boolean, affinity: boolean): number[] {
  if (hasNodeName) return [...ix.named(pod.spec!.nodeName!)]
  if (!affinity) return []
  let best: readonly number[] | undefined
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    const l = ix.withLabel(k, v)
    if (!best || l.length < best.length) best = l
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
  if (required) {
    const l = ix.candidates(required.nodeSelectorTerms, true)
    if (l && (!best || l.length < best.length)) best = l
  }
  return best ? [...best] : allPositions(ix.nodes.length)
}

function allPositions(n: number): number[] {
  return Array.from({length: n}, (_, i) => i)
}
