/** Timestamps are Date objects from the client library and strings in files; both become ms. */
export function timeOf(t: Date | string | undefined | null): number {
  if (t === undefined || t === null) return 0
  const ms = t instanceof Date ? t.getTime() : Date.parse(t)
  return Number.isNaN(ms) ? 0 : ms
}

/**
 * "Now" for a snapshot: when it was read (`takenAt`), else — a kubectl dump — the newest time it
 * holds (events, Lease renewals, object creations), so live and offline answers age things alike.
 */
export function snapshotNow(s: {
  takenAt?: string
  events: readonly {lastTimestamp?: Date | string; eventTime?: unknown; firstTimestamp?: Date | string}[]
  leases: readonly {spec?: {renewTime?: unknown}}[]
  pvcs: readonly {metadata?: {creationTimestamp?: Date | string}}[]
}): number {
  const taken = timeOf(s.takenAt)
  if (taken > 0) return taken
  let t = 0
  for (const e of s.events)
    t = Math.max(t, timeOf(e.lastTimestamp), timeOf(e.eventTime as string), timeOf(e.firstTimestamp))
  for (const l of s.leases) t = Math.max(t, timeOf(l.spec?.renewTime as string))
  for (const c of s.pvcs) t = Math.max(t, timeOf(c.metadata?.creationTimestamp))
  return t
}
