/**
 * Reads kubeconfigs as kubectl does (client-go tools/clientcmd), without the client library:
 * loading @kubernetes/client-node costs ~180 ms even bundled, most of a cluster command's
 * start-up. Certificates (inline or files), tokens and token files, basic auth,
 * insecure-skip-tls-verify, tls-server-name, exec plugins (run by ./execCredential.ts) and
 * in-cluster config are handled here; only `proxy-url` and the deprecated `auth-provider` are
 * left to the library (`library` in the result), after this module has checked the entries.
 *
 * Merging follows clientcmd's loader.go (ClientConfigLoadingRules.Load): for each name the first
 * file that defines it wins, whole; so does the first current-context. Every error is one line
 * naming the file, the entry and the fix.
 */
import {existsSync, readFileSync} from 'node:fs'
import type {RequestOptions} from 'node:https'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join, resolve, sep} from 'node:path'
import yaml from 'js-yaml'
import {UserError} from '../errors.js'

export interface ExecPlugin {
  command: string
  args: string[]
  env: {name: string; value: string}[]
  apiVersion: string
  interactiveMode: 'Never' | 'IfAvailable' | 'Always'
  installHint?: string
  /** The `spec.cluster` handed to the plugin in KUBERNETES_EXEC_INFO, when provideClusterInfo is set. */
  cluster?: Record<string, unknown>
  user: string
  file: string
}

export interface Connection {
  server: string
  namespace: string
  contextName: string
  agentOptions: RequestOptions
  /** Credentials come from this plugin, run before the first request. */
  exec?: ExecPlugin
  /** What only the client library handles (the entries are already checked). */
  library?: 'proxy-url' | 'auth-provider'
  /** The files read, for the library. */
  files: string[]
}

type Rec = Record<string, unknown>
interface Entry {
  body: Rec
  file: string
}

const EXEC_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const FIX = 'fix the kubeconfig or pass another with --kubeconfig'

/** The kubeconfig files in effect, as kubectl picks them; throws the user-facing errors. */
export function kubeconfigFiles(explicit?: string): string[] {
  if (explicit) {
    if (!existsSync(explicit))
      throw new UserError(`kubeconfig file ${explicit} does not exist; pass an existing file with --kubeconfig`)
    return [explicit]
  }
  const env = (process.env.KUBECONFIG ?? '').split(':').filter(Boolean)
  if (env.length > 0) {
    // loader.go skips missing files; when all are missing kubectl runs with no configuration,
    // which only confuses: say which names are wrong.
    const existing = env.filter((p) => existsSync(p))
    if (existing.length === 0)
      throw new UserError(
        `no kubeconfig found: KUBECONFIG names ${env.join(', ')}, which does not exist; fix KUBECONFIG or pass --kubeconfig`,
      )
    return existing
  }
  const home = join(homedir(), '.kube', 'config')
  return existsSync(home) ? [home] : []
}

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** One file's named entries, checked for shape (kubectl rejects the same files when decoding). */
function namedList(doc: Rec, key: string, inner: string, file: string): [string, Rec][] {
  const list = doc[key]
  if (list === undefined || list === null) return []
  if (!Array.isArray(list)) throw new UserError(`kubeconfig ${file}: "${key}" is not a list; ${FIX}`)
  return list.map((item, i) => {
    if (!isRec(item) || typeof item.name !== 'string' || item.name === '')
      throw new UserError(`kubeconfig ${file}: ${key}[${i}] has no name; ${FIX}`)
    const body = item[inner] ?? {}
    if (!isRec(body))
      throw new UserError(`kubeconfig ${file}: ${key} entry "${item.name}" has no "${inner}" mapping; ${FIX}`)
    return [item.name, body]
  })
}

export interface MergedConfig {
  clusters: Map<string, Entry>
  users: Map<string, Entry>
  contexts: Map<string, Entry>
  current: string
  currentFile: string
}

/** Reads and merges the files (clientcmd loader.go order: the first file wins per name). */
export function mergeKubeconfigs(files: string[], read = (f: string) => readFileSync(f, 'utf8')): MergedConfig {
  const m: MergedConfig = {clusters: new Map(), users: new Map(), contexts: new Map(), current: '', currentFile: ''}
  for (const file of files) {
    let doc: unknown
    try {
      doc = yaml.load(read(file))
    } catch (error) {
      const why = (error as Error).message.split('\n')[0]
      throw new UserError(`cannot read kubeconfig ${file}: ${why}; ${FIX}`)
    }
    if (doc === undefined || doc === null) continue
    if (!isRec(doc)) throw new UserError(`kubeconfig ${file} is not a kubeconfig (not a YAML mapping); ${FIX}`)
    const dir = dirname(resolve(file))
    const add = (map: Map<string, Entry>, key: string, inner: string) => {
      for (const [name, body] of namedList(doc as Rec, key, inner, file))
        if (!map.has(name)) map.set(name, {body: withBase(body, dir), file})
    }
    add(m.clusters, 'clusters', 'cluster')
    add(m.users, 'users', 'user')
    add(m.contexts, 'contexts', 'context')
    const cur = doc['current-context']
    if (cur !== undefined && cur !== null && typeof cur !== 'string')
      throw new UserError(`kubeconfig ${file}: current-context is not a string; ${FIX}`)
    if (!m.current && cur) {
      m.current = cur
      m.currentFile = file
    }
  }
  return m
}

// Relative paths are relative to the file that named them (loader.go ResolveLocalPaths).
const BASE = Symbol('dir')
function withBase(body: Rec, dir: string): Rec {
  return Object.assign(Object.create(null), body, {[BASE]: dir})
}
function pathIn(body: Rec, p: string): string {
  return isAbsolute(p) ? p : join((body as Record<symbol, string>)[BASE] ?? '.', p)
}

function str(e: Entry, key: string, what: string): string | undefined {
  const v = e.body[key]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new UserError(`kubeconfig ${e.file}: ${what} field "${key}" is not a string; ${FIX}`)
  return v
}

function bool(e: Entry, key: string, what: string): boolean {
  const v = e.body[key]
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean')
    throw new UserError(`kubeconfig ${e.file}: ${what} field "${key}" is not true or false; ${FIX}`)
  return v
}

function readData(e: Entry, dataKey: string, fileKey: string, what: string): Buffer | undefined {
  const data = str(e, dataKey, what)
  if (data) return Buffer.from(data, 'base64') // client-go: the -data field wins over the file
  const file = str(e, fileKey, what)
  if (!file) return undefined
  const p = pathIn(e.body, file)
  try {
    return readFileSync(p)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code
    throw new UserError(`cannot read ${fileKey} ${p} of ${what} in ${e.file} (${why}); fix the path in the kubeconfig`)
  }
}

/** kubectl's answer when nothing usable is configured (clientcmd ErrEmptyConfig), with the fix. */
function emptyConfig(files: string[]): UserError {
  const where = files.length ? `${files.join(', ')} holds no clusters or contexts` : 'no kubeconfig was found'
  return new UserError(
    `invalid configuration: no configuration has been provided (${where}); point --kubeconfig or KUBECONFIG at a kubeconfig, or use --from-file to work offline`,
  )
}

function inClusterPossible(): boolean {
  return Boolean(process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT)
}

/** client-go rest.InClusterConfig: the service account's token and CA, the service's address. */
export function inClusterConnection(saDir = SA_DIR): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? ''
  const port = process.env.KUBERNETES_SERVICE_PORT ?? ''
  const read = (name: string) => {
    try {
      return readFileSync(join(saDir, name))
    } catch {
      throw new UserError(
        `in-cluster configuration: cannot read ${join(saDir, name)}; mount the pod's service account token (automountServiceAccountToken) or pass --kubeconfig`,
      )
    }
  }
  const token = read('token').toString('utf8').trim()
  const ca = read('ca.crt')
  let namespace = process.env.POD_NAMESPACE || ''
  if (!namespace) {
    try {
      namespace = readFileSync(join(saDir, 'namespace'), 'utf8').trim()
    } catch {
      namespace = 'default'
    }
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    server,
    namespace: namespace || 'default',
    contextName: 'in-cluster',
    agentOptions: {ca, headers: {Authorization: `Bearer ${token}`}},
    files: [],
  }
}

/** Resolves the connection the way kubectl would; every problem is a one-line UserError. */
export function resolveConnection(files: string[], context?: string, read?: (f: string) => string): Connection {
  const m = mergeKubeconfigs(files, read)
  if (m.clusters.size === 0 && m.contexts.size === 0 && m.users.size === 0 && !context) {
    // clientcmd IsEmptyConfig: fall back to in-cluster config (merged_client_builder.go).
    if (inClusterPossible()) return inClusterConnection()
    throw emptyConfig(files)
  }
  const contextName = context ?? m.current
  const contextNames = [...m.contexts.keys()]
  const choose = contextNames.length
    ? `; pick one with --context (${contextNames.slice(0, 5).join(', ')}${contextNames.length > 5 ? ', ...' : ''}) or \`kubectl config use-context <name>\``
    : '; add a context to the kubeconfig'
  if (!contextName) {
    if (inClusterPossible()) return inClusterConnection()
    throw new UserError(`current-context is not set in ${files.join(', ')}${choose}`)
  }
  const ctx = m.contexts.get(contextName)
  if (!ctx) {
    if (context)
      throw new UserError(
        `context "${context}" does not exist in ${files.join(', ') || 'the kubeconfig (none was found)'}${choose}`,
      )
    throw new UserError(
      `current-context "${contextName}" (set in ${m.currentFile}) names no context in the kubeconfig${choose}`,
    )
  }
  const what = `context "${contextName}"`
  const clusterName = str(ctx, 'cluster', what)
  if (!clusterName)
    throw new UserError(`cluster was not specified for context "${contextName}" in ${ctx.file}; set its cluster`)
  const cl = m.clusters.get(clusterName)
  if (!cl)
    throw new UserError(
      `cluster "${clusterName}" was not found for context "${contextName}" (in ${ctx.file}); add the cluster or fix the context`,
    )
  const userName = str(ctx, 'user', what)
  // A context without a user is anonymous, as in kubectl; one naming a missing user is a mistake.
  const us: Entry | undefined = userName ? m.users.get(userName) : {body: {}, file: ctx.file}
  if (!us)
    throw new UserError(
      `user "${userName}" was not found for context "${contextName}" (in ${ctx.file}); add the user or fix the context`,
    )
  const namespace = str(ctx, 'namespace', what) || 'default'

  const cWhat = `cluster "${clusterName}"`
  const server = str(cl, 'server', cWhat)
  if (!server) throw new UserError(`no server found for cluster "${clusterName}" in ${cl.file}; set its server URL`)
  let url: URL
  try {
    url = new URL(server)
  } catch {
    throw new UserError(`server "${server}" of cluster "${clusterName}" in ${cl.file} is not a URL; fix the kubeconfig`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UserError(
      `server ${server} of cluster "${clusterName}" in ${cl.file} is not an http(s) URL; fix the kubeconfig`,
    )
  const proxy = str(cl, 'proxy-url', cWhat)
  if (proxy) {
    // clientcmd helpers.go parseProxyURL
    let scheme = ''
    try {
      scheme = new URL(proxy).protocol.replace(/:$/, '')
    } catch {
      /* below */
    }
    if (!['http', 'https', 'socks5'].includes(scheme))
      throw new UserError(
        `invalid 'proxy-url' "${proxy}" for cluster "${clusterName}" in ${cl.file}: must be http, https, or socks5`,
      )
  }
  const agentOptions: RequestOptions = {}
  const ca = readData(cl, 'certificate-authority-data', 'certificate-authority', cWhat)
  const insecure = bool(cl, 'insecure-skip-tls-verify', cWhat)
  if (insecure && ca)
    // client-go rest.Config validation: "specifying a root certificates file with the insecure flag is not allowed"
    throw new UserError(
      `cluster "${clusterName}" in ${cl.file} sets both insecure-skip-tls-verify and a certificate-authority, which kubectl refuses; remove one`,
    )
  if (ca) agentOptions.ca = ca
  if (insecure) agentOptions.rejectUnauthorized = false
  const sni = str(cl, 'tls-server-name', cWhat)
  if (sni) agentOptions.servername = sni

  const uWhat = `user "${userName}"`
  const cert = readData(us, 'client-certificate-data', 'client-certificate', uWhat)
  const key = readData(us, 'client-key-data', 'client-key', uWhat)
  if (cert && !key)
    throw new UserError(
      `client-key-data or client-key must be specified for ${uWhat} in ${us.file} to use its client certificate`,
    )
  if (key && !cert)
    throw new UserError(
      `client-certificate-data or client-certificate must be specified for ${uWhat} in ${us.file} to use its client key`,
    )
  if (cert) agentOptions.cert = cert
  if (key) agentOptions.key = key
  // client_config.go getUserIdentificationPartialConfig: token wins over tokenFile.
  let token = str(us, 'token', uWhat)
  if (!token) {
    const tf = str(us, 'tokenFile', uWhat)
    if (tf) token = readData(us, '', 'tokenFile', uWhat)?.toString('utf8').trim()
  }
  const username = str(us, 'username', uWhat)
  const password = str(us, 'password', uWhat)
  if (token && (username || password))
    throw new UserError(
      `more than one authentication method found for ${uWhat} in ${us.file} (token and basic auth); keep one`,
    )
  const headers: Record<string, string | string[]> = {}
  if (token) headers.Authorization = `Bearer ${token}`
  else if (username || password)
    headers.Authorization = `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`
  const as = str(us, 'as', uWhat)
  if (as) headers['Impersonate-User'] = as
  const asGroups = us.body['as-groups']
  if (Array.isArray(asGroups) && as) headers['Impersonate-Group'] = asGroups.map(String)
  if (Object.keys(headers).length) agentOptions.headers = headers

  const conn: Connection = {server, namespace, contextName, agentOptions, files}
  if (us.body.exec !== undefined && us.body.exec !== null)
    conn.exec = execPlugin(us, userName ?? '', {
      server,
      'tls-server-name': sni,
      'insecure-skip-tls-verify': insecure || undefined,
      'certificate-authority-data': ca?.toString('base64'),
      'proxy-url': proxy,
      config: execExtension(cl),
    })
  if (us.body['auth-provider'] !== undefined && us.body['auth-provider'] !== null) {
    if (conn.exec)
      throw new UserError(
        `authProvider cannot be provided in combination with an exec plugin for ${uWhat} in ${us.file}`,
      )
    conn.library = 'auth-provider'
  } else if (proxy) conn.library = 'proxy-url'
  return conn
}

/** The per-cluster exec config (the reserved client.authentication.k8s.io/exec extension). */
function execExtension(cl: Entry): unknown {
  const ext = cl.body.extensions
  if (!Array.isArray(ext)) return undefined
  return ext.find((x) => isRec(x) && x.name === 'client.authentication.k8s.io/exec')?.extension
}

/** The user's exec entry, checked as clientcmd validation.go validateAuthInfo does. */
function execPlugin(us: Entry, user: string, cluster: Record<string, unknown>): ExecPlugin {
  const where = `the exec plugin of user "${user}" in ${us.file}`
  const e = us.body.exec
  if (!isRec(e)) throw new UserError(`${where} is not a mapping; ${FIX}`)
  const command = e.command
  if (typeof command !== 'string' || !command)
    throw new UserError(`command must be specified for user "${user}" to use exec authentication plugin (${us.file})`)
  const apiVersion = e.apiVersion
  if (typeof apiVersion !== 'string' || !apiVersion)
    throw new UserError(
      `apiVersion must be specified for user "${user}" to use exec authentication plugin (${us.file})`,
    )
  if (!EXEC_VERSIONS.includes(apiVersion))
    throw new UserError(
      `${where} asks for apiVersion ${apiVersion}, which kubectl no longer supports; use ${EXEC_VERSIONS.join(' or ')}`,
    )
  const args = e.args ?? []
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))
    throw new UserError(`${where}: args is not a list of strings; ${FIX}`)
  const env = e.env ?? []
  if (!Array.isArray(env) || env.some((v) => !isRec(v) || typeof v.name !== 'string' || !v.name))
    throw new UserError(
      `env variable name must be specified for user "${user}" to use exec authentication plugin (${us.file})`,
    )
  // api/v1/defaults.go SetDefaults_ExecConfig: v1beta1 defaults to IfAvailable; v1 must say.
  const mode = e.interactiveMode ?? (apiVersion.endsWith('v1beta1') ? 'IfAvailable' : '')
  if (mode === '')
    throw new UserError(
      `interactiveMode must be specified for user "${user}" to use exec authentication plugin (${us.file}); set it to Never, IfAvailable or Always`,
    )
  if (mode !== 'Never' && mode !== 'IfAvailable' && mode !== 'Always')
    throw new UserError(
      `invalid interactiveMode for user "${user}": "${String(mode)}" (${us.file}); use Never, IfAvailable or Always`,
    )
  // loader.go ResolveLocalPaths: a command with a path separator is relative to the kubeconfig.
  const cmd = command.includes(sep) ? pathIn(us.body, command) : command
  const plugin: ExecPlugin = {
    command: cmd,
    args: args as string[],
    env: (env as Rec[]).map((v) => ({name: String(v.name), value: String(v.value ?? '')})),
    apiVersion,
    interactiveMode: mode,
    user,
    file: us.file,
  }
  if (typeof e.installHint === 'string' && e.installHint) plugin.installHint = e.installHint
  if (e.provideClusterInfo === true)
    plugin.cluster = Object.fromEntries(Object.entries(cluster).filter(([, v]) => v !== undefined))
  return plugin
}
