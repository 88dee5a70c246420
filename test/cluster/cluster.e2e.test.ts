// Self-test of the control-plane harness (docs/control-plane.md, recipe §4.6):
// real PV controller + real scheduler, no kubelet.
//   npx vitest run --config test/cluster/vitest.config.ts
// Set PV_DOCTOR_PRINT_MESSAGES=1 to print every observed event/condition text.

import {
  ApiException,
  CoreV1Api,
  type CoreV1Event,
  KubeConfig,
  RbacAuthorizationV1Api,
  StorageV1Api,
  type V1PersistentVolume,
  type V1Pod,
} from '@kubernetes/client-node'
import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {makeUserKubeconfig} from './cluster.js'

const cluster = inject('cluster')
/** The scheduler counts every node: the fake ones and, when the harness runs it, the real one. */
const nodeCount = inject('fakeNodes').length + (cluster.realNode ? 1 : 0)
const kc = new KubeConfig()
kc.loadFromFile(inject('kubeconfig'))
const core = kc.makeApiClient(CoreV1Api)
const storage = kc.makeApiClient(StorageV1Api)
const rbac = kc.makeApiClient(RbacAuthorizationV1Api)

const suffix = randomBytes(3).toString('hex')
const ns = `t-${suffix}`
const sc = `local-wffc-${suffix}`
const pvNames: string[] = []
const print = (label: string, v: unknown) => {
  if (process.env.PV_DOCTOR_PRINT_MESSAGES) console.log(`[observed] ${label}: ${JSON.stringify(v)}`)
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

async function events(name: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({namespace: ns, fieldSelector: `involvedObject.name=${name}`})
  return list.items
}

async function createPV(pv: V1PersistentVolume): Promise<void> {
  await core.createPersistentVolume({body: pv})
  pvNames.push(pv.metadata!.name!)
  // Wait for Available before creating claims (kubernetes/kubernetes#85320).
  await waitFor(`PV ${pv.metadata!.name} Available`, async () => {
    const p = await core.readPersistentVolume({name: pv.metadata!.name!})
    return p.status?.phase === 'Available'
  })
}

function localPV(name: string, node: string, size: string, storageClassName: string): V1PersistentVolume {
  return {
    metadata: {name},
    spec: {
      capacity: {storage: size},
      accessModes: ['ReadWriteOnce'],
      storageClassName,
      persistentVolumeReclaimPolicy: 'Retain',
      local: {path: '/mnt/disks/vol1'},
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: [node]}]}],
        },
      },
    },
  }
}

function claim(name: string, size: string, storageClassName: string) {
  return {
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName, resources: {requests: {storage: size}}},
  }
}

function podWithClaim(name: string, claimName: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: {name},
    spec: {
      containers: [{name: 'c', image: 'registry.invalid/never-pulled:1'}],
      volumes: [{name: 'data', persistentVolumeClaim: {claimName}}],
      ...extra,
    },
  }
}

async function failedScheduling(pod: string): Promise<string> {
  const ev = await waitFor(`FailedScheduling event for ${pod}`, async () =>
    (await events(pod)).find((e) => e.reason === 'FailedScheduling'),
  )
  print(
    `FailedScheduling ${pod} (reportingComponent=${ev.reportingComponent}, source=${ev.source?.component})`,
    ev.message,
  )
  return ev.message ?? ''
}

async function unschedulableCondition(pod: string) {
  return waitFor(`PodScheduled=False for ${pod}`, async () => {
    const p = await core.readNamespacedPod({name: pod, namespace: ns})
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled')
    return c?.status === 'False' ? c : undefined
  })
}

beforeAll(async () => {
  await core.createNamespace({body: {metadata: {name: ns}}})
  await storage.createStorageClass({
    body: {
      metadata: {name: sc},
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
  })
})

afterAll(async () => {
  const ignore = () => {}
  // Pods first, with grace 0 (no kubelet will ever confirm a graceful delete).
  const pods = await core.listNamespacedPod({namespace: ns}).catch(() => ({items: []}))
  for (const p of pods.items)
    await core.deleteNamespacedPod({name: p.metadata!.name!, namespace: ns, gracePeriodSeconds: 0}).catch(ignore)
  await core.deleteNamespace({name: ns}).catch(ignore)
  for (const pv of pvNames) await core.deletePersistentVolume({name: pv}).catch(ignore)
  await storage.deleteStorageClass({name: sc}).catch(ignore)
})

describe('fake nodes', () => {
  it('are registered Ready, untainted, with the harness labels', async () => {
    if (cluster.external) return
    const realNode = cluster.realNode
    const all = (await core.listNode()).items
    expect(all.map((n) => n.metadata?.name).sort()).toEqual(
      [...inject('fakeNodes'), ...(realNode ? [realNode] : [])].sort(),
    )
    const nodes = all.filter((n) => n.metadata?.name !== realNode)
    for (const n of nodes) {
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True')
      expect(n.spec?.taints ?? []).toEqual([])
      expect(n.metadata?.labels?.['kubernetes.io/hostname']).toBe(n.metadata?.name)
      expect(Number(n.status?.allocatable?.pods)).toBeGreaterThan(0)
    }
    const b1 = nodes.find((n) => n.metadata?.name === 'node-b1')
    expect(b1?.metadata?.labels?.['topology.kubernetes.io/zone']).toBe('zone-b')
  })
})

describe('(a) Immediate binding of a static PV', () => {
  it('binds a PVC to an Available PV created first', async () => {
    const pv = `pv-a-${suffix}`
    await createPV({
      metadata: {name: pv},
      spec: {
        capacity: {storage: '1Gi'},
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'manual',
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: {path: `/mnt/pvd/${pv}`},
      },
    })
    const t = Date.now()
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-a', '1Gi', 'manual')})
    const pvc = await waitFor(
      'claim-a Bound',
      async () => {
        const c = await core.readNamespacedPersistentVolumeClaim({name: 'claim-a', namespace: ns})
        return c.status?.phase === 'Bound' ? c : undefined
      },
      15_000,
    )
    print('immediate bind ms', Date.now() - t)
    expect(pvc.spec?.volumeName).toBe(pv)
    expect(pvc.metadata?.annotations?.['pv.kubernetes.io/bind-completed']).toBe('yes')
    expect(pvc.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller']).toBe('yes')
    const bound = await waitFor('PV Bound', async () => {
      const p = await core.readPersistentVolume({name: pv})
      return p.status?.phase === 'Bound' ? p : undefined
    })
    expect(bound.spec?.claimRef?.name).toBe('claim-a')
  })

  it('a claim with a class that has no StorageClass object: ProvisioningFailed, then binds on resync', async () => {
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-early', '1Gi', 'manual')})
    const ev = await waitFor('ProvisioningFailed event', async () =>
      (await events('claim-early')).find((e) => e.reason === 'ProvisioningFailed'),
    )
    print(`ProvisioningFailed (${ev.type}, source=${ev.source?.component})`, ev.message)
    expect(ev.type).toBe('Warning')
    expect(ev.source?.component).toBe('persistentvolume-controller')
    expect(ev.message).toBe('storageclass.storage.k8s.io "manual" not found')
    const pv = `pv-late-${suffix}`
    await core.createPersistentVolume({
      body: {
        metadata: {name: pv},
        spec: {
          capacity: {storage: '1Gi'},
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'manual',
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: {path: `/mnt/pvd/${pv}`},
        },
      },
    })
    pvNames.push(pv)
    const t = Date.now()
    await waitFor(
      'claim-early Bound',
      async () => {
        const c = await core.readNamespacedPersistentVolumeClaim({name: 'claim-early', namespace: ns})
        return c.status?.phase === 'Bound' && c.spec?.volumeName === pv
      },
      15_000,
    )
    print('late-PV bind ms (resync 2s)', Date.now() - t)
  })

  it('a claim with storageClassName "" and no PV: FailedBinding', async () => {
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-noclass', '3Gi', '')})
    const ev = await waitFor('FailedBinding event', async () =>
      (await events('claim-noclass')).find((e) => e.reason === 'FailedBinding'),
    )
    print(`FailedBinding (${ev.type}, source=${ev.source?.component})`, ev.message)
    expect(ev.type).toBe('Normal') // sic: FailedBinding is a Normal event
    expect(ev.source?.component).toBe('persistentvolume-controller')
    expect(ev.message).toBe('no persistent volumes available for this claim and no storage class is set')
  })
})

describe('(b) WaitForFirstConsumer + local PV with the real scheduler', () => {
  it('waits for a consumer, then binds the PVC and schedules the pod on node-b1', async () => {
    if (cluster.external) return // needs the fake node-b1
    const pv = `pv-local-b1-${suffix}`
    await createPV(localPV(pv, 'node-b1', '5Gi', sc))
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-b', '5Gi', sc)})
    const wffc = await waitFor('WaitForFirstConsumer event', async () =>
      (await events('claim-b')).find((e) => e.reason === 'WaitForFirstConsumer'),
    )
    print(`WaitForFirstConsumer (${wffc.type}, source=${wffc.source?.component})`, wffc.message)
    expect(wffc.type).toBe('Normal')
    const pending = await core.readNamespacedPersistentVolumeClaim({name: 'claim-b', namespace: ns})
    expect(pending.status?.phase).toBe('Pending')

    const t = Date.now()
    await core.createNamespacedPod({namespace: ns, body: podWithClaim('pod-b', 'claim-b')})
    const pod = await waitFor('pod-b scheduled', async () => {
      const p = await core.readNamespacedPod({name: 'pod-b', namespace: ns})
      return p.spec?.nodeName ? p : undefined
    })
    print('WFFC pod scheduled ms', Date.now() - t)
    expect(pod.spec?.nodeName).toBe('node-b1')
    const pvc = await core.readNamespacedPersistentVolumeClaim({name: 'claim-b', namespace: ns})
    expect(pvc.status?.phase).toBe('Bound')
    expect(pvc.spec?.volumeName).toBe(pv)
    print('claim-b annotations', pvc.metadata?.annotations)
    const scheduled = await waitFor('Scheduled event', async () =>
      (await events('pod-b')).find((e) => e.reason === 'Scheduled'),
    )
    print(
      `Scheduled (reportingComponent=${scheduled.reportingComponent}, source=${scheduled.source?.component})`,
      scheduled.message,
    )
    const claimEvents = (await events('claim-b')).map((e) => `${e.type}/${e.reason}: ${e.message}`)
    print('claim-b events', claimEvents)

    // Steady state without a kubelet (recipe §4.6 c).
    await new Promise((r) => setTimeout(r, 1000))
    const steady = await core.readNamespacedPod({name: 'pod-b', namespace: ns})
    expect(steady.status?.phase).toBe('Pending')
    expect(steady.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True')
    expect(steady.status?.containerStatuses ?? []).toEqual([])
  })
})

describe('(c) unschedulable pods report the upstream reasons', () => {
  it('no PV fits a WFFC claim: FailedScheduling, PodScheduled=False/Unschedulable', async () => {
    if (cluster.external) return
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-big', '50Gi', sc)})
    await core.createNamespacedPod({namespace: ns, body: podWithClaim('pod-nopv', 'claim-big')})
    const cond = await unschedulableCondition('pod-nopv')
    print('PodScheduled condition (no PV)', {reason: cond.reason, message: cond.message})
    expect(cond.reason).toBe('Unschedulable')
    const msg = await failedScheduling('pod-nopv')
    expect(msg).toMatch(new RegExp(`^0/${nodeCount} nodes are available: `))
    expect(msg).toContain("didn't find available persistent volumes to bind")
    const pvc = await core.readNamespacedPersistentVolumeClaim({name: 'claim-big', namespace: ns})
    expect(pvc.status?.phase).toBe('Pending')
    const claimEvents = (await events('claim-big')).map((e) => `${e.type}/${e.reason}: ${e.message}`)
    print('claim-big events', claimEvents)
  })

  it('a local PV on another node: node affinity conflict', async () => {
    if (cluster.external) return
    const pv = `pv-local-c1-${suffix}`
    await createPV(localPV(pv, 'node-c1', '2Gi', sc))
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-c1', '2Gi', sc)})
    await core.createNamespacedPod({
      namespace: ns,
      body: podWithClaim('pod-affinity', 'claim-c1', {nodeSelector: {'topology.kubernetes.io/zone': 'zone-a'}}),
    })
    const cond = await unschedulableCondition('pod-affinity')
    print('PodScheduled condition (affinity)', {reason: cond.reason, message: cond.message})
    const msg = await failedScheduling('pod-affinity')
    expect(msg).toMatch(new RegExp(`^0/${nodeCount} nodes are available: `))
  })

  it('a bound PV on another node: volume node affinity conflict', async () => {
    if (cluster.external) return
    // claim-b is bound to the local PV on node-b1 (test b); a second pod pinned to zone-c cannot use it.
    await core.createNamespacedPod({
      namespace: ns,
      body: podWithClaim('pod-bound-conflict', 'claim-b', {nodeSelector: {'topology.kubernetes.io/zone': 'zone-c'}}),
    })
    await unschedulableCondition('pod-bound-conflict')
    const msg = await failedScheduling('pod-bound-conflict')
    expect(msg).toMatch(new RegExp(`^0/${nodeCount} nodes are available: `))
  })

  it('an unbound Immediate claim blocks scheduling', async () => {
    await core.createNamespacedPersistentVolumeClaim({namespace: ns, body: claim('claim-imm', '7Gi', 'manual')})
    await core.createNamespacedPod({namespace: ns, body: podWithClaim('pod-imm', 'claim-imm')})
    const cond = await unschedulableCondition('pod-imm')
    print('PodScheduled condition (immediate unbound)', {reason: cond.reason, message: cond.message})
    const msg = await failedScheduling('pod-imm')
    expect(msg).toContain('unbound immediate PersistentVolumeClaims')
  })

  it('a missing claim blocks scheduling', async () => {
    await core.createNamespacedPod({namespace: ns, body: podWithClaim('pod-noclaim', 'does-not-exist')})
    await unschedulableCondition('pod-noclaim')
    const msg = await failedScheduling('pod-noclaim')
    expect(msg).toContain('not found')
  })
})

describe('makeUserKubeconfig', () => {
  it('creates a least-privilege user that RBAC can grant rights to', async () => {
    if (cluster.external) return
    const file = makeUserKubeconfig(cluster, `alice-${suffix}`, ['pv-doctor-testers'])
    const ukc = new KubeConfig()
    ukc.loadFromFile(file)
    const ucore = ukc.makeApiClient(CoreV1Api)
    const err = await ucore.listNamespacedPersistentVolumeClaim({namespace: ns}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiException)
    expect((err as ApiException<string>).code).toBe(403)
    print('403 body', JSON.parse((err as ApiException<string>).body).message)
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: {name: 'testers-view'},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view'},
        subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'pv-doctor-testers'}],
      },
    })
    const list = await waitFor(
      'RBAC grant effective',
      () => ucore.listNamespacedPersistentVolumeClaim({namespace: ns}),
      10_000,
    )
    expect(list.items.length).toBeGreaterThan(0)
  })
})
