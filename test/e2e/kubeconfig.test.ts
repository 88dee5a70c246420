/**
 * Kubeconfigs against the real API server: certificates as files, an exec plugin script that
 * hands over the admin certificate, a plugin that fails, a wrong CA and a wrong tls-server-name.
 * Each works as with kubectl, or fails in one line naming the entry.
 */
import {chmodSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import yaml from 'js-yaml'
import {describe, expect, inject, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

const kubeconfig = inject('kubeconfig')
const dir = mkdtempSync(join(tmpdir(), 'pvd-e2e-kc-'))
type KC = {
  clusters: {name: string; cluster: Record<string, unknown>}[]
  users: {name: string; user: Record<string, unknown>}[]
}
const admin = yaml.load(readFileSync(kubeconfig, 'utf8')) as KC
const cluster = admin.clusters[0].cluster
const user = admin.users[0].user
const pem = (k: string) => Buffer.from(String(user[k] ?? ''), 'base64').toString('utf8')

function write(name: string, clusterFields: Record<string, unknown>, userFields: Record<string, unknown>): string {
  const f = join(dir, name)
  writeFileSync(
    f,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'real', cluster: clusterFields}],
      users: [{name: 'me', user: userFields}],
      contexts: [{name: 'real', context: {cluster: 'real', user: 'me'}}],
      'current-context': 'real',
    }),
  )
  return f
}

function explain(kc: string) {
  return runCli(['explain', '--kubeconfig', kc, '--request-timeout=20s'])
}

function expectOneLine(r: {code: number; stderr: string}, pattern: RegExp) {
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(lines[0]).not.toMatch(/undefined|Cannot read properties|is not a function/)
}

describe.skipIf(!user['client-certificate-data'])('kubeconfigs against the real API server', () => {
  it('certificates and the CA as files, named relative to the kubeconfig', () => {
    writeFileSync(join(dir, 'ca.crt'), Buffer.from(String(cluster['certificate-authority-data']), 'base64'))
    writeFileSync(join(dir, 'me.crt'), pem('client-certificate-data'))
    writeFileSync(join(dir, 'me.key'), pem('client-key-data'))
    const kc = write(
      'files',
      {server: cluster.server, 'certificate-authority': 'ca.crt'},
      {'client-certificate': 'me.crt', 'client-key': 'me.key'},
    )
    const r = explain(kc)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })
  it('an exec plugin that hands over a certificate and key, with the cluster it asked for', () => {
    const script = join(dir, 'plugin.sh')
    const cred = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: {clientCertificateData: pem('client-certificate-data'), clientKeyData: pem('client-key-data')},
    })
    writeFileSync(join(dir, 'cred.json'), cred)
    writeFileSync(script, `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" > "${dir}/info.json"\ncat "${dir}/cred.json"\n`)
    chmodSync(script, 0o755)
    const kc = write(
      'exec',
      {server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data']},
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: './plugin.sh',
          interactiveMode: 'Never',
          provideClusterInfo: true,
        },
      },
    )
    const r = explain(kc)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const info = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8'))
    expect(info.spec).toMatchObject({interactive: false, cluster: {server: cluster.server}})
  })
  it('an exec plugin that fails: its exit code and what it said', () => {
    const script = join(dir, 'fail.sh')
    writeFileSync(script, '#!/bin/sh\necho "the SSO session has expired; run: aws sso login" >&2\nexit 255\n')
    chmodSync(script, 0o755)
    const kc = write(
      'exec-fail',
      {server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data']},
      {exec: {apiVersion: 'client.authentication.k8s.io/v1beta1', command: script}},
    )
    expectOneLine(
      explain(kc),
      /^error: exec: executable .*fail.sh failed with exit code 255 \(the exec plugin of user "me" .*\): the SSO session has expired; run: aws sso login/,
    )
  })
  it('a CA that did not sign the server, and a tls-server-name the certificate does not hold', () => {
    const other = write(
      'wrong-ca',
      {server: cluster.server, 'certificate-authority-data': user['client-certificate-data']},
      {'client-certificate-data': user['client-certificate-data'], 'client-key-data': user['client-key-data']},
    )
    expectOneLine(explain(other), /^error: TLS to 127\.0\.0\.1:\d+ failed/)
    const sni = write(
      'wrong-name',
      {
        server: cluster.server,
        'certificate-authority-data': cluster['certificate-authority-data'],
        'tls-server-name': 'not-the-apiserver.example',
      },
      {'client-certificate-data': user['client-certificate-data'], 'client-key-data': user['client-key-data']},
    )
    expectOneLine(explain(sni), /^error: TLS to 127\.0\.0\.1:\d+ failed/)
  })
})
