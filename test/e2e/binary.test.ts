/**
 * The self-contained binary (`npm run package`) on a machine without Node: copied alone into a
 * clean directory, run with a PATH that holds no node, no npm and no node_modules anywhere near.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT} from '../helpers/cli.js'

const platform = `${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`
const built = join(ROOT, 'build', `kubectl-pv_doctor-${platform}`)
const dir = mkdtempSync(join(tmpdir(), 'pvd-binary-'))
const bin = join(dir, 'bin')
const work = join(dir, 'work')
const env = {PATH: bin, HOME: dir, LANG: 'C.UTF-8'}

function run(file: string, args: string[]) {
  const r = spawnSync(file, args, {cwd: work, env, encoding: 'utf8', timeout: 60_000})
  return {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
}

beforeAll(() => {
  // CI runs `npm run package` before the suite; build here when that binary is missing or older than the build.
  if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, 'dist', 'index.js')).mtimeMs) {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs')], {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']})
  }
  mkdirSync(bin)
  mkdirSync(work)
  copyFileSync(built, join(bin, 'kubectl-pv_doctor'))
  symlinkSync(join(bin, 'kubectl-pv_doctor'), join(bin, 'kubectl_complete-pv_doctor'))
  copyFileSync(join(ROOT, 'examples', 'pending-local.yaml'), join(work, 'pending-local.yaml'))
}, 10 * 60_000)

afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('the self-contained binary, with no Node on PATH', () => {
  it('has no node to fall back on', () => {
    expect(spawnSync('node', ['-e', '0'], {env, cwd: work}).error).toBeDefined()
  })

  it('--version', () => {
    const r = run(join(bin, 'kubectl-pv_doctor'), ['--version'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^pv-doctor\/\d+\.\d+\.\d+ /)
    expect(r.stderr).toBe('')
  })

  it('explain --from-file diagnoses the example as the npm install does', () => {
    const r = run(join(bin, 'kubectl-pv_doctor'), ['explain', '-A', '--from-file', 'pending-local.yaml'])
    expect(r.stderr).not.toMatch(/^error:|Warning/m)
    expect(r.stdout).toMatch(/^shop\/cache {2}Pending/m)
    expect(r.stdout).toContain('NoVolumeOnFeasibleNodes')
    const viaNode = spawnSync(process.execPath, [join(ROOT, 'bin', 'kubectl-pv_doctor'), 'explain', '-A', '--from-file', 'pending-local.yaml'], {cwd: work, encoding: 'utf8', env: {...env, PATH: process.env.PATH}})
    expect(r.stdout).toBe(viaNode.stdout)
    expect(r.code).toBe(viaNode.status)
  })

  it('disks --local --help', () => {
    const r = run(join(bin, 'kubectl-pv_doctor'), ['disks', '--local', '--help'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('$ kubectl pv-doctor disks')
  })

  it('bad input is one error line and exit 2, as in the npm install', () => {
    const r = run(join(bin, 'kubectl-pv_doctor'), ['explain', '-o', 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: .*nope/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('linked as kubectl_complete-pv_doctor it answers completion requests', () => {
    const r = run(join(bin, 'kubectl_complete-pv_doctor'), ['explain', '-o', 'y'])
    expect(r.stdout).toBe('yaml\n:4\n')
  })
})
