/**
 * The human tables as a person sees them: the built CLI in a real terminal (tmux) of 80, 100
 * and 160 columns, the screen captured and compared with reviewed text files in layout/.
 * Table lines are cut with … to the terminal's width instead of wrapping.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {asCurrentProbe} from '../disks/helpers.js'
import {BIN, ROOT} from '../helpers/cli.js'

const hasTmux = spawnSync('tmux', ['-V']).status === 0
const SOCKET = `pv-doctor-layout-${process.pid}`

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-u', '-L', SOCKET, ...args], {encoding: 'utf8'})
}

/** Candidate-table lines (header and rows) of explain's human output. */
function tableLines(out: string): string[] {
  const lines: string[] = []
  let inTable = false
  for (const l of out.split('\n')) {
    if (/^ {2}Candidate PVs:/.test(l)) inTable = true
    else if (!/^ {4}/.test(l) || /^ {4}… and/.test(l)) inTable = false
    else if (inTable) lines.push(l)
  }
  return lines
}

/**
 * Runs the CLI in a detached tmux pane of `width` columns and returns the screen once it has
 * finished, and the same with wrapped lines joined (to tell a cut line from a wrapped one).
 */
async function screen(width: number, args: string[]): Promise<{shown: string; joined: string}> {
  const name = `w${width}-${Math.random().toString(36).slice(2, 8)}`
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')
  tmux(
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(width),
    '-y',
    '200',
    '-c',
    ROOT,
    `NO_COLOR=1 ${cmd}; echo '<<done>>'; sleep 60`,
  )
  try {
    for (let i = 0; i < 200; i++) {
      const cut = (s: string) => `${s.slice(0, s.indexOf('<<done>>')).replace(/\s+$/, '')}\n`
      const out = tmux('capture-pane', '-p', '-t', name, '-S', '0', '-E', '199')
      if (out.includes('<<done>>'))
        return {shown: cut(out), joined: cut(tmux('capture-pane', '-p', '-J', '-t', name, '-S', '0', '-E', '199'))}
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`no output in a ${width}-column terminal`)
  } finally {
    tmux('kill-session', '-t', name)
  }
}

/** The recorded report, read as the current probe would print it (older reports are unreadable by design). */
const nvmeReport = join(mkdtempSync(join(tmpdir(), 'pvd-layout-')), 'nvme-server.json')
writeFileSync(
  nvmeReport,
  JSON.stringify(asCurrentProbe(JSON.parse(readFileSync(join(ROOT, 'test/disks/fixtures/nvme-server.json'), 'utf8')))),
)

const CASES: [string, string[]][] = [
  ['explain', ['explain', '-A', '--from-file', 'examples/shop-snapshot.yaml']],
  ['explain-bind-demo', ['explain', '-A', '--all', '--from-file', 'examples/bind-demo.yaml']],
  ['disks', ['disks', '--from-report', nvmeReport, '--from-file', 'examples/shop-snapshot.yaml']],
]

/** The table lines of a command's human output. */
function tableOf(label: string, out: string): string[] {
  return label === 'disks' ? out.split('\n').filter((l) => /^NODE |\/dev\//.test(l)) : tableLines(out)
}

describe.skipIf(!hasTmux)('layout in a real terminal (tmux)', () => {
  // One idle session keeps our own tmux server up between the runs (no start/stop races).
  beforeAll(() => tmux('new-session', '-d', '-s', 'idle', 'sleep 600'))
  afterAll(() => tmux('kill-server'))
  for (const width of [80, 100, 160]) {
    for (const [label, args] of CASES) {
      it(`${label} at ${width} columns: no table line wraps; reviewed text`, async () => {
        const {shown, joined} = await screen(width, args)
        const table = tableOf(label, joined)
        expect(table.length).toBeGreaterThan(0)
        for (const line of table) expect([...line].length, line).toBeLessThanOrEqual(width)
        // From 100 columns on, the default table of examples/ is shown whole: nothing cut.
        if (width >= 100 && label === 'explain') expect(table.filter((l) => l.endsWith('…'))).toEqual([])
        await expect(shown).toMatchFileSnapshot(`layout/${label}-${width}.txt`)
      })
    }
  }
  it('-o wide at 160 columns: the check matrix under headers unlike the data columns', async () => {
    const {shown: out} = await screen(160, [
      'explain',
      '-A',
      '-o',
      'wide',
      '--from-file',
      'examples/shop-snapshot.yaml',
    ])
    expect(out).toMatch(/NAME +CAPACITY +MODES +CLASS +PHASE +VOLUMEMODE +CLAIM +free\? +size\?/)
    await expect(out).toMatchFileSnapshot('layout/explain-wide-160.txt')
  })
})

describe('the default candidate table of examples/ fits 100 columns (rows with one reason; longer ones are cut on a terminal)', () => {
  for (const file of ['examples/shop-snapshot.yaml', 'examples/bind-demo.yaml', 'examples/pending-local.yaml']) {
    it(file, () => {
      // Not a terminal: nothing is cut, so this measures the table itself.
      const r = spawnSync(process.execPath, [BIN, 'explain', '-A', '--all', '--from-file', file], {
        encoding: 'utf8',
        env: {...process.env, NO_COLOR: '1'},
      })
      const table = tableLines(r.stdout).filter((l) => !l.includes(';'))
      expect(table.length).toBeGreaterThan(0)
      for (const l of table) expect([...l].length, l).toBeLessThanOrEqual(100)
    })
  }
})
