// Stands in for @oclif/core/lib/module-loader.js inside the binary: oclif imports the command
// index and the hooks by file path, and a single executable has no files. The entry registers
// those modules under their path relative to the package root.
const {relative, sep} = require('node:path')

function lookup(root, modulePath) {
  const rel = relative(root, modulePath).split(sep).join('/')
  const key = rel.endsWith('.js') ? rel : `${rel}.js`
  const mod = globalThis.__pvdBundledModules?.[key]
  if (!mod) throw new Error(`pv-doctor binary: module ${key} is not bundled`)
  return {filePath: key, isESM: true, module: mod}
}
const rootOf = (config) => config?.root ?? config?.options?.root ?? ''

exports.load = async (config, modulePath) => lookup(rootOf(config), modulePath).module
exports.loadWithData = async (config, modulePath) => lookup(rootOf(config), modulePath)
exports.loadWithDataFromManifest = async (cached, modulePath) => lookup(modulePath, modulePath)
exports.isPathModule = () => true
