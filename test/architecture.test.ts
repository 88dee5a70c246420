// The layer map of docs/architecture.md, enforced: every import in src/ must run down the stack.
import {readdirSync, readFileSync} from 'node:fs'
import {join, posix, relative} from 'node:path'
import {describe, expect, it} from 'vitest'

const SRC = join(import.meta.dirname, '..', 'src')

/** Higher may import lower; same rank only inside one folder (plus the exceptions below). */
const RANK: Record<string, number> = {
  startup: 8, // bin/'s answers before oclif loads (--version, root --help) and explain without oclif's Config
  binary: 7, // the command list the self-contained binary bundles (oclif's explicit strategy)
  commands: 6,
  completion: 5.5, // kubectl_complete-pv_doctor's answers and the completion scripts (commands/completion prints them)
  hooks: 6,
  base: 5, // what commands share: the base command, flags, prompts
  output: 4, // renderers of the use cases' results
  diagnose: 3,
  bind: 3,
  disks: 3,
  wait: 3,
  binding: 2, // upstream's controller and scheduler rules
  snapshot: 1,
  kube: 0.5,
  '.': 0, // errors.ts, readInputFile.ts
}
/** Same-rank arrows that are allowed: bind/ and wait/ ask diagnose/ for a verdict through its one entry point. */
const ALLOWED_ACROSS: Record<string, string[]> = {bind: ['diagnose/index.ts'], wait: ['diagnose/index.ts']}
/** Libraries only the layers above the use cases may load (decision logic stays plain). */
const UI_PACKAGES = ['@oclif/core', 'chalk', 'cli-table3']
const UI_LAYERS = new Set(['startup', 'binary', 'commands', 'hooks', 'base', 'output'])

function files(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

interface Import {
  spec: string
  typeOnly: boolean
}

function importsOf(text: string): Import[] {
  const out: Import[] = []
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm
  for (const m of text.matchAll(re)) {
    if (m[4]) out.push({spec: m[4], typeOnly: false})
    else out.push({spec: m[3], typeOnly: Boolean(m[2])})
  }
  return out
}

const layerOf = (rel: string): string => (rel.includes('/') ? rel.split('/')[0] : '.')

function violations(): string[] {
  const out: string[] = []
  for (const file of files(SRC)) {
    const rel = relative(SRC, file).split('\\').join('/')
    const from = layerOf(rel)
    for (const {spec, typeOnly} of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(rel), spec)).replace(/\.js$/, '.ts')
        const to = layerOf(target)
        if (to === from) continue
        const ok = RANK[to] < RANK[from] || ALLOWED_ACROSS[from]?.includes(target)
        if (!ok) out.push(`${rel} imports ${target}: ${from}/ may not depend on ${to}/`)
      } else if (!UI_LAYERS.has(from) && UI_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
        out.push(`${rel} imports ${spec}: only commands/, base/ and output/ may`)
      } else if (spec === '@kubernetes/client-node' && !typeOnly && rel !== 'kube/client.ts') {
        out.push(
          `${rel} imports @kubernetes/client-node as a value: use \`import type\`; the client loads in kube/client.ts`,
        )
      }
    }
  }
  return out
}

describe('layers', () => {
  it('every import in src/ runs down the layer map', () => {
    expect(violations()).toEqual([])
  })

  it('the check sees an arrow that runs up', () => {
    const found = importsOf(
      "import {x} from '../diagnose/diagnoseClaim.js'\nimport type {V1Pod} from '@kubernetes/client-node'\n",
    )
    expect(found).toEqual([
      {spec: '../diagnose/diagnoseClaim.js', typeOnly: false},
      {spec: '@kubernetes/client-node', typeOnly: true},
    ])
  })

  it('API paths are spelled only in kube/paths.ts', () => {
    const spelled = files(SRC)
      .map((f) => relative(SRC, f).split('\\').join('/'))
      .filter((rel) => rel !== 'kube/paths.ts' && /['"`]\/apis?\//.test(readFileSync(join(SRC, rel), 'utf8')))
    expect(spelled).toEqual([])
  })

  it('every folder of src/ has a place on the map', () => {
    const folders = readdirSync(SRC, {withFileTypes: true})
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
    expect(folders.filter((f) => RANK[f] === undefined)).toEqual([])
  })
})
