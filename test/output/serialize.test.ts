// -o json at XL is written in pieces (the document is longer than V8's longest string): the same bytes.
import {describe, expect, it} from 'vitest'
import {toJSON, toJSONChunks} from '../../src/output/serialize.js'

describe('toJSONChunks', () => {
  it('gives toJSON’s bytes for nested lists, empty values, undefined fields and dates', () => {
    const big = Array.from({length: 30_000}, (_, i) => ({name: `pvc-${i}`, ties: ['a', 'b'], note: 'x\ny "q"'}))
    const doc = {
      claims: big,
      skipped: [],
      none: {},
      gone: undefined,
      list: [1, undefined, null, {a: undefined, b: [[]], at: new Date(0)}],
      n: 3,
    }
    expect([...toJSONChunks(doc)].join('')).toBe(toJSON(doc))
    expect([...toJSONChunks([])].join('')).toBe(toJSON([]))
    expect([...toJSONChunks('s')].join('')).toBe(toJSON('s'))
  })

  it('writes a generator at the top two levels as the list it yields (a scan’s claims, diagnosed as written)', () => {
    const claims = [
      {name: 'a', ties: ['x']},
      {name: 'b', ties: []},
    ]
    const lazy = (function* () {
      yield* claims
    })()
    expect([...toJSONChunks({kind: 'Diagnosis', claims: lazy})].join('')).toBe(toJSON({kind: 'Diagnosis', claims}))
    const none = (function* () {})()
    expect([...toJSONChunks({claims: none})].join('')).toBe(toJSON({claims: []}))
  })

  it('writes long lists deep inside in pieces too (a consumer’s nodes), each piece small', () => {
    const nodes = Array.from({length: 20_000}, (_, i) => ({name: `node-${i}`, reasons: i % 2 ? [] : ['taint ✗']}))
    const doc = {claims: [{name: 'a', consumers: [{pod: 'p', nodes}], empty: [], at: new Date(0)}, {name: 'b'}]}
    const parts = [...toJSONChunks(doc)]
    expect(parts.join('')).toBe(toJSON(doc))
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(1 << 17)
  })
})
