/**
 * Every command, for oclif's explicit command strategy: the self-contained binary
 * (scripts/package.mjs) bundles this file instead of discovering dist/commands/ on disk.
 * The npm install keeps the pattern strategy with oclif.manifest.json, which imports only the
 * command being run.
 */
import Bind from '../commands/bind.js'
import Completion from '../commands/completion.js'
import Disks from '../commands/disks.js'
import Explain from '../commands/explain.js'
import Provision from '../commands/provision.js'
import Snapshot from '../commands/snapshot.js'
import Wait from '../commands/wait.js'

export const COMMANDS = {
  bind: Bind,
  completion: Completion,
  disks: Disks,
  explain: Explain,
  provision: Provision,
  snapshot: Snapshot,
  wait: Wait,
}
