import {terminalWidth} from '../base/terminal.js'
import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {confirm, parseObjectArg} from '../base/args.js'
import {BaseCommand, clusterFlags, outputFlags} from '../base/command.js'
import {parseDuration} from '../base/duration.js'
import {bindExitCode} from '../base/exitCodes.js'
import {applyBinding, waitBound} from '../bind/apply.js'
import {bindPlanDocument, type Binding, type DryRun, planAll, planBinding} from '../bind/plan.js'
import {diagnose} from '../diagnose/diagnose.js'
import type {Diagnosis} from '../diagnose/types.js'
import {buildWorld} from '../binding/world.js'
import {UserError} from '../errors.js'
import {renderBindings, renderResults} from '../output/renderBind.js'
import {renderDiagnosis} from '../output/renderDiagnosis.js'
import {serialize} from '../output/serialize.js'
import {NOT_IN_INPUT} from '../snapshot/types.js'

export default class Bind extends BaseCommand {
  static summary =
    'Bind a Pending claim to the PV the cluster would choose (or one you name), safely: shows the exact patch, writes it only with confirmation.'

  static description =
    `Without --volume, picks the PV the PersistentVolume controller would bind (or, for a WaitForFirstConsumer claim with a consumer pod, the scheduler's choice). With --volume, uses that PV if it passes every check, and otherwise refuses with the list of failing checks.

The write is a JSON merge patch of the PV's spec.claimRef (the pre-binding upstream recommends) that carries the PV's resourceVersion: if the PV changed after it was read, the API server answers 409 Conflict, nothing is written, and pv-doctor says what changed. The PV controller then completes the binding. A Released PV reserved for an earlier claim of the same name is handed back by updating claimRef.uid (its data is kept); a Released PV of another claim needs --reclaim.

Exit status: 0 when every claim is bound, planned or has nothing to do; 1 when a claim could not be bound (no candidate, refused, rejected by the API server, not Bound after --wait); 2 when pv-doctor could not do its job.

The plan's JSON contract is documented in docs/bind.md.`

  static examples = [
    {
      description: 'Preview the binding (nothing is written)',
      command: '<%= config.bin %> bind -n shop data-db-0 --dry-run',
    },
    {
      description: 'Bind to a chosen PV and wait until the claim is Bound',
      command: '<%= config.bin %> bind shop/data-db-0 --volume local-pv-1 --yes --wait',
    },
    {
      description: 'Ask the API server (admission, validation, RBAC) without writing',
      command: '<%= config.bin %> bind -n shop data-db-0 --dry-run=server',
    },
    {
      description: 'Offline, in CI: fail when a Pending claim has no candidate',
      command: '<%= config.bin %> bind --all -A --from-file dump.json --dry-run -o json > plan.json',
    },
  ]

  static args = {
    claim: Args.string({description: 'The claim: NAME, NAMESPACE/NAME or pvc/NAME.', required: false}),
  }

  static flags = {
    ...clusterFlags,
    output: Flags.option({
      char: 'o',
      options: ['json', 'yaml'] as const,
      summary: 'Print the plan and its result as data (see docs/bind.md).',
    })(),
    color: outputFlags.color,
    debug: outputFlags.debug,
    volume: Flags.string({
      summary: 'Bind to this PV instead of the one the cluster would choose (refused if it fails any check).',
    }),
    'dry-run': Flags.option({
      options: ['none', 'client', 'server'] as const,
      summary:
        'client (or bare --dry-run): print the plan, write nothing. server: send the write with dryRun=All and report the answer.',
    })(),
    yes: Flags.boolean({char: 'y', summary: 'Write without asking (required when stdin is not a terminal).'}),
    wait: Flags.boolean({summary: 'After writing, wait until the claim is Bound; on timeout, explain why not.'}),
    timeout: Flags.string({summary: 'How long --wait waits (e.g. 30s, 2m).', default: '2m'}),
    all: Flags.boolean({
      summary: 'Bind every Pending claim in the namespace (or with -A every namespace) that has a good candidate.',
    }),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'With --all: claims in every namespace.'}),
    reclaim: Flags.boolean({
      summary: 'Allow a Released PV that belonged to another claim (its old data becomes visible to this claim).',
    }),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Bind)
    this.setupOutput(flags)
    const dryRun: DryRun = flags['dry-run'] ?? 'none'
    const machine = flags.output
    // Flag checks first: none of them needs the cluster, and none may leave a write behind.
    if (Boolean(flags.all) === Boolean(args.claim))
      throw new UserError(
        flags.all
          ? 'give either a claim or --all, not both'
          : 'name the claim to bind (NAME or NAMESPACE/NAME), or pass --all',
      )
    if (flags.all && flags.volume)
      throw new UserError('--volume names one PV for one claim; it cannot be used with --all')
    if (flags['all-namespaces'] && !flags.all)
      throw new UserError('-A only applies to --all; name the claim as NAMESPACE/NAME instead')
    if (flags['from-file']?.length && dryRun !== 'client')
      throw new UserError(
        '--from-file only supports --dry-run=client: a snapshot cannot be written to; drop --from-file to bind in the cluster',
      )
    if (flags.wait && dryRun !== 'none')
      throw new UserError('--wait waits for a real binding; drop --dry-run, or drop --wait')
    const timeoutMs = parseDuration(flags.timeout, '--timeout')
    const interactive = dryRun === 'none' && !flags.yes
    if (interactive && !process.stdin.isTTY)
      throw new UserError(
        'refusing to write without confirmation: stdin is not a terminal; pass --yes to bind, or --dry-run to preview (nothing was written)',
      )

    const target = args.claim ? claimArg(args.claim) : undefined
    const scopeNs = target?.namespace ?? flags.namespace
    const {snapshot, namespace, client} = await this.loadSnapshot(
      {...flags, namespace: scopeNs},
      flags.all && flags['all-namespaces'],
    )
    // A dump without events or CSIDrivers does not change which PV binds: only real read failures are worth a warning.
    for (const s of snapshot.skipped)
      if (s.reason !== NOT_IN_INPUT)
        this.warn2(`could not read ${s.resource} (${s.reason}); checks that need them were skipped`)
    const world = buildWorld(snapshot)
    const bindings = target
      ? [planBinding(world, {namespace, name: target.name, volume: flags.volume, reclaim: flags.reclaim})]
      : planAll(snapshot, flags['all-namespaces'] ? undefined : namespace, world)
    const writes = bindings.filter((b) => b.status === 'bind')

    if (dryRun === 'client' || writes.length === 0) return this.finish(bindings, dryRun, machine)

    if (interactive) {
      if (!machine) this.print(renderBindings(bindings, this.chalk, dryRun, false))
      else
        for (const b of writes)
          process.stderr.write(
            `${b.claim} → PV ${b.volume}:\n  ${[b.command, b.claimCommand].filter(Boolean).join('\n  ')}\n`,
          )
      if (!(await confirm(`Write ${writes.length === 1 ? 'this change' : `these ${writes.length} changes`}? [y/N] `))) {
        process.stderr.write('Aborted: nothing was written.\n')
        return this.finish(bindings, dryRun, machine, {quiet: !machine})
      }
    }
    for (const b of writes) await applyBinding(client!, b, dryRun === 'server', snapshot)
    let diagnosis: Diagnosis | undefined
    if (flags.wait) {
      const late = await waitBound(client!, bindings, timeoutMs)
      if (late.length > 0) diagnosis = await this.explainLate(late, flags)
    }
    return this.finish(bindings, dryRun, machine, {resultsOnly: interactive && !machine, diagnosis})
  }

  private finish(
    bindings: Binding[],
    dryRun: DryRun,
    machine: 'json' | 'yaml' | undefined,
    o: {quiet?: boolean; resultsOnly?: boolean; diagnosis?: Diagnosis} = {},
  ): unknown {
    const doc = {...bindPlanDocument(bindings, dryRun), ...(o.diagnosis ? {diagnosis: o.diagnosis} : {})}
    if (machine) this.print(serialize(doc, machine))
    else if (o.resultsOnly) this.print(renderResults(bindings, this.chalk, dryRun))
    else if (!o.quiet) this.print(renderBindings(bindings, this.chalk, dryRun, true))
    if (o.diagnosis && !machine)
      this.print(renderDiagnosis(o.diagnosis, this.chalk, {scopeLabel: '', width: terminalWidth()}))
    process.exitCode = bindExitCode(bindings)
    return doc
  }

  /** After --wait timed out: what explain says now about the claims that are not Bound. */
  private async explainLate(late: Binding[], flags: Parameters<BaseCommand['loadSnapshot']>[0]): Promise<Diagnosis> {
    const namespaces = new Set(late.map((b) => b.claim.split('/')[0]))
    const {snapshot} = await this.loadSnapshot(
      {...flags, 'from-file': undefined, namespace: [...namespaces][0]},
      namespaces.size > 1,
    )
    const targets = late.map((b) => ({
      kind: 'claim' as const,
      namespace: b.claim.split('/')[0],
      name: b.claim.split('/')[1],
    }))
    process.stderr.write(
      `Timed out: ${late.map((b) => b.claim).join(', ')} not Bound yet. What pv-doctor explain says now:\n`,
    )
    return diagnose(snapshot, {targets, all: true})
  }
}

function claimArg(arg: string): {namespace?: string; name: string} {
  const {namespace, name} = parseObjectArg(arg, {usage: 'NAME, NAMESPACE/NAME or pvc/NAME'})
  return namespace === undefined ? {name} : {namespace, name}
}
