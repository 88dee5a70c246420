/**
 * A sample of the generated inputs through the built CLI, for what in-process calls cannot show:
 * exit code 0/1 with a diagnosis, or 2 with exactly one `error:` line, and never a stack trace.
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'
import {damagedText, JS_WORDING, mutatedDocument} from './inputs.js'

const tmp = mkdtempSync(join(tmpdir(), 'pvd-fuzz-cli-'))
const dump = JSON.parse(readFileSync(join(ROOT, 'examples', 'shop-kubectl-dump.json'), 'utf8')) as {items: unknown[]}

let runs = 0
afterAll(() => console.log(`fuzz: ${runs} generated inputs through the built CLI, each a result or one error line`))

function expectContract(r: {code: number; stdout: string; stderr: string}): void {
  runs++
  if (r.code === 0 || r.code === 1) {
    expect(r.stdout).not.toMatch(JS_WORDING)
    return
  }
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).not.toMatch(JS_WORDING)
  expect(lines[0]).not.toMatch(/internal error/)
}

describe('fuzz: a sample through the CLI', () => {
  it('mutated snapshots give a diagnosis or one error line', () => {
    const items = fc.constantFrom(...dump.items.keys())
    const cases = fc.sample(
      fc.oneof(
        items.chain((i) =>
          mutatedDocument(dump.items[i]).map((item) =>
            JSON.stringify({...dump, items: dump.items.map((x, j) => (j === i ? item : x))}),
          ),
        ),
        damagedText(JSON.stringify(dump)),
      ),
      {seed: 14, numRuns: 16},
    )
    cases.forEach((text, n) => {
      const f = join(tmp, `snap-${n}.json`)
      writeFileSync(f, text)
      expectContract(runCli(['explain', '-A', '-f', f]))
    })
  }, 120_000)
  it('mutated probe reports give a disk report or one error line', () => {
    const report = JSON.parse(readFileSync(join(ROOT, 'test', 'disks', 'fixtures', 'nvme-server.json'), 'utf8'))
    const snap = join(ROOT, 'examples', 'shop-kubectl-dump.json')
    const cases = fc.sample(mutatedDocument(report), {seed: 14, numRuns: 6})
    cases.forEach((doc, n) => {
      const f = join(tmp, `report-${n}.json`)
      writeFileSync(f, JSON.stringify(doc) ?? '')
      const r = runCli(['disks', '--from-report', f, '--from-file', snap])
      expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/)
      if (r.code !== 0) expectContract(r)
      else runs++
    })
  }, 120_000)
  it('mutated kubeconfigs give one error line', () => {
    const kc = {
      clusters: [{name: 'c', cluster: {server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true}}],
      users: [{name: 'u', user: {token: 't'}}],
      contexts: [{name: 'x', context: {cluster: 'c', user: 'u'}}],
      'current-context': 'x',
    }
    const cases = fc.sample(mutatedDocument(kc), {seed: 14, numRuns: 6})
    cases.forEach((doc, n) => {
      const f = join(tmp, `kc-${n}`)
      writeFileSync(f, yaml.dump(doc ?? null, {skipInvalid: true}))
      const r = runCli(['explain', '--kubeconfig', f, '--request-timeout=2s'])
      expect(r.code).toBe(2)
      expectContract(r)
    })
  }, 120_000)
})
