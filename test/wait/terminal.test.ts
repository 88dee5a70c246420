import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CAUSES} from '../../src/diagnose/types.js'
import {WAIT_TABLE} from '../../src/wait/terminal.js'
import {ROOT} from '../helpers/cli.js'

describe('the table of causes that end a wait', () => {
  it('docs/ci.md lists every cause once, with the same verdict as WAIT_TABLE', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8')
    const section = doc.slice(doc.indexOf('## Which causes end the wait'), doc.indexOf('## Output formats'))
    const rows = [...section.matchAll(/^\| `(\w+)` \| (\w+)/gm)].map((m) => [m[1], m[2]])
    const byName = (a: string[], b: string[]) => a[0].localeCompare(b[0])
    expect(rows.sort(byName)).toEqual(
      Object.keys(CAUSES)
        .map((c) => [c, WAIT_TABLE[c as keyof typeof CAUSES].ends])
        .sort(byName),
    )
  })
})
