/**
 * Runs `explain` without oclif's Config and Command: oclif's config, plugin and command loading
 * cost ~100 ms of CPU before the first request, as much as the rest of a one-claim explain. The
 * arguments are parsed by oclif's own parser with the command's own definitions
 * (base/explain.ts), and the run is the command's (runExplain). Anything this path does not
 * mirror exactly returns false before any output, and bin/ runs oclif: help flags, a parse error
 * (oclif prints its own text and usage), --debug (stack traces name the route), oclif's debug or
 * scoped environment variables, NODE_ENV other than production (oclif then loads TypeScript
 * sources), and user-installed oclif plugins (which may bring hooks). test/startup/explainFast.test.ts
 * compares both routes.
 */
import {existsSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {explainArgs, explainFlags, runExplain} from '../base/explain.js'
import {Session} from '../base/session.js'
import {kubectlStyleArgv} from '../hooks/preparse.js'

/** oclif's help flags (--help, and package.json's additionalHelpFlags). */
const HELP_FLAGS = ['--help', '-h']
/** oclif's scoped variables (Config.scopedEnvVar): KUBECTL_PV_DOCTOR_DEBUG, _DATA_DIR, ... */
const SCOPED_ENV = 'KUBECTL_PV_DOCTOR_'
const DIRNAME = 'pv-doctor'

/** Whether oclif would do anything for these arguments and this environment that this path does not. */
export function oclifNeeded(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  // main.run's helpAddition: a help flag anywhere before `--`.
  for (const a of args) {
    if (HELP_FLAGS.includes(a)) return true
    if (a === '--') break
  }
  if (env.DEBUG || Object.keys(env).some((k) => k.startsWith(SCOPED_ENV))) return true
  if (env.NODE_ENV !== undefined && env.NODE_ENV !== 'production') return true
  // PluginLoader.loadUserPlugins reads <dataDir>/package.json (Config.dir('data')).
  const home = env.HOME || homedir() || tmpdir()
  const dataDir = join(env.XDG_DATA_HOME || join(home, '.local/share'), DIRNAME)
  return existsSync(join(dataDir, 'package.json'))
}

/** Runs `explain args` and returns true, or returns false (having done nothing) for oclif to run it. */
export async function explainFast(args: readonly string[]): Promise<boolean> {
  if (oclifNeeded(args, process.env)) return false
  const argv = kubectlStyleArgv(args)
  const {parse} = await import('@oclif/core/parser')
  // As Command.parse: the command's flags and args, not strict (NAMEs are many). The context is
  // what flag parsers see of the command; explain's use none of it.
  const parsed = await parse(argv, {
    flags: explainFlags,
    args: explainArgs,
    strict: false,
    context: {} as Parameters<typeof parse>[1]['context'],
  }).catch(() => undefined)
  if (!parsed) return false
  if (parsed.flags.debug) return false
  // As oclif's Command module: stdout closed early (`| head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err?.code === 'EPIPE') return
    throw err
  })
  const session = new Session()
  try {
    await runExplain(session, parsed.argv, parsed.flags)
  } catch (error) {
    // As BaseCommand.catch, then oclif's handle: the one line, then exit with its code.
    process.exit(session.reportError(error as Error) ?? 1)
  }
  return true
}
