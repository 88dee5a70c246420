import {describe, expect, it} from 'vitest'
import {casesFromDiagnosis, casesFromWait} from '../../src/output/ciCases.js'
import {renderGithub} from '../../src/output/github.js'
import {renderJunit} from '../../src/output/junit.js'
import type {WaitOutcome} from '../../src/wait/loop.js'
import {runCli} from '../helpers/cli.js'
import {junitErrors} from '../helpers/junit.js'

const outcome: WaitOutcome = {
  result: 'failed',
  elapsedMs: 1234,
  skipped: [],
  claims: [
    {namespace: 'shop', name: 'ok', state: 'done', cause: 'Bound', summary: 'Bound to pv1', doneAfterMs: 200},
    {
      namespace: 'shop',
      name: 'bad',
      state: 'failed',
      cause: 'StorageClassNotFound',
      summary: '',
      source: {file: 'k8s/db, "main".yaml', line: 12},
      diagnosis: {
        namespace: 'shop',
        name: 'bad',
        phase: 'Pending',
        storageClass: 'x',
        request: '1Gi',
        cause: 'StorageClassNotFound',
        severity: 'error',
        message: 'StorageClass "x" <does not> exist & 100% sure:\nsecond line',
        evidence: ['Warning ProvisioningFailed: storageclass "x" not found'],
        fix: ['Create StorageClass "x".'],
        wouldBind: null,
        ties: [],
        candidates: [],
        consumers: [],
      },
    },
    {namespace: 'shop', name: 'later', state: 'waiting', cause: 'NotCreated', summary: 'not yet'},
  ],
}

describe('JUnit', () => {
  it('wait -o junit validates against the Jenkins JUnit schema: a failure per failed claim', async () => {
    const xml = renderJunit('pv-doctor wait', casesFromWait(outcome), outcome.elapsedMs / 1000)
    expect(await junitErrors(xml)).toEqual([])
    expect(xml).toContain('tests="3" failures="1"')
    expect(xml).toContain(
      '<failure type="StorageClassNotFound" message="StorageClassNotFound: StorageClass &quot;x&quot; &lt;does not&gt; exist &amp; 100% sure:&#10;second line">',
    )
    expect(xml).toContain('Fix: Create StorageClass "x".')
    expect(xml).toMatch(/<testcase classname="shop" name="later"[^>]*>\s*<skipped>/)
  })

  it('explain -o junit (the built CLI) validates too; info passes, errors fail', async () => {
    const r = runCli(['explain', '-A', '--all', '--from-file', 'examples/shop-snapshot.yaml', '-o', 'junit'])
    expect(r.code).toBe(1)
    expect(await junitErrors(r.stdout)).toEqual([])
    expect(r.stdout).toMatch(/<failure type="NoVolumeOnFeasibleNodes"/)
  })

  it('the validator rejects what the schema does not allow', async () => {
    expect(await junitErrors('<testsuites><testsuite tests="1"><testcase/></testsuite></testsuites>')).not.toEqual([])
  })
})

describe('GitHub annotations', () => {
  /** The workflow-command syntax: ::level key=value,...::message, with the toolkit's escapes. */
  const LINE = /^::(error|warning|notice)( ([a-zA-Z]+=[^,:\n]*)(,[a-zA-Z]+=[^,:\n]*)*)?::[^\r\n]*$/

  it('one line per failing claim, pointing at the manifest; escapes % CR LF (and : , in properties)', () => {
    const text = renderGithub(casesFromWait(outcome))
    const lines = text.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    for (const l of lines) expect(l).toMatch(LINE)
    expect(lines[0]).toBe(
      '::error file=k8s/db%2C "main".yaml,line=12,title=shop/bad%3A StorageClassNotFound::StorageClass "x" <does not> exist & 100%25 sure:%0Asecond line%0AFix: Create StorageClass "x".',
    )
  })

  it('explain -o github: errors and warnings, nothing for healthy claims', () => {
    const r = runCli(['explain', '-A', '--all', '--from-file', 'examples/shop-snapshot.yaml', '-o', 'github'])
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.length).toBeGreaterThan(0)
    for (const l of lines) expect(l).toMatch(LINE)
    expect(casesFromDiagnosis({apiVersion: 'pv-doctor/v1', kind: 'Diagnosis', skipped: [], claims: []})).toEqual([])
  })
})
