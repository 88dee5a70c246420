/**
 * `explain`'s arguments, flags and run, without oclif's Command: the oclif command
 * (commands/explain.ts) and bin/'s fast path (startup/explainFast.ts) run this same code.
 */
import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'
import {parseObjectArg, parseVolumeArg} from './args.js'
import {explainExitCode} from './exitCodes.js'
import {clusterFlags, outputFlags} from './flags.js'
import type {Session} from './session.js'
import {terminalWidth} from './terminal.js'
import {parseLabelSelector} from '../binding/selectors.js'
import type {Target} from '../diagnose/diagnose.js'
import type {Planner} from '../snapshot/plannedSnapshot.js'
import {UserError} from '../errors.js'

export const explainArgs = {
  names: Args.string({
    description:
      'Claims to explain: NAME, NAMESPACE/NAME, pod/NAME for every claim of a pod, sts/NAME for every claim a StatefulSet has or should have, deploy/NAME or rs/NAME for every claim a Deployment or ReplicaSet uses and every pod it owns, or pv/NAME for a PersistentVolume (why it is Terminating, Released or Failed).',
    required: false,
  }),
}

export const explainFlags = {
  ...clusterFlags,
  ...outputFlags,
  output: Flags.option({
    char: 'o',
    options: ['json', 'yaml', 'wide', 'junit', 'github'] as const,
    summary:
      'Output format: json or yaml for scripts, wide for more columns, junit for CI test reports, github for GitHub Actions annotations.',
  })(),
  'all-namespaces': Flags.boolean({char: 'A', summary: 'Look at claims in every namespace.'}),
  all: Flags.boolean({summary: 'Include healthy (Bound) claims.'}),
  pods: Flags.boolean({
    summary: 'Also follow every pending pod whose claims are Bound through attach and mount, as pod/NAME does.',
  }),
  selector: Flags.string({
    char: 'l',
    summary: 'Only claims whose labels match this selector (e.g. app=db,tier!=cache).',
  }),
}

/** The parsed flags, as oclif's parser returns them for explainFlags. */
export type ExplainFlags = Interfaces.InferredFlags<typeof explainFlags>

export async function runExplain(session: Session, argv: unknown[], flags: ExplainFlags): Promise<unknown> {
  session.setupOutput(flags)
  const names = argv as string[]
  const selector = flags.selector === undefined ? undefined : parseLabelSelector(flags.selector)
  if (flags.selector !== undefined && !selector)
    throw new UserError(`invalid label selector "${flags.selector}"; use a form like app=db,tier!=cache`)

  const explicitNs = flags.namespace
  const targets: (Omit<Target, 'namespace'> & {namespace?: string})[] = names.map(parseTarget)
  const namespaces = new Set(targets.map((t) => t.namespace ?? explicitNs ?? ''))
  const needAll =
    flags['all-namespaces'] || namespaces.size > 1 || [...namespaces].some((n) => n !== '' && n !== explicitNs)
  const scanNamespace = (ns: string) => (flags['all-namespaces'] ? undefined : ns)
  // Live, only what the verdicts asked for depend on is read (diagnose/needs.ts).
  // --pods looks at every stuck pod, whose claims may all be healthy: it reads everything.
  // The modules that diagnose and render, loaded after the first reads are sent, while the
  // server answers (a live read in rounds); otherwise once the snapshot is in.
  let later:
    | Promise<
        [
          typeof import('../diagnose/diagnose.js'),
          typeof import('../output/serialize.js'),
          typeof import('../output/writeDiagnosis.js'),
        ]
      >
    | undefined
  const diagnoseAndRender = () =>
    Promise.all([
      import('../diagnose/diagnose.js'),
      import('../output/serialize.js'),
      import('../output/writeDiagnosis.js'),
    ])
  const plan =
    (targets.length || !flags.all) && !flags.pods
      ? async (ns: string): Promise<Planner> => {
          const {scanPlanner, targetPlanner, workloadPlanner} = await import('../diagnose/needs.js')
          const resolved = targets.map((t) => ({...t, namespace: t.namespace ?? ns}))
          const planner = !targets.length
            ? scanPlanner({namespace: scanNamespace(ns), labelSelector: selector})
            : // sts/NAME, deploy/NAME, rs/NAME: the workload, what it owns, and why anything is missing.
              resolved.some((t) => t.kind !== 'claim' && t.kind !== 'pod' && t.kind !== 'volume')
              ? workloadPlanner(resolved)
              : targetPlanner(resolved)
          return (snap) => {
            const reads = planner(snap)
            // plannedSnapshot sends a round's reads in the task that asked for them.
            if (!later) {
              later = new Promise((resolve, reject) => setImmediate(() => diagnoseAndRender().then(resolve, reject)))
              later.catch(() => undefined)
            }
            return reads
          }
        }
      : undefined
  const {snapshot, namespace} = await session.loadSnapshot(flags, needAll, undefined, plan)
  if (snapshot.skipped.some((x) => x.resource === 'persistentvolumeclaims')) {
    throw new UserError(
      `cannot list persistentvolumeclaims ${needAll ? 'in all namespaces' : `in namespace "${namespace}"`} (${snapshot.skipped.find((x) => x.resource === 'persistentvolumeclaims')!.reason}); without them there is nothing to explain — ask for the read access in docs/rbac.yaml`,
    )
  }
  // Not before: a cluster command sends its first request as early as it can.
  const [{diagnose, diagnoseScan}, {serialize}, {writeDiagnosis}] = await (later ?? diagnoseAndRender())
  const resolved: Target[] = targets.map((t) => ({...t, namespace: t.namespace ?? namespace}))
  const opts = {
    targets: resolved,
    namespace: scanNamespace(namespace),
    all: flags.all,
    labelSelector: selector,
    pods: flags.pods,
  }
  if (flags.output === undefined || flags.output === 'wide' || flags.output === 'json') {
    // Written as it is made; a scan's claims are diagnosed one at a time as they are written
    // (at 20,000 claims the list takes hundreds of MB and the text gigabytes).
    const d = resolved.length ? diagnose(snapshot, opts) : diagnoseScan(snapshot, opts)
    if (flags.output === 'json') warnSkipped(session, d.skipped)
    const written = await writeDiagnosis(
      d,
      flags.output === 'json'
        ? {json: true}
        : {
            json: false,
            chalk: session.chalk,
            render: {
              wide: flags.output === 'wide',
              width: terminalWidth(),
              scopeLabel: flags['all-namespaces'] ? 'in any namespace' : `in namespace ${namespace}`,
            },
          },
    )
    process.exitCode = explainExitCode(written)
    return d
  }
  const diagnosis = diagnose(snapshot, opts)
  if (flags.output === 'yaml') {
    warnSkipped(session, diagnosis.skipped)
    session.print(serialize(diagnosis, flags.output))
  } else if (flags.output === 'junit' || flags.output === 'github') {
    const [{casesFromDiagnosis}, {renderJunit}, {renderGithub}] = await Promise.all([
      import('../output/ciCases.js'),
      import('../output/junit.js'),
      import('../output/github.js'),
    ])
    warnSkipped(session, diagnosis.skipped)
    const cases = casesFromDiagnosis(diagnosis)
    const text = flags.output === 'junit' ? renderJunit('pv-doctor explain', cases) : renderGithub(cases)
    if (text) process.stdout.write(text)
  }
  process.exitCode = explainExitCode(diagnosis)
  return diagnosis
}

/**
 * For the machine-read formats: scripts read stdout, and a person watching the job still learns
 * the answer is partial (the human text says so itself).
 */
function warnSkipped(session: Session, skipped: readonly {resource: string; reason: string}[]): void {
  for (const s of skipped)
    session.warn2(`could not read ${s.resource} (${s.reason}); checks that need them were skipped`)
}

const USAGE = 'NAME, NAMESPACE/NAME, pod/NAME, sts/NAME, deploy/NAME, rs/NAME or pv/NAME'

function parseTarget(arg: string): Omit<Target, 'namespace'> & {namespace?: string} {
  // A PV is cluster-scoped: its target carries no namespace of its own.
  const pv = parseVolumeArg(arg, USAGE)
  if (pv !== undefined) return {kind: 'volume', name: pv}
  return parseObjectArg(arg, {pods: true, statefulSets: true, usage: USAGE})
}
