import {UserError} from '../errors.js'

/** Parses kubectl-style durations (`10s`, `1m30s`, `500ms`, `0`, a bare number = seconds) to ms. */
export function parseDuration(value: string, flag: string): number {
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let m: RegExpExecArray | null
  let consumed = 0
  while ((m = re.exec(v))) {
    total += Number(m[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[m[2] as 'ms' | 's' | 'm' | 'h']
    consumed = re.lastIndex
  }
  if (consumed !== v.length || v === '')
    throw new UserError(`invalid duration "${value}" for ${flag}; use a form like 10s, 2m or 0`)
  return Math.round(total)
}
