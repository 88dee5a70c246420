/**
 * The conformance suite's only coupling to pv-doctor's module layout: every engine entry point
 * the fixtures exercise is imported here and nowhere else under test/conformance/.
 */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {diagnose} from '../../src/diagnose/diagnose.js'
import {buildWorld} from '../../src/binding/world.js'
import {analysePod, claimOutcomeList} from '../../src/binding/consumers.js'
import {controllerPick, VolumeIndex} from '../../src/binding/volumeIndex.js'
import {effectiveClaim} from '../../src/binding/effectiveClaim.js'
import {claimClass, isDelayBinding} from '../../src/binding/storageClass.js'
import {findMatchingVolume, volumeMismatches} from '../../src/binding/matchVolume.js'
import {emptySnapshot, type Snapshot} from '../../src/snapshot/types.js'
import {parseKubeVersion, rulesFor} from '../../src/binding/kubeVersion.js'
import type {World} from './types.js'

/** A fixture holds every claim there is, like a snapshot of all namespaces, of a cluster at `version`. */
export function snapshotOf(w: World, version: string): Snapshot {
  return {...emptySnapshot(), allNamespaces: true, serverVersion: version, ...w}
}

const vacOf = (version: string) => rulesFor(parseKubeVersion(version)).vac

/** explain for one claim: its cause and the PV the engine says it will be (or is) bound to. */
export function explainClaim(
  w: World,
  key: string,
  version: string,
): {cause: string; wouldBind: string | null; ties: string[]; message: string} {
  const [namespace, name] = key.split('/')
  const d = diagnose(snapshotOf(w, version), {targets: [{kind: 'claim', namespace, name}], all: true}).claims[0]
  return {cause: d.cause, wouldBind: d.wouldBind, ties: d.ties, message: d.message}
}

/** The storage class the engine matches the claim with (after the retroactive default class). */
export function effectiveClass(w: World, key: string, version: string): string {
  const world = buildWorld(snapshotOf(w, version))
  return claimClass(effectiveClaim(world.claims.get(key)!, world))
}

/** Whether the claim's class delays binding until a consumer is scheduled. */
export function delaysBinding(w: World, claim: V1PersistentVolumeClaim): boolean {
  return isDelayBinding(claim, w.storageClasses ?? [])
}

/** The phase the engine works with for a PV (the controller's view after it synced). */
export function volumePhase(w: World, name: string, version: string): string {
  const world = buildWorld(snapshotOf(w, version))
  const pv = world.index.byName.get(name)
  if (!pv) throw new Error(`no PV ${name} in the fixture`)
  return world.phaseOf(pv)
}

/** The PV controller's choice for a claim among these PVs (findBestMatchForClaim). */
export function controllerChoice(
  pvs: V1PersistentVolume[],
  claim: V1PersistentVolumeClaim,
  delayBinding: boolean,
  version: string,
): {winner: string | null; ties: string[]} {
  const world = buildWorld(snapshotOf({pvs, pvcs: [claim]}, version))
  const pick = controllerPick(claim, new VolumeIndex(pvs), delayBinding, world.phaseOf, vacOf(version))
  return {winner: pick.winner?.metadata?.name ?? null, ties: pick.ties.map((p) => p.metadata?.name ?? '')}
}

/** FindMatchingVolume on one node (the scheduler's path), answered by PV uid. */
export function nodeChoice(
  pvs: V1PersistentVolume[],
  claim: V1PersistentVolumeClaim,
  nodeLabels: Record<string, string>,
  excluded: string[],
  version: string,
): {best: string[]; error?: string} {
  const world = buildWorld(snapshotOf({pvs, pvcs: [claim]}, version))
  const {best, error} = findMatchingVolume(claim, pvs, {
    phaseOf: world.phaseOf,
    nodeLabels,
    excluded: new Set(excluded),
    delayBinding: true,
    vac: vacOf(version),
  })
  return {best: best.map((p) => p.metadata?.uid ?? p.metadata?.name ?? ''), error}
}

/** The mismatch codes of one PV for one claim (as the candidate table shows them). */
export function mismatches(pv: V1PersistentVolume, claim: V1PersistentVolumeClaim, version: string): string[] {
  return volumeMismatches(pv, claim, {phase: 'Available', vac: vacOf(version)})
}

/** VolumeBinding for a pod on one node: PreFilter error, reasons, static bindings, provisionings. */
export function podVolumes(
  w: World,
  podName: string,
  nodeName: string,
  version: string,
): {error?: string; reasons: string[]; bindings: Record<string, string>; provisions: string[]} {
  const world = buildWorld(snapshotOf(w, version))
  const pod = world.snapshot.pods.find((p) => p.metadata?.name === podName)!
  const a = analysePod(pod, world)
  if (a.preFilter) return {error: a.preFilter, reasons: [], bindings: {}, provisions: []}
  const verdict = a.nodes.find((n) => n.name === nodeName)
  const bindings: Record<string, string> = {}
  const provisions: string[] = []
  for (const key of a.claimOutcomes.keys()) {
    const o = claimOutcomeList(a, key).find((x) => x.node === nodeName)?.outcome
    if (o?.kind === 'static') bindings[key] = o.pv
    if (o?.kind === 'provision') provisions.push(key)
  }
  return {error: a.error, reasons: a.error ? [] : (verdict?.reasons ?? []), bindings, provisions}
}
