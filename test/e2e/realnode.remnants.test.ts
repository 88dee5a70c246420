/**
 * The remnant scan and the exclusive-open check through the real probe pod on the harness's real
 * node (kubelet + containerd, the debian:bookworm-slim stand-in image): a loop device partitioned,
 * formatted and then wiped with `wipefs -a` is refused as remnant-signature:ext4@1048576, one a
 * host process holds open O_EXCL is busy, and a blank one stays eligible. Needs root, the real
 * node and sgdisk; skipped, with the reason, otherwise. Every loop device and process is removed.
 */
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {afterAll, describe, expect, inject, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {LoopDevices} from '../helpers/loops.js'

const kubeconfig = inject('kubeconfig')
const node = inject('cluster').realNode
const hasSgdisk = spawnSync('sh', ['-c', 'command -v sgdisk']).status === 0
if (node && !hasSgdisk)
  process.stderr.write(
    '[pv-doctor e2e] realnode.remnants.test.ts skipped: sgdisk not installed (apt-get install -y gdisk)\n',
  )

const loops = new LoopDevices('remnants')
const holders: ChildProcess[] = []

afterAll(() => {
  for (const h of holders) h.kill('SIGKILL')
  spawnSync('sleep', ['0.2'])
  loops.remove()
})

describe.skipIf(!node || !hasSgdisk)('remnants and exclusive holders, through the probe pod on the real node', () => {
  it('wipefs -a after partitioning and formatting → remnant-signature:ext4@1048576; held O_EXCL by a host process → busy; blank → eligible', async () => {
    const blank = loops.make(64)
    const wiped = loops.make(64, {partscan: true})
    execFileSync('sgdisk', ['-o', '-n', '1:0:+16M', wiped], {stdio: 'ignore'})
    const n = wiped.slice('/dev/'.length)
    if (!existsSync(`/sys/class/block/${n}/${n}p1`)) execFileSync('partx', ['-a', wiped])
    execFileSync('mkfs.ext4', ['-q', '-F', `${wiped}p1`])
    execFileSync('wipefs', ['-a', wiped], {stdio: 'ignore'})
    const held = loops.make(64)
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); fs.openSync(${JSON.stringify(held)}, fs.constants.O_RDONLY | fs.constants.O_EXCL); process.stdout.write('held\\n'); setInterval(() => {}, 1 << 30)`,
      ],
      {stdio: ['ignore', 'pipe', 'inherit']},
    )
    holders.push(holder)
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve())
      holder.once('exit', (code) => reject(new Error(`the holder exited (${code})`)))
    })

    const r = runCli(
      [
        'disks',
        '--kubeconfig',
        kubeconfig,
        '--node',
        node,
        '--include-virtual',
        '--min-size',
        '1Mi',
        '--timeout',
        '60s',
        '-o',
        'json',
      ],
      {timeoutMs: 90_000},
    )
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {
      nodes: {
        error: string | null
        disks: {path: string; eligible: boolean; reasons: string[]; remnants: {type: string; offset: string}[]}[]
      }[]
    }
    expect(report.nodes[0].error).toBeNull()
    const byPath = new Map(report.nodes[0].disks.map((d) => [d.path, d]))
    expect(byPath.get(blank)).toMatchObject({eligible: true, reasons: []})
    expect(byPath.get(wiped)).toMatchObject({
      eligible: false,
      reasons: ['remnant-signature:ext4@1048576'],
      remnants: [{type: 'ext4', offset: '1048576'}],
    })
    expect(byPath.get(held)).toMatchObject({eligible: false, reasons: ['busy']})
  })
})
