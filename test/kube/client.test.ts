/**
 * Answers a real API server cannot be made to send on demand — a 500, a 429 with Retry-After,
 * a body cut short, a Status where a List belongs, a continue token that expired (410, which
 * needs an etcd compaction) — from a small loopback server. Each ends in a retry, a fallback or
 * one line of error.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {connect} from '../../src/kube/client.js'
import {KubeError} from '../../src/kube/errors.js'
import {spawn} from 'node:child_process'
import {BIN, ROOT} from '../helpers/cli.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
let handler: Handler = (_req, res) => res.end('{}')
const seen: string[] = []
let server: Server
let kubeconfig = ''

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '')
    handler(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as {port: number}).port
  const dir = mkdtempSync(join(tmpdir(), 'pvd-client-'))
  kubeconfig = join(dir, 'kc')
  writeFileSync(
    kubeconfig,
    `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]
contexts: [{name: x, context: {cluster: c}}]
current-context: x
`,
  )
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const json = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(code, {'Content-Type': 'application/json', ...headers})
  res.end(JSON.stringify(body))
}
const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
})
const list = (names: string[], cont = '') => ({
  kind: 'PersistentVolumeList',
  apiVersion: 'v1',
  metadata: {continue: cont},
  items: names.map((name) => ({metadata: {name}})),
})

async function client() {
  seen.length = 0
  return connect({kubeconfig, timeoutMs: 5000})
}
async function failure(p: Promise<unknown>): Promise<KubeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(KubeError)
  expect((e as Error).message).not.toMatch(/\n|undefined|Cannot read properties/)
  return e as KubeError
}

describe('the live side against answers a real API server rarely gives', () => {
  it('500: the server’s own Status message', async () => {
    handler = (_q, res) => json(res, 500, status(500, 'InternalError', 'etcdserver: request timed out'))
    const e = await failure((await client()).list('/api/v1/persistentvolumes'))
    expect(e.status).toMatchObject({code: 500, reason: 'InternalError', message: 'etcdserver: request timed out'})
    expect(seen).toHaveLength(1)
  })
  it('429 with Retry-After: waits and tries again, as client-go does', async () => {
    let n = 0
    handler = (_q, res) =>
      n++ === 0
        ? json(res, 429, status(429, 'TooManyRequests', 'slow down'), {'Retry-After': '1'})
        : json(res, 200, list(['a']))
    const items = await (await client()).list('/api/v1/persistentvolumes')
    expect(items).toHaveLength(1)
    expect(seen).toHaveLength(2)
  })
  it('429 that never ends: gives up after a few tries with the server’s message', async () => {
    handler = (_q, res) =>
      json(res, 429, status(429, 'TooManyRequests', 'too many requests, please try again later'), {'Retry-After': '0'})
    const e = await failure((await client()).list('/api/v1/persistentvolumes'))
    expect(e.status.code).toBe(429)
    expect(seen).toHaveLength(4)
  })
  it('a body cut short', async () => {
    handler = (_q, res) => {
      res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': '5000'})
      res.write('{"kind":"PersistentVolumeList","items":[{"metadata"')
      setTimeout(() => res.destroy(), 20)
    }
    const e = await failure((await client()).list('/api/v1/persistentvolumes'))
    expect(e.message).toMatch(/closed the connection|dropped the connection|cut short/)
  })
  it('a Status where a List belongs: an error, not an empty cluster', async () => {
    handler = (_q, res) => json(res, 200, status(403, 'Forbidden', 'pvs are forbidden'))
    const e = await failure((await client()).list('/api/v1/persistentvolumes'))
    expect(e.status).toMatchObject({code: 403, reason: 'Forbidden'})
    handler = (_q, res) => json(res, 200, {kind: 'Status', status: 'Success'})
    const e2 = await failure((await client()).list('/api/v1/persistentvolumes'))
    expect(e2.message).toMatch(/answered GET \/api\/v1\/persistentvolumes with a Status where a list was expected/)
  })
  it('asks for the next page as soon as a page names its continue token, and keeps the pages in order', async () => {
    const pages: Record<string, [string[], string]> = {'': [['a', 'b'], 't1'], t1: [['c'], 't2'], t2: [['d'], '']}
    let rest: (() => void) | undefined
    handler = (req, res) => {
      const cont = new URL(req.url ?? '', 'http://x').searchParams.get('continue') ?? ''
      const [names, next] = pages[cont]
      const text = JSON.stringify(list(names, next))
      res.writeHead(200, {'Content-Type': 'application/json'})
      if (cont === '') {
        // The head of page one (its token) now; the rest only once page two has been asked for.
        const cut = text.indexOf('"items"')
        res.write(text.slice(0, cut))
        rest = () => res.end(text.slice(cut))
      } else {
        res.end(text)
        if (cont === 't1') rest?.()
      }
    }
    const items = await (await client()).list<{metadata: {name: string}}>('/api/v1/persistentvolumes')
    expect(items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c', 'd'])
    expect(seen).toHaveLength(3)
  })

  it('a continue token that expired (410): one full list instead, as client-go’s pager does', async () => {
    handler = (q, res) => {
      const u = new URL(q.url ?? '', 'http://x')
      if (u.searchParams.get('continue'))
        return json(res, 410, status(410, 'Expired', 'The provided continue parameter is too old'))
      if (u.searchParams.get('limit')) return json(res, 200, list(['a'], 'tok'))
      json(res, 200, list(['a', 'b', 'c']))
    }
    const items = await (await client()).list('/api/v1/persistentvolumes')
    expect(items).toHaveLength(3)
    expect(seen).toHaveLength(3)
    expect(seen[2]).not.toMatch(/limit=/)
  })
  it('through the CLI: one line and exit 2', async () => {
    handler = (_q, res) => json(res, 500, status(500, 'InternalError', 'etcdserver: leader changed'))
    // Not runCli: its spawnSync would block this process, and with it the loopback server.
    const r = await new Promise<{code: number; stderr: string}>((done) => {
      const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
      delete env.VITEST
      const child = spawn(process.execPath, [BIN, 'explain', '--kubeconfig', kubeconfig], {cwd: ROOT, env})
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('close', (code) => done({code: code ?? -1, stderr}))
    })
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: .*etcdserver: leader changed/)])
  })
})
