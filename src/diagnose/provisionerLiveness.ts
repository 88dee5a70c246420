/**
 * Is an external provisioner running? Its leader-election Lease and the events it writes are the
 * only signs of life the API shows (a CSIDriver object only says a node plugin registered once).
 */
import type {CoreV1Event, V1Lease} from '@kubernetes/client-node'
import {eventSource, eventTime} from '../snapshot/events.js'
import type {Snapshot} from '../snapshot/types.js'
import {snapshotNow, timeOf} from '../snapshot/time.js'

/**
 * Slack on top of the Lease's own leaseDurationSeconds before it counts as abandoned: renewTime
 * is written with the holder's clock and read against ours (or the snapshot's), so allow for skew
 * and one missed renewal (csi-lib-utils renews every 5 s, lease 15 s by default).
 */
export const LEASE_GRACE_MS = 30_000

/**
 * The Lease name an external-provisioner elects its leader with: csi-provisioner.go passes
 * strings.Replace(provisionerName, "/", "-", -1) to RunWithLeaderElection, and csi-lib-utils
 * leaderelection Run() uses sanitizeName(lockName) ([^a-zA-Z0-9-] → "-", a trailing "-" gets "X").
 * The namespace is --leader-election-namespace, else the pod's own (POD_NAMESPACE / service
 * account), else "default": so pv-doctor looks in every namespace.
 */
export function provisionerLeaseName(provisioner: string): string {
  const name = provisioner.replaceAll('/', '-').replace(/[^a-zA-Z0-9-]/g, '-')
  return name.endsWith('-') ? `${name}X` : name
}

/** An event the provisioner wrote: its recorder's component is `<provisioner>_<identity>` (sig-storage-lib-external-provisioner). */
export function fromProvisioner(e: CoreV1Event, provisioner: string): boolean {
  const src = eventSource(e)
  return (
    src !== 'persistentvolume-controller' &&
    src !== '' &&
    (src === provisioner || src.startsWith(`${provisioner}_`) || src.includes(provisioner))
  )
}

export interface Liveness {
  /** down: the Lease shows no leader; alive: a leader renews it; unknown: no Lease to judge by. */
  state: 'alive' | 'down' | 'unknown'
  /** One line on the Lease, or why there is none to read. */
  lease?: string
  /** The newest event the provisioner wrote about any claim (ms), 0 when none. */
  lastEvent: number
}

function describeAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`
  if (ms < 2 * 3600_000) return `${Math.round(ms / 60_000)} min`
  return `${Math.round(ms / 3600_000)} h`
}

/** The Lease the provisioner holds (the freshest, if several namespaces have one of that name). */
function leaseOf(s: Snapshot, name: string): V1Lease | undefined {
  let best: V1Lease | undefined
  for (const l of s.leases) {
    if (l.metadata?.name !== name) continue
    if (!best || timeOf(l.spec?.renewTime as unknown as string) > timeOf(best.spec?.renewTime as unknown as string))
      best = l
  }
  return best
}

const lastEvents = new WeakMap<Snapshot, Map<string, number>>()

/** The newest claim event the provisioner wrote (ms), 0 when none: one scan of the events per provisioner and snapshot. */
function lastEventOf(provisioner: string, s: Snapshot): number {
  let m = lastEvents.get(s)
  if (!m) lastEvents.set(s, (m = new Map()))
  let last = m.get(provisioner)
  if (last === undefined) {
    last = 0
    for (const e of s.events) {
      if (e.involvedObject?.kind === 'PersistentVolumeClaim' && fromProvisioner(e, provisioner))
        last = Math.max(last, eventTime(e))
    }
    m.set(provisioner, last)
  }
  return last
}

/**
 * The provisioner's liveness at the snapshot's time. A Lease without a holder (released) or not
 * renewed for leaseDurationSeconds + LEASE_GRACE_MS means no replica is leading, so no claim is
 * provisioned (client-go leaderelection: a candidate may take the lock only after that long).
 */
export function provisionerLiveness(provisioner: string, s: Snapshot): Liveness {
  const lastEvent = lastEventOf(provisioner, s)
  const name = provisionerLeaseName(provisioner)
  const skipped = s.skipped.find((x) => x.resource === 'leases')
  if (skipped) return {state: 'unknown', lease: `Leases could not be read (${skipped.reason})`, lastEvent}
  const lease = leaseOf(s, name)
  // A kubectl dump (no takenAt) rarely holds Leases: their absence says nothing there.
  if (!lease && !s.takenAt && s.leases.length === 0)
    return {state: 'unknown', lease: 'the input holds no Leases', lastEvent}
  if (!lease)
    return {
      state: 'unknown',
      lease: `no Lease "${name}" in any namespace: the provisioner runs without leader election (--leader-election=false) or is not running`,
      lastEvent,
    }
  const where = `Lease ${lease.metadata?.namespace}/${name}`
  const holder = lease.spec?.holderIdentity ?? ''
  const renewed = timeOf(lease.spec?.renewTime as unknown as string)
  const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000
  const now = snapshotNow(s)
  if (!holder) return {state: 'down', lease: `${where} has no holder (released by the last leader)`, lastEvent}
  if (renewed <= 0) return {state: 'unknown', lease: `${where} is held by ${holder} but has no renewTime`, lastEvent}
  const age = Math.max(0, now - renewed)
  const line = `${where}: held by ${holder}, last renewed ${describeAge(age)} before the snapshot (leaseDurationSeconds ${durationMs / 1000})`
  return {state: age > durationMs + LEASE_GRACE_MS ? 'down' : 'alive', lease: line, lastEvent}
}
