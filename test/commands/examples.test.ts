import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'

// Every example in `--help` must be one command line a user can paste: bash must accept it, and
// when it runs (against stubs that only record their arguments) it must make exactly the calls it
// shows. A multi-line example joined by a bare trailing `\` parses fine but turns two commands into
// one, so the second `kubectl` shows up as an argument of the first: that is what the stubs catch.
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, unknown>
}
const ids = Object.keys(manifest.commands)

/** The commands of the EXAMPLES section, as printed (continuation lines kept, `$ ` dropped). */
function examplesOf(help: string): string[] {
  const lines = help.split('\n')
  const start = lines.indexOf('EXAMPLES')
  if (start < 0) return []
  const out: string[] = []
  let current: string[] | undefined
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break // next section
    const continues = current !== undefined && current.at(-1)!.endsWith('\\')
    if (continues) {
      current!.push(line)
      continue
    }
    if (current) {
      out.push(current.join('\n'))
      current = undefined
    }
    const indent = line.length - line.trimStart().length
    if (line.trim() !== '' && (indent >= 4 || line.trimStart().startsWith('$ ')))
      current = [line.trimStart().replace(/^\$ /, '')]
  }
  if (current) out.push(current.join('\n'))
  return out
}

const STUBS = `
record() { local a; printf '%s' "$1" >&3; shift; for a in "$@"; do printf '\\t%s' "$a" >&3; done; printf '\\n' >&3; }
kubectl() { record kubectl "$@"; }
sh() { record sh "$@"; }
sudo() { "$@"; }
`

const dir = mkdtempSync(join(tmpdir(), 'pvd-examples-'))
// Examples may write under ~ (a fish completion file): HOME is the scratch directory.
mkdirSync(join(dir, '.config', 'fish', 'completions'), {recursive: true})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Runs one example against the stubs; returns each call's argv. */
function calls(example: string): string[][] {
  const log = join(dir, 'calls')
  rmSync(log, {force: true})
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `exec 3>${JSON.stringify(log)}\n${STUBS}\n${example}`], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, HOME: dir},
  })
  expect(r.stderr).toBe('')
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
}

describe.each([200, 60])('help examples at %i columns', (columns) => {
  for (const id of ids) {
    const help = runCli([id, '--help'], {env: {OCLIF_COLUMNS: String(columns)}})
    const examples = examplesOf(help.stdout)
    it(`${id} has examples`, () => {
      expect(help.code).toBe(0)
      expect(examples.length).toBeGreaterThan(0)
    })
    for (const example of examples) {
      it(`${id}: ${example.split('\n')[0]}`, () => {
        const syntax = spawnSync('bash', ['-n', '-c', example], {encoding: 'utf8'})
        expect(syntax.stderr).toBe('')
        expect(syntax.status).toBe(0)
        const argvs = calls(example)
        for (const argv of argvs)
          expect(argv.slice(1), `one command swallowed another: ${argv.join(' ')}`).not.toContain('kubectl')
        const ours = argvs.filter((a) => a[0] === 'kubectl' && a[1] === 'pv-doctor')
        expect(ours.length).toBeGreaterThan(0)
        for (const argv of ours) expect(ids).toContain(argv[2])
      })
    }
  }
})
