/**
 * explain writes its human and JSON output as it renders it (output/writeParts.ts): at 20,000
 * claims the whole text is gigabytes. The bytes are the same, a slow reader holds the writer
 * back, and a reader that goes away (`| head`) ends the run quietly.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Writable} from 'node:stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {makeChalk} from '../../src/base/color.js'
import type {Diagnosis} from '../../src/diagnose/types.js'
import {UserError} from '../../src/errors.js'
import {renderDiagnosis} from '../../src/output/renderDiagnosis.js'
import {writeParts} from '../../src/output/writeParts.js'
import {BIN, ROOT} from '../helpers/cli.js'
// @ts-expect-error plain ESM module without types
import {generate, writeCompactList} from '../bench/generate.mjs'

/** A reader that takes each write a moment later; `fail` makes the n-th write fail with that code. */
function reader(fail?: {at: number; code: string}) {
  const got: string[] = []
  let inFlight = 0
  let maxInFlight = 0
  const out = new Writable({
    highWaterMark: 1,
    write(chunk, _enc, cb) {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      setImmediate(() => {
        inFlight--
        if (fail && got.length === fail.at) return cb(Object.assign(new Error(`write ${fail.code}`), {code: fail.code}))
        got.push(String(chunk))
        cb()
      })
    },
  })
  return {out, got, maxInFlight: () => maxInFlight}
}

function* pieces(n: number, seen: {count: number}): Generator<string> {
  for (let i = 0; i < n; i++) {
    seen.count++
    yield `claim ${i} ${'x'.repeat(1000)}\n`
  }
}

describe('writeParts', () => {
  it('gives a slow reader every byte in order, one write at a time', async () => {
    const r = reader()
    const seen = {count: 0}
    expect(await writeParts(pieces(3000, seen), r.out)).toBe(true)
    expect(r.got.join('')).toBe([...pieces(3000, {count: 0})].join(''))
    expect(r.got.length).toBeGreaterThan(1) // written as it came, not as one string
    expect(r.maxInFlight()).toBe(1)
  })

  it('stops quietly, without rendering the rest, when the reader goes away (EPIPE)', async () => {
    const r = reader({at: 1, code: 'EPIPE'})
    const seen = {count: 0}
    expect(await writeParts(pieces(10_000, seen), r.out)).toBe(false)
    expect(seen.count).toBeLessThan(10_000)
    r.out.emit('error', Object.assign(new Error('late'), {code: 'EPIPE'})) // a late error event does not throw
  })

  it('reports any other write error in one line', async () => {
    const r = reader({at: 0, code: 'ENOSPC'})
    await expect(writeParts(pieces(3000, {count: 0}), r.out)).rejects.toThrow(UserError)
    await expect(writeParts(['x'], reader({at: 0, code: 'ENOSPC'}).out)).rejects.toThrow(
      /^cannot write the output \(write ENOSPC\)$/,
    )
  })
})

describe('explain -A --from-file, written in pieces', () => {
  let dir = ''
  let file = ''
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvd-write-'))
    file = join(dir, 'cluster-S.json')
    await writeCompactList(file, generate('S'))
  }, 120_000)
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  const env = {...process.env, NO_COLOR: '1', NODE_ENV: undefined, VITEST: undefined}
  const explain = (args: string[]) =>
    spawnSync(process.execPath, [BIN, 'explain', '-A', '--from-file', file, ...args], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      timeout: 120_000,
    })

  it('prints the human text of the diagnosis -o json gives, byte for byte', () => {
    const human = explain([])
    const json = explain(['-o', 'json'])
    expect(human.status).toBe(1)
    const d = JSON.parse(json.stdout) as Diagnosis
    expect(d.claims.length).toBeGreaterThan(50)
    const whole = renderDiagnosis(d, makeChalk(0), {scopeLabel: 'in any namespace'})
    expect(human.stdout.length).toBeGreaterThan(1 << 17) // more than one pipe buffer
    expect(human.stdout === whole).toBe(true)
  }, 240_000)

  it.each([[[]], [['-o', 'json']]])(
    'ends quietly when the reader closes the pipe early (%j, as with | head)',
    async (args) => {
      const child = spawn(process.execPath, [BIN, 'explain', '-A', '--from-file', file, ...args], {cwd: ROOT, env})
      let stderr = ''
      let first = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.stdout.once('data', (d) => {
        first = String(d)
        child.stdout.destroy()
      })
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
      expect(first.length).toBeGreaterThan(0)
      expect(stderr).not.toMatch(/EPIPE|error| {4}at /i)
      expect(code).toBe(1) // the verdict's exit status, as when the whole output is read
    },
    240_000,
  )
})
