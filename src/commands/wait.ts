import {isAbsolute, relative} from 'node:path'
import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {parseObjectArg} from '../base/args.js'
import {BaseCommand, clusterFlags} from '../base/command.js'
import {parseDuration} from '../base/duration.js'
import {parseLabelSelector} from '../binding/selectors.js'
import {UserError} from '../errors.js'
import {KubeError} from '../kube/errors.js'
import {pathOf, STATEFUL_SETS} from '../kube/paths.js'
import {manifestFiles} from '../readInputFile.js'
import type {WaitTarget} from '../wait/evaluate.js'

const STS_WORDS = ['sts', 'statefulset', 'statefulsets']

const stripAnsi = (s: string) => s.replace(/\u001B\[[0-9;]*[A-Za-z]/g, '')

export default class Wait extends BaseCommand {
  static summary =
    'Wait until claims are usable (or Bound); fail fast, with the root cause, when only a person can fix them.'

  static description =
    `Watches the claims and everything their verdict depends on (PVs, StorageClasses, pods, events), re-diagnoses on each change, and ends as soon as every claim is done. It fails at once on causes that waiting cannot resolve (class not found, no default class, a mismatched or taken PV, an unknown provisioner, ...; the table is in docs/ci.md) and keeps waiting on causes the cluster may still resolve (a provisioner at work, a static provisioner yet to create a PV).

--for usable (default): Bound, or WaitForFirstConsumer with no pod yet, is done. --for bound: only Bound.

Exit status: 0 every claim is done; 1 a claim failed (a cause only a change by a person resolves); 2 pv-doctor could not do its job; 3 timed out while still progressing.`

  static examples = [
    {
      description: 'After applying manifests: wait for every claim they create (StatefulSet replicas included)',
      command: 'kubectl apply -f k8s/ && <%= config.bin %> wait -f k8s/ --timeout 5m',
    },
    {description: 'One claim, until it is Bound', command: '<%= config.bin %> wait -n shop data-db-0 --for bound'},
    {
      description: "A StatefulSet's claims, as JUnit for the CI's test report",
      command: '<%= config.bin %> wait sts/db -o junit > pv-doctor.xml',
    },
  ]

  static strict = false

  static args = {
    names: Args.string({
      description:
        'What to wait for: claims (NAME or NAMESPACE/NAME), pod/NAME (its claims) or sts/NAME (its claim templates, one claim per replica). None: every claim in the namespace.',
      required: false,
    }),
  }

  static flags = {
    kubeconfig: clusterFlags.kubeconfig,
    context: clusterFlags.context,
    namespace: clusterFlags.namespace,
    as: clusterFlags.as,
    'as-group': clusterFlags['as-group'],
    'request-timeout': clusterFlags['request-timeout'],
    filename: Flags.string({
      char: 'f',
      summary:
        'Wait for the claims these manifests create (files or directories, as kubectl apply -f takes them; "-" = stdin). Repeatable.',
      multiple: true,
    }),
    recursive: Flags.boolean({char: 'R', summary: 'Read the directories given with -f recursively.'}),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'With no NAME: every claim in every namespace.'}),
    selector: Flags.string({char: 'l', summary: 'Only claims whose labels match this selector (e.g. app=db).'}),
    timeout: Flags.string({summary: 'How long to wait at most (e.g. 30s, 5m).', default: '5m'}),
    for: Flags.option({
      options: ['usable', 'bound'] as const,
      default: 'usable' as const,
      summary: 'usable: Bound, or WaitForFirstConsumer with no pod yet; bound: only Bound.',
    })(),
    grace: Flags.string({
      summary: 'How long a provisioner may stay silent (or a named PV stay missing) before the wait fails.',
      default: '30s',
    }),
    'fail-after-retries': Flags.integer({
      summary: 'Fail once a provisioner has failed this many times (default: keep waiting while it retries).',
      min: 1,
    }),
    output: Flags.option({
      char: 'o',
      options: ['json', 'yaml', 'junit', 'github'] as const,
      summary: 'json or yaml for scripts; junit for CI test reports; github for GitHub Actions annotations.',
    })(),
    color: Flags.option({
      options: ['auto', 'always', 'never'] as const,
      default: 'auto' as const,
      summary: 'Colour the human output (auto: only on a terminal; NO_COLOR also turns it off).',
    })(),
    debug: Flags.boolean({summary: 'Show stack traces for errors.'}),
  }

  async run(): Promise<unknown> {
    const {argv, flags} = await this.parse(Wait)
    this.setupOutput(flags)
    const timeoutMs = parseDuration(flags.timeout, '--timeout')
    const graceMs = parseDuration(flags.grace, '--grace')
    const selector = flags.selector === undefined ? undefined : parseLabelSelector(flags.selector)
    if (flags.selector !== undefined && !selector)
      throw new UserError(`invalid label selector "${flags.selector}"; use a form like app=db,tier!=cache`)
    const names = argv as string[]
    if (flags.filename?.length && names.length) throw new UserError('name claims or pass manifests with -f, not both')
    // Read the manifests before connecting: a typo in a path is the user's to fix, not the cluster's.
    const {claimsFromManifests} = await import('../wait/manifests.js')
    const fromFiles = flags.filename?.length
      ? claimsFromManifests(manifestFiles(flags.filename, '-f', flags.recursive))
      : undefined

    const client = await this.connect(flags)
    const namespace = flags.namespace ?? client.namespace
    const targets: WaitTarget[] = []
    for (const arg of names) {
      const [word, ...rest] = arg.split('/')
      if (rest.length && STS_WORDS.includes(word.toLowerCase())) {
        const [ns, name] = rest.length === 2 ? rest : [namespace, rest[0]]
        let sts: unknown
        try {
          sts = await client.request('GET', pathOf(STATEFUL_SETS, {namespace: ns, name}))
        } catch (error) {
          if (error instanceof KubeError && error.status.code === 404)
            throw new UserError(`statefulset "${name}" not found in namespace "${ns}"`)
          throw error
        }
        for (const c of claimsFromManifests([{file: `statefulset/${name}`, text: JSON.stringify(sts)}]))
          targets.push({kind: 'claim', namespace: ns, name: c.name})
        continue
      }
      const t = parseObjectArg(arg, {pods: true, usage: 'NAME, NAMESPACE/NAME, pod/NAME or sts/NAME'})
      targets.push({...t, namespace: t.namespace ?? namespace})
    }
    for (const c of fromFiles ?? []) {
      // Annotations resolve paths from the repository root (the job's working directory).
      const rel = isAbsolute(c.source.file) ? relative(process.cwd(), c.source.file) : c.source.file
      const file = rel.startsWith('..') ? c.source.file : rel
      targets.push({kind: 'claim', namespace: c.namespace ?? namespace, name: c.name, source: {...c.source, file}})
    }
    if (fromFiles && fromFiles.length === 0)
      this.warn2('the manifests create no PersistentVolumeClaims; nothing to wait for')

    const nss = new Set(targets.map((t) => t.namespace))
    const allNs = flags['all-namespaces'] || nss.size > 1 || (nss.size === 1 && !nss.has(namespace))
    const scope =
      targets.length || fromFiles ? undefined : {namespace: flags['all-namespaces'] ? undefined : namespace, selector}

    const [{evaluate}, {runWait}, {startLiveWatch}, out] = await Promise.all([
      import('../wait/evaluate.js'),
      import('../wait/loop.js'),
      import('../snapshot/liveWatch.js'),
      import('../output/renderWait.js'),
    ])
    const spec = {targets, scope, for: flags.for, graceMs, failAfterRetries: flags['fail-after-retries']}
    const live = process.stderr.isTTY && !flags.output
    let shown = 0
    const outcome = await runWait({
      start: (onChange, onError) =>
        startLiveWatch(
          client,
          {namespace: allNs || (scope && !scope.namespace) ? undefined : namespace},
          onChange,
          onError,
        ),
      evaluate: (snap, now) => {
        const claims = evaluate(snap, spec, now)
        if (scope && claims.length === 0)
          throw new UserError(
            `no claims ${selector ? `match ${flags.selector} ` : ''}${scope.namespace ? `in namespace "${scope.namespace}"` : 'in any namespace'}; nothing to wait for`,
          )
        return claims
      },
      timeoutMs,
      onProgress: live
        ? (claims, ms) => {
            const cols = process.stderr.columns || 80
            // A line wider than the terminal wraps, and the cursor-up count would be wrong: cut it (plain).
            const lines = out
              .progressLines(claims, ms, this.chalk)
              .map((l) => (stripAnsi(l).length < cols ? l : `${stripAnsi(l).slice(0, cols - 2)}…`))
            // Rewrite the previous status in place: up, clear, print.
            process.stderr.write(`${shown ? `\u001B[${shown}A` : ''}${lines.map((l) => `\u001B[2K${l}\n`).join('')}`)
            shown = lines.length
          }
        : undefined,
    })
    if (shown) process.stderr.write(`\u001B[${shown}A\u001B[J`)

    if (flags.output === 'json' || flags.output === 'yaml') {
      const {serialize} = await import('../output/serialize.js')
      this.print(serialize(out.waitDocument(outcome), flags.output))
    } else if (flags.output === 'junit' || flags.output === 'github') {
      const [{casesFromWait}, {renderJunit}, {renderGithub}] = await Promise.all([
        import('../output/ciCases.js'),
        import('../output/junit.js'),
        import('../output/github.js'),
      ])
      const cases = casesFromWait(outcome)
      const text =
        flags.output === 'junit' ? renderJunit('pv-doctor wait', cases, outcome.elapsedMs / 1000) : renderGithub(cases)
      if (text) process.stdout.write(text)
      if (outcome.result !== 'done') process.stderr.write(out.renderWait(outcome, this.chalk))
    } else {
      this.print(out.renderWait(outcome, this.chalk))
    }
    process.exitCode = {done: 0, failed: 1, timeout: 3}[outcome.result]
    return outcome
  }
}
