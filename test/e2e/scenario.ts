/** One e2e scenario: its own namespace and class names, so scenarios never see each other's PVs. */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli} from '../helpers/cli.js'
import type {Kube, Obj} from './kube.js'

const TMP = mkdtempSync(join(tmpdir(), 'pvd-e2e-'))
let seq = 0

export class Scenario {
  readonly ns: string
  private readonly made: {kind: string; name: string}[] = []
  constructor(
    readonly kube: Kube,
    readonly kubeconfig: string,
    label: string,
  ) {
    this.ns = `e2e-${label}-${process.pid % 1000}-${++seq}`.slice(0, 50)
  }

  /** A name unique to this scenario, for cluster-scoped objects (PVs, classes). */
  n(name: string): string {
    return `${this.ns}-${name}`
  }

  async setup(): Promise<void> {
    await this.kube.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: this.ns}})
    // The namespace's default ServiceAccount is made by a controller we do not run; pods need it
    // only when the ServiceAccount admission plugin is on, which the harness turns off.
  }

  async create<T extends Obj>(o: T): Promise<T> {
    const ns = o.metadata?.namespace
    if (
      ![
        'PersistentVolume',
        'StorageClass',
        'CSIDriver',
        'CSINode',
        'ClusterRole',
        'ClusterRoleBinding',
        'Node',
      ].includes(o.kind!)
    )
      o.metadata = {...o.metadata, namespace: ns ?? this.ns}
    else this.made.push({kind: o.kind!, name: o.metadata!.name!})
    return this.kube.create(o)
  }

  async cleanup(): Promise<void> {
    await this.kube.cleanup(this.ns, this.made)
  }

  /** `explain` against the live cluster, as JSON. */
  explain(args: string[], kubeconfig = this.kubeconfig) {
    const r = runCli(['explain', '-n', this.ns, '--kubeconfig', kubeconfig, '-o', 'json', ...args])
    let json: {claims: ClaimOut[]; skipped: {resource: string; reason: string}[]} | undefined
    try {
      json = JSON.parse(r.stdout)
    } catch {
      /* the test will show stderr */
    }
    return {...r, json}
  }

  /** `explain` offline on manifests, before they exist in the cluster. */
  explainOffline(objects: Obj[], args: string[]) {
    const file = join(TMP, `${this.ns}-${Date.now()}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: objects.map((o) => ({
          ...o,
          metadata: {
            namespace:
              o.kind === 'PersistentVolume' || o.kind === 'StorageClass' || o.kind === 'Node' ? undefined : this.ns,
            ...o.metadata,
          },
        })),
      }),
    )
    const r = runCli(['explain', '-n', this.ns, '--from-file', file, '-o', 'json', ...args])
    return {...r, json: r.stdout ? (JSON.parse(r.stdout) as {claims: ClaimOut[]}) : undefined, file}
  }
}

export interface ClaimOut {
  name: string
  cause: string
  severity: string
  message: string
  evidence: string[]
  fix: string[]
  wouldBind: string | null
  ties: string[]
  candidates: {name: string; eligible: boolean; mismatches: string[]; whyNot: string[]}[]
  consumers: {pod: string; summary?: string}[]
}

export function pvObj(
  name: string,
  o: {
    size?: string
    modes?: string[]
    cls?: string
    hosts?: string[]
    labels?: Record<string, string>
    volumeMode?: string
    claimRef?: Record<string, string>
    local?: boolean
  } = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {name, labels: o.labels},
    spec: {
      capacity: {storage: o.size ?? '1Gi'},
      accessModes: o.modes ?? ['ReadWriteOnce'],
      storageClassName: o.cls ?? '',
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: o.volumeMode ?? 'Filesystem',
      ...(o.hosts || o.local ? {local: {path: `/mnt/disks/${name}`}} : {hostPath: {path: `/mnt/pvd/${name}`}}),
      ...(o.hosts
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: o.hosts}]},
                ],
              },
            },
          }
        : {}),
      ...(o.claimRef ? {claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', ...o.claimRef}} : {}),
    },
  }
}

export function pvcObj(
  name: string,
  o: {
    size?: string
    modes?: string[]
    cls?: string | null
    volumeName?: string
    selector?: object
    volumeMode?: string
  } = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: {requests: {storage: o.size ?? '1Gi'}},
      ...(o.cls === null ? {} : {storageClassName: o.cls ?? ''}),
      ...(o.volumeName ? {volumeName: o.volumeName} : {}),
      ...(o.selector ? {selector: o.selector} : {}),
      ...(o.volumeMode ? {volumeMode: o.volumeMode} : {}),
    },
  }
}

export function scObj(
  name: string,
  o: {
    provisioner?: string
    wffc?: boolean
    zones?: string[]
    reclaim?: string
    parameters?: Record<string, string>
    expand?: boolean
  } = {},
): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name},
    provisioner: o.provisioner ?? 'kubernetes.io/no-provisioner',
    volumeBindingMode: o.wffc ? 'WaitForFirstConsumer' : 'Immediate',
    ...(o.reclaim ? {reclaimPolicy: o.reclaim} : {}),
    ...(o.parameters ? {parameters: o.parameters} : {}),
    ...(o.expand ? {allowVolumeExpansion: true} : {}),
    ...(o.zones
      ? {allowedTopologies: [{matchLabelExpressions: [{key: 'topology.kubernetes.io/zone', values: o.zones}]}]}
      : {}),
  }
}

export function podObj(
  name: string,
  claims: string[],
  o: {nodeSelector?: Record<string, string>; nodeName?: string} = {},
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name},
    spec: {
      containers: [{name: 'app', image: 'registry.invalid/app:1'}],
      ...(o.nodeSelector ? {nodeSelector: o.nodeSelector} : {}),
      ...(o.nodeName ? {nodeName: o.nodeName} : {}),
      terminationGracePeriodSeconds: 0,
      volumes: claims.map((c, i) => ({name: `v${i}`, persistentVolumeClaim: {claimName: c}})),
    },
  }
}

export interface LiveNode {
  name: string
  hostname: string
  zone?: string
}

/** Nodes a plain pod can use (no taints, schedulable), sorted by name. */
export async function usableNodes(kube: Kube): Promise<LiveNode[]> {
  const all = await kube.list<Obj & {spec?: {taints?: unknown[]; unschedulable?: boolean}}>('Node')
  return all
    .filter((n) => !n.spec?.taints?.length && !n.spec?.unschedulable)
    .map((n) => {
      const l = (n.metadata!.labels ?? {}) as Record<string, string>
      return {name: n.metadata!.name!, hostname: l['kubernetes.io/hostname'], zone: l['topology.kubernetes.io/zone']}
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** Scenarios of one test file, all cleaned up in afterAll. */
export class Scenarios {
  private readonly made: Scenario[] = []
  constructor(
    private readonly kube: Kube,
    private readonly kubeconfig: string,
  ) {}

  async create(label: string): Promise<Scenario> {
    const s = new Scenario(this.kube, this.kubeconfig, label)
    this.made.push(s)
    await s.setup()
    return s
  }

  async cleanup(): Promise<void> {
    for (const s of this.made) await s.cleanup().catch(() => undefined)
  }
}
