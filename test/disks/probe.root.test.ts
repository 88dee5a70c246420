/**
 * The real probe on real block devices: loop devices over sparse files this test creates and
 * always removes. Each is given one kind of content right before the probe (no udev here, so
 * nothing but reading the device can tell) and must be refused with the right reason code.
 * Needs root (losetup, mkfs, mount, swapon); skipped otherwise.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {assessDisks} from '../../src/disks/eligibility.js'
import {probeLocally} from '../../src/disks/probeSources.js'
import type {DiskVerdict, ProbeReport} from '../../src/disks/types.js'

const isRoot = process.getuid?.() === 0
const MiB = 1024 ** 2

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, DM_DISABLE_UDEV: '1', LVM_SUPPRESS_FD_WARNINGS: '1'},
  })
}

describe.skipIf(!isRoot || !has('losetup'))('probe on loop devices (root)', () => {
  const tmp = isRoot ? mkdtempSync(join(tmpdir(), 'pvd-loops-')) : ''
  const loops: string[] = []
  const cleanup: (() => void)[] = []
  const dev: Record<string, string> = {}
  const skipped: Record<string, string> = {}
  let report: ProbeReport
  let verdicts: Record<string, DiskVerdict>

  /** A fresh loop device over a new sparse file; never anything else. */
  function loop(name: string, opts: {readOnly?: boolean; partscan?: boolean; size?: number} = {}): string {
    const file = join(tmp, `${name}.img`)
    run('truncate', ['-s', String(opts.size ?? 256 * MiB), file])
    const args = ['-f', '--show', ...(opts.readOnly ? ['-r'] : []), ...(opts.partscan ? ['-P'] : []), file]
    const path = run('losetup', args).trim()
    if (!/^\/dev\/loop\d+$/.test(path)) throw new Error(`losetup gave ${path}, not a loop device`)
    loops.push(path)
    dev[name] = path
    return path
  }

  function optional(name: string, tools: string[], make: () => void): void {
    const missing = tools.filter((t) => !has(t))
    if (missing.length) {
      skipped[name] = `${missing.join(', ')} not installed (apt-get install -y lvm2 mdadm gdisk)`
      return
    }
    try {
      make()
    } catch (error) {
      skipped[name] = `could not set up: ${
        String((error as {stderr?: string}).stderr || (error as Error).message)
          .trim()
          .split('\n')[0]
      }`
    }
  }

  const probe = async () => {
    report = await probeLocally('loop-test-node', 60_000)
    verdicts = Object.fromEntries(
      assessDisks(report, {includeVirtual: true, minSizeBytes: 64 * MiB}).map((v) => [v.path, v]),
    )
  }
  const verdict = (name: string) => verdicts[dev[name]]

  beforeAll(async () => {
    loop('blank')
    run('mkfs.ext4', ['-q', '-F', loop('ext4')])
    optional('gpt', ['sgdisk'], () => run('sgdisk', ['-o', loop('gpt')]))
    optional('gpt-partitioned', ['sgdisk'], () => {
      const p = loop('gpt-partitioned', {partscan: true})
      run('sgdisk', ['-o', '-n', '1:0:+16M', p])
      // Make the kernel read the new table (no udev here to do it).
      const n = p.slice('/dev/'.length)
      run('blockdev', ['--rereadpt', p])
      if (!existsSync(`/sys/class/block/${n}/${n}p1`)) run('partx', ['-a', p])
    })
    const mounted = loop('mounted')
    run('mkfs.ext4', ['-q', '-F', mounted])
    const mnt = join(tmp, 'mnt')
    mkdirSync(mnt)
    run('mount', ['-o', 'ro', mounted, mnt])
    cleanup.push(() => run('umount', [mnt]))
    optional('swap', ['mkswap', 'swapon'], () => {
      const s = loop('swap')
      run('mkswap', [s])
      run('swapon', [s])
      cleanup.push(() => run('swapoff', [s]))
    })
    optional('lvm', ['pvcreate'], () => run('pvcreate', ['-y', loop('lvm')]))
    optional('raid-a', ['mdadm'], () => {
      if (!existsSync('/proc/mdstat'))
        throw Object.assign(new Error('this kernel has no md (RAID) support'), {stderr: ''})
      const a = loop('raid-a')
      const b = loop('raid-b')
      run('mdadm', ['--create', '/dev/md/pvdtest', '--run', '--level=1', '--raid-devices=2', '--metadata=1.2', a, b])
      cleanup.push(() => run('mdadm', ['--stop', '/dev/md/pvdtest']))
    })
    loop('read-only', {readOnly: true})
    loop('small', {size: 32 * MiB})
    await probe()
  }, 120_000)

  afterAll(() => {
    // Reverse order: swapoff/umount/stop before detaching; every step even if one fails.
    for (const step of cleanup.reverse()) {
      try {
        step()
      } catch (error) {
        process.stderr.write(`cleanup: ${(error as Error).message}\n`)
      }
    }
    for (const l of loops.reverse()) {
      try {
        run('losetup', ['-d', l])
      } catch (error) {
        process.stderr.write(`cleanup: losetup -d ${l}: ${(error as Error).message}\n`)
      }
    }
    rmSync(tmp, {recursive: true, force: true})
  })

  function expectRefused(name: string, reasons: string[]) {
    return (ctx: {skip: (note?: string) => void}) => {
      if (skipped[name]) return ctx.skip(skipped[name])
      const v = verdict(name)
      expect(v, `${dev[name]} is in the probe report`).toBeDefined()
      expect(v.eligible).toBe(false)
      expect(v.reasons).toEqual(reasons)
    }
  }

  it('reads the devices, not a udev cache', () => {
    expect(report.node).toBe('loop-test-node')
    expect(report.mountTableReadable).toBe(true)
    expect(verdict('blank').probeError).toBeNull()
  })

  it('a blank loop device is eligible with --include-virtual, named by its kernel path', () => {
    expect(verdict('blank')).toMatchObject({
      eligible: true,
      reasons: [],
      id: dev.blank,
      sizeBytes: 256 * MiB,
      type: 'loop',
    })
  })

  it('without --include-virtual the same device is refused as virtual, with no stable id', () => {
    const strict = assessDisks(report, {minSizeBytes: 64 * MiB}).find((v) => v.path === dev.blank)!
    expect(strict.reasons).toEqual(['virtual', 'no-stable-id'])
  })

  it('ext4 made just before the probe → has-signature:ext4', expectRefused('ext4', ['has-signature:ext4']))
  it(
    'an empty GPT → has-signature:gpt and the protective MBR',
    expectRefused('gpt', ['has-signature:gpt', 'has-signature:PMBR']),
  )
  it(
    'a GPT with a partition → partitioned too',
    expectRefused('gpt-partitioned', ['partitioned', 'has-signature:gpt', 'has-signature:PMBR']),
  )
  it('mounted → mounted (from the host mount table)', expectRefused('mounted', ['mounted', 'has-signature:ext4']))
  it('active swap → swap', expectRefused('swap', ['swap', 'has-signature:swap']))
  it('an LVM physical volume → has-signature:LVM2_member', expectRefused('lvm', ['has-signature:LVM2_member']))
  it(
    'a RAID member → has-holders, has-signature:linux_raid_member',
    expectRefused('raid-a', ['has-holders', 'has-signature:linux_raid_member']),
  )
  it('losetup -r → read-only', expectRefused('read-only', ['read-only']))
  it('smaller than --min-size → too-small', expectRefused('small', ['too-small']))

  it('a filesystem written after the plan changes the fingerprint, so provision would refuse the disk', async () => {
    const before = verdict('blank')
    run('mkfs.ext4', ['-q', '-F', dev.blank])
    await probe()
    const after = verdict('blank')
    expect(after.fingerprint).not.toBe(before.fingerprint)
    expect(after.reasons).toEqual(['has-signature:ext4'])
  })
})

if (!isRoot)
  describe('probe on loop devices (root)', () =>
    it.skip('needs root: run the suite as root to probe real loop devices'))
