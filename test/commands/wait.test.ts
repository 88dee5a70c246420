// `wait` on bad input: one line, exit 2, before any cluster is contacted.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'pvd-wait-'))
// A kubeconfig pointing nowhere: any test that reached the cluster would fail differently.
const kc = join(tmp, 'kubeconfig')
writeFileSync(
  kc,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
)

function expectOneLineError(args: string[], pattern: RegExp) {
  const r = runCli(['wait', '--kubeconfig', kc, ...args])
  expect(r.code, r.stderr).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
}

describe('wait: bad input', () => {
  it('a bad --timeout', () =>
    expectOneLineError(['data', '--timeout', 'soon'], /invalid duration "soon" for --timeout/))
  it('an unknown --for', () => expectOneLineError(['data', '--for', 'ready'], /usable, bound/))
  it('a manifest that does not exist', () =>
    expectOneLineError(['-f', join(tmp, 'nope.yaml')], /cannot read -f .*nope\.yaml: no such file/))
  it('a directory with no manifests', () => {
    const dir = mkdtempSync(join(tmp, 'empty-'))
    expectOneLineError(['-f', dir], /holds no \.yaml, \.yml or \.json files/)
  })
  it('names and -f together', () => {
    const f = join(tmp, 'c.yaml')
    writeFileSync(f, 'kind: PersistentVolumeClaim\nmetadata: {name: a}\n')
    expectOneLineError(['data', '-f', f], /not both/)
  })
  it('an unreachable cluster is exit 2, not a timeout', () =>
    expectOneLineError(['data', '--timeout', '1m'], /refused|reach/))
})
