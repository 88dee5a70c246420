import type {Hook} from '@oclif/core'

/**
 * kubectl accepts a bare `--dry-run` as `--dry-run=client`; oclif needs a value.
 * Rewrite it only when the next token is not already a value.
 */
const hook: Hook.Preparse = async ({argv}) => {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--dry-run' && !['none', 'client', 'server'].includes(argv[i + 1] ?? '')) out.push('--dry-run=client')
    else out.push(a)
  }
  return out
}

export default hook
