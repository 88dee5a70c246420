/**
 * Checks an object read from a snapshot file against the Kubernetes types (./schema.ts, from the
 * client library's models) before the engine sees it: a field of the wrong type, or an object
 * without a name, is one line naming the file, the object and the field — never a JavaScript
 * error deep in the engine. Unknown fields are left alone (a newer server may send more).
 */
import {UserError} from '../errors.js'
import {SCHEMA} from './schema.js'

const WHAT: Record<string, string> = {s: 'a string', q: 'a quantity', n: 'a number', b: 'true or false'}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') return 'a string'
  return `${typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'true or false' : 'not JSON'}`
}

function expected(t: string): string {
  if (WHAT[t]) return WHAT[t]
  if (t.startsWith('[')) return 'a list'
  return 'a mapping'
}

const MAX_DEPTH = 64

interface Mismatch {
  /** Path segments, innermost first (built only on failure: the walk stays cheap on big files). */
  at: string[]
  is: string
  want: string
}

/** The first mismatch of `v` against type `t`, or undefined when the value fits. */
function mismatch(v: unknown, t: string, depth: number): Mismatch | undefined {
  if (v === null || v === undefined || t === '*') return undefined // null is how JSON omits a field
  if (depth > MAX_DEPTH) return {at: [], is: 'nested too deeply', want: expected(t)}
  switch (t) {
    case 's':
      return typeof v === 'string' ? undefined : {at: [], is: describe(v), want: expected(t)}
    case 'q':
      return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))
        ? undefined
        : {at: [], is: describe(v), want: expected(t)}
    case 'n':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : {at: [], is: describe(v), want: expected(t)}
    case 'b':
      return typeof v === 'boolean' ? undefined : {at: [], is: describe(v), want: expected(t)}
  }
  const c = t.charCodeAt(0)
  if (c === 91 /* [ */) {
    if (!Array.isArray(v)) return {at: [], is: describe(v), want: expected(t)}
    const inner = t.slice(1, -1)
    for (let i = 0; i < v.length; i++) {
      const m =
        v[i] === null && inner !== '*' ? {at: [], is: 'null', want: expected(inner)} : mismatch(v[i], inner, depth + 1)
      if (m) {
        m.at.push(`[${i}]`)
        return m
      }
    }
    return undefined
  }
  const fields = c === 123 /* { */ ? undefined : SCHEMA.types[t]
  if (c !== 123 && (!fields || fields === '*')) return undefined // a type the models leave open (MicroTime)
  if (typeof v !== 'object' || Array.isArray(v)) return {at: [], is: describe(v), want: expected(t)}
  const inner = c === 123 ? t.slice(1, -1) : ''
  for (const k in v) {
    const ft = fields ? (fields as Record<string, string>)[k] : inner
    if (ft === undefined) continue
    const m = mismatch((v as Record<string, unknown>)[k], ft, depth + 1)
    if (m) {
      m.at.push(`.${k}`)
      return m
    }
  }
  return undefined
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** Throws a one-line UserError when `doc`, an object of `kind`, does not fit the Kubernetes types. */
export function checkObject(doc: Record<string, unknown>, kind: string, source: string): void {
  const meta = doc.metadata
  const name =
    meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as {name?: unknown; namespace?: unknown}) : {}
  // Events only lend their messages; every other kind is looked up by name.
  if (kind !== 'Event' && (typeof name.name !== 'string' || name.name === ''))
    throw new UserError(
      `${source} holds a ${kind} without metadata.name; give a file written by \`kubectl get ... -o json\``,
    )
  const base = typeof name.name === 'string' ? name.name : '(unnamed)'
  const id = typeof name.namespace === 'string' && name.namespace ? `${name.namespace}/${base}` : base
  const type = SCHEMA.kinds[kind]
  const found = type ? mismatch(doc, type, 0) : undefined
  const m = found && `${found.at.reverse().join('').replace(/^\./, '')} is ${found.is}, expected ${found.want}`
  if (m)
    throw new UserError(
      `${source}: ${kind} ${clip(id)}: ${clip(m)}; the file was edited or damaged — write it again with \`kubectl get ... -o json\``,
    )
}
