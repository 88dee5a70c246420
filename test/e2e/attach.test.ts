/**
 * After binding: a ReadWriteOnce volume that the real attach-detach controller keeps on another
 * node, through the real external-attacher and the harness's CSI driver. The fake nodes have no
 * kubelet, so the test plays its node-status part through the API (the pod's Running status and
 * the node's `volumesInUse`, as a kubelet reports a mounted volume), and says so where it does.
 * Each verdict is checked live and from a `pv-doctor snapshot` of the same moment.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {nodeManifest} from '../cluster/cluster.js'
import {PODS, pathOf} from '../../src/kube/paths.js'
import {runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {type ClaimOut, Scenario} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const cluster = inject('cluster')
const csi = cluster.csi
if (!csi) process.stderr.write('[pv-doctor e2e] attach.test.ts skipped: no harness CSI driver (external cluster)\n')

const TMP = mkdtempSync(join(tmpdir(), 'pvd-attach-'))
let kube: Kube
let s: Scenario

type PV = Obj & {spec: {csi?: {driver: string; volumeHandle: string}}}
type VA = Obj & {spec: {nodeName: string; source: {persistentVolumeName?: string}}; status?: {attached?: boolean}}
type Pod = Obj & {spec: {nodeName?: string}; metadata: {name: string; labels?: Record<string, string>}}
type Ev = Obj & {reason?: string; message?: string; involvedObject?: {name?: string}}

beforeAll(async () => {
  if (!csi) return
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'attach')
  await s.setup()
})

afterAll(async () => {
  if (!csi) return
  await kube.client
    .request('DELETE', `/apis/apps/v1/namespaces/${s.ns}/deployments/web`, {query: {propagationPolicy: 'Background'}})
    .catch(() => undefined)
  await kube.client.request('DELETE', `/apis/apps/v1/namespaces/${s.ns}/replicasets`).catch(() => undefined)
  for (const n of ['node-a1', 'node-a2']) await kube.reportVolumesInUse(n, []).catch(() => undefined)
  for (const p of await kube.list<Obj>('Pod', s.ns)) await kube.delete('Pod', p.metadata!.name!, s.ns)
  await s.cleanup()
})

function storageClass(name: string): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {name},
    provisioner: csi!.driver,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    allowedTopologies: [{matchLabelExpressions: [{key: 'topology.kubernetes.io/zone', values: ['zone-a']}]}],
  }
}

function claim(name: string, cls: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {name},
    spec: {accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: {requests: {storage: '1Gi'}}},
  }
}

function podSpec(claimName: string, node: string, grace = 0) {
  return {
    nodeSelector: {'kubernetes.io/hostname': node},
    terminationGracePeriodSeconds: grace,
    containers: [{name: 'app', image: 'registry.invalid/app:1'}],
    volumes: [{name: 'data', persistentVolumeClaim: {claimName}}],
  }
}

async function boundPV(name: string): Promise<PV> {
  const c = await kube.waitFor(
    () => kube.get<Obj & {spec: {volumeName?: string}; status?: {phase?: string}}>('PersistentVolumeClaim', name, s.ns),
    (x) => x.status?.phase === 'Bound',
    30_000,
  )
  expect(c, `claim ${name} bound`).toBeDefined()
  return (await kube.get<PV>('PersistentVolume', c!.spec.volumeName!))!
}

const attachedTo = (pv: string, node: string) =>
  kube.waitFor(
    async () =>
      (await kube.list<VA>('VolumeAttachment')).find(
        (v) => v.spec.source.persistentVolumeName === pv && v.spec.nodeName === node,
      ),
    (v) => v.status?.attached === true,
    30_000,
  )

const uniqueName = (pv: PV) => `kubernetes.io/csi/${pv.spec.csi!.driver}^${pv.spec.csi!.volumeHandle}`

/** Plays the kubelet: the pod's containers run (as a kubelet reports them in the pod's status). */
async function reportRunning(name: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  await kube.client.request('PATCH', pathOf(PODS, {namespace: s.ns, name, subresource: 'status'}), {
    body: {
      status: {
        phase: 'Running',
        conditions: [{type: 'Ready', status: 'True', lastTransitionTime: now}],
        containerStatuses: [
          {
            name: 'app',
            image: 'registry.invalid/app:1',
            imageID: '',
            ready: true,
            restartCount: 0,
            started: true,
            state: {running: {startedAt: now}},
          },
        ],
      },
    },
    contentType: 'application/merge-patch+json',
  })
}

async function multiAttachEvent(pod: string): Promise<Ev | undefined> {
  const l = await kube.waitFor(
    async () => (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === pod),
    (x) => x.some((e) => e.reason === 'FailedAttachVolume'),
    40_000,
  )
  return l?.find((e) => e.reason === 'FailedAttachVolume')
}

/** explain pod/NAME live and from a snapshot taken right after: the same verdict. */
function explainBoth(pod: string): {live: ClaimOut; offline: ClaimOut} {
  const live = s.explain([`pod/${pod}`])
  expect(live.stderr).toBe('')
  const snap = runCli(['snapshot', '-n', s.ns, '--kubeconfig', kubeconfig, '-o', 'json'])
  expect(snap.code, snap.stderr).toBe(0)
  const file = join(TMP, `${pod}.json`)
  writeFileSync(file, snap.stdout)
  const off = runCli(['explain', '-n', s.ns, `pod/${pod}`, '--from-file', file, '-o', 'json'])
  const offline = JSON.parse(off.stdout) as {claims: ClaimOut[]}
  return {live: live.json!.claims[0], offline: offline.claims[0]}
}

/** What must agree live and offline; an event's count (` (xN)`) moves on between the two reads. */
const verdict = (c: ClaimOut) => ({
  cause: c.cause,
  message: c.message,
  evidence: c.evidence.map((e) => e.replace(/ \(x\d+\)$/, '')),
  fix: (c as {fix?: string[]}).fix,
})

describe.skipIf(!csi)('a ReadWriteOnce volume still attached to another node', () => {
  it('a Deployment rolling update whose new pod lands on another node: explain pod/NEW names the old pod and node, and says the rollout never frees it', async () => {
    const cls = s.n('rwo')
    await s.create(storageClass(cls))
    await s.create(claim('data', cls))
    const pv = await boundPV('data')
    const template = (node: string) => ({metadata: {labels: {app: 'web'}}, spec: podSpec('data', node)})
    await s.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'web'},
      spec: {replicas: 1, selector: {matchLabels: {app: 'web'}}, template: template('node-a1')},
    })
    const oldPod = (await kube.waitFor(
      async () => (await kube.list<Pod>('Pod', s.ns)).find((p) => p.spec.nodeName === 'node-a1'),
      () => true,
      30_000,
    ))!
    expect(oldPod, 'the Deployment placed its pod on node-a1').toBeDefined()
    expect(await attachedTo(pv.metadata!.name!, 'node-a1')).toBeDefined()
    // The test plays node-a1's kubelet: the container runs and the volume is mounted there.
    await reportRunning(oldPod.metadata.name)
    await kube.reportVolumesInUse('node-a1', [uniqueName(pv)])

    // The update: the new template runs on node-a2; the Deployment starts a new pod before removing the old one.
    await kube.client.request('PATCH', `/apis/apps/v1/namespaces/${s.ns}/deployments/web`, {
      body: {spec: {template: template('node-a2')}},
      contentType: 'application/merge-patch+json',
    })
    const newPod = (await kube.waitFor(
      async () => (await kube.list<Pod>('Pod', s.ns)).find((p) => p.spec.nodeName === 'node-a2'),
      () => true,
      30_000,
    ))!
    expect(newPod, 'the rollout placed a new pod on node-a2').toBeDefined()
    const ev = await multiAttachEvent(newPod.metadata.name)
    // the attach-detach controller's own words (either wording, depending on the patch release)
    expect(ev?.message).toMatch(
      new RegExp(
        `^(Multi-Attach error|Waiting for detach) for volume "${pv.metadata!.name}" Volume is already used by pod\\(s\\) ${oldPod.metadata.name}$`,
      ),
    )

    const {live, offline} = explainBoth(newPod.metadata.name)
    expect(live.cause).toBe('VolumeAttachedElsewhere')
    expect(live.message).toContain('still attached to node node-a1')
    expect(live.message).toContain(`${oldPod.metadata.name} (Running) on node-a1`)
    expect(live.message).toContain('Deployment web')
    expect(live.message).toContain('stuck for good')
    expect(live.evidence[0]).toContain(ev!.message!)
    expect(verdict(offline)).toEqual(verdict(live))
    // the namespace scan finds it too with --pods (the claim alone is Bound and healthy)
    const scan = s.explain(['--pods']).json!.claims.map((c) => [c.name, (c as {pod?: string}).pod, c.cause])
    expect(scan).toEqual([['data', newPod.metadata.name, 'VolumeAttachedElsewhere']])

    // The fix pv-doctor prints, applied: the Deployment stops the old pod, the volume moves to node-a2.
    await kube.client.request('PATCH', `/apis/apps/v1/namespaces/${s.ns}/deployments/web`, {
      body: {spec: {strategy: {type: 'Recreate', rollingUpdate: null}}},
      contentType: 'application/merge-patch+json',
    })
    // The test plays node-a1's kubelet again: the old pod is gone, so it unmounts.
    await kube.waitFor(
      () => kube.get('Pod', oldPod.metadata.name, s.ns).then((p) => p ?? null),
      (p) => p === null,
      30_000,
    )
    await kube.reportVolumesInUse('node-a1', [])
    expect(await attachedTo(pv.metadata!.name!, 'node-a2'), 'attached to the new node after the fix').toBeDefined()
  })

  it('the old pod Terminating on a NotReady node: not freed by waiting; with the out-of-service taint and the pod removed it is detached at once', async () => {
    const dead = s.n('dead').slice(0, 60)
    await s.create({...(nodeManifest({name: dead, zone: 'zone-a', region: 'region-1'}) as Obj), kind: 'Node'})
    // What the node-driver-registrar makes on a node; this fake node has no kubelet to do it.
    await s.create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSINode',
      metadata: {name: dead},
      spec: {drivers: [{name: csi!.driver, nodeID: dead, topologyKeys: ['topology.kubernetes.io/zone']}]},
    })
    const cls = s.n('rwo2')
    await s.create(storageClass(cls))
    await s.create(claim('db', cls))
    const pv = await boundPV('db')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'db-old'}, spec: podSpec('db', dead, 30)})
    expect(await attachedTo(pv.metadata!.name!, dead)).toBeDefined()
    // The test plays the node's kubelet (the pod runs, the volume is mounted), then the node dies:
    // its Ready condition goes Unknown, as the node lifecycle controller sets it when heartbeats stop.
    await reportRunning('db-old')
    await kube.reportVolumesInUse(dead, [uniqueName(pv)])
    const since = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    await kube.client.request('PATCH', `/api/v1/nodes/${dead}/status`, {
      body: {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastHeartbeatTime: since,
              lastTransitionTime: since,
            },
          ],
        },
      },
      contentType: 'application/strategic-merge-patch+json',
    })
    // Deleted with a grace period: no kubelet confirms it, so it stays Terminating.
    await kube.client.request('DELETE', pathOf(PODS, {namespace: s.ns, name: 'db-old'}))
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'db-new'}, spec: podSpec('db', 'node-a2')})
    const ev = await multiAttachEvent('db-new')
    expect(ev?.message).toContain('Volume is already used by pod(s) db-old')

    const {live, offline} = explainBoth('db-new')
    expect(live.cause).toBe('VolumeAttachedElsewhere')
    expect(live.message).toContain('db-old (Terminating since')
    expect(live.message).toContain(`node ${dead} is NotReady since ${since}`)
    expect(live.message).toContain('not freed by waiting')
    const fix = (live as {fix?: string[]}).fix!.join('\n')
    expect(fix).toContain(`kubectl taint node ${dead} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`)
    expect(fix).toContain(`kubectl delete pod -n ${s.ns} db-old --force --grace-period=0`)
    expect(verdict(offline)).toEqual(verdict(live))

    // The fix, applied (this test's node is "really down"): taint, and remove the pod (no pod GC runs
    // in the harness, which would delete it on its own). The volume leaves at once, though still in use.
    await kube.client.request('PATCH', `/api/v1/nodes/${dead}`, {
      body: {spec: {taints: [{key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute'}]}},
      contentType: 'application/merge-patch+json',
    })
    await kube.delete('Pod', 'db-old', s.ns)
    expect(await attachedTo(pv.metadata!.name!, 'node-a2'), 'attached to node-a2 well before 6 minutes').toBeDefined()
  })
})

describe.skipIf(!csi)('the attach itself, and the mount on a node without a kubelet', () => {
  /** A fake node in zone-a with its own CSINode (what the node-driver-registrar would make). */
  async function fakeNode(name: string, drivers: object[]): Promise<void> {
    await s.create({...(nodeManifest({name, zone: 'zone-a', region: 'region-1'}) as Obj), kind: 'Node'})
    await s.create({apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: {name}, spec: {drivers}})
  }

  it('AttachFailed: the driver refuses ControllerPublish; the VolumeAttachment error is the verdict', async () => {
    const cls = s.n('noattach')
    await s.create({...storageClass(cls), parameters: {'fail-attach': 'Internal: backend unreachable while attaching'}})
    await s.create(claim('noattach', cls))
    const pv = await boundPV('noattach')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'noattach'}, spec: podSpec('noattach', 'node-a2')})
    await kube.waitFor(
      async () => (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === 'noattach'),
      (l) => l.some((e) => e.reason === 'FailedAttachVolume'),
      40_000,
    )
    const {live, offline} = explainBoth('noattach')
    expect(live.cause).toBe('AttachFailed')
    expect(live.message).toContain(
      `Attaching PV ${pv.metadata!.name} to node node-a2 failed in the CSI driver ${csi!.driver}: rpc error: code = Internal desc = backend unreachable while attaching`,
    )
    expect(live.evidence.join('\n')).toContain(`AttachVolume.Attach failed for volume "${pv.metadata!.name}"`)
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('DriverNotOnNode: the CSINode of the pod’s node does not list the driver', async () => {
    const bare = s.n('nodriver').slice(0, 60)
    await fakeNode(bare, [])
    const cls = s.n('nd')
    await s.create(storageClass(cls))
    await s.create(claim('nodriver', cls))
    await boundPV('nodriver')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'nodriver'}, spec: podSpec('nodriver', bare)})
    await kube.waitFor(
      () => kube.get<Pod>('Pod', 'nodriver', s.ns),
      (p) => p.spec.nodeName === bare,
      30_000,
    )
    const {live, offline} = explainBoth('nodriver')
    expect(live.cause).toBe('DriverNotOnNode')
    expect(live.message).toContain(
      `CSI driver ${csi!.driver} is not registered on node ${bare} (its CSINode does not list it)`,
    )
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('VolumeLimitExceeded: the only node the pod may use allows no more volumes of the driver; the scheduler agrees', async () => {
    const full = s.n('full').slice(0, 60)
    await fakeNode(full, [{name: csi!.driver, nodeID: full, allocatable: {count: 0}}])
    const cls = s.n('lim')
    await s.create(storageClass(cls))
    await s.create(claim('limited', cls))
    await boundPV('limited')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'limited'}, spec: podSpec('limited', full)})
    const pod = await kube.waitFor(
      () =>
        kube.get<Pod & {status?: {conditions?: {type: string; status: string; message?: string}[]}}>(
          'Pod',
          'limited',
          s.ns,
        ),
      (p) => Boolean(p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')),
      30_000,
    )
    const cond = pod!.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message!
    expect(cond).toContain('1 node(s) exceed max volume count')
    const {live, offline} = explainBoth('limited')
    expect(live.cause).toBe('VolumeLimitExceeded')
    expect(live.message).toContain(`${full} 0/0 of ${csi!.driver} in use, +1`)
    expect(live.evidence[0]).toContain(cond)
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('ReadWriteOncePodInUse: the scheduler keeps a second pod of a ReadWriteOncePod claim off every node', async () => {
    const pvName = s.n('rwop')
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {name: pvName},
      spec: {
        capacity: {storage: '1Gi'},
        accessModes: ['ReadWriteOncePod'],
        storageClassName: '',
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: {path: `/mnt/pvd/${pvName}`},
        claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: s.ns, name: 'single'},
      },
    })
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {name: 'single'},
      spec: {accessModes: ['ReadWriteOncePod'], storageClassName: '', resources: {requests: {storage: '1Gi'}}},
    })
    await boundPV('single')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'first'}, spec: podSpec('single', 'node-a1')})
    await kube.waitFor(
      () => kube.get<Pod>('Pod', 'first', s.ns),
      (p) => p.spec.nodeName === 'node-a1',
      30_000,
    )
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'second'}, spec: podSpec('single', 'node-a2')})
    const pod = await kube.waitFor(
      () =>
        kube.get<Pod & {status?: {conditions?: {type: string; status: string; message?: string}[]}}>(
          'Pod',
          'second',
          s.ns,
        ),
      (p) => Boolean(p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')),
      30_000,
    )
    expect(pod!.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message).toContain(
      'node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod',
    )
    const {live, offline} = explainBoth('second')
    expect(live.cause).toBe('ReadWriteOncePodInUse')
    expect(live.message).toContain('first on node-a1')
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('AttachPending, then AttacherNotResponding: a driver no external-attacher serves; the controller gives up after 2 minutes', async () => {
    const driver = `${s.ns}.noattacher.test`
    const lone = s.n('lone').slice(0, 60)
    await fakeNode(lone, [{name: driver, nodeID: lone}])
    const pvName = s.n('unserved')
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {name: pvName},
      spec: {
        capacity: {storage: '1Gi'},
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        persistentVolumeReclaimPolicy: 'Retain',
        csi: {driver, volumeHandle: 'h-unserved'},
        claimRef: {kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: s.ns, name: 'unserved'},
      },
    })
    await s.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {name: 'unserved'},
      spec: {accessModes: ['ReadWriteOnce'], storageClassName: '', resources: {requests: {storage: '1Gi'}}},
    })
    await boundPV('unserved')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'unserved'}, spec: podSpec('unserved', lone)})
    await kube.waitFor(
      async () => (await kube.list<VA>('VolumeAttachment')).find((v) => v.spec.source.persistentVolumeName === pvName),
      () => true,
      30_000,
    )
    const pending = explainBoth('unserved')
    expect(pending.live.cause).toBe('AttachPending')
    expect(pending.live.message).toContain(`no external-attacher of ${driver} has picked it up yet`)
    expect(verdict(pending.offline)).toEqual(verdict(pending.live))
    // csi_attacher.go waits csiTimeout (2 minutes) for the attacher, then the controller says so.
    const ev = await kube.waitFor(
      async () => (await kube.list<Ev>('Event', s.ns)).filter((e) => e.involvedObject?.name === 'unserved'),
      (l) => l.some((e) => e.reason === 'FailedAttachVolume'),
      170_000,
      2000,
    )
    expect(ev?.find((e) => e.reason === 'FailedAttachVolume')?.message).toBe(
      `AttachVolume.Attach failed for volume "${pvName}" : timed out waiting for external-attacher of ${driver} CSI driver to attach volume h-unserved`,
    )
    const {live, offline} = explainBoth('unserved')
    expect(live.cause).toBe('AttacherNotResponding')
    expect(verdict(offline)).toEqual(verdict(live))
  }, 240_000)

  it('MountInProgress: attached to a node whose kubelet never mounts, and no event says why', async () => {
    const cls = s.n('mip')
    await s.create(storageClass(cls))
    await s.create(claim('mounting', cls))
    const pv = await boundPV('mounting')
    await s.create({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'mounting'}, spec: podSpec('mounting', 'node-a1')})
    expect(await attachedTo(pv.metadata!.name!, 'node-a1')).toBeDefined()
    const {live, offline} = explainBoth('mounting')
    expect(live.cause).toBe('MountInProgress')
    expect(live.message).toContain('attached to node-a1')
    expect(verdict(offline)).toEqual(verdict(live))
  })

  it('VolumePermissionChangeSlow: the kubelet is still changing the volume to the pod’s fsGroup (it says so in an event)', async () => {
    const cls = s.n('chown')
    await s.create(storageClass(cls))
    await s.create(claim('chown', cls))
    const pv = await boundPV('chown')
    const pod = await s.create<Obj & {metadata: {uid?: string}}>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'chown'},
      spec: {...podSpec('chown', 'node-a1'), securityContext: {fsGroup: 2000}},
    })
    expect(await attachedTo(pv.metadata!.name!, 'node-a1')).toBeDefined()
    // Plays the kubelet, which a fake node does not run: its ownership walk reports progress every
    // minute with this event (pkg/volume/volume_linux.go, VolumeOwnership.logWarning). A real
    // walk that long needs a volume of millions of files, more than a test node can hold.
    const dir = `/var/lib/kubelet/pods/${pod.metadata!.uid}/volumes/kubernetes.io~csi/${pv.metadata!.name}/mount`
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    await kube.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {name: `chown.${Date.now()}`, namespace: s.ns},
      involvedObject: {kind: 'Pod', namespace: s.ns, name: 'chown', uid: pod.metadata!.uid, apiVersion: 'v1'},
      reason: 'VolumePermissionChangeInProgress',
      message: `Setting volume ownership for ${dir}, processed 184320 files`,
      type: 'Warning',
      source: {component: 'kubelet', host: 'node-a1'},
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    })
    const {live, offline} = explainBoth('chown')
    expect(live.cause).toBe('VolumePermissionChangeSlow')
    expect(live.message).toContain(
      "The kubelet on node-a1 is changing the owner of every file in the volume to the pod's fsGroup (2000)",
    )
    expect(live.message).toContain('fsGroupChangePolicy is Always (the default)')
    expect(live.evidence.join('\n')).toContain('processed 184320 files')
    expect(((live as {fix?: string[]}).fix ?? []).join('\n')).toContain('OnRootMismatch')
    expect(verdict(offline)).toEqual(verdict(live))
  })
})
