// The disk probe on a node with many disks: 16 loop devices over sparse 1 GiB files, first blank
// (the remnant scan reads the table areas and runs blkid at every usual start), then each with a
// backup GPT and two partitions' remnants (the slowest path: every listed start is probed).
// Needs root, losetup and sgdisk; every loop device and file is removed, also on failure.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {join} from 'node:path'

export const PROBE_DISKS = 16

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

/** Why the probe cannot be measured here, or null. */
export function probeSkipReason() {
  if (process.getuid?.() !== 0) return 'needs root'
  const missing = ['losetup', 'sgdisk', 'mkfs.ext4', 'mkswap'].filter((t) => !has(t))
  return missing.length ? `${missing.join(', ')} not installed` : null
}

/** Wall times in ms: {blank: [...], remnants: [...]} for `runs` probes of each kind. */
export function benchProbe({root, workdir, runs, log}) {
  const dir = mkdtempSync(join(workdir, 'probe-'))
  const loops = []
  const run = (cmd, argv) => execFileSync(cmd, argv, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const probe = () => {
    const t0 = process.hrtime.bigint()
    const r = spawnSync('sh', [join(root, 'scripts', 'probe.sh')], {
      env: {...process.env, NODE_NAME: 'bench'},
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    })
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`)
    const report = JSON.parse(r.stdout)
    return {ms, report}
  }
  try {
    for (let i = 0; i < PROBE_DISKS; i++) {
      const file = join(dir, `d${i}.img`)
      run('truncate', ['-s', '1G', file])
      loops.push(run('losetup', ['-f', '--show', file]).trim())
    }
    log(`probe: ${PROBE_DISKS} blank loop devices, ${runs} runs`)
    const blank = []
    for (let i = 0; i < runs; i++) blank.push(probe().ms)
    for (const d of loops) {
      run('sgdisk', ['-o', '-n', '1:0:+16M', '-n', '2:0:+16M', d])
      run('mkfs.ext4', ['-q', '-F', '-E', 'offset=1048576', d, '16M'])
      run('sh', ['-c', `dd if=/dev/zero of=${d} bs=1M count=1 conv=fsync status=none`])
    }
    log(`probe: the same devices with a backup GPT and remnants, ${runs} runs`)
    const remnants = []
    let found = 0
    for (let i = 0; i < runs; i++) {
      const {ms, report} = probe()
      remnants.push(ms)
      found = report.devices.filter(
        (d) => loops.includes(d.path) && d.backupPartitionTable && d.remnants.length > 0,
      ).length
    }
    if (found !== PROBE_DISKS) throw new Error(`the probe found remnants on ${found} of ${PROBE_DISKS} devices`)
    return {blank, remnants}
  } finally {
    for (const d of loops) spawnSync('losetup', ['-d', d])
    rmSync(dir, {recursive: true, force: true})
  }
}
