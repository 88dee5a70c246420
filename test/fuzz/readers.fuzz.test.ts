/**
 * The probe-report reader and the kubeconfig reader fed mutated real inputs: every run ends in a
 * result or a one-line error of ours without JavaScript wording. Fixed seed, bounded runs.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import fc from 'fast-check'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {makeChalk} from '../../src/base/color.js'
import {assessResults, diskReport} from '../../src/disks/diskReport.js'
import {ProbeReportError, parseProbeReport} from '../../src/disks/parseProbeReport.js'
import {UserError} from '../../src/errors.js'
import {resolveConnection} from '../../src/kube/kubeconfig.js'
import {renderDisks} from '../../src/output/renderDisks.js'
import {check, damagedText, JS_WORDING, mutatedDocument} from './inputs.js'

const counts = {probe: 0, kubeconfig: 0}
afterAll(() =>
  console.log(`fuzz: ${counts.probe} probe reports, ${counts.kubeconfig} kubeconfigs generated, no uncaught error`),
)

function expectOurs(error: unknown, types: (new (...a: never[]) => Error)[]): void {
  if (!types.some((t) => error instanceof t)) throw error
  const message = (error as Error).message
  expect(message).not.toMatch(/\n/)
  expect(message).not.toMatch(JS_WORDING)
}

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'disks', 'fixtures', name), 'utf8')
const probeTexts = [fixture('nvme-server.json'), fixture('san-multipath.json')]

function runProbe(text: string): void {
  counts.probe++
  try {
    const report = parseProbeReport(text, '--from-report r.json')
    const nodes = assessResults([{node: report.node, report}])
    renderDisks(diskReport(nodes), makeChalk(0), {wide: true})
  } catch (error) {
    expectOurs(error, [ProbeReportError, UserError])
  }
}

describe('fuzz: probe-report reader', () => {
  it('a real report mutated at any field', () => {
    const docs = probeTexts.map((t) => JSON.parse(t))
    check(
      fc.property(fc.oneof(...docs.map(mutatedDocument)), (doc) => runProbe(JSON.stringify(doc) ?? 'null')),
      2500,
    )
  })
  it('damaged text', () => {
    check(fc.property(fc.oneof(...probeTexts.map(damagedText)), runProbe), 500)
  })
})

const kubeconfig = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    {
      name: 'prod',
      cluster: {
        server: 'https://10.0.0.1:6443',
        'certificate-authority-data': Buffer.from('CA').toString('base64'),
        'tls-server-name': 'api',
        'proxy-url': 'http://proxy:3128',
      },
    },
    {name: 'dev', cluster: {server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true}},
  ],
  users: [
    {name: 'admin', user: {'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ', token: ''}},
    {
      name: 'eks',
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          command: 'aws',
          args: ['eks', 'get-token'],
          env: [{name: 'AWS_PROFILE', value: 'prod'}],
          interactiveMode: 'Never',
          provideClusterInfo: true,
          installHint: 'install the aws CLI',
        },
      },
    },
    {name: 'dev', user: {token: 'abc', as: 'someone', 'as-groups': ['g']}},
  ],
  contexts: [
    {name: 'prod', context: {cluster: 'prod', user: 'eks', namespace: 'shop'}},
    {name: 'dev', context: {cluster: 'dev', user: 'dev'}},
    {name: 'admin', context: {cluster: 'prod', user: 'admin'}},
  ],
  'current-context': 'prod',
}

function runKubeconfig(text: string, context?: string): void {
  counts.kubeconfig++
  try {
    resolveConnection(['kubeconfig'], context, () => text)
  } catch (error) {
    expectOurs(error, [UserError])
  }
}

describe('fuzz: kubeconfig reader', () => {
  it('a real kubeconfig mutated at any field, for each context', () => {
    check(
      fc.property(
        mutatedDocument(kubeconfig),
        fc.constantFrom(undefined, 'prod', 'dev', 'admin', 'nope'),
        fc.boolean(),
        (doc, context, asYaml) =>
          runKubeconfig(asYaml ? yaml.dump(doc ?? null, {skipInvalid: true}) : (JSON.stringify(doc) ?? ''), context),
      ),
      2000,
    )
  })
  it('damaged text', () => {
    check(
      fc.property(damagedText(yaml.dump(kubeconfig)), (t) => runKubeconfig(t)),
      500,
    )
  })
})
