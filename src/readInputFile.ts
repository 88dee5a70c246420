import {readFileSync} from 'node:fs'
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
