import type {Hook} from '@oclif/core'

/**
 * kubectl accepts a bare `--dry-run` as `--dry-run=client`; oclif needs a value.
 * Rewrite it only when the next token is not already a value. bin/'s fast path for `explain`
 * (startup/explainFast.ts) applies the same rewrite.
 */
export function kubectlStyleArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--dry-run' && !['none', 'client', 'server'].includes(argv[i + 1] ?? '')) out.push('--dry-run=client')
    else out.push(a)
  }
  return out
}

const hook: Hook.Preparse = async ({argv}) => kubectlStyleArgv(argv)

export default hook
