// What an e2e run must not leave on the host. globalSetup checks it after the suite (the
// result is .reports/leftovers.json; .ci/run counts it as a test).

import * as fs from 'node:fs'
import {nodeLeftovers} from './node.js'

/** Backing files of the loop devices e2e tests make start with this (tests/helpers create them). */
export const TEST_LOOP_PREFIX = 'pvd-e2e-'

/** Loop devices whose backing file is one of the tests' (by name prefix). */
export function testLoopDevices(): string[] {
  const out: string[] = []
  for (const d of fs.existsSync('/sys/block') ? fs.readdirSync('/sys/block') : []) {
    if (!d.startsWith('loop')) continue
    try {
      const f = fs.readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').trim()
      if (f.split('/').pop()!.startsWith(TEST_LOOP_PREFIX)) out.push(`loop device /dev/${d} (${f})`)
    } catch {
      /* not attached */
    }
  }
  return out
}

/** Everything the suite could have left: the real node's traces, processes using `workDirs`, test loop devices. */
export function hostLeftovers(workDirs: string[]): string[] {
  return [...nodeLeftovers(workDirs), ...testLoopDevices()]
}
