import {terminalWidth} from '../base/terminal.js'
import {Args, Flags} from '@oclif/core'
import type {ChalkInstance} from 'chalk'
import {confirm, parseObjectArg} from '../base/args.js'
import {BaseCommand, clusterFlags, outputFlags} from '../base/command.js'
import {parseDuration} from '../base/duration.js'
import {
  bindExitCode,
  bindPlanDocument,
  type Binding,
  describeChange,
  FIELD_MANAGER,
  type MergePatch,
  planAll,
  planBinding,
  type ServerAnswer,
} from '../bind/plan.js'
import {diagnose} from '../diagnose/diagnose.js'
import type {Diagnosis} from '../diagnose/types.js'
import {buildWorld} from '../binding/world.js'
import {UserError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {KubeError} from '../kube/errors.js'
import {renderDiagnosis} from '../output/renderDiagnosis.js'
import {serialize} from '../output/serialize.js'
import {NOT_IN_INPUT, type Snapshot} from '../snapshot/types.js'

type DryRun = 'none' | 'client' | 'server'

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
    for (const b of writes) await sendBinding(client!, b, dryRun === 'server', snapshot)
    let diagnosis: Diagnosis | undefined
    if (flags.wait) diagnosis = await this.waitBound(client!, bindings, timeoutMs, flags)
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
    else if (o.resultsOnly)
      this.print(
        bindings
          .filter((b) => b.status === 'bind')
          .map((b) => `${this.chalk.bold(b.claim)}: ${resultLine(b, dryRun, this.chalk)}`)
          .join('\n'),
      )
    else if (!o.quiet) this.print(renderBindings(bindings, this.chalk, dryRun, true))
    if (o.diagnosis && !machine)
      this.print(renderDiagnosis(o.diagnosis, this.chalk, {scopeLabel: '', width: terminalWidth()}))
    const forbidden = bindings.some((b) => b.server.some((s) => s.code === 401 || s.code === 403))
    process.exitCode = forbidden ? 2 : bindExitCode(bindings)
    return doc
  }

  /** Polls (GET every second) until every written claim is Bound; on timeout, the explain diagnosis of the rest. */
  private async waitBound(
    client: KubeClient,
    bindings: Binding[],
    timeoutMs: number,
    flags: Parameters<BaseCommand['loadSnapshot']>[0],
  ): Promise<Diagnosis | undefined> {
    const waiting = bindings.filter((b) => b.applied || (b.status === 'nothingToDo' && b.volume && b.cause !== 'Bound'))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      for (const b of waiting) {
        if (b.bound) continue
        const [ns, name] = b.claim.split('/')
        const pvc = await client.request<{status?: {phase?: string}}>(
          'GET',
          `/api/v1/namespaces/${encodeURIComponent(ns)}/persistentvolumeclaims/${encodeURIComponent(name)}`,
        )
        if (pvc.status?.phase === 'Bound') b.bound = true
      }
      if (waiting.every((b) => b.bound)) return undefined
      if (Date.now() >= deadline) break
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))))
    }
    const late = waiting.filter((b) => !b.bound)
    for (const b of late) b.bound = false
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

/** Sends the planned patches of one binding (PV first, then the claim), recording what the server answered. */
async function sendBinding(client: KubeClient, b: Binding, dryRun: boolean, snapshot: Snapshot): Promise<void> {
  const query = {dryRun: dryRun ? 'All' : undefined, fieldManager: FIELD_MANAGER}
  const [ns, name] = b.claim.split('/')
  if (b.patch) {
    const planned = snapshot.pvs.find((p) => p.metadata?.name === b.volume)
    const answer = await patch(
      client,
      `/api/v1/persistentvolumes/${encodeURIComponent(b.volume!)}`,
      b.patch,
      query,
      planned,
      `persistentvolume/${b.volume}`,
      dryRun,
    )
    b.server.push(answer)
    if (!answer.ok) return
    b.applied = !dryRun
  }
  if (b.claimPatch) {
    const planned = snapshot.pvcs.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name)
    const answer = await patch(
      client,
      `/api/v1/namespaces/${encodeURIComponent(ns)}/persistentvolumeclaims/${encodeURIComponent(name)}`,
      b.claimPatch,
      query,
      planned,
      `persistentvolumeclaim/${name}`,
      dryRun,
    )
    b.server.push(answer)
    if (answer.ok && !b.patch) b.applied = !dryRun
  }
}

async function patch(
  client: KubeClient,
  path: string,
  body: MergePatch,
  query: Record<string, string | undefined>,
  planned: object | undefined,
  object: string,
  dryRun: boolean,
): Promise<ServerAnswer> {
  try {
    // A merge patch: the client's default (application/json) would be refused, and a JSON Patch means something else.
    await client.request('PATCH', path, {body, contentType: 'application/merge-patch+json', query})
    return {object, dryRun, ok: true}
  } catch (error) {
    if (!(error instanceof KubeError) || error.status.code === 0) throw error
    const {code, reason, message} = error.status
    const answer: ServerAnswer = {object, dryRun, ok: false, code, reason, message}
    if (code === 409 && planned) {
      try {
        answer.changes = describeChange(planned as never, await client.request('GET', path))
      } catch (e) {
        answer.changes = [`could not read it back: ${(e as Error).message}`]
      }
    }
    return answer
  }
}

function resultLine(b: Binding, dryRun: DryRun, c: ChalkInstance): string {
  if (dryRun === 'client') return c.dim('dry run: nothing was written')
  const bad = b.server.find((s) => !s.ok)
  const where = dryRun === 'server' ? 'server dry run' : 'write'
  if (bad) {
    const what =
      bad.code === 409
        ? `${bad.object} changed since it was read${bad.changes?.length ? ` (${bad.changes.join('; ')})` : ''}; nothing was written by this step, run bind again to re-plan`
        : bad.message
    const partial =
      dryRun === 'none' && b.applied ? ` (the PV write went through: ${b.volume} is reserved for the claim)` : ''
    return c.red(`${where} rejected for ${bad.object}: Error from server (${bad.reason}): ${what}${partial}`)
  }
  if (dryRun === 'server')
    return c.green(
      `server dry run: the API server accepted ${b.server.map((s) => s.object).join(' and ')} (admission and validation passed); nothing was written`,
    )
  if (!b.applied) return c.dim('not applied')
  const waited =
    b.bound === true
      ? ' — the claim is Bound'
      : b.bound === false
        ? c.red(' — the claim is not Bound yet')
        : '; the PersistentVolume controller completes the binding'
  return c.green(`written: ${b.server.map((s) => s.object).join(', ')}${waited}`)
}

function renderBindings(bindings: Binding[], c: ChalkInstance, dryRun: DryRun, withResult: boolean): string {
  const out: string[] = []
  if (bindings.length === 0) return 'No Pending claims in scope: nothing to bind.\n'
  for (const b of bindings) {
    const head = c.bold(b.claim)
    if (b.status === 'bind') out.push(`${head} → PV ${c.bold(b.volume ?? '?')}`)
    else if (b.status === 'nothingToDo') out.push(`${head}: ${c.green('nothing to do')}`)
    else if (b.status === 'noCandidate') out.push(`${head}: ${c.red(`no PV to bind${b.cause ? ` (${b.cause})` : ''}`)}`)
    else out.push(`${head}: ${c.red(`refused${b.volume ? ` to bind PV ${b.volume}` : ''}`)}`)
    if (b.mismatches.length)
      out.push(
        `  PV ${b.volume} fails these checks:`,
        ...b.mismatches.map((m) => `    ${c.red('✗')} ${m.check}: ${m.text}`),
      )
    else out.push(`  ${b.status === 'bind' ? 'Why: ' : ''}${b.reason}`)
    for (const w of b.warnings) out.push(`  ${c.yellow('Warning:')} ${w}`)
    if (b.patch) out.push(`  Patch (JSON merge patch, persistentvolume/${b.volume}):`, `    ${JSON.stringify(b.patch)}`)
    if (b.claimPatch)
      out.push(
        `  Patch (JSON merge patch, persistentvolumeclaim/${b.claim.split('/')[1]}):`,
        `    ${JSON.stringify(b.claimPatch)}`,
      )
    if (b.command || b.claimCommand)
      out.push('  The same with kubectl:', ...[b.command, b.claimCommand].filter(Boolean).map((x) => `    ${x}`))
    if (b.fix.length) out.push('  Fix:', ...b.fix.map((f) => `    - ${f}`))
    if (withResult && b.status === 'bind') out.push(`  Result: ${resultLine(b, dryRun, c)}`)
    out.push('')
  }
  if (bindings.length > 1) {
    const n = (s: Binding['status']) => bindings.filter((b) => b.status === s).length
    out.push(
      `${bindings.length} claim(s): ${n('bind')} to bind, ${n('nothingToDo')} nothing to do, ${n('noCandidate')} without candidate, ${n('refused')} refused`,
    )
  }
  return `${out.join('\n')}\n`
}

function claimArg(arg: string): {namespace?: string; name: string} {
  const {namespace, name} = parseObjectArg(arg, {usage: 'NAME, NAMESPACE/NAME or pvc/NAME'})
  return namespace === undefined ? {name} : {namespace, name}
}
