// VolumeBinding evaluated once per group of nodes it cannot tell apart (binding/volumeTopology.ts)
// gives, on every feasible node, what evaluating FindPodVolumes on that node gives: the same
// reasons and the same outcome for each claim. Nodes differ in the labels PVs, allowedTopologies
// and CSIStorageCapacity topologies read (hostname, zone, numeric rack for Gt, a key only tested
// for existence), and in labels nothing reads.
import type {
  V1CSINode,
  V1CSIStorageCapacity,
  V1Node,
  V1NodeSelectorTerm,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StorageClass,
} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {analysePod, claimOnFeasible, claimOutcomeList} from '../../src/binding/consumers.js'
import {isClaimBound, volumeBindingOnNode} from '../../src/binding/scheduling.js'
import {isDelayBinding} from '../../src/binding/storageClass.js'
import {topologySignature} from '../../src/binding/volumeTopology.js'
import {buildWorld, type World} from '../../src/binding/world.js'
import {emptySnapshot} from '../../src/snapshot/types.js'

const ZONES = ['zone-a', 'zone-b', 'zone-c']

function node(i: number): V1Node {
  return {
    metadata: {
      name: `node-${i}`,
      labels: {
        'kubernetes.io/hostname': `node-${i}`,
        'topology.kubernetes.io/zone': ZONES[i % 3],
        rack: String(i % 4),
        'unread/label': `x${i}`,
        ...(i % 5 === 0 ? {disktype: 'nvme'} : {}),
        ...(i % 2 === 0 ? {'topology.ebs.csi.aws.com/zone': ZONES[i % 3]} : {}),
      },
    },
    spec: i === 7 ? {taints: [{key: 'dedicated', value: 'infra', effect: 'NoSchedule'}]} : {},
  }
}

const affinity = (terms: V1NodeSelectorTerm[]) => ({required: {nodeSelectorTerms: terms}})
const onHost = (h: string) =>
  affinity([{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [h]}]}])

function pv(name: string, cls: string, size: string, nodeAffinity?: ReturnType<typeof affinity>): V1PersistentVolume {
  return {
    metadata: {name},
    spec: {
      storageClassName: cls,
      capacity: {storage: size},
      accessModes: ['ReadWriteOnce'],
      ...(nodeAffinity ? {nodeAffinity} : {}),
      local: {path: `/mnt/${name}`},
    },
    status: {phase: 'Available'},
  }
}

function sc(name: string, provisioner: string, extra: Partial<V1StorageClass> = {}): V1StorageClass {
  return {metadata: {name}, provisioner, volumeBindingMode: 'WaitForFirstConsumer', ...extra}
}

function claim(name: string, cls: string, size: string, extra: Partial<V1PersistentVolumeClaim> = {}) {
  return {
    metadata: {name, namespace: 'ns', uid: `uid-${name}`, ...extra.metadata},
    spec: {
      storageClassName: cls,
      accessModes: ['ReadWriteOnce'],
      resources: {requests: {storage: size}},
      ...extra.spec,
    },
    status: {phase: 'Pending', ...extra.status},
  } as V1PersistentVolumeClaim
}

function pod(name: string, claims: string[], spec: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: {name, namespace: 'ns', uid: `uid-${name}`},
    spec: {
      containers: [],
      volumes: claims.map((c) => ({name: c, persistentVolumeClaim: {claimName: c}})),
      ...spec,
    },
  }
}

function world(): World {
  const s = emptySnapshot()
  s.nodes = Array.from({length: 24}, (_, i) => node(i))
  s.storageClasses = [
    sc('local', 'kubernetes.io/no-provisioner'),
    sc('zonal', 'ebs.csi.aws.com', {
      allowedTopologies: [
        {matchLabelExpressions: [{key: 'topology.kubernetes.io/zone', values: ['zone-a', 'zone-b']}]},
      ],
    }),
    sc('capped', 'capped.csi.example'),
    sc('mixed', 'mixed.csi.example'),
  ]
  s.csiDrivers = [{metadata: {name: 'capped.csi.example'}, spec: {storageCapacity: true}}]
  const cap = (name: string, zone: string, size: string): V1CSIStorageCapacity => ({
    metadata: {name, namespace: 'kube-system'},
    storageClassName: 'capped',
    nodeTopology: {matchLabels: {'topology.kubernetes.io/zone': zone}},
    capacity: size,
  })
  s.csiStorageCapacities = [cap('cap-a', 'zone-a', '100Gi'), cap('cap-b', 'zone-b', '5Gi')]
  s.pvs = [
    // Local PVs pinned by hostname, of several sizes, some nodes with two.
    pv('local-1', 'local', '10Gi', onHost('node-0')),
    pv('local-2', 'local', '50Gi', onHost('node-0')),
    pv('local-3', 'local', '10Gi', onHost('node-5')),
    pv('local-4', 'local', '10Gi', onHost('node-10')),
    pv('local-5', 'local', '100Gi', onHost('node-15')),
    pv('local-6', 'local', '10Gi', onHost('node-7')),
    // Mixed class: zone In, zone NotIn, Exists, Gt, two terms, and one anywhere.
    pv(
      'mixed-zone',
      'mixed',
      '10Gi',
      affinity([{matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-b']}]}]),
    ),
    pv(
      'mixed-notin',
      'mixed',
      '20Gi',
      affinity([{matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'NotIn', values: ['zone-a']}]}]),
    ),
    pv('mixed-exists', 'mixed', '10Gi', affinity([{matchExpressions: [{key: 'disktype', operator: 'Exists'}]}])),
    pv('mixed-gt', 'mixed', '10Gi', affinity([{matchExpressions: [{key: 'rack', operator: 'Gt', values: ['1']}]}])),
    pv(
      'mixed-terms',
      'mixed',
      '30Gi',
      affinity([
        {matchExpressions: [{key: 'rack', operator: 'In', values: ['0']}]},
        {
          matchExpressions: [
            {key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-c']},
            {key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-2']},
          ],
        },
      ]),
    ),
    pv('mixed-anywhere', 'mixed', '40Gi'),
    // A bound PV pinned to zone-a, and one of the local class pinned to a node.
    {
      ...pv(
        'bound-zonal',
        'zonal',
        '10Gi',
        affinity([{matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-a']}]}]),
      ),
      spec: {
        ...pv('x', 'zonal', '10Gi').spec,
        nodeAffinity: affinity([
          {matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone-a']}]},
        ]),
        claimRef: {namespace: 'ns', name: 'bound', uid: 'uid-bound'},
      },
      status: {phase: 'Bound'},
    },
  ]
  // An in-tree EBS volume: on a node whose CSINode lists the plugin as migrated, the scheduler
  // checks it against the CSI driver's zone key (which only even nodes carry here).
  s.pvs.push({
    metadata: {name: 'ebs-bound', labels: {'topology.kubernetes.io/zone': 'zone-b'}},
    spec: {
      storageClassName: 'zonal',
      capacity: {storage: '10Gi'},
      accessModes: ['ReadWriteOnce'],
      awsElasticBlockStore: {volumeID: 'vol-1'},
      claimRef: {namespace: 'ns', name: 'ebs', uid: 'uid-ebs'},
    },
    status: {phase: 'Bound'},
  })
  s.csiNodes = [3, 4, 5, 6, 7, 8, 9, 10].map(
    (i): V1CSINode => ({
      metadata: {
        name: `node-${i}`,
        annotations:
          i % 3 === 0
            ? {}
            : ({'storage.alpha.kubernetes.io/migrated-plugins': 'kubernetes.io/aws-ebs'} as Record<string, string>),
      },
      spec: {drivers: []},
    }),
  )
  const boundAnn = {annotations: {'pv.kubernetes.io/bind-completed': 'yes'}}
  s.pvcs = [
    claim('small-local', 'local', '5Gi'),
    claim('big-local', 'local', '40Gi'),
    claim('huge-local', 'local', '500Gi'),
    claim('zonal', 'zonal', '1Gi'),
    claim('capped-small', 'capped', '10Gi'),
    claim('capped-big', 'capped', '50Gi'),
    claim('mixed-a', 'mixed', '5Gi'),
    claim('mixed-b', 'mixed', '15Gi'),
    claim('selected', 'zonal', '1Gi', {metadata: {annotations: {'volume.kubernetes.io/selected-node': 'node-4'}}}),
    claim('ebs', 'zonal', '10Gi', {metadata: boundAnn, spec: {volumeName: 'ebs-bound'}, status: {phase: 'Bound'}}),
    claim('bound', 'zonal', '10Gi', {
      metadata: boundAnn,
      spec: {volumeName: 'bound-zonal'},
      status: {phase: 'Bound'},
    }),
  ]
  s.pods = [
    pod('p-small', ['small-local']),
    pod('p-two', ['small-local', 'big-local']),
    pod('p-huge', ['huge-local']),
    pod('p-zonal', ['zonal']),
    pod('p-capped', ['capped-small', 'capped-big']),
    pod('p-mixed', ['mixed-a', 'mixed-b']),
    pod('p-selected', ['selected']),
    pod('p-bound', ['bound', 'mixed-a']),
    pod('p-migrated', ['ebs', 'small-local']),
    pod('p-nvme', ['mixed-b'], {nodeSelector: {disktype: 'nvme'}}),
    pod('p-tolerates', ['small-local'], {tolerations: [{key: 'dedicated', operator: 'Exists'}]}),
  ]
  s.allNamespaces = true
  return buildWorld(s)
}

/** FindPodVolumes on each feasible node, one by one. */
function perNode(p: V1Pod, w: World) {
  const claims = (p.spec?.volumes ?? []).map((v) => w.claims.get(`ns/${v.persistentVolumeClaim!.claimName}`)!)
  const bound = claims.filter(isClaimBound)
  const delayed = claims.filter((c) => !isClaimBound(c) && isDelayBinding(c, w.classes))
  return (nodes: readonly V1Node[]) => nodes.map((n) => ({node: n, v: volumeBindingOnNode(n, bound, delayed, w)}))
}

describe('VolumeBinding by node group', () => {
  const w = world()
  for (const p of w.snapshot.pods) {
    it(`${p.metadata!.name}: every feasible node gets the verdict and claim outcomes of its own evaluation`, () => {
      const a = analysePod(p, w)
      expect(a.preFilter).toBeUndefined()
      expect(a.feasible.length).toBeGreaterThan(1)
      const expected = perNode(p, w)(a.feasible)
      const position = new Map(w.nodes.map((n, i) => [n, i]))
      for (const {node: n, v} of expected) {
        expect(a.nodeAt(position.get(n)!)).toEqual({name: n.metadata!.name, reasons: v.error ? [v.error] : v.reasons})
      }
      expect(a.fits.map((n) => n.metadata!.name)).toEqual(
        expected.filter(({v}) => !v.error && v.reasons.length === 0).map(({node: n}) => n.metadata!.name),
      )
      const keys = new Set(expected.flatMap(({v}) => [...v.claims.keys()]))
      expect(new Set(a.claimOutcomes.keys())).toEqual(keys)
      for (const key of keys)
        expect(claimOutcomeList(a, key)).toEqual(
          expected.flatMap(({node: n, v}) =>
            v.claims.has(key) ? [{node: n.metadata!.name, outcome: v.claims.get(key)}] : [],
          ),
        )
    })
  }

  it('the PVs a pod may get are those of the nodes it fits on, whichever node of a group is asked', () => {
    const a = analysePod(w.snapshot.pods.find((p) => p.metadata!.name === 'p-small')!, w)
    const {statics, ties, onFits} = claimOnFeasible(a, 'ns/small-local')
    expect(onFits).toBe(true)
    // local-6 is on node-7, whose taint the pod does not tolerate.
    expect(statics).toEqual(['local-1', 'local-3', 'local-4', 'local-5'])
    expect(ties).toEqual(['local-3', 'local-4', 'local-5'])
  })

  it('an in-tree PV is checked against the CSI zone key only on nodes whose CSINode lists it as migrated', () => {
    const a = analysePod(w.snapshot.pods.find((p) => p.metadata!.name === 'p-migrated')!, w)
    const conflict = a.feasible
      .map((n) => [n.metadata!.name, a.nodeAt(w.nodes.indexOf(n)).reasons] as const)
      .filter(([, r]) => r.includes(w.rules.nodeConflictReason))
      .map(([n]) => n)
    // node-7 is tainted; node-4 and node-10 carry the CSI zone label of the PV's zone.
    expect(conflict).toEqual(['node-5', 'node-8'])
  })

  it('the scheduler lists the zones a zonal class may provision in, in node order', () => {
    const a = analysePod(w.snapshot.pods.find((p) => p.metadata!.name === 'p-zonal')!, w)
    const {provisionOn, kinds} = claimOnFeasible(a, 'ns/zonal')
    expect(kinds).toEqual(new Set(['provision', 'topology']))
    expect(provisionOn).toEqual(
      a.fits.map((n) => n.metadata!.name).filter((n) => ['zone-a', 'zone-b'].includes(ZONES[Number(n!.slice(5)) % 3])),
    )
  })
})

describe('topology signature', () => {
  const w = world()
  const claims = (...names: string[]) => names.map((n) => w.claims.get(`ns/${n}`)!)

  it('nodes that differ only in labels no selector reads, or in hostnames no PV names, share one', () => {
    const sig = topologySignature([], claims('small-local'), w)
    // node-1, node-2, node-3 carry no local PV: one group; node-0 and node-5 each their own.
    expect(sig(w.nodes[1])).toBe(sig(w.nodes[2]))
    expect(sig(w.nodes[1])).toBe(sig(w.nodes[3]))
    expect(sig(w.nodes[0])).not.toBe(sig(w.nodes[1]))
    expect(sig(w.nodes[0])).not.toBe(sig(w.nodes[5]))
    expect(new Set(w.nodes.map(sig)).size).toBe(6)
  })

  it('a Gt requirement keeps the whole value, a selected node its name', () => {
    const gt = topologySignature([], claims('mixed-a'), w)
    // rack 2 and rack 3 both pass Gt 1 but are told apart; zones and nvme also count.
    expect(gt(w.nodes[2])).not.toBe(gt(w.nodes[3]))
    const sel = topologySignature([], claims('selected'), w)
    expect(sel(w.nodes[4])).not.toBe(sel(w.nodes[1]))
    expect(sel(w.nodes[1])).toBe(sel(w.nodes[7]))
  })
})
