#!/usr/bin/env node
// Records what the built CLI prints offline (explain, bind --dry-run, provision --dry-run) on
// examples/ and on the benchmark's S and M clusters, so a refactor can be checked byte for byte:
//   node scripts/output-check.mjs record DIR   (before)   node scripts/output-check.mjs compare DIR   (after)
// Needs `npm run build` first. The bench files are generated into the OS temp directory.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {generate, writeList} from '../test/bench/generate.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const [mode, dir] = process.argv.slice(2)
if (!['record', 'compare'].includes(mode) || !dir) {
  console.error('usage: node scripts/output-check.mjs record|compare DIR')
  process.exit(2)
}

const inputs = readdirSync(join(root, 'examples'))
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .map((f) => join(root, 'examples', f))
for (const size of ['S', 'M']) {
  const file = join(tmpdir(), `pv-doctor-output-check-${size}.json`)
  if (!existsSync(file)) await writeList(file, generate(size))
  inputs.push(file)
}
const reports = readdirSync(join(root, 'test/disks/fixtures')).map((f) => join(root, 'test/disks/fixtures', f))

function run(args) {
  const r = spawnSync(process.execPath, [join(root, 'bin/kubectl-pv_doctor'), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: {...process.env, NO_COLOR: '', FORCE_COLOR: ''},
  })
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
}

const cases = []
for (const file of inputs) {
  const f = ['-f', file]
  const name = basename(file)
  for (const o of [[], ['-o', 'json'], ['-o', 'yaml'], ['-o', 'wide'], ['--color', 'always']]) {
    cases.push([`${name} explain -A --all ${o.join(' ')}`, ['explain', '-A', '--all', ...f, ...o]])
    cases.push([`${name} explain -A ${o.join(' ')}`, ['explain', '-A', ...f, ...o]])
  }
  for (const o of [[], ['-o', 'json'], ['--color', 'always']]) {
    cases.push([`${name} bind --all -A ${o.join(' ')}`, ['bind', '--all', '-A', '--dry-run', ...f, ...o]])
    cases.push([`${name} bind --all -A --reclaim ${o.join(' ')}`, ['bind', '--all', '-A', '--reclaim', '--dry-run', ...f, ...o]])
  }
  // Every claim by name (the first 40 on the large files), alone: explain and bind.
  const diag = JSON.parse(spawnSync(process.execPath, [join(root, 'bin/kubectl-pv_doctor'), 'explain', '-A', '--all', '-o', 'json', ...f], {encoding: 'utf8', maxBuffer: 1 << 30}).stdout)
  for (const c of diag.claims.slice(0, 40)) {
    const ref = `${c.namespace}/${c.name}`
    cases.push([`${name} explain ${ref}`, ['explain', ref, ...f]])
    cases.push([`${name} bind ${ref}`, ['bind', ref, '--dry-run', ...f]])
    cases.push([`${name} bind ${ref} -o json`, ['bind', ref, '--dry-run', '-o', 'json', ...f]])
  }
  for (const rep of reports) {
    for (const o of [[], ['-o', 'json']]) {
      cases.push([`${name} provision ${basename(rep)} ${o.join(' ')}`, ['provision', '--from-report', rep, '--dry-run', ...f, ...o]])
    }
  }
}

mkdirSync(dir, {recursive: true})
let differ = 0
cases.forEach(([label, args], i) => {
  const out = `${label}\n${run(args)}`
  const path = join(dir, `${String(i).padStart(4, '0')}.txt`)
  if (mode === 'record') writeFileSync(path, out)
  else if (!existsSync(path) || readFileSync(path, 'utf8') !== out) {
    differ++
    console.log(`differs: ${label} (${path})`)
  }
})
if (mode === 'record') console.log(`recorded ${cases.length} outputs in ${dir}`)
else console.log(`${cases.length - differ} same, ${differ} different`)
process.exit(differ ? 1 : 0)
