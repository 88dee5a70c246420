/**
 * What differs between the Kubernetes minors pv-doctor supports (1.30–1.36), each checked in
 * upstream's source at the versions named (k8s.io/kubernetes and k8s.io/component-helpers
 * modules): the rules and texts of the cluster's version, chosen once per snapshot.
 */
import type {V1Taint} from '@kubernetes/client-node'

export interface KubeVersion {
  minor: number
  /** Unknown when only a minor was given (`--kube-version 1.32`): the latest patch is assumed. */
  patch: number
  text: string
}

export const OLDEST_MINOR = 30
export const NEWEST_MINOR = 36
export const NEWEST: KubeVersion = {minor: NEWEST_MINOR, patch: Number.MAX_SAFE_INTEGER, text: `v1.${NEWEST_MINOR}`}

/** `v1.33.2`, `1.33`, `v1.31.4-eks-…`, `v1.32.3+k3s1`; undefined when it is not a 1.x version. */
export function parseKubeVersion(s: string | undefined): KubeVersion | undefined {
  const m = /^v?1\.(\d+)(?:\.(\d+))?(?:[-+].*)?$/.exec((s ?? '').trim())
  if (!m) return undefined
  return {minor: Number(m[1]), patch: m[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[2]), text: s!.trim()}
}

export function isSupported(v: KubeVersion): boolean {
  return v.minor >= OLDEST_MINOR && v.minor <= NEWEST_MINOR
}

/**
 * How FindMatchingVolume treats volumeAttributesClassName (component-helpers pv_helpers.go):
 * - ignore: 1.30 — not looked at (the check came in 1.31);
 * - gateOff: 1.31–1.33, VolumeAttributesClass beta and off by default — every PV with a class is
 *   skipped, and a claim with one is an error ("unsupported volumeAttributesClassName is set on
 *   claim … when the feature-gate VolumeAttributesClass is disabled"), so it stays Pending;
 * - strict: 1.34+, GA and on — the claim's and the PV's class must be equal ("" when unset).
 */
export type VacMode = 'ignore' | 'gateOff' | 'strict'

export interface VersionRules {
  version: KubeVersion
  vac: VacMode
  /** volumebinding ErrReasonNodeConflict. */
  nodeConflictReason: string
  /** tainttoleration's Filter reason for the first untolerated taint. */
  taintReason(t: V1Taint): string
  /** In-tree provisioner names whose plugin still provisions itself (not removed, not migrated). */
  inTreeProvisioners: ReadonlySet<string>
  /** RecoverVolumeExpansionFailure (KEP-1790): a claim's request may be lowered back, to above status.capacity. */
  recoverExpansion: boolean
  /**
   * How FitError counts the nodes a PreFilterResult leaves out (schedule_one.go
   * findNodesThatFitPod): `reason(plugins)` is their status, `counted` whether FitError.Error's
   * histogram includes them.
   */
  preFilterAbsent: {reason(plugins: readonly string[]): string; counted: boolean}
}

export function rulesFor(v: KubeVersion = NEWEST): VersionRules {
  return {
    version: v,
    vac: v.minor <= 30 ? 'ignore' : v.minor <= 33 ? 'gateOff' : 'strict',
    // PR #129887 (v1.33.0): "node(s) had volume node affinity conflict" before.
    nodeConflictReason:
      v.minor <= 32
        ? 'node(s) had volume node affinity conflict'
        : "node(s) didn't match PersistentVolume's node affinity",
    // PR #134740 (v1.35.0, back-ported to v1.34.2; v1.34.0 and v1.32.13 still name the taint).
    taintReason:
      v.minor >= 35 || (v.minor === 34 && v.patch >= 2)
        ? () => 'node(s) had untolerated taint(s)'
        : (t) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
    // 1.30: Portworx provisions in-tree (CSIMigrationPortworx off) and RBD still exists; from 1.31
    // Portworx is migrated to pxd.portworx.com and RBD (with CephFS) is removed.
    inTreeProvisioners: new Set(v.minor <= 30 ? ['kubernetes.io/portworx-volume', 'kubernetes.io/rbd'] : []),
    // RecoverVolumeExpansionFailure: beta and on by default from 1.32, GA in 1.34.
    recoverExpansion: v.minor >= 32,
    preFilterAbsent: preFilterAbsent(v),
  }
}

/**
 * The nodes outside a PreFilterResult, in schedule_one.go findNodesThatFitPod:
 * - 1.30.0–1.30.1: each gets the status "node is filtered out by the prefilter result" (#119779);
 * - 1.30.2–1.31: only the named nodes are looked at and the others get no status, so FitError's
 *   counts add up to fewer than N (#124753 and its back-port; checked at v1.30.2 and v1.31.0);
 *   pv-doctor still shows the 1.30.0 text on those nodes, outside the summary;
 * - 1.32+: NodeToStatus.SetAbsentNodesStatus gives them all "node(s) didn't satisfy plugin(s)
 *   [<the plugins that returned node names, sorted>]" and FitError.Error counts them as
 *   NumAllNodes minus the nodes with a status of their own (#126022; checked at v1.32.13,
 *   v1.34.4, v1.36.3).
 */
function preFilterAbsent(v: KubeVersion): VersionRules['preFilterAbsent'] {
  if (v.minor >= 32)
    return {reason: (plugins) => `node(s) didn't satisfy plugin(s) [${[...plugins].sort().join(' ')}]`, counted: true}
  const reason = () => 'node is filtered out by the prefilter result'
  return {reason, counted: v.minor === 30 && v.patch <= 1}
}
