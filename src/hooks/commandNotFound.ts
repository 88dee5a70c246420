import type {Hook} from '@oclif/core'

/** kubectl-style: one line, exit 2, and where to look. */
const hook: Hook.CommandNotFound = async ({id}) => {
  process.stderr.write(
    `error: unknown command "${id}" for "kubectl pv-doctor"; run kubectl pv-doctor --help to see the commands\n`,
  )
  process.exit(2)
}

export default hook
