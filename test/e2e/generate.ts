/**
 * Random but valid binding scenarios for the differential test. Pure and seeded: the same seed
 * gives the same scenarios, so every disagreement can be replayed.
 */
import type {Obj} from './kube.js'

/** mulberry32: small, fast, good enough to spread scenarios. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The scenarios' pod "app": one container that never runs (the nodes are fake), gone at once when deleted. */
export function appPod(ns: string, spec: Record<string, unknown>): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: 'app', namespace: ns},
    spec: {containers: [{name: 'app', image: 'registry.invalid/app:1'}], terminationGracePeriodSeconds: 0, ...spec},
  }
}

export interface GenScenario {
  id: string
  ns: string
  /** Cluster-scoped objects first (classes, PVs), then namespaced ones (claim, pod). */
  clusterObjects: Obj[]
  /** The claims (the first is `data`), all in `ns`. */
  claims: Obj[]
  pod?: Obj
  summary: string
}

const SIZES = ['512Mi', '1Gi', '1536Mi', '2Gi', '3Gi', '1073741824', '2147483648']
const CLAIM_SIZES = ['1Gi', '1536Mi', '2Gi', '1073741824', '1G']
const MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany']

export interface GenOptions {
  /**
   * Give some PVs and claims a volumeAttributesClassName (clusters where the VolumeAttributesClass
   * gate is on: 1.34+). Drawn from a stream of its own, so the scenarios are otherwise the same.
   */
  volumeAttributesClasses?: boolean
}

export function generate(
  seed: number,
  index: number,
  nodes: {name: string; hostname: string; zone?: string}[],
  opts: GenOptions = {},
): GenScenario {
  const r = rng(seed * 1_000_003 + index)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
  const chance = (p: number) => r() < p
  const modes = () => {
    if (chance(0.05)) return ['ReadWriteOncePod']
    const m = MODES.filter(() => chance(0.45))
    return m.length ? m : [pick(MODES)]
  }
  const id = `d${seed % 100000}-${index}`
  const ns = `diff-${id}`
  const clsA = `${ns}-a`
  const clsB = `${ns}-b`
  const wffc = chance(0.35)
  const aHasObject = wffc || chance(0.6)
  const objects: Obj[] = []
  if (aHasObject)
    objects.push({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {name: clsA},
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: wffc ? 'WaitForFirstConsumer' : 'Immediate',
    })
  const claimClassChoice = r()
  // null = no storageClassName at all (no default class exists here, so it matches class-less PVs)
  const claimCls: string | null =
    claimClassChoice < 0.72 ? clsA : claimClassChoice < 0.87 ? clsB : claimClassChoice < 0.95 ? '' : null
  const claimModes = modes()
  const claimMode = chance(0.15) ? 'Block' : 'Filesystem'
  const tier = () => pick(['fast', 'slow', 'gold'])
  const nPV = 1 + Math.floor(r() * 5)
  const pvNames: string[] = []
  const notes: string[] = []
  for (let i = 0; i < nPV; i++) {
    const name = `${ns}-pv${i}`
    pvNames.push(name)
    const clsRoll = r()
    const cls = clsRoll < 0.65 ? clsA : clsRoll < 0.8 ? clsB : clsRoll < 0.9 ? '' : (claimCls ?? '')
    const pvModes = chance(0.6) ? [...claimModes] : modes()
    const refRoll = r()
    let claimRef: Record<string, string> | undefined
    if (refRoll < 0.1) claimRef = {namespace: ns, name: 'data'}
    else if (refRoll < 0.18) claimRef = {namespace: ns, name: 'data', uid: '00000000-0000-4000-8000-00000000dead'}
    else if (refRoll < 0.25) claimRef = {namespace: ns, name: 'other', uid: '00000000-0000-4000-8000-00000000beef'}
    else if (refRoll < 0.3) claimRef = {namespace: ns, name: 'reserved-for-other'}
    const host = wffc || chance(0.2) ? pick(nodes) : undefined
    const block = chance(0.15) ? 'Block' : chance(0.8) ? claimMode : 'Filesystem'
    objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {name, labels: {'pv-doctor-scenario': id, tier: tier()}},
      spec: {
        capacity: {storage: pick(SIZES)},
        accessModes: pvModes,
        storageClassName: cls,
        persistentVolumeReclaimPolicy: 'Retain',
        volumeMode: block,
        ...(host || block === 'Block' ? {local: {path: `/mnt/disks/${name}`}} : {hostPath: {path: `/mnt/pvd/${name}`}}),
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  {key: 'kubernetes.io/hostname', operator: 'In', values: [(host ?? pick(nodes)).hostname]},
                ],
              },
            ],
          },
        },
        ...(claimRef ? {claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', ...claimRef}} : {}),
      },
    })
  }
  // Claims of class "" would see every class-less PV of the cluster: a scenario label keeps them apart.
  const selector =
    claimCls === '' || claimCls === null || chance(0.25)
      ? chance(0.7)
        ? {matchLabels: {'pv-doctor-scenario': id, ...(chance(0.4) ? {tier: tier()} : {})}}
        : {
            matchLabels: {'pv-doctor-scenario': id},
            matchExpressions: [{key: 'tier', operator: pick(['In', 'NotIn']), values: [tier(), tier()]}],
          }
      : undefined
  const volumeName = chance(0.1) ? (chance(0.8) ? pick(pvNames) : `${ns}-missing`) : undefined
  const claimOf = (name: string, extra: Record<string, unknown>): Obj => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name, namespace: ns},
    spec: {
      accessModes: claimModes,
      resources: {requests: {storage: pick(CLAIM_SIZES)}},
      ...(claimCls === null ? {} : {storageClassName: claimCls}),
      volumeMode: claimMode,
      ...extra,
    },
  })
  const claims = [claimOf('data', {...(selector ? {selector} : {}), ...(volumeName ? {volumeName} : {})})]
  let pod: Obj | undefined
  if (wffc && claimCls === clsA && chance(0.7)) {
    // A second claim of the same pod exercises the scheduler's greedy smallest-first order.
    if (chance(0.35)) {
      claims.push(claimOf('logs', {}))
      notes.push('2 claims')
    }
    const constraint = r()
    const target = pick(nodes)
    const bypass = chance(0.06)
    pod = appPod(ns, {
      ...(bypass ? {nodeName: target.name} : {}),
      ...(chance(0.3) ? {tolerations: [{key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule'}]} : {}),
      ...(constraint < 0.3
        ? {nodeSelector: {'kubernetes.io/hostname': target.hostname}}
        : constraint < 0.5 && target.zone
          ? {nodeSelector: {'topology.kubernetes.io/zone': target.zone}}
          : {}),
      volumes: claims.map((c, i) => ({name: `v${i}`, persistentVolumeClaim: {claimName: c.metadata!.name}})),
    })
    notes.push(bypass ? 'pod with nodeName' : 'pod')
  }
  notes.unshift(
    `${wffc ? 'WFFC' : 'Immediate'}${aHasObject ? '' : ' (class object missing)'}`,
    `claim ${claimCls === clsA ? 'A' : claimCls === clsB ? 'B' : claimCls === null ? 'without class' : '""'}`,
    `${nPV} PVs`,
  )
  if (opts.volumeAttributesClasses) addVolumeAttributesClasses(seed, index, objects, claims, notes)
  return {id, ns, clusterObjects: objects, claims, pod, summary: notes.join(', ')}
}

/** Sets volumeAttributesClassName on about one PV and one claim in five, from its own random stream. */
function addVolumeAttributesClasses(seed: number, index: number, objects: Obj[], claims: Obj[], notes: string[]): void {
  const v = rng(seed * 7_919 + index * 104_729 + 1)
  const vac = () => (v() < 0.5 ? 'gold' : 'silver')
  let n = 0
  for (const o of [...objects.filter((x) => x.kind === 'PersistentVolume'), ...claims]) {
    if (v() >= 0.2) continue
    const spec = o.spec as Record<string, unknown>
    spec.volumeAttributesClassName = vac()
    // The API server accepts a class only on a CSI PV.
    if (o.kind === 'PersistentVolume') {
      delete spec.local
      delete spec.hostPath
      spec.csi = {driver: 'vac.pv-doctor.example.com', volumeHandle: o.metadata!.name}
    }
    n++
  }
  if (n) notes.push(`${n} with a VolumeAttributesClass`)
}
