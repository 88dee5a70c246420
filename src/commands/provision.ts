import * as Flags from '@oclif/core/flags'
import {confirm} from '../base/args.js'
import {provisionExitCode} from '../base/exitCodes.js'
import {BaseCommand, clusterFlags, outputFlags} from '../base/command.js'
import {parseDuration} from '../base/duration.js'
import {minSizeBytes, probeFlags, probeSource, progress} from '../base/probeFlags.js'
import {createAll, manifestsFor, recheck} from '../disks/apply.js'
import {type ClusterObjects, fromLists, readClusterObjects} from '../disks/clusterObjects.js'
import {type Collected, type Source, collect} from '../disks/collect.js'
import {assessResults} from '../disks/diskReport.js'
import {DEFAULT_STORAGE_CLASS, planProvision} from '../disks/planProvision.js'
import {interruptedError} from '../disks/probePods.js'
import {renderProvisionPlan} from '../output/renderDisks.js'
import type {NodeDisks} from '../disks/types.js'
import {UserError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {serialize} from '../output/serialize.js'

export default class Provision extends BaseCommand {
  static summary = 'Create local PersistentVolumes from the eligible disks of your nodes, and their StorageClass.'

  static description =
    `Probes the selected nodes like \`disks\` and makes one local PV per ELIGIBLE disk: spec.local.path is the disk's stable /dev/disk/by-id link (never /dev/sdX), required node affinity on kubernetes.io/hostname, capacity = the disk's size, ReadWriteOnce, reclaim policy Retain and volumeMode Block by default. PV names are derived from node + disk, so re-running creates nothing new. Each PV records the node, the disk, a fingerprint of the probed state and the pv-doctor version in annotations.

The StorageClass (kubernetes.io/no-provisioner, WaitForFirstConsumer) is created if it does not exist; an existing class of that name that binds Immediately is refused, since claims would bind to local PVs before the scheduler picks a node.

Right before writing, every disk is probed again and refused if its fingerprint changed (saved --from-report plans too, unless --no-recheck).

pv-doctor never partitions, formats or wipes a disk. With --volume-mode Filesystem the kubelet formats each disk the first time a pod mounts it.

Without --dry-run it asks for confirmation on a terminal; elsewhere pass --yes.

Exit status: 0 when every PV planned exists now (or there was nothing new to do because earlier runs made them all), 1 when some node could not be probed, some disk was refused or a create failed, or no disk at all could be provisioned; 2 when nothing was written because pv-doctor could not do its job (bad flags, no --yes, a class that binds Immediately, unreachable API server). See docs/disks.md.`

  static examples = [
    {description: 'Preview the manifests for every node', command: '<%= config.bin %> provision --dry-run'},
    {
      description: 'Let the API server validate them without saving',
      command: '<%= config.bin %> provision --node worker-1 --dry-run=server -o yaml',
    },
    {
      description: 'Create them, in a script',
      command: '<%= config.bin %> provision -l storage=local --storage-class fast-local --yes',
    },
    {
      description: 'From reports made by hand on nodes where pods cannot run',
      command: '<%= config.bin %> provision --from-report worker-1.json --from-report worker-2.json --yes',
    },
    {
      description: 'Filesystem PVs (the kubelet formats each disk on first use)',
      command: '<%= config.bin %> provision --volume-mode Filesystem --fs-type xfs --dry-run',
    },
  ]

  static flags = {
    ...clusterFlags,
    ...outputFlags,
    ...probeFlags,
    'storage-class': Flags.string({
      summary: 'StorageClass of the PVs; created (no-provisioner, WaitForFirstConsumer) if missing.',
      default: DEFAULT_STORAGE_CLASS,
    }),
    'volume-mode': Flags.option({
      options: ['Block', 'Filesystem'] as const,
      summary: 'Block (default) hands pods the raw disk; Filesystem needs --fs-type.',
    })(),
    'fs-type': Flags.string({
      summary: 'Filesystem the kubelet makes on first use (implies --volume-mode Filesystem), e.g. ext4 or xfs.',
    }),
    'reclaim-policy': Flags.option({
      options: ['Retain', 'Delete'] as const,
      default: 'Retain' as const,
      summary: 'What happens to a PV released by its claim (nothing wipes the disk either way).',
    })(),
    'dry-run': Flags.option({
      options: ['none', 'client', 'server'] as const,
      default: 'none' as const,
      summary:
        'client: print the manifests; server: also have the API server validate them (dryRun=All). A bare --dry-run means client.',
    })(),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required when stdin is not a terminal).'}),
    'no-recheck': Flags.boolean({
      summary:
        'With --from-report: do not probe the nodes again before writing (warns; use only where pods cannot run).',
    }),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Provision)
    this.setupOutput(flags)
    const timeoutMs = parseDuration(flags.timeout, '--timeout')
    const minSize = minSizeBytes(flags['min-size'])
    const {volumeMode, fsType} = volumeModeOf(flags['volume-mode'], flags['fs-type'])
    const dryRun = flags['dry-run']
    const machine = flags.output === 'json' || flags.output === 'yaml' ? flags.output : undefined
    const fromReport = Boolean(flags['from-report']?.length)
    if (flags['no-recheck'] && !fromReport) throw new UserError('--no-recheck only applies to --from-report plans')
    const offline = Boolean(flags['from-file']?.length)
    if (offline && dryRun !== 'client')
      throw new UserError(
        '--from-file works offline, so only with --dry-run=client; drop --from-file to write to the cluster',
      )
    if (offline && !flags.local && !fromReport)
      throw new UserError('--from-file gives no way to reach the nodes; add --local or --from-report')
    if (dryRun === 'none' && !flags.yes && !process.stdin.isTTY) {
      throw new UserError(
        'refusing to create PVs without confirmation: stdin is not a terminal; pass --yes, or --dry-run to preview',
      )
    }

    let client: KubeClient | undefined
    let objects: ClusterObjects
    if (offline) {
      const snap = await this.readSnapshotFiles(flags['from-file']!)
      objects = fromLists(snap.pvs, snap.nodes, snap.storageClasses)
    } else {
      client = await this.connect(flags)
      objects = await readClusterObjects(client)
    }

    const source = probeSource(flags, client)
    const collected = await this.probe(client, source, flags.node ?? [], flags.selector, timeoutMs)
    const assess = (c: Collected): NodeDisks[] =>
      assessResults(c.results, {
        includeVirtual: flags['include-virtual'],
        minSizeBytes: minSize,
        pvs: objects.pvs,
        nodes: objects.nodes,
      })
    const nodes = assess(collected)
    let problems = 0
    for (const n of nodes) {
      if (n.error) {
        this.warn2(`node ${n.name}: ${n.error}`)
        problems++
      }
    }

    const plan = planProvision({
      nodes: nodes
        .filter((n) => !n.error)
        .map((n) => ({name: n.name, node: objects.nodes.get(n.name), disks: n.disks})),
      existingPVs: objects.pvs,
      existingClass: objects.storageClasses.find((sc) => sc.metadata?.name === flags['storage-class']),
      storageClass: flags['storage-class'],
      volumeMode,
      fsType,
      reclaimPolicy: flags['reclaim-policy'],
      toolVersion: this.config.version,
    })
    if (plan.blocker) throw new UserError(plan.blocker)
    for (const w of plan.warnings) this.warn2(w)
    problems += plan.items.filter((i) => i.action === 'conflict').length

    // Machine output and manifests own stdout; the human summary then goes to stderr.
    const toStdout = !machine && dryRun === 'none'
    const say = (text: string) =>
      toStdout ? this.print(text) : process.stderr.write(text.endsWith('\n') ? text : `${text}\n`)
    if (!machine || dryRun !== 'none') say(renderProvisionPlan(plan))

    let creates = plan.items.filter((i) => i.action === 'create')
    const existing = plan.items.filter((i) => i.action === 'exists').length
    const exit = () => {
      process.exitCode = provisionExitCode({problems, planned: creates.length + existing})
      return plan
    }
    if (creates.length === 0) {
      say(
        existing > 0
          ? `Nothing to do: every eligible disk already has its PV (${existing}).`
          : 'No eligible disk: nothing to provision. `kubectl pv-doctor disks` shows why each disk is refused.',
      )
      if (machine || dryRun !== 'none')
        this.print(serialize({apiVersion: 'v1', kind: 'List', items: []}, machine ?? 'yaml'))
      return exit()
    }

    if (dryRun === 'client') {
      this.print(serialize({apiVersion: 'v1', kind: 'List', items: manifestsFor(plan, creates)}, machine ?? 'yaml'))
      return exit()
    }
    if (dryRun === 'server') {
      const {created, failed} = await createAll(client!, manifestsFor(plan, creates), true)
      for (const f of failed) this.warn2(f)
      problems += failed.length
      this.print(serialize({apiVersion: 'v1', kind: 'List', items: created}, machine ?? 'yaml'))
      return exit()
    }

    if (!flags.yes) {
      const pvs = `${creates.length} PersistentVolume${creates.length === 1 ? '' : 's'}`
      const cls = plan.storageClass.action === 'create' ? ` and StorageClass ${plan.storageClass.name}` : ''
      const ok = await confirm(`Create ${pvs}${cls}? [y/N] `)
      if (!ok) throw new UserError('nothing created (not confirmed)', 1)
    }

    if (fromReport && flags['no-recheck']) {
      this.warn2(
        '--no-recheck: the disks were not probed again; a disk that changed since its report was saved would not be noticed',
      )
    } else {
      const againFrom = fromReport ? probeSource({...flags, 'from-report': undefined}, client) : source
      const checked = await recheck(
        creates,
        async (names) => assess(await this.probe(client, againFrom, names, undefined, timeoutMs)),
        fromReport,
      )
      for (const w of checked.warnings) this.warn2(w)
      problems += checked.refused
      creates = checked.ok
      if (creates.length === 0) {
        say('Nothing created: no planned disk passed the re-check.')
        if (machine) this.print(serialize({apiVersion: 'v1', kind: 'List', items: []}, machine))
        return exit()
      }
    }

    const {created, failed} = await createAll(client!, manifestsFor(plan, creates), false)
    for (const f of failed) this.warn2(f)
    problems += failed.length
    if (machine) this.print(serialize({apiVersion: 'v1', kind: 'List', items: created}, machine))
    else
      for (const m of created) {
        const kind = m.kind === 'StorageClass' ? 'storageclass.storage.k8s.io' : 'persistentvolume'
        this.print(`${kind}/${m.metadata?.name} created`)
      }
    return exit()
  }

  private async probe(
    client: KubeClient | undefined,
    source: Source,
    nodeNames: string[],
    selector: string | undefined,
    timeoutMs: number,
  ): Promise<Collected> {
    const bar = progress(1)
    let collected: Collected
    try {
      collected = await collect(client, {
        source,
        nodeNames,
        nodeSelector: selector,
        timeoutMs,
        onProgress: (d, t) => bar.update(d, t),
      })
    } finally {
      bar.end()
    }
    for (const pod of collected.leftovers)
      this.warn2(`could not delete probe pod ${pod}; delete it with kubectl delete pod`)
    if (collected.interrupted) throw interruptedError()
    return collected
  }
}

function volumeModeOf(
  mode: 'Block' | 'Filesystem' | undefined,
  fsType: string | undefined,
): {volumeMode: 'Block' | 'Filesystem'; fsType?: string} {
  if (fsType !== undefined && !/^[a-z0-9]+$/.test(fsType))
    throw new UserError(`invalid --fs-type "${fsType}"; use a filesystem name like ext4 or xfs`)
  if (mode === 'Block' && fsType)
    throw new UserError('--fs-type needs --volume-mode Filesystem; Block volumes have no filesystem')
  if (mode === 'Filesystem' && !fsType)
    throw new UserError(
      '--volume-mode Filesystem needs --fs-type (e.g. ext4 or xfs): the kubelet formats the disk with it on first use',
    )
  return fsType ? {volumeMode: 'Filesystem', fsType} : {volumeMode: 'Block'}
}
