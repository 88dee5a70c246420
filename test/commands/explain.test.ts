import {createServer, type Server} from 'node:net'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT, runCli, writeTokenKubeconfig} from '../helpers/cli.js'

const example = join(ROOT, 'examples', 'pending-local.yaml')
const tmp = mkdtempSync(join(tmpdir(), 'pvd-explain-'))

function kubeconfig(server: string): string {
  const p = join(tmp, `kc-${Math.random().toString(36).slice(2)}`)
  writeTokenKubeconfig(p, server)
  return p
}

function expectOneLineError(r: {code: number; stderr: string; stdout: string}, pattern: RegExp) {
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
}

describe('explain --from-file (no cluster)', () => {
  it('diagnoses the README example and exits 1 because claims are broken', () => {
    const r = runCli(['explain', '-A', '--from-file', example])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('shop/cache')
    expect(r.stdout).toContain('NoVolumeOnFeasibleNodes')
    expect(r.stdout).toContain('VolumeClaimedByOther')
    expect(r.stdout).toContain('StorageClassNotFound')
    expect(r.stdout).not.toMatch(/\u001b\[/)
  })
  it("README's first command output is what the CLI prints (its ... lines elide)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const cmd = '$ ./bin/kubectl-pv_doctor explain -A --from-file examples/shop-snapshot.yaml\n'
    const shown = readme.slice(readme.indexOf(cmd) + cmd.length, readme.indexOf('```', readme.indexOf(cmd))).split('\n')
    const out = runCli(['explain', '-A', '--from-file', 'examples/shop-snapshot.yaml']).stdout.split('\n')
    let at = 0
    for (const line of shown.filter((l) => l.trim() && l.trim() !== '...')) {
      const prefix = line.endsWith(' ...') ? line.slice(0, -4) : undefined
      const found = out.findIndex((o, i) => i >= at && (prefix ? o.startsWith(prefix) : o === line))
      expect(found, line).toBeGreaterThanOrEqual(0)
      at = found + 1
    }
  })
  it('-o json follows the contract', () => {
    const r = runCli(['explain', '-n', 'shop', 'pg-data', '--from-file', example, '-o', 'json'])
    const d = JSON.parse(r.stdout)
    expect(d).toMatchObject({apiVersion: 'pv-doctor/v1', kind: 'Diagnosis'})
    // a kubectl dump without CSIDrivers cannot tell "none registered" from "not dumped": it says so
    expect(d.skipped).toEqual([
      {resource: 'csidrivers', reason: 'not in the input file'},
      {resource: 'csistoragecapacities', reason: 'not in the input file'},
    ])
    expect(d.claims[0]).toMatchObject({
      namespace: 'shop',
      name: 'pg-data',
      phase: 'Pending',
      cause: 'VolumeClaimedByOther',
      severity: 'error',
      wouldBind: null,
      ties: [],
    })
    expect(Object.keys(d.claims[0])).toEqual(
      expect.arrayContaining(['message', 'evidence', 'fix', 'candidates', 'consumers']),
    )
  })
  it('-o yaml, NAMESPACE/NAME and stdin', () => {
    const r = runCli(['explain', 'shop/uploads', '--from-file', '-', '-o', 'yaml'], {
      input: readFileSync(example, 'utf8'),
    })
    expect(r.stdout).toMatch(/^apiVersion: pv-doctor\/v1/)
    expect(r.stdout).toContain('cause: StorageClassNotFound')
  })
  it('colours only when asked', () => {
    // runCli sets NO_COLOR; these runs clear it so only the flag, the variables and the pipe decide.
    const plain = {NO_COLOR: undefined, FORCE_COLOR: undefined}
    expect(runCli(['explain', '-A', '--from-file', example], {env: plain}).stdout).not.toMatch(/\u001b\[/)
    expect(runCli(['explain', '-A', '--from-file', example], {env: {...plain, FORCE_COLOR: '1'}}).stdout).toMatch(
      /\u001b\[/,
    )
    expect(runCli(['explain', '-A', '--from-file', example, '--color', 'always'], {env: plain}).stdout).toMatch(
      /\u001b\[/,
    )
    expect(
      runCli(['explain', '-A', '--from-file', example], {env: {FORCE_COLOR: '1', NO_COLOR: '1'}}).stdout,
    ).not.toMatch(/\u001b\[/)
  })
})

describe('the example snapshots', () => {
  it('a real kubectl dump and pv-doctor snapshot of the same cluster give the same verdicts', () => {
    const fromKubectl = JSON.parse(
      runCli(['explain', '-A', '--from-file', join(ROOT, 'examples', 'shop-kubectl-dump.json'), '-o', 'json']).stdout,
    )
    const fromSnapshot = JSON.parse(
      runCli(['explain', '-A', '--from-file', join(ROOT, 'examples', 'shop-snapshot.yaml'), '-o', 'json']).stdout,
    )
    const causes = (d: {claims: {name: string; cause: string}[]}) => d.claims.map((c) => `${c.name}:${c.cause}`)
    expect(causes(fromSnapshot)).toEqual([
      'cache-redis-0:NoVolumeOnFeasibleNodes',
      'data-postgres-0:StorageClassNotFound',
      'reports:StorageClassNotFound',
      'uploads:ProvisionerNotFound',
    ])
    expect(fromSnapshot.skipped).toEqual([])
    // the kubectl dump holds no CSIDriver, so pv-doctor cannot rule out an unlisted one
    expect(causes(fromKubectl)).toEqual([
      'cache-redis-0:NoVolumeOnFeasibleNodes',
      'data-postgres-0:StorageClassNotFound',
      'reports:StorageClassNotFound',
      'uploads:ProvisioningInProgress',
    ])
  })
})

describe('bad input: one line, exit 2, no stack trace', () => {
  let silent: Server
  let silentPort = 0
  beforeAll(async () => {
    // Accepts connections and never answers: a hung API server.
    silent = createServer(() => {})
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    silentPort = (silent.address() as {port: number}).port
  })
  afterAll(() => silent.close())

  it('a claim that does not exist', () => {
    expectOneLineError(
      runCli(['explain', '-n', 'shop', 'nope', '--from-file', example]),
      /persistentvolumeclaim "nope" not found in namespace "shop"/,
    )
  })
  it('a malformed dump file', () => {
    const f = join(tmp, 'bad.json')
    writeFileSync(f, '{"kind": "List", "items": [')
    expectOneLineError(runCli(['explain', '--from-file', f]), /bad.json is not valid JSON/)
  })
  it('a missing dump file', () => {
    expectOneLineError(
      runCli(['explain', '--from-file', join(tmp, 'none.json')]),
      /cannot read --from-file .*none.json: no such file/,
    )
  })
  it('a kubeconfig that does not exist', () => {
    expectOneLineError(
      runCli(['explain', '--kubeconfig', join(tmp, 'missing-kubeconfig')]),
      /kubeconfig file .* does not exist/,
    )
  })
  // The four answers of issue #14 that used to leak JavaScript wording.
  it('an empty kubeconfig says no configuration has been provided', () => {
    expectOneLineError(
      runCli(['explain'], {env: {KUBECONFIG: '/dev/null'}}),
      /^error: invalid configuration: no configuration has been provided \(\/dev\/null holds no clusters or contexts\)/,
    )
  })
  it('a kubeconfig without current-context says so and lists the contexts', () => {
    const f = join(tmp, 'no-current')
    writeFileSync(
      f,
      'clusters: [{name: c, cluster: {server: "https://h:1"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n',
    )
    expectOneLineError(
      runCli(['explain', '--kubeconfig', f]),
      /^error: current-context is not set in .*pick one with --context \(x\)/,
    )
  })
  it('an exec plugin that is not installed names the binary and the user entry', () => {
    const f = join(tmp, 'exec')
    writeFileSync(
      f,
      `clusters: [{name: c, cluster: {server: "https://h:1"}}]
users: [{name: eks, user: {exec: {command: no-such-aws-iam-authenticator, apiVersion: client.authentication.k8s.io/v1beta1}}}]
contexts: [{name: x, context: {cluster: c, user: eks}}]
current-context: x`,
    )
    expectOneLineError(
      runCli(['explain', '--kubeconfig', f]),
      /^error: exec: executable no-such-aws-iam-authenticator not found \(the exec plugin of user "eks" .*PATH\): it is usually installed with the cloud provider's CLI/,
    )
  })
  it('a bad --request-timeout is an error with --from-file too', () => {
    expectOneLineError(runCli(['explain', '-f', example, '--request-timeout=abc']), /--request-timeout/)
  })
  it('a kubeconfig that is not YAML', () => {
    const f = join(tmp, 'garbage')
    writeFileSync(f, ':\n  - [unbalanced')
    expectOneLineError(runCli(['explain', '--kubeconfig', f]), /cannot read kubeconfig/)
  })
  it('an unknown context', () => {
    expectOneLineError(
      runCli(['explain', '--kubeconfig', kubeconfig('https://127.0.0.1:1'), '--context', 'prod']),
      /context "prod" does not exist/,
    )
  })
  it('an API server that refuses connections', () => {
    expectOneLineError(runCli(['explain', '--kubeconfig', kubeconfig('https://127.0.0.1:1')]), /refused/)
  })
  it('an API server that never answers: gives up at --request-timeout', () => {
    const t0 = Date.now()
    const r = runCli([
      'explain',
      '--kubeconfig',
      kubeconfig(`https://127.0.0.1:${silentPort}`),
      '--request-timeout',
      '1s',
    ])
    expectOneLineError(r, /did not answer within 1s/)
    expect(Date.now() - t0).toBeLessThan(8000)
  })
  it('a bad flag value', () => {
    const r = runCli(['explain', '--from-file', example, '-o', 'toml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/error: /)
  })
  it('a bad or unsupported --kube-version', () => {
    expectOneLineError(
      runCli(['explain', '--from-file', example, '--kube-version', 'latest']),
      /--kube-version "latest" is not a Kubernetes version; give one like 1.32/,
    )
    expectOneLineError(
      runCli(['explain', '--from-file', example, '--kube-version', '1.25']),
      /pv-doctor follows Kubernetes 1.30 to 1.36/,
    )
  })
  it('a bad selector and a bad timeout', () => {
    expectOneLineError(runCli(['explain', '--from-file', example, '-l', 'a b c']), /invalid label selector/)
    expectOneLineError(
      runCli(['explain', '--kubeconfig', kubeconfig('https://127.0.0.1:1'), '--request-timeout', 'soon']),
      /invalid duration "soon"/,
    )
  })
})

describe('the command line itself', () => {
  it('an unknown command is one line and exit 2', () => {
    const r = runCli(['explian'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe(
      'error: unknown command "explian" for "kubectl pv-doctor"; run kubectl pv-doctor --help to see the commands',
    )
  })
  it('help reads `kubectl pv-doctor` and has examples', () => {
    const r = runCli(['explain', '--help'])
    expect(r.stdout).toContain('$ kubectl pv-doctor explain')
    expect(r.stdout).toContain('EXAMPLES')
    expect(runCli(['-h']).stdout).toContain('kubectl pv-doctor [COMMAND]')
  })
})
