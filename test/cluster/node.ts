// The harness's one real node: this machine, registered as `os.hostname()`, running
// containerd + runc + a bridge CNI and the real kubelet (v1.36.3), next to the fake nodes.
// Everything it creates on the host (processes, mounts, cgroups, the bridge, containerd
// and kubelet state) is removed on stop and again before every start, because a crashed
// run must not poison the next. The node is host-wide: one per machine, guarded by a lock.
// See docs/control-plane.md ("The real node") for the recipe, the quirks and the timings.

import {execFileSync, spawnSync} from 'node:child_process'
import * as dns from 'node:dns/promises'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/** The taint that keeps the other tests' pods off the real node; tests that want it tolerate it. */
export const REAL_NODE_TAINT = {key: 'pv-doctor.io/real-node', value: 'true', effect: 'NoSchedule'} as const
export const REAL_NODE_TOLERATION = {
  key: REAL_NODE_TAINT.key,
  operator: 'Equal',
  value: 'true',
  effect: 'NoSchedule',
} as const
export const REAL_NODE_ZONE = 'zone-r'
/** The CNI bridge (host-global name). */
export const BRIDGE = 'pvd0'
const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2'

/** Fixed (not per run), so that the start-up reaper finds what a crashed run left. */
export function nodeStateDir(): string {
  return path.resolve(process.env.PV_DOCTOR_NODE_DIR ?? path.join(os.tmpdir(), 'pv-doctor-node'))
}
const lockFile = () => `${nodeStateDir()}.lock`

export interface RealNodeDirs {
  /** containerd, ctr, containerd-shim-runc-v2, runc, CNI plugins */
  nodeBin: string
  /** debian-image.tar, pause-image.tar */
  images: string
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Why the real node cannot run here, or undefined when it can. */
export async function realNodeUnavailable(dirs: RealNodeDirs | undefined): Promise<string | undefined> {
  if (process.env.PV_DOCTOR_REAL_NODE === '0') return 'disabled by PV_DOCTOR_REAL_NODE=0'
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (mounts, cgroups, network namespaces need it)'
  if (!dirs) return 'containerd/runc or the node images are not built (build.sh needs gcc, libseccomp-dev, mmdebstrap)'
  for (const b of ['containerd', 'ctr', 'containerd-shim-runc-v2', 'runc', 'bridge', 'host-local', 'loopback']) {
    if (!fs.existsSync(path.join(dirs.nodeBin, b))) return `${b} is not built (${dirs.nodeBin})`
  }
  for (const f of ['debian-image.tar', 'pause-image.tar']) {
    if (!fs.existsSync(path.join(dirs.images, f))) return `image ${f} is not built (${dirs.images})`
  }
  if (!fs.existsSync('/sys/fs/cgroup')) return 'no cgroup file system at /sys/fs/cgroup'
  if (!/\toverlay$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'))) return 'no overlay file system'
  for (const t of ['mount', 'umount', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `no ${t} command`
  }
  // containerd 2.x always imports /etc/containerd/conf.d/*.toml; a host file would leak into the node.
  const confd = '/etc/containerd/conf.d'
  if (fs.existsSync(confd) && fs.readdirSync(confd).some((f) => f.endsWith('.toml')))
    return `${confd}/*.toml exists and would change the test node's containerd`
  // The API server dials the kubelet by node name (kubectl logs, exec): it must resolve, to loopback
  // (the kubelet listens on 127.0.0.1 only).
  const name = os.hostname()
  try {
    const addrs = await dns.lookup(name, {all: true})
    if (!addrs.some((a) => a.address === '127.0.0.1' || a.address === '::1' || a.address.startsWith('127.'))) {
      return `host name ${name} does not resolve to a loopback address (${addrs.map((a) => a.address).join(', ')})`
    }
  } catch {
    return `host name ${name} does not resolve`
  }
  const holder = nodeLockHolder()
  if (holder) return `another test cluster on this machine runs the real node (pid ${holder})`
  return undefined
}

/** The live process (not this one) that runs the real node, if any. */
export function nodeLockHolder(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockFile(), 'utf8').trim())
    if (pid && pid !== process.pid && alive(pid)) return pid
  } catch {
    /* no lock */
  }
  return undefined
}

// ---------------------------------------------------------------------------
// what a run leaves on the host, and removing it

function mountsUnder(dir: string): string[] {
  const out: string[] = []
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ')
    if (f.length < 5) continue
    const mp = f[4].replace(/\\040/g, ' ')
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp)
  }
  return out
}

/** Processes whose command line or executable refers to one of `dirs`. */
function processesUsing(dirs: string[]): {pid: number; cmd: string}[] {
  const out: {pid: number; cmd: string}[] = []
  for (const e of fs.readdirSync('/proc')) {
    const pid = Number(e)
    if (!pid || pid === process.pid) continue
    let cmd = ''
    let exe = ''
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
      exe = fs.readlinkSync(`/proc/${pid}/exe`)
    } catch {
      /* gone, or a kernel thread */
    }
    if (dirs.some((d) => cmd.includes(d) || exe.startsWith(`${d}/`))) out.push({pid, cmd})
  }
  return out
}

/** The kubelet's pod cgroups (cgroupfs driver), deepest first, in every hierarchy. */
function podCgroups(): string[] {
  const roots: string[] = []
  const base = '/sys/fs/cgroup'
  if (fs.existsSync(path.join(base, 'kubepods'))) roots.push(path.join(base, 'kubepods'))
  for (const h of fs.existsSync(base) ? fs.readdirSync(base) : []) {
    const d = path.join(base, h, 'kubepods')
    if (fs.existsSync(d)) roots.push(d)
  }
  const out: string[] = []
  const walk = (d: string) => {
    let entries: fs.Dirent[] = []
    try {
      entries = fs.readdirSync(d, {withFileTypes: true})
    } catch {
      return
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name))
    out.push(d)
  }
  roots.forEach(walk)
  return out
}

function killCgroupProcs(cgroups: string[]): void {
  for (const cg of cgroups) {
    let procs = ''
    try {
      procs = fs.readFileSync(path.join(cg, 'cgroup.procs'), 'utf8')
    } catch {
      continue
    }
    for (const p of procs.split('\n').map(Number).filter(Boolean)) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  }
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/** Files the kubelet and libcni write at fixed host paths (not configurable). */
function fixedPathLeftovers(dir: string): string[] {
  const out: string[] = []
  // libcni's result cache: <network>-<container>-<if>; ours are "pvd" and containerd's own loopback
  const results = '/var/lib/cni/results'
  if (fs.existsSync(results))
    for (const f of fs.readdirSync(results))
      if (f.startsWith('pvd-') || f.startsWith('cni-loopback-')) out.push(path.join(results, f))
  // shim sockets (fixed dir in containerd 2.x); stale = no process has it bound any more
  const shims = '/run/containerd/s'
  if (fs.existsSync(shims)) {
    const bound = new Set(
      fs
        .readFileSync('/proc/net/unix', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[7])
        .filter(Boolean),
    )
    for (const f of fs.readdirSync(shims)) if (!bound.has(path.join(shims, f))) out.push(path.join(shims, f))
  }
  const logs = '/var/log/containers'
  if (fs.existsSync(logs)) {
    for (const f of fs.readdirSync(logs)) {
      try {
        if (fs.readlinkSync(path.join(logs, f)).startsWith(`${dir}/`)) out.push(path.join(logs, f))
      } catch {
        /* not a link */
      }
    }
  }
  const dp = '/var/lib/kubelet/device-plugins/kubelet.sock'
  if (fs.existsSync(dp)) out.push(dp)
  return out
}

/**
 * What a real-node run can leave on this host: processes that refer to the state dir or to
 * `workDirs` (a cluster's work dir: its sidecars and daemons), mounts under the state dir,
 * the bridge, pod cgroups, fixed-path files. Empty when the host is clean.
 */
export function nodeLeftovers(workDirs: string[] = [], withNode = true): string[] {
  const dir = nodeStateDir()
  const out: string[] = []
  for (const p of processesUsing(withNode ? [dir, ...workDirs] : workDirs))
    out.push(`process ${p.pid}: ${p.cmd.slice(0, 160)}`)
  // The node's traces are this run's only when it held the node (else another cluster may own them).
  if (!withNode) return out
  for (const m of mountsUnder(dir)) out.push(`mount ${m}`)
  if (fs.existsSync(`/sys/class/net/${BRIDGE}`)) out.push(`network interface ${BRIDGE}`)
  const cgroups = podCgroups()
  if (cgroups.length) out.push(`${cgroups.length} kubepods cgroup(s), e.g. ${cgroups[0]}`)
  for (const f of fixedPathLeftovers(dir)) out.push(`file ${f}`)
  return out
}

/**
 * Removes everything a real-node run (this one, or a crashed earlier one) left: processes in
 * pod cgroups, our daemons and the shims they leave behind (setsid children, so killing the
 * supervisor does not reach them), mounts under the state dir (deepest first), the bridge,
 * the pod cgroups, fixed-path files, and the state dir itself.
 */
export function reapNode(log: (m: string) => void = () => {}): void {
  const dir = nodeStateDir()
  for (let round = 0; round < 5; round++) {
    killCgroupProcs(podCgroups())
    const procs = processesUsing([dir])
    for (const p of procs) {
      try {
        process.kill(p.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    if (
      procs.length === 0 &&
      podCgroups().every(
        (cg) =>
          !fs.existsSync(path.join(cg, 'cgroup.procs')) ||
          fs.readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').trim() === '',
      )
    )
      break
    if (round === 0 && procs.length) log(`reaping ${procs.length} leftover process(es) of the real node`)
    sleepSync(200)
  }
  const mounts = mountsUnder(dir).sort((a, b) => b.length - a.length)
  for (const m of mounts) spawnSync('umount', ['-l', m], {stdio: 'ignore'})
  if (mounts.length) log(`unmounted ${mounts.length} leftover mount(s) under ${dir}`)
  if (fs.existsSync(`/sys/class/net/${BRIDGE}`)) spawnSync('ip', ['link', 'del', BRIDGE], {stdio: 'ignore'})
  for (const cg of podCgroups()) {
    for (let i = 0; i < 20; i++) {
      try {
        fs.rmdirSync(cg)
        break
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break
        sleepSync(50) // the kernel frees a cgroup a moment after its last process exits
      }
    }
  }
  for (const f of fixedPathLeftovers(dir)) fs.rmSync(f, {force: true})
  // Remove the fixed-path directories only when they are empty (something else may use them).
  for (const d of [
    '/var/lib/cni/results',
    '/var/lib/cni',
    '/var/lib/kubelet/device-plugins',
    '/var/lib/kubelet',
    '/var/log/containers',
    '/run/containerd/s',
    '/run/containerd',
  ]) {
    try {
      fs.rmdirSync(d)
    } catch {
      /* not empty, or absent */
    }
  }
  if (mountsUnder(dir).length === 0) fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3})
}

// ---------------------------------------------------------------------------
// configuration files

export function containerdConfig(n: string, nodeBin: string): string {
  // version 3 is what the recipe ran (2.4 migrates it to 4 with a warning).
  return `version = 3
root = ${JSON.stringify(path.join(n, 'containerd/root'))}
state = ${JSON.stringify(path.join(n, 'containerd/state'))}
[grpc]
  address = ${JSON.stringify(path.join(n, 'containerd/containerd.sock'))}
[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "${PAUSE_IMAGE}"
  [plugins.'io.containerd.cri.v1.runtime']
    # root here has no CAP_SYS_RESOURCE: the kubelet's negative oom_score_adj would fail every sandbox
    restrict_oom_score_adj = true
    # else network namespaces are mounted under /run/netns on the host
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = ${JSON.stringify(path.join(nodeBin, 'runc'))}
          SystemdCgroup = false
          Root = ${JSON.stringify(path.join(n, 'runc'))}
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [${JSON.stringify(nodeBin)}]
      conf_dir = ${JSON.stringify(path.join(n, 'cni/net.d'))}
`
}

export function cniConfig(n: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'pvd',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: false, // pods talk to nothing outside: no iptables needed
          ipam: {type: 'host-local', ranges: [[{subnet: '10.244.0.0/24'}]], dataDir: path.join(n, 'cni/ipam')},
        },
      ],
    },
    null,
    2,
  )
}

export function kubeletConfig(n: string, port: number, healthzPort: number): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# default true since 1.35; machines of this kind still run cgroup v1 (hybrid)
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${path.join(n, 'containerd/containerd.sock')}
# the kubelet API on loopback only: it allows anonymous access (the API server has no kubelet client cert)
address: 127.0.0.1
port: ${port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${healthzPort}
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization:
  mode: AlwaysAllow
podLogsDir: ${JSON.stringify(path.join(n, 'kubelet/pod-logs'))}
volumePluginDir: ${JSON.stringify(path.join(n, 'kubelet/volume-plugins'))}
# the images cannot be pulled back: never collect them
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
registerNode: true
nodeStatusUpdateFrequency: 2s
syncFrequency: 5s
`
}

export function writeNodeFiles(n: string, nodeBin: string, port: number, healthzPort: number): void {
  for (const d of [
    'containerd',
    'kubelet/root/plugins_registry',
    'kubelet/pki',
    'kubelet/pod-logs',
    'kubelet/volume-plugins',
    'cni/net.d',
    'cni/ipam',
    'runc',
  ]) {
    fs.mkdirSync(path.join(n, d), {recursive: true})
  }
  fs.writeFileSync(path.join(n, 'containerd.toml'), containerdConfig(n, nodeBin))
  fs.writeFileSync(path.join(n, 'cni/net.d/10-pvd.conflist'), cniConfig(n))
  fs.writeFileSync(path.join(n, 'kubelet.yaml'), kubeletConfig(n, port, healthzPort))
}

export function takeNodeLock(): void {
  fs.mkdirSync(path.dirname(lockFile()), {recursive: true})
  fs.writeFileSync(lockFile(), `${process.pid}\n`)
}

export function releaseNodeLock(): void {
  try {
    if (Number(fs.readFileSync(lockFile(), 'utf8').trim()) === process.pid) fs.rmSync(lockFile(), {force: true})
  } catch {
    /* none */
  }
}

/** `ctr` against our containerd (the address must be absolute: grpc-go reads a relative one as an authority). */
export function ctr(nodeBin: string, n: string, args: string[]): string {
  return execFileSync(
    path.join(nodeBin, 'ctr'),
    ['-a', path.join(n, 'containerd/containerd.sock'), '-n', 'k8s.io', ...args],
    {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']},
  )
}
