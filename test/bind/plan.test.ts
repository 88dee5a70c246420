import type {V1PersistentVolume, V1PersistentVolumeClaim, V1Pod} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {
  applyMergePatch,
  claimRefPatch,
  describeChange,
  kubectlPatchCommand,
  planAll,
  planBinding,
  shellQuote,
} from '../../src/bind/plan.js'
import {bindExitCode} from '../../src/base/exitCodes.js'
import {buildWorld} from '../../src/binding/world.js'
import {diagnoseClaim} from '../../src/diagnose/index.js'
import {UserError} from '../../src/errors.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pod, pv, pvc, sc, snap} from '../helpers/objects.js'

const RWO = 'ReadWriteOnce'
const RWX = 'ReadWriteMany'
const ROX = 'ReadOnlyMany'

function world(
  objs: {pvs?: V1PersistentVolume[]; pvcs?: V1PersistentVolumeClaim[]; pods?: V1Pod[]},
  wffc = false,
): {snap: Snapshot; w: ReturnType<typeof buildWorld>} {
  const s = snap({
    storageClasses: [sc('manual'), sc('local', {mode: 'WaitForFirstConsumer'})],
    nodes: wffc ? [node('node-a'), node('node-b')] : [],
    pvs: objs.pvs ?? [],
    pvcs: objs.pvcs ?? [],
    pods: objs.pods ?? [],
  })
  return {snap: s, w: buildWorld(s)}
}

const fullRef = (name: string, uid = `uid-${name}`) => ({
  kind: 'PersistentVolumeClaim',
  apiVersion: 'v1',
  namespace: 'app',
  name,
  uid,
})

describe('choice without --volume (the controller)', () => {
  it('prefers the access-mode group with fewer modes over a smaller PV with extra modes, and patches exactly claimRef + resourceVersion', () => {
    const {w} = world({
      pvs: [
        pv('small-rwo-rwx', {size: '10Gi', modes: [RWO, RWX]}),
        pv('big-rwo', {size: '20Gi', modes: [RWO], rv: '42'}),
      ],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web'})
    expect(b.status).toBe('bind')
    expect(b.volume).toBe('big-rwo')
    expect(b.ties).toEqual([])
    expect(b.patch).toEqual({metadata: {resourceVersion: '42'}, spec: {claimRef: fullRef('web')}})
    expect(b.command).toBe(
      `kubectl patch pv big-rwo --type=merge -p '{"metadata":{"resourceVersion":"42"},"spec":{"claimRef":{"kind":"PersistentVolumeClaim","apiVersion":"v1","namespace":"app","name":"web","uid":"uid-web"}}}'`,
    )
    // The controller's own choice needs no claim-side write.
    expect(b.claimPatch).toBeNull()
    expect(b.applied).toBe(false)
  })

  it('picks the smallest fitting PV within the group', () => {
    const {w} = world({
      pvs: [
        pv('c', {size: '30Gi', modes: [RWO]}),
        pv('a', {size: '15Gi', modes: [RWO]}),
        pv('too-small', {size: '5Gi', modes: [RWO]}),
      ],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    expect(planBinding(w, {namespace: 'app', name: 'web'}).volume).toBe('a')
  })

  it('reports ties within a group, pre-binds the first by name, and needs no claim patch (a pre-bound PV wins its group)', () => {
    const {w} = world({
      pvs: [pv('pv-b', {size: '20Gi', modes: [RWO]}), pv('pv-a', {size: '20Gi', modes: [RWO]})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web'})
    expect(b.volume).toBe('pv-a')
    expect(b.ties).toEqual(['pv-b'])
    expect(b.reason).toContain('ties with "pv-b"')
    expect(b.claimPatch).toBeNull()
  })

  it('ties across two access-mode groups of the same size: the controller tries them in any order, so the claim is pre-bound too', () => {
    const {w} = world({
      pvs: [pv('rwo-rox', {size: '20Gi', modes: [RWO, ROX]}), pv('rwo-rwx', {size: '20Gi', modes: [RWO, RWX]})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web'})
    expect(b.volume).toBe('rwo-rox')
    expect(b.ties).toEqual(['rwo-rwx'])
    expect(b.claimPatch).toEqual({metadata: {resourceVersion: 'rv-claim-web'}, spec: {volumeName: 'rwo-rox'}})
    expect(b.claimCommand).toBe(
      `kubectl patch pvc -n app web --type=merge -p '{"metadata":{"resourceVersion":"rv-claim-web"},"spec":{"volumeName":"rwo-rox"}}'`,
    )
  })

  it('a claim with no candidate is noCandidate with the engine cause, and exit code 1', () => {
    const {w} = world({
      pvs: [pv('small', {size: '1Gi', modes: [RWO]})],
      pvcs: [pvc('big', {size: '500Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'big'})
    expect(b).toMatchObject({
      status: 'noCandidate',
      volume: null,
      cause: 'NoMatchingVolume',
      patch: null,
      command: null,
    })
    expect(bindExitCode([b])).toBe(1)
  })

  it('a Bound claim has nothing to do (exit 0), but --volume naming another PV is refused', () => {
    const claim = pvc('web', {size: '10Gi', modes: [RWO], bound: true, volumeName: 'pv-1'})
    const {w} = world({
      pvs: [
        pv('pv-1', {size: '10Gi', modes: [RWO], phase: 'Bound', claimRef: fullRef('web')}),
        pv('pv-2', {size: '10Gi', modes: [RWO]}),
      ],
      pvcs: [claim],
    })
    const ok = planBinding(w, {namespace: 'app', name: 'web'})
    expect(ok).toMatchObject({status: 'nothingToDo', volume: 'pv-1', patch: null})
    expect(bindExitCode([ok])).toBe(0)
    expect(planBinding(w, {namespace: 'app', name: 'web', volume: 'pv-2'}).status).toBe('refused')
  })

  it('a PV already pre-bound to the claim needs no write', () => {
    const {w} = world({
      pvs: [pv('mine', {size: '10Gi', modes: [RWO], claimRef: {namespace: 'app', name: 'web'}})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    expect(planBinding(w, {namespace: 'app', name: 'web'})).toMatchObject({
      status: 'nothingToDo',
      volume: 'mine',
      patch: null,
      claimPatch: null,
    })
  })

  it('throws a UserError for a missing claim or --volume PV', () => {
    const {w} = world({pvs: [pv('a', {size: '10Gi', modes: [RWO]})], pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})]})
    expect(() => planBinding(w, {namespace: 'app', name: 'nope'})).toThrow(UserError)
    expect(() => planBinding(w, {namespace: 'app', name: 'web', volume: 'nope'})).toThrow(
      /persistentvolume "nope" not found/,
    )
  })
})

describe('--volume', () => {
  it('refuses a PV that fails checks, with every mismatch in upstream order and no patch', () => {
    const {w} = world({
      pvs: [pv('bad', {size: '1Gi', modes: [RWX], cls: 'other'}), pv('good', {size: '10Gi', modes: [RWO]})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web', volume: 'bad'})
    expect(b.status).toBe('refused')
    expect(b.volume).toBe('bad')
    expect(b.mismatches.map((m) => m.check)).toEqual(['capacity', 'storageClass', 'accessModes'])
    expect(b.mismatches[0].text).toBe('PV "bad" holds 1Gi, the claim asks 10Gi')
    expect(b.patch).toBeNull()
    expect(bindExitCode([b])).toBe(1)
  })

  it('a PV that is not the controller choice (fewer-modes group wins) also pre-binds the claim', () => {
    const {w} = world({
      pvs: [pv('rwo-rwx', {size: '10Gi', modes: [RWO, RWX], rv: '7'}), pv('rwo', {size: '20Gi', modes: [RWO]})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web', volume: 'rwo-rwx'})
    expect(b.status).toBe('bind')
    expect(b.patch).toEqual({metadata: {resourceVersion: '7'}, spec: {claimRef: fullRef('web')}})
    expect(b.claimPatch).toEqual({metadata: {resourceVersion: 'rv-claim-web'}, spec: {volumeName: 'rwo-rwx'}})
    expect(b.warnings.join(' ')).toContain('"rwo"')
    expect(b.reason).toContain('Left alone, the cluster would bind "rwo"')
  })

  it('a PV in the same group as the controller choice wins once pre-bound: no claim patch', () => {
    const {w} = world({
      pvs: [pv('rwo-10', {size: '10Gi', modes: [RWO]}), pv('rwo-50', {size: '50Gi', modes: [RWO]})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web', volume: 'rwo-50'})
    expect(b.status).toBe('bind')
    expect(b.claimPatch).toBeNull()
  })

  it('refuses a PV bound to another live claim, even with --reclaim', () => {
    const {w} = world({
      pvs: [pv('taken', {size: '10Gi', modes: [RWO], phase: 'Bound', claimRef: fullRef('other')})],
      pvcs: [
        pvc('web', {size: '10Gi', modes: [RWO]}),
        pvc('other', {size: '10Gi', modes: [RWO], bound: true, volumeName: 'taken'}),
      ],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web', volume: 'taken', reclaim: true})
    expect(b.status).toBe('refused')
    expect(b.mismatches).toEqual([{check: 'claimedByOther', text: 'PV "taken" is bound to app/other'}])
  })

  it('refuses a claim whose spec.volumeName names another PV', () => {
    const {w} = world({
      pvs: [pv('a', {size: '10Gi', modes: [RWO]}), pv('b', {size: '10Gi', modes: [RWO]})],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO], volumeName: 'a'})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web', volume: 'b'})
    expect(b.status).toBe('refused')
    expect(b.reason).toContain('spec.volumeName')
  })
})

describe('Released PVs', () => {
  const staleRef = {kind: 'PersistentVolumeClaim', namespace: 'app', name: 'db', uid: 'old-uid', resourceVersion: '55'}

  it('stale uid of the same claim name: updates the uid, drops claimRef.resourceVersion, carries the PV resourceVersion', () => {
    const {w} = world({
      pvs: [
        pv('db-old', {size: '5Gi', modes: [RWO], phase: 'Released', rv: '200', claimRef: staleRef, reclaim: 'Retain'}),
      ],
      pvcs: [pvc('db', {size: '5Gi', modes: [RWO], uid: 'new-uid'})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'db', volume: 'db-old'})
    expect(b.status).toBe('bind')
    expect(b.patch).toEqual({
      metadata: {resourceVersion: '200'},
      spec: {claimRef: {apiVersion: 'v1', uid: 'new-uid', resourceVersion: null}},
    })
    expect(b.reason).toContain('the data on it')
    // The patched PV names the new claim and keeps kind/namespace/name.
    expect(applyMergePatch(w.index.byName.get('db-old')!, b.patch).spec?.claimRef).toEqual({
      kind: 'PersistentVolumeClaim',
      apiVersion: 'v1',
      namespace: 'app',
      name: 'db',
      uid: 'new-uid',
    })
  })

  it('without --volume: recovered when the claim names the PV in spec.volumeName; otherwise only hinted', () => {
    const withName = world({
      pvs: [pv('db-old', {size: '5Gi', modes: [RWO], phase: 'Released', rv: '200', claimRef: staleRef})],
      pvcs: [pvc('db', {size: '5Gi', modes: [RWO], uid: 'new-uid', volumeName: 'db-old'})],
    })
    const b = planBinding(withName.w, {namespace: 'app', name: 'db'})
    expect(b.status).toBe('bind')
    expect(b.claimPatch).toBeNull()
    expect(b.patch?.spec).toEqual({claimRef: {apiVersion: 'v1', uid: 'new-uid', resourceVersion: null}})

    const noName = world({
      pvs: [
        pv('db-old', {size: '5Gi', modes: [RWO], phase: 'Released', claimRef: staleRef}),
        pv('fresh', {size: '5Gi', modes: [RWO]}),
      ],
      pvcs: [pvc('db', {size: '5Gi', modes: [RWO], uid: 'new-uid'})],
    })
    const c = planBinding(noName.w, {namespace: 'app', name: 'db'})
    expect(c.volume).toBe('fresh')
    expect(c.warnings.join(' ')).toContain('--volume db-old')
  })

  it('the keep-data hint is one text for explain and bind, given once, first, also for a stale PV still recorded Bound', () => {
    const {w} = world({
      pvs: [pv('db-old', {size: '5Gi', modes: [RWO], phase: 'Bound', claimRef: staleRef})],
      pvcs: [pvc('db', {size: '10Gi', modes: [RWO], uid: 'new-uid'})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'db'})
    expect(b.status).toBe('noCandidate')
    const hints = b.fix.filter((f) => f.includes('--volume db-old'))
    expect(hints).toHaveLength(1)
    expect(b.fix[0]).toBe(hints[0])
    expect(hints[0]).toBe(diagnoseClaim(w.claims.get('app/db')!, w).fix[0])
  })

  it("a claim's spec.volumeName naming another claim's PV: the fix names the field immutable, not 'pick another PV'", () => {
    const {w} = world({
      pvs: [
        pv('a', {size: '10Gi', modes: [RWO], phase: 'Bound', claimRef: {namespace: 'app', name: 'other', uid: 'u-o'}}),
      ],
      pvcs: [pvc('web', {size: '10Gi', modes: [RWO], volumeName: 'a'})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'web'})
    expect(b.status).toBe('refused')
    expect(b.fix.join(' ')).toMatch(/immutable/)
    expect(b.fix.join(' ')).not.toMatch(/Pick another PV/)
  })

  it("another claim's Released PV needs --reclaim; with it the claimRef is replaced and a warning says the data becomes visible", () => {
    const other = {
      kind: 'PersistentVolumeClaim',
      apiVersion: 'v1',
      namespace: 'app',
      name: 'old-logs',
      uid: 'gone',
      resourceVersion: '9',
    }
    const {w} = world({
      pvs: [
        pv('logs-old', {size: '1Gi', modes: [RWO], phase: 'Released', rv: '300', claimRef: other, reclaim: 'Retain'}),
      ],
      pvcs: [pvc('logs', {size: '1Gi', modes: [RWO]})],
    })
    const refused = planBinding(w, {namespace: 'app', name: 'logs', volume: 'logs-old'})
    expect(refused.status).toBe('refused')
    expect(refused.mismatches.map((m) => m.check)).toEqual(['claimedByOther'])
    expect(refused.mismatches[0].text).toContain('--reclaim')
    expect(refused.patch).toBeNull()

    const b = planBinding(w, {namespace: 'app', name: 'logs', volume: 'logs-old', reclaim: true})
    expect(b.status).toBe('bind')
    expect(b.patch).toEqual({
      metadata: {resourceVersion: '300'},
      spec: {claimRef: {name: 'logs', uid: 'uid-logs', resourceVersion: null}},
    })
    expect(b.warnings.join(' ')).toMatch(/app\/old-logs.*becomes readable and writable by app\/logs/)
  })

  it('--reclaim does not waive the other checks', () => {
    const other = {namespace: 'app', name: 'old', uid: 'gone'}
    const {w} = world({
      pvs: [pv('tiny', {size: '1Gi', modes: [RWO], phase: 'Released', claimRef: other})],
      pvcs: [pvc('logs', {size: '10Gi', modes: [RWO]})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'logs', volume: 'tiny', reclaim: true})
    expect(b.status).toBe('refused')
    expect(b.mismatches.map((m) => m.check)).toEqual(['capacity'])
  })

  it('a Failed PV is refused', () => {
    const {w} = world({
      pvs: [
        pv('failed', {
          size: '5Gi',
          modes: [RWO],
          phase: 'Failed',
          claimRef: {namespace: 'app', name: 'db', uid: 'old'},
        }),
      ],
      pvcs: [pvc('db', {size: '5Gi', modes: [RWO], uid: 'new'})],
    })
    expect(planBinding(w, {namespace: 'app', name: 'db', volume: 'failed'}).mismatches.map((m) => m.check)).toEqual([
      'phase',
    ])
  })
})

describe('PVs without a claimRef (Released, Failed, Pending): Available at the next sync', () => {
  for (const phase of ['Released', 'Failed', 'Pending']) {
    it(`${phase}: planned like an Available PV, with a warning that says the controller makes it Available`, () => {
      const {w} = world({
        pvs: [pv('recycled', {size: '5Gi', modes: [RWO], phase})],
        pvcs: [pvc('db', {size: '5Gi', modes: [RWO]})],
      })
      const b = planBinding(w, {namespace: 'app', name: 'db'})
      expect(b.status).toBe('bind')
      expect(b.volume).toBe('recycled')
      expect(b.warnings.join(' ')).toContain('makes it Available at its next sync')
      const asked = planBinding(w, {namespace: 'app', name: 'db', volume: 'recycled'})
      expect(asked.status).toBe('bind')
    })
  }
})

describe('claims the controller marks Lost', () => {
  it('a bind-completed claim whose PV now belongs to another claim is refused (ClaimMisbound), not re-planned', () => {
    const {w} = world({
      pvs: [
        pv('v', {size: '5Gi', modes: [RWO], phase: 'Bound', claimRef: fullRef('other')}),
        pv('free', {size: '5Gi', modes: [RWO]}),
      ],
      pvcs: [pvc('db', {size: '5Gi', modes: [RWO], volumeName: 'v', bound: true})],
    })
    const b = planBinding(w, {namespace: 'app', name: 'db'})
    expect(b.status).toBe('refused')
    expect(b.cause).toBe('ClaimLost')
    expect(b.reason).toContain('Two claims are bound to the same volume')
  })
})

describe('WaitForFirstConsumer', () => {
  const consumer = pod('cache-0', ['cache'], {nodeSelector: {'kubernetes.io/hostname': 'node-b'}})
  const pvs = () => [
    pv('local-a', {size: '50Gi', modes: [RWO], cls: 'local', hosts: ['node-a']}),
    pv('local-b', {size: '100Gi', modes: [RWO], cls: 'local', hosts: ['node-b']}),
  ]

  it("with a consumer: the scheduler's choice on a node the pod can use", () => {
    const {w} = world(
      {pvs: pvs(), pvcs: [pvc('cache', {size: '10Gi', modes: [RWO], cls: 'local'})], pods: [consumer]},
      true,
    )
    const b = planBinding(w, {namespace: 'app', name: 'cache'})
    expect(b.status).toBe('bind')
    expect(b.volume).toBe('local-b')
    expect(b.claimPatch).toBeNull()
  })

  it('--volume on a node the consumer cannot use is refused with nodeAffinity', () => {
    const {w} = world(
      {pvs: pvs(), pvcs: [pvc('cache', {size: '10Gi', modes: [RWO], cls: 'local'})], pods: [consumer]},
      true,
    )
    const b = planBinding(w, {namespace: 'app', name: 'cache', volume: 'local-a'})
    expect(b.status).toBe('refused')
    expect(b.mismatches.map((m) => m.check)).toEqual(['nodeAffinity'])
    expect(b.mismatches[0].text).toContain('it can use node-b')
  })

  it('a consumer placed by spec.nodeName: only PVs on that node', () => {
    const placed = pod('cache-0', ['cache'], {nodeName: 'node-a'})
    const {w} = world(
      {pvs: pvs(), pvcs: [pvc('cache', {size: '10Gi', modes: [RWO], cls: 'local'})], pods: [placed]},
      true,
    )
    expect(planBinding(w, {namespace: 'app', name: 'cache', volume: 'local-b'}).status).toBe('refused')
    expect(planBinding(w, {namespace: 'app', name: 'cache', volume: 'local-a'}).status).toBe('bind')
  })

  it('without a consumer: nothing to do by default (exit 0); --volume pre-binds with a node-affinity warning', () => {
    const {w} = world({pvs: pvs(), pvcs: [pvc('cache', {size: '10Gi', modes: [RWO], cls: 'local'})]}, true)
    const b = planBinding(w, {namespace: 'app', name: 'cache'})
    expect(b).toMatchObject({status: 'nothingToDo', volume: null, cause: 'WaitingForFirstConsumer'})
    expect(bindExitCode([b])).toBe(0)
    const v = planBinding(w, {namespace: 'app', name: 'cache', volume: 'local-a'})
    expect(v.status).toBe('bind')
    expect(v.warnings.join(' ')).toContain('pinned to certain nodes')
    expect(v.claimPatch).toBeNull()
  })
})

describe('--all', () => {
  it('never plans the same PV twice: the second claim gets the next best PV', () => {
    const {snap} = world({
      pvs: [pv('pv-10', {size: '10Gi', modes: [RWO]}), pv('pv-20', {size: '20Gi', modes: [RWO]})],
      pvcs: [
        pvc('a', {size: '5Gi', modes: [RWO]}),
        pvc('b', {size: '5Gi', modes: [RWO]}),
        pvc('c', {size: '5Gi', modes: [RWO]}),
        pvc('done', {size: '1Gi', modes: [RWO], bound: true, volumeName: 'x'}),
      ],
    })
    const plans = planAll(snap, 'app')
    expect(plans.map((b) => [b.claim, b.status, b.volume])).toEqual([
      ['app/a', 'bind', 'pv-10'],
      ['app/b', 'bind', 'pv-20'],
      ['app/c', 'noCandidate', null],
    ])
    expect(bindExitCode(plans)).toBe(1)
  })
})

describe('patch and command builders', () => {
  it('claimRefPatch on a free PV without resourceVersion carries no metadata', () => {
    const p = pv('x', {size: '1Gi', modes: [RWO]})
    delete p.metadata!.resourceVersion
    expect(claimRefPatch(p, pvc('web', {size: '1Gi', modes: [RWO]}))).toEqual({spec: {claimRef: fullRef('web')}})
  })

  it('shell-quotes single quotes and leaves safe words bare', () => {
    expect(shellQuote('pv-1')).toBe('pv-1')
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`)
    expect(kubectlPatchCommand('pv', 'a', {spec: {x: "o'k"}})).toBe(
      `kubectl patch pv a --type=merge -p '{"spec":{"x":"o'\\''k"}}'`,
    )
  })

  it('describeChange names what changed between plan and now', () => {
    const before = pv('x', {size: '1Gi', modes: [RWO], rv: '1'})
    const after = pv('x', {size: '1Gi', modes: [RWO], rv: '2', phase: 'Bound', claimRef: fullRef('other', 'u2')})
    expect(describeChange(before, after)).toEqual([
      'resourceVersion 1 → 2',
      'spec.claimRef: unset → app/other (uid u2)',
      'status.phase: Available → Bound',
    ])
    expect(describeChange(before, before)).toEqual([])
  })

  it('applyMergePatch follows RFC 7386', () => {
    expect(applyMergePatch({a: 1, b: {c: 2, d: 3}}, {b: {c: null, e: 4}, f: [1]})).toEqual({
      a: 1,
      b: {d: 3, e: 4},
      f: [1],
    })
  })
})
