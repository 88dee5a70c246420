import * as Flags from '@oclif/core/flags'
import {snapshotExitCode} from '../base/exitCodes.js'
import {BaseCommand, clusterFlags, outputFlags} from '../base/command.js'
import {UserError} from '../errors.js'
import {serialize} from '../output/serialize.js'
import {toSnapshotDocument} from '../snapshot/parseSnapshot.js'

export default class Snapshot extends BaseCommand {
  static summary = 'Write what pv-doctor reads from the cluster to a file, for bug reports and offline runs.'

  static description =
    `Prints one pv-doctor/v1 Snapshot document (PVCs, PVs, StorageClasses, Nodes, Pods, claim and pod Events, CSIDrivers, CSINodes, CSIStorageCapacities, VolumeAttributesClasses, VolumeAttachments, ResourceQuotas, LimitRanges). Anyone can then run \`explain --from-file\` on it without a cluster. Resources you may not read are listed under "skipped".

Secrets are never read. Pod specs and events are included as the API returns them: review the file before you share it.`

  static examples = [
    '<%= config.bin %> snapshot -A -o json > snapshot.json',
    '<%= config.bin %> explain -A --from-file snapshot.json',
  ]

  static flags = {
    ...clusterFlags,
    output: Flags.option({
      char: 'o',
      options: ['json', 'yaml'] as const,
      default: 'json' as const,
      summary: 'File format.',
    })(),
    'all-namespaces': Flags.boolean({char: 'A', summary: 'Read claims, pods and events of every namespace.'}),
    debug: outputFlags.debug,
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Snapshot)
    this.setupOutput({...flags, color: 'never'})
    if (flags['from-file']?.length)
      throw new UserError('snapshot reads a live cluster; --from-file makes no sense here')
    const {snapshot} = await this.loadSnapshot(flags, flags['all-namespaces'])
    for (const s of snapshot.skipped)
      this.warn2(`could not read ${s.resource} (${s.reason}); it is left out of the snapshot`)
    const doc = toSnapshotDocument(snapshot)
    this.print(serialize(doc, flags.output))
    process.exitCode = snapshotExitCode()
    return doc
  }
}
