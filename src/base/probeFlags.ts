/** What `disks` and `provision` share on the command side: probe flags, their values, progress. */
import * as Flags from '@oclif/core/flags'
import {parseQuantity, toBytes} from '../binding/quantity.js'
import type {Source} from '../disks/collect.js'
import {DEFAULT_PROBE_IMAGE} from '../disks/probePods.js'
import {UserError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'

/** Flags `disks` and `provision` share: which nodes, and how to probe them. */
export const probeFlags = {
  node: Flags.string({summary: 'Only this node (repeatable).', multiple: true, helpGroup: 'PROBE'}),
  selector: Flags.string({
    char: 'l',
    summary: 'Only nodes whose labels match this selector (e.g. node-role.kubernetes.io/storage=).',
    helpGroup: 'PROBE',
  }),
  image: Flags.string({
    summary:
      'Image for the probe pods; it needs sh, coreutils, util-linux (wipefs, blkid, lsblk) and perl, as Debian and Ubuntu images have.',
    default: DEFAULT_PROBE_IMAGE,
    helpGroup: 'PROBE',
  }),
  timeout: Flags.string({
    summary: 'How long to wait for the probe pods (or the local probe).',
    default: '60s',
    helpGroup: 'PROBE',
  }),
  local: Flags.boolean({
    summary:
      'Probe this machine instead of running pods (run as root on the node; --node names it, default: the hostname).',
    exclusive: ['from-report'],
    helpGroup: 'PROBE',
  }),
  'from-report': Flags.string({
    summary: 'Use saved probe reports (`sh scripts/probe.sh > node.json`) instead of running pods. Repeatable.',
    multiple: true,
    helpGroup: 'PROBE',
  }),
  'include-virtual': Flags.boolean({
    summary:
      'Also offer loop, ram, zram, nbd, rbd, dm and md devices (labs and tests); those without a by-id link are named by kernel path.',
    helpGroup: 'PROBE',
  }),
  'min-size': Flags.string({summary: 'Smaller disks are not offered (too-small).', default: '1Gi', helpGroup: 'PROBE'}),
}

export interface ProbeFlagValues {
  node?: string[]
  selector?: string
  image: string
  timeout: string
  local: boolean
  'from-report'?: string[]
  'include-virtual': boolean
  'min-size': string
  namespace?: string
}

export function probeSource(flags: ProbeFlagValues, client: KubeClient | undefined): Source {
  if (flags['from-report']?.length) return {kind: 'files', files: flags['from-report']}
  if (flags.local) return {kind: 'local'}
  return {kind: 'pods', image: flags.image, namespace: flags.namespace ?? client?.namespace ?? 'default'}
}

export function minSizeBytes(text: string): number {
  const q = parseQuantity(text)
  if (q === undefined || q < 0n) throw new UserError(`invalid --min-size "${text}"; use a quantity like 1Gi or 500Mi`)
  return Number(toBytes(q))
}

/** Progress on stderr, only on a terminal: pipes and CI logs get no carriage returns. */
export function progress(total: number): {update(done: number, all: number): void; end(): void} {
  const tty = Boolean(process.stderr.isTTY)
  return {
    update(done, all) {
      if (tty) process.stderr.write(`\rprobing disks: ${done}/${all} nodes answered`)
    },
    end() {
      if (tty && total > 0) process.stderr.write('\r\x1b[K')
    },
  }
}
