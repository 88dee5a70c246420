/**
 * Answers `--version` and the root `--help` without loading oclif: its config, plugin and
 * manifest machinery costs ~100 ms of a start-up Node itself does in ~70 ms. The texts come from
 * dist/fast-path.json, which `npm run build` renders with oclif itself (scripts/write-fast-path.mjs);
 * anything else, or any doubt (no such file, oclif's debug output asked for, WSL, which oclif
 * names as a platform of its own), returns false and bin/ runs oclif as before.
 */
import {existsSync, readFileSync} from 'node:fs'
import {arch, platform, release} from 'node:os'

export interface FastPathData {
  name: string
  version: string
  /** Placeholder for the user agent in the help texts. */
  agent: string
  versionFlags: string[]
  helpFlags: string[]
  /** The root help for terminal widths from..to (to null: and wider). */
  help: {from: number; to: number | null; text: string}[]
}

/** oclif's Config.userAgent: `name/version platform-arch node-vX.Y.Z`. */
export function userAgent(d: Pick<FastPathData, 'name' | 'version'>): string {
  const a = arch() === 'ia32' ? 'x86' : arch()
  return `${d.name}/${d.version} ${platform()}-${a} node-${process.version}`
}

/** is-wsl's test, which oclif's getPlatform asks: on WSL the user agent says `wsl`, so oclif answers. */
function maybeWsl(): boolean {
  if (platform() !== 'linux') return false
  if (release().toLowerCase().includes('microsoft')) return true
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true
  } catch {
    /* no /proc: not WSL */
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')
}

/** The width oclif's help wraps at (@oclif/core screen.js stdtermwidth). */
export function helpWidth(env: NodeJS.ProcessEnv, out: {isTTY?: boolean; columns?: number}): number {
  const fixed = Number.parseInt(env.OCLIF_COLUMNS ?? '', 10)
  if (fixed) return fixed
  if (!out.isTTY) return 80
  const w = out.columns ?? 0
  if (w < 1) return 80
  return Math.max(w, 40)
}

/**
 * The text to print for argv, or undefined when oclif must answer. Mirrors oclif's main.run:
 * a version flag first (as the first argument), then help (no arguments, or only a help flag;
 * anything more is a command's or topic's help, which oclif renders).
 */
export function fastAnswer(
  argv: readonly string[],
  d: FastPathData,
  env: NodeJS.ProcessEnv,
  out: {isTTY?: boolean; columns?: number},
): string | undefined {
  if (d.versionFlags.includes(argv[0])) return `${userAgent(d)}\n`
  if (argv.length === 0 || (argv.length === 1 && d.helpFlags.includes(argv[0]))) {
    const w = helpWidth(env, out)
    const entry = d.help.find((h) => w >= h.from && (h.to === null || w <= h.to))
    return entry?.text.split(d.agent).join(userAgent(d))
  }
  return undefined
}

/** Prints the answer and returns true, or returns false for oclif to run. */
export function fastPath(argv: readonly string[], dataUrl: URL): boolean {
  if (argv.length > 1 || process.env.DEBUG) return false
  let d: FastPathData
  try {
    d = JSON.parse(readFileSync(dataUrl, 'utf8')) as FastPathData
  } catch {
    return false
  }
  const text = fastAnswer(argv, d, process.env, process.stdout)
  if (text === undefined || maybeWsl()) return false
  process.stdout.write(text)
  return true
}
