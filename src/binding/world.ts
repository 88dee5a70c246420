/** Indexes over a snapshot, built once so each claim's diagnosis is cheap. */
import type {V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {type ClaimLookup, effectivePhase} from './matchVolume.js'
import type {SchedulingWorld} from './scheduling.js'
import {VolumeIndex} from './volumeIndex.js'
import {NEWEST, parseKubeVersion, rulesFor} from './kubeVersion.js'
import type {ResourceName, Snapshot} from '../snapshot/types.js'
import {EventIndex} from '../snapshot/events.js'

export interface World extends SchedulingWorld {
  snapshot: Snapshot
  events: EventIndex
  claims: Map<string, V1PersistentVolumeClaim>
  nodes: readonly V1Node[]
  /** Pods that reference a claim, by `namespace/claim`. */
  podsByClaim: Map<string, V1Pod[]>
  pods: Map<string, V1Pod>
  skipped: ReadonlySet<ResourceName>
}

/** The claim names a pod uses: persistentVolumeClaim volumes and generic ephemeral ones (`<pod>-<volume>`). */
export function podClaimNames(pod: V1Pod): {name: string; ephemeral: boolean}[] {
  const out: {name: string; ephemeral: boolean}[] = []
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push({name: v.persistentVolumeClaim.claimName, ephemeral: false})
    else if (v.ephemeral) out.push({name: `${pod.metadata?.name}-${v.name}`, ephemeral: true})
  }
  return out
}

export function buildWorld(snapshot: Snapshot): World {
  const claims = new Map<string, V1PersistentVolumeClaim>()
  for (const c of snapshot.pvcs) claims.set(`${c.metadata?.namespace ?? 'default'}/${c.metadata?.name}`, c)
  const podsByClaim = new Map<string, V1Pod[]>()
  // Pods by name are only looked up for pod/NAME targets.
  let pods: Map<string, V1Pod> | undefined
  const podMap = () => {
    if (!pods) {
      pods = new Map()
      for (const p of snapshot.pods) pods.set(`${p.metadata?.namespace ?? 'default'}/${p.metadata?.name}`, p)
    }
    return pods
  }
  for (const p of snapshot.pods) {
    const ns = p.metadata?.namespace ?? 'default'
    for (const {name} of podClaimNames(p)) {
      const key = `${ns}/${name}`
      const l = podsByClaim.get(key)
      if (l) l.push(p)
      else podsByClaim.set(key, [p])
    }
  }
  const skipped = new Set(snapshot.skipped.map((s) => s.resource))
  const lookup: ClaimLookup = {
    get: (ns, name) => claims.get(`${ns}/${name}`),
    readable: !skipped.has('persistentvolumeclaims'),
    complete: snapshot.allNamespaces === true && !skipped.has('persistentvolumeclaims'),
  }
  const phaseCache = new Map<V1PersistentVolume, string>()
  const phaseOf = (pv: V1PersistentVolume) => {
    let p = phaseCache.get(pv)
    if (p === undefined) {
      p = effectivePhase(pv, lookup)
      phaseCache.set(pv, p)
    }
    return p
  }
  return {
    snapshot,
    index: new VolumeIndex(snapshot.pvs),
    classes: snapshot.storageClasses,
    csiDrivers: snapshot.csiDrivers,
    capacities: snapshot.csiStorageCapacities,
    csiNodes: snapshot.csiNodes,
    rules: rulesFor(parseKubeVersion(snapshot.serverVersion) ?? NEWEST),
    capacityKnown: !skipped.has('csistoragecapacities') && !skipped.has('csidrivers'),
    phaseOf,
    events: new EventIndex(snapshot.events),
    claims,
    nodes: snapshot.nodes,
    podsByClaim,
    get pods() {
      return podMap()
    },
    skipped,
  }
}
