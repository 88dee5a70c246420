import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {applyExecCredential} from '../../src/kube/execCredential.js'
import {inClusterConnection, kubeconfigFiles, resolveConnection} from '../../src/kube/kubeconfig.js'

const dir = mkdtempSync(join(tmpdir(), 'pvd-kc-'))
let n = 0
function file(text: string): string {
  const p = join(dir, `kc-${++n}`)
  writeFileSync(p, text)
  return p
}
const saved = {...process.env}
afterEach(() => {
  for (const k of ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'POD_NAMESPACE'])
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
})

const b64 = (s: string) => Buffer.from(s).toString('base64')
const certs = `apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA')}}}]
users: [{name: u1, user: {client-certificate: cert.pem, client-key-data: ${b64('KEY')}}}]
contexts: [{name: one, context: {cluster: c1, user: u1, namespace: shop}}]
current-context: one
`
const cfg = (cluster: string, user = '{token: t}', extra = '') =>
  file(`clusters: [{name: c, cluster: ${cluster}}]
users: [{name: u, user: ${user}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
${extra}`)

describe('kubeconfig, read as kubectl reads it', () => {
  it('reads certificates inline and by path relative to the kubeconfig', () => {
    writeFileSync(join(dir, 'cert.pem'), 'CERT')
    const c = resolveConnection([file(certs)])
    expect(c).toMatchObject({server: 'https://127.0.0.1:6443', namespace: 'shop', contextName: 'one'})
    expect(String(c.agentOptions.ca)).toBe('CA')
    expect(String(c.agentOptions.cert)).toBe('CERT')
    expect(String(c.agentOptions.key)).toBe('KEY')
  })
  it('reads tokens, token files, basic auth, insecure-skip-tls-verify and tls-server-name', () => {
    const c = resolveConnection([cfg('{server: "https://h:1", insecure-skip-tls-verify: true, tls-server-name: api}')])
    expect(c.agentOptions).toMatchObject({rejectUnauthorized: false, servername: 'api'})
    expect(c.agentOptions.headers).toEqual({Authorization: 'Bearer t'})
    expect(c.namespace).toBe('default')
    writeFileSync(join(dir, 'tok'), 'from-file\n')
    expect(resolveConnection([cfg('{server: "https://h:1"}', '{tokenFile: tok}')]).agentOptions.headers).toEqual({
      Authorization: 'Bearer from-file',
    })
    expect(
      resolveConnection([cfg('{server: "https://h:1"}', '{username: a, password: b}')]).agentOptions.headers,
    ).toEqual({Authorization: `Basic ${b64('a:b')}`})
  })
  it('merges a KUBECONFIG list like kubectl: the first file wins for names and current-context', () => {
    const a = file(`clusters: [{name: c, cluster: {server: "https://first:1"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x`)
    const b =
      file(`clusters: [{name: c, cluster: {server: "https://second:1"}}, {name: d, cluster: {server: "https://d:1"}}]
contexts: [{name: y, context: {cluster: d}}]
current-context: y`)
    expect(resolveConnection([a, b]).server).toBe('https://first:1')
    expect(resolveConnection([a, b], 'y').server).toBe('https://d:1')
    expect(resolveConnection([file(''), b]).server).toBe('https://d:1')
  })
  it('leaves proxy-url and auth-provider to the library, after checking them', () => {
    expect(resolveConnection([cfg('{server: "https://h:1", proxy-url: "http://p:3128"}')]).library).toBe('proxy-url')
    expect(resolveConnection([cfg('{server: "https://h:1"}', '{auth-provider: {name: oidc}}')]).library).toBe(
      'auth-provider',
    )
  })
  it('uses in-cluster config when there is no kubeconfig and the pod has a service account', () => {
    const sa = mkdtempSync(join(tmpdir(), 'pvd-sa-'))
    writeFileSync(join(sa, 'token'), 'sa-token\n')
    writeFileSync(join(sa, 'ca.crt'), 'CA')
    writeFileSync(join(sa, 'namespace'), 'kube-system')
    process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1'
    process.env.KUBERNETES_SERVICE_PORT = '443'
    const c = inClusterConnection(sa)
    expect(c).toMatchObject({server: 'https://10.0.0.1:443', namespace: 'kube-system'})
    expect(c.agentOptions.headers).toEqual({Authorization: 'Bearer sa-token'})
    expect(() => inClusterConnection(join(sa, 'nope'))).toThrow(/in-cluster configuration: cannot read .*token/)
  })
  it('finds the files kubectl would: --kubeconfig, then KUBECONFIG (existing entries only)', () => {
    const a = file(certs)
    expect(() => kubeconfigFiles(join(dir, 'missing'))).toThrow(/does not exist/)
    process.env.KUBECONFIG = `${join(dir, 'nope')}:${a}`
    expect(kubeconfigFiles()).toEqual([a])
    process.env.KUBECONFIG = join(dir, 'nope')
    expect(() => kubeconfigFiles()).toThrow(/KUBECONFIG names/)
  })

  // Each bad kubeconfig: one line naming the file, the entry and the fix, never JavaScript wording.
  const bad: [string, () => string[], RegExp, string?][] = [
    ['an empty file', () => [file('')], /^invalid configuration: no configuration has been provided \(.* holds no/],
    ['no file at all', () => [], /no configuration has been provided \(no kubeconfig was found\)/],
    ['a list, not a mapping', () => [file('- a\n- b')], /is not a kubeconfig \(not a YAML mapping\)/],
    ['not YAML', () => [file(':\n  - [unbalanced')], /^cannot read kubeconfig .*kc-\d+: /],
    [
      'no current-context',
      () => [
        file('clusters: [{name: c, cluster: {server: "https://h:1"}}]\ncontexts: [{name: x, context: {cluster: c}}]'),
      ],
      /^current-context is not set in .*; pick one with --context \(x\)/,
    ],
    [
      '--context naming nothing',
      () => [file(certs)],
      /^context "prod" does not exist in .*pick one with --context \(one\)/,
      'prod',
    ],
    [
      'a context naming a missing cluster',
      () => [file('contexts: [{name: x, context: {cluster: gone}}]\ncurrent-context: x')],
      /^cluster "gone" was not found for context "x" \(in .*\); add the cluster or fix the context/,
    ],
    [
      'a context naming a missing user',
      () => [
        file(
          'clusters: [{name: c, cluster: {server: "https://h:1"}}]\ncontexts: [{name: x, context: {cluster: c, user: nobody}}]\ncurrent-context: x',
        ),
      ],
      /^user "nobody" was not found for context "x"/,
    ],
    [
      'a cluster without server',
      () => [cfg('{insecure-skip-tls-verify: true}')],
      /^no server found for cluster "c" in /,
    ],
    ['a server that is not a URL', () => [cfg('{server: "h:1:2"}')], /is not (a URL|an http\(s\) URL)/],
    ['a server of a wrong type', () => [cfg('{server: 42}')], /cluster "c" field "server" is not a string/],
    ['clusters not a list', () => [file('clusters: {a: 1}\ncurrent-context: x')], /"clusters" is not a list/],
    ['an entry without name', () => [file('users: [{user: {}}]')], /users\[0\] has no name/],
    [
      'an unreadable certificate-authority file',
      () => [cfg('{server: "https://h:1", certificate-authority: /nonexistent/ca.crt}')],
      /^cannot read certificate-authority \/nonexistent\/ca.crt of cluster "c" in .* \(no such file\); fix the path/,
    ],
    [
      'an unreadable token file',
      () => [cfg('{server: "https://h:1"}', '{tokenFile: missing-token}')],
      /cannot read tokenFile .*missing-token of user "u"/,
    ],
    [
      'a certificate without key',
      () => [cfg('{server: "https://h:1"}', `{client-certificate-data: ${b64('C')}}`)],
      /client-key-data or client-key must be specified for user "u"/,
    ],
    [
      'insecure with a CA',
      () => [cfg(`{server: "https://h:1", insecure-skip-tls-verify: true, certificate-authority-data: ${b64('CA')}}`)],
      /sets both insecure-skip-tls-verify and a certificate-authority/,
    ],
    [
      'insecure not a boolean',
      () => [cfg('{server: "https://h:1", insecure-skip-tls-verify: "yes"}')],
      /field "insecure-skip-tls-verify" is not true or false/,
    ],
    [
      'a bad proxy-url',
      () => [cfg('{server: "https://h:1", proxy-url: "ftp://p"}')],
      /^invalid 'proxy-url' "ftp:\/\/p" for cluster "c" .*must be http, https, or socks5/,
    ],
    [
      'token and basic auth',
      () => [cfg('{server: "https://h:1"}', '{token: t, username: a, password: b}')],
      /more than one authentication method found for user "u"/,
    ],
    [
      'exec without command',
      () => [
        cfg('{server: "https://h:1"}', '{exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}}'),
      ],
      /^command must be specified for user "u"/,
    ],
    [
      'exec without apiVersion',
      () => [cfg('{server: "https://h:1"}', '{exec: {command: x, interactiveMode: Never}}')],
      /^apiVersion must be specified for user "u"/,
    ],
    [
      'exec v1 without interactiveMode',
      () => [cfg('{server: "https://h:1"}', '{exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}')],
      /^interactiveMode must be specified for user "u"/,
    ],
    [
      'exec with a bad interactiveMode',
      () => [
        cfg(
          '{server: "https://h:1"}',
          '{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Sometimes}}',
        ),
      ],
      /^invalid interactiveMode for user "u": "Sometimes"/,
    ],
    [
      'exec v1alpha1',
      () => [cfg('{server: "https://h:1"}', '{exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}')],
      /no longer supports/,
    ],
    [
      'exec and auth-provider',
      () => [
        cfg(
          '{server: "https://h:1"}',
          '{exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1}, auth-provider: {name: oidc}}',
        ),
      ],
      /authProvider cannot be provided in combination with an exec plugin/,
    ],
  ]
  it.each(bad)('%s: one line', (_name, files, message, context) => {
    let error: Error | undefined
    try {
      resolveConnection(files(), context)
    } catch (e) {
      error = e as Error
    }
    expect(error?.name).toBe('UserError')
    expect(error?.message).toMatch(message)
    expect(error?.message).not.toMatch(/\n|undefined|Cannot read properties|is not a function/)
  })
  it('a current-context naming no context says so', () => {
    const f = file(
      'clusters: [{name: c, cluster: {server: "https://h:1"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: y',
    )
    expect(() => resolveConnection([f])).toThrow(
      /^current-context "y" \(set in .*\) names no context in the kubeconfig; pick one with --context \(x\)/,
    )
  })
})

describe('exec credential plugins, run as client-go runs them', () => {
  const plugin = (script: string) => {
    const p = join(dir, `plugin-${++n}`)
    writeFileSync(p, `#!/bin/sh\n${script}\n`)
    chmodSync(p, 0o755)
    return p
  }
  const execUser = (command: string, extra = '') =>
    resolveConnection([
      cfg(
        '{server: "https://h:1", tls-server-name: api}',
        `{exec: {command: "${command}", apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never${extra}}}`,
      ),
    ]).exec!
  const ok = (status: string) =>
    `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":${status}}'`

  it('uses the token it prints, and hands it the cluster when provideClusterInfo is set', async () => {
    const p = plugin(`echo "$KUBERNETES_EXEC_INFO" > ${dir}/info.json; ${ok('{"token":"tok"}')}`)
    const opts: import('node:https').RequestOptions = {}
    await applyExecCredential(execUser(p, ', provideClusterInfo: true'), opts)
    expect(opts.headers).toEqual({Authorization: 'Bearer tok'})
    const info = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'info.json'), 'utf8'))
    expect(info).toMatchObject({
      kind: 'ExecCredential',
      spec: {interactive: false, cluster: {server: 'https://h:1', 'tls-server-name': 'api'}},
    })
  })
  it('names the missing binary, the user entry and where it comes from', async () => {
    const e = await applyExecCredential(execUser('no-such-aws-iam-authenticator'), {}).catch((x: Error) => x)
    expect((e as Error).message).toMatch(
      /^exec: executable no-such-aws-iam-authenticator not found \(the exec plugin of user "u" \(in .*\), looked up in PATH\): it is usually installed with the cloud provider's CLI/,
    )
    const hinted = await applyExecCredential(execUser('no-such-x', ', installHint: "brew install x"'), {}).catch(
      (x: Error) => x,
    )
    expect((hinted as Error).message).toMatch(/not found .*: brew install x$/)
  })
  it('reports a non-zero exit with what the plugin said on stderr', async () => {
    const p = plugin('echo "token expired, run aws sso login" >&2; exit 3')
    await expect(applyExecCredential(execUser(p), {})).rejects.toThrow(
      /failed with exit code 3 \(the exec plugin of user "u" .*\): token expired, run aws sso login; run it by hand/,
    )
  })
  it('checks what the plugin prints', async () => {
    await expect(applyExecCredential(execUser(plugin('echo nope')), {})).rejects.toThrow(
      /did not print an ExecCredential/,
    )
    await expect(
      applyExecCredential(
        execUser(
          plugin(
            `echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'`,
          ),
        ),
        {},
      ),
    ).rejects.toThrow(
      /configured to use API version client.authentication.k8s.io\/v1, plugin returned version .*v1beta1/,
    )
    await expect(applyExecCredential(execUser(plugin(ok('{}'))), {})).rejects.toThrow(
      /didn't return a token or cert\/key pair/,
    )
    await expect(applyExecCredential(execUser(plugin(ok('{"clientKeyData":"k"}'))), {})).rejects.toThrow(
      /only certificate or key/,
    )
  })
  it('refuses interactiveMode Always without a terminal', async () => {
    const p = execUser('x')
    await expect(applyExecCredential({...p, interactiveMode: 'Always'}, {})).rejects.toThrow(
      /standard input is not a terminal/,
    )
  })
})
