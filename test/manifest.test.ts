import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT} from './helpers/cli.js'

// oclif trusts oclif.manifest.json over the code: a stale one hides commands and flags.
describe('oclif.manifest.json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {flags: Record<string, unknown>}>
  }
  const commands = readdirSync(join(ROOT, 'src', 'commands'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
  it('lists exactly the commands in src/commands', () => {
    expect(Object.keys(manifest.commands).sort()).toEqual(commands.sort())
  })
  for (const id of commands) {
    it(`has the current flags of ${id}`, async () => {
      const mod = (await import(join(ROOT, 'dist', 'commands', `${id}.js`))) as {
        default: {flags: Record<string, unknown>}
      }
      expect(Object.keys(manifest.commands[id]?.flags ?? {}).sort()).toEqual(Object.keys(mod.default.flags).sort())
    })
  }
})

// The binary loads commands from src/binary/commands.ts (oclif's explicit strategy): a command missing there
// exists in the npm install but not in the binary.
describe('src/binary/commands.ts', () => {
  it('exports every command for the binary', async () => {
    const {COMMANDS} = (await import(join(ROOT, 'dist', 'binary', 'commands.js'))) as {
      COMMANDS: Record<string, unknown>
    }
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, unknown>
    }
    expect(Object.keys(COMMANDS).sort()).toEqual(Object.keys(manifest.commands).sort())
  })
})
