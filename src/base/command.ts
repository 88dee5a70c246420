/**
 * The base of every command. Commands stay thin: parse flags, load a snapshot (live or from
 * files), call pure functions, render. What a run holds lives in Session (base/session.ts), which
 * bin/'s fast path for `explain` uses without oclif's Command.
 */
import {Command} from '@oclif/core/command'
import type * as Interfaces from '@oclif/core/interfaces'
import type {ChalkInstance} from 'chalk'
import type {ColorMode} from './color.js'
import type {ClusterFlagValues} from './flags.js'
import {Session} from './session.js'
import type {KubeClient} from '../kube/client.js'
import type {Planner} from '../snapshot/plannedSnapshot.js'
import type {ResourceName, Snapshot} from '../snapshot/types.js'

export {type ClusterFlagValues, clusterFlags, outputFlags} from './flags.js'

export abstract class BaseCommand extends Command {
  protected session = new Session()

  protected get chalk(): ChalkInstance {
    return this.session.chalk
  }

  protected setupOutput(flags: {color?: ColorMode; debug?: boolean; output?: string}): void {
    this.session.setupOutput(flags)
  }

  /** Reads --from-file inputs into one snapshot. */
  protected readSnapshotFiles(files: string[]): Promise<Snapshot> {
    return this.session.readSnapshotFiles(files)
  }

  protected connect(flags: ClusterFlagValues): Promise<KubeClient> {
    return this.session.connect(flags)
  }

  /** Loads the snapshot from files, or from the cluster for the given scope. */
  protected loadSnapshot(
    flags: ClusterFlagValues & {'from-file'?: string[]; namespace?: string},
    allNamespaces: boolean,
    only?: ReadonlySet<ResourceName>,
    plan?: (namespace: string) => Promise<Planner>,
  ): Promise<{snapshot: Snapshot; namespace: string; client?: KubeClient}> {
    return this.session.loadSnapshot(flags, allNamespaces, only, plan)
  }

  protected print(text: string): void {
    this.session.print(text)
  }

  protected warn2(text: string): void {
    this.session.warn2(text)
  }

  /** One line on stderr, the right exit code, no stack trace (unless --debug). */
  protected async catch(err: Interfaces.CommandError): Promise<unknown> {
    const code = this.session.reportError(err)
    if (code === undefined) throw err
    return this.exit(code)
  }
}
