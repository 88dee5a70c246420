/**
 * Names for completion, from the cluster the typed flags point at (--kubeconfig, --context, -n) and
 * from the kubeconfig. A TAB must never hang the shell nor print into it: every lookup is bounded by
 * the request timeout (5s unless --request-timeout was typed) and any failure is an empty list.
 */
import {readFileSync} from 'node:fs'
import yaml from 'js-yaml'
import {parseDuration} from '../base/duration.js'
import {connect, type KubeClient} from '../kube/client.js'
import {kubeconfigFiles} from '../kube/kubeconfig.js'
import {
  DEPLOYMENTS,
  NAMESPACES,
  NODES,
  PODS,
  PVCS,
  PVS,
  pathOf,
  REPLICA_SETS,
  STATEFUL_SETS,
  STORAGE_CLASSES,
} from '../kube/paths.js'
import type {Lookup, Scope, WorkloadKind} from './complete.js'

const DEFAULT_TIMEOUT_MS = 5000
const WORKLOADS = {statefulsets: STATEFUL_SETS, deployments: DEPLOYMENTS, replicasets: REPLICA_SETS} satisfies Record<
  WorkloadKind,
  unknown
>

interface Named {
  metadata?: {name?: string}
  status?: {phase?: string}
}

export function clusterLookup(): Lookup {
  let client: Promise<KubeClient> | undefined
  const timeoutOf = (s: Scope) => {
    try {
      return s.requestTimeout
        ? parseDuration(s.requestTimeout, '--request-timeout') || DEFAULT_TIMEOUT_MS
        : DEFAULT_TIMEOUT_MS
    } catch {
      return DEFAULT_TIMEOUT_MS
    }
  }
  const names = async (s: Scope, path: (c: KubeClient) => string): Promise<Named[]> => {
    const timeoutMs = timeoutOf(s)
    client ??= connect({kubeconfig: s.kubeconfig, context: s.context, timeoutMs})
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<Named[]>((resolve) => {
      timer = setTimeout(() => resolve([]), timeoutMs)
    })
    const work = (async () => {
      const c = await client!
      return c.list<Named>(path(c))
    })().catch(() => [] as Named[])
    try {
      return await Promise.race([work, deadline])
    } finally {
      clearTimeout(timer)
    }
  }
  const nameList = (items: Named[]) =>
    items
      .map((i) => i.metadata?.name ?? '')
      .filter(Boolean)
      .sort()

  return {
    async claims(s) {
      const items = await names(s, (c) => pathOf(PVCS, {namespace: s.namespace ?? c.namespace}))
      return items
        .filter((i) => i.metadata?.name)
        .map((i) => ({name: i.metadata!.name!, phase: i.status?.phase}))
        .sort((a, b) => a.name.localeCompare(b.name))
    },
    async pods(s) {
      return nameList(await names(s, (c) => pathOf(PODS, {namespace: s.namespace ?? c.namespace})))
    },
    async workloads(s, kind) {
      const r = WORKLOADS[kind]
      return nameList(await names(s, (c) => pathOf(r, {namespace: s.namespace ?? c.namespace})))
    },
    async volumes(s) {
      const items = await names(s, () => pathOf(PVS))
      return items
        .filter((i) => i.metadata?.name)
        .map((i) => ({name: i.metadata!.name!, phase: i.status?.phase}))
        .sort((a, b) => a.name.localeCompare(b.name))
    },
    async nodes(s) {
      return nameList(await names(s, () => pathOf(NODES)))
    },
    async storageClasses(s) {
      return nameList(await names(s, () => pathOf(STORAGE_CLASSES)))
    },
    async namespaces(s) {
      return nameList(await names(s, () => pathOf(NAMESPACES)))
    },
    async contexts(s) {
      return contextNames(s.kubeconfig)
    },
  }
}

/** Context names of the kubeconfig in effect, in file order (first file wins, as kubectl merges). */
export function contextNames(explicit?: string): string[] {
  const out: string[] = []
  try {
    for (const file of kubeconfigFiles(explicit)) {
      const doc = yaml.load(readFileSync(file, 'utf8')) as {contexts?: {name?: string}[]} | undefined
      for (const c of doc?.contexts ?? []) if (c?.name && !out.includes(c.name)) out.push(c.name)
    }
  } catch {
    return out
  }
  return out
}
