/** Runs the built CLI as a user would (a subprocess of bin/kubectl-pv_doctor). */
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'kubectl-pv_doctor')

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export function runCli(
  args: string[],
  opts: {input?: string; env?: Record<string, string | undefined>; timeoutMs?: number} = {},
): Run {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...opts.env}
  delete env.NODE_ENV
  delete env.VITEST
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: opts.input,
    env,
    timeout: opts.timeoutMs ?? 60_000,
    cwd: ROOT,
  })
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}
