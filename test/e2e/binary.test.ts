/**
 * The self-contained binary (`npm run package`) on a machine without Node: copied alone into a
 * clean directory, run with a PATH that holds no node, no npm and no node_modules anywhere near.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {inputsHash} from '../../scripts/package/inputs.mjs'
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
  // CI runs `npm run package` before the suite; build here when that binary is missing or was built from other inputs.
  const stamp = `${built}.inputs`
  if (!existsSync(built) || !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== inputsHash(ROOT)) {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
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
    const viaNode = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'kubectl-pv_doctor'), 'explain', '-A', '--from-file', 'pending-local.yaml'],
      {cwd: work, encoding: 'utf8', env: {...env, PATH: process.env.PATH}},
    )
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

/** The path a build script prints last (it builds into the cache once). */
function tool(script: string): string {
  const r = spawnSync(join(ROOT, 'test', 'cluster', script), {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  if (r.status !== 0) throw new Error(`test/cluster/${script} failed`)
  return r.stdout.trim().split('\n').at(-1)!
}

describe('installed by krew from the rendered manifest, with no Node on PATH', () => {
  const krewRoot = join(dir, 'krew')
  const tools = join(dir, 'tools')
  const kenv = () => ({HOME: dir, KREW_ROOT: krewRoot, PATH: `${join(krewRoot, 'bin')}:${tools}`})
  const k = (args: string[]) => {
    const r = spawnSync('kubectl', args, {cwd: work, env: kenv(), encoding: 'utf8', timeout: 120_000})
    return {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
  }
  const manifestFile = join(ROOT, 'build', 'pv-doctor.yaml')

  beforeAll(() => {
    mkdirSync(tools)
    symlinkSync(tool('build-kubectl.sh'), join(tools, 'kubectl'))
    symlinkSync(tool('build-krew.sh'), join(tools, 'kubectl-krew'))
  }, 20 * 60_000)

  it('the manifest is krew v1alpha2 and names the archive it was built with', () => {
    const m = yaml.load(readFileSync(manifestFile, 'utf8')) as {
      apiVersion: string
      kind: string
      spec: {caveats: string; platforms: {uri: string; sha256: string; bin: string}[]}
    }
    expect(m.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2')
    expect(m.kind).toBe('Plugin')
    const p = m.spec.platforms.find((x) => x.uri.endsWith(`kubectl-pv_doctor-${platform}.tar.gz`))!
    expect(p.bin).toBe('kubectl-pv_doctor')
    expect(p.sha256).toBe(readFileSync(`${built}.tar.gz.sha256`, 'utf8').trim())
    expect(m.spec.caveats).toContain('kubectl_complete-pv_doctor')
  })

  it('kubectl krew install, then kubectl pv-doctor runs the example and completes', () => {
    const install = k(['krew', 'install', `--manifest=${manifestFile}`, `--archive=${built}.tar.gz`])
    expect(install.code, install.stderr).toBe(0)
    const version = k(['pv-doctor', '--version'])
    expect(version.code, version.stderr).toBe(0)
    expect(version.stdout).toMatch(/^pv-doctor\//)
    const explain = k(['pv-doctor', 'explain', '-A', '--from-file', 'pending-local.yaml'])
    expect(explain.stdout).toMatch(/^shop\/cache {2}Pending/m)
    // The caveat's one-time link, then kubectl's own completion request.
    symlinkSync('kubectl-pv_doctor', join(krewRoot, 'bin', 'kubectl_complete-pv_doctor'))
    const complete = k(['__complete', 'pv-doctor', 'explain', '-o', ''])
    expect(complete.stdout).toBe('json\nyaml\nwide\njunit\ngithub\n:4\n')
  })
})
