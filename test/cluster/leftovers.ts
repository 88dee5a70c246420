// What an e2e run must not leave on the host. globalSetup checks it after the suite (the
// result is .reports/leftovers.json; .ci/run counts it as a test).

import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import {nodeLeftovers} from './node.js'

/** Backing files of the loop devices e2e tests make start with this (tests/helpers create them). */
export const TEST_LOOP_PREFIX = 'pvd-e2e-'

/** The tests' loop devices (by backing file name prefix): device and backing file. */
function testLoops(): {dev: string; file: string}[] {
  const out: {dev: string; file: string}[] = []
  for (const d of fs.existsSync('/sys/block') ? fs.readdirSync('/sys/block') : []) {
    if (!d.startsWith('loop')) continue
    try {
      const f = fs.readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').trim()
      if (f.split('/').pop()!.startsWith(TEST_LOOP_PREFIX))
        out.push({dev: `/dev/${d}`, file: f.replace(/ \(deleted\)$/, '')})
    } catch {
      /* not attached */
    }
  }
  return out
}

/**
 * Detaches the loop devices a crashed earlier run of the tests left (and removes their backing
 * files). Only call it while holding the real node's lock: then no other suite on this machine
 * is using them.
 */
export function detachTestLoopDevices(log: (m: string) => void = () => {}): void {
  for (const l of testLoops()) {
    spawnSync('losetup', ['-d', l.dev], {stdio: 'ignore'})
    fs.rmSync(l.file, {force: true})
    log(`detached leftover test loop device ${l.dev} (${l.file})`)
  }
}

/** Loop devices whose backing file is one of the tests' (by name prefix). */
export function testLoopDevices(): string[] {
  return testLoops().map((l) => `loop device ${l.dev} (${l.file})`)
}

/**
 * Everything the suite could have left: processes using `workDirs` and, when it held the real
 * node, the node's traces and test loop devices (without the node's lock, another suite on this
 * machine may be using both).
 */
export function hostLeftovers(workDirs: string[], heldNode: boolean): string[] {
  return heldNode ? [...nodeLeftovers(workDirs), ...testLoopDevices()] : nodeLeftovers(workDirs, false)
}
