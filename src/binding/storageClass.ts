/**
 * Storage class resolution shared by the controller, the scheduler and admission.
 * Mirrors component-helpers storage/volume: PersistentVolumeClaimHasClass,
 * GetPersistentVolumeClaimClass, GetPersistentVolumeClass, and IsDelayBindingMode.
 */
import type {V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass} from '@kubernetes/client-node'
import {timeOf} from '../snapshot/time.js'

export const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class'
const DEFAULT_ANNOTATIONS = [
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
]
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner'

/** True when the claim names a class at all, even `""` (the beta annotation's key counts). */
export function claimHasClass(pvc: V1PersistentVolumeClaim): boolean {
  const ann = pvc.metadata?.annotations
  if (ann && BETA_CLASS_ANNOTATION in ann) return true
  return pvc.spec?.storageClassName !== undefined && pvc.spec?.storageClassName !== null
}

/** The class used for matching: beta annotation if present, else spec, else "". */
export function claimClass(pvc: V1PersistentVolumeClaim): string {
  const ann = pvc.metadata?.annotations
  if (ann && BETA_CLASS_ANNOTATION in ann) return ann[BETA_CLASS_ANNOTATION] ?? ''
  return pvc.spec?.storageClassName ?? ''
}

export function pvClass(pv: V1PersistentVolume): string {
  const ann = pv.metadata?.annotations
  if (ann && BETA_CLASS_ANNOTATION in ann) return ann[BETA_CLASS_ANNOTATION] ?? ''
  return pv.spec?.storageClassName ?? ''
}

export function isDefaultClass(sc: V1StorageClass): boolean {
  const ann = sc.metadata?.annotations ?? {}
  return DEFAULT_ANNOTATIONS.some((k) => ann[k] === 'true')
}

/** The default class: newest creationTimestamp wins, ties by name (GetDefaultClass, 1.26+). */
export function defaultClass(classes: readonly V1StorageClass[]): V1StorageClass | undefined {
  // Asked once per claim (and per consumer's claim); the classes of a snapshot do not change.
  const memo = defaultMemo.get(classes)
  if (memo && memo.length === classes.length) return memo.best
  const best = pickDefault(classes)
  defaultMemo.set(classes, {length: classes.length, best})
  return best
}

const defaultMemo = new WeakMap<readonly V1StorageClass[], {length: number; best: V1StorageClass | undefined}>()

function pickDefault(classes: readonly V1StorageClass[]): V1StorageClass | undefined {
  let best: V1StorageClass | undefined
  for (const sc of classes) {
    if (!isDefaultClass(sc)) continue
    if (!best) {
      best = sc
      continue
    }
    const a = timeOf(sc.metadata?.creationTimestamp)
    const b = timeOf(best.metadata?.creationTimestamp)
    if (a > b || (a === b && (sc.metadata?.name ?? '') < (best.metadata?.name ?? ''))) best = sc
  }
  return best
}

export function findClass(classes: readonly V1StorageClass[], name: string): V1StorageClass | undefined {
  return classes.find((c) => c.metadata?.name === name)
}

/** IsDelayBindingMode: no class or a missing class means Immediate. */
export function isDelayBinding(pvc: V1PersistentVolumeClaim, classes: readonly V1StorageClass[]): boolean {
  const name = claimClass(pvc)
  if (name === '') return false
  return findClass(classes, name)?.volumeBindingMode === 'WaitForFirstConsumer'
}
