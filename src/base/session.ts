/**
 * What one run of a command holds besides its flags: its colours, the snapshot it loads (live or
 * from files), its output and its one-line errors. Without oclif's Command, so bin/'s fast path
 * for `explain` (src/startup/explainFast.ts) runs the same code as the oclif command.
 */
import * as Errors from '@oclif/core/errors'
import type {ChalkInstance} from 'chalk'
import {UserError} from '../errors.js'
import {readInputChunks} from '../readInputFile.js'
import {colorLevel, type ColorMode, makeChalk} from './color.js'
import {parseDuration} from './duration.js'
import type {ClusterFlagValues} from './flags.js'
import type {KubeClient} from '../kube/client.js'
import type {Planner} from '../snapshot/plannedSnapshot.js'
import {KubeError} from '../kube/errors.js'
import {type ResourceName, type Snapshot, emptySnapshot} from '../snapshot/types.js'
import {isSupported, NEWEST_MINOR, OLDEST_MINOR, parseKubeVersion} from '../binding/kubeVersion.js'

/** --kube-version, checked: one of the minors pv-doctor knows the rules of. */
function kubeVersionFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const v = parseKubeVersion(value)
  if (!v) throw new UserError(`--kube-version "${value}" is not a Kubernetes version; give one like 1.32 or v1.34.4`)
  if (!isSupported(v))
    throw new UserError(
      `--kube-version ${value} is not supported; pv-doctor follows Kubernetes 1.${OLDEST_MINOR} to 1.${NEWEST_MINOR}`,
    )
  return value
}

export class Session {
  chalk!: ChalkInstance
  debugErrors = false

  setupOutput(flags: {color?: ColorMode; debug?: boolean; output?: string}): void {
    this.debugErrors = Boolean(flags.debug)
    const level = flags.output && flags.output !== 'wide' ? 0 : colorLevel(flags.color ?? 'auto', process.stdout)
    this.chalk = makeChalk(level)
    // Every flag is checked whatever the mode: a bad --request-timeout is an error even with --from-file.
    if ('request-timeout' in flags) this.checkClusterFlags(flags as unknown as ClusterFlagValues)
  }

  /** Reads --from-file inputs into one snapshot. */
  async readSnapshotFiles(files: string[]): Promise<Snapshot> {
    const {markMissingKinds} = await import('../snapshot/parseSnapshot.js')
    const {addSnapshotChunks} = await import('../snapshot/streamSnapshot.js')
    const snap = emptySnapshot()
    // Big JSON files are read in parts (past V8's string limit); PV_DOCTOR_STREAM_MIN_BYTES lowers
    // the size where that starts, so the tests can compare both readers on small files.
    const min = Number(process.env.PV_DOCTOR_STREAM_MIN_BYTES) || undefined
    for (const file of files)
      addSnapshotChunks(snap, readInputChunks(file, '--from-file'), file === '-' ? 'stdin' : file, min)
    return markMissingKinds(snap)
  }

  /** Checks the cluster flags whatever the mode, so a typo is never accepted silently with --from-file. */
  private checkClusterFlags(flags: ClusterFlagValues): number {
    const timeoutMs = parseDuration(flags['request-timeout'], '--request-timeout')
    if (flags['as-group']?.length && !flags.as) throw new UserError('--as-group needs --as (the user to impersonate)')
    return timeoutMs
  }

  async connect(flags: ClusterFlagValues): Promise<KubeClient> {
    const timeoutMs = this.checkClusterFlags(flags)
    const {connect} = await import('../kube/client.js')
    return connect({
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      timeoutMs,
      as: flags.as,
      asGroups: flags['as-group'],
    })
  }

  /** Loads the snapshot from files, or from the cluster for the given scope. */
  async loadSnapshot(
    flags: ClusterFlagValues & {'from-file'?: string[]; namespace?: string},
    allNamespaces: boolean,
    only?: ReadonlySet<ResourceName>,
    /** Live only: read in rounds, only what this plan asks for (given the namespace in effect). */
    plan?: (namespace: string) => Promise<Planner>,
  ): Promise<{snapshot: Snapshot; namespace: string; client?: KubeClient}> {
    const version = kubeVersionFlag(flags['kube-version'])
    if (flags['from-file']?.length) {
      const snapshot = await this.readSnapshotFiles(flags['from-file'])
      if (version) snapshot.serverVersion = version
      return {snapshot, namespace: flags.namespace ?? 'default'}
    }
    const client = await this.connect(flags)
    const namespace = flags.namespace ?? client.namespace
    let snapshot: Snapshot
    if (plan) {
      const {plannedSnapshot} = await import('../snapshot/plannedSnapshot.js')
      snapshot = await plannedSnapshot(client, plan(namespace))
    } else {
      const {liveSnapshot} = await import('../snapshot/liveSnapshot.js')
      snapshot = await liveSnapshot(client, {namespace: allNamespaces ? undefined : namespace}, only)
    }
    if (version) snapshot.serverVersion = version
    return {snapshot, namespace, client}
  }

  print(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  warn2(text: string): void {
    process.stderr.write(`warning: ${text}\n`)
  }

  /**
   * Writes what a failed command says (one line on stderr, no stack trace unless --debug) and
   * returns its exit code; undefined for oclif's own exit, which passes through.
   */
  reportError(err: Error): number | undefined {
    if (err instanceof Errors.ExitError) return undefined
    let message = err.message
    let code = 2
    if (err instanceof UserError) code = err.exitCode
    else if (err instanceof KubeError)
      message = err.status.code === 0 ? err.status.message : describeServerError(err.status)
    else if (!(err instanceof Errors.CLIError))
      message += ' (an internal error of pv-doctor: rerun with --debug and report it)'
    if (this.debugErrors && err.stack) process.stderr.write(`${err.stack}\n`)
    process.stderr.write(`error: ${oneLine(message)}\n`)
    return code
  }
}

function describeServerError(s: {code: number; reason: string; message: string}): string {
  const hint =
    s.code === 401
      ? ' (the credentials in the kubeconfig were refused; log in again or fix the user entry)'
      : s.code === 403
        ? ' (ask for read access; docs/rbac.yaml lists what pv-doctor needs)'
        : ''
  return `Error from server (${s.reason}): ${s.message}${hint}`
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim()
}
