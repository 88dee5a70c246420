// `npm run package`: the self-contained kubectl-pv_doctor binary, for krew and for machines
// without Node. Steps (Node's single executable applications, https://nodejs.org/api/single-executable-applications.html):
//   1. bundle the built CLI (dist/, after `npm run build`) into one CommonJS file with esbuild,
//      oclif's commands through its explicit strategy (src/binary/commands.ts);
//   2. `node --experimental-sea-config` turns it into a blob;
//   3. postject injects the blob into a copy of this Node binary.
// The binary is for the platform and architecture of the Node that runs this script (SEA copies
// the running executable; it cannot cross-build). Output in build/ (gitignored, never in the npm
// package): build/kubectl-pv_doctor-<os>-<arch> and build/kubectl-pv_doctor-<os>-<arch>.tar.gz
// (the krew archive: kubectl-pv_doctor and the README), and build/pv-doctor.yaml (the krew manifest).
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'
import {inputsHash} from './package/inputs.mjs'

// macOS and Windows binaries need their signature removed before injection and re-signed after
// (codesign / signtool); that is not done here, so only Linux builds are offered.
if (process.platform !== 'linux') {
  console.error(`error: npm run package builds Linux binaries only (this is ${process.platform}); see docs/install.md`)
  process.exit(2)
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const out = join(root, 'build')
const platform = `${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`
const name = `kubectl-pv_doctor-${platform}`
const stage = join(out, 'stage')
rmSync(stage, {recursive: true, force: true})
mkdirSync(stage, {recursive: true})

// Edits of the compiled modules that only make sense inside a single file; each must apply, so a
// refactor that moves the code fails this build instead of shipping a broken binary.
const probeScript = readFileSync(join(root, 'scripts', 'probe.sh'), 'utf8')
const edits = [
  {
    file: 'dist/kube/client.js',
    from: "new URL('../vendor/kube.js', import.meta.url).href",
    to: "'pvd-bundled:kube'",
  },
  {
    // probe.sh is embedded; `disks --local` runs it with sh, so it is written out on first use.
    file: 'dist/disks/probeSources.js',
    from: 'const here = dirname(fileURLToPath(import.meta.url));',
    to: `return (${writeProbeScript.toString()})(${JSON.stringify(probeScript)});`,
  },
]
function writeProbeScript(text) {
  const {mkdtempSync, rmSync, writeFileSync} = require('node:fs')
  const {dirname, join} = require('node:path')
  const {tmpdir} = require('node:os')
  if (!globalThis.__pvdProbePath) {
    globalThis.__pvdProbePath = join(mkdtempSync(join(tmpdir(), 'pv-doctor-')), 'probe.sh')
    process.on('exit', () => rmSync(dirname(globalThis.__pvdProbePath), {recursive: true, force: true}))
  }
  writeFileSync(globalThis.__pvdProbePath, text, {mode: 0o644})
  return globalThis.__pvdProbePath
}

const bundledModules = {
  name: 'pv-doctor-binary',
  setup(b) {
    // oclif loads the command index and the hooks by path: serve them from the bundle.
    b.onResolve({filter: /module-loader(\.js)?$/}, (args) =>
      args.importer.includes(join('@oclif', 'core', 'lib')) ? {path: join(root, 'scripts', 'package', 'module-loader.cjs')} : undefined,
    )
    // Optional native helpers of the client's dependencies (ws, node-fetch), required inside
    // try/catch: absent from the bundle, they must fail as "not installed" does, without the
    // warning a single executable prints for every require() of a non-built-in module.
    b.onResolve({filter: /^(bufferutil|utf-8-validate|encoding)$/}, (args) => ({path: args.path, namespace: 'pvd-absent'}))
    b.onLoad({filter: /.*/, namespace: 'pvd-absent'}, (args) => ({contents: `throw Object.assign(new Error("${args.path} is not bundled"), {code: 'MODULE_NOT_FOUND'})`, loader: 'js'}))
    b.onResolve({filter: /^pvd-bundled:kube$/}, () => ({path: 'kube', namespace: 'pvd-bundled'}))
    b.onLoad({filter: /.*/, namespace: 'pvd-bundled'}, () => ({contents: "export {KubeConfig} from '@kubernetes/client-node'", resolveDir: root, loader: 'js'}))
    for (const e of edits) {
      b.onLoad({filter: new RegExp(`${e.file.replace(/[/.]/g, (c) => `\\${c}`)}$`)}, (args) => {
        const text = readFileSync(args.path, 'utf8')
        if (!text.includes(e.from)) throw new Error(`${e.file} no longer contains ${JSON.stringify(e.from)}; update scripts/package.mjs`)
        e.applied = true
        return {contents: text.replace(e.from, e.to), loader: 'js'}
      })
    }
  },
}

const bundle = join(stage, 'pv-doctor.cjs')
const result = await build({
  entryPoints: [join(root, 'scripts', 'package', 'entry.mjs')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  outfile: bundle,
  plugins: [bundledModules],
  logLevel: 'error',
  logOverride: {'empty-import-meta': 'silent'},
  // @oclif/core checks the Node version against a package.json it requires from disk when it loads;
  // the binary carries its own Node, and its require() only loads built-ins (the check would warn).
  banner: {js: "process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';"},
})
for (const e of edits) if (!e.applied) throw new Error(`${e.file} was not in the bundle; update scripts/package.mjs`)
if (result.errors.length) process.exit(1)

const seaConfig = join(stage, 'sea-config.json')
const blob = join(stage, 'sea-prep.blob')
writeFileSync(seaConfig, JSON.stringify({main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true}))
execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], {stdio: ['ignore', 'ignore', 'inherit']})

const exe = join(out, name)
copyFileSync(process.execPath, exe)
chmodSync(exe, 0o755)
const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js')
// postject's ELF writer warns about note sections on every run (harmless): show its output only on failure.
try {
  execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {stdio: 'pipe'})
} catch (error) {
  process.stderr.write(String(error.stderr ?? error))
  process.exit(1)
}

// The krew archive: the binary under the name kubectl expects.
const archiveDir = join(stage, 'archive')
mkdirSync(archiveDir, {recursive: true})
copyFileSync(exe, join(archiveDir, 'kubectl-pv_doctor'))
copyFileSync(join(root, 'README.md'), join(archiveDir, 'README.md'))
execFileSync('tar', ['-czf', join(out, `${name}.tar.gz`), '-C', archiveDir, 'kubectl-pv_doctor', 'README.md'])
const sha = createHash('sha256').update(readFileSync(join(out, `${name}.tar.gz`))).digest('hex')
writeFileSync(join(out, `${name}.tar.gz.sha256`), `${sha}\n`)
// The krew manifest for this release (template: .krew.yaml). Only this platform's archive is built
// here; the others' sha256 stay placeholders until their archives are built on their platforms.
const release = process.env.PV_DOCTOR_RELEASE_URL ?? `https://example.invalid/pv-doctor/releases/v${pjson.version}`
const manifestText = readFileSync(join(root, '.krew.yaml'), 'utf8')
  .replace(/^#.*\n/gm, '')
  .replaceAll('{{VERSION}}', pjson.version)
  .replaceAll('{{RELEASE_URL}}', release)
  .replaceAll(`{{SHA256_${platform.toUpperCase().replace('-', '_')}}}`, sha)
writeFileSync(join(out, 'pv-doctor.yaml'), manifestText)

writeFileSync(join(out, `${name}.inputs`), `${inputsHash(root)}\n`)

if (!process.env.PVD_KEEP_STAGE) rmSync(stage, {recursive: true, force: true})
console.error(`build/${name}: self-contained binary (Node ${process.version}); build/${name}.tar.gz sha256 ${sha}; krew manifest build/pv-doctor.yaml`)
