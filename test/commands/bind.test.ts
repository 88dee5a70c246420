/**
 * `bind` as users run it: the built CLI in a subprocess, offline (--from-file). Writes, server
 * dry runs and conflicts are tested against the real control plane in test/e2e/bind.test.ts.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import yaml from 'js-yaml'
import {beforeAll, describe, expect, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'

const demo = join(ROOT, 'examples', 'bind-demo.yaml')

beforeAll(() => {
  // The CLI under test is the compiled one, built by `npm test`'s pretest step (rebuilding here
  // would race the other test files that run the CLI in parallel).
  if (!existsSync(join(ROOT, 'dist', 'commands', 'bind.js')))
    throw new Error('dist/commands/bind.js missing: run npm run build')
})

describe('bind --from-file --dry-run (client)', () => {
  it('prints the BindPlan JSON for one claim and exits 0', () => {
    const r = runCli(['bind', 'app/db', '--from-file', demo, '--dry-run', '-o', 'json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({apiVersion: 'pv-doctor/v1', kind: 'BindPlan', dryRun: 'client'})
    expect(doc.bindings).toHaveLength(1)
    expect(doc.bindings[0]).toMatchObject({
      claim: 'app/db',
      volume: 'pv-db-old',
      status: 'bind',
      applied: false,
      patch: {
        metadata: {resourceVersion: '1003'},
        spec: {claimRef: {uid: '11111111-0000-4000-8000-000000000002', resourceVersion: null}},
      },
      claimPatch: null,
    })
    expect(doc.bindings[0].command).toBe(
      `kubectl patch pv pv-db-old --type=merge -p '{"metadata":{"resourceVersion":"1003"},"spec":{"claimRef":{"uid":"11111111-0000-4000-8000-000000000002","resourceVersion":null}}}'`,
    )
  })

  it('--all: every Pending claim, exit 1 because one has no candidate', () => {
    const r = runCli(['bind', '--all', '-n', 'app', '--from-file', demo, '--dry-run', '-o', 'json'])
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.stdout)
    const byClaim = Object.fromEntries(
      doc.bindings.map((b: {claim: string; status: string; volume: string | null}) => [b.claim, [b.status, b.volume]]),
    )
    expect(byClaim).toEqual({
      'app/big': ['noCandidate', null],
      'app/cache': ['bind', 'local-b'],
      'app/db': ['bind', 'pv-db-old'],
      'app/logs': ['noCandidate', null],
      'app/web': ['bind', 'pv-rwo-20'],
    })
  })

  it('-o yaml, and a refusal exits 1 with the mismatch list', () => {
    const r = runCli([
      'bind',
      'app/cache',
      '--volume',
      'local-a',
      '--from-file',
      demo,
      '--dry-run=client',
      '-o',
      'yaml',
    ])
    expect(r.code).toBe(1)
    const doc = yaml.load(r.stdout) as {bindings: {status: string; mismatches: {check: string}[]}[]}
    expect(doc.bindings[0].status).toBe('refused')
    expect(doc.bindings[0].mismatches.map((m) => m.check)).toEqual(['nodeAffinity'])
  })

  it('human output shows the patch and the kubectl command', () => {
    const r = runCli([
      'bind',
      '-n',
      'app',
      'logs',
      '--volume',
      'pv-old-logs',
      '--reclaim',
      '--from-file',
      demo,
      '--dry-run',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('app/logs → PV pv-old-logs')
    expect(r.stdout).toContain(
      `kubectl patch pv pv-old-logs --type=merge -p '{"metadata":{"resourceVersion":"1004"},"spec":{"claimRef":{"name":"logs","uid":"11111111-0000-4000-8000-000000000003"}}}'`,
    )
    expect(r.stdout).toContain('becomes readable and writable by app/logs')
    expect(r.stdout).toContain('dry run: nothing was written')
  })

  it('--from-file without a client dry run is a tool error (exit 2)', () => {
    for (const extra of [[], ['--dry-run=server'], ['--yes']]) {
      const r = runCli(['bind', 'app/db', '--from-file', demo, ...extra])
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(
        'error: --from-file only supports --dry-run=client: a snapshot cannot be written to; drop --from-file to bind in the cluster\n',
      )
    }
  })

  it('no claim and no --all (or both) is exit 2', () => {
    expect(runCli(['bind', '--from-file', demo, '--dry-run'])).toMatchObject({
      code: 2,
      stderr: 'error: name the claim to bind (NAME or NAMESPACE/NAME), or pass --all\n',
    })
    expect(runCli(['bind', 'app/db', '--all', '--from-file', demo, '--dry-run'])).toMatchObject({
      code: 2,
      stderr: 'error: give either a claim or --all, not both\n',
    })
  })

  it('a missing claim or PV is exit 2', () => {
    expect(runCli(['bind', 'app/nope', '--from-file', demo, '--dry-run']).code).toBe(2)
    const r = runCli(['bind', 'app/web', '--volume', 'nope', '--from-file', demo, '--dry-run'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: persistentvolume "nope" not found/)
  })
})
