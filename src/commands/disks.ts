import {disksExitCode} from '../base/exitCodes.js'
import {terminalWidth} from '../base/terminal.js'
import {BaseCommand, clusterFlags, outputFlags} from '../base/command.js'
import {minSizeBytes, probeFlags, probeSource, progress} from '../base/probeFlags.js'
import {parseDuration} from '../base/duration.js'
import {type ClusterObjects, fromLists, readClusterObjects} from '../disks/clusterObjects.js'
import {type Collected, collect} from '../disks/collect.js'
import {assessResults, diskReport} from '../disks/diskReport.js'
import {interruptedError} from '../disks/probePods.js'
import {renderDisks} from '../output/renderDisks.js'
import {UserError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {serialize} from '../output/serialize.js'

export default class Disks extends BaseCommand {
  static summary = 'List the disks on each node, and say which may become local PVs and why the others may not.'

  static description =
    `Runs a read-only probe on every selected node, in a short-lived pod pinned to it (read-only host mounts of /dev, /sys and /run; host network and PID namespaces to read the host's mount table; tolerates every taint). The probe reads each device itself (libblkid low-level probing), not udev's cache, which can be stale. The pods are always deleted afterwards, also on Ctrl-C and timeout.

A disk is ELIGIBLE only when nothing shows that it holds or serves anything, also past its start: signatures at old partition starts that \`wipefs -a\` or zeroing the first MiB left behind, a backup GPT, and an exclusive hold by the kernel. Otherwise every reason is listed, with stable codes: mounted, swap, partitioned, has-holders, busy, has-signature:<type>, remnant-signature:<type>@<offset>, backup-partition-table, read-only, hidden, removable, rom, virtual, too-small, system-disk, no-stable-id, in-use-by-pv, unreadable.

pv-doctor never partitions, formats or wipes a disk.

Where pods cannot run, run the probe by hand on the node (\`NODE_NAME=<node> sh scripts/probe.sh > node.json\`, as root) and pass the files with --from-report.

Exit status: 0 when every node answered, 1 when some node could not be probed (the others are still reported), 2 when pv-doctor could not do its job. See docs/disks.md.`

  static examples = [
    {description: 'Every disk of every node', command: '<%= config.bin %> disks'},
    {
      description: 'Two nodes, with identities and fingerprints',
      command: '<%= config.bin %> disks --node worker-1 --node worker-2 -o wide',
    },
    {
      description: 'Nodes with a label, as JSON for a script',
      command: '<%= config.bin %> disks -l storage=local -o json',
    },
    {description: 'The machine you are logged into (as root)', command: 'sudo kubectl pv-doctor disks --local'},
    {
      description: 'Where pods cannot run: probe by hand, then read the reports',
      command: 'NODE_NAME=worker-1 sh probe.sh > worker-1.json &&\n<%= config.bin %> disks --from-report worker-1.json',
    },
  ]

  static flags = {
    ...clusterFlags,
    ...outputFlags,
    ...probeFlags,
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Disks)
    this.setupOutput(flags)
    const timeoutMs = parseDuration(flags.timeout, '--timeout')
    const minSize = minSizeBytes(flags['min-size'])
    const offline = Boolean(flags['from-file']?.length)
    const needsPods = !flags.local && !flags['from-report']?.length
    if (offline && needsPods)
      throw new UserError('--from-file gives no way to reach the nodes; add --local or --from-report')

    let client: KubeClient | undefined
    let objects: ClusterObjects | undefined
    const probeAll = async (): Promise<Collected> => {
      const bar = progress(1)
      try {
        return await collect(client, {
          source: probeSource(flags, client),
          nodeNames: flags.node ?? [],
          nodeSelector: flags.selector,
          timeoutMs,
          onProgress: (d, t) => bar.update(d, t),
        })
      } finally {
        bar.end()
      }
    }
    let collected: Collected
    if (offline) {
      const snap = await this.readSnapshotFiles(flags['from-file']!)
      objects = fromLists(snap.pvs, snap.nodes, snap.storageClasses)
      collected = await probeAll()
    } else if (needsPods) {
      client = await this.connect(flags)
      objects = await readClusterObjects(client)
      collected = await probeAll()
    } else {
      // Reports and --local work without a cluster (read them first: their errors come first);
      // with one, in-use-by-pv is checked too.
      collected = await probeAll()
      try {
        client = await this.connect(flags)
        objects = await readClusterObjects(client)
      } catch (error) {
        this.warn2(
          `cannot read PersistentVolumes (${(error as Error).message.split('\n')[0]}); in-use-by-pv was not checked`,
        )
      }
    }
    for (const pod of collected.leftovers)
      this.warn2(`could not delete probe pod ${pod}; delete it with kubectl delete pod`)
    if (collected.interrupted) throw interruptedError()

    const report = diskReport(
      assessResults(collected.results, {
        includeVirtual: flags['include-virtual'],
        minSizeBytes: minSize,
        pvs: objects?.pvs,
        nodes: objects?.nodes,
      }),
    )
    if (flags.output === 'json' || flags.output === 'yaml') this.print(serialize(report, flags.output))
    else this.print(renderDisks(report, this.chalk, {wide: flags.output === 'wide', width: terminalWidth()}))
    process.exitCode = disksExitCode(report)
    return report
  }
}
