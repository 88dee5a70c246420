import type {V1PersistentVolumeClaim} from '@kubernetes/client-node'
import {claimHasClass, defaultClass} from './storageClass.js'
import {controllerPick} from './volumeIndex.js'
import type {World} from './world.js'

/**
 * The claim as the controller matches it: one that names no class gets the default class — by
 * admission when it is created (not created yet: it will), or by the PV controller's retroactive
 * assignment once no class-less PV matched (syncUnboundClaim → assignDefaultStorageClass).
 * Returns the same object when nothing changes.
 */
export function effectiveClaim(pvc: V1PersistentVolumeClaim, w: World): V1PersistentVolumeClaim {
  const def = defaultClass(w.classes)
  if (claimHasClass(pvc) || !def) return pvc
  const created = Boolean(pvc.metadata?.uid)
  if (created && controllerPick(pvc, w.index, false, w.phaseOf, w.rules.vac).winner) return pvc
  return {...pvc, spec: {...pvc.spec, storageClassName: def.metadata?.name}}
}
