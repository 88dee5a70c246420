/**
 * The wait loop: re-evaluates on every change the feed reports (coalesced), and once a second for
 * grace periods; ends when every claim is done, any has failed, or the time is up. The feed (a
 * watch-backed snapshot) is injected, so this module never touches the API client.
 */
import type {Snapshot} from '../snapshot/types.js'
import {type ClaimStatus, overall} from './evaluate.js'

export interface Feed {
  snapshot(): Snapshot
  stop(): void
}

export interface WaitLoopOptions {
  /** Starts the feed (initial lists done when it resolves); onChange on every change, onError when it cannot go on. */
  start: (onChange: () => void, onError: (e: Error) => void) => Promise<Feed>
  evaluate: (snapshot: Snapshot, now: number) => ClaimStatus[]
  timeoutMs: number
  now?: () => number
  onProgress?: (claims: readonly ClaimStatus[], elapsedMs: number) => void
  /** Re-evaluation without a change (grace periods, progress); default 1 s. */
  tickMs?: number
}

export interface WaitedClaim extends ClaimStatus {
  /** When it was first seen done, from the start of the wait. */
  doneAfterMs?: number
}

export interface WaitOutcome {
  result: 'done' | 'failed' | 'timeout'
  elapsedMs: number
  claims: WaitedClaim[]
  skipped: Snapshot['skipped']
}

export async function runWait(opts: WaitLoopOptions): Promise<WaitOutcome> {
  const now = opts.now ?? Date.now
  const t0 = now()
  const doneAt = new Map<string, number>()
  return new Promise<WaitOutcome>((resolve, reject) => {
    let feed: Feed | undefined
    let finished = false
    let pending: NodeJS.Timeout | undefined
    let tickTimer: NodeJS.Timeout | undefined
    let deadline: NodeJS.Timeout | undefined
    const finish = (
      result: WaitOutcome['result'] | Error,
      claims: WaitedClaim[] = [],
      skipped: Snapshot['skipped'] = [],
    ) => {
      if (finished) return
      finished = true
      clearTimeout(tickTimer)
      clearTimeout(deadline)
      if (pending) clearTimeout(pending)
      feed?.stop()
      if (result instanceof Error) reject(result)
      else resolve({result, elapsedMs: now() - t0, claims, skipped})
    }
    const check = (timedOut = false) => {
      if (finished || !feed) return
      const snap = feed.snapshot()
      const t = now()
      let claims: WaitedClaim[]
      try {
        claims = opts.evaluate(snap, t).map((c) => {
          const key = `${c.namespace}/${c.name}`
          if (c.state === 'done' && !doneAt.has(key)) doneAt.set(key, t - t0)
          return c.state === 'done' ? {...c, doneAfterMs: doneAt.get(key)} : c
        })
      } catch (error) {
        finish(error as Error)
        return
      }
      const state = overall(claims)
      if (state === 'done') finish('done', claims, snap.skipped)
      else if (state === 'failed') finish('failed', claims, snap.skipped)
      else if (timedOut || t - t0 >= opts.timeoutMs) finish('timeout', claims, snap.skipped)
      else opts.onProgress?.(claims, t - t0)
    }
    const onChange = () => {
      // A burst of events (a relist, an apply of many objects) is one evaluation.
      if (finished || pending) return
      pending = setTimeout(() => {
        pending = undefined
        check()
      }, 25)
    }
    opts
      .start(onChange, (e) => finish(e))
      .then(
        (f) => {
          feed = f
          if (finished) {
            f.stop()
            return
          }
          const tick = opts.tickMs ?? 1000
          const loop = () => {
            check()
            if (!finished) tickTimer = setTimeout(loop, tick)
          }
          deadline = setTimeout(() => check(true), Math.max(0, opts.timeoutMs - (now() - t0)))
          loop()
        },
        (e: Error) => finish(e),
      )
  })
}
