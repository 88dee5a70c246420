/**
 * Shell completion as a user gets it: real bash (with bash-completion and kubectl's own completion
 * script) in tmux, the real kubectl (test/cluster/build-kubectl.sh) finding kubectl-pv_doctor and
 * kubectl_complete-pv_doctor on PATH, names from the live control plane.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {ROOT} from '../helpers/cli.js'
import {Kube} from './kube.js'
import {pvcObj, type Scenario, Scenarios, usableNodes} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const dir = mkdtempSync(join(tmpdir(), 'pvd-completion-'))
const socket = `pvd-completion-${process.pid}`
let scenarios: Scenarios
let s: Scenario
let nodeNames: string[] = []

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'})
const screen = () => tmux('capture-pane', '-p', '-t', 't')

/** The real kubectl, built once into the cache (same Kubernetes version as the control plane). */
function kubectl(): string {
  const r = spawnSync(join(ROOT, 'test', 'cluster', 'build-kubectl.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (r.status !== 0) throw new Error('building kubectl failed (test/cluster/build-kubectl.sh)')
  return r.stdout.trim().split('\n').at(-1)!
}

async function until(what: string, ok: (text: string) => boolean, ms = 15_000): Promise<string> {
  const end = Date.now() + ms
  let text = screen()
  while (!ok(text)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen:\n${text}`)
    await new Promise((r) => setTimeout(r, 100))
    text = screen()
  }
  return text
}

/** Abandons the line being typed and clears the screen. */
async function freshPrompt(): Promise<void> {
  // A Ctrl-C that lands while a completion is still running aborts it without a new prompt: repeat.
  for (let i = 0; ; i++) {
    tmux('send-keys', '-t', 't', 'C-c')
    try {
      await until('an empty prompt', (t) => promptLine(t) === '$', 1000)
      break
    } catch (error) {
      if (i === 10) throw error
    }
  }
  tmux('send-keys', '-t', 't', 'clear', 'Enter')
  await until('a clear prompt', (t) => t.trim() === '$')
}

/** Types a line, presses TAB (twice to list), returns the screen once it settles; clears the line. */
async function tab(line: string, opts: {twice?: boolean; expect: (text: string) => boolean}): Promise<string> {
  await freshPrompt()
  tmux('send-keys', '-t', 't', '-l', line)
  tmux('send-keys', '-t', 't', 'Tab')
  if (opts.twice) tmux('send-keys', '-t', 't', 'Tab')
  return until(`completion of "${line}"`, opts.expect)
}

const promptLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l === '$' || l.startsWith('$ '))
    .at(-1) ?? ''

beforeAll(async () => {
  const kube = await Kube.open(kubeconfig)
  nodeNames = (await usableNodes(kube)).map((n) => n.name)
  scenarios = new Scenarios(kube, kubeconfig)
  s = await scenarios.create('completion')
  await s.create(pvcObj('data-alpha', {cls: s.n('none')}))
  await s.create(pvcObj('logs', {cls: s.n('none')}))

  // PATH as after an install: kubectl and the two plugin executables, then the system.
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  symlinkSync(kubectl(), join(bin, 'kubectl'))
  for (const b of ['kubectl-pv_doctor', 'kubectl_complete-pv_doctor']) symlinkSync(join(ROOT, 'bin', b), join(bin, b))
  const rc = join(dir, 'bashrc')
  const bashCompletion = '/usr/share/bash-completion/bash_completion'
  writeFileSync(
    rc,
    `${existsSync(bashCompletion) ? `source ${bashCompletion}\n` : ''}source <(kubectl completion bash)\nPS1='$ '\n`,
  )
  tmux(
    'new-session',
    '-d',
    '-s',
    't',
    '-x',
    '200',
    '-y',
    '50',
    'env',
    '-i',
    `HOME=${dir}`,
    `PATH=${bin}:/usr/local/bin:/usr/bin:/bin`,
    `KUBECONFIG=${kubeconfig}`,
    'TERM=xterm',
    'bash',
    '--rcfile',
    rc,
    '-i',
  )
  await until('the first prompt', (t) => t.includes('$'))
}, 20 * 60_000)

afterAll(async () => {
  spawnSync('tmux', ['-L', socket, 'kill-server'])
  await scenarios?.cleanup()
  rmSync(dir, {recursive: true, force: true})
})

describe('kubectl pv-doctor <TAB> in bash', () => {
  it('completes the command', async () => {
    const text = await tab('kubectl pv-doctor ex', {expect: (t) => promptLine(t).endsWith('explain')})
    expect(promptLine(text)).toBe('$ kubectl pv-doctor explain')
  })

  it('completes a claim name from the live control plane', async () => {
    const text = await tab(`kubectl pv-doctor explain -n ${s.ns} da`, {
      expect: (t) => promptLine(t).includes('data-alpha'),
    })
    expect(promptLine(text)).toBe(`$ kubectl pv-doctor explain -n ${s.ns} data-alpha`)
  })

  it('lists every claim of the namespace, and pod/, sts/, deploy/, rs/', async () => {
    const text = await tab(`kubectl pv-doctor explain -n ${s.ns} `, {twice: true, expect: (t) => t.includes('logs')})
    expect(text).toContain('data-alpha')
    for (const p of ['pod/', 'sts/', 'deploy/', 'rs/']) expect(text).toContain(p)
  })

  it('completes node names for --node and values for -o', async () => {
    expect(nodeNames.length).toBeGreaterThan(0)
    const node = nodeNames[0]
    const text = await tab(`kubectl pv-doctor disks --node ${node.slice(0, -1)}`, {
      twice: true,
      expect: (t) => t.includes(node),
    })
    expect(text).toContain(node)
    const o = await tab('kubectl pv-doctor explain -o ya', {expect: (t) => promptLine(t).includes('yaml')})
    expect(promptLine(o)).toBe('$ kubectl pv-doctor explain -o yaml')
  })

  it('prints nothing into the shell when the cluster cannot be reached', async () => {
    // No claims: only the KIND/ prefixes are offered (listed, as there are several).
    const text = await tab('kubectl pv-doctor explain --kubeconfig /nonexistent/config -n x ', {
      twice: true,
      expect: (t) => t.includes('pod/') && t.includes('deploy/'),
    })
    expect(text).not.toMatch(/error|Error|ENOENT/)
  })

  it('completion bash completes kubectl-pv_doctor run directly', async () => {
    await freshPrompt()
    tmux('send-keys', '-t', 't', '-l', 'source <(kubectl-pv_doctor completion bash)')
    tmux('send-keys', '-t', 't', 'Enter')
    await until('the script to load', (t) => t.includes('completion bash)') && promptLine(t) === '$')
    const text = await tab(`kubectl-pv_doctor explain -n ${s.ns} lo`, {expect: (t) => promptLine(t).includes('logs')})
    expect(promptLine(text)).toBe(`$ kubectl-pv_doctor explain -n ${s.ns} logs`)
  })
})
