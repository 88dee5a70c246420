/**
 * Which causes end a wait. One row per cause: `done` (the claim is usable), `fails` (only a
 * person's change can resolve it, so waiting longer is pointless), `waits` (something in the
 * cluster may still resolve it), or a rule that depends on the claim. docs/ci.md has the same
 * table; a test keeps the two in step.
 */
import type {Cause, ClaimDiagnosis} from '../diagnose/index.js'

export type ClaimVerdict = 'done' | 'failed' | 'waiting'
export type WaitFor = 'usable' | 'bound'

export interface ClaimFacts {
  for: WaitFor
  /** How long the claim has existed. */
  ageMs: number
  /** How long a silent provisioner or a missing pre-bound PV is given before the wait fails. */
  graceMs: number
  /** ProvisioningFailed events so far (the events' counts summed). */
  retries: number
  /** Fail once a provisioner has failed this many times; undefined = keep waiting. */
  failAfterRetries?: number
}

interface Row {
  ends: 'done' | 'fails' | 'waits' | 'depends'
  /** Only for `depends`. */
  decide?: (d: ClaimDiagnosis, f: ClaimFacts) => ClaimVerdict
}

/**
 * The provisioner's own word that retrying cannot help: the diagnosis's sub-reason `Infeasible`
 * (diagnose/provisioningFailure.ts), which sig-storage-lib-external-provisioner's "Volume
 * provisioning failed with infeasible error. Retries will be delayed." (gRPC InvalidArgument,
 * isInfeasibleError) maps to. The same classification the user reads, not a second reading of the text.
 */
const infeasible = (d: ClaimDiagnosis) => d.failure?.reason === 'Infeasible'

export const WAIT_TABLE: Record<Cause, Row> = {
  ClaimLost: {ends: 'fails'},
  ClaimTerminating: {ends: 'fails'},
  VolumeNodeAffinityConflict: {ends: 'fails'},
  // After binding (explain pod/NAME only): the cluster may still resolve each of these on its own.
  ReadWriteOncePodInUse: {ends: 'waits'},
  VolumeLimitExceeded: {ends: 'waits'},
  DriverNotOnNode: {ends: 'waits'},
  VolumeAttachedElsewhere: {ends: 'waits'},
  AttachFailed: {ends: 'waits'},
  AttacherNotResponding: {ends: 'waits'},
  AttachPending: {ends: 'waits'},
  MountFailed: {ends: 'waits'},
  VolumePermissionChangeSlow: {ends: 'waits'},
  MountInProgress: {ends: 'waits'},
  // A Bound claim being expanded is usable at its old size; `--for=bound` is met as well.
  ResizeFailed: {ends: 'done'},
  FileSystemResizePending: {ends: 'done'},
  ResizerNotResponding: {ends: 'done'},
  ResizeInProgress: {ends: 'done'},
  Bound: {ends: 'done'},
  // The PV may come in the same `kubectl apply`; past the grace period it needs a person.
  VolumeNotFound: {ends: 'depends', decide: (_d, f) => (f.ageMs >= f.graceMs ? 'failed' : 'waiting')},
  VolumeClaimedByOther: {ends: 'fails'},
  VolumeMismatch: {ends: 'fails'},
  BindPending: {ends: 'waits'},
  // The controller retries but the feature gate (or the claim) must change first.
  VolumeAttributesClassDisabled: {ends: 'fails'},
  // With no pod yet the claim is as ready as it can be: the scheduler binds it with the pod.
  WaitingForFirstConsumer: {ends: 'depends', decide: (_d, f) => (f.for === 'usable' ? 'done' : 'waiting')},
  ConsumerBypassedScheduler: {ends: 'fails'},
  // The scheduler retries; the pod's other claims, new nodes or an autoscaler may change the answer.
  ConsumerUnschedulable: {ends: 'waits'},
  // A static provisioner (local-static-provisioner) creates PVs asynchronously.
  NoVolumeOnFeasibleNodes: {ends: 'waits'},
  TopologyNotAllowed: {ends: 'fails'},
  // Drivers update CSIStorageCapacity as space frees up.
  InsufficientStorageCapacity: {ends: 'waits'},
  // A no-provisioner class may get its PV from a static provisioner; `storageClassName: ""` only by hand.
  NoMatchingVolume: {ends: 'depends', decide: (d) => (d.storageClass === '' ? 'failed' : 'waiting')},
  NoDefaultStorageClass: {ends: 'fails'},
  StorageClassNotFound: {ends: 'fails'},
  UnknownProvisioner: {ends: 'fails'},
  ProvisioningFailed: {
    ends: 'depends',
    decide: (d, f) =>
      infeasible(d) || (f.failAfterRetries !== undefined && f.retries >= f.failAfterRetries) ? 'failed' : 'waiting',
  },
  ProvisionerNotFound: {ends: 'depends', decide: (_d, f) => (f.ageMs >= f.graceMs ? 'failed' : 'waiting')},
  // Its Lease went stale, or it was silent past the 5-minute grace: someone has to start it.
  ProvisionerNotRunning: {ends: 'fails'},
  // Running but silent about this claim past the 5-minute grace: someone has to look at it.
  ProvisionerNotResponding: {ends: 'fails'},
  ProvisioningInProgress: {ends: 'waits'},
}

export function claimVerdict(d: ClaimDiagnosis, f: ClaimFacts): ClaimVerdict {
  const row = WAIT_TABLE[d.cause]
  if (row.ends === 'done') return f.for === 'bound' && d.phase !== 'Bound' ? 'waiting' : 'done'
  if (row.ends === 'fails') return 'failed'
  if (row.ends === 'waits') return 'waiting'
  return row.decide!(d, f)
}
