import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

// How each shell checks a script without running it.
const syntax: Record<string, string[]> = {bash: ['bash', '-n'], zsh: ['zsh', '-n'], fish: ['fish', '--no-execute']}

describe('completion SHELL', () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    it.skipIf(!has(shell))(
      `prints a ${shell} script that ${shell} accepts and that asks kubectl_complete-pv_doctor`,
      () => {
        const r = runCli(['completion', shell])
        expect(r.code).toBe(0)
        expect(r.stdout).toContain('kubectl_complete-pv_doctor')
        const [cmd, ...args] = syntax[shell]
        const dir = mkdtempSync(join(tmpdir(), 'pvd-completion-'))
        const file = join(dir, `script.${shell}`)
        writeFileSync(file, r.stdout)
        const check = spawnSync(cmd, [...args, file], {encoding: 'utf8'})
        rmSync(dir, {recursive: true, force: true})
        expect(check.stderr).toBe('')
        expect(check.status).toBe(0)
      },
    )
  }

  it('names the shells it knows when given another', () => {
    const r = runCli(['completion', 'tcsh'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: .*bash, zsh, fish/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
