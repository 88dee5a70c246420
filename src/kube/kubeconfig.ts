/**
 * A fast path for the common kubeconfig: certificates, tokens and CAs, in one file or a
 * KUBECONFIG list. Reading it needs only js-yaml, where @kubernetes/client-node's KubeConfig
 * costs ~180 ms to load even bundled — most of a cluster command's start-up. Anything it does not
 * handle (exec plugins, auth providers, basic auth, proxies, in-cluster config) returns
 * `undefined` and the caller uses the library, which handles everything.
 * Merging follows kubectl: for each name the first file wins, and so does the first current-context.
 */
import {existsSync, readFileSync} from 'node:fs'
import type {RequestOptions} from 'node:https'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import yaml from 'js-yaml'
import {UserError} from '../errors.js'

export interface Connection {
  server: string
  namespace: string
  contextName: string
  agentOptions: RequestOptions
}

type Named<T> = {name: string} & T
interface FileConfig {
  clusters?: Named<{cluster?: Record<string, unknown>}>[]
  users?: Named<{user?: Record<string, unknown>}>[]
  contexts?: Named<{context?: {cluster?: string; user?: string; namespace?: string}}>[]
  'current-context'?: string
}

const CLUSTER_KEYS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
])
const USER_KEYS = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'extensions',
])

/** The kubeconfig files in effect, as kubectl picks them; throws the user-facing errors. */
export function kubeconfigFiles(explicit?: string): string[] {
  if (explicit) {
    if (!existsSync(explicit))
      throw new UserError(`kubeconfig file ${explicit} does not exist; pass an existing file with --kubeconfig`)
    return [explicit]
  }
  const env = (process.env.KUBECONFIG ?? '').split(':').filter(Boolean)
  if (env.length > 0) {
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

/** Resolves the connection without the client library, or undefined when the library is needed. */
export function fastConnection(files: string[], context?: string): Connection | undefined {
  if (files.length === 0) return undefined
  const clusters = new Map<string, {cluster: Record<string, unknown>; dir: string}>()
  const users = new Map<string, {user: Record<string, unknown>; dir: string}>()
  const contexts = new Map<string, {cluster?: string; user?: string; namespace?: string}>()
  let current = ''
  for (const file of files) {
    let doc: FileConfig
    try {
      doc = (yaml.load(readFileSync(file, 'utf8')) ?? {}) as FileConfig
    } catch (error) {
      throw new UserError(
        `cannot read kubeconfig: ${file}: ${(error as Error).message.split('\n')[0]}; check the file or pass another with --kubeconfig`,
      )
    }
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new UserError(
        `cannot read kubeconfig: ${file} is not a kubeconfig; check the file or pass another with --kubeconfig`,
      )
    const dir = dirname(resolve(file))
    for (const c of doc.clusters ?? [])
      if (c?.name && !clusters.has(c.name)) clusters.set(c.name, {cluster: c.cluster ?? {}, dir})
    for (const u of doc.users ?? []) if (u?.name && !users.has(u.name)) users.set(u.name, {user: u.user ?? {}, dir})
    for (const c of doc.contexts ?? []) if (c?.name && !contexts.has(c.name)) contexts.set(c.name, c.context ?? {})
    current ||= doc['current-context'] ?? ''
  }
  const contextName = context ?? current
  if (context && !contexts.has(context))
    throw new UserError(`context "${context}" does not exist in the kubeconfig; see \`kubectl config get-contexts\``)
  const ctx = contexts.get(contextName)
  if (!ctx) return undefined
  const cl = clusters.get(ctx.cluster ?? '')
  const us = ctx.user ? users.get(ctx.user) : {user: {}, dir: ''}
  if (!cl || !us) return undefined
  if (Object.keys(cl.cluster).some((k) => !CLUSTER_KEYS.has(k)) || Object.keys(us.user).some((k) => !USER_KEYS.has(k)))
    return undefined
  const server = String(cl.cluster.server ?? '')
  if (!server) return undefined
  const read = (dir: string, data: unknown, path: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64')
    if (typeof path === 'string' && path) {
      const p = isAbsolute(path) ? path : join(dir, path)
      try {
        return readFileSync(p)
      } catch {
        throw new UserError(`cannot read ${p}, named in the kubeconfig; fix the path or the kubeconfig`)
      }
    }
    return undefined
  }
  const agentOptions: RequestOptions = {}
  const ca = read(cl.dir, cl.cluster['certificate-authority-data'], cl.cluster['certificate-authority'])
  if (ca) agentOptions.ca = ca
  if (cl.cluster['insecure-skip-tls-verify'] === true) agentOptions.rejectUnauthorized = false
  if (typeof cl.cluster['tls-server-name'] === 'string') agentOptions.servername = cl.cluster['tls-server-name']
  const cert = read(us.dir, us.user['client-certificate-data'], us.user['client-certificate'])
  const key = read(us.dir, us.user['client-key-data'], us.user['client-key'])
  if (cert) agentOptions.cert = cert
  if (key) agentOptions.key = key
  let token = typeof us.user.token === 'string' ? us.user.token : undefined
  if (!token && typeof us.user.tokenFile === 'string')
    token = read(us.dir, undefined, us.user.tokenFile)?.toString('utf8').trim()
  if (token) agentOptions.headers = {Authorization: `Bearer ${token}`}
  return {server, namespace: ctx.namespace || 'default', contextName, agentOptions}
}
