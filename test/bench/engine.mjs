// Pure analysis time, in-process: parse once (not timed), then buildWorld + diagnose (-A, no
// rendering) `runs` times. Prints one JSON line: {ms: [...], claims}. Usage: engine.mjs FILE [RUNS]
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const {parseSnapshot} = await import(join(root, 'dist/snapshot/parseSnapshot.js'))
const {diagnose} = await import(join(root, 'dist/diagnose/diagnose.js'))
const {buildWorld} = await import(join(root, 'dist/binding/world.js'))

const [file, runsArg] = process.argv.slice(2)
const runs = Number(runsArg ?? 5)
const snapshot = parseSnapshot(readFileSync(file, 'utf8'), file)
const ms = []
let claims = 0
const causes = {}
for (let r = 0; r < runs; r++) {
  const t = process.hrtime.bigint()
  const world = buildWorld(snapshot)
  const d = diagnose(snapshot, {targets: [], all: false}, world)
  ms.push(Number(process.hrtime.bigint() - t) / 1e6)
  claims = d.claims.length
  if (r === 0) for (const c of d.claims) causes[c.cause] = (causes[c.cause] ?? 0) + 1
}
process.stdout.write(`${JSON.stringify({ms, claims, causes})}\n`)
