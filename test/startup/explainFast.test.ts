// bin/ runs `explain` without oclif's Config and Command when it can (src/startup/explainFast.ts).
// A user must not be able to tell: for every argv here both routes print the same bytes and exit
// with the same code, errors included; and the fast route is really taken where it should be.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {BIN, ROOT, writeTokenKubeconfig} from '../helpers/cli.js'
import {oclifNeeded} from '../../src/startup/explainFast.js'

const tmp = mkdtempSync(join(tmpdir(), 'pvd-explain-fast-'))
const example = join(ROOT, 'examples', 'pending-local.yaml')
// A server nobody listens on: the live route up to its first request, and its error.
const closed = join(tmp, 'closed.kubeconfig')
writeTokenKubeconfig(closed, 'https://127.0.0.1:1')
// Records which of oclif's modules the process loaded.
const probe = join(tmp, 'loaded.cjs')
writeFileSync(
  probe,
  `process.on('exit', () => require('fs').writeFileSync(process.env.PVD_LOADED, Object.keys(require.cache).join('\\n')))\n`,
)

interface Route {
  code: number
  stdout: string
  stderr: string
  /** Whether oclif's Config module was loaded (the oclif route). */
  oclifConfig: boolean
}

function run(args: string[], route: 'bin' | 'oclif', env: Record<string, string> = {}): Route {
  const loaded = join(tmp, `loaded-${Math.random().toString(36).slice(2)}`)
  const e: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', PVD_LOADED: loaded, HOME: tmp, ...env}
  delete e.NODE_ENV
  delete e.VITEST
  // oclif answering, as bin/ did before the fast path.
  const script = `import('@oclif/core/execute').then((m) => m.execute({dir: ${JSON.stringify(BIN)}, args: ${JSON.stringify(args)}}))`
  const argv = route === 'bin' ? ['-r', probe, BIN, ...args] : ['-r', probe, '-e', script]
  const r = spawnSync(process.execPath, argv, {encoding: 'utf8', env: e, cwd: ROOT, timeout: 60_000})
  const modules = readFileSync(loaded, 'utf8')
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    oclifConfig: modules.includes(join('@oclif', 'core', 'lib', 'config', 'config.js')),
  }
}

/** What the user sees; a JUnit report's timestamp is the second it was written. */
const outputOf = (r: Route) => ({
  code: r.code,
  stdout: r.stdout.replace(/timestamp="[^"]*"/g, 'timestamp="…"'),
  stderr: r.stderr,
})

/** argv the fast route runs itself: every output form, targets, and errors met after parsing. */
const FAST: string[][] = [
  ['explain', '-A', '-f', example],
  ['explain', '-n', 'shop', '--from-file', example],
  ['explain', 'shop/cache', `--from-file=${example}`, '-o', 'json'],
  ['explain', '-A', '-f', example, '-o', 'yaml', '--all'],
  ['explain', '-A', '-f', example, '-owide', '--color', 'always'],
  ['explain', '-A', '-f', example, '-o', 'junit'],
  ['explain', '-A', '-f', example, '-o', 'github'],
  ['explain', '-n', 'shop', 'pod/cache-0', 'pg-data', '-f', example],
  ['explain', 'pv/pg-data-old', '-f', example, '-A', '-l', 'app=db'],
  ['explain', '-f', example, '--', '-A'],
  // Errors of the run: the one line, the exit code.
  ['explain', '-A', '-f', example, '-l', 'a=('],
  ['explain', '-A', '-f', example, '--request-timeout', 'soon'],
  ['explain', '-A', '-f', example, '--kube-version', '1.2'],
  ['explain', '-A', '-f', join(tmp, 'no-such-file.json')],
  ['explain', 'a/b/c', '-f', example],
  ['explain', '--as-group', 'g', '-f', example],
  ['explain', 'cache', '--kubeconfig', closed],
  ['explain', '--kubeconfig', join(tmp, 'no-such-kubeconfig')],
]

/** argv left to oclif: help, parse errors, --debug, kubectl's bare --dry-run (the preparse hook). */
const OCLIF: string[][] = [
  ['explain', '--help'],
  ['explain', 'x', '-h'],
  ['explain', '-f', example, '--bogus'],
  ['explain', '-f', example, '-o', 'xml'],
  ['explain', '-f'],
  ['explain', '-A', '-f', example, '--debug', '-l', 'a=('],
  ['explain', '--dry-run', '-f', example],
]

/** A test's title: the argv, without this machine's paths. */
const title = (args: string[]) =>
  args
    .slice(1)
    .map((a) => a.replace(ROOT, '.').replace(tmp, '$TMP'))
    .join(' ')

describe('explain without oclif (bin/ fast path)', () => {
  for (const args of FAST)
    it(`runs ${title(args)} itself, with oclif's output`, () => {
      const fast = run(args, 'bin')
      const oclif = run(args, 'oclif')
      expect(fast.oclifConfig).toBe(false)
      expect(oclif.oclifConfig).toBe(true)
      expect(outputOf(fast)).toEqual(outputOf(oclif))
    })

  for (const args of OCLIF)
    it(`leaves ${title(args)} to oclif`, () => {
      const fast = run(args, 'bin')
      expect(fast.oclifConfig).toBe(true)
      expect(outputOf(fast)).toEqual(outputOf(run(args, 'oclif')))
    })

  it('leaves it to oclif when its debug output or a user plugin may change the run', () => {
    const args = ['explain', '-A', '-f', example]
    expect(run(args, 'bin', {KUBECTL_PV_DOCTOR_DEBUG: '1'}).oclifConfig).toBe(true)
    const data = join(tmp, 'data', 'pv-doctor')
    mkdirSync(data, {recursive: true})
    writeFileSync(join(data, 'package.json'), '{"oclif": {"plugins": []}}')
    expect(run(args, 'bin', {XDG_DATA_HOME: join(tmp, 'data')}).oclifConfig).toBe(true)
  })

  it('knows when oclif must answer', () => {
    const env = {HOME: tmp}
    expect(oclifNeeded(['-A'], env)).toBe(false)
    expect(oclifNeeded(['-A', '--help'], env)).toBe(true)
    expect(oclifNeeded(['--', '-h'], env)).toBe(false)
    expect(oclifNeeded(['-A'], {...env, DEBUG: '*'})).toBe(true)
    expect(oclifNeeded(['-A'], {...env, NODE_ENV: 'development'})).toBe(true)
    expect(oclifNeeded(['-A'], {...env, NODE_ENV: 'production'})).toBe(false)
  })

  it("mirrors the package's oclif settings it depends on", () => {
    // explainFast.ts knows these: the help flags, the one preparse hook (kubectlStyleArgv), no
    // plugins of the package's own, and no command id under `explain` (argv[0] is the id).
    const oclif = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).oclif
    expect(oclif.additionalHelpFlags).toEqual(['-h'])
    expect(Object.keys(oclif.hooks).sort()).toEqual(['command_not_found', 'preparse'])
    expect(oclif.plugins).toBeUndefined()
    expect(oclif.bin).toBe('kubectl pv-doctor')
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    expect(Object.keys(manifest.commands).filter((id) => id.startsWith('explain'))).toEqual(['explain'])
  })
})
