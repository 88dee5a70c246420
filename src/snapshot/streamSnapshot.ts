/**
 * Reads a snapshot file in chunks, for dumps past V8's string limit (~512 MiB of text: `kubectl
 * get -o json` of a 20,000-node cluster is ~2 GB). A file below `minStreamBytes` is read whole
 * and parsed as before (./parseSnapshot.ts); a bigger one must be JSON — a `v1 List`, our own
 * `Snapshot`, or an array of objects — and is split into its items, each parsed on its own and
 * trimmed to the fields the engine reads (./project.ts), so memory holds the kept objects and one
 * chunk, never the text.
 *
 * Written by hand rather than with a streaming JSON library: the item boundaries are found by a
 * byte scan that tracks only depth and strings, and each item goes to the native JSON.parse, so
 * objects are built at JSON.parse's speed. On the bench's M dump the read takes about the time of
 * one JSON.parse of the whole text; stream-json's tokenizer alone reads the XL compact dump at
 * ~100 MB/s on a quiet machine, and building objects from its tokens in JavaScript would come on
 * top of that (not measured here; see docs/performance.md).
 */
import {UserError} from '../errors.js'
import {RESOURCES, type Snapshot, type SnapshotKey} from './types.js'
import {addDocument, addSnapshotItems, addSnapshotText, isSnapshotHeader} from './parseSnapshot.js'
import {projectItem, type StringPool} from './project.js'

/** Files at least this big are streamed; smaller ones are read whole (JSON.parse is faster there). */
export const MIN_STREAM_BYTES = 256 * 1024 * 1024

const RESOURCE_KEYS = new Set<string>(RESOURCES.map((r) => r.key))

/** Thrown by a scan step that ran past the bytes at hand: the driver reads more and retries it. */
const NEED_MORE = Symbol('need more input')

const WS = new Uint8Array(256)
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJ = 0x7b
const CLOSE_OBJ = 0x7d
const OPEN_ARR = 0x5b
const CLOSE_ARR = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

/** The end (exclusive) of the string whose opening quote is at `i`. */
function stringEnd(buf: Buffer, i: number): number {
  let j = i + 1
  for (;;) {
    const q = buf.indexOf(QUOTE, j)
    if (q < 0) throw NEED_MORE
    let b = q - 1
    while (buf[b] === BACKSLASH) b--
    j = q + 1
    if ((q - 1 - b) % 2 === 0) return j // an even run of backslashes: the quote is not escaped
  }
}

/** The end (exclusive) of the JSON value starting at `i` (not whitespace). Validity is JSON.parse's job. */
function valueEnd(buf: Buffer, i: number): number {
  const n = buf.length
  const c0 = buf[i]
  if (c0 === QUOTE) return stringEnd(buf, i)
  if (c0 !== OPEN_OBJ && c0 !== OPEN_ARR) {
    let j = i
    while (j < n) {
      const c = buf[j]
      if (c === COMMA || c === CLOSE_ARR || c === CLOSE_OBJ || WS[c]) return j
      j++
    }
    throw NEED_MORE
  }
  let depth = 0
  let j = i
  while (j < n) {
    const c = buf[j++]
    if (c === QUOTE) j = stringEnd(buf, j - 1)
    else if (c === OPEN_OBJ || c === OPEN_ARR) depth++
    else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (--depth === 0) return j
    }
  }
  throw NEED_MORE
}

type State =
  | 'start' // before the top-level value
  | 'objFirst' // after the top-level `{`: a key or `}`
  | 'objNext' // after a member: `,` or `}`
  | 'arrFirst' // after a streamed array's `[`: an item or `]`
  | 'arrNext' // after an item: `,` or `]`
  | 'end' // after the top-level value: only whitespace

/** Streams one JSON document's items into `into`; see the module comment. */
class ItemStream {
  private buf: Buffer = Buffer.alloc(0)
  /** Absolute offset of buf[0] in the input (for error messages). */
  private base = 0
  private pos = 0
  private state: State = 'start'
  private topIsArray = false
  /** The top-level object's members other than streamed arrays (apiVersion, kind, metadata, ...). */
  private shell: Record<string, unknown> = {}
  /** The key of the array being streamed ('' for a top-level array). */
  private arrayKey = ''
  private snapshotItems: unknown[] = []
  /** Repeated strings of this input's objects, kept once (./project.ts). */
  private readonly pool: StringPool = new Map()

  constructor(
    private readonly into: Snapshot,
    private readonly source: string,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.pos === this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk])
    this.base += this.pos
    this.pos = 0
    try {
      for (;;) this.step(false)
    } catch (error) {
      if (error !== NEED_MORE) throw error
    }
  }

  finish(): void {
    try {
      while (this.state !== 'end') this.step(true)
      this.step(true)
    } catch (error) {
      if (error !== NEED_MORE) throw error
      throw this.fail(this.buf.length, 'the file ends in the middle of the data (was it cut short?)')
    }
    if (this.topIsArray) return
    addDocument(this.into, this.shell, this.source)
  }

  private fail(at: number, what: string): UserError {
    return new UserError(
      `${this.source} is not valid JSON (${what} at byte offset ${this.base + at}); give a file written by \`kubectl get ... -o json\``,
    )
  }

  private skipWs(atEof: boolean): number {
    const {buf} = this
    let i = this.pos
    while (i < buf.length && WS[buf[i]]) i++
    this.pos = i
    if (i === buf.length && !(atEof && this.state === 'end')) throw NEED_MORE
    return i
  }

  private parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.buf.toString('utf8', start, end))
    } catch (error) {
      const m = /position (\d+)/.exec((error as Error).message)
      const where = m ? start + Number(m[1]) : start
      throw this.fail(where, oneLine((error as Error).message.replace(/ in JSON at position \d+.*$/, '')))
    }
  }

  /** One token or item; throws NEED_MORE (state unchanged) when the bytes at hand end first. */
  private step(atEof: boolean): void {
    const i = this.skipWs(atEof)
    const {buf} = this
    const c = buf[i]
    switch (this.state) {
      case 'start':
        if (c === OPEN_OBJ) this.state = 'objFirst'
        else if (c === OPEN_ARR) {
          this.topIsArray = true
          this.arrayKey = ''
          this.state = 'arrFirst'
        } else throw this.fail(i, `unexpected ${JSON.stringify(String.fromCharCode(c))}`)
        this.pos = i + 1
        return
      case 'objFirst':
      case 'objNext': {
        if (c === CLOSE_OBJ) {
          this.pos = i + 1
          this.state = 'end'
          return
        }
        let k = i
        if (this.state === 'objNext') {
          if (c !== COMMA) throw this.fail(i, `expected "," or "}" after a member`)
          k = i + 1
          while (k < buf.length && WS[buf[k]]) k++
          if (k === buf.length) throw NEED_MORE
        }
        if (buf[k] !== QUOTE) throw this.fail(k, 'expected a key')
        const keyEnd = stringEnd(buf, k)
        const key = this.parse(k, keyEnd) as string
        let v = keyEnd
        while (v < buf.length && WS[buf[v]]) v++
        if (v === buf.length) throw NEED_MORE
        if (buf[v] !== COLON) throw this.fail(v, 'expected ":" after a key')
        v++
        while (v < buf.length && WS[buf[v]]) v++
        if (v === buf.length) throw NEED_MORE
        if (buf[v] === OPEN_ARR && this.streams(key)) {
          this.arrayKey = key
          this.snapshotItems = []
          this.pos = v + 1
          this.state = 'arrFirst'
          return
        }
        const end = valueEnd(buf, v)
        this.shell[key] = this.parse(v, end)
        this.pos = end
        this.state = 'objNext'
        return
      }
      case 'arrFirst':
      case 'arrNext': {
        if (c === CLOSE_ARR) {
          this.pos = i + 1
          this.closeArray()
          return
        }
        let k = i
        if (this.state === 'arrNext') {
          if (c !== COMMA) throw this.fail(i, `expected "," or "]" after an item`)
          k = i + 1
          while (k < buf.length && WS[buf[k]]) k++
          if (k === buf.length) throw NEED_MORE
        }
        const end = valueEnd(buf, k)
        this.item(this.parse(k, end))
        this.pos = end
        this.state = 'arrNext'
        return
      }
      case 'end':
        if (i < buf.length) throw this.fail(i, 'unexpected data after the end of the JSON value')
        return
    }
  }

  /** Arrays whose items are handled one by one: a List's items, our Snapshot's lists. */
  private streams(key: string): boolean {
    if (key === 'items') return !isSnapshotHeader(this.shell)
    return RESOURCE_KEYS.has(key) && isSnapshotHeader(this.shell)
  }

  private item(v: unknown): void {
    const item = projectItem(v, this.pool)
    if (this.topIsArray) addDocument(this.into, item as never, this.source)
    else if (this.arrayKey === 'items') addDocument(this.into, item as never, this.source, 1)
    else this.snapshotItems.push(item)
  }

  private closeArray(): void {
    if (this.topIsArray) {
      this.state = 'end'
      return
    }
    if (this.arrayKey !== 'items') {
      addSnapshotItems(this.into, this.arrayKey as SnapshotKey, this.snapshotItems, this.source)
      this.snapshotItems = []
    } else this.shell.items = [] // what the List held went in already; the shell stays a List
    this.state = 'objNext'
  }
}

/**
 * Adds one input's objects to `into`, reading its chunks as they come: whole below
 * `minStreamBytes` (or when it is not JSON), item by item above.
 */
export function addSnapshotChunks(
  into: Snapshot,
  chunks: Iterable<Buffer>,
  source: string,
  minStreamBytes = MIN_STREAM_BYTES,
): Snapshot {
  const head: Buffer[] = []
  let size = 0
  let stream: ItemStream | undefined
  for (const chunk of chunks) {
    if (stream) {
      stream.push(chunk)
      continue
    }
    head.push(chunk)
    size += chunk.length
    if (size >= minStreamBytes && startsLikeJson(head)) {
      stream = new ItemStream(into, source)
      for (const b of head.splice(0)) stream.push(b)
    }
  }
  if (stream) {
    stream.finish()
    return into
  }
  let text: string
  try {
    text = head.length === 1 ? head[0].toString('utf8') : Buffer.concat(head).toString('utf8')
  } catch {
    throw new UserError(
      `${source} is too big to read as YAML (${Math.round(size / 2 ** 20)} MiB); give it as JSON (\`kubectl get ... -o json\`), which is read in parts`,
    )
  }
  return addSnapshotText(into, text, source)
}

function startsLikeJson(head: Buffer[]): boolean {
  for (const b of head)
    for (let i = 0; i < b.length; i++) {
      if (WS[b[i]]) continue
      return b[i] === OPEN_OBJ || b[i] === OPEN_ARR
    }
  return false
}

function oneLine(s: string): string {
  const line = s.replace(/\s*\n\s*/g, ' ').trim()
  return line.length > 120 ? `${line.slice(0, 117)}...` : line
}
