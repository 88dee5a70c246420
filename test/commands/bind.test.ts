/**
 * `bind` as users run it: the built CLI in a subprocess, offline (--from-file) and against a
 * loopback fake API server that records every request (no real cluster; that is the e2e suite).
 */
import {execFile, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {applyMergePatch} from '../../src/binding/bindPlan.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'bin', 'kubectl-pv_doctor')
const demo = join(root, 'examples', 'bind-demo.yaml')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    // stdin is a pipe here, never a TTY: the non-interactive path.
    execFile(process.execPath, [bin, ...args], {cwd: root, env: cliEnv(env), timeout: 60_000}, (error, stdout, stderr) => {
      resolve({code: error ? ((error as {code?: number}).code ?? 1) : 0, stdout, stderr})
    })
  })
}

/** The user's environment: without vitest's NODE_ENV=test, which would make oclif load src/*.ts. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...extra}
  delete e.NODE_ENV
  delete e.VITEST
  return e
}

beforeAll(() => {
  // The CLI under test is the compiled one, built by `npm test`'s pretest step (rebuilding here
  // would race the other test files that run the CLI in parallel).
  if (!existsSync(join(root, 'dist', 'commands', 'bind.js'))) throw new Error('dist/commands/bind.js missing: run npm run build')
})

describe('bind --from-file --dry-run (client)', () => {
  it('prints the BindPlan JSON for one claim and exits 0', async () => {
    const r = await run(['bind', 'app/db', '--from-file', demo, '--dry-run', '-o', 'json'])
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
      patch: {metadata: {resourceVersion: '1003'}, spec: {claimRef: {uid: '11111111-0000-4000-8000-000000000002', resourceVersion: null}}},
      claimPatch: null,
    })
    expect(doc.bindings[0].command).toBe(
      `kubectl patch pv pv-db-old --type=merge -p '{"metadata":{"resourceVersion":"1003"},"spec":{"claimRef":{"uid":"11111111-0000-4000-8000-000000000002","resourceVersion":null}}}'`,
    )
  })

  it('--all: every Pending claim, exit 1 because one has no candidate', async () => {
    const r = await run(['bind', '--all', '-n', 'app', '--from-file', demo, '--dry-run', '-o', 'json'])
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.stdout)
    const byClaim = Object.fromEntries(doc.bindings.map((b: {claim: string; status: string; volume: string | null}) => [b.claim, [b.status, b.volume]]))
    expect(byClaim).toEqual({
      'app/big': ['noCandidate', null],
      'app/cache': ['bind', 'local-b'],
      'app/db': ['bind', 'pv-db-old'],
      'app/logs': ['noCandidate', null],
      'app/web': ['bind', 'pv-rwo-20'],
    })
  })

  it('-o yaml, and a refusal exits 1 with the mismatch list', async () => {
    const r = await run(['bind', 'app/cache', '--volume', 'local-a', '--from-file', demo, '--dry-run=client', '-o', 'yaml'])
    expect(r.code).toBe(1)
    const doc = yaml.load(r.stdout) as {bindings: {status: string; mismatches: {check: string}[]}[]}
    expect(doc.bindings[0].status).toBe('refused')
    expect(doc.bindings[0].mismatches.map((m) => m.check)).toEqual(['nodeAffinity'])
  })

  it('human output shows the patch and the kubectl command', async () => {
    const r = await run(['bind', '-n', 'app', 'logs', '--volume', 'pv-old-logs', '--reclaim', '--from-file', demo, '--dry-run'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('app/logs → PV pv-old-logs')
    expect(r.stdout).toContain(`kubectl patch pv pv-old-logs --type=merge -p '{"metadata":{"resourceVersion":"1004"},"spec":{"claimRef":{"name":"logs","uid":"11111111-0000-4000-8000-000000000003"}}}'`)
    expect(r.stdout).toContain('becomes readable and writable by app/logs')
    expect(r.stdout).toContain('dry run: nothing was written')
  })

  it('--from-file without a client dry run is a tool error (exit 2)', async () => {
    for (const extra of [[], ['--dry-run=server'], ['--yes']]) {
      const r = await run(['bind', 'app/db', '--from-file', demo, ...extra])
      expect(r.code).toBe(2)
      expect(r.stderr).toBe('error: --from-file only supports --dry-run=client: a snapshot cannot be written to; drop --from-file to bind in the cluster\n')
    }
  })

  it('no claim and no --all (or both) is exit 2', async () => {
    expect(await run(['bind', '--from-file', demo, '--dry-run'])).toMatchObject({code: 2, stderr: 'error: name the claim to bind (NAME or NAMESPACE/NAME), or pass --all\n'})
    expect(await run(['bind', 'app/db', '--all', '--from-file', demo, '--dry-run'])).toMatchObject({code: 2, stderr: 'error: give either a claim or --all, not both\n'})
  })

  it('a missing claim or PV is exit 2', async () => {
    expect((await run(['bind', 'app/nope', '--from-file', demo, '--dry-run'])).code).toBe(2)
    const r = await run(['bind', 'app/web', '--volume', 'nope', '--from-file', demo, '--dry-run'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: persistentvolume "nope" not found/)
  })
})

// ---- a loopback API server holding the demo objects ----

interface Recorded {
  method: string
  path: string
  query: Record<string, string>
  contentType?: string
  body?: unknown
}

const state = {
  objects: new Map<string, Record<string, unknown>>(),
  requests: [] as Recorded[],
  /** Runs before a PATCH is handled: simulates another writer. */
  beforePatch: undefined as undefined | ((path: string) => void),
  /** Simulates the PV controller: a real claimRef write makes the claim Bound. */
  controller: true,
  rv: 5000,
}

function load(): void {
  state.objects.clear()
  const list = yaml.load(readFileSync(demo, 'utf8')) as {items: Record<string, any>[]}
  for (const o of list.items) state.objects.set(pathOf(o), o)
  state.requests = []
  state.beforePatch = undefined
  state.controller = true
}

function pathOf(o: Record<string, any>): string {
  const plural: Record<string, string> = {PersistentVolume: 'persistentvolumes', PersistentVolumeClaim: 'persistentvolumeclaims', Node: 'nodes', Pod: 'pods', StorageClass: 'storageclasses'}
  const base = o.kind === 'StorageClass' ? '/apis/storage.k8s.io/v1' : '/api/v1'
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : ''
  return `${base}${ns}/${plural[o.kind]}/${o.metadata.name}`
}

async function handle(req: IncomingMessage, body: string): Promise<[number, unknown]> {
  const url = new URL(req.url ?? '/', 'http://x')
  const rec: Recorded = {method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type']}
  if (body) rec.body = JSON.parse(body)
  state.requests.push(rec)
  const obj = state.objects.get(url.pathname)
  if (req.method === 'GET') {
    if (obj) return [200, obj]
    const items = [...state.objects.entries()].filter(([p]) => p.startsWith(url.pathname + '/') && !p.slice(url.pathname.length + 1).includes('/')).map(([, o]) => o)
    return [200, {kind: 'List', metadata: {}, items}]
  }
  if (req.method === 'PATCH') {
    if (rec.contentType !== 'application/merge-patch+json') return [415, {kind: 'Status', reason: 'UnsupportedMediaType', message: `unsupported ${rec.contentType}`}]
    state.beforePatch?.(url.pathname)
    const cur = state.objects.get(url.pathname)
    if (!cur) return [404, {kind: 'Status', reason: 'NotFound', message: 'not found'}]
    const patch = rec.body as {metadata?: {resourceVersion?: string}}
    const want = patch.metadata?.resourceVersion
    if (want && want !== (cur.metadata as {resourceVersion?: string}).resourceVersion)
      return [409, {kind: 'Status', reason: 'Conflict', message: `Operation cannot be fulfilled on ${url.pathname}: the object has been modified; please apply your changes to the latest version and try again`}]
    const next = applyMergePatch(cur, {...patch, metadata: {...patch.metadata, resourceVersion: String(++state.rv)}}) as Record<string, any>
    if (rec.query.dryRun === 'All') return [200, next]
    state.objects.set(url.pathname, next)
    const ref = next.spec?.claimRef
    if (state.controller && ref?.uid) {
      const claim = state.objects.get(`/api/v1/namespaces/${ref.namespace}/persistentvolumeclaims/${ref.name}`) as Record<string, any> | undefined
      if (claim && claim.metadata.uid === ref.uid) claim.status = {phase: 'Bound'}
    }
    return [200, next]
  }
  return [405, {kind: 'Status', reason: 'MethodNotAllowed', message: 'no'}]
}

describe('bind against a fake API server', () => {
  let server: Server
  let dir: string
  let kubeconfig: string

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', async () => {
        const [code, out] = await handle(req, Buffer.concat(chunks).toString('utf8'))
        res.writeHead(code, {'Content-Type': 'application/json'})
        res.end(JSON.stringify(out))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    dir = mkdtempSync(join(tmpdir(), 'pvd-bind-'))
    kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(
      kubeconfig,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{name: 'fake', cluster: {server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true}}],
        users: [{name: 'u', user: {token: 't'}}],
        contexts: [{name: 'fake', context: {cluster: 'fake', user: 'u', namespace: 'app'}}],
        'current-context': 'fake',
      }),
    )
  })
  afterAll(() => {
    server?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })
  beforeEach(load)

  const patches = () => state.requests.filter((r) => r.method === 'PATCH')
  const k = () => ['--kubeconfig', kubeconfig]

  it('without a TTY and without --yes: exit 2 before any request', async () => {
    const r = await run(['bind', 'db', ...k()])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('error: refusing to write without confirmation: stdin is not a terminal; pass --yes to bind, or --dry-run to preview (nothing was written)\n')
    expect(state.requests).toEqual([])
  })

  it('--dry-run=server sends the merge patch with dryRun=All and changes nothing', async () => {
    const before = JSON.stringify(state.objects.get('/api/v1/persistentvolumes/pv-db-old'))
    const r = await run(['bind', 'db', '--dry-run=server', '-o', 'json', ...k()])
    expect(r.code).toBe(0)
    expect(patches()).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/persistentvolumes/pv-db-old',
        query: {dryRun: 'All', fieldManager: 'kubectl-pv-doctor'},
        contentType: 'application/merge-patch+json',
        body: {metadata: {resourceVersion: '1003'}, spec: {claimRef: {uid: '11111111-0000-4000-8000-000000000002', resourceVersion: null}}},
      },
    ])
    expect(JSON.stringify(state.objects.get('/api/v1/persistentvolumes/pv-db-old'))).toBe(before)
    const b = JSON.parse(r.stdout).bindings[0]
    expect(b).toMatchObject({applied: false, server: [{object: 'persistentvolume/pv-db-old', dryRun: true, ok: true}]})
  })

  it('--yes --wait writes the PV side once and waits until the claim is Bound', async () => {
    const r = await run(['bind', 'app/db', '--yes', '--wait', '--timeout', '10s', ...k()])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(patches().map((p) => [p.path, p.query.dryRun])).toEqual([['/api/v1/persistentvolumes/pv-db-old', undefined]])
    const pv = state.objects.get('/api/v1/persistentvolumes/pv-db-old') as {spec: {claimRef: Record<string, unknown>}}
    expect(pv.spec.claimRef).toEqual({kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'app', name: 'db', uid: '11111111-0000-4000-8000-000000000002'})
    expect(r.stdout).toContain('written: persistentvolume/pv-db-old — the claim is Bound')
  })

  it('a PV changed between plan and write: 409, nothing written, exit 1, and what changed', async () => {
    state.beforePatch = (path) => {
      const pv = state.objects.get(path) as Record<string, any>
      state.objects.set(path, {...pv, metadata: {...pv.metadata, resourceVersion: '1999'}, spec: {...pv.spec, claimRef: {namespace: 'app', name: 'intruder', uid: 'x'}}, status: {phase: 'Bound'}})
    }
    const r = await run(['bind', 'app/web', '--yes', '-o', 'json', ...k()])
    expect(r.code).toBe(1)
    const b = JSON.parse(r.stdout).bindings[0]
    expect(b.applied).toBe(false)
    expect(b.server[0]).toMatchObject({ok: false, code: 409, reason: 'Conflict'})
    expect(b.server[0].changes).toEqual(['resourceVersion 1002 → 1999', 'spec.claimRef: unset → app/intruder (uid x)', 'status.phase: Available → Bound'])
    expect((state.objects.get('/api/v1/persistentvolumes/pv-rwo-20') as any).spec.claimRef.name).toBe('intruder')
  })

  // A real terminal through util-linux `script`: the prompt, and a change made while it waits.
  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], {stdio: 'ignore'})
      return true
    } catch {
      return false
    }
  })()
  function runTTY(args: string[], answer: string, whilePrompting?: () => void): Promise<Run> {
    const cmd = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    return new Promise((resolve) => {
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], {cwd: root, env: cliEnv()})
      let out = ''
      let answered = false
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (!answered && out.includes('[y/N]')) {
          answered = true
          whilePrompting?.()
          child.stdin.write(answer + '\n')
        }
      })
      child.on('close', (code) => resolve({code: code ?? 1, stdout: out, stderr: ''}))
    })
  }

  it.runIf(hasScript)('on a terminal: asks, and "n" writes nothing', async () => {
    const r = await runTTY(['bind', 'app/web', ...k()], 'n')
    expect(r.stdout).toContain('Write this change? [y/N]')
    expect(r.stdout).toContain('Aborted: nothing was written.')
    expect(r.code).toBe(0)
    expect(patches()).toEqual([])
  })

  it.runIf(hasScript)('on a terminal: a PV changed while the prompt waits is detected on "y" (409), nothing written', async () => {
    const path = '/api/v1/persistentvolumes/pv-rwo-20'
    const r = await runTTY(['bind', 'app/web', ...k()], 'y', () => {
      const pv = state.objects.get(path) as Record<string, any>
      state.objects.set(path, {...pv, metadata: {...pv.metadata, resourceVersion: '1500', labels: {tier: 'gold'}}})
    })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('persistentvolume/pv-rwo-20 changed since it was read (resourceVersion 1002 → 1500; metadata.labels: unset → {"tier":"gold"})')
    expect(patches()).toHaveLength(1)
    expect((state.objects.get(path) as any).spec.claimRef).toBeUndefined()
  })

  it('--wait times out: exit 1 and the explain diagnosis', async () => {
    state.controller = false
    const r = await run(['bind', 'web', '--yes', '--wait', '--timeout', '2s', ...k()])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Timed out: app/web not Bound yet')
    expect(r.stdout).toContain('app/web  Pending')
    expect(r.stdout).toContain('BindPending')
  })
})
