import {Chalk, type ChalkInstance} from 'chalk'

export type ColorMode = 'auto' | 'always' | 'never'

/**
 * Decides once whether to colour: --color wins, then NO_COLOR (chalk ignores it), then
 * FORCE_COLOR, then whether the stream is a TTY that is not `dumb`.
 */
export function colorLevel(mode: ColorMode, stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): 0 | 1 {
  if (mode === 'always') return 1
  if (mode === 'never') return 0
  if (env.NO_COLOR) return 0
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false' ? 0 : 1
  return stream.isTTY && env.TERM !== 'dumb' ? 1 : 0
}

export function makeChalk(level: 0 | 1): ChalkInstance {
  return new Chalk({level})
}
