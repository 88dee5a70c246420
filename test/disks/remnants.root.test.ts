/**
 * Disks that look blank to libblkid at offset 0 but are not, made on loop devices the way an
 * operator makes them: `wipefs -a` after partitioning and formatting, zeroing the MBR sector or the
 * first MiB of a GPT disk, and a device another process holds open O_EXCL. Each must be refused
 * with its own code by the real probe; a blank control must stay eligible; and a disk that gains
 * a remnant after the plan must be refused at provision's re-check. Needs root; every loop
 * device, file and helper process is removed afterwards.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {assessDisks} from '../../src/disks/eligibility.js'
import {type PlanItem, recheckPlan} from '../../src/disks/planProvision.js'
import {probeLocally} from '../../src/disks/probeSources.js'
import type {DiskVerdict} from '../../src/disks/types.js'

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

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
}

describe.skipIf(!isRoot || !has('losetup'))('remnants and exclusive holders on loop devices (root)', () => {
  const tmp = isRoot ? mkdtempSync(join(tmpdir(), 'pvd-remnants-')) : ''
  const loops: string[] = []
  const helpers: ChildProcess[] = []
  const dev: Record<string, string> = {}
  const skipped: Record<string, string> = {}
  let verdicts: Record<string, DiskVerdict>

  function loop(name: string, partscan = false): string {
    const file = join(tmp, `${name}.img`)
    run('truncate', ['-s', String(256 * MiB), file])
    const path = run('losetup', ['-f', '--show', ...(partscan ? ['-P'] : []), file]).trim()
    if (!/^\/dev\/loop\d+$/.test(path)) throw new Error(`losetup gave ${path}, not a loop device`)
    loops.push(path)
    dev[name] = path
    return path
  }

  /** Makes the kernel read the new table (no udev here to do it); returns the partition paths. */
  function partitions(disk: string, count: number): string[] {
    const n = disk.slice('/dev/'.length)
    if (!existsSync(`/sys/class/block/${n}/${n}p1`)) run('partx', ['-a', disk])
    return Array.from({length: count}, (_, i) => `${disk}p${i + 1}`)
  }

  function optional(name: string, tools: string[], make: () => void): void {
    const missing = tools.filter((t) => !has(t))
    if (missing.length) {
      skipped[name] = `${missing.join(', ')} not installed (apt-get install -y gdisk fdisk)`
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
    const report = await probeLocally('remnant-test-node', 60_000)
    verdicts = Object.fromEntries(
      assessDisks(report, {includeVirtual: true, minSizeBytes: 64 * MiB}).map((v) => [v.path, v]),
    )
  }
  const verdict = (name: string) => verdicts[dev[name]]

  /** A process that holds the device open O_RDONLY|O_EXCL until killed, as a database or VM would. */
  async function hold(path: string): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); fs.openSync(${JSON.stringify(path)}, fs.constants.O_RDONLY | fs.constants.O_EXCL); process.stdout.write('held\\n'); setInterval(() => {}, 1 << 30)`,
      ],
      {stdio: ['ignore', 'pipe', 'pipe']},
    )
    helpers.push(child)
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => resolve())
      child.on('exit', (code) => reject(new Error(`the holder of ${path} exited (${code})`)))
    })
  }

  beforeAll(async () => {
    loop('blank')
    optional('wiped-gpt', ['sgdisk', 'mkfs.ext4'], () => {
      const d = loop('wiped-gpt', true)
      run('sgdisk', ['-o', '-n', '1:0:+16M', d])
      const [p1] = partitions(d, 1)
      run('mkfs.ext4', ['-q', '-F', p1])
      run('wipefs', ['-a', d])
    })
    optional('wiped-dos-63', ['sfdisk', 'mkswap'], () => {
      const d = loop('wiped-dos-63', true)
      run('sfdisk', ['-q', '--label', 'dos', d], 'start=63, size=32768, type=82\n')
      const [p1] = partitions(d, 1)
      run('mkswap', [p1])
      run('wipefs', ['-a', d])
    })
    optional('zeroed-mbr', ['sfdisk', 'mkfs.ext4'], () => {
      const d = loop('zeroed-mbr', true)
      run('sfdisk', ['-q', '--label', 'dos', d], 'start=2048, size=32768, type=83\n')
      const [p1] = partitions(d, 1)
      run('mkfs.ext4', ['-q', '-F', p1])
      run('partx', ['-d', d])
      // The classic "wipe the MBR": one sector of zeros.
      run('dd', ['if=/dev/zero', `of=${d}`, 'bs=512', 'count=1', 'conv=fsync', 'status=none'])
    })
    optional('zeroed-gpt', ['sgdisk', 'mkfs.ext4', 'mkswap'], () => {
      const d = loop('zeroed-gpt', true)
      run('sgdisk', ['-o', '-n', '1:0:+16M', '-n', '2:0:+16M', d])
      const [p1, p2] = partitions(d, 2)
      run('mkfs.ext4', ['-q', '-F', p1])
      run('mkswap', [p2])
      run('partx', ['-d', d])
      run('dd', ['if=/dev/zero', `of=${d}`, 'bs=1M', 'count=1', 'conv=fsync', 'status=none'])
    })
    await hold(loop('held'))
    await probe()
  }, 120_000)

  afterAll(() => {
    for (const h of helpers) h.kill('SIGKILL')
    // Give the killed holders a moment to release the devices before detaching them.
    execFileSync('sleep', ['0.2'])
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

  it('a blank loop device stays eligible', () => {
    expect(verdict('blank')).toMatchObject({
      eligible: true,
      reasons: [],
      remnants: [],
      backupPartitionTable: null,
      busy: false,
    })
  })

  it(
    'GPT + ext4, then wipefs -a → remnant-signature:ext4@1048576',
    expectRefused('wiped-gpt', ['remnant-signature:ext4@1048576']),
  )
  it(
    'DOS partition at sector 63 with swap, then wipefs -a → remnant-signature:swap@32256 (the MBR entries outlive the erased 55 AA)',
    expectRefused('wiped-dos-63', ['remnant-signature:swap@32256']),
  )
  it(
    'DOS + ext4 at 1 MiB, then the MBR sector zeroed → remnant-signature:ext4@1048576',
    expectRefused('zeroed-mbr', ['remnant-signature:ext4@1048576']),
  )
  it(
    'GPT with ext4 and swap, first MiB zeroed → the backup GPT and both old partitions (the second found only through the backup table)',
    expectRefused('zeroed-gpt', [
      'has-signature:gpt',
      'remnant-signature:ext4@1048576',
      'remnant-signature:swap@17825792',
      'backup-partition-table',
    ]),
  )

  it('the report says where to look: blkid -p -O <offset> finds the same signature', (ctx) => {
    if (skipped['zeroed-gpt']) return ctx.skip(skipped['zeroed-gpt'])
    expect(verdict('zeroed-gpt').remnants).toEqual([
      {type: 'ext4', offset: '1048576'},
      {type: 'swap', offset: '17825792'},
    ])
    expect(verdict('zeroed-gpt').backupPartitionTable).toEqual({offset: String(256 * MiB - 512), partitions: 2})
    expect(run('blkid', ['-p', '-O', '1048576', '-o', 'value', '-s', 'TYPE', dev['zeroed-gpt']]).trim()).toBe('ext4')
  })

  it('held open O_EXCL by another process, nothing in sysfs says so → busy', expectRefused('held', ['busy']))

  it('a blank disk that gains a remnant after the plan is refused at the re-check before writing', async (ctx) => {
    if (!has('sgdisk')) return ctx.skip('sgdisk not installed (apt-get install -y gdisk)')
    const before = verdict('blank')
    const item: PlanItem = {node: 'remnant-test-node', disk: before, action: 'create', pvName: 'pv'}
    const d = dev.blank
    const n = d.slice('/dev/'.length)
    run('sgdisk', ['-o', '-n', '1:0:+16M', d])
    // The loop device has no partscan: write the filesystem at the partition's offset directly.
    run('sh', ['-c', `mkfs.ext4 -q -F -E offset=${MiB} ${d} 16M`])
    run('wipefs', ['-a', d])
    expect(existsSync(`/sys/class/block/${n}/${n}p1`)).toBe(false)
    await probe()
    const after = verdict('blank')
    expect(after.reasons).toEqual(['remnant-signature:ext4@1048576'])
    const r = recheckPlan([item], new Map([['remnant-test-node', {error: null, disks: [after]}]]))
    expect(r.ok).toEqual([])
    expect(r.refused.map((x) => x.why)).toEqual([`${d} changed since it was probed (remnants none → ext4@1048576)`])
  })
})

if (!isRoot)
  describe('remnants and exclusive holders on loop devices (root)', () =>
    it.skip('needs root: run the suite as root to probe real loop devices'))
