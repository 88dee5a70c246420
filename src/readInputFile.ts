import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {UserError} from './errors.js'

/** Reads a file named on the command line ("-" = stdin); failures become one-line errors naming the flag. */
export function readInputFile(file: string, flag: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message
    throw new UserError(`cannot read ${flag} ${file}: ${why}`)
  }
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
