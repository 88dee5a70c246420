/**
 * What the API server (or the way to it) answered, as one error type. Dependency-free so every
 * layer can check `instanceof KubeError` without loading the client.
 */
export interface KubeStatus {
  code: number
  reason: string
  message: string
}

/** An error answered by the API server (it has an HTTP status), or a transport failure (code 0). */
export class KubeError extends Error {
  readonly status: KubeStatus
  /** Set when the server asked to be retried (429, or a 5xx with Retry-After): how long to wait. */
  retryAfterSeconds?: number
  constructor(status: KubeStatus) {
    super(status.message)
    this.name = 'KubeError'
    this.status = status
  }
}

/** The HTTP status of an API error, undefined for anything else. */
export function statusCode(error: unknown): number | undefined {
  return error instanceof KubeError ? error.status.code : undefined
}

/** One line for a report: `Reason: message` from the API server, the message of anything else. */
export function describeError(error: unknown): string {
  if (error instanceof KubeError) {
    const s = error.status
    return s.code === 0 ? s.message : `${s.reason}: ${firstLine(s.message)}`
  }
  return firstLine(error instanceof Error ? error.message : String(error))
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim()
}
