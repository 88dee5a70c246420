/**
 * Events are corroboration, never the only evidence: they expire and get merged. Messages are
 * normalised (the correlator's `(combined from similar events): ` prefix removed).
 */
import type {CoreV1Event} from '@kubernetes/client-node'
import {timeOf} from './time.js'

const COMBINED = '(combined from similar events): '

export function eventMessage(e: CoreV1Event): string {
  const m = e.message ?? ''
  return m.startsWith(COMBINED) ? m.slice(COMBINED.length) : m
}

export function eventSource(e: CoreV1Event): string {
  return e.source?.component || e.reportingComponent || ''
}

export function eventTime(e: CoreV1Event): number {
  return Math.max(
    timeOf(e.lastTimestamp),
    timeOf(e.eventTime as unknown as string),
    timeOf(e.firstTimestamp),
    timeOf(e.metadata?.creationTimestamp),
  )
}

/** Events grouped by the object they are about: `Kind/namespace/name`, newest last. */
export class EventIndex {
  private readonly byObject = new Map<string, CoreV1Event[]>()
  /** Keys whose list is already in time order: most objects are never asked about, so sort on demand. */
  private readonly sorted = new Set<string>()
  constructor(events: readonly CoreV1Event[]) {
    for (const e of events) {
      const o = e.involvedObject
      if (!o) continue
      const key = `${o.kind}/${o.namespace ?? ''}/${o.name}`
      const l = this.byObject.get(key)
      if (l) l.push(e)
      else this.byObject.set(key, [e])
    }
  }

  about(kind: string, namespace: string, name: string, uid?: string): CoreV1Event[] {
    const key = `${kind}/${namespace}/${name}`
    let all = this.byObject.get(key)
    if (!all) return []
    if (!this.sorted.has(key)) {
      const timed = all.map((e) => ({e, t: eventTime(e)})).sort((a, b) => a.t - b.t)
      all = timed.map((x) => x.e)
      this.byObject.set(key, all)
      this.sorted.add(key)
    }
    // An event about an older object of the same name says nothing about this one.
    return uid ? all.filter((e) => !e.involvedObject.uid || e.involvedObject.uid === uid) : all
  }
}

export function latest(events: readonly CoreV1Event[], pred: (e: CoreV1Event) => boolean): CoreV1Event | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (pred(events[i])) return events[i]
  return undefined
}

/** `Reason: message (xN)` the way a person reads it in `kubectl describe`. */
export function quoteEvent(e: CoreV1Event): string {
  const count = e.count && e.count > 1 ? ` (x${e.count})` : ''
  return `${e.type ?? 'Normal'} ${e.reason}: ${eventMessage(e)}${count}`
}
