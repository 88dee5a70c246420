// Writes one size's dumps, indented and compact, in a process of its own: XL's objects need a
// heap bigger than the bench's (run with --max-old-space-size). Usage: write-dataset.mjs SIZE DIR
import {join} from 'node:path'
import {generate, writeCompactList, writeList} from './generate.mjs'

const [size, dir] = process.argv.slice(2)
const cluster = generate(size)
await writeList(join(dir, `cluster-${size}.json`), cluster)
await writeCompactList(join(dir, `cluster-${size}.compact.json`), cluster)
