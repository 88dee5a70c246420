/**
 * The snapshot reader (and the engine behind it) fed mutated real inputs: every run ends in a
 * diagnosis or a one-line UserError without JavaScript wording. Fixed seed, bounded runs.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import fc from 'fast-check'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {diagnose} from '../../src/diagnose/diagnose.js'
import {UserError} from '../../src/errors.js'
import {renderDiagnosis} from '../../src/output/renderDiagnosis.js'
import {serialize} from '../../src/output/serialize.js'
import {parseSnapshot} from '../../src/snapshot/parseSnapshot.js'
import {ROOT} from '../helpers/cli.js'
import {check, damagedText, JS_WORDING, mutatedDocument} from './inputs.js'
import {makeChalk} from '../../src/base/color.js'

let count = 0
afterAll(() => console.log(`fuzz: ${count} generated snapshot inputs, no uncaught error`))

const dump = readFileSync(join(ROOT, 'examples', 'shop-kubectl-dump.json'), 'utf8')
const snapYaml = readFileSync(join(ROOT, 'examples', 'shop-snapshot.yaml'), 'utf8')
const multiDoc = readFileSync(join(ROOT, 'examples', 'pending-local.yaml'), 'utf8')
const dumpDoc = JSON.parse(dump) as {items: unknown[]}
const snapDoc = yaml.load(snapYaml)

/** What pv-doctor does with a file: read it, diagnose every claim, render both ways. */
function runSnapshot(text: string): void {
  count++
  try {
    const snap = parseSnapshot(text, 'input.json')
    const d = diagnose(snap, {targets: [], all: true})
    renderDiagnosis(d, makeChalk(0), {scopeLabel: 'in any namespace', wide: true})
    serialize(d, 'json')
  } catch (error) {
    if (!(error instanceof UserError)) throw error
    expect(error.message).not.toMatch(/\n/)
    expect(error.message).not.toMatch(JS_WORDING)
  }
}

describe('fuzz: snapshot reader', () => {
  it('a kubectl List with one object mutated at any field', () => {
    const items = fc.constantFrom(...dumpDoc.items.keys())
    check(
      fc.property(
        items.chain((i) => mutatedDocument(dumpDoc.items[i]).map((item) => ({i, item}))),
        fc.nat({max: 4}),
        ({i, item}, pick) => {
          const asYaml = pick === 0
          const doc = {...dumpDoc, items: dumpDoc.items.map((x, j) => (j === i ? item : x))}
          runSnapshot(asYaml ? yaml.dump(doc, {skipInvalid: true}) : JSON.stringify(doc))
        },
      ),
      2500,
    )
  })
  it('a pv-doctor snapshot mutated at any field', () => {
    check(
      fc.property(mutatedDocument(snapDoc), (doc) => runSnapshot(JSON.stringify(doc) ?? 'null')),
      2500,
    )
  })
  it('damaged text: JSON, YAML, multi-document YAML', () => {
    check(fc.property(fc.oneof(damagedText(dump), damagedText(snapYaml), damagedText(multiDoc)), runSnapshot), 1500)
  })
})
