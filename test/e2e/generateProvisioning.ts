/**
 * Random dynamic-provisioning scenarios for the differential test: a class of the harness's CSI
 * driver (Immediate or WaitForFirstConsumer; some with per-zone capacity, allowed zones, or an
 * injected CreateVolume failure), static CSI PVs of that class that may fit too, one claim, and
 * for WaitForFirstConsumer usually a pod. Pure and seeded like generate.ts.
 */
import {appPod, rng} from './generate.js'
import type {Obj} from './kube.js'

export interface ProvScenario {
  id: string
  ns: string
  cls: string
  wffc: boolean
  /** The StorageClass and the static PVs (cluster-scoped). */
  clusterObjects: Obj[]
  claim: Obj
  pod?: Obj
  /** The injected CreateVolume failure's sub-reason, when the class has one. */
  failure?: string
  summary: string
}

const ZONES = ['zone-a', 'zone-b', 'zone-c']
/** Injected gRPC failures and the sub-reason pv-doctor must give them. */
const FAILURES: [string, string][] = [
  ['ResourceExhausted: storage pool is full', 'ResourceExhausted'],
  ['InvalidArgument: parameter "tier" must be gold or silver', 'Infeasible'],
  ['Internal: backend exploded', 'DriverError'],
  ['Unavailable: backend down for maintenance', 'DriverUnavailable'],
  ['PermissionDenied: tenant may not create volumes', 'DriverError'],
]

export function generateProvisioning(seed: number, index: number, driver: string): ProvScenario {
  const r = rng(seed * 999_983 + index)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
  const chance = (p: number) => r() < p
  const id = `p${seed % 100000}-${index}`
  const ns = `diffp-${id}`
  const cls = `${ns}-c`
  const wffc = chance(0.5)
  const notes: string[] = [wffc ? 'WFFC' : 'Immediate']
  const params: Record<string, string> = {}
  let failure: string | undefined
  const roll = r()
  if (roll < 0.2) {
    const [text, reason] = pick(FAILURES)
    params['fail-create'] = text
    failure = reason
    notes.push(`fail ${reason}`)
  } else if (wffc && roll < 0.5) {
    // Only the scheduler reads CSIStorageCapacity (WaitForFirstConsumer); the driver enforces it too.
    // pvd-csi counts a pool's use per capacity string: a zone of this scenario's own keeps it apart.
    const perZone = ZONES.map((z) => `${z}=${pick(['0', '1Gi', '2Gi', '5Gi'])}`).join(',')
    params.capacity = `${perZone},${id}=0`
    notes.push(`capacity ${perZone}`)
  }
  const zonesAllowed = chance(0.2) ? ZONES.filter(() => chance(0.5)) : undefined
  if (zonesAllowed?.length) notes.push(`allowed ${zonesAllowed.join('+')}`)
  const objects: Obj[] = [
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {name: cls},
      provisioner: driver,
      reclaimPolicy: 'Delete',
      volumeBindingMode: wffc ? 'WaitForFirstConsumer' : 'Immediate',
      ...(Object.keys(params).length ? {parameters: params} : {}),
      ...(zonesAllowed?.length
        ? {allowedTopologies: [{matchLabelExpressions: [{key: 'topology.kubernetes.io/zone', values: zonesAllowed}]}]}
        : {}),
    },
  ]
  const claimSize = pick(['1Gi', '2Gi', '3Gi'])
  const nPV = chance(0.4) ? 1 + Math.floor(r() * 2) : 0
  for (let i = 0; i < nPV; i++) {
    const name = `${ns}-pv${i}`
    objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {name},
      spec: {
        capacity: {storage: pick(['1Gi', '2Gi', '4Gi'])},
        accessModes: ['ReadWriteOnce'],
        storageClassName: cls,
        persistentVolumeReclaimPolicy: 'Retain',
        csi: {driver, volumeHandle: name},
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: [pick(ZONES)]}]},
            ],
          },
        },
      },
    })
  }
  if (nPV) notes.push(`${nPV} static PV(s)`)
  const claim: Obj = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name: 'data', namespace: ns},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: claimSize}}},
  }
  notes.push(`claim ${claimSize}`)
  let pod: Obj | undefined
  if (wffc && chance(0.8)) {
    const zone = chance(0.6) ? pick(ZONES) : undefined
    pod = appPod(ns, {
      ...(zone ? {nodeSelector: {'topology.kubernetes.io/zone': zone}} : {}),
      volumes: [{name: 'v', persistentVolumeClaim: {claimName: 'data'}}],
    })
    notes.push(zone ? `pod in ${zone}` : 'pod')
  }
  return {id, ns, cls, wffc, clusterObjects: objects, claim, pod, failure, summary: notes.join(', ')}
}
