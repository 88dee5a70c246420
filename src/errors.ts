/**
 * A failure of pv-doctor itself (bad flags, unreadable file, unreachable API server,
 * claim not found). Commands print `error: <message>` and exit with `exitCode` (2 by default),
 * never a stack trace unless --debug.
 */
export class UserError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 2) {
    super(message)
    this.name = 'UserError'
    this.exitCode = exitCode
  }
}
