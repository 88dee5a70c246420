/** kubectl-style tables: upper-case headers, space separated, no borders, no colour codes of its own. */
import Table from 'cli-table3'

const PLAIN_CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '   ',
}

export function plainTable(head: string[], rows: string[][], indent = ''): string {
  const t = new Table({head, chars: PLAIN_CHARS, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  for (const r of rows) t.push(r)
  return t
    .toString()
    .split('\n')
    .map((l) => indent + l.trimEnd())
    .join('\n')
}
