import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {fastConnection, kubeconfigFiles} from '../../src/kube/kubeconfig.js'

const dir = mkdtempSync(join(tmpdir(), 'pvd-kc-'))
let n = 0
function file(text: string): string {
  const p = join(dir, `kc-${++n}`)
  writeFileSync(p, text)
  return p
}
const saved = process.env.KUBECONFIG
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECONFIG
  else process.env.KUBECONFIG = saved
})

const certs = `apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${Buffer.from('CA').toString('base64')}}}]
users: [{name: u1, user: {client-certificate: cert.pem, client-key-data: ${Buffer.from('KEY').toString('base64')}}}]
contexts: [{name: one, context: {cluster: c1, user: u1, namespace: shop}}]
current-context: one
`

describe('kubeconfig fast path', () => {
  it('reads certificates inline and by path relative to the kubeconfig', () => {
    writeFileSync(join(dir, 'cert.pem'), 'CERT')
    const c = fastConnection([file(certs)])!
    expect(c).toMatchObject({server: 'https://127.0.0.1:6443', namespace: 'shop', contextName: 'one'})
    expect(String(c.agentOptions.ca)).toBe('CA')
    expect(String(c.agentOptions.cert)).toBe('CERT')
    expect(String(c.agentOptions.key)).toBe('KEY')
  })
  it('reads tokens and insecure-skip-tls-verify; the namespace defaults to "default"', () => {
    const c = fastConnection([
      file(`clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`),
    ])!
    expect(c.agentOptions.rejectUnauthorized).toBe(false)
    expect(c.agentOptions.headers).toEqual({Authorization: 'Bearer abc'})
    expect(c.namespace).toBe('default')
  })
  it('leaves exec plugins and auth providers to the client library', () => {
    const exec = file(`clusters: [{name: c, cluster: {server: "https://h:1"}}]
users: [{name: u, user: {exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x`)
    expect(fastConnection([exec])).toBeUndefined()
  })
  it('merges a KUBECONFIG list like kubectl: the first file wins for names and current-context', () => {
    const a = file(`clusters: [{name: c, cluster: {server: "https://first:1"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x`)
    const b =
      file(`clusters: [{name: c, cluster: {server: "https://second:1"}}, {name: d, cluster: {server: "https://d:1"}}]
contexts: [{name: y, context: {cluster: d}}]
current-context: y`)
    expect(fastConnection([a, b])!.server).toBe('https://first:1')
    expect(fastConnection([a, b], 'y')!.server).toBe('https://d:1')
  })
  it('names a context that does not exist, and a kubeconfig that is not YAML', () => {
    expect(() => fastConnection([file(certs)], 'prod')).toThrow(/context "prod" does not exist/)
    expect(() => fastConnection([file(':\n  - [unbalanced')])).toThrow(/^cannot read kubeconfig/)
  })
  it('finds the files kubectl would: --kubeconfig, then KUBECONFIG (existing entries only)', () => {
    const a = file(certs)
    expect(() => kubeconfigFiles(join(dir, 'missing'))).toThrow(/does not exist/)
    process.env.KUBECONFIG = `${join(dir, 'nope')}:${a}`
    expect(kubeconfigFiles()).toEqual([a])
    process.env.KUBECONFIG = join(dir, 'nope')
    expect(() => kubeconfigFiles()).toThrow(/KUBECONFIG names/)
  })
})
