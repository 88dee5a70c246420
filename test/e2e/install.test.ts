/**
 * The npm install path as a user takes it: `npm pack`, `npm i -g` of the tarball into a fresh
 * prefix, then the real kubectl finds the plugin on PATH (plugin discovery needs no cluster), runs
 * it, and completes its arguments through the installed kubectl_complete-pv_doctor.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ROOT} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'pvd-install-'))
const prefix = join(dir, 'prefix')
let env: NodeJS.ProcessEnv

function sh(cmd: string, args: string[], opts: {cwd?: string; env?: NodeJS.ProcessEnv} = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    cwd: opts.cwd ?? dir,
    env: opts.env ?? process.env,
    timeout: 10 * 60_000,
  })
  return {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
}

beforeAll(() => {
  const kubectl = sh(join(ROOT, 'test', 'cluster', 'build-kubectl.sh'), [])
  expect(kubectl.code, kubectl.stderr).toBe(0)
  const pack = sh('npm', ['pack', '--pack-destination', dir, '--silent'], {cwd: ROOT})
  expect(pack.code, pack.stderr).toBe(0)
  const tgz = readdirSync(dir).find((f) => /^pv-doctor-.*\.tgz$/.test(f))!
  const install = sh('npm', [
    'install',
    '-g',
    '--prefix',
    prefix,
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    join(dir, tgz),
  ])
  expect(install.code, install.stderr).toBe(0)
  // Only the fresh prefix, kubectl, and the system (node is found through PATH as npm's shims expect).
  const kubectlDir = dirname(kubectl.stdout.trim().split('\n').at(-1)!)
  const nodeDir = dirname(process.execPath)
  env = {
    HOME: dir,
    PATH: [join(prefix, 'bin'), kubectlDir, nodeDir, '/usr/bin', '/bin'].join(':'),
    KUBECONFIG: join(dir, 'no-such-kubeconfig'),
  }
}, 20 * 60_000)

afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('npm i -g of the packed tarball', () => {
  it('kubectl plugin list finds kubectl-pv_doctor in the prefix', () => {
    const r = sh('kubectl', ['plugin', 'list'], {env})
    expect(r.stdout).toContain(join(prefix, 'bin', 'kubectl-pv_doctor'))
  })

  it('kubectl pv-doctor --help runs the installed plugin', () => {
    const r = sh('kubectl', ['pv-doctor', '--help'], {env})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/\$ kubectl pv-doctor \[COMMAND\]/)
    expect(r.stdout).toMatch(/^ {2}explain {2}/m)
  })

  it('kubectl pv-doctor explain --from-file diagnoses an example with no cluster', () => {
    const r = sh(
      'kubectl',
      ['pv-doctor', 'explain', '-A', '--from-file', join(ROOT, 'examples', 'pending-local.yaml'), '-o', 'json'],
      {env},
    )
    expect(r.stderr).not.toMatch(/^error:/m)
    expect(JSON.parse(r.stdout).claims.map((c: {name: string}) => c.name)).toContain('cache')
  })

  it('kubectl completes the plugin through the installed kubectl_complete-pv_doctor', () => {
    const r = sh('kubectl', ['__complete', 'pv-doctor', 'ex'], {env})
    expect(r.stdout.split('\n')[0]).toMatch(/^explain\t/)
  })
})
