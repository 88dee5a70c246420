// What the binary is built from, as one hash: the compiled CLI, the manifest, package.json and the
// packaging scripts. The binary's test rebuilds only when it changed (`npm run build` rewrites
// dist/ with new mtimes even when nothing changed).
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'

function files(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
}

export function inputsHash(root) {
  const h = createHash('sha256')
  const list = [
    ...files(join(root, 'dist')),
    ...files(join(root, 'scripts', 'package')),
    join(root, 'scripts', 'package.mjs'),
    join(root, 'scripts', 'probe.sh'),
    join(root, 'package.json'),
    join(root, 'oclif.manifest.json'),
    join(root, '.krew.yaml'),
  ].sort()
  for (const f of list) h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0')
  return h.digest('hex')
}
