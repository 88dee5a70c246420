/** The engine's entry point: a snapshot in, one diagnosis per claim out. No I/O. */
import type {V1LabelSelector, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {labelSelectorMatches} from '../binding/selectors.js'
import {UserError} from '../errors.js'
import type {Snapshot} from '../snapshot/types.js'
import {diagnoseClaim, isHealthyBound} from './diagnoseClaim.js'
import {diagnosePv} from './diagnosePv.js'
import type {ClaimDiagnosis, Diagnosis, VolumeDiagnosis, WorkloadDiagnosis} from './types.js'
import {diagnosePodWorkload} from './podWorkload.js'
import {diagnoseStatefulSet} from './workload.js'
import {buildWorld, podClaimNames, type World} from '../binding/world.js'

export interface Target {
  /** volume: a PersistentVolume (cluster-scoped: namespace is ignored). */
  kind: 'claim' | 'pod' | 'statefulset' | 'deployment' | 'replicaset' | 'volume'
  namespace: string
  name: string
}

export interface DiagnoseOptions {
  /** Claims or pods named on the command line; empty = every claim in scope. */
  targets: Target[]
  /** undefined = all namespaces */
  namespace?: string
  /** Include healthy (ok) claims when no target is named. */
  all: boolean
  labelSelector?: Record<string, string> | V1LabelSelector
  /** Also follow every pending pod whose claims are all Bound through attach and mount (--pods). */
  pods?: boolean
}

export function diagnose(snapshot: Snapshot, opts: DiagnoseOptions, world: World = buildWorld(snapshot)): Diagnosis {
  const claims: ClaimDiagnosis[] = []
  const workloads: WorkloadDiagnosis[] = []
  const volumes: VolumeDiagnosis[] = []
  if (opts.targets.length) {
    for (const t of opts.targets) {
      if (t.kind === 'volume') {
        const pv = world.index.byName.get(t.name)
        if (!pv) {
          const why = snapshot.skipped.find((x) => x.resource === 'persistentvolumes')
          throw new UserError(
            why
              ? `cannot read persistentvolumes (${why.reason}); ask for the read access in docs/rbac.yaml, or give a file that holds the PV`
              : `persistentvolume "${t.name}" not found; list them with kubectl get pv`,
          )
        }
        volumes.push(diagnosePv(pv, world))
      } else if (t.kind === 'statefulset') {
        const set = snapshot.statefulSets.find(
          (x) => x.metadata?.name === t.name && (x.metadata?.namespace ?? 'default') === t.namespace,
        )
        if (!set) {
          const why = snapshot.skipped.find((x) => x.resource === 'statefulsets')
          throw new UserError(
            why
              ? `cannot read statefulsets (${why.reason}); ask for the read access in docs/rbac.yaml, or give a file that holds the StatefulSet`
              : `statefulset "${t.name}" not found in namespace "${t.namespace}"; list them with kubectl get sts -n ${t.namespace}`,
          )
        }
        const r = diagnoseStatefulSet(set, world)
        workloads.push(r.workload)
        claims.push(...r.claims)
      } else if (t.kind === 'deployment' || t.kind === 'replicaset') {
        const [kind, resource, list, short] =
          t.kind === 'deployment'
            ? (['Deployment', 'deployments', snapshot.deployments, 'deploy'] as const)
            : (['ReplicaSet', 'replicasets', snapshot.replicaSets, 'rs'] as const)
        const obj = (list as readonly {metadata?: {name?: string; namespace?: string}}[]).find(
          (x) => x.metadata?.name === t.name && (x.metadata?.namespace ?? 'default') === t.namespace,
        )
        if (!obj) {
          const why = snapshot.skipped.find((x) => x.resource === resource)
          throw new UserError(
            why
              ? `cannot read ${resource} (${why.reason}); ask for the read access in docs/rbac.yaml, or give a file that holds the ${kind}`
              : `${t.kind} "${t.name}" not found in namespace "${t.namespace}"; list them with kubectl get ${short} -n ${t.namespace}`,
          )
        }
        const r = diagnosePodWorkload(obj as never, kind, world)
        workloads.push(r.workload)
        claims.push(...r.claims)
      } else if (t.kind === 'claim') {
        const pvc = world.claims.get(`${t.namespace}/${t.name}`)
        if (!pvc)
          throw new UserError(
            `persistentvolumeclaim "${t.name}" not found in namespace "${t.namespace}"; list them with kubectl get pvc -n ${t.namespace}`,
          )
        claims.push(diagnoseClaim(pvc, world))
      } else {
        const pod = world.pods.get(`${t.namespace}/${t.name}`)
        if (!pod) throw new UserError(`pod "${t.name}" not found in namespace "${t.namespace}"`)
        for (const c of podClaimNames(pod)) {
          const pvc = world.claims.get(`${t.namespace}/${c.name}`)
          if (pvc) claims.push(diagnoseClaim(pvc, world, pod))
        }
      }
    }
  } else for (const d of scanClaims(snapshot, opts, world)) claims.push(d)
  return {
    apiVersion: 'pv-doctor/v1',
    kind: 'Diagnosis',
    skipped: snapshot.skipped,
    ...(workloads.length ? {workloads} : {}),
    ...(volumes.length ? {volumes} : {}),
    claims,
  }
}

/**
 * A scan's diagnosis (no target named) with its claims diagnosed one at a time as they are read,
 * in report order: at 20,000 reported claims the whole list takes hundreds of MB, and a writer
 * can render each claim and let it go. `claims` can be read once; `diagnose` gives the same.
 */
export function diagnoseScan(
  snapshot: Snapshot,
  opts: Omit<DiagnoseOptions, 'targets'>,
  world: World = buildWorld(snapshot),
): Omit<Diagnosis, 'claims'> & {claims: Iterable<ClaimDiagnosis>} {
  return {
    apiVersion: 'pv-doctor/v1',
    kind: 'Diagnosis',
    skipped: snapshot.skipped,
    claims: scanClaims(snapshot, opts, world),
  }
}

/** The scan's claims in report order (namespace, name; then --pods' stuck pods), each diagnosed when reached. */
function* scanClaims(
  snapshot: Snapshot,
  opts: Omit<DiagnoseOptions, 'targets'>,
  world: World,
): Generator<ClaimDiagnosis> {
  // A Bound claim's diagnosis is ok: not reported unless --all asks for healthy ones too.
  const looked = selectClaims(snapshot.pvcs, opts).filter((pvc) => opts.all || !isHealthyBound(pvc, world))
  // Each diagnosis stands alone, so the claims can be sorted before they are diagnosed (a stable
  // sort, then dropping the ok ones, gives the order of sorting only the reported ones).
  const collator = new Intl.Collator()
  looked.sort(
    (a, b) =>
      collator.compare(a.metadata?.namespace ?? '', b.metadata?.namespace ?? '') ||
      collator.compare(a.metadata?.name ?? '', b.metadata?.name ?? ''),
  )
  for (const pvc of looked) {
    const d = diagnoseClaim(pvc, world)
    if (opts.all || d.severity !== 'ok') yield d
  }
  if (opts.pods) yield* stuckPods(snapshot, opts, world)
}

/** The claims a scan looks at: those of the namespace (all when undefined) that match the selector. */
export function selectClaims(
  pvcs: readonly V1PersistentVolumeClaim[],
  opts: Pick<DiagnoseOptions, 'namespace' | 'labelSelector'>,
): V1PersistentVolumeClaim[] {
  return pvcs.filter(
    (p) =>
      (opts.namespace === undefined || (p.metadata?.namespace ?? 'default') === opts.namespace) &&
      matchesSelector(p, opts.labelSelector),
  )
}

function matchesSelector(pvc: V1PersistentVolumeClaim, sel: DiagnoseOptions['labelSelector']): boolean {
  if (!sel) return true
  const s = 'matchLabels' in sel || 'matchExpressions' in sel ? sel : {matchLabels: sel as Record<string, string>}
  return labelSelectorMatches(s as never, pvc.metadata?.labels) === true
}

/**
 * Pods waiting with every claim Bound (the claim scan calls those healthy): each claim followed
 * through the pod, reported when attach or mount stands in the way (or always with --all).
 */
function stuckPods(snapshot: Snapshot, opts: Omit<DiagnoseOptions, 'targets'>, world: World): ClaimDiagnosis[] {
  const out: {pod: V1Pod; d: ClaimDiagnosis}[] = []
  for (const pod of snapshot.pods) {
    const ns = pod.metadata?.namespace ?? 'default'
    if (opts.namespace !== undefined && ns !== opts.namespace) continue
    if ((pod.status?.phase ?? 'Pending') !== 'Pending') continue
    const pvcs = podClaimNames(pod).map((c) => world.claims.get(`${ns}/${c.name}`))
    if (pvcs.length === 0 || pvcs.some((p) => !p || !isHealthyBound(p, world))) continue
    for (const pvc of pvcs) {
      if (!matchesSelector(pvc!, opts.labelSelector)) continue
      const d = diagnoseClaim(pvc!, world, pod)
      if (opts.all || d.severity !== 'ok') out.push({pod, d})
    }
  }
  const collator = new Intl.Collator()
  out.sort(
    (a, b) =>
      collator.compare(a.d.namespace, b.d.namespace) ||
      collator.compare(a.pod.metadata?.name ?? '', b.pod.metadata?.name ?? '') ||
      collator.compare(a.d.name, b.d.name),
  )
  return out.map((x) => x.d)
}
