/** Machine output: JSON indented like kubectl (4 spaces), YAML with kubectl's layout. Documents hold no BigInts. */
import yaml from 'js-yaml'

export function toJSON(v: unknown): string {
  return `${JSON.stringify(v, null, 4)}\n`
}

/**
 * toJSON's text in pieces of about 64 KB: at 20,000 reported claims the whole document is longer
 * than V8's longest string. The top object and its lists are written here, and any deeper value
 * holding a long list (a claim's ties, a consumer's nodes); every other value by JSON.stringify
 * (re-indented: strings hold no raw newline), so the bytes are toJSON's. Pieces stay below V8's
 * large-object size (128 KB), so they die young instead of piling up until a full collection.
 */
export function* toJSONChunks(v: unknown): Generator<string> {
  let buf = ''
  for (const part of jsonParts(v, '', 0)) {
    buf += part
    if (buf.length > 1 << 16) {
      yield buf
      buf = ''
    }
  }
  yield `${buf}\n`
}

/** Lists longer than this are written item by item wherever they are. */
const LONG_LIST = 64

/** Whether `v` holds a list longer than LONG_LIST at any depth (a walk, no allocation). */
function holdsLongList(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || typeof (v as {toJSON?: unknown}).toJSON === 'function') return false
  if (Array.isArray(v)) return v.length > LONG_LIST || v.some(holdsLongList)
  for (const k in v) if (holdsLongList((v as Record<string, unknown>)[k])) return true
  return false
}

const skipped = (x: unknown) => x === undefined || typeof x === 'function' || typeof x === 'symbol'

/** A generator's items are written as a list, read once (a scan's claims, diagnosed as they are written). */
const isIterator = (v: object): v is Iterable<unknown> =>
  typeof (v as {next?: unknown}).next === 'function' && Symbol.iterator in v

function* jsonParts(v: unknown, indent: string, depth: number): Generator<string> {
  if (
    v === null ||
    typeof v !== 'object' ||
    typeof (v as {toJSON?: unknown}).toJSON === 'function' ||
    (depth >= 2 && !holdsLongList(v))
  ) {
    yield (JSON.stringify(v, null, 4) ?? 'null').replace(/\n/g, `\n${indent}`)
    return
  }
  const inner = `${indent}    `
  if (Array.isArray(v) || isIterator(v)) {
    let i = 0
    for (const x of v as Iterable<unknown>) {
      yield `${i++ ? ',' : '['}\n${inner}`
      if (skipped(x)) yield 'null'
      else yield* jsonParts(x, inner, depth + 1)
    }
    yield i ? `\n${indent}]` : '[]'
    return
  }
  const o = v as Record<string, unknown>
  const keys = Object.keys(o).filter((k) => !skipped(o[k]))
  if (keys.length === 0) return yield '{}'
  yield '{'
  for (let i = 0; i < keys.length; i++) {
    yield `${i ? ',' : ''}\n${inner}${JSON.stringify(keys[i])}: `
    yield* jsonParts(o[keys[i]], inner, depth + 1)
  }
  yield `\n${indent}}`
}

export function toYAML(v: unknown): string {
  // Through JSON first: undefined fields vanish, as they do in -o json.
  return yaml.dump(JSON.parse(JSON.stringify(v)), {noArrayIndent: true, lineWidth: -1, noRefs: true, quotingType: '"'})
}

export function serialize(v: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJSON(v) : toYAML(v)
}
