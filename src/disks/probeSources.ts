/**
 * Where probe reports come from besides pods: the probe run on this machine (--local) and saved
 * reports (--from-report). Reads files and runs `sh`; never imports oclif or the k8s client.
 */
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {readInputFile} from '../readInputFile.js'
import {UserError} from '../errors.js'
import {ProbeReportError, parseProbeReport} from './parseProbeReport.js'
import type {ProbeReport} from './types.js'

/** scripts/probe.sh, shipped next to dist/ in the package. */
export function probeScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  return join(here, '..', '..', 'scripts', 'probe.sh')
}

export function readProbeScript(): string {
  const path = probeScriptPath()
  if (!existsSync(path)) throw new UserError(`the probe script ${path} is missing; reinstall pv-doctor`)
  return readFileSync(path, 'utf8')
}

/** Runs the probe here, as the node named `node`. */
export function probeLocally(node: string, timeoutMs: number): Promise<ProbeReport> {
  const script = probeScriptPath()
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script], {env: {...process.env, NODE_NAME: node}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    const timer = timeoutMs > 0 ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')))
    child.on('error', (e) => reject(new UserError(`cannot run the probe (sh ${script}): ${e.message}`)))
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      if (signal) return reject(new UserError(`the probe did not finish within ${timeoutMs / 1000}s; raise --timeout`))
      if (code !== 0)
        return reject(new UserError(`the probe failed (exit ${code}): ${err.trim().split('\n')[0] ?? ''}`))
      try {
        resolve(parseProbeReport(out, 'the local probe output'))
      } catch (error) {
        reject(error instanceof ProbeReportError ? new UserError(error.message) : error)
      }
    })
  })
}

/** Saved probe reports, one per file ("-" = stdin). */
export function readReportFiles(files: readonly string[]): ProbeReport[] {
  const reports = files.map((file) => {
    const text = readInputFile(file, '--from-report')
    try {
      return parseProbeReport(text, `--from-report ${file}`)
    } catch (error) {
      if (error instanceof ProbeReportError) throw new UserError(error.message)
      throw error
    }
  })
  const seen = new Map<string, string>()
  for (const [i, r] of reports.entries()) {
    const prev = seen.get(r.node)
    if (prev)
      throw new UserError(`--from-report ${prev} and ${files[i]} are both for node ${r.node}; give one report per node`)
    seen.set(r.node, files[i])
  }
  return reports
}
