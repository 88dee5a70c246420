/** One translated upstream test case: plain API objects in, upstream's asserted outcome. */
import type {V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import type {Snapshot} from '../../src/snapshot/types.js'

/** The snapshot parts a case sets; every other kind is empty. */
export type World = Partial<Omit<Snapshot, 'skipped'>>

/**
 * What upstream asserts about a claim after the controller has acted: Bound to a PV, left
 * Pending (optionally with the cause pv-doctor must name, from upstream's event), or Lost.
 */
export type ClaimOutcome =
  | {phase: 'Bound'; volume: string | string[]}
  | {phase: 'Pending'; cause?: string}
  | {phase: 'Lost'}

export type Check =
  /** syncClaim: the claim's fate, through the engine's diagnosis (explain). */
  | {kind: 'claim'; world: World; claim: string; expect: ClaimOutcome}
  /** The class the controller matches the claim with (the retroactive default class assignment). */
  | {kind: 'effectiveClass'; world: World; claim: string; expect: string}
  /** IsDelayBindingMode: does the claim's class wait for the first consumer? */
  | {kind: 'delayBinding'; world: World; claim: V1PersistentVolumeClaim; expect: boolean}
  /** syncVolume: the PV's phase once the controller has synced it. */
  | {kind: 'volume'; world: World; pv: string; expect: {phase: string | string[]}}
  /** index.go findBestMatchForClaim: the PV the controller picks, by name, or null. */
  | {
      kind: 'controllerMatch'
      pvs: V1PersistentVolume[]
      claim: V1PersistentVolumeClaim
      delayBinding?: boolean
      expect: string | null
    }
  /** component-helpers FindMatchingVolume on a node: the PV picked, by uid, or null; error when upstream returns one. */
  | {
      kind: 'nodeMatch'
      pvs: V1PersistentVolume[]
      claim: V1PersistentVolumeClaim
      node: V1Node
      excluded?: string[]
      expect: string | null | 'error'
    }
  /** One predicate on one PV/claim pair: does this check fail? */
  | {
      kind: 'predicate'
      predicate: 'volumeMode' | 'accessModes' | 'satisfy'
      pv: V1PersistentVolume
      claim: V1PersistentVolumeClaim
      expectMismatch: boolean
    }
  /** volumebinding FindPodVolumes for the pod on node1. */
  | {
      kind: 'podVolumes'
      world: World
      pod: V1Pod
      expect: {
        error?: true
        preFilter?: string
        reasons?: string[]
        bindings?: Record<string, string>
        provisions?: string[]
      }
    }

export interface ConformanceCase {
  /** Upstream file and test function, e.g. `pkg/controller/volume/persistentvolume/binder_test.go TestSync`. */
  source: string
  /** Upstream's case name, verbatim (subtest variants in brackets). */
  name: string
  /** Why the fixture asserts the steady state rather than upstream's single sync pass. */
  steadyState?: string
  /** Kubernetes minor versions the case applies to (default: all). */
  versions?: string[]
  check: Check
}
