/**
 * Mutations of real inputs for the fuzz tests: a real object with one field replaced by a value
 * of another type, removed, or the text truncated, sprinkled with binary bytes, nested deeply.
 */
import fc from 'fast-check'

function deepObject(depth: number): unknown {
  let v: unknown = {}
  for (let i = 0; i < depth; i++) v = {a: v}
  return v
}

/** Values of every JSON type, including the awkward ones. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 1e308, Number.MAX_SAFE_INTEGER + 2),
  fc.string(),
  fc.constantFrom('', ' ', 'x'.repeat(100_000), '__proto__', 'constructor', 'toString', '1Gi', '-5Gi', 'ReadWriteOnce'),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), {maxLength: 3}),
  fc.dictionary(fc.string({maxLength: 5}), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), {maxKeys: 3}),
  fc.constant(JSON.parse(`${'['.repeat(50)}${']'.repeat(50)}`)),
  fc.constant(deepObject(400)),
)

/** Every path (list of keys) inside a JSON value. */
export function paths(
  v: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix)
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) paths(x, [...prefix, i], out)
  } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out)
  return out
}

/** A copy of `doc` with the value at `path` replaced (or deleted when `value` is the DELETE marker). */
export const DELETE = Symbol('delete')
export function replaceAt(doc: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value === DELETE ? undefined : value
  const copy: unknown = Array.isArray(doc) ? [...doc] : {...(doc as object)}
  const [head, ...rest] = path
  const c = copy as Record<string | number, unknown>
  const next = replaceAt(c[head], rest, value)
  if (next === undefined && value === DELETE && rest.length === 0) {
    if (Array.isArray(c)) c.splice(head as number, 1)
    else delete c[head]
  } else c[head] = next
  return copy
}

/** One field of a real document mutated: replaced by an odd value or deleted; several at once. */
export function mutatedDocument(doc: unknown): fc.Arbitrary<unknown> {
  const all = paths(doc)
  const one = fc.tuple(fc.constantFrom(...all), fc.oneof({weight: 4, arbitrary: oddValue}, fc.constant(DELETE)))
  return fc.array(one, {minLength: 1, maxLength: 4}).map((edits) => {
    let d = doc
    for (const [p, v] of edits) d = replaceAt(d, p, v)
    return d
  })
}

/** Text-level damage: truncation, binary bytes, duplicated lines, deep nesting around it. */
export function damagedText(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({max: text.length}).map((n) => text.slice(0, n)),
    fc
      .tuple(fc.nat({max: text.length}), fc.uint8Array({minLength: 1, maxLength: 16}))
      .map(([n, bytes]) => text.slice(0, n) + Buffer.from(bytes).toString('latin1') + text.slice(n)),
    fc.tuple(fc.nat({max: text.length}), fc.nat({max: 200})).map(([n, len]) => {
      const lines = text.split('\n')
      const i = n % Math.max(lines.length, 1)
      return [...lines.slice(0, i + 1), ...lines.slice(i, i + 1 + (len % 3)), ...lines.slice(i + 1)].join('\n')
    }),
    fc.integer({min: 1, max: 5000}).map((depth) => `${'['.repeat(depth)}${text}${']'.repeat(depth)}`),
    fc.constantFrom('', '\u0000', '---\n---\n', 'null', '[]', '{}', '"x"', '42', '- a\n- b', 'kind: List\nitems: 5'),
  )
}

/** JavaScript wording that must never reach a user. */
export const JS_WORDING =
  /undefined|Cannot read properties|is not a function|is not iterable|NaN|\[object Object\]|TypeError|RangeError/

/** fc.assert with a fixed seed and a short failure: the error and the start of the counterexample. */
export function check<T>(prop: fc.IProperty<T>, numRuns: number, seed = 14): void {
  const r = fc.check(prop, {seed, numRuns, endOnFailure: true})
  if (!r.failed) return
  const example = JSON.stringify(r.counterexample, (_k, v) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}...` : v,
  )
  const e = r.errorInstance as Error | undefined
  throw new Error(
    `fuzz case ${r.numRuns} failed: ${e?.stack?.split('\n').slice(0, 6).join(' | ') ?? String(r.errorInstance)}\ncounterexample: ${example?.slice(0, 1500)}`,
  )
}
