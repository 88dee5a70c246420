import {BaseCommand} from '../base/command.js'
import {explainArgs, explainFlags, runExplain} from '../base/explain.js'

// The arguments, flags and run live in base/explain.ts, which bin/'s fast path runs too.
export default class Explain extends BaseCommand {
  static summary =
    'Explain why PersistentVolumeClaims are Pending: the root cause, the evidence, every candidate PV, and the fix.'

  static description =
    `Reproduces what the PersistentVolume controller and the scheduler's VolumeBinding plugin will do with each claim: which PV they would bind, or the one reason they cannot, with a ✓/✗ per check for each candidate PV.

With no NAME, explains every claim in the namespace (or all namespaces with -A) that is not healthy; --all includes Bound ones.

Exit status: 0 when every claim reported is ok or info, 1 when any is a warning or error, 2 when pv-doctor could not do its job (bad flags, unreadable file, unreachable API server, claim not found).

Causes and the JSON contract are documented in docs/causes.md and docs/output.md.`

  static examples = [
    {description: 'Every unhealthy claim in the current namespace', command: '<%= config.bin %> explain'},
    {description: 'One claim, in another namespace', command: '<%= config.bin %> explain -n shop data-db-0'},
    {
      description: 'All claims a pod uses, and why the pod cannot be placed',
      command: '<%= config.bin %> explain -n shop pod/db-0',
    },
    {
      description: 'Every pending pod whose claims are Bound: what holds its volumes (attach, mount)',
      command: '<%= config.bin %> explain -A --pods',
    },
    {
      description: "Every claim of a StatefulSet's replicas, and why a missing one was not created",
      command: '<%= config.bin %> explain -n shop sts/db',
    },
    {
      description: "Every claim a Deployment's pods use, its pods (old and new ReplicaSet) and what holds each",
      command: '<%= config.bin %> explain -n shop deploy/web',
    },
    {
      description: 'Why a PersistentVolume is stuck Terminating, Released or Failed, and what frees it',
      command: '<%= config.bin %> explain pv/pvc-0b7c5e2a',
    },
    {
      description: 'Offline, from a dump taken with kubectl (no cluster needed)',
      command:
        'kubectl get pv,pvc,sc,nodes,pods,events,csinodes,volumeattachments -A -o json > dump.json &&\n<%= config.bin %> explain -A --from-file dump.json',
    },
    {
      description: 'In CI: fail the step with a machine-readable reason',
      command: '<%= config.bin %> explain -n shop -o json > diagnosis.json',
    },
    {
      description: 'In CI: a JUnit report (GitLab, Jenkins)',
      command: '<%= config.bin %> explain -n shop -o junit > pv-doctor.xml',
    },
    {
      description: 'In CI: GitHub Actions annotations on the run',
      command: '<%= config.bin %> explain -n shop -o github',
    },
  ]

  static strict = false

  static args = explainArgs

  static flags = explainFlags

  async run(): Promise<unknown> {
    const {argv, flags} = await this.parse(Explain)
    return runExplain(this.session, argv, flags)
  }
}
