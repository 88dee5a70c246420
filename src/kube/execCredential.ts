/**
 * Runs a kubeconfig exec credential plugin as client-go does (plugin/pkg/client/auth/exec/exec.go
 * refreshCredsLocked): KUBERNETES_EXEC_INFO carries the request (interactive or not, and the
 * cluster when provideClusterInfo is set), stdout must be an ExecCredential of the same
 * apiVersion with a token or a certificate/key pair. Written here rather than using
 * @kubernetes/client-node's ExecAuth because that one ignores interactiveMode,
 * provideClusterInfo, installHint and the apiVersion check, and costs the library's start-up.
 * Every failure is one line naming the binary, the user entry and the fix.
 */
import {spawn} from 'node:child_process'
import type {RequestOptions} from 'node:https'
import {UserError} from '../errors.js'
import type {ExecPlugin} from './kubeconfig.js'

function lastLines(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  return lines.slice(-2).join(' / ').slice(0, 300)
}

/** Runs the plugin and adds its credentials to the agent options. */
export async function applyExecCredential(p: ExecPlugin, opts: RequestOptions): Promise<void> {
  const who = `the exec plugin of user "${p.user}" (in ${p.file})`
  const tty = Boolean(process.stdin.isTTY)
  if (p.interactiveMode === 'Always' && !tty)
    throw new UserError(
      `exec plugin cannot support interactive mode: standard input is not a terminal (${who} needs interactiveMode Always); run it in a terminal`,
    )
  const interactive = p.interactiveMode === 'Always' || (p.interactiveMode === 'IfAvailable' && tty)
  const spec: Record<string, unknown> = {interactive}
  if (p.cluster) spec.cluster = p.cluster
  const info = JSON.stringify({apiVersion: p.apiVersion, kind: 'ExecCredential', spec})
  const env: NodeJS.ProcessEnv = {...process.env, KUBERNETES_EXEC_INFO: info}
  for (const v of p.env) env[v.name] = v.value

  const {code, stdout, stderr, error} = await new Promise<{
    code: number | null
    stdout: string
    stderr: string
    error?: NodeJS.ErrnoException
  }>((done) => {
    const child = spawn(p.command, p.args, {
      env,
      // kubectl hands the terminal to an interactive plugin; otherwise stderr is kept for the error line.
      stdio: [interactive ? 'inherit' : 'ignore', 'pipe', interactive ? 'inherit' : 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.on('error', (e) => done({code: null, stdout: out, stderr: err, error: e}))
    child.on('close', (c) => done({code: c, stdout: out, stderr: err}))
  })
  if (error) {
    if (error.code === 'ENOENT') {
      const hint = p.installHint
        ? lastLines(p.installHint)
        : "it is usually installed with the cloud provider's CLI (aws, gcloud, az, ...); install it or put it on PATH"
      throw new UserError(`exec: executable ${p.command} not found (${who}, looked up in PATH): ${hint}`)
    }
    if (error.code === 'EACCES')
      throw new UserError(`exec: executable ${p.command} of ${who} is not executable (permission denied); chmod +x it`)
    throw new UserError(`exec: ${p.command} of ${who} could not run (${error.code ?? error.message})`)
  }
  if (code !== 0) {
    const said = lastLines(stderr)
    throw new UserError(
      `exec: executable ${p.command} failed with exit code ${code ?? 'signal'} (${who})${said ? `: ${said}` : ''}; run it by hand to see why, or log in again`,
    )
  }
  let cred: unknown
  try {
    cred = JSON.parse(stdout)
  } catch {
    throw new UserError(`exec: ${p.command} (${who}) did not print an ExecCredential as JSON on stdout`)
  }
  const c = (typeof cred === 'object' && cred !== null ? cred : {}) as {
    apiVersion?: unknown
    kind?: unknown
    status?: {token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown}
  }
  if (c.apiVersion !== p.apiVersion || c.kind !== 'ExecCredential')
    throw new UserError(
      `exec plugin is configured to use API version ${p.apiVersion}, plugin returned version ${String(c.apiVersion)} (${who})`,
    )
  const s = c.status
  if (typeof s !== 'object' || s === null) throw new UserError(`exec plugin didn't return a status field (${who})`)
  const token = typeof s.token === 'string' ? s.token : ''
  const cert = typeof s.clientCertificateData === 'string' ? s.clientCertificateData : ''
  const key = typeof s.clientKeyData === 'string' ? s.clientKeyData : ''
  if (!token && !cert && !key) throw new UserError(`exec plugin didn't return a token or cert/key pair (${who})`)
  if (!cert !== !key) throw new UserError(`exec plugin returned only certificate or key, not both (${who})`)
  if (cert) {
    opts.cert = cert
    opts.key = key
  }
  if (token) opts.headers = {...(opts.headers as Record<string, string> | undefined), Authorization: `Bearer ${token}`}
}
