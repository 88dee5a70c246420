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

/**
 * cli-table3, for the short tables (disks, provision plans). With `width` (the terminal's
 * columns), the last column is cut with … so that no line wraps.
 */
export function plainTable(head: string[], rows: string[][], indent = '', width?: number): string {
  const t = new Table({head, chars: PLAIN_CHARS, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  for (const r of rows) t.push(r)
  return t
    .toString()
    .split('\n')
    .map((l) => fitLine(indent + l.trimEnd(), width))
    .join('\n')
}

/** Cuts a line to `width` visible columns, ending in …; colour codes are kept (and reset). */
export function fitLine(line: string, width?: number): string {
  if (!width || width <= 1) return line
  const plain = line.includes('\u001b') ? line.replace(ANSI, '') : line
  if ([...plain].length <= width) return line
  let out = ''
  let seen = 0
  for (let i = 0; i < line.length; ) {
    const m = line.startsWith('\u001b[', i) ? /^\u001b\[[0-9;]*m/.exec(line.slice(i)) : null
    if (m) {
      out += m[0]
      i += m[0].length
      continue
    }
    if (seen === width - 1) break
    const cp = line.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    out += ch
    i += ch.length
    seen++
  }
  return `${out.trimEnd()}…${line.includes('\u001b') ? '\u001b[0m' : ''}`
}

/** Cuts the cells of column `col` so that the other columns and the start of the last fit `width` (never below 6). */
function shrinkColumn(head: string[], rows: string[][], indent: string, width: number, col: number): string[][] {
  const visible = (c: string) => (c.includes('\u001b') ? c.replace(ANSI, '') : c).length
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))))
  // Room for the columns before the last, and at least 24 characters of the last.
  const last = Math.min(24, widths[widths.length - 1])
  const total = indent.length + widths.slice(0, -1).reduce((a, b) => a + b + 3, 0) + last
  const keep = Math.max(6, head[col].length, widths[col] - (total - width))
  if (total <= width || keep >= widths[col]) return rows
  return rows.map((r) => r.map((c, i) => (i === col && visible(c) > keep ? `${c.slice(0, keep - 1)}…` : c)))
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/**
 * The same layout for tables printed thousands of times (explain -A on a large cluster):
 * cli-table3 measures every cell with full Unicode width rules, which dominated the run time.
 * Our cells are ASCII, ✓, ✗ and …: one column each once colour codes are removed.
 */
export function columns(
  head: string[],
  rows: string[][],
  indent = '',
  width?: number,
  /** A column that gives up width first (cells cut with …) when the table is wider than `width`. */
  shrink?: number,
): string {
  if (width && shrink !== undefined) rows = shrinkColumn(head, rows, indent, width, shrink)
  const widths = head.map((h) => h.length)
  const visible = rows.map((r) =>
    r.map((c, i) => {
      const w = c.includes('\u001b') ? c.replace(ANSI, '').length : c.length
      if (w > widths[i]) widths[i] = w
      return w
    }),
  )
  // Three spaces between columns as kubectl prints, two when that would not fit the terminal.
  const full = indent.length + widths.reduce((a, b) => a + b + 3, -3)
  const gap = width && full > width ? 2 : 3
  const line = (cells: string[], ws: number[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - ws[i] + gap)))
      .join('')
      .trimEnd()
  const table = [
    line(
      head,
      head.map((h) => h.length),
    ),
    ...rows.map((r, j) => line(r, visible[j])),
  ]
  return table.map((l) => fitLine(l, width)).join('\n')
}
