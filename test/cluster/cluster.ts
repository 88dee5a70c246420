// A real Kubernetes cluster for end-to-end tests: etcd, kube-apiserver,
// kube-controller-manager (with the PV, attach-detach and workload controllers) and
// kube-scheduler on 127.0.0.1; fake Node objects created Ready; a CSI layer (our
// pvd-csi driver with the real external-provisioner, external-attacher and
// external-resizer); and,
// optionally, one real node: this machine running containerd + runc + the kubelet
// (test/cluster/node.ts). See docs/control-plane.md for the design, the measured
// timings and the flags.

import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as https from 'node:https'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {
  nodeStateDir,
  REAL_NODE_TAINT,
  REAL_NODE_ZONE,
  realNodeUnavailable,
  reapNode,
  releaseNodeLock,
  takeNodeLock,
  writeNodeFiles,
  ctr,
  BRIDGE,
  type RealNodeDirs,
} from './node.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
/** The build script; its last stdout line is the directory holding the binaries. */
export const BUILD_SCRIPT = path.join(HERE, 'build.sh')

export interface FakeNodeSpec {
  name: string
  /** topology.kubernetes.io/zone */
  zone?: string
  /** topology.kubernetes.io/region; default "region-1" */
  region?: string
  /** extra labels, merged over the defaults */
  labels?: Record<string, string>
  taints?: {key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'}[]
  unschedulable?: boolean
  /** capacity = allocatable; default cpu 8, memory 32Gi, pods 110, ephemeral-storage 100Gi */
  allocatable?: Record<string, string>
  /** default true; false creates the node with Ready=False */
  ready?: boolean
}

export const DEFAULT_NODES: readonly FakeNodeSpec[] = Object.freeze([
  {name: 'node-a1', zone: 'zone-a'},
  {name: 'node-a2', zone: 'zone-a'},
  {name: 'node-b1', zone: 'zone-b'},
  {name: 'node-c1', zone: 'zone-c'},
])

export interface StartClusterOptions {
  /** fake nodes to register; default DEFAULT_NODES */
  nodes?: readonly FakeNodeSpec[]
  /** where PKI, etcd data, kubeconfigs and logs go; default a new temp dir */
  workDir?: string
  /** directory with etcd, kube-*, pvdhelper; default: run build.sh (builds if needed) */
  binDir?: string
  /** remove workDir on stop(); default true when workDir was not given */
  removeWorkDir?: boolean
  /** progress messages (default: silent unless PV_DOCTOR_CLUSTER_DEBUG is set) */
  log?: (msg: string) => void
  /** the CSI layer (pvd-csi + external-provisioner, -attacher, -resizer + the attach-detach controller); default true */
  csi?: boolean
  /**
   * this machine as a real node (kubelet + containerd); default false. Host-wide: skipped, with
   * the reason in `realNodeSkipped`, when a prerequisite is missing (root, cgroups, the builds)
   * or another cluster on this machine runs it.
   */
  realNode?: boolean
  /**
   * kube-controller-manager's --pvclaimbinder-sync-period; default 2s (tests see resyncs
   * quickly). The benchmark uses upstream's default (15s): with thousands of claims a 2 s resync
   * keeps the controller re-queueing everything.
   */
  pvSyncPeriod?: string
  /**
   * kube-controller-manager's --kube-api-qps (burst twice that); default upstream's 20. The
   * benchmark raises it so the PV controller binds thousands of pre-bound pairs in minutes, not
   * an hour (each bind is four writes).
   */
  controllerQps?: number
}

/** The CSI driver every harness cluster runs (when `csi` is on). */
export const CSI_DRIVER = 'pvd.csi.test'

export interface ClusterCSI {
  driver: string
  /** runtime failure switches: <failDir>/<fail-key>/<RPC> (see test/cluster/pvdcsi/main.go) */
  failDir: string
  /** where pvd-csi keeps each volume's directory (what the real node mounts) */
  dataDir: string
  socket: string
}

export interface Cluster {
  /** admin kubeconfig (system:masters), certificates embedded */
  kubeconfig: string
  /** https://127.0.0.1:<port> */
  server: string
  workDir: string
  binDir: string
  /** the fake nodes */
  nodeNames: string[]
  /** the real node's name (this machine's host name), or '' */
  realNode: string
  /** why there is no real node ('' when there is one or none was asked for) */
  realNodeSkipped: string
  /** the CSI layer, or undefined when off */
  csi?: ClusterCSI
  /** milliseconds per start phase */
  timings: Record<string, number>
  /** one line per running component, for `cluster:up` and the e2e log */
  describe(): string[]
  stop(): Promise<void>
}

/** What makeUserKubeconfig needs; a Cluster or the `cluster` value that globalSetup provides. */
export interface ClusterRef {
  server: string
  workDir: string
  binDir: string
}

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const

const CONTROLLERS = [
  // so that StatefulSets (volumeClaimTemplates), Deployments and ReplicaSets create their pods and claims
  'statefulset-controller',
  'replicaset-controller',
  'deployment-controller',
  // fills ResourceQuota status (hard/used): without it the quota admission plugin refuses every
  // object a quota covers ("status unknown for quota")
  'resourcequota-controller',
  'persistentvolume-binder-controller',
  'persistentvolume-protection-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-expander-controller',
  'ephemeral-volume-controller',
  'garbage-collector-controller',
  'namespace-controller',
  // fills the aggregated ClusterRoles (view, edit, admin) that RBAC tests bind to
  'clusterrole-aggregation-controller',
]

// ---------------------------------------------------------------------------
// binaries

/** Runs build.sh (a no-op taking well under a second when the cache is complete) and returns the bin dir. */
export function ensureBinaries(opts: {quiet?: boolean} = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], {stdio: ['ignore', 'pipe', opts.quiet ? 'pipe' : 'inherit']})
    let out = ''
    let err = ''
    child.stdout!.on('data', (d) => (out += d))
    child.stderr?.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const dir = out.trim().split('\n').pop() ?? ''
      if (code === 0 && dir && fs.existsSync(path.join(dir, 'kube-apiserver'))) resolve(dir)
      else reject(new Error(`${BUILD_SCRIPT} failed (exit ${code})\n${err.slice(-4000)}`))
    })
  })
}

/** The bin dir build.sh would use, without building anything. */
export function binDirPath(part: 'k8s' | 'node' | 'csi' | 'images' = 'k8s'): string {
  return execFileSync('bash', [BUILD_SCRIPT, '--print-dir', part], {encoding: 'utf8'}).trim()
}

function resolveBinDir(opts: StartClusterOptions): Promise<string> {
  const dir = opts.binDir ?? process.env.PV_DOCTOR_K8S_BIN_DIR
  if (dir) {
    for (const b of [...COMPONENTS, 'pvdhelper']) {
      if (!fs.existsSync(path.join(dir, b))) throw new Error(`binary ${b} missing in ${dir}`)
    }
    return Promise.resolve(path.resolve(dir))
  }
  return ensureBinaries()
}

// ---------------------------------------------------------------------------
// process bookkeeping: children never outlive us

const live = new Set<ChildProcess>()
const tempDirs = new Set<string>()
let hooksInstalled = false
/** set while this process runs the real node: exit hooks then clean the host */
let realNodeRunning = false

function killAllSync(): void {
  // Each child is a `pvdhelper supervise` process; SIGKILLing it makes the
  // kernel SIGKILL the component too (Pdeathsig). Even if this code never runs
  // (we are SIGKILLed), the supervisors notice the reparenting within 0.5 s.
  for (const c of live) {
    try {
      c.kill('SIGKILL')
    } catch {
      /* already gone */
    }
  }
  live.clear()
  if (realNodeRunning) {
    realNodeRunning = false
    try {
      reapNode()
    } finally {
      releaseNodeLock()
    }
  }
}

function removeTempDirsSync(): void {
  for (const d of tempDirs) fs.rmSync(d, {recursive: true, force: true, maxRetries: 3})
  tempDirs.clear()
}

function onSignal(sig: NodeJS.Signals): void {
  killAllSync()
  removeTempDirsSync()
  // If nobody else handles the signal, restore the default action (terminate).
  if (process.listenerCount(sig) === 1) {
    process.removeListener(sig, onSignal)
    process.kill(process.pid, sig)
  }
}

function installHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => {
    killAllSync()
    removeTempDirsSync()
  })
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal)
}

interface Proc {
  name: string
  child: ChildProcess
  logFile: string
  exited: Promise<void>
  exitCode?: number | null
}

function startProc(
  binDir: string,
  name: string,
  args: string[],
  logsDir: string,
  opts: {exe?: string; env?: NodeJS.ProcessEnv} = {},
): Proc {
  const logFile = path.join(logsDir, `${name}.log`)
  const fd = fs.openSync(logFile, 'a')
  const child = spawn(
    path.join(binDir, 'pvdhelper'),
    ['supervise', '--', opts.exe ?? path.join(binDir, name), ...args],
    {
      stdio: ['ignore', fd, fd],
      detached: false,
      env: opts.env ?? process.env,
    },
  )
  fs.closeSync(fd)
  live.add(child)
  const p: Proc = {name, child, logFile, exited: Promise.resolve()}
  p.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      p.exitCode = code ?? (signal ? -1 : null)
      live.delete(child)
      resolve()
    })
    child.on('error', () => {
      p.exitCode = -1
      live.delete(child)
      resolve()
    })
  })
  return p
}

async function stopProc(p: Proc, timeoutMs = 10_000): Promise<void> {
  if (p.exitCode !== undefined) return
  p.child.kill('SIGTERM')
  const t = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs)
  await p.exited
  clearTimeout(t)
}

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

// ---------------------------------------------------------------------------
// network helpers

/** A free TCP port on 127.0.0.1 (bind to 0, read, release). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

interface TlsOpts {
  ca?: string
  cert?: string
  key?: string
  insecure?: boolean
}

function request(url: string, tls: TlsOpts, method = 'GET', body?: unknown): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const data = body === undefined ? undefined : JSON.stringify(body)
    const opts: https.RequestOptions = {
      method,
      hostname: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      timeout: 5000,
      headers: data ? {'content-type': 'application/json', 'content-length': Buffer.byteLength(data)} : {},
      agent: false,
    }
    const mod = u.protocol === 'https:' ? https : http
    if (u.protocol === 'https:') {
      Object.assign(opts, {ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure})
    }
    const req = mod.request(opts, (res) => {
      let b = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (b += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: b}))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(data)
  })
}

async function waitReady(
  p: Proc,
  url: string,
  tls: TlsOpts,
  timeoutMs: number,
  ok = (_b: string) => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (p.exitCode !== undefined) {
      throw new Error(
        `${p.name} exited (code ${p.exitCode}) before it was ready; log ${p.logFile}:\n${tail(p.logFile)}`,
      )
    }
    try {
      const r = await request(url, tls)
      if (r.status === 200 && ok(r.body)) return
      last = `HTTP ${r.status}: ${r.body.slice(0, 500)}`
    } catch (e) {
      last = String(e)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(
    `${p.name} not ready after ${timeoutMs} ms at ${url} (${last}); log ${p.logFile}:\n${tail(p.logFile)}`,
  )
}

// ---------------------------------------------------------------------------
// kubeconfig

const CLUSTER_NAME = 'pv-doctor-test'

function b64(file: string): string {
  return fs.readFileSync(file).toString('base64')
}

/** Writes a kubeconfig with embedded CA, client certificate and key; returns its path. */
export function writeKubeconfig(file: string, server: string, pkiDir: string, certName: string, user: string): string {
  const q = JSON.stringify // a JSON string is a valid YAML double-quoted scalar
  const ctx = certName === 'admin' ? CLUSTER_NAME : `${user}@${CLUSTER_NAME}`
  const text = `apiVersion: v1
kind: Config
clusters:
- name: ${CLUSTER_NAME}
  cluster:
    server: ${q(server)}
    certificate-authority-data: ${b64(path.join(pkiDir, 'ca.crt'))}
users:
- name: ${q(user)}
  user:
    client-certificate-data: ${b64(path.join(pkiDir, `${certName}.crt`))}
    client-key-data: ${b64(path.join(pkiDir, `${certName}.key`))}
contexts:
- name: ${q(ctx)}
  context:
    cluster: ${CLUSTER_NAME}
    user: ${q(user)}
current-context: ${q(ctx)}
`
  fs.writeFileSync(file, text, {mode: 0o600})
  return file
}

/**
 * Creates a client certificate for `user` (CN=user, O=groups) signed by the
 * cluster CA and a kubeconfig using it; returns the kubeconfig path
 * (<workDir>/users/<user>.kubeconfig). The user has no rights until a test
 * binds a Role/ClusterRole to it. Only for clusters started by this harness.
 */
export function makeUserKubeconfig(cluster: ClusterRef, user: string, groups: string[] = []): string {
  if (!/^[A-Za-z0-9:._@-]+$/.test(user)) throw new Error(`unsupported user name ${JSON.stringify(user)}`)
  const pkiDir = path.join(cluster.workDir, 'pki')
  const usersDir = path.join(cluster.workDir, 'users')
  fs.mkdirSync(usersDir, {recursive: true})
  const certName = `user-${user.replace(/[^A-Za-z0-9._-]/g, '_')}`
  execFileSync(path.join(cluster.binDir, 'pvdhelper'), ['client', pkiDir, certName, user, ...groups], {stdio: 'pipe'})
  return writeKubeconfig(path.join(usersDir, `${certName.slice(5)}.kubeconfig`), cluster.server, pkiDir, certName, user)
}

// ---------------------------------------------------------------------------
// fake nodes

export function nodeManifest(spec: FakeNodeSpec, kubeletVersion = 'v1.36.3'): object {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const resources = {cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi', ...spec.allocatable}
  const ready = spec.ready ?? true
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      // the attach-detach controller only manages nodes that carry this (addNodeToDswp)
      annotations: {'volumes.kubernetes.io/controller-managed-attach-detach': 'true'},
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...(spec.zone ? {'topology.kubernetes.io/zone': spec.zone} : {}),
        'topology.kubernetes.io/region': spec.region ?? 'region-1',
        ...spec.labels,
      },
    },
    spec: {
      ...(spec.taints ? {taints: spec.taints} : {}),
      ...(spec.unschedulable ? {unschedulable: true} : {}),
    },
    // Node status is accepted on CREATE (later changes need the /status subresource).
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'KubeletReady' : 'KubeletNotReady',
          message: 'fake node (pv-doctor test harness)',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
        ...['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
          type,
          status: 'False',
          reason: `KubeletHasNo${type}`,
          message: 'fake node',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        })),
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion,
        kubeProxyVersion: '',
        osImage: 'fake',
        kernelVersion: 'fake',
        containerRuntimeVersion: 'fake://0',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  }
}

// ---------------------------------------------------------------------------
// the control plane

function debugLog(): (m: string) => void {
  return process.env.PV_DOCTOR_CLUSTER_DEBUG ? (m) => process.stderr.write(`[cluster] ${m}\n`) : () => {}
}

/** Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler, then registers fake nodes. */
export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  try {
    return await startOnce(opts)
  } catch (e) {
    // Free ports are picked by bind-and-release; another process may grab one in between.
    if (!/address already in use/i.test(String(e))) throw e
    ;(opts.log ?? debugLog())('port race, retrying once')
    return startOnce(opts)
  }
}

async function startOnce(opts: StartClusterOptions): Promise<Cluster> {
  const log = opts.log ?? debugLog()
  const t0 = Date.now()
  const timings: Record<string, number> = {}
  const binDir = await resolveBinDir(opts)
  timings.binaries = Date.now() - t0
  installHooks()

  const ownDir = !opts.workDir
  const workDir = path.resolve(opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pv-doctor-cluster-')))
  const removeWorkDir = opts.removeWorkDir ?? ownDir
  fs.mkdirSync(workDir, {recursive: true})
  if (removeWorkDir) tempDirs.add(workDir)
  const pki = path.join(workDir, 'pki')
  const logs = path.join(workDir, 'logs')
  const csiOn = opts.csi ?? true
  fs.mkdirSync(logs, {recursive: true})
  execFileSync(path.join(binDir, 'pvdhelper'), ['pki', pki], {stdio: 'pipe'})
  const read = (f: string) => fs.readFileSync(path.join(pki, f), 'utf8')
  const adminTls: TlsOpts = {ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key')}

  const procs: Proc[] = []
  let ownsNode = false
  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) {
      await stopProc(p)
      // Right after the kubelet and containerd: their pods, shims, mounts and the bridge.
      if (p.name === 'containerd' && ownsNode) {
        ownsNode = realNodeRunning = false
        try {
          reapNode(log)
        } finally {
          releaseNodeLock()
        }
      }
    }
    if (removeWorkDir) {
      fs.rmSync(workDir, {recursive: true, force: true, maxRetries: 3})
      tempDirs.delete(workDir)
    }
  }

  try {
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await distinctPorts(5)
    const server = `https://127.0.0.1:${apiPort}`

    // etcd ------------------------------------------------------------------
    let t = Date.now()
    const etcdURL = `http://127.0.0.1:${etcdClient}`
    const peerURL = `http://127.0.0.1:${etcdPeer}`
    fs.rmSync(path.join(workDir, 'etcd'), {recursive: true, force: true})
    const etcd = startProc(
      binDir,
      'etcd',
      [
        '--name=pvd',
        `--data-dir=${path.join(workDir, 'etcd')}`,
        `--listen-client-urls=${etcdURL}`,
        `--advertise-client-urls=${etcdURL}`,
        `--listen-peer-urls=${peerURL}`,
        `--initial-advertise-peer-urls=${peerURL}`,
        `--initial-cluster=pvd=${peerURL}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      logs,
    )
    procs.push(etcd)
    await waitReady(etcd, `${etcdURL}/health`, {}, 30_000, (b) => b.includes('"health":"true"'))
    timings.etcd = Date.now() - t
    log(`etcd ready at ${etcdURL} (${timings.etcd} ms)`)

    // kube-apiserver --------------------------------------------------------
    t = Date.now()
    const apiserver = startProc(
      binDir,
      'kube-apiserver',
      [
        `--etcd-servers=${etcdURL}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${path.join(workDir, 'apiserver')}`,
        `--tls-cert-file=${path.join(pki, 'serving.crt')}`,
        `--tls-private-key-file=${path.join(pki, 'serving.key')}`,
        `--client-ca-file=${path.join(pki, 'ca.crt')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${path.join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${path.join(pki, 'sa.key')}`,
        '--authorization-mode=RBAC',
        '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--endpoint-reconciler-type=none',
        '--allow-privileged=true',
        '--profiling=false',
      ],
      logs,
    )
    procs.push(apiserver)
    await waitReady(apiserver, `${server}/readyz`, adminTls, 90_000, (b) => b.trim() === 'ok')
    timings.apiserver = Date.now() - t
    log(`kube-apiserver ready at ${server} (${timings.apiserver} ms)`)

    const kubeconfig = writeKubeconfig(path.join(workDir, 'kubeconfig'), server, pki, 'admin', 'pv-doctor-admin')
    const kcmConfig = writeKubeconfig(
      path.join(workDir, 'kube-controller-manager.kubeconfig'),
      server,
      pki,
      'kube-controller-manager',
      'system:kube-controller-manager',
    )
    const schedConfig = writeKubeconfig(
      path.join(workDir, 'kube-scheduler.kubeconfig'),
      server,
      pki,
      'kube-scheduler',
      'system:kube-scheduler',
    )
    const schedYaml = path.join(workDir, 'kube-scheduler.yaml')
    fs.writeFileSync(
      schedYaml,
      `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: ${JSON.stringify(schedConfig)}
leaderElection:
  leaderElect: false
podInitialBackoffSeconds: 1
podMaxBackoffSeconds: 2
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: VolumeBinding
    args:
      bindTimeoutSeconds: 30
`,
    )

    // controller manager + scheduler (in parallel), nodes meanwhile -------------
    t = Date.now()
    const kcm = startProc(
      binDir,
      'kube-controller-manager',
      [
        `--kubeconfig=${kcmConfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${path.join(workDir, 'kube-controller-manager')}`,
        `--controllers=${[...CONTROLLERS, ...(csiOn ? ['persistentvolume-attach-detach-controller'] : [])].join(',')}`,
        // the attach-detach controller's flexvolume prober creates this directory (default under /usr/libexec)
        `--flex-volume-plugin-dir=${path.join(workDir, 'flexvolume')}`,
        `--pvclaimbinder-sync-period=${opts.pvSyncPeriod ?? '2s'}`,
        ...(opts.controllerQps
          ? [`--kube-api-qps=${opts.controllerQps}`, `--kube-api-burst=${2 * opts.controllerQps}`]
          : []),
        '--profiling=false',
      ],
      logs,
    )
    procs.push(kcm)
    const sched = startProc(
      binDir,
      'kube-scheduler',
      [
        `--config=${schedYaml}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        `--cert-dir=${path.join(workDir, 'kube-scheduler')}`,
        '--profiling=false',
      ],
      logs,
    )
    procs.push(sched)

    const nodes = opts.nodes ?? DEFAULT_NODES
    const tn = Date.now()
    for (const n of nodes) {
      const r = await request(`${server}/api/v1/nodes`, adminTls, 'POST', nodeManifest(n))
      if (r.status !== 201) throw new Error(`creating node ${n.name}: HTTP ${r.status} ${r.body}`)
    }
    timings.nodes = Date.now() - tn

    await Promise.all([
      waitReady(kcm, `https://127.0.0.1:${kcmPort}/healthz`, {insecure: true}, 60_000, (b) => b.trim() === 'ok'),
      waitReady(sched, `https://127.0.0.1:${schedPort}/readyz`, {insecure: true}, 60_000, (b) => b.trim() === 'ok'),
    ])
    timings.controllers = Date.now() - t
    log(`controller-manager and scheduler ready (${timings.controllers} ms)`)

    const api = (method: string, p: string, body?: unknown) => request(`${server}${p}`, adminTls, method, body)
    const createOK = async (p: string, body: {metadata: {name: string}; [k: string]: unknown}) => {
      const r = await api('POST', p, body)
      if (r.status !== 201 && r.status !== 409)
        throw new Error(`creating ${p}/${body.metadata.name}: HTTP ${r.status} ${r.body}`)
    }

    // The real node: host prerequisites, then a clean host (a crashed run's leftovers), then containerd.
    let realNode = ''
    let realNodeSkipped = ''
    let nodeDirs: RealNodeDirs | undefined
    let containerd: Proc | undefined
    const n = nodeStateDir()
    if (opts.realNode) {
      t = Date.now()
      nodeDirs = partDirs()
      realNodeSkipped = (await realNodeUnavailable(nodeDirs)) ?? ''
      if (realNodeSkipped) {
        log(`no real node: ${realNodeSkipped}`)
      } else {
        takeNodeLock()
        ownsNode = realNodeRunning = true
        reapNode(log)
        realNode = os.hostname()
        const [kubeletPort, healthzPort] = await distinctPorts(2)
        writeNodeFiles(n, nodeDirs!.nodeBin, kubeletPort, healthzPort)
        containerd = startProc(
          binDir,
          'containerd',
          [`--config=${path.join(n, 'containerd.toml')}`, '--log-level=warn'],
          logs,
          {
            exe: path.join(nodeDirs!.nodeBin, 'containerd'),
            // the shim is found on PATH
            env: {...process.env, PATH: `${nodeDirs!.nodeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`},
          },
        )
        procs.push(containerd)
      }
    }

    // The CSI layer: driver first (the sidecars exit when it goes away), then the sidecars.
    let csi: ClusterCSI | undefined
    if (csiOn) {
      t = Date.now()
      const csiBin = binDirPath('csi')
      const dir = path.join(workDir, 'csi')
      csi = {
        driver: CSI_DRIVER,
        failDir: path.join(dir, 'fail'),
        dataDir: path.join(dir, 'volumes'),
        socket: path.join(dir, 'csi.sock'),
      }
      fs.mkdirSync(csi.failDir, {recursive: true})
      fs.mkdirSync(csi.dataDir, {recursive: true})
      await createOK('/apis/storage.k8s.io/v1/csidrivers', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSIDriver',
        metadata: {name: CSI_DRIVER},
        spec: {
          attachRequired: true,
          storageCapacity: true,
          podInfoOnMount: false,
          volumeLifecycleModes: ['Persistent'],
        },
      })
      // What the node-driver-registrar makes on a real node; the fake nodes have no kubelet to do it.
      for (const fake of nodes) {
        await createOK('/apis/storage.k8s.io/v1/csinodes', {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'CSINode',
          metadata: {name: fake.name},
          spec: {drivers: [{name: CSI_DRIVER, nodeID: fake.name, topologyKeys: ['topology.kubernetes.io/zone']}]},
        })
      }
      const driver = startProc(
        binDir,
        'pvd-csi',
        [
          `--endpoint=${csi.socket}`,
          `--drivername=${CSI_DRIVER}`,
          `--fail-dir=${csi.failDir}`,
          `--data-dir=${csi.dataDir}`,
          ...(realNode
            ? [
                `--node-id=${realNode}`,
                `--node-zone=${REAL_NODE_ZONE}`,
                `--registration-dir=${path.join(n, 'kubelet/root/plugins_registry')}`,
              ]
            : []),
        ],
        logs,
        {exe: path.join(csiBin, 'pvd-csi')},
      )
      procs.push(driver)
      await waitFor(driver, () => fs.existsSync(csi!.socket), 20_000, 'its socket')
      const common = [
        `--kubeconfig=${kubeconfig}`,
        `--csi-address=${csi.socket}`,
        '--leader-election=false',
        '--timeout=10s',
        '--retry-interval-start=1s',
        '--retry-interval-max=10s',
        '--v=2',
      ]
      const provisioner = startProc(
        binDir,
        'csi-provisioner',
        // NAMESPACE is where CSIStorageCapacity objects go; no owner (there is no pod to own them)
        [
          ...common,
          '--extra-create-metadata',
          '--enable-capacity',
          '--capacity-ownerref-level=-1',
          '--capacity-poll-interval=5s',
        ],
        logs,
        {exe: path.join(csiBin, 'csi-provisioner'), env: {...process.env, NAMESPACE: 'kube-system'}},
      )
      procs.push(provisioner)
      const attacher = startProc(binDir, 'csi-attacher', common, logs, {exe: path.join(csiBin, 'csi-attacher')})
      procs.push(attacher)
      // --retry-interval-max is also how long the resizer waits before retrying an infeasible
      // expansion (its slowSet); 10s keeps that observable in a test.
      const resizer = startProc(binDir, 'csi-resizer', common, logs, {exe: path.join(csiBin, 'csi-resizer')})
      procs.push(resizer)
      await Promise.all([
        waitFor(
          provisioner,
          () => tail(provisioner.logFile, 400).includes('Started provisioner controller'),
          30_000,
          '"Started provisioner controller"',
        ),
        waitFor(
          attacher,
          () => tail(attacher.logFile, 400).includes('Starting CSI attacher'),
          30_000,
          '"Starting CSI attacher"',
        ),
        waitFor(
          resizer,
          () => tail(resizer.logFile, 400).includes('Starting external resizer'),
          30_000,
          '"Starting external resizer"',
        ),
      ])
      timings.csi = Date.now() - t
      log(
        `CSI driver ${CSI_DRIVER}, external-provisioner, external-attacher and external-resizer ready (${timings.csi} ms)`,
      )
    }

    if (realNode && containerd && nodeDirs) {
      t = Date.now()
      await waitFor(
        containerd,
        () => {
          try {
            ctr(nodeDirs!.nodeBin, n, ['version'])
            return true
          } catch {
            return false
          }
        },
        30_000,
        'its socket',
      )
      // No registry: the images are imported (pods use imagePullPolicy IfNotPresent).
      await Promise.all(
        ['pause-image.tar', 'debian-image.tar'].map((f) =>
          run(path.join(nodeDirs!.nodeBin, 'ctr'), [
            '-a',
            path.join(n, 'containerd/containerd.sock'),
            '-n',
            'k8s.io',
            'images',
            'import',
            path.join(nodeDirs!.images, f),
          ]),
        ),
      )
      timings.images = Date.now() - t
      // The kubelet's identity, as a real kubelet has it (CN system:node:<name>, O system:nodes). The
      // API server has no Node authorizer, so the system:node role must be bound to the group.
      execFileSync(
        path.join(binDir, 'pvdhelper'),
        ['client', pki, `node-${realNode}`, `system:node:${realNode}`, 'system:nodes'],
        {stdio: 'pipe'},
      )
      const kubeletKubeconfig = writeKubeconfig(
        path.join(n, 'kubelet.kubeconfig'),
        server,
        pki,
        `node-${realNode}`,
        `system:node:${realNode}`,
      )
      await createOK('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: {name: 'pv-doctor:system-nodes'},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node'},
        subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes'}],
      })
      const tk = Date.now()
      const kubelet = startProc(
        binDir,
        'kubelet',
        [
          `--config=${path.join(n, 'kubelet.yaml')}`,
          `--kubeconfig=${kubeletKubeconfig}`,
          `--root-dir=${path.join(n, 'kubelet/root')}`,
          `--cert-dir=${path.join(n, 'kubelet/pki')}`,
          `--hostname-override=${realNode}`,
          `--node-labels=topology.kubernetes.io/zone=${REAL_NODE_ZONE},topology.kubernetes.io/region=region-1`,
          `--register-with-taints=${REAL_NODE_TAINT.key}=${REAL_NODE_TAINT.value}:${REAL_NODE_TAINT.effect}`,
          '--v=1',
        ],
        logs,
      )
      procs.push(kubelet)
      const ready = async () => {
        const r = await api('GET', `/api/v1/nodes/${realNode}`)
        if (r.status !== 200) return false
        const node = JSON.parse(r.body)
        const cond = (node.status?.conditions ?? []).find((c: {type: string}) => c.type === 'Ready')
        if (cond?.status !== 'True') return false
        if (!csiOn) return true
        // ready for CSI volumes once the kubelet has registered pvd-csi (CSINode driver entry)
        const cn = await api('GET', `/apis/storage.k8s.io/v1/csinodes/${realNode}`)
        return (
          cn.status === 200 &&
          (JSON.parse(cn.body).spec?.drivers ?? []).some((d: {name: string}) => d.name === CSI_DRIVER)
        )
      }
      await waitForAsync(kubelet, ready, 90_000, 'node Ready with the CSI driver registered')
      timings.kubelet = Date.now() - tk
      timings.realNode = Date.now() - t
      log(
        `real node ${realNode} Ready (${timings.realNode} ms: images ${timings.images} ms, kubelet ${timings.kubelet} ms)`,
      )
    }
    timings.total = Date.now() - t0
    log(`cluster ready in ${timings.total} ms`)

    const csiBin = csi ? binDirPath('csi') : ''
    const describe = (): string[] => [
      `control plane: etcd, kube-apiserver ${server}, kube-controller-manager, kube-scheduler (Kubernetes ${versionOf(path.join(binDir, 'kube-apiserver'))})`,
      csi
        ? `CSI: driver ${CSI_DRIVER} (pvd-csi), external-provisioner ${versionOf(path.join(csiBin, 'csi-provisioner'))}, external-attacher ${versionOf(path.join(csiBin, 'csi-attacher'))}, external-resizer ${versionOf(path.join(csiBin, 'csi-resizer'))} on ${csi.socket}`
        : 'CSI: off',
      realNode && nodeDirs
        ? `real node: ${realNode} (kubelet ${versionOf(path.join(binDir, 'kubelet'))}, containerd ${versionOf(path.join(nodeDirs.nodeBin, 'containerd'))}, runc ${versionOf(path.join(nodeDirs.nodeBin, 'runc'))}, CNI bridge ${BRIDGE}; zone ${REAL_NODE_ZONE}; taint ${REAL_NODE_TAINT.key})`
        : `real node: none${realNodeSkipped ? ` (${realNodeSkipped})` : ''}`,
      `fake nodes: ${nodes.map((x) => `${x.name}${x.zone ? ` (${x.zone})` : ''}`).join(', ')}`,
    ]
    // cluster.json (what `cluster:up` leaves for another process) is the Cluster's data fields.
    const fields = {
      server,
      kubeconfig,
      workDir,
      binDir,
      nodeNames: nodes.map((x) => x.name),
      realNode,
      realNodeSkipped,
      csi,
    }
    fs.writeFileSync(path.join(workDir, 'cluster.json'), JSON.stringify({...fields, pid: process.pid}, null, 2))
    return {...fields, timings, describe, stop}
  } catch (e) {
    await stop().catch(() => {})
    throw e
  }
}

/** The node and image dirs build.sh uses; undefined when they were not built (no prerequisites). */
function partDirs(): RealNodeDirs | undefined {
  const nodeBin = binDirPath('node')
  const images = binDirPath('images')
  return fs.existsSync(path.join(nodeBin, 'containerd')) && fs.existsSync(path.join(images, 'debian-image.tar'))
    ? {nodeBin, images}
    : undefined
}

async function waitFor(p: Proc, ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return waitForAsync(p, async () => ok(), timeoutMs, what)
}

async function waitForAsync(p: Proc, ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (p.exitCode !== undefined)
      throw new Error(`${p.name} exited (code ${p.exitCode}); log ${p.logFile}:\n${tail(p.logFile)}`)
    if (await ok().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${p.name}: no ${what} after ${timeoutMs} ms; log ${p.logFile}:\n${tail(p.logFile)}`)
}

/** The first version-looking word of `<exe> --version` (every binary here prints one). */
function versionOf(exe: string): string {
  try {
    const out = execFileSync(exe, ['--version'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000})
    return out.split(/\s+/).find((w) => /^v?\d+\.\d+\.\d+$/.test(w)) ?? '?'
  } catch {
    return '?'
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'pipe']})
    let err = ''
    c.stderr!.on('data', (d) => (err += d))
    c.on('error', reject)
    c.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: exit ${code}\n${err}`)),
    )
  })
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < n) ports.add(await freePort())
  return [...ports]
}

// ---------------------------------------------------------------------------
// a second CSI driver + external-provisioner that a test owns (stop/start at will)

export interface OwnProvisioner {
  /** the driver's (and provisioner's) name */
  driver: string
  /** csi-provisioner's log */
  logFile: string
  /** SIGTERM the csi-provisioner (the driver keeps running); waits until it has exited */
  stop(): Promise<void>
  /** starts csi-provisioner again and waits until it provisions ("Started provisioner controller") */
  start(): Promise<void>
  /** stops both processes and removes their directory */
  dispose(): Promise<void>
}

/**
 * Starts pvd-csi under another driver name and a csi-provisioner for it with leader election on
 * (Lease in `leaseNamespace`), as the calling test process's children: a test can stop the
 * provisioner mid-test and start it again without touching the harness's own CSI layer. Failure
 * injection works as for the harness driver (StorageClass parameters; `fail-key` under the same
 * fail dir). The exit hooks kill both if the test process dies.
 */
export async function startOwnProvisioner(
  c: {kubeconfig: string; workDir: string; binDir: string},
  o: {driver: string; leaseNamespace: string; leaseDurationSeconds?: number},
): Promise<OwnProvisioner> {
  installHooks()
  const csiBin = binDirPath('csi')
  const id = o.driver.replace(/[^a-zA-Z0-9-]/g, '-')
  const dir = path.join(c.workDir, `csi-${id}`)
  const logs = path.join(c.workDir, 'logs')
  fs.mkdirSync(path.join(dir, 'volumes'), {recursive: true})
  fs.mkdirSync(logs, {recursive: true})
  const socket = path.join(dir, 'csi.sock')
  const driver = startProc(
    c.binDir,
    `pvd-csi-${id}`,
    [
      `--endpoint=${socket}`,
      `--drivername=${o.driver}`,
      `--fail-dir=${path.join(c.workDir, 'csi', 'fail')}`,
      `--data-dir=${path.join(dir, 'volumes')}`,
    ],
    logs,
    {exe: path.join(csiBin, 'pvd-csi')},
  )
  await waitFor(driver, () => fs.existsSync(socket), 20_000, 'its socket')
  const lease = o.leaseDurationSeconds ?? 15
  const args = [
    `--kubeconfig=${c.kubeconfig}`,
    `--csi-address=${socket}`,
    '--leader-election',
    `--leader-election-namespace=${o.leaseNamespace}`,
    `--leader-election-lease-duration=${lease}s`,
    `--leader-election-renew-deadline=${Math.max(1, Math.floor((lease * 2) / 3))}s`,
    `--leader-election-retry-period=${Math.max(1, Math.floor(lease / 3))}s`,
    '--timeout=10s',
    '--retry-interval-start=1s',
    '--retry-interval-max=10s',
    '--v=2',
    '--extra-create-metadata',
  ]
  let prov: Proc | undefined
  const name = `csi-provisioner-${id}`
  const logFile = path.join(logs, `${name}.log`)
  const start = async () => {
    const from = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0
    const p = startProc(c.binDir, name, args, logs, {exe: path.join(csiBin, 'csi-provisioner')})
    prov = p
    await waitFor(
      p,
      () => fs.readFileSync(logFile, 'utf8').slice(from).includes('Started provisioner controller'),
      60_000,
      '"Started provisioner controller"',
    )
  }
  const stop = async () => {
    if (prov) await stopProc(prov)
    prov = undefined
  }
  await start()
  return {
    driver: o.driver,
    logFile,
    stop,
    start,
    dispose: async () => {
      await stop()
      await stopProc(driver)
      fs.rmSync(dir, {recursive: true, force: true})
    },
  }
}
