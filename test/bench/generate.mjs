// Synthetic clusters for the benchmark: deterministic, shaped like `kubectl get -o json`
// output (full metadata, realistic specs and statuses), ~10% of claims Pending for a mix of
// causes. Used offline (written as a v1 List) and live (created on the test control plane).
import {createWriteStream} from 'node:fs'
import {once} from 'node:events'

export const SIZES = {
  S: {nodes: 100, pvs: 1_000, pvcs: 1_000, pods: 1_000},
  M: {nodes: 1_000, pvs: 10_000, pvcs: 10_000, pods: 10_000},
  L: {nodes: 5_000, pvs: 50_000, pvcs: 50_000, pods: 50_000},
}

/** Past 5,000 nodes (issue 12): its dump (~2 GB indented) is past V8's string limit; offline and engine only. */
export const BIG_SIZES = {
  XL: {nodes: 20_000, pvs: 200_000, pvcs: 200_000, pods: 200_000},
}

/** Pending mix, as fractions of all claims (sums to 0.10). */
export const PENDING_MIX = [
  ['wffcLocalTooBig', 0.025], // local PVs, pod pinned to nvme nodes, no free PV big enough → NoVolumeOnFeasibleNodes
  ['wffcLocalUnschedulable', 0.01], // pod's nodeSelector matches no node → ConsumerUnschedulable
  ['wffcLocalFits', 0.01], // pod could go anywhere, free local PVs exist → BindPending (scheduler path)
  ['wffcNoConsumer', 0.01], // → WaitingForFirstConsumer
  ['classMissing', 0.01], // → StorageClassNotFound
  ['tooSmall', 0.01], // manual class, only smaller PVs → NoMatchingVolume
  ['staleReleased', 0.01], // volumeName names a Released PV of an earlier claim → VolumeClaimedByOther
  ['externalMissing', 0.005], // provisioner not installed → ProvisionerNotFound
  ['externalFailed', 0.005], // WFFC CSI class, provisioner reports failure → ProvisioningFailed
  ['unknownProvisioner', 0.005], // kubernetes.io/glusterfs → UnknownProvisioner
]

const ZONES = ['zone-a', 'zone-b', 'zone-c', 'zone-d', 'zone-e']
const T0 = Date.parse('2026-11-20T08:00:00Z')

function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pad = (n, w = 5) => String(n).padStart(w, '0')
const ts = (sec) => new Date(T0 + sec * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
function uidOf(kind, i, rand) {
  const h = (n) =>
    Math.floor(rand() * 16 ** n)
      .toString(16)
      .padStart(n, '0')
  return `${h(8)}-${h(4)}-4${h(3)}-a${h(3)}-${kind}${pad(i, 12 - kind.length)}`.slice(0, 36)
}

export function storageClasses() {
  const sc = (name, provisioner, mode, extra = {}) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name, uid: `sc-${name}`, resourceVersion: '120', creationTimestamp: ts(0), ...(extra.metadata ?? {})},
    provisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: mode,
    ...(extra.spec ?? {}),
  })
  return [
    sc('local-nvme', 'kubernetes.io/no-provisioner', 'WaitForFirstConsumer', {spec: {reclaimPolicy: 'Retain'}}),
    sc('fast', 'ebs.csi.aws.com', 'WaitForFirstConsumer', {
      metadata: {annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}},
      spec: {allowVolumeExpansion: true, parameters: {type: 'gp3', encrypted: 'true'}},
    }),
    sc('shared', 'nfs.csi.k8s.io', 'Immediate', {
      spec: {parameters: {server: 'nfs.storage.svc', share: '/exports'}, mountOptions: ['nfsvers=4.1']},
    }),
    sc('manual', 'kubernetes.io/no-provisioner', 'Immediate', {spec: {reclaimPolicy: 'Retain'}}),
    sc('vendor-block', 'csi.vendor.example', 'Immediate'),
    sc('legacy-gluster', 'kubernetes.io/glusterfs', 'Immediate'),
  ]
}

export function csiDrivers() {
  return ['ebs.csi.aws.com', 'nfs.csi.k8s.io'].map((name) => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: {name, uid: `csidriver-${name}`, resourceVersion: '130', creationTimestamp: ts(0)},
    spec: {
      attachRequired: name.startsWith('ebs'),
      podInfoOnMount: false,
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
      requiresRepublish: false,
      storageCapacity: false,
      volumeLifecycleModes: ['Persistent'],
      seLinuxMount: false,
    },
  }))
}

function node(i, rand) {
  const name = `node-${pad(i)}`
  const zone = ZONES[i % ZONES.length]
  const nvme = i % 10 === 3
  const res = {
    cpu: '16',
    'ephemeral-storage': '203070420Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: '65842592Ki',
    pods: '110',
  }
  const cond = (type, status, reason, message) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: ts(86_000),
    lastTransitionTime: ts(60),
  })
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: uidOf('node', i, rand),
      resourceVersion: String(1000 + i),
      creationTimestamp: ts(i % 3600),
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': nvme ? 'i4i.4xlarge' : 'm6i.4xlarge',
        'topology.kubernetes.io/region': 'region-1',
        'topology.kubernetes.io/zone': zone,
        'topology.ebs.csi.aws.com/zone': zone,
        ...(nvme ? {disktype: 'nvme'} : {}),
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'csi.volume.kubernetes.io/nodeid': `{"ebs.csi.aws.com":"i-0${pad(i, 16)}"}`,
      },
    },
    spec: {
      podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
      podCIDRs: [`10.${(i >> 8) & 255}.${i & 255}.0/24`],
      providerID: `aws:///${zone}/i-0${pad(i, 16)}`,
      ...(i % 50 === 7 ? {taints: [{key: 'dedicated', value: 'infra', effect: 'NoSchedule'}]} : {}),
      ...(i % 100 === 11
        ? {
            unschedulable: true,
            taints: [{key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: ts(80_000)}],
          }
        : {}),
    },
    status: {
      addresses: [
        {type: 'InternalIP', address: `10.0.${(i >> 8) & 255}.${i & 255}`},
        {type: 'Hostname', address: name},
      ],
      allocatable: res,
      capacity: res,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      daemonEndpoints: {kubeletEndpoint: {Port: 10250}},
      nodeInfo: {
        architecture: 'amd64',
        bootID: uidOf('boot', i, rand),
        containerRuntimeVersion: 'containerd://1.7.27',
        kernelVersion: '6.1.0-28-cloud-amd64',
        kubeProxyVersion: '',
        kubeletVersion: 'v1.36.3',
        machineID: uidOf('mach', i, rand).replace(/-/g, ''),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: uidOf('sys', i, rand),
      },
    },
  }
}

/**
 * The whole cluster as a list of API objects (kubectl's order: pv, pvc, sc, nodes, pods,
 * events; then CSIDrivers). `counts` says how many claims of each kind were made.
 */
export function generate(size, seed = 42) {
  const spec = typeof size === 'string' ? (SIZES[size] ?? BIG_SIZES[size]) : size
  const rand = rng(seed)
  const N = spec.nodes
  const C = spec.pvcs
  const nodes = Array.from({length: N}, (_, i) => node(i, rand))
  const nodeName = (i) => `node-${pad(i)}`
  const nvmeNodes = nodes.filter((_, i) => i % 10 === 3).map((n) => n.metadata.name)
  const plainNode = (k) => {
    // a node that takes ordinary pods: not tainted, not cordoned
    let i = k % N
    while (i % 50 === 7 || i % 100 === 11) i = (i + 1) % N
    return i
  }
  const pvs = []
  const pvcs = []
  const pods = []
  const events = []
  const counts = {bound: 0}
  let rv = 100_000
  const nextRv = () => String(++rv)

  const nsOf = (i) => `team-${pad(Math.floor(i / 100), 4)}`

  function makePV(name, o) {
    const local = o.cls === 'local-nvme' || o.cls === 'manual'
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name,
        uid: uidOf('pv', pvs.length, rand),
        resourceVersion: nextRv(),
        creationTimestamp: ts(3600 + pvs.length),
        annotations: {
          ...(o.provisionedBy ? {'pv.kubernetes.io/provisioned-by': o.provisionedBy} : {}),
          ...(o.claim && o.bound ? {'pv.kubernetes.io/bound-by-controller': 'yes'} : {}),
        },
        finalizers: [
          'kubernetes.io/pv-protection',
          ...(o.provisionedBy === 'ebs.csi.aws.com' ? ['external-attacher/ebs-csi-aws-com'] : []),
        ],
        ...(local ? {labels: {'storage.example.com/disk': o.disk ?? 'nvme0n1'}} : {}),
      },
      spec: {
        accessModes: o.modes ?? ['ReadWriteOnce'],
        capacity: {storage: o.size},
        ...(o.claim
          ? {
              claimRef: {
                apiVersion: 'v1',
                kind: 'PersistentVolumeClaim',
                name: o.claim.name,
                namespace: o.claim.namespace,
                resourceVersion: nextRv(),
                uid: o.claim.uid,
              },
            }
          : {}),
        ...(o.cls === 'local-nvme' || o.cls === 'manual'
          ? {local: {path: `/mnt/disks/${name}`}}
          : o.cls === 'shared'
            ? {
                csi: {
                  driver: 'nfs.csi.k8s.io',
                  volumeHandle: `nfs.storage.svc#exports#${name}##`,
                  volumeAttributes: {server: 'nfs.storage.svc', share: '/exports', subdir: name},
                },
              }
            : {csi: {driver: 'ebs.csi.aws.com', fsType: 'ext4', volumeHandle: `vol-0${pad(pvs.length, 16)}`}}),
        ...(o.host
          ? {
              nodeAffinity: {
                required: {
                  nodeSelectorTerms: [
                    {matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [o.host]}]},
                  ],
                },
              },
            }
          : o.zone
            ? {
                nodeAffinity: {
                  required: {
                    nodeSelectorTerms: [
                      {matchExpressions: [{key: 'topology.ebs.csi.aws.com/zone', operator: 'In', values: [o.zone]}]},
                    ],
                  },
                },
              }
            : {}),
        persistentVolumeReclaimPolicy: local ? 'Retain' : 'Delete',
        storageClassName: o.cls,
        volumeMode: 'Filesystem',
      },
      status: {phase: o.phase, lastPhaseTransitionTime: ts(3600 + pvs.length)},
    }
    pvs.push(pv)
    return pv
  }

  // The claim's uid is drawn by the caller: a bound PV's claimRef carries the same one.
  function makePVC(i, o, uid) {
    const ns = nsOf(i)
    const app = `app-${pad(Math.floor(i / 10), 5)}`
    const name = `data-${app}-${i % 10}`
    const bound = Boolean(o.volumeName && o.bound)
    const pvc = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name,
        namespace: ns,
        uid,
        resourceVersion: nextRv(),
        creationTimestamp: ts(7200 + i),
        labels: {app, 'app.kubernetes.io/part-of': `svc-${pad(Math.floor(i / 100), 4)}`},
        annotations: {
          ...(bound ? {'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes'} : {}),
          ...(o.provisioner
            ? {
                'volume.beta.kubernetes.io/storage-provisioner': o.provisioner,
                'volume.kubernetes.io/storage-provisioner': o.provisioner,
              }
            : {}),
        },
        finalizers: ['kubernetes.io/pvc-protection'],
      },
      spec: {
        accessModes: o.modes ?? ['ReadWriteOnce'],
        resources: {requests: {storage: o.size}},
        storageClassName: o.cls,
        volumeMode: 'Filesystem',
        ...(o.volumeName ? {volumeName: o.volumeName} : {}),
      },
      status: bound
        ? {phase: 'Bound', accessModes: o.modes ?? ['ReadWriteOnce'], capacity: {storage: o.pvSize ?? o.size}}
        : {phase: 'Pending'},
    }
    pvcs.push(pvc)
    return pvc
  }

  function makePod(i, o) {
    const ns = o.namespace ?? nsOf(i)
    const app = o.app ?? `app-${pad(Math.floor(i / 10), 5)}`
    const name = o.name ?? `${app}-${i % 10}`
    const scheduled = o.node !== undefined
    const cond = (type, status, extra = {}) => ({
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: ts(9000 + i),
      ...extra,
    })
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        generateName: `${app}-`,
        uid: uidOf('pod', pods.length, rand),
        resourceVersion: nextRv(),
        creationTimestamp: ts(9000 + i),
        labels: {
          app,
          'apps.kubernetes.io/pod-index': String(i % 10),
          'controller-revision-hash': `${app}-6d9f7c8b5`,
          'statefulset.kubernetes.io/pod-name': name,
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: app,
            uid: uidOf('sts', Math.floor(i / 10), rand),
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        containers: [
          {
            name: 'server',
            image: `registry.example.com/${app.slice(0, 7)}/server:1.${i % 7}.3`,
            imagePullPolicy: 'IfNotPresent',
            ports: [{containerPort: 8080, name: 'http', protocol: 'TCP'}],
            resources: {limits: {memory: '512Mi'}, requests: {cpu: '100m', memory: '256Mi'}},
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            volumeMounts: [{name: 'data', mountPath: '/var/lib/data'}],
          },
        ],
        dnsPolicy: 'ClusterFirst',
        enableServiceLinks: true,
        ...(scheduled ? {nodeName: nodeName(o.node)} : {}),
        ...(o.nodeSelector ? {nodeSelector: o.nodeSelector} : {}),
        preemptionPolicy: 'PreemptLowerPriority',
        priority: 0,
        restartPolicy: 'Always',
        schedulerName: 'default-scheduler',
        securityContext: {fsGroup: 1000, runAsNonRoot: true},
        automountServiceAccountToken: false,
        serviceAccountName: 'default',
        terminationGracePeriodSeconds: 30,
        tolerations: [
          {effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300},
          {effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300},
        ],
        volumes: [o.claim ? {name: 'data', persistentVolumeClaim: {claimName: o.claim}} : {name: 'data', emptyDir: {}}],
      },
      status: scheduled
        ? {
            phase: 'Running',
            conditions: [cond('Initialized', 'True'), cond('Ready', 'True'), cond('PodScheduled', 'True')],
            hostIP: `10.0.${(o.node >> 8) & 255}.${o.node & 255}`,
            hostIPs: [{ip: `10.0.${(o.node >> 8) & 255}.${o.node & 255}`}],
            podIP: `10.${(o.node >> 8) & 255}.${o.node & 255}.${(i % 250) + 2}`,
            podIPs: [{ip: `10.${(o.node >> 8) & 255}.${o.node & 255}.${(i % 250) + 2}`}],
            qosClass: 'Burstable',
            startTime: ts(9000 + i),
          }
        : {
            phase: 'Pending',
            qosClass: 'Burstable',
            ...(o.schedMessage
              ? {conditions: [cond('PodScheduled', 'False', {reason: 'Unschedulable', message: o.schedMessage})]}
              : {}),
          },
    }
    pods.push(pod)
    return pod
  }

  function makeEvent(obj, reason, message, o = {}) {
    const k = events.length
    events.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${obj.metadata.name}.${(0x17a0000000000000n + BigInt(k)).toString(16)}`,
        namespace: obj.metadata.namespace,
        uid: uidOf('ev', k, rand),
        resourceVersion: nextRv(),
        creationTimestamp: ts(80_000 + k),
      },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      source: o.host ? {component: o.source, host: o.host} : {component: o.source},
      firstTimestamp: ts(80_000 + k),
      lastTimestamp: ts(86_000 + (k % 300)),
      count: o.count ?? 1,
      type: o.type ?? 'Warning',
      eventTime: null,
      reportingComponent: o.source,
      reportingInstance: o.host ?? '',
    })
  }

  // Claims: the first 90% healthy, then the pending mix, interleaved across namespaces.
  const kinds = []
  for (const [kind, frac] of PENDING_MIX) {
    const n = Math.round(C * frac)
    for (let j = 0; j < n; j++) kinds.push(kind)
  }
  // Spread pending claims evenly through the index space (every ~10th claim).
  const pendingAt = new Map()
  const step = C / kinds.length
  for (const [j, k] of kinds.entries()) pendingAt.set(Math.floor(j * step + step / 2), k)
  const sizes = ['10Gi', '20Gi', '50Gi', '100Gi']
  let freeLocal = 0
  let sched = 0
  const localFreeHosts = []
  for (let i = 0; i < C; i++) {
    const kind = pendingAt.get(i) ?? 'bound'
    counts[kind] = (counts[kind] ?? 0) + 1
    const ns = nsOf(i)
    const app = `app-${pad(Math.floor(i / 10), 5)}`
    const name = `data-${app}-${i % 10}`
    const uid = uidOf('pvc', i, rand)
    switch (kind) {
      case 'bound': {
        const r = i % 10
        const cls = r < 4 ? 'local-nvme' : r < 8 ? 'fast' : 'shared'
        const n = plainNode(cls === 'local-nvme' ? i * 7 : i * 13)
        const size = sizes[i % sizes.length]
        const pvName = cls === 'fast' ? `pvc-${uid}` : `pv-${cls}-${pad(i, 6)}`
        makePV(pvName, {
          cls,
          size,
          modes: cls === 'shared' ? ['ReadWriteMany'] : ['ReadWriteOnce'],
          claim: {name, namespace: ns, uid},
          bound: true,
          phase: 'Bound',
          host: cls === 'local-nvme' ? nodeName(n) : undefined,
          zone: cls === 'fast' ? nodes[n].metadata.labels['topology.kubernetes.io/zone'] : undefined,
          provisionedBy: cls === 'fast' ? 'ebs.csi.aws.com' : cls === 'shared' ? 'nfs.csi.k8s.io' : undefined,
        })
        const pvc = makePVC(
          i,
          {
            cls,
            size,
            modes: cls === 'shared' ? ['ReadWriteMany'] : ['ReadWriteOnce'],
            volumeName: pvName,
            bound: true,
            provisioner: cls === 'fast' ? 'ebs.csi.aws.com' : cls === 'shared' ? 'nfs.csi.k8s.io' : undefined,
          },
          uid,
        )
        const pod = makePod(i, {claim: name, node: n})
        if (sched++ % 5 === 0)
          makeEvent(pod, 'Scheduled', `Successfully assigned ${ns}/${pod.metadata.name} to ${nodeName(n)}`, {
            type: 'Normal',
            source: 'default-scheduler',
          })
        void pvc
        break
      }
      case 'wffcLocalTooBig': {
        const size = ['200Gi', '300Gi', '500Gi'][i % 3]
        const pvc = makePVC(i, {cls: 'local-nvme', size}, uid)
        const msg = `0/${N} nodes are available: ${N - nvmeNodes.length} node(s) didn't match Pod's node affinity/selector, ${nvmeNodes.length} node(s) didn't find available persistent volumes to bind.`
        const pod = makePod(i, {claim: name, nodeSelector: {disktype: 'nvme'}, schedMessage: msg})
        makeEvent(pod, 'FailedScheduling', msg, {source: 'default-scheduler', count: 12})
        makeEvent(pvc, 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', {
          type: 'Normal',
          source: 'persistentvolume-controller',
          count: 3,
        })
        break
      }
      case 'wffcLocalUnschedulable': {
        makePVC(i, {cls: 'local-nvme', size: sizes[i % 2]}, uid)
        const msg = `0/${N} nodes are available: ${N} node(s) didn't match Pod's node affinity/selector.`
        const pod = makePod(i, {
          claim: name,
          nodeSelector: {'topology.kubernetes.io/zone': ['zone-x', 'zone-y'][i % 2]},
          schedMessage: msg,
        })
        makeEvent(pod, 'FailedScheduling', msg, {source: 'default-scheduler', count: 7})
        break
      }
      case 'wffcLocalFits': {
        makePVC(i, {cls: 'local-nvme', size: sizes[i % 2]}, uid)
        makePod(i, {claim: name})
        break
      }
      case 'wffcNoConsumer': {
        const pvc = makePVC(i, {cls: 'local-nvme', size: sizes[i % 3]}, uid)
        makeEvent(pvc, 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', {
          type: 'Normal',
          source: 'persistentvolume-controller',
          count: 4,
        })
        break
      }
      case 'classMissing': {
        const pvc = makePVC(i, {cls: ['gold', 'premium-rwo'][i % 2], size: sizes[i % 4]}, uid)
        makeEvent(pvc, 'ProvisioningFailed', `storageclass.storage.k8s.io "${pvc.spec.storageClassName}" not found`, {
          source: 'persistentvolume-controller',
          count: 20,
        })
        break
      }
      case 'tooSmall': {
        const pvc = makePVC(i, {cls: 'manual', size: '100Gi'}, uid)
        makeEvent(pvc, 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', {
          source: 'persistentvolume-controller',
          count: 30,
        })
        break
      }
      case 'staleReleased': {
        const pvName = `pv-restored-${pad(i, 6)}`
        makePV(pvName, {
          cls: 'manual',
          size: '50Gi',
          claim: {name, namespace: ns, uid: uidOf('old', i, rand)},
          phase: 'Released',
          host: nodeName(plainNode(i)),
        })
        const pvc = makePVC(i, {cls: 'manual', size: '50Gi', volumeName: pvName}, uid)
        makeEvent(pvc, 'FailedBinding', `volume "${pvName}" already bound to a different claim.`, {
          source: 'persistentvolume-controller',
          count: 15,
        })
        break
      }
      case 'externalMissing': {
        const pvc = makePVC(i, {cls: 'vendor-block', size: sizes[i % 4], provisioner: 'csi.vendor.example'}, uid)
        makeEvent(
          pvc,
          'ExternalProvisioning',
          "Waiting for a volume to be created either by the external provisioner 'csi.vendor.example' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
          {type: 'Normal', source: 'persistentvolume-controller', count: 40},
        )
        break
      }
      case 'externalFailed': {
        const pvc = makePVC(i, {cls: 'fast', size: '16Ti', provisioner: 'ebs.csi.aws.com'}, uid)
        makePod(i, {claim: name})
        makeEvent(
          pvc,
          'ProvisioningFailed',
          'failed to provision volume with StorageClass "fast": rpc error: code = InvalidArgument desc = Could not create volume "pvc-x": requested size 17592186044416 exceeds the maximum 16384 GiB for volume type gp3',
          {source: 'ebs.csi.aws.com_ebs-csi-controller-7d9f8c5b6-x2x9q_1a2b3c4d', count: 6},
        )
        break
      }
      case 'unknownProvisioner': {
        const pvc = makePVC(i, {cls: 'legacy-gluster', size: sizes[i % 4]}, uid)
        makeEvent(
          pvc,
          'ProvisioningFailed',
          'Failed to create provisioner: no volume plugin matched name: kubernetes.io/glusterfs',
          {source: 'persistentvolume-controller', count: 25},
        )
        break
      }
    }
  }
  // Fill up to the PV count: free local PVs on nvme nodes (100Gi: too small for the pinned pods),
  // small manual PVs (too small), Available shared PVs.
  let k = 0
  while (pvs.length < spec.pvs) {
    const r = k % 4
    if (r === 0 || r === 1) {
      const host = nvmeNodes[(freeLocal++ * 7) % nvmeNodes.length] ?? nodeName(0)
      localFreeHosts.push(host)
      makePV(`pv-local-free-${pad(k, 6)}`, {
        cls: 'local-nvme',
        size: '100Gi',
        host,
        phase: 'Available',
        disk: `nvme${k % 4}n1`,
      })
    } else if (r === 2)
      makePV(`pv-manual-${pad(k, 6)}`, {
        cls: 'manual',
        size: ['1Gi', '5Gi', '20Gi'][k % 3],
        phase: 'Available',
        host: nodeName(plainNode(k)),
      })
    else
      makePV(`pv-shared-free-${pad(k, 6)}`, {
        cls: 'shared',
        size: '10Gi',
        modes: ['ReadWriteMany'],
        phase: 'Available',
        provisionedBy: 'nfs.csi.k8s.io',
      })
    k++
  }
  // Pods without claims, up to the pod count.
  let p = 0
  while (pods.length < spec.pods) {
    const i = p++
    makePod(i, {namespace: nsOf((i * 37) % C), app: `web-${pad(Math.floor(i / 10), 5)}`, node: plainNode(i * 3)})
  }
  counts.events = events.length
  return {pvs, pvcs, storageClasses: storageClasses(), nodes, pods, events, csiDrivers: csiDrivers(), counts}
}

/** Writes `kubectl get pv,pvc,sc,nodes,pods,events -A -o json` output (plus CSIDrivers), 4-space indented. */
export async function writeList(file, cluster) {
  const out = createWriteStream(file)
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain')
  }
  await write('{\n    "apiVersion": "v1",\n    "items": [\n')
  let first = true
  for (const key of ['pvs', 'pvcs', 'storageClasses', 'nodes', 'pods', 'events', 'csiDrivers']) {
    let buf = ''
    for (const item of cluster[key]) {
      buf += `${first ? '' : ',\n'}        ${JSON.stringify(item, null, 4).replace(/\n/g, '\n        ')}`
      first = false
      if (buf.length > 1 << 20) {
        await write(buf)
        buf = ''
      }
    }
    await write(buf)
  }
  await write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')
  out.end()
  await once(out, 'finish')
}

/**
 * Issue 12 item 4: adds `count` pending pods (default a quarter of the nodes), each pinned to a
 * different node — by a `kubernetes.io/hostname` nodeSelector or a required node affinity, as
 * per-node StatefulSets and local-storage workloads are — each with its own WaitForFirstConsumer
 * local-PV claim. A quarter fit (a free PV on their node), a quarter find no PV on their node, a
 * quarter only a too-small one; the rest fit too, except some pinned to tainted or cordoned nodes
 * and a few to a node that no longer exists. Objects are cloned from the cluster's own.
 */
export function addPinnedPods(cluster, count = Math.floor(cluster.nodes.length / 4)) {
  const podT = cluster.pods.find((p) => p.spec.nodeSelector?.disktype === 'nvme')
  const pvcT = cluster.pvcs.find((c) => c.metadata.name === podT.spec.volumes[0].persistentVolumeClaim.claimName)
  const pvT = cluster.pvs.find((v) => v.metadata.name.startsWith('pv-local-free-'))
  const N = cluster.nodes.length
  for (let j = 0; j < count; j++) {
    const ns = `pinned-${pad(Math.floor(j / 100), 3)}`
    const n = (4 * j + (j % 4)) % N
    const host = j % 25 === 24 ? `node-retired-${pad(j)}` : cluster.nodes[n].metadata.name
    const claim = `data-local-${pad(j)}-0`
    const want = j % 4 === 2 ? '200Gi' : '50Gi'
    const pvc = structuredClone(pvcT)
    Object.assign(pvc.metadata, {name: claim, namespace: ns, uid: `pinned-pvc-${pad(j, 8)}`})
    pvc.metadata.labels = {app: `local-${pad(j)}`}
    pvc.spec.resources.requests.storage = want
    cluster.pvcs.push(pvc)
    if (j % 4 !== 1) {
      const pv = structuredClone(pvT)
      Object.assign(pv.metadata, {name: `pv-pinned-${pad(j)}`, uid: `pinned-pv-${pad(j, 8)}`})
      pv.spec.local.path = `/mnt/disks/pinned-${pad(j)}`
      pv.spec.capacity.storage = '100Gi'
      pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values = [host]
      cluster.pvs.push(pv)
    }
    const pod = structuredClone(podT)
    Object.assign(pod.metadata, {name: `local-${pad(j)}-0`, namespace: ns, uid: `pinned-pod-${pad(j, 8)}`})
    pod.metadata.generateName = `local-${pad(j)}-`
    pod.metadata.labels = {app: `local-${pad(j)}`, 'statefulset.kubernetes.io/pod-name': pod.metadata.name}
    pod.metadata.ownerReferences[0].name = `local-${pad(j)}`
    pod.metadata.ownerReferences[0].uid = `pinned-sts-${pad(j, 8)}`
    pod.spec.volumes[0].persistentVolumeClaim.claimName = claim
    delete pod.spec.nodeSelector
    if (j % 2 === 0) pod.spec.nodeSelector = {'kubernetes.io/hostname': host}
    else
      pod.spec.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [host]}]}],
          },
        },
      }
    pod.status = {phase: 'Pending', qosClass: 'Burstable'}
    cluster.pods.push(pod)
  }
  cluster.counts.pinned = count
  return cluster
}

/** The same List as writeList, without indentation (what `kubectl get -o json | jq -c` gives). */
export async function writeCompactList(file, cluster) {
  const out = createWriteStream(file)
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain')
  }
  await write('{"apiVersion":"v1","items":[')
  let first = true
  for (const key of ['pvs', 'pvcs', 'storageClasses', 'nodes', 'pods', 'events', 'csiDrivers']) {
    let buf = ''
    for (const item of cluster[key]) {
      buf += `${first ? '' : ','}${JSON.stringify(item)}`
      first = false
      if (buf.length > 1 << 20) {
        await write(buf)
        buf = ''
      }
    }
    await write(buf)
  }
  await write('],"kind":"List","metadata":{"resourceVersion":""}}\n')
  out.end()
  await once(out, 'finish')
}
