import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {clusterLookup, contextNames} from '../../src/completion/cluster.js'

// A TAB must come back even when the API server never answers: a real socket that accepts
// connections and then says nothing.
let server: Server
const sockets: Socket[] = []
const dir = mkdtempSync(join(tmpdir(), 'pvd-completion-cluster-'))
const kubeconfig = join(dir, 'config')

beforeAll(async () => {
  server = createServer((s) => sockets.push(s))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as {port: number}).port
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- {name: silent, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}
- {name: other, cluster: {server: "https://127.0.0.1:1"}}
users:
- {name: u, user: {token: t}}
contexts:
- {name: silent, context: {cluster: silent, user: u}}
- {name: other, context: {cluster: other, user: u}}
current-context: silent
`,
  )
})
afterAll(() => {
  for (const s of sockets) s.destroy()
  server.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('names for completion from a cluster', () => {
  it('gives up after --request-timeout with no names, not an error', async () => {
    const claims = await clusterLookup().claims({kubeconfig, requestTimeout: '1s'})
    expect(claims).toEqual([])
  }, 10_000)

  it('an unreadable kubeconfig is no names, not an error', async () => {
    expect(await clusterLookup().nodes({kubeconfig: join(dir, 'missing')})).toEqual([])
    expect(contextNames(join(dir, 'missing'))).toEqual([])
  })

  it('contexts come from the kubeconfig in effect, in file order', () => {
    expect(contextNames(kubeconfig)).toEqual(['silent', 'other'])
  })
})
