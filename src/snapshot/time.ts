/** Timestamps are Date objects from the client library and strings in files; both become ms. */
export function timeOf(t: Date | string | undefined | null): number {
  if (t === undefined || t === null) return 0
  const ms = t instanceof Date ? t.getTime() : Date.parse(t)
  return Number.isNaN(ms) ? 0 : ms
}
