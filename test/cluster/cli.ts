// Developer CLI for the test control plane.
//
//   npm run cluster:up      start (detached) in $PV_DOCTOR_CLUSTER_DIR or <tmpdir>/pv-doctor-cluster,
//                           building the binaries first if needed; prints what runs and
//                           `export KUBECONFIG=...` (--no-real-node: without this machine as a node)
//   npm run cluster:down    stop it and remove the state dir
//   tsx test/cluster/cli.ts up --foreground   run in the foreground until Ctrl-C (dir removed on exit)
//   tsx test/cluster/cli.ts status | env | build
//
// The detached daemon is this same file run as `serve <dir>`; its pid is in <dir>/daemon.pid
// and its output in <dir>/daemon.log. Component logs are in <dir>/logs/.

import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {ensureBinaries, startCluster, tail} from './cluster.js'
import {alive, nodeLeftovers, nodeLockHolder, reapNode} from './node.js'

const SELF = fileURLToPath(import.meta.url)
const stateDir = path.resolve(process.env.PV_DOCTOR_CLUSTER_DIR ?? path.join(os.tmpdir(), 'pv-doctor-cluster'))
const pidFile = path.join(stateDir, 'daemon.pid')
const readyFile = path.join(stateDir, 'ready.json')
const daemonLog = path.join(stateDir, 'daemon.log')

function daemonPid(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim())
    return pid > 0 && alive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

function printEnv(kubeconfig: string): void {
  process.stdout.write(`export KUBECONFIG=${kubeconfig}\n`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const realNodeWanted = () => !process.argv.includes('--no-real-node')

function printRunning(lines: string[]): void {
  for (const l of lines) process.stderr.write(`  ${l}\n`)
}

async function up(foreground: boolean): Promise<number> {
  if (daemonPid() && fs.existsSync(readyFile)) {
    const info = JSON.parse(fs.readFileSync(readyFile, 'utf8'))
    process.stderr.write(`cluster already running (pid ${daemonPid()}, ${info.server})\n`)
    printEnv(info.kubeconfig)
    return 0
  }
  if (daemonPid()) {
    process.stderr.write(`a cluster daemon (pid ${daemonPid()}) is starting or stuck; run 'down' first\n`)
    return 1
  }
  fs.rmSync(stateDir, {recursive: true, force: true})
  const binDir = await ensureBinaries()

  if (foreground) {
    fs.mkdirSync(stateDir, {recursive: true})
    const c = await startCluster({
      binDir,
      workDir: stateDir,
      removeWorkDir: true,
      realNode: realNodeWanted(),
      log: (m) => process.stderr.write(`${m}\n`),
    })
    process.stderr.write(
      `cluster up in ${c.timings.total} ms; logs in ${path.join(stateDir, 'logs')}; Ctrl-C stops it\n`,
    )
    printRunning(c.describe())
    printEnv(c.kubeconfig)
    await new Promise<void>((resolve) => {
      const done = () => resolve()
      process.once('SIGINT', done)
      process.once('SIGTERM', done)
    })
    await c.stop()
    return 0
  }

  fs.mkdirSync(stateDir, {recursive: true})
  const out = fs.openSync(daemonLog, 'a')
  const child = spawn(
    process.execPath,
    [...process.execArgv, SELF, 'serve', binDir, ...(realNodeWanted() ? [] : ['--no-real-node'])],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: {...process.env, PV_DOCTOR_CLUSTER_DIR: stateDir},
    },
  )
  fs.closeSync(out)
  child.unref()
  const deadline = Date.now() + 180_000
  while (Date.now() < deadline) {
    if (fs.existsSync(readyFile)) {
      const info = JSON.parse(fs.readFileSync(readyFile, 'utf8'))
      process.stderr.write(
        `cluster up (pid ${child.pid}, ${info.server}, ${info.timings.total} ms); logs in ${path.join(stateDir, 'logs')}\n`,
      )
      printRunning(info.running ?? [])
      printEnv(info.kubeconfig)
      return 0
    }
    if (child.exitCode !== null || !alive(child.pid!)) break
    await sleep(200)
  }
  process.stderr.write(`cluster failed to start; ${daemonLog}:\n${tail(daemonLog, 60)}\n`)
  return 1
}

async function serve(binDir: string): Promise<number> {
  fs.writeFileSync(pidFile, `${process.pid}\n`)
  const c = await startCluster({
    binDir,
    workDir: stateDir,
    removeWorkDir: false,
    realNode: realNodeWanted(),
    log: (m) => console.log(m),
  })
  const stop = async () => {
    await c.stop()
    fs.rmSync(readyFile, {force: true})
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.once('SIGHUP', stop)
  fs.writeFileSync(
    readyFile,
    JSON.stringify({
      server: c.server,
      kubeconfig: c.kubeconfig,
      timings: c.timings,
      nodes: c.nodeNames,
      realNode: c.realNode,
      running: c.describe(),
    }),
  )
  setInterval(() => {}, 1 << 30) // stay alive
  return new Promise<number>(() => {})
}

async function down(): Promise<number> {
  const pid = daemonPid()
  if (pid) {
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + 30_000
    while (alive(pid) && Date.now() < deadline) await sleep(100)
    if (alive(pid)) process.kill(pid, 'SIGKILL')
    // The daemon's supervisors kill their components once the daemon is gone.
    await sleep(700)
  }
  // A daemon that died without stopping (SIGKILL) leaves the real node's shims, mounts and
  // cgroups: clean them, unless another live cluster on this machine runs the node.
  if (!nodeLockHolder() && nodeLeftovers().length) {
    reapNode((m) => process.stderr.write(`${m}\n`))
  }
  fs.rmSync(stateDir, {recursive: true, force: true})
  process.stderr.write(
    pid ? `stopped cluster (pid ${pid}); removed ${stateDir}\n` : `no cluster running; removed ${stateDir}\n`,
  )
  return 0
}

function status(): number {
  const pid = daemonPid()
  if (pid && fs.existsSync(readyFile)) {
    const info = JSON.parse(fs.readFileSync(readyFile, 'utf8'))
    process.stdout.write(`running: pid ${pid}, server ${info.server}, kubeconfig ${info.kubeconfig}\n`)
    for (const l of info.running ?? []) process.stdout.write(`  ${l}\n`)
    return 0
  }
  process.stdout.write(pid ? `starting: pid ${pid}\n` : 'not running\n')
  return pid ? 0 : 1
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  switch (cmd) {
    case 'up':
      return up(rest.includes('--foreground') || rest.includes('-f'))
    case 'down':
      return down()
    case 'status':
      return status()
    case 'env': {
      if (!fs.existsSync(readyFile)) return status()
      printEnv(JSON.parse(fs.readFileSync(readyFile, 'utf8')).kubeconfig)
      return 0
    }
    case 'build':
      process.stdout.write(`${await ensureBinaries()}\n`)
      return 0
    case 'serve':
      return serve(rest[0])
    default:
      process.stderr.write('usage: cli.ts up [--foreground] [--no-real-node] | down | status | env | build\n')
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  },
)
