// Writes oclif.manifest.json from the compiled commands, so help and --version never
// import a command module (and never pay for the Kubernetes client). Same output as
// `oclif manifest` without its several hundred dev dependencies.
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

// Under NODE_ENV=test|development oclif maps dist/ back to src/*.ts; the manifest must point at dist/.
process.env.NODE_ENV = 'production'
const {Plugin} = await import('@oclif/core/config')

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
await plugin.load()
for (const [id, cmd] of Object.entries(plugin.manifest.commands)) {
  if (cmd.relativePath?.[0] !== 'dist') throw new Error(`manifest entry ${id} points at ${cmd.relativePath?.join('/')}, not dist/`)
}
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`)
console.error(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)
