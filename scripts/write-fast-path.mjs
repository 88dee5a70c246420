// Writes dist/fast-path.json: what `--version` and the root `--help` print, so bin/ can answer
// them without loading oclif (src/startup/fastPath.ts). The help is rendered here by oclif's own
// Help class at every terminal width it can differ at; the user agent (platform and Node
// version, known only at run time) is left as a placeholder. test/startup/fastPath.test.ts
// checks the answers equal oclif's.
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

process.env.NODE_ENV = 'production'
const {Config} = await import('@oclif/core/config')
const {loadHelpClass} = await import('@oclif/core/help')

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const config = await Config.load(root)
const Help = await loadHelpClass(config)
const AGENT = '\u0000AGENT\u0000'

async function render(maxWidth) {
  const out = []
  const write = process.stdout.write
  process.stdout.write = (chunk) => {
    out.push(String(chunk))
    return true
  }
  try {
    await new Help(config, {...(config.pjson.oclif.helpOptions ?? {}), maxWidth}).showHelp([])
  } finally {
    process.stdout.write = write
  }
  return out.join('').split(config.userAgent).join(AGENT)
}

// oclif's width (screen.js): OCLIF_COLUMNS, else 80 off a terminal, else the terminal's, at least 40.
// Past the longest line the text no longer changes: MAX and wider share the last entry.
const MIN = 40
const MAX = 400
const help = []
for (let w = MIN; w <= MAX; w++) {
  const text = await render(w)
  if (help.length && help[help.length - 1].text === text) help[help.length - 1].to = w
  else help.push({from: w, to: w, text})
}
if (help[help.length - 1].to !== MAX) throw new Error('root help still changes at 400 columns; raise MAX')
help[help.length - 1].to = null
writeFileSync(
  join(root, 'dist', 'fast-path.json'),
  JSON.stringify({
    name: config.name,
    version: config.version,
    agent: AGENT,
    versionFlags: [...new Set(['--version', ...(config.pjson.oclif.additionalVersionFlags ?? [])])],
    helpFlags: [...new Set(['--help', ...(config.pjson.oclif.additionalHelpFlags ?? [])])],
    help,
  }),
)
console.error(`dist/fast-path.json: --version, and the root help at ${help.length} widths`)
