/**
 * Keeps a local copy of one collection current the way client-go's Reflector does
 * (tools/cache/reflector.go ListAndWatch): list, then watch from the list's resourceVersion, so no
 * change between the two is missed; follow each event's resourceVersion (and bookmarks) so a
 * re-opened watch resumes where the last one ended; on 410 Gone (the version was compacted away)
 * list again. The list/watch calls are injected: tests can put a change between them.
 */
import type {WatchEvent} from '../kube/client.js'
import {KubeError} from '../kube/errors.js'

/** The two calls a reflector needs; the live KubeClient has both. */
export interface ListWatch {
  listWithVersion<T = unknown>(
    path: string,
    query?: Record<string, string | undefined>,
  ): Promise<{items: T[]; resourceVersion: string}>
  watch(
    path: string,
    query: Record<string, string | undefined>,
    onEvent: (e: WatchEvent) => void,
    onEnd: (error?: KubeError) => void,
  ): () => void
}

type Item = {metadata?: {namespace?: string; name?: string; resourceVersion?: string}}

/** Consecutive failed (re)connections before the reflector gives up and reports the error. */
const MAX_FAILURES = 5
const RETRY_MS = 1000

export class Reflector {
  private readonly store = new Map<string, Item>()
  private resourceVersion = ''
  private stopWatch?: () => void
  private stopped = false
  private failures = 0
  /** How many times the collection was listed (1 + one per 410 Gone). */
  lists = 0

  constructor(
    private readonly lw: ListWatch,
    readonly path: string,
    private readonly query: Record<string, string | undefined>,
    /** Called after every change to the local copy. */
    private readonly onChange: () => void,
    /** Called once when the reflector cannot go on (it stops). */
    private readonly onError: (e: Error) => void,
  ) {}

  items(): Item[] {
    return [...this.store.values()]
  }

  /** The first list; its errors (403, 404, unreachable) are the caller's to handle. */
  async start(): Promise<void> {
    await this.list()
    this.watchFrom()
  }

  stop(): void {
    this.stopped = true
    this.stopWatch?.()
  }

  private async list(): Promise<void> {
    const {items, resourceVersion} = await this.lw.listWithVersion<Item>(this.path, this.query)
    this.lists++
    this.store.clear()
    for (const it of items) this.store.set(keyOf(it), it)
    this.resourceVersion = resourceVersion
  }

  private relist(): void {
    this.list().then(
      () => {
        this.failures = 0
        this.onChange()
        this.watchFrom()
      },
      (e: Error) => this.retry(e),
    )
  }

  private watchFrom(): void {
    if (this.stopped) return
    // Set when the stream carried an ERROR; the server then closes it, and onEnd must not resume.
    let gone = false
    let errored = false
    this.stopWatch = this.lw.watch(
      this.path,
      {...this.query, resourceVersion: this.resourceVersion},
      (ev) => {
        if (this.stopped || gone || errored) return
        if (ev.type === 'ERROR') {
          gone = ev.object.code === 410
          if (!gone) {
            errored = true
            this.retry(
              new KubeError({
                code: ev.object.code ?? 0,
                reason: ev.object.reason ?? 'Error',
                message: ev.object.message ?? 'watch failed',
              }),
            )
          }
          return
        }
        this.failures = 0
        const rv = ev.object.metadata?.resourceVersion
        if (rv) this.resourceVersion = rv
        if (ev.type === 'BOOKMARK') return
        const item = ev.object as Item
        if (ev.type === 'DELETED') this.store.delete(keyOf(item))
        else this.store.set(keyOf(item), item)
        this.onChange()
      },
      (error) => {
        if (this.stopped || errored) return
        if (gone || error?.status.code === 410) this.relist()
        else if (error) this.retry(error)
        else this.watchFrom() // the server closed a healthy stream: resume from the last version
      },
    )
  }

  private retry(e: Error): void {
    if (this.stopped) return
    this.stopWatch?.()
    // Refused credentials or access do not get better by retrying.
    const denied = e instanceof KubeError && (e.status.code === 401 || e.status.code === 403)
    if (denied || ++this.failures > MAX_FAILURES) {
      this.stopped = true
      this.onError(e)
      return
    }
    setTimeout(() => {
      if (!this.stopped) this.relist()
    }, RETRY_MS).unref()
  }
}

function keyOf(o: Item): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
}
