/** Runs the built CLI as a user would (a subprocess of bin/kubectl-pv_doctor). */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'kubectl-pv_doctor')

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** The user's environment: without vitest's NODE_ENV=test, which would make oclif load src/*.ts. */
function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...extra}
  delete env.NODE_ENV
  delete env.VITEST
  return env
}

/** Runs to the end; stdin is a pipe (never a terminal), so commands take their non-interactive path. */
export function runCli(
  args: string[],
  opts: {input?: string; env?: Record<string, string | undefined>; timeoutMs?: number} = {},
): Run {
  const env = userEnv(opts.env)
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: opts.input,
    env,
    timeout: opts.timeoutMs ?? 60_000,
    cwd: ROOT,
  })
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/** The CLI as a child process the test can signal; resolves when it exits. */
export function spawnCli(args: string[]): Promise<Run> & {child: ChildProcess} {
  const child = spawn(process.execPath, [BIN, ...args], {env: userEnv(), cwd: ROOT})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({code: code ?? (signal ? 128 + 2 : 1), stdout, stderr})),
  )
  return Object.assign(done, {child})
}

/** A kubeconfig of one context (namespace shop) with a bearer token and no TLS check, for a test server. */
export function writeTokenKubeconfig(path: string, server: string): void {
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: shop}}]
current-context: x
`,
  )
}
