/**
 * Talks to the API server. The only module that loads @kubernetes/client-node at run time, and
 * only when the kubeconfig needs it (exec plugins, auth providers, in-cluster config; the common
 * certificate/token kubeconfig is read by ./kubeconfig.ts without it, since loading it costs
 * ~180 ms even bundled). Requests are plain HTTPS so lists stay raw JSON (exact wire objects,
 * fast to parse).
 */
import https from 'node:https'
import {UserError} from '../errors.js'
import {type Connection, kubeconfigFiles, resolveConnection} from './kubeconfig.js'

export interface ConnectOptions {
  kubeconfig?: string
  context?: string
  /** Per-request client timeout in milliseconds; 0 = none. */
  timeoutMs: number
  /** kubectl's --as / --as-group: act as another user (Impersonate-* headers). */
  as?: string
  asGroups?: string[]
}

import {KubeError, type KubeStatus} from './errors.js'

export interface KubeClient {
  server: string
  /** Namespace of the current context, `default` when it names none. */
  namespace: string
  contextName: string
  request<T = unknown>(
    method: string,
    path: string,
    opts?: {
      body?: unknown
      contentType?: string
      query?: Record<string, string | undefined>
      /**
       * Nothing waits on it soon (a probe): sent over connections of its own, so that it never
       * queues ahead of a read (the pooled connections are taken in the order requests are made).
       */
      background?: boolean
    },
  ): Promise<T>
  /** Lists a collection, following `metadata.continue` until the end. */
  list<T = unknown>(path: string, query?: Record<string, string | undefined>): Promise<T[]>
  /** Like list, with the collection's resourceVersion: where a watch that misses nothing starts. */
  listWithVersion<T = unknown>(
    path: string,
    query?: Record<string, string | undefined>,
  ): Promise<{items: T[]; resourceVersion: string}>
  /**
   * Streams a watch (`?watch=1`) from resourceVersion: one call per event, then `onEnd` when the
   * server closes the stream (normal every few minutes) or the connection fails. Returns stop().
   */
  watch(
    path: string,
    query: Record<string, string | undefined>,
    onEvent: (e: WatchEvent) => void,
    onEnd: (error?: KubeError) => void,
  ): () => void
}

/** One line of a watch stream. ERROR carries a Status (410 Gone: the resourceVersion is too old). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: {metadata?: {resourceVersion?: string}; code?: number; reason?: string; message?: string}
}

/**
 * Objects per page. kubectl asks for 500; pv-doctor reads every list whole, and each page costs
 * a round trip and the server's per-request work: at 10,000 claims and PVs on a loaded machine
 * 2000 read both lists ~25% faster than 500 or 1000, and 5000 was slower again (a 10 MB page
 * parses in one go and leaves less to overlap). docs/performance.md, issue 12.
 */
const PAGE = 2000
/**
 * PV_DOCTOR_TRACE=1: one stderr line per request, for performance work: when it was sent, its
 * first byte and its last (ms since the client loaded), status, bytes, method and URL.
 */
const TRACE = process.env.PV_DOCTOR_TRACE ? {t0: performance.now()} : undefined
/** Connections for requests (see `pool` in connect). */
const MAX_CONNECTIONS = 4
/** Connections for background requests (probes). */
const MAX_BACKGROUND_CONNECTIONS = 2
/** client-go retries a 429 up to 10 times; a command-line tool gives up sooner. */
const MAX_TRIES = 4
const MAX_RETRY_WAIT_S = 10

type KubeModule = Pick<typeof import('@kubernetes/client-node'), 'KubeConfig'>

/**
 * KubeConfig from dist/vendor/kube.js, the bundle `npm run build` makes (scripts/bundle-kube.mjs):
 * one file instead of ~970 modules. Without it (running from src/, or a build without the
 * bundle) the package itself.
 */
async function loadKube(): Promise<KubeModule> {
  try {
    return (await import(new URL('../vendor/kube.js', import.meta.url).href)) as KubeModule
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
    return import('@kubernetes/client-node')
  }
}

export async function connect(opts: ConnectOptions): Promise<KubeClient> {
  const files = kubeconfigFiles(opts.kubeconfig)
  let conn = resolveConnection(files, opts.context)
  if (conn.exec) {
    const {applyExecCredential} = await import('./execCredential.js')
    await applyExecCredential(conn.exec, conn.agentOptions)
  }
  if (conn.library) conn = await libraryConnection(conn)
  const {server, agentOptions: agentOpts} = conn
  const base = new URL(server)
  const transport = base.protocol === 'https:' ? https : await import('node:http')
  // Requests share a few kept-alive connections: a new TLS connection costs client and server
  // milliseconds of CPU, which a dozen parallel reads would pay a dozen times (~70 ms of client
  // CPU for 13 reads, ~25 ms over 3 connections). Watches, long-lived, keep their own. A proxy
  // agent from the kubeconfig (agentOpts.agent) wins.
  const pool = new transport.Agent({keepAlive: true, maxSockets: MAX_CONNECTIONS})
  const backgroundPool = new transport.Agent({keepAlive: true, maxSockets: MAX_BACKGROUND_CONNECTIONS})
  // A list's next page is on the critical path of the read that asked for it, and is asked for
  // while the round's other requests may still wait for a connection: on the shared pool it would
  // queue behind them (seconds, with dozens of small reads at M). At most one per list is in flight.
  const pagePool = new transport.Agent({keepAlive: true, maxSockets: MAX_CONNECTIONS})

  type RequestOpts = {
    body?: unknown
    contentType?: string
    query?: Record<string, string | undefined>
    background?: boolean
    /** A list's second or later page (its own connections, see pagePool). */
    nextPage?: boolean
    /** A 2xx list's `metadata.continue`, as soon as the head of the body shows it (see listHead). */
    onContinue?: (token: string) => void
  }

  /** The URL of an API path with its query (empty values left out), and the headers every call sends. */
  function target(path: string, query: Record<string, string | undefined>) {
    const url = new URL(base.pathname.replace(/\/$/, '') + path, base)
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v)
    const headers: Record<string, string | string[]> = {
      ...(agentOpts.headers as Record<string, string> | undefined),
      Accept: 'application/json',
      'User-Agent': 'kubectl-pv-doctor',
    }
    if (opts.as) headers['Impersonate-User'] = opts.as
    if (opts.asGroups?.length) headers['Impersonate-Group'] = opts.asGroups
    return {url, headers}
  }

  /**
   * One request, retried as client-go's rest client does (request.go checkWait / retry): a 429,
   * or a 5xx with Retry-After, waits that long (capped) and tries again, a few times.
   */
  async function request<T>(method: string, path: string, ro: RequestOpts = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send<T>(method, path, ro)
      } catch (error) {
        const wait = error instanceof KubeError ? error.retryAfterSeconds : undefined
        if (wait === undefined || attempt >= MAX_TRIES) throw error
        await new Promise((r) => setTimeout(r, Math.min(wait, MAX_RETRY_WAIT_S) * 1000))
      }
    }
  }

  function send<T>(method: string, path: string, ro: RequestOpts): Promise<T> {
    const {url, headers} = target(path, ro.query ?? {})
    const payload = ro.body === undefined ? undefined : JSON.stringify(ro.body)
    if (payload !== undefined) {
      headers['Content-Type'] = ro.contentType ?? 'application/json'
      headers['Content-Length'] = String(Buffer.byteLength(payload))
    }
    const t0 = TRACE ? performance.now() - TRACE.t0 : 0
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          agent: ro.background ? backgroundPool : ro.nextPage ? pagePool : pool,
          ...agentOpts,
          method,
          headers,
          timeout: opts.timeoutMs || undefined,
        },
        (res) => {
          const chunks: Buffer[] = []
          if (TRACE) {
            const t1 = performance.now() - TRACE.t0
            res.on('end', () => {
              const n = chunks.reduce((a, c) => a + c.length, 0)
              process.stderr.write(
                `[trace] ${t0.toFixed(0)}-${t1.toFixed(0)}-${(performance.now() - TRACE.t0).toFixed(0)} ms ${res.statusCode} ${n} B ${method} ${url.pathname}${url.search.replace(/continue=[^&]*/, 'continue=…')}\n`,
              )
            })
          }
          const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300
          let head = ro.onContinue && ok ? '' : undefined
          res.on('data', (c: Buffer) => {
            chunks.push(c)
            if (head === undefined) return
            head += c.toString('latin1')
            const found = listHead(head)
            if (found === undefined) return
            head = undefined
            if (found) ro.onContinue!(found)
          })
          res.on('aborted', () =>
            reject(
              new KubeError({
                code: 0,
                reason: 'Truncated',
                message: `the API server closed the connection in the middle of its answer to ${method} ${url.pathname}; try again`,
              }),
            ),
          )
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            const code = res.statusCode ?? 0
            if (code >= 200 && code < 300) {
              let body: unknown
              try {
                body = JSON.parse(text)
              } catch {
                reject(
                  new KubeError({
                    code,
                    reason: 'BadResponse',
                    message: `the API server answered ${method} ${url.pathname} with ${text.trim() ? 'something that is not JSON (cut short?)' : 'an empty body'}; try again`,
                  }),
                )
                return
              }
              // A Status with status Failure is an error whatever the HTTP code says.
              const st = body as {kind?: unknown; status?: unknown; reason?: unknown; message?: unknown; code?: unknown}
              if (st && st.kind === 'Status' && st.status === 'Failure') {
                reject(
                  new KubeError({
                    code: typeof st.code === 'number' ? st.code : code,
                    reason: typeof st.reason === 'string' && st.reason ? st.reason : 'Failure',
                    message: typeof st.message === 'string' ? st.message : `${method} ${url.pathname} failed`,
                  }),
                )
                return
              }
              resolve(body as T)
              return
            }
            let status: Partial<KubeStatus> = {}
            try {
              const s = JSON.parse(text) as {reason?: string; message?: string}
              status = {reason: s.reason, message: s.message}
            } catch {
              /* not a Status object */
            }
            const err = new KubeError({
              code,
              reason: status.reason ?? reasonFor(code),
              message: status.message ?? (text.trim().split('\n')[0].slice(0, 200) || `HTTP ${code}`),
            })
            const after = Number(res.headers['retry-after'])
            if ((code === 429 || (code >= 500 && res.headers['retry-after'] !== undefined)) && code !== 0)
              err.retryAfterSeconds = Number.isFinite(after) && after >= 0 ? after : 1
            reject(err)
          })
          res.on('error', (e) => reject(transportError(e, server, opts.timeoutMs)))
        },
      )
      if (opts.timeoutMs) {
        req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), {code: 'ETIMEDOUT'})))
      }
      req.on('error', (e) => reject(transportError(e, server, opts.timeoutMs)))
      if (payload !== undefined) req.write(payload)
      req.end()
    })
  }

  async function listWithVersion<T>(
    path: string,
    query: Record<string, string | undefined> = {},
    paged = true,
  ): Promise<{items: T[]; resourceVersion: string}> {
    type Page = {kind?: unknown; items?: unknown; metadata?: {continue?: string; resourceVersion?: string}}
    type Paged = {page: Page; next?: Promise<Paged>}
    // Pages are pipelined: the next page is asked for as soon as the head of this one names its
    // continue token, so the server encodes page n+1 while this process receives and parses page n
    // (a 10,000-object list is 5 pages of PAGE). Items stay in page order.
    const fetchPage = (cont: string | undefined): Promise<Paged> => {
      let next: Promise<Paged> | undefined
      const start = (token: string) => {
        if (next || !paged) return
        next = fetchPage(token)
        // Awaited in turn below; a failure before then must not count as unhandled.
        next.catch(() => undefined)
      }
      return request<Page>('GET', path, {
        query: {...query, limit: paged ? String(PAGE) : undefined, continue: cont},
        nextPage: cont !== undefined,
        onContinue: start,
      }).then((page) => {
        const token = page && typeof page === 'object' ? page.metadata?.continue : undefined
        if (token) start(token)
        return {page, next}
      })
    }
    const items: T[] = []
    let resourceVersion = ''
    let pending: Promise<Paged> | undefined = fetchPage(undefined)
    let first = true
    while (pending) {
      let got: Paged
      try {
        got = await pending
      } catch (error) {
        // client-go pager.go: a continue token that expired (410) falls back to one full list.
        if (!first && error instanceof KubeError && error.status.code === 410)
          return listWithVersion<T>(path, {...query, limit: undefined}, false)
        throw error
      }
      first = false
      const {page} = got
      if (!page || typeof page !== 'object' || !Array.isArray(page.items))
        throw new KubeError({
          code: 0,
          reason: 'BadResponse',
          message: `the API server answered GET ${path} with ${page && typeof page === 'object' && typeof page.kind === 'string' ? `a ${page.kind}` : 'something'} where a list was expected; check the server address in the kubeconfig`,
        })
      for (const item of page.items as T[]) items.push(item)
      // Every page of one paginated list is served at the first page's resourceVersion.
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion
      pending = got.next
    }
    return {items, resourceVersion}
  }

  async function list<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    return (await listWithVersion<T>(path, query)).items
  }

  function watch(
    path: string,
    query: Record<string, string | undefined>,
    onEvent: (e: WatchEvent) => void,
    onEnd: (error?: KubeError) => void,
  ): () => void {
    const {url, headers} = target(path, {...query, watch: '1', allowWatchBookmarks: 'true'})
    let ended = false
    const end = (error?: KubeError) => {
      if (ended) return
      ended = true
      onEnd(error)
    }
    // No client timeout: a watch is quiet for as long as nothing changes; the server ends it.
    const req = transport.request(url, {...agentOpts, method: 'GET', headers}, (res) => {
      const code = res.statusCode ?? 0
      if (code < 200 || code >= 300) {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let s: {reason?: string; message?: string} = {}
          try {
            s = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            /* not a Status */
          }
          end(new KubeError({code, reason: s.reason ?? reasonFor(code), message: s.message ?? `HTTP ${code}`}))
        })
        return
      }
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        let nl = buf.indexOf('\n')
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim()
          buf = buf.slice(nl + 1)
          if (line) {
            try {
              onEvent(JSON.parse(line) as WatchEvent)
            } catch {
              req.destroy()
              end(
                new KubeError({
                  code: 0,
                  reason: 'BadResponse',
                  message: `a watch of ${path} sent a line that is not JSON`,
                }),
              )
              return
            }
          }
          nl = buf.indexOf('\n')
        }
      })
      res.on('end', () => end())
      res.on('error', (e) => end(transportError(e, server, opts.timeoutMs)))
    })
    req.on('error', (e) => end(transportError(e, server, opts.timeoutMs)))
    req.end()
    return () => {
      ended = true
      req.destroy()
    }
  }

  return {server, namespace: conn.namespace, contextName: conn.contextName, request, list, listWithVersion, watch}
}

/**
 * proxy-url and auth-provider users: the library builds the agent (resolveConnection has already
 * checked the entries, so what fails here is the proxy or the provider itself).
 */
async function libraryConnection(conn: Connection): Promise<Connection> {
  const {KubeConfig} = await loadKube()
  const kc = new KubeConfig()
  try {
    if (conn.files.length === 1) kc.loadFromFile(conn.files[0])
    else kc.loadFromDefault(undefined, true)
    kc.setCurrentContext(conn.contextName)
  } catch (error) {
    throw new UserError(`cannot read kubeconfig: ${firstLine(error)}; check the file or pass another with --kubeconfig`)
  }
  const agentOptions: https.RequestOptions = {}
  try {
    await kc.applyToHTTPSOptions(agentOptions)
  } catch (error) {
    throw new UserError(
      `cannot authenticate with context "${conn.contextName}" (its ${conn.library}): ${firstLine(error) || 'no reason given'}`,
    )
  }
  return {...conn, agentOptions}
}

/**
 * A list's continue token from the head of its body, before the rest arrives: `metadata` comes
 * before `items` in every list the API server writes. undefined = not known yet, '' = none.
 * Only the part before `"items"` is looked at, so no object's text can be mistaken for it.
 */
export function listHead(head: string): string | undefined {
  const items = head.indexOf('"items"')
  const meta = items < 0 ? head : head.slice(0, items)
  const m = /"continue"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(meta)
  if (m) return JSON.parse(m[1]) as string
  return items < 0 && head.length < 64 * 1024 ? undefined : ''
}

function reasonFor(code: number): string {
  return (
    (
      {
        400: 'BadRequest',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'NotFound',
        409: 'Conflict',
        422: 'Invalid',
        500: 'InternalError',
        503: 'ServiceUnavailable',
      } as Record<number, string>
    )[code] ?? `HTTP${code}`
  )
}

function transportError(e: Error & {code?: string}, server: string, timeoutMs: number): KubeError {
  const host = server.replace(/^https?:\/\//, '')
  if (e.code === 'ETIMEDOUT')
    return new KubeError({
      code: 0,
      reason: 'Timeout',
      message: `the API server at ${host} did not answer within ${timeoutMs / 1000}s; check the cluster is up or raise --request-timeout`,
    })
  if (e.code === 'ECONNREFUSED')
    return new KubeError({
      code: 0,
      reason: 'Unreachable',
      message: `the connection to the server ${host} was refused - did you specify the right host or port?`,
    })
  if (e.code === 'ECONNRESET')
    return new KubeError({
      code: 0,
      reason: 'Unreachable',
      message: `the API server at ${host} dropped the connection; try again, and check it is healthy if this repeats`,
    })
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return new KubeError({
      code: 0,
      reason: 'Unreachable',
      message: `cannot resolve the API server host ${host}; check the kubeconfig's server address`,
    })
  if (
    e.code?.startsWith('ERR_TLS') ||
    e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    e.code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    e.code === 'CERT_HAS_EXPIRED'
  )
    return new KubeError({
      code: 0,
      reason: 'TLS',
      message: `TLS to ${host} failed (${e.code}); check the kubeconfig's certificate-authority`,
    })
  return new KubeError({
    code: 0,
    reason: 'Unreachable',
    message: `cannot reach the API server at ${host}: ${e.message}`,
  })
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]
}
