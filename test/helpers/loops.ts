/**
 * Loop devices for the e2e tests that need real block devices on the real node: each over a sparse
 * file in its own temp dir, named with the prefix the after-suite host check looks for, and all
 * detached and deleted by `remove()` (call it in afterAll).
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {TEST_LOOP_PREFIX} from '../cluster/leftovers.js'

export class LoopDevices {
  /** The temp dir the backing files live in; tests may put their own files there too (removed with it). */
  readonly dir: string
  private readonly devs: string[] = []

  constructor(private readonly tag: string) {
    this.dir = mkdtempSync(join(tmpdir(), `pvd-${tag}-`))
  }

  /** A new loop device of `mib` MiB: blank, or formatted ext4; with `partscan` the kernel reads its partitions. */
  make(mib: number, o: {fs?: 'ext4'; partscan?: boolean} = {}): string {
    const file = join(this.dir, `${TEST_LOOP_PREFIX}${process.pid}-${this.tag}-${this.devs.length}.img`)
    execFileSync('truncate', ['-s', `${mib}M`, file])
    if (o.fs) execFileSync('mkfs.ext4', ['-q', '-F', file])
    const dev = execFileSync('losetup', ['--find', '--show', ...(o.partscan ? ['-P'] : []), file], {
      encoding: 'utf8',
    }).trim()
    this.devs.push(dev)
    return dev
  }

  remove(): void {
    for (const dev of this.devs) spawnSync('losetup', ['-d', dev], {stdio: 'ignore'})
    rmSync(this.dir, {recursive: true, force: true})
  }
}
