// Entry of the self-contained binary (bundled by scripts/package.mjs into one CommonJS file that
// Node's single-executable-application support embeds). Commands come from dist/binary/commands.js through
// oclif's explicit strategy; the few modules oclif loads by path (that file and the hooks) are
// served from the bundle by scripts/package/module-loader.cjs. Invoked as
// kubectl_complete-pv_doctor (a link to the binary) it answers kubectl's completion requests.
import {basename, dirname, join} from 'node:path'
import {execute, settings} from '@oclif/core'
import {runComplete} from '../../dist/completion/main.js'
import * as commandNotFound from '../../dist/hooks/commandNotFound.js'
import * as preparse from '../../dist/hooks/preparse.js'
import {COMMANDS} from '../../dist/binary/commands.js'
import manifest from '../../oclif.manifest.json'
import pjson from '../../package.json'

globalThis.__pvdBundledModules = {
  'dist/binary/commands.js': {COMMANDS},
  'dist/hooks/preparse.js': preparse,
  'dist/hooks/commandNotFound.js': commandNotFound,
}

async function main() {
  if (basename(process.argv0) === 'kubectl_complete-pv_doctor') return runComplete(process.argv.slice(2), manifest)
  // Nothing is read from disk: no TypeScript lookup, and a root with no package.json beside it.
  settings.enableAutoTranspile = false
  const root = join(dirname(process.execPath), '.pv-doctor-bundled')
  const oclif = {...pjson.oclif, commands: {strategy: 'explicit', target: './dist/binary/commands.js', identifier: 'COMMANDS'}}
  return execute({args: process.argv.slice(2), loadOptions: {root, pjson: {...pjson, oclif}}})
}

main()
