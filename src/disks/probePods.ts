/**
 * Runs the probe on nodes in short-lived pods: one pod per node, pinned by nodeName (so no
 * scheduler is involved and cordons do not matter), privileged only to read the block devices,
 * with read-only host mounts of /dev, /sys and /run (for udev's database, when there is one) and
 * the host PID namespace for /proc/1/mountinfo. Reports are collected in parallel; every pod is deleted afterwards — on
 * success, failure, timeout and Ctrl-C. A node that does not answer is reported, the others
 * still are. A namespace whose admission rejects the pod ends the run before any pod exists.
 */
import type {V1Pod} from '@kubernetes/client-node'
import type {KubeClient} from '../kube/client.js'
import {describeError, KubeError, statusCode} from '../kube/errors.js'
import {PODS, pathOf} from '../kube/paths.js'
import {UserError} from '../errors.js'
import {shortHash} from './identity.js'
import {ProbeReportError, toProbeReport} from './parseProbeReport.js'
import type {ProbeReport} from './types.js'

export const DEFAULT_PROBE_IMAGE = 'debian:bookworm-slim'
export const PROBE_LABELS = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  run: 'pv-doctor.io/probe-run',
} as const

export interface PodProbeOptions {
  namespace: string
  image: string
  /** For the whole run, from the first pod created. */
  timeoutMs: number
  script: string
  nodes: readonly string[]
  pollMs?: number
  onProgress?: (done: number, total: number) => void
  /** Aborting (Ctrl-C) stops waiting; pods are still deleted. */
  signal?: AbortSignal
}

export interface NodeProbeResult {
  node: string
  report?: ProbeReport
  error?: string
}

export interface PodProbeOutcome {
  results: NodeProbeResult[]
  /** Pods that could not be deleted (each with the reason), to tell the user. */
  leftovers: string[]
  interrupted: boolean
}

/** Image pull and container creation failures that waiting will not fix. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
])

export function probePodManifest(opts: {
  name: string
  namespace: string
  node: string
  image: string
  script: string
  runId: string
  timeoutMs: number
}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: {
        [PROBE_LABELS.name]: 'pv-doctor-probe',
        [PROBE_LABELS.managedBy]: 'pv-doctor',
        [PROBE_LABELS.run]: opts.runId,
      },
      annotations: {
        'pv-doctor.io/purpose': 'read-only disk probe for `kubectl pv-doctor disks`; deleted when it is done',
      },
    },
    spec: {
      nodeName: opts.node,
      restartPolicy: 'Never',
      hostPID: true,
      // The probe needs no network: on the host's, it starts even where the pod network (CNI) is not ready.
      hostNetwork: true,
      dnsPolicy: 'Default',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      // If pv-doctor dies before deleting it, the kubelet still stops it.
      activeDeadlineSeconds: Math.ceil(opts.timeoutMs / 1000) + 60,
      tolerations: [{operator: 'Exists'}],
      containers: [
        {
          name: 'probe',
          image: opts.image,
          imagePullPolicy: 'IfNotPresent',
          // stderr would mix into the log we parse as JSON; errors are inside the report.
          command: ['sh', '-c', `exec 2>/dev/null\n${opts.script}`],
          env: [{name: 'NODE_NAME', valueFrom: {fieldRef: {fieldPath: 'spec.nodeName'}}}],
          // Privileged only so the device cgroup lets the probe open (read) block devices.
          securityContext: {privileged: true, runAsUser: 0, readOnlyRootFilesystem: true},
          resources: {requests: {cpu: '10m', memory: '16Mi'}, limits: {memory: '128Mi'}},
          // The default, /dev/termination-log, lies on the read-only /dev mount: runc cannot create
          // its mountpoint there and the container never starts (StartError, exit 128).
          terminationMessagePath: '/tmp/termination-log',
          volumeMounts: [
            {name: 'dev', mountPath: '/dev', readOnly: true},
            {name: 'sys', mountPath: '/sys', readOnly: true},
            {name: 'run', mountPath: '/run', readOnly: true},
          ],
        },
      ],
      volumes: [
        {name: 'dev', hostPath: {path: '/dev', type: 'Directory'}},
        {name: 'sys', hostPath: {path: '/sys', type: 'Directory'}},
        // /run, not /run/udev: an untyped hostPath is created on the host when missing (no udev),
        // and `type: Directory` would keep the pod from starting there.
        {name: 'run', hostPath: {path: '/run', type: 'Directory'}},
      ],
    },
  }
}

export function probePodName(node: string, runId: string): string {
  const safe = node
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63 - 'pv-doctor-probe--'.length - runId.length - 7)
    .replace(/^-+|-+$/g, '')
  return `pv-doctor-probe-${safe}-${shortHash(node, 6)}-${runId}`
}

export async function probeWithPods(client: KubeClient, opts: PodProbeOptions): Promise<PodProbeOutcome> {
  const runId = Math.random().toString(16).slice(2, 8).padEnd(6, '0')
  const namespace = opts.namespace
  const podsPath = pathOf(PODS, {namespace})
  const pending = new Map<string, string>() // pod name → node
  const results = new Map<string, NodeProbeResult>()
  const created: string[] = []
  const done = () => opts.onProgress?.(results.size, opts.nodes.length)

  const interrupt = new AbortController()
  const onSignal = () => interrupt.abort()
  opts.signal?.addEventListener('abort', onSignal)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const deadline = Date.now() + opts.timeoutMs
  let leftovers: string[] = []
  try {
    await preflight(client, podsPath, opts, runId)
    await Promise.all(
      opts.nodes.map(async (node) => {
        const name = probePodName(node, runId)
        try {
          await client.request('POST', podsPath, {
            body: podFor(opts, node, runId),
          })
          created.push(name)
          pending.set(name, node)
        } catch (error) {
          results.set(node, {
            node,
            error: `cannot create the probe pod: ${describeError(error)}${podSecurityHint(error)}`,
          })
          done()
        }
      }),
    )
    while (pending.size > 0 && !interrupt.signal.aborted) {
      const pods = await client.list<V1Pod>(podsPath, {labelSelector: `${PROBE_LABELS.run}=${runId}`})
      const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]))
      await Promise.all(
        [...pending].map(async ([name, node]) => {
          const verdict = await inspect(client, namespace, name, node, opts.image, byName.get(name))
          if (!verdict) return
          pending.delete(name)
          results.set(node, verdict)
          done()
        }),
      )
      if (pending.size === 0) break
      if (Date.now() >= deadline) {
        for (const [name, node] of pending)
          results.set(node, {node, error: timeoutReason(byName.get(name), opts.timeoutMs)})
        pending.clear()
        break
      }
      await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - Date.now())), interrupt.signal)
    }
  } finally {
    opts.signal?.removeEventListener('abort', onSignal)
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    leftovers = await deletePods(client, namespace, created)
  }
  const interrupted = interrupt.signal.aborted
  for (const node of opts.nodes)
    if (!results.has(node)) results.set(node, {node, error: 'interrupted before the probe answered'})
  return {results: opts.nodes.map((n) => results.get(n)!), leftovers, interrupted}
}

/** The probe pod of one node in this run. */
function podFor(opts: PodProbeOptions, node: string, runId: string): V1Pod {
  return probePodManifest({
    name: probePodName(node, runId),
    namespace: opts.namespace,
    node,
    image: opts.image,
    script: opts.script,
    runId,
    timeoutMs: opts.timeoutMs,
  })
}

/**
 * Admission treats every probe pod alike: Pod Security, RBAC and a missing namespace reject all
 * of them or none. So one pod is first sent as a server-side dry run (admission runs, nothing is
 * stored): a rejection ends the run with one line that says what to use instead, before any pod
 * exists. Other failures are left to the real creates, which report them per node.
 */
async function preflight(client: KubeClient, base: string, opts: PodProbeOptions, runId: string): Promise<void> {
  const node = opts.nodes[0]
  if (node === undefined) return
  const manifest = podFor(opts, node, runId)
  try {
    await client.request('POST', base, {body: manifest, query: {dryRun: 'All'}})
  } catch (error) {
    const why = admissionRejection(error, opts.namespace)
    if (why) throw new UserError(why)
  }
}

/** The one-line reason admission refused the probe pod, or null when it was something else. */
export function admissionRejection(error: unknown, namespace: string): string | null {
  const status = (error as {status?: {code?: number; message?: string; details?: {kind?: string}}}).status
  const message = status?.message ?? ''
  const ns = JSON.stringify(namespace)
  const fix =
    'name a namespace labelled pod-security.kubernetes.io/enforce=privileged with -n (kubectl create namespace pv-doctor; kubectl label namespace pv-doctor pod-security.kubernetes.io/enforce=privileged)'
  const pss = /violates PodSecurity "([^":]+):[^"]*": (.*)$/.exec(firstLine(message))
  if (pss)
    return `namespace ${ns} enforces Pod Security level "${pss[1]}", which rejects the probe pod (${pss[2]}); the probe reads the host's block devices and needs the privileged level: ${fix}`
  if (/PodSecurity/i.test(message))
    return `namespace ${ns} does not admit the privileged probe pod (${firstLine(message)}); ${fix}`
  if (status?.code === 404 && (status.details?.kind === 'namespaces' || /namespaces? .*not found/i.test(message)))
    return `namespace ${ns} not found; ${fix}`
  if (status?.code === 403 && /cannot create resource "pods"/.test(message))
    return `cannot create pods in namespace ${ns} (${firstLine(message)}); pv-doctor needs create, get, list and delete on pods and get on pods/log there (docs/disks.md, RBAC), or name another namespace with -n`
  if (status?.code === 403 || /admission webhook .* denied/.test(message))
    return `an admission policy in namespace ${ns} rejects the probe pod (${firstLine(message)}); allow it there, or run the probe by hand and use --from-report (docs/disks.md)`
  return null
}

/** A final result for this pod, or undefined to keep waiting. */
async function inspect(
  client: KubeClient,
  namespace: string,
  name: string,
  node: string,
  image: string,
  pod: V1Pod | undefined,
): Promise<NodeProbeResult | undefined> {
  if (!pod) return {node, error: 'the probe pod disappeared before it answered (deleted by someone else, or evicted)'}
  const phase = pod.status?.phase
  const cs = pod.status?.containerStatuses?.[0]
  const waiting = cs?.state?.waiting
  if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
    const what = waiting.reason.includes('Image')
      ? `image ${image} cannot be pulled`
      : 'the container cannot be created'
    return {
      node,
      error: `probe pod did not start: ${what} (${waiting.reason}${waiting.message ? `: ${firstLine(waiting.message)}` : ''})`,
    }
  }
  if (phase === 'Succeeded') {
    try {
      const raw = await client.request<unknown>('GET', pathOf(PODS, {namespace, name, subresource: 'log'}), {
        query: {container: 'probe'},
      })
      const report = toProbeReport(raw, `the probe output from ${node}`)
      if (report.node !== node) report.node = node
      return {node, report}
    } catch (error) {
      if (error instanceof ProbeReportError) return {node, error: error.message}
      return {node, error: `cannot read the probe output: ${describeError(error)}`}
    }
  }
  if (phase === 'Failed') {
    const term = cs?.state?.terminated
    const why = term
      ? `exit code ${term.exitCode}${term.reason ? `, ${term.reason}` : ''}`
      : (pod.status?.reason ?? 'unknown reason')
    const msg = pod.status?.message ? `: ${firstLine(pod.status.message)}` : ''
    return {node, error: `the probe pod failed (${why})${msg}; is ${image} an image with sh and util-linux?`}
  }
  return undefined
}

function timeoutReason(pod: V1Pod | undefined, timeoutMs: number): string {
  const secs = `${Math.round(timeoutMs / 1000)}s`
  const running = pod?.status?.containerStatuses?.some((c) => c.state?.running)
  if (running) return `the probe did not finish within ${secs}; raise --timeout`
  const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting
  const why = waiting?.reason
    ? `${waiting.reason}${waiting.message ? `: ${firstLine(waiting.message)}` : ''}`
    : pod?.status?.phase
      ? `pod ${pod.status.phase}, no status from the kubelet`
      : 'no status from the kubelet'
  return `probe pod did not start within ${secs} (${why}); is the node's kubelet up and can it pull the image?`
}

/** Deletes at once (grace 0): a probe has nothing to flush, and a node without kubelet would never confirm a graceful delete. */
async function deletePods(client: KubeClient, namespace: string, names: readonly string[]): Promise<string[]> {
  const left: string[] = []
  await Promise.all(
    names.map(async (name) => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await client.request('DELETE', pathOf(PODS, {namespace, name}), {
            body: {apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Background'},
          })
          return
        } catch (error) {
          if (statusCode(error) === 404) return
          if (attempt === 2) left.push(`${name} (${describeError(error)})`)
        }
      }
    }),
  )
  return left
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
}

function podSecurityHint(error: unknown): string {
  const msg = error instanceof KubeError ? error.status.message : ''
  if (/PodSecurity/i.test(msg))
    return ' (the namespace does not admit privileged pods; pick one that does with -n, e.g. one labelled pod-security.kubernetes.io/enforce=privileged)'
  if (statusCode(error) === 403)
    return ' (pv-doctor needs create, get, list and delete on pods and get on pods/log in this namespace; see docs/disks.md)'
  return ''
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim()
}

/** Raised by the commands after cleanup when the user pressed Ctrl-C. */
export function interruptedError(): UserError {
  return new UserError('interrupted; the probe pods were deleted', 130)
}
