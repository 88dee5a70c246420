import {closeSync, openSync, readSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {UserError} from './errors.js'

/** Reads a file named on the command line ("-" = stdin); failures become one-line errors naming the flag. */
export function readInputFile(file: string, flag: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
  } catch (error) {
    throw cannotRead(error, file, flag)
  }
}

const CHUNK = 16 * 1024 * 1024

/**
 * The same input in chunks of up to 16 MiB, read as they are consumed: for files past V8's
 * string limit (~512 MiB), which readInputFile cannot hold as one string.
 */
export function* readInputChunks(file: string, flag: string): Generator<Buffer> {
  let fd: number
  try {
    fd = file === '-' ? 0 : openSync(file, 'r')
  } catch (error) {
    throw cannotRead(error, file, flag)
  }
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK)
      let n: number
      try {
        n = readSync(fd, buf, 0, CHUNK, null)
      } catch (error) {
        // stdin may be a non-blocking pipe with nothing in it yet: wait a moment and read again.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
          continue
        }
        throw cannotRead(error, file, flag)
      }
      if (n === 0) return
      yield n === CHUNK ? buf : buf.subarray(0, n)
    }
  } finally {
    if (fd !== 0) closeSync(fd)
  }
}

function cannotRead(error: unknown, file: string, flag: string): UserError {
  const code = (error as NodeJS.ErrnoException).code
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message
  return new UserError(`cannot read ${flag} ${file}: ${why}`)
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i

/**
 * The files `kubectl apply -f` reads for each path: a file as is ("-" = stdin), a directory's
 * .yaml/.yml/.json files in name order (its subdirectories too with `recursive`, like -R).
 */
export function manifestFiles(paths: string[], flag: string, recursive: boolean): {file: string; text: string}[] {
  const out: {file: string; text: string}[] = []
  const walk = (dir: string, top: boolean) => {
    for (const e of readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name)
      if (e.isDirectory()) {
        if (recursive) walk(p, false)
      } else if (MANIFEST_EXT.test(e.name)) out.push({file: p, text: readInputFile(p, flag)})
    }
    if (top && out.length === 0)
      throw new UserError(
        `${flag} ${dir}: the directory holds no .yaml, .yml or .json files${recursive ? '' : ' (add -R to read its subdirectories)'}`,
      )
  }
  for (const p of paths) {
    let dir = false
    try {
      dir = p !== '-' && statSync(p).isDirectory()
    } catch {
      /* readInputFile names the problem */
    }
    if (dir) walk(p, true)
    else out.push({file: p === '-' ? 'stdin' : p, text: readInputFile(p, flag)})
  }
  return out
}
