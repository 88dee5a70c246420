import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'
import {explainExitCode} from '../../src/base/exitCodes.js'
import {diagnose, diagnoseScan} from '../../src/diagnose/diagnose.js'
import {parseSnapshot} from '../../src/snapshot/parseSnapshot.js'
import {RULES} from '../../src/diagnose/diagnoseClaim.js'
import {PV_RULES} from '../../src/diagnose/diagnosePv.js'
import {CAUSES, type Cause, PV_CAUSES} from '../../src/diagnose/types.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {event, node, pod, pv, pvc, sc, snap} from '../helpers/objects.js'

function explain(s: Snapshot, claim = 'data', ns = 'app') {
  const d = diagnose(s, {targets: [{kind: 'claim', namespace: ns, name: claim}], all: true})
  return d.claims[0]
}

function expectCause(s: Snapshot, cause: Cause, claim = 'data') {
  const c = explain(s, claim)
  expect(c.cause, c.message).toBe(cause)
  return c
}

/**
 * The causes the tests of test/diagnose/ assert: `expectCause(snapshot, 'Cause')` and `expect(....cause).toBe('Cause')`, read
 * from the source so the coverage check holds when it runs alone (`-t`), not only after the tests above.
 */
function assertedCauses(): Set<string> {
  const out = new Set<string>()
  const dir = dirname(fileURLToPath(import.meta.url))
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.test.ts'))) assertedIn(join(dir, f), out)
  return out
}

function assertedIn(file: string, out: Set<string>): void {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression.getText(src)
      const arg =
        callee === 'expectCause'
          ? n.arguments[1]
          : callee.endsWith('.toBe') && /\.cause\)$/.test(callee.slice(0, -5))
            ? n.arguments[0]
            : undefined
      if (arg && ts.isStringLiteral(arg)) out.add(arg.text)
    }
    ts.forEachChild(n, visit)
  }
  visit(src)
}

const local = sc('local', {mode: 'WaitForFirstConsumer'})
const nodes = [node('n1', {zone: 'a'}), node('n2', {zone: 'b'})]

describe('claims that are done or being removed', () => {
  it('ClaimLost', () => {
    const c = expectCause(
      snap({
        pvcs: [
          pvc('data', {phase: 'Lost', volumeName: 'gone', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}}),
        ],
      }),
      'ClaimLost',
    )
    expect(c.severity).toBe('error')
    expect(c.fix.join(' ')).toContain('claimRef')
  })
  it('ClaimLost: a bind-completed claim whose spec.volumeName is empty (syncBoundClaim), not an unbound claim', () => {
    const s = snap({
      pvcs: [pvc('data', {cls: null, phase: 'Bound', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}})],
    })
    const c = expectCause(s, 'ClaimLost')
    expect(c.message).toContain('Bound claim has lost reference to PersistentVolume. Data on the volume is lost!')
    expect(c.evidence.join()).toContain('ClaimLost')
  })
  it('ClaimLost (ClaimMisbound): a bind-completed claim whose PV now names another claim, or this name with another uid', () => {
    const bound = {volumeName: 'v', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}}
    const other = snap({
      pvs: [pv('v', {claimRef: {namespace: 'app', name: 'other', uid: 'u-other'}})],
      pvcs: [pvc('data', {phase: 'Bound', ...bound})],
    })
    const c = expectCause(other, 'ClaimLost')
    expect(c.message).toContain('Two claims are bound to the same volume, this one is bound incorrectly')
    expect(c.message).toContain('app/other')
    const stale = snap({
      pvs: [pv('v', {claimRef: {namespace: 'app', name: 'data', uid: 'earlier'}})],
      pvcs: [pvc('data', {phase: 'Pending', ...bound})],
    })
    expect(expectCause(stale, 'ClaimLost').fix.join('\n')).toContain('--volume v')
    // Never bound (no bind-completed): the PV simply belongs to someone else.
    expectCause(
      snap({
        pvs: [pv('v', {claimRef: {namespace: 'app', name: 'other', uid: 'u-other'}})],
        pvcs: [pvc('data', {volumeName: 'v'})],
      }),
      'VolumeClaimedByOther',
    )
  })
  it('ClaimTerminating names the pods that hold it', () => {
    const c = expectCause(
      snap({
        pvcs: [pvc('data', {deleting: true, phase: 'Bound', finalizers: ['kubernetes.io/pvc-protection']})],
        pods: [pod('web-0', ['data'], {nodeName: 'n1', phase: 'Succeeded'})],
      }),
      'ClaimTerminating',
    )
    expect(c.severity).toBe('warning')
    expect(c.message).toContain('web-0')
  })
  it('ClaimTerminating held by a pod on a NotReady node: waiting does not help; force delete or out-of-service', () => {
    const dead = node('n1')
    dead.status = {conditions: [{type: 'Ready', status: 'Unknown'}]}
    const p = pod('web-0', ['data'], {nodeName: 'n1', phase: 'Running'})
    p.metadata!.deletionTimestamp = '2026-11-25T10:00:00Z' as unknown as Date
    const c = expectCause(
      snap({
        nodes: [dead],
        pvcs: [pvc('data', {deleting: true, phase: 'Bound', finalizers: ['kubernetes.io/pvc-protection']})],
        pods: [p],
      }),
      'ClaimTerminating',
    )
    expect(c.message).toContain('web-0 (Terminating) is on NotReady node n1')
    expect(c.fix[1]).toContain('--force --grace-period=0')
    expect(c.fix[1]).toContain('Do not remove the claim')
    // what frees it, as the pod garbage collector does: out-of-service taint, or the Node object deleted
    expect(c.fix[1]).toContain('node.kubernetes.io/out-of-service=nodeshutdown:NoExecute on n1')
    expect(c.fix[1]).toContain('pods of a node that no longer exists')
  })
  it('ClaimTerminating: a pod on a NotReady node that is not even Terminating yet is said so', () => {
    const dead = node('n1')
    dead.status = {conditions: [{type: 'Ready', status: 'False'}]}
    const c = expectCause(
      snap({
        nodes: [dead],
        pvcs: [pvc('data', {deleting: true, phase: 'Bound', finalizers: ['kubernetes.io/pvc-protection']})],
        pods: [pod('web-0', ['data'], {nodeName: 'n1', phase: 'Running'})],
      }),
      'ClaimTerminating',
    )
    expect(c.message).toContain('web-0 is on NotReady node n1')
    expect(c.fix[1]).toContain('web-0 is not even Terminating yet')
  })
  it('Bound', () => {
    const s = snap({
      pvs: [pv('v', {claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}})],
      pvcs: [pvc('data', {phase: 'Bound', volumeName: 'v', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}})],
    })
    expect(expectCause(s, 'Bound').severity).toBe('ok')
  })
})

describe('claims that name a PV (spec.volumeName)', () => {
  it('VolumeNotFound', () => {
    expectCause(snap({pvcs: [pvc('data', {volumeName: 'nope'})]}), 'VolumeNotFound')
  })
  it('VolumeClaimedByOther, with a Released PV of a stale uid and a fix that clears it', () => {
    const s = snap({
      pvs: [pv('old', {phase: 'Released', claimRef: {namespace: 'app', name: 'data', uid: 'previous-uid'}})],
      pvcs: [pvc('data', {volumeName: 'old'})],
    })
    const c = expectCause(s, 'VolumeClaimedByOther')
    expect(c.message).toContain('previous-uid')
    expect(c.fix.join('\n')).toContain(`"claimRef":{"uid":null`)
    expect(c.wouldBind).toBeNull()
  })
  it('VolumeMismatch lists every failing check with upstream text', () => {
    const s = snap({pvs: [pv('small', {size: '1Gi', cls: 'other'})], pvcs: [pvc('data', {volumeName: 'small'})]})
    const c = expectCause(s, 'VolumeMismatch')
    expect(c.message).toContain('requested PV is too small')
    expect(c.message).toContain('storageClassName does not match')
  })
  it('BindPending when the named PV is free and fits', () => {
    const c = expectCause(snap({pvs: [pv('v')], pvcs: [pvc('data', {volumeName: 'v'})]}), 'BindPending')
    expect(c.wouldBind).toBe('v')
  })
})

describe('PVs without a claimRef become Available at the next sync (syncVolume)', () => {
  it("the scheduler's view agrees: a Released local PV without claimRef is picked for a waiting pod, and the message says why", () => {
    const s = snap({
      storageClasses: [local],
      nodes,
      pvs: [pv('recycled', {cls: 'local', hosts: ['n1'], phase: 'Released'})],
      pvcs: [pvc('data', {cls: 'local'})],
      pods: [pod('p', ['data'])],
    })
    const c = expectCause(s, 'BindPending')
    expect(c.wouldBind).toBe('recycled')
    expect(c.message).toContain('the controller makes it Available at its next sync')
  })
  for (const phase of ['Released', 'Failed', 'Pending']) {
    it(`a ${phase} PV with no claimRef is bound like an Available one, and the message says why`, () => {
      const c = expectCause(
        snap({storageClasses: [sc('manual')], pvs: [pv('recycled', {phase})], pvcs: [pvc('data')]}),
        'BindPending',
      )
      expect(c.wouldBind).toBe('recycled')
      expect(c.message).toContain(`is still ${phase}`)
      expect(c.message).toContain('the controller makes it Available at its next sync')
      expect(c.candidates[0].mismatches).toEqual([])
    })
  }
})

describe('Immediate claims', () => {
  it('BindPending names the controller choice and its ties', () => {
    const c = expectCause(
      snap({pvs: [pv('b'), pv('a'), pv('big', {size: '100Gi'})], pvcs: [pvc('data')]}),
      'BindPending',
    )
    expect(c.wouldBind).toBe('a')
    expect(c.ties).toEqual(['b'])
    expect(c.severity).toBe('info')
  })
  it('a StorageClass name that does not exist but has matching PVs still binds', () => {
    const c = expectCause(snap({pvs: [pv('v', {cls: 'ghost'})], pvcs: [pvc('data', {cls: 'ghost'})]}), 'BindPending')
    expect(c.wouldBind).toBe('v')
  })
  it('NoMatchingVolume for storageClassName "" with only classed PVs; the candidate shows the class check failing', () => {
    const c = expectCause(snap({pvs: [pv('v', {cls: 'gold'})], pvcs: [pvc('data', {cls: ''})]}), 'NoMatchingVolume')
    expect(c.candidates.find((x) => x.name === 'v')?.mismatches).toEqual(['storageClass'])
  })
  it('NoMatchingVolume for a no-provisioner class', () => {
    expectCause(
      snap({storageClasses: [sc('manual')], pvs: [pv('v', {size: '1Gi'})], pvcs: [pvc('data')]}),
      'NoMatchingVolume',
    )
  })
  it('NoDefaultStorageClass for a claim without storageClassName on a cluster without a default class', () => {
    const c = expectCause(
      snap({storageClasses: [sc('fast', {provisioner: 'ebs.csi.aws.com'})], pvcs: [pvc('data', {cls: null})]}),
      'NoDefaultStorageClass',
    )
    expect(c.storageClass).toBeNull()
  })
  it('a claim without class gets the newest default class', () => {
    const s = snap({
      storageClasses: [
        sc('old-default', {isDefault: true, created: '2025-01-01T00:00:00Z'}),
        sc('new-default', {isDefault: true, created: '2026-01-01T00:00:00Z'}),
      ],
      pvs: [pv('v-old', {cls: 'old-default'}), pv('v-new', {cls: 'new-default'})],
      pvcs: [pvc('data', {cls: null, uid: ''})],
    })
    expect(expectCause(s, 'BindPending').wouldBind).toBe('v-new')
  })
  it('StorageClassNotFound', () => {
    const c = expectCause(
      snap({
        pvcs: [pvc('data', {cls: 'nfs'})],
        events: [
          event(
            'data',
            'ProvisioningFailed',
            '(combined from similar events): storageclass.storage.k8s.io "nfs" not found',
          ),
        ],
      }),
      'StorageClassNotFound',
    )
    expect(c.evidence[0]).toContain('storageclass.storage.k8s.io "nfs" not found')
    expect(c.evidence[0]).not.toContain('combined')
  })
  it('UnknownProvisioner', () => {
    expectCause(
      snap({storageClasses: [sc('old', {provisioner: 'kubernetes.io/glusterfs'})], pvcs: [pvc('data', {cls: 'old'})]}),
      'UnknownProvisioner',
    )
  })
  it('ProvisioningFailed quotes the latest failure not followed by success', () => {
    const s = snap({
      storageClasses: [sc('ebs', {provisioner: 'ebs.csi.aws.com'})],
      csiDrivers: [{metadata: {name: 'ebs.csi.aws.com'}, spec: {}}],
      pvcs: [pvc('data', {cls: 'ebs'})],
      events: [
        event(
          'data',
          'ProvisioningFailed',
          'failed to provision volume with StorageClass "ebs": rpc error: quota exceeded',
          {source: 'ebs.csi.aws.com_ctrl-0_abc'},
        ),
      ],
    })
    expect(expectCause(s, 'ProvisioningFailed').message).toContain('quota exceeded')
  })
  it('ProvisionerNotFound when no CSIDriver and no event from it', () => {
    expectCause(
      snap({storageClasses: [sc('fast', {provisioner: 'does-not.exist'})], pvcs: [pvc('data', {cls: 'fast'})]}),
      'ProvisionerNotFound',
    )
  })
  const waiting = (last: string, claim = 'data') => ({
    ...event(
      claim,
      'ExternalProvisioning',
      "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator.",
      {type: 'Normal', at: last},
    ),
    firstTimestamp: '2026-11-25T10:00:00Z' as unknown as Date,
    count: 40,
  })
  const ebs = {storageClasses: [sc('ebs', {provisioner: 'ebs.csi.aws.com'})], pvcs: [pvc('data', {cls: 'ebs'})]}
  const lease = (renew: string, holder = 'ebs-csi-controller-0', ns = 'kube-system') => ({
    metadata: {name: 'ebs-csi-aws-com', namespace: ns},
    spec: {holderIdentity: holder, leaseDurationSeconds: 15, renewTime: renew as unknown as Date},
  })
  it('ProvisionerNotRunning: no sign of life for more than 5 minutes (no Lease, no event about any claim), even with its CSIDriver registered (or unknown)', () => {
    const registered = snap({
      ...ebs,
      csiDrivers: [{metadata: {name: 'ebs.csi.aws.com'}, spec: {}}],
      events: [waiting('2026-11-25T10:07:30Z')],
      takenAt: '2026-11-25T10:07:31Z',
    })
    const c = expectCause(registered, 'ProvisionerNotRunning')
    expect(c.severity).toBe('error')
    expect(c.message).toContain('7 minutes')
    expect(c.message).toContain('no Lease "ebs-csi-aws-com"')
    expect(c.evidence[0]).toContain('ExternalProvisioning')
    // A kubectl dump without CSIDrivers or Leases: the time evidence alone decides.
    const dump = snap({
      ...ebs,
      events: [waiting('2026-11-25T10:07:30Z')],
      skipped: [
        {resource: 'csidrivers', reason: 'not in the input file'},
        {resource: 'leases', reason: 'forbidden'},
      ],
    })
    expect(expectCause(dump, 'ProvisionerNotRunning').message).toContain('Leases could not be read (forbidden)')
    const kubectlDump = snap({
      ...ebs,
      events: [waiting('2026-11-25T10:07:30Z')],
      skipped: [{resource: 'csidrivers', reason: 'not in the input file'}],
    })
    expect(expectCause(kubectlDump, 'ProvisionerNotRunning').message).toContain('the input holds no Leases')
    // Under the threshold it is still in progress; a word from the provisioner means it is alive.
    expectCause(
      snap({
        ...ebs,
        events: [waiting('2026-11-25T10:04:00Z')],
        skipped: [{resource: 'csidrivers', reason: 'not in the input file'}],
      }),
      'ProvisioningInProgress',
    )
    const heard = event('data', 'Provisioning', 'External provisioner is provisioning volume for claim "app/data"', {
      type: 'Normal',
      source: 'ebs.csi.aws.com_ctrl-0_abc',
      at: '2026-11-25T10:00:05Z',
    })
    const inProgress = expectCause(
      snap({
        ...ebs,
        events: [waiting('2026-11-25T10:07:30Z'), heard],
        skipped: [{resource: 'csidrivers', reason: 'not in the input file'}],
      }),
      'ProvisioningInProgress',
    )
    expect(inProgress.message).toContain('picked the claim up')
  })
  it('ProvisionerNotRunning from its leader-election Lease: released, or not renewed for leaseDurationSeconds + 30 s', () => {
    const taken = '2026-11-25T10:01:00Z'
    const stale = snap({
      ...ebs,
      events: [waiting('2026-11-25T10:00:50Z')],
      leases: [lease('2026-11-25T10:00:10Z')],
      takenAt: taken,
    })
    const c = expectCause(stale, 'ProvisionerNotRunning')
    expect(c.message).toContain(
      'Lease kube-system/ebs-csi-aws-com: held by ebs-csi-controller-0, last renewed 50 s before the snapshot',
    )
    expect(c.evidence[0]).toContain('Lease kube-system/ebs-csi-aws-com')
    const released = snap({...ebs, leases: [lease('2026-11-25T10:00:55Z', '')], takenAt: taken})
    expect(expectCause(released, 'ProvisionerNotRunning').message).toContain('has no holder')
    // 40 s is within 15 s + 30 s of grace; a fresh Lease in another namespace wins over a stale one.
    const fresh = snap({...ebs, leases: [lease('2026-11-25T10:00:20Z')], takenAt: taken})
    expect(expectCause(fresh, 'ProvisioningInProgress').message).toContain(
      'It is running (Lease kube-system/ebs-csi-aws-com',
    )
    expectCause(
      snap({
        ...ebs,
        leases: [lease('2026-11-25T09:00:00Z'), lease('2026-11-25T10:00:58Z', 'x', 'storage')],
        takenAt: taken,
      }),
      'ProvisioningInProgress',
    )
    // Without takenAt (a kubectl dump) "now" is the newest time in the snapshot.
    expectCause(
      snap({...ebs, events: [waiting('2026-11-25T10:03:00Z')], leases: [lease('2026-11-25T10:00:10Z')]}),
      'ProvisionerNotRunning',
    )
    // A stale Lease outranks an old failure: nothing retries until the provisioner runs again.
    const failed = event('data', 'ProvisioningFailed', 'rpc error: code = Internal desc = boom', {
      source: 'ebs.csi.aws.com_ctrl-0_abc',
      at: '2026-11-25T10:00:05Z',
    })
    expect(
      expectCause(
        snap({...ebs, events: [failed], leases: [lease('2026-11-25T10:00:10Z')], takenAt: taken}),
        'ProvisionerNotRunning',
      ).message,
    ).toContain('will not retry until it runs again')
  })
  it('ProvisionerNotResponding: it is alive (fresh Lease, or events on other claims) but silent about this claim for 5 minutes', () => {
    const c = expectCause(
      snap({...ebs, events: [waiting('2026-11-25T10:07:30Z')], leases: [lease('2026-11-25T10:07:25Z')]}),
      'ProvisionerNotResponding',
    )
    expect(c.message).toContain('7 minutes')
    const other = event('other', 'ProvisioningSucceeded', 'Successfully provisioned volume pvc-1', {
      type: 'Normal',
      source: 'ebs.csi.aws.com_ctrl-0_abc',
      at: '2026-11-25T10:06:00Z',
    })
    expectCause(snap({...ebs, events: [waiting('2026-11-25T10:07:30Z'), other]}), 'ProvisionerNotResponding')
  })
  it('ProvisioningFailed on the node the scheduler selected: the node, and the pod sent back by PreBind', () => {
    const wffc = sc('ebs', {provisioner: 'ebs.csi.aws.com', mode: 'WaitForFirstConsumer'})
    const failed = event('data', 'ProvisioningFailed', 'rpc error: code = ResourceExhausted desc = no room in zone a', {
      source: 'ebs.csi.aws.com_ctrl-0_abc',
    })
    const preBind = 'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "data"'
    const base = {
      storageClasses: [wffc],
      csiDrivers: [{metadata: {name: 'ebs.csi.aws.com'}, spec: {}}],
      nodes,
      events: [failed],
      pods: [pod('web', ['data'], {condition: preBind})],
    }
    // The annotation is still there (the provisioner has not removed it yet) ...
    const selected = expectCause(
      snap({...base, pvcs: [pvc('data', {cls: 'ebs', annotations: {'volume.kubernetes.io/selected-node': 'n1'}})]}),
      'ProvisioningFailed',
    )
    expect(selected.message).toContain('The scheduler selected node n1 for the claim')
    expect(selected.failure?.retry).toContain('removes volume.kubernetes.io/selected-node')
    // ... or gone, and the pod waits to be scheduled again.
    const back = expectCause(snap({...base, pvcs: [pvc('data', {cls: 'ebs'})]}), 'ProvisioningFailed')
    expect(back.message).toContain('Pod web went back to scheduling')
    expect(back.evidence).toContain(`pod web: ${preBind}`)
    expect(back.failure?.retry).toContain('the scheduler picks a node again')
  })
  it('ProvisioningFailed is classified: sub-reason, whether and when the provisioner retries', () => {
    const failedWith = (message: string, annotations: Record<string, string> = {}) =>
      explain(
        snap({
          storageClasses: [sc('ebs', {provisioner: 'ebs.csi.aws.com'})],
          csiDrivers: [{metadata: {name: 'ebs.csi.aws.com'}, spec: {}}],
          pvcs: [pvc('data', {cls: 'ebs', annotations})],
          events: [event('data', 'ProvisioningFailed', message, {source: 'ebs.csi.aws.com_ctrl-0_abc'})],
        }),
      )
    const cases: [string, string, RegExp][] = [
      [
        'Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = parameter "type" must be gp3 or io2',
        'Infeasible',
        /Retries are delayed.*5 min/,
      ],
      ['rpc error: code = ResourceExhausted desc = storage pool is full', 'ResourceExhausted', /exponential backoff/],
      ['rpc error: code = DeadlineExceeded desc = context deadline exceeded', 'Timeout', /in progress/],
      ['rpc error: code = Unavailable desc = connection refused', 'DriverUnavailable', /backoff/],
      ['rpc error: code = Internal desc = backend exploded', 'DriverError', /backoff/],
      [
        'failed to get selected CSINode node-x: csinode.storage.k8s.io "node-x" not found',
        'NoCSINode',
        /scheduler picks a node again/,
      ],
      [
        'error generating accessibility requirements: no topology key found for node node-y',
        'NodeNotRegistered',
        /kept/,
      ],
      [
        'found unknown parameter key "csi.storage.k8s.io/foo" with reserved namespace csi.storage.k8s.io/',
        'ClassParameter',
        /until the class is fixed/,
      ],
      ['claim Selector is not supported', 'SelectorNotSupported', /same way/],
      [
        'Kubernetes does not support use of ReadWriteOncePod with other access modes on the same PersistentVolume',
        'UnsupportedAccessMode',
        /backoff/,
      ],
    ]
    for (const [message, reason, retry] of cases) {
      const c = failedWith(message)
      expect(c.cause).toBe('ProvisioningFailed')
      expect(c.failure?.reason, message).toBe(reason)
      expect(c.failure?.retry, message).toMatch(retry)
      expect(c.message).toContain(c.failure!.retry)
    }
    // With a selected node, ResourceExhausted sends the pod back to the scheduler.
    const wffc = failedWith('rpc error: code = ResourceExhausted desc = no room in zone-a', {
      'volume.kubernetes.io/selected-node': 'node-a1',
    })
    expect(wffc.failure).toMatchObject({reason: 'ResourceExhausted', code: 'ResourceExhausted'})
    expect(wffc.failure?.retry).toContain('removes volume.kubernetes.io/selected-node')
  })
  it('VolumeAttributesClassDisabled: a claim with a VolumeAttributesClass on a 1.31-1.33 cluster (gate off by default)', () => {
    const s = snap({
      storageClasses: [sc('manual')],
      pvs: [pv('v', {vac: 'gold'})],
      pvcs: [pvc('data', {vac: 'gold'})],
      serverVersion: 'v1.33.13',
    })
    expect(expectCause(s, 'VolumeAttributesClassDisabled').message).toContain(
      'feature-gate VolumeAttributesClass is disabled',
    )
  })
  it('ProvisioningInProgress when the driver is registered and nothing failed', () => {
    const s = snap({
      storageClasses: [sc('ebs', {provisioner: 'kubernetes.io/aws-ebs'})],
      csiDrivers: [{metadata: {name: 'ebs.csi.aws.com'}, spec: {}}],
      pvcs: [pvc('data', {cls: 'ebs'})],
    })
    expect(expectCause(s, 'ProvisioningInProgress').severity).toBe('info')
  })
})

describe('WaitForFirstConsumer claims', () => {
  const pvs = [pv('on-n1', {cls: 'local', hosts: ['n1']}), pv('on-n2', {cls: 'local', hosts: ['n2'], size: '1Gi'})]
  it('WaitingForFirstConsumer without a pod', () => {
    expectCause(
      snap({storageClasses: [local], nodes, pvs, pvcs: [pvc('data', {cls: 'local'})]}),
      'WaitingForFirstConsumer',
    )
  })
  it('ConsumerBypassedScheduler when the pod was created with spec.nodeName', () => {
    expectCause(
      snap({
        storageClasses: [local],
        nodes,
        pvs,
        pvcs: [pvc('data', {cls: 'local'})],
        pods: [pod('p', ['data'], {nodeName: 'n1'})],
      }),
      'ConsumerBypassedScheduler',
    )
  })
  it('BindPending names the PV on the node the pod can use', () => {
    const c = expectCause(
      snap({storageClasses: [local], nodes, pvs, pvcs: [pvc('data', {cls: 'local'})], pods: [pod('p', ['data'])]}),
      'BindPending',
    )
    expect(c.wouldBind).toBe('on-n1')
    expect(c.consumers[0].summary).toBe('1/2 nodes are available.')
  })
  it("ConsumerUnschedulable when no node passes the pod's own constraints", () => {
    const c = expectCause(
      snap({
        storageClasses: [local],
        nodes,
        pvs,
        pvcs: [pvc('data', {cls: 'local'})],
        pods: [pod('p', ['data'], {nodeSelector: {gpu: 'yes'}})],
      }),
      'ConsumerUnschedulable',
    )
    expect(c.consumers[0].summary).toBe("0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.")
  })
  it('NoVolumeOnFeasibleNodes: a local PV exists, but only on a node the pod cannot use', () => {
    const c = expectCause(
      snap({
        storageClasses: [local],
        nodes,
        pvs,
        pvcs: [pvc('data', {cls: 'local'})],
        pods: [pod('p', ['data'], {nodeSelector: {'topology.kubernetes.io/zone': 'b'}})],
      }),
      'NoVolumeOnFeasibleNodes',
    )
    expect(c.consumers[0].summary).toBe(
      "0/2 nodes are available: 1 node(s) didn't find available persistent volumes to bind, 1 node(s) didn't match Pod's node affinity/selector.",
    )
    expect(c.candidates.find((x) => x.name === 'on-n1')?.mismatches).toEqual(['nodeAffinity'])
    expect(c.candidates.find((x) => x.name === 'on-n2')?.mismatches).toEqual(['capacity'])
  })
  it('a PV pre-bound by claimRef with the wrong access modes: the scheduler takes it, the controller never binds it', () => {
    const s = snap({
      storageClasses: [local],
      nodes,
      pvs: [
        pv('prebound', {
          cls: 'local',
          hosts: ['n1'],
          modes: ['ReadWriteMany'],
          claimRef: {namespace: 'app', name: 'data'},
          phase: 'Available',
        }),
        pv('free', {cls: 'local', hosts: ['n2']}),
      ],
      pvcs: [pvc('data', {cls: 'local'})],
      pods: [pod('p', ['data'])],
    })
    const c = expectCause(s, 'VolumeMismatch')
    expect(c.message).toContain('never completes the binding')
    expect(c.wouldBind).toBeNull()
  })
  it("a pre-bound PV and a waiting pod race: the controller's PV wins, or the scheduler's own choice", () => {
    const s = snap({
      storageClasses: [local],
      nodes,
      pvs: [
        pv('mine', {cls: 'other', hosts: ['n1'], claimRef: {namespace: 'app', name: 'data'}, phase: 'Available'}),
        pv('sched', {cls: 'local', hosts: ['n1']}),
      ],
      pvcs: [pvc('data', {cls: 'local'})],
      pods: [pod('p', ['data'])],
    })
    const c = expectCause(s, 'BindPending')
    expect(c.wouldBind).toBe('mine')
    expect(c.ties).toEqual(['sched'])
  })
  it('TopologyNotAllowed', () => {
    const cls = sc('zonal', {mode: 'WaitForFirstConsumer', provisioner: 'pd.csi.storage.gke.io', allowedZones: ['c']})
    expectCause(
      snap({storageClasses: [cls], nodes, pvcs: [pvc('data', {cls: 'zonal'})], pods: [pod('p', ['data'])]}),
      'TopologyNotAllowed',
    )
  })
  it('InsufficientStorageCapacity', () => {
    const cls = sc('csi', {mode: 'WaitForFirstConsumer', provisioner: 'lvm.csi.example.com'})
    const s = snap({
      storageClasses: [cls],
      nodes,
      csiDrivers: [{metadata: {name: 'lvm.csi.example.com'}, spec: {storageCapacity: true}}],
      csiStorageCapacities: [
        {
          metadata: {name: 'c1', namespace: 'kube-system'},
          storageClassName: 'csi',
          capacity: '1Gi',
          nodeTopology: {matchLabels: {'kubernetes.io/hostname': 'n1'}},
        },
      ],
      pvcs: [pvc('data', {cls: 'csi'})],
      pods: [pod('p', ['data'])],
    })
    const c = expectCause(s, 'InsufficientStorageCapacity')
    expect(c.consumers[0].summary).toBe('0/2 nodes are available: 2 node(s) did not have enough free storage.')
  })
  it('provisioning causes apply once a node is found', () => {
    const cls = sc('csi', {mode: 'WaitForFirstConsumer', provisioner: 'missing.csi.example.com'})
    expectCause(
      snap({storageClasses: [cls], nodes, pvcs: [pvc('data', {cls: 'csi'})], pods: [pod('p', ['data'])]}),
      'ProvisionerNotFound',
    )
  })
})

describe('pod/NAME', () => {
  it('VolumeNodeAffinityConflict: a Bound claim whose PV lives on a node the pod cannot use', () => {
    const s = snap({
      nodes,
      pvs: [pv('v', {hosts: ['n2'], claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}})],
      pvcs: [pvc('data', {phase: 'Bound', volumeName: 'v', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}})],
      pods: [pod('web', ['data'], {nodeSelector: {'topology.kubernetes.io/zone': 'a'}})],
    })
    const d = diagnose(s, {targets: [{kind: 'pod', namespace: 'app', name: 'web'}], all: true})
    expect(d.claims[0].cause).toBe('VolumeNodeAffinityConflict')
  })
})

describe('the whole report', () => {
  it("every cause code comes from a rule, and docs/causes.md lists them in the rules' order", () => {
    const fromRules = [...new Set(RULES.flatMap((r) => r.causes))]
    expect([...fromRules].sort()).toEqual(Object.keys(CAUSES).sort())
    // A row's alsoGives names only causes that have a row of their own.
    for (const r of RULES) for (const c of r.alsoGives ?? []) expect(fromRules).toContain(c)
    const doc = readFileSync(fileURLToPath(new URL('../../docs/causes.md', import.meta.url)), 'utf8')
    // The claims' table comes first; the PersistentVolumes' (explain pv/NAME) has its own section.
    const [claimDoc, pvDoc = ''] = doc.split(/^## PersistentVolumes/m)
    const rows = (text: string) => [...text.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1])
    const documented = rows(claimDoc)
    const rank = (c: string) => RULES.findIndex((r) => r.causes.includes(c as Cause))
    expect(documented.map(rank)).toEqual(documented.map(rank).toSorted((a, b) => a - b))
    // Every PV cause has exactly one rule and one row, in the rules' order.
    expect(PV_RULES.map((r) => r.cause)).toEqual(Object.keys(PV_CAUSES))
    expect(rows(pvDoc)).toEqual(PV_RULES.map((r) => r.cause))
  })
  it('every cause code is covered by a test above', () => {
    expect([...assertedCauses()].filter((c) => c in CAUSES).sort()).toEqual(Object.keys(CAUSES).sort())
    expect([...assertedCauses()].filter((c) => c in PV_CAUSES).sort()).toEqual(Object.keys(PV_CAUSES).sort())
  })
  it('lists only unhealthy claims unless --all; exit code 1 when any is an error', () => {
    const s = snap({
      pvs: [pv('v', {claimRef: {namespace: 'app', name: 'ok', uid: 'uid-ok'}})],
      pvcs: [
        pvc('ok', {phase: 'Bound', volumeName: 'v', annotations: {'pv.kubernetes.io/bind-completed': 'yes'}}),
        pvc('broken', {cls: 'nope'}),
      ],
    })
    const d = diagnose(s, {targets: [], namespace: 'app', all: false})
    expect(d.claims.map((c) => c.name)).toEqual(['broken'])
    expect(explainExitCode(d)).toBe(1)
    expect(explainExitCode(diagnose(s, {targets: [{kind: 'claim', namespace: 'app', name: 'ok'}], all: false}))).toBe(0)
  })
  it('a claim that does not exist is a tool error', () => {
    expect(() => diagnose(snap({}), {targets: [{kind: 'claim', namespace: 'app', name: 'x'}], all: false})).toThrow(
      /not found/,
    )
  })
})

describe('diagnoseScan (explain writes a scan claim by claim)', () => {
  it('gives diagnose’s claims in the same order, whatever order the claims were read in', async () => {
    // @ts-expect-error plain ESM module without types
    const {generate} = await import('../bench/generate.mjs')
    const c = generate('S')
    const items = ['pvs', 'pvcs', 'storageClasses', 'nodes', 'pods', 'events', 'csiDrivers'].flatMap((k) => c[k])
    const s = parseSnapshot(JSON.stringify({apiVersion: 'v1', kind: 'List', items}), 'dump.json')
    // The dump lists claims by namespace and name; a live list need not.
    s.pvcs = s.pvcs
      .map((p, i) => ({p, k: (i * 7919) % s.pvcs.length}))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.p)
    for (const opts of [{all: false}, {all: true}, {all: false, pods: true}, {all: false, namespace: 'team-0003'}]) {
      const eager = diagnose(s, {targets: [], ...opts})
      const lazy = diagnoseScan(s, opts)
      expect(eager.claims.length).toBeGreaterThan(0)
      expect(JSON.stringify({...lazy, claims: [...lazy.claims]})).toBe(JSON.stringify(eager))
    }
  })
})
