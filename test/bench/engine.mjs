// Pure analysis time, in-process: read once as --from-file does (not timed; big files in parts),
// then buildWorld + diagnose (-A, no rendering) `runs` times. Prints one JSON line: {ms: [...], claims}. Usage: engine.mjs FILE [RUNS]
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const {addSnapshotChunks} = await import(join(root, 'dist/snapshot/streamSnapshot.js'))
const {readInputChunks} = await import(join(root, 'dist/readInputFile.js'))
const {emptySnapshot} = await import(join(root, 'dist/snapshot/types.js'))
const {diagnose} = await import(join(root, 'dist/diagnose/diagnose.js'))
const {buildWorld} = await import(join(root, 'dist/binding/world.js'))

const [file, runsArg] = process.argv.slice(2)
const runs = Number(runsArg ?? 5)
const snapshot = addSnapshotChunks(emptySnapshot(), readInputChunks(file, 'file'), file)
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
