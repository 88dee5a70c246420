/** kubectl-style tables: upper-case headers, space separated, no borders, no colour codes of its own. */
import Table from 'cli-table3'

const PLAIN_CHARS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '   ',
}

/** cli-table3, for the short tables (disks, provision plans). */
export function plainTable(head: string[], rows: string[][], indent = ''): string {
  const t = new Table({head, chars: PLAIN_CHARS, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  for (const r of rows) t.push(r)
  return t
    .toString()
    .split('\n')
    .map((l) => indent + l.trimEnd())
    .join('\n')
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/**
 * The same layout for tables printed thousands of times (explain -A on a large cluster):
 * cli-table3 measures every cell with full Unicode width rules, which dominated the run time.
 * Our cells are ASCII, ✓, ✗ and …: one column each once colour codes are removed.
 */
export function columns(head: string[], rows: string[][], indent = ''): string {
  const widths = head.map((h) => h.length)
  const visible = rows.map((r) =>
    r.map((c, i) => {
      const w = c.includes('\u001b') ? c.replace(ANSI, '').length : c.length
      if (w > widths[i]) widths[i] = w
      return w
    }),
  )
  const line = (cells: string[], ws: number[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - ws[i] + 3)))
      .join('')
      .trimEnd()
  return [
    line(
      head,
      head.map((h) => h.length),
    ),
    ...rows.map((r, j) => line(r, visible[j])),
  ].join('\n')
}
