/**
 * Writes a document given in pieces (renderDiagnosisParts, toJSONChunks) to stdout as it is made,
 * so the whole text never sits in memory: at 20,000 reported claims it is gigabytes of strings.
 * Pieces are joined into writes of about 64 KB (below V8's large-object size, so the texts die
 * young, and a pipe's buffer); each write is awaited before the next is made
 * (a slow reader holds the writer back instead of the queue growing). A reader that goes away
 * (`| head`: EPIPE) ends the writing quietly, as a whole-string write did; any other write error
 * is a one-line error.
 */
import {UserError} from '../errors.js'

const BATCH = 1 << 16

/** Streams whose EPIPE errors are already swallowed (their 'error' event would otherwise crash the process). */
const guarded = new WeakSet<NodeJS.WritableStream>()

/** Writes `parts` in order; resolves false when the reader went away before the end. */
export async function writeParts(
  parts: Iterable<string>,
  out: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  if (!guarded.has(out)) {
    guarded.add(out)
    // Errors reach each write's callback below; the stream also emits them as 'error' events.
    out.on('error', () => {})
  }
  let buf = ''
  const flush = async (): Promise<boolean> => {
    const text = buf
    buf = ''
    const err = await new Promise<Error | null | undefined>((resolve) => out.write(text, resolve))
    if (!err) return true
    if (
      (err as NodeJS.ErrnoException).code === 'EPIPE' ||
      (err as NodeJS.ErrnoException).code === 'ERR_STREAM_DESTROYED'
    )
      return false
    throw new UserError(`cannot write the output (${err.message})`)
  }
  for (const part of parts) {
    buf += part
    if (buf.length >= BATCH && !(await flush())) return false
  }
  return buf === '' || flush()
}
