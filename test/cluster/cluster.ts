// A real Kubernetes control plane for end-to-end tests: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler on 127.0.0.1, no kubelet, no
// container runtime. Nodes are fake Node objects created Ready. See
// docs/control-plane.md for the design, the measured timings and the flags.

import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as https from 'node:https'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

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
}

export interface Cluster {
  /** admin kubeconfig (system:masters), certificates embedded */
  kubeconfig: string
  /** https://127.0.0.1:<port> */
  server: string
  workDir: string
  binDir: string
  nodeNames: string[]
  /** milliseconds per start phase */
  timings: Record<string, number>
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

function startProc(binDir: string, name: string, args: string[], logsDir: string): Proc {
  const logFile = path.join(logsDir, `${name}.log`)
  const fd = fs.openSync(logFile, 'a')
  const child = spawn(path.join(binDir, 'pvdhelper'), ['supervise', '--', path.join(binDir, name), ...args], {
    stdio: ['ignore', fd, fd],
    detached: false,
  })
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
  fs.mkdirSync(logs, {recursive: true})
  execFileSync(path.join(binDir, 'pvdhelper'), ['pki', pki], {stdio: 'pipe'})
  const read = (f: string) => fs.readFileSync(path.join(pki, f), 'utf8')
  const adminTls: TlsOpts = {ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key')}

  const procs: Proc[] = []
  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await stopProc(p)
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
        `--controllers=${CONTROLLERS.join(',')}`,
        '--pvclaimbinder-sync-period=2s',
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
    timings.total = Date.now() - t0
    log(`controller-manager and scheduler ready (${timings.controllers} ms); total ${timings.total} ms`)

    fs.writeFileSync(
      path.join(workDir, 'cluster.json'),
      JSON.stringify(
        {server, kubeconfig, workDir, binDir, nodeNames: nodes.map((n) => n.name), pid: process.pid},
        null,
        2,
      ),
    )
    return {kubeconfig, server, workDir, binDir, nodeNames: nodes.map((n) => n.name), timings, stop}
  } catch (e) {
    await stop().catch(() => {})
    throw e
  }
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < n) ports.add(await freePort())
  return [...ports]
}
