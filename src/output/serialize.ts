/** Machine output: JSON indented like kubectl (4 spaces), YAML with kubectl's layout. Documents hold no BigInts. */
import yaml from 'js-yaml'

export function toJSON(v: unknown): string {
  return `${JSON.stringify(v, null, 4)}\n`
}

/**
 * toJSON's text in pieces of about 1 MB: at 20,000 reported claims the whole document is longer
 * than V8's longest string. The top object and its lists are written here, each deeper value by
 * JSON.stringify (re-indented: strings hold no raw newline), so the bytes are toJSON's.
 */
export function* toJSONChunks(v: unknown): Generator<string> {
  let buf = ''
  for (const part of jsonParts(v, '', 0)) {
    buf += part
    if (buf.length > 1 << 20) {
      yield buf
      buf = ''
    }
  }
  yield `${buf}\n`
}

const skipped = (x: unknown) => x === undefined || typeof x === 'function' || typeof x === 'symbol'

/** A generator's items are written as a list, read once (a scan's claims, diagnosed as they are written). */
const isIterator = (v: object): v is Iterable<unknown> =>
  typeof (v as {next?: unknown}).next === 'function' && Symbol.iterator in v

function* jsonParts(v: unknown, indent: string, depth: number): Generator<string> {
  if (depth >= 2 || v === null || typeof v !== 'object' || typeof (v as {toJSON?: unknown}).toJSON === 'function') {
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
