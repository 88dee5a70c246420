// bin/ answers --version and the root --help from texts rendered at build time; a user must not
// be able to tell them from oclif's own answers, at any terminal width.
import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {BIN, ROOT, runCli} from '../helpers/cli.js'
import {helpWidth} from '../../src/startup/fastPath.js'

/** oclif answering, as bin/ did before the fast path. */
function oclif(args: string[], env: Record<string, string> = {}): {code: number; stdout: string; stderr: string} {
  const e: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...env}
  delete e.NODE_ENV
  delete e.VITEST
  const script = `import('@oclif/core/execute').then((m) => m.execute({dir: ${JSON.stringify(BIN)}, args: ${JSON.stringify(args)}}))`
  const r = spawnSync(process.execPath, ['-e', script], {encoding: 'utf8', env: e, cwd: ROOT})
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

describe('--version and --help without oclif', () => {
  it('--version prints what oclif prints', () => {
    const fast = runCli(['--version'])
    expect(fast.stdout).toMatch(/^pv-doctor\/\d+\.\d+\.\d+ \S+-\S+ node-v\d+/)
    expect(fast).toEqual(oclif(['--version']))
  })

  // 80 is what a pipe gets; the others are terminal widths (OCLIF_COLUMNS stands in for the
  // terminal's, as oclif reads it first), down to oclif's minimum and past the longest line.
  for (const columns of [undefined, '40', '57', '123', '400']) {
    it(`the root help is oclif's at ${columns ?? 'a pipe (80)'} columns, for --help, -h and no arguments`, () => {
      const env: Record<string, string> = columns ? {OCLIF_COLUMNS: columns} : {}
      const want = oclif(['--help'], env)
      expect(want.stdout).toContain('COMMANDS')
      for (const args of [['--help'], ['-h'], []]) expect(runCli(args, {env})).toEqual(want)
    })
  }

  it('wraps at the width oclif would use on a terminal', () => {
    expect(helpWidth({}, {isTTY: true, columns: 132})).toBe(132)
    expect(helpWidth({}, {isTTY: true, columns: 20})).toBe(40)
    expect(helpWidth({}, {isTTY: false, columns: 132})).toBe(80)
    expect(helpWidth({OCLIF_COLUMNS: '100'}, {isTTY: true, columns: 132})).toBe(100)
  })

  it("leaves a command's help to oclif", () => {
    const r = runCli(['explain', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('USAGE\n  $ kubectl pv-doctor explain')
  })
})
