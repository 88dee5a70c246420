import type {MismatchCode} from '../binding/matchVolume.js'
import type {NodeVerdict} from '../binding/consumers.js'
import type {Skipped} from '../snapshot/types.js'

export const CAUSES = {
  ClaimLost: 'error',
  ClaimTerminating: 'warning',
  Bound: 'ok',
  VolumeNotFound: 'error',
  VolumeClaimedByOther: 'error',
  VolumeMismatch: 'error',
  BindPending: 'info',
  WaitingForFirstConsumer: 'info',
  ConsumerBypassedScheduler: 'error',
  ConsumerUnschedulable: 'error',
  NoVolumeOnFeasibleNodes: 'error',
  TopologyNotAllowed: 'error',
  InsufficientStorageCapacity: 'error',
  NoMatchingVolume: 'error',
  NoDefaultStorageClass: 'error',
  StorageClassNotFound: 'error',
  UnknownProvisioner: 'error',
  ProvisioningFailed: 'error',
  ProvisionerNotFound: 'error',
  ProvisionerNotRunning: 'error',
  ProvisionerNotResponding: 'error',
  ProvisioningInProgress: 'info',
  VolumeNodeAffinityConflict: 'error',
  ReadWriteOncePodInUse: 'error',
  VolumeLimitExceeded: 'error',
  DriverNotOnNode: 'error',
  VolumeAttachedElsewhere: 'error',
  AttachFailed: 'error',
  AttacherNotResponding: 'error',
  AttachPending: 'info',
  MountFailed: 'error',
  VolumePermissionChangeSlow: 'warning',
  MountInProgress: 'info',
  ResizeFailed: 'error',
  FileSystemResizePending: 'warning',
  ResizerNotResponding: 'error',
  ResizeInProgress: 'info',
  VolumeAttributesClassDisabled: 'error',
} as const

export type Cause = keyof typeof CAUSES

/**
 * A PersistentVolume's causes (`explain pv/NAME`), in the order of PV_RULES in diagnosePv.ts and
 * of the PV table in docs/causes.md.
 */
export const PV_CAUSES = {
  VolumeProtected: 'warning',
  DeleterNotRunning: 'error',
  DeleteWaitsForDetach: 'warning',
  VolumeFailedDelete: 'error',
  VolumeFailed: 'error',
  VolumeClaimGone: 'warning',
  VolumeReleasedRetain: 'info',
  VolumeDeletePending: 'info',
  VolumeTerminating: 'warning',
  VolumeBound: 'ok',
  VolumeAvailable: 'ok',
} as const

export type PvCause = keyof typeof PV_CAUSES
export type Severity = 'ok' | 'info' | 'warning' | 'error'

export interface Candidate {
  name: string
  eligible: boolean
  mismatches: MismatchCode[]
  /** Every failing check in words and values, in upstream's order (the phase folded into the claimRef words). */
  whyNot: string[]
  capacity: string
  accessModes: string[]
  storageClass: string
  phase: string
  volumeMode: string
  claimRef: string | null
}

/** Unlisted PVs of the claim's class, by why they are not a candidate. */
export interface OmittedCandidates {
  /** Bound to another claim. */
  boundElsewhere: number
  /** Reserved (spec.claimRef) for another claim that has not bound yet. */
  reserved: number
  /** Released (or Failed) from an earlier claim. */
  released: number
  /** Free, but further from fitting than the listed ones. */
  furtherFromFitting: number
}

export type {NodeVerdict} from '../binding/consumers.js'

export interface Consumer {
  pod: string
  scheduled: boolean
  node?: string
  /** The scheduler-style summary, e.g. `0/4 nodes are available: ...`. */
  summary?: string
  nodes: NodeVerdict[]
}

/** A ProvisioningFailed explained: the sub-reason, the driver's gRPC code, what the provisioner does next. */
export interface ProvisioningFailureInfo {
  reason: string
  code?: string
  retry: string
}

export interface ClaimDiagnosis {
  namespace: string
  name: string
  phase: string
  storageClass: string | null
  request: string | null
  cause: Cause
  severity: Severity
  message: string
  evidence: string[]
  fix: string[]
  wouldBind: string | null
  ties: string[]
  candidates: Candidate[]
  /** How many more PVs were looked at but are not listed (far from fitting). */
  candidatesOmitted?: number
  /** The same, by why they are not a candidate; absent when none is omitted. */
  candidatesOmittedBy?: OmittedCandidates
  consumers: Consumer[]
  /** The pod the claim was followed through (pod/NAME, --pods): attach and mount are about it. */
  pod?: string
  /** ProvisioningFailed from an external provisioner: its sub-reason and retry behaviour. */
  failure?: ProvisioningFailureInfo
}

/**
 * One claim a workload uses (`explain sts/NAME`, `deploy/NAME`, `rs/NAME`): a StatefulSet's
 * volumeClaimTemplate for one ordinal; a pod template's persistentVolumeClaim volume (one claim
 * shared by every replica) or ephemeral volume (one claim per pod).
 */
export interface WorkloadClaim {
  /** `<template>-<statefulset>-<ordinal>`, the claimName, or `<pod>-<volume>` for an ephemeral volume */
  name: string
  /** The volumeClaimTemplate (StatefulSet) or the pod template's volume (Deployment, ReplicaSet) */
  template: string
  /** StatefulSet only. */
  ordinal?: number
  /** Deployment and ReplicaSet only: how the pod template asks for it. */
  source?: 'persistentVolumeClaim' | 'ephemeral'
  /** An ephemeral volume's claim: the pod it is made for. */
  pod?: string
  /**
   * present: exists (for a current replica); missing: should exist and does not; retained: a
   * StatefulSet's claim beyond the replicas; foreign: an ephemeral claim's name is taken by a claim
   * the pod does not own
   */
  state: 'present' | 'missing' | 'retained' | 'foreign'
  severity: Severity
  /** The claim's phase and cause, when it exists. */
  phase?: string
  cause?: string
  volume?: string
  /** For missing and retained claims: why, in a sentence. */
  why?: string
  evidence: string[]
}

/** A pod a Deployment or ReplicaSet owns, and what holds it (its claims followed through it). */
export interface WorkloadPod {
  name: string
  /** The ReplicaSet that owns it. */
  replicaSet: string
  /** A Deployment's pods: from its newest ReplicaSet (the rollout's target) or an older one. */
  revision?: 'new' | 'old'
  phase: string
  node?: string
  severity: Severity
  /** The worst verdict among its claims followed through it; absent when it is running. */
  cause?: string
  message?: string
}

export interface WorkloadDiagnosis {
  kind: 'StatefulSet' | 'Deployment' | 'ReplicaSet'
  namespace: string
  name: string
  replicas: number
  /** StatefulSet only: spec.persistentVolumeClaimRetentionPolicy with upstream's defaults (Retain, Retain). */
  retention?: {whenDeleted: string; whenScaled: string}
  severity: Severity
  message: string
  claims: WorkloadClaim[]
  /** Deployment and ReplicaSet: the pods they own. */
  pods?: WorkloadPod[]
  /** Deployment and ReplicaSet: why pods were not created (the ReplicaSets' FailedCreate), quoted. */
  evidence?: string[]
  fix: string[]
}

/** A VolumeFailedDelete explained: what refused the delete, the driver's gRPC code, what happens next. */
export interface DeleteFailureInfo {
  reason: string
  code?: string
  retry: string
}

/** `explain pv/NAME`: one PersistentVolume's state on its way to deletion or reuse. */
export interface VolumeDiagnosis {
  name: string
  /** status.phase, or `Terminating` when deletionTimestamp is set. */
  phase: string
  reclaimPolicy: string
  storageClass: string | null
  /** spec.claimRef as `namespace/name`, or null. */
  claim: string | null
  finalizers: string[]
  /** Who deletes the backing volume under reclaimPolicy Delete: an external provisioner's name or an in-tree plugin; null when nothing can. */
  deleter: string | null
  cause: PvCause
  severity: Severity
  message: string
  evidence: string[]
  fix: string[]
  /** Pods that use the PV's claim (and so keep it, and the PV, in use). */
  pods: string[]
  /** Only for VolumeFailedDelete. */
  failure?: DeleteFailureInfo
}

export interface Diagnosis {
  apiVersion: 'pv-doctor/v1'
  kind: 'Diagnosis'
  skipped: Skipped[]
  /** Workloads asked about (`sts/NAME`, `deploy/NAME`, `rs/NAME`): each with every claim it has or should have. */
  workloads?: WorkloadDiagnosis[]
  /** PersistentVolumes asked about (`pv/NAME`). */
  volumes?: VolumeDiagnosis[]
  claims: ClaimDiagnosis[]
}
