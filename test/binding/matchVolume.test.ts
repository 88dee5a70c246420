import {describe, expect, it} from 'vitest'
import {
  checkVolumeSatisfyClaim,
  effectivePhase,
  findMatchingVolume,
  MISMATCH_CODES,
  volumeMismatches,
} from '../../src/binding/matchVolume.js'
import {controllerPick, VolumeIndex} from '../../src/binding/volumeIndex.js'
import {pv, pvc} from '../helpers/objects.js'

const phaseOf = (p: ReturnType<typeof pv>) => p.status?.phase ?? 'Available'
const names = (xs: {metadata?: {name?: string}}[]) => xs.map((x) => x.metadata?.name)

describe('volumeMismatches: every mismatch code, all failing checks in upstream order', () => {
  const claim = pvc('data', {size: '5Gi', selector: {matchLabels: {tier: 'fast'}}})
  const cases: [string, ReturnType<typeof pv>, string[]][] = [
    [
      'claimedByOther',
      pv('a', {labels: {tier: 'fast'}, claimRef: {namespace: 'app', name: 'other', uid: 'u1'}}),
      ['claimedByOther', 'phase'],
    ],
    ['capacity', pv('a', {size: '1Gi', labels: {tier: 'fast'}}), ['capacity']],
    ['volumeMode', pv('a', {volumeMode: 'Block', labels: {tier: 'fast'}}), ['volumeMode']],
    ['volumeAttributesClass', pv('a', {vac: 'gold', labels: {tier: 'fast'}}), ['volumeAttributesClass']],
    ['deleting', pv('a', {deleting: true, labels: {tier: 'fast'}}), ['deleting']],
    ['phase', pv('a', {phase: 'Released', labels: {tier: 'fast'}}), ['phase']],
    ['selector', pv('a', {labels: {tier: 'slow'}}), ['selector']],
    ['storageClass', pv('a', {cls: 'other', labels: {tier: 'fast'}}), ['storageClass']],
    ['accessModes', pv('a', {modes: ['ReadOnlyMany'], labels: {tier: 'fast'}}), ['accessModes']],
  ]
  for (const [code, vol, want] of cases) {
    it(code, () => {
      expect(volumeMismatches(vol, claim, {phase: phaseOf(vol)})).toEqual(want)
    })
  }
  it('nodeAffinity (scheduler path)', () => {
    const vol = pv('a', {labels: {tier: 'fast'}, hosts: ['n1']})
    expect(volumeMismatches(vol, claim, {phase: 'Available', nodeAffinityOk: false})).toEqual(['nodeAffinity'])
  })
  it('lists every failing check, not just the first', () => {
    const vol = pv('a', {size: '1Gi', cls: 'x', modes: ['ReadOnlyMany'], volumeMode: 'Block'})
    expect(volumeMismatches(vol, claim, {phase: 'Available'})).toEqual([
      'capacity',
      'volumeMode',
      'selector',
      'storageClass',
      'accessModes',
    ])
  })
  it('covers every code the contract defines', () => {
    expect([...cases.map((c) => c[0]), 'nodeAffinity'].sort()).toEqual([...MISMATCH_CODES].sort())
  })
  it('a PV pre-bound to the claim skips phase, selector and class, as upstream does', () => {
    const vol = pv('a', {cls: 'other', phase: 'Available', claimRef: {namespace: 'app', name: 'data'}})
    expect(volumeMismatches(vol, claim, {phase: 'Available'})).toEqual([])
  })
})

describe('findMatchingVolume', () => {
  it('picks the smallest fitting PV and reports equal ones as ties', () => {
    const r = findMatchingVolume(
      pvc('c'),
      [pv('big', {size: '50Gi'}), pv('s1', {size: '10Gi'}), pv('s2', {size: '10240Mi'})],
      {phaseOf, delayBinding: false},
    )
    expect(names(r.best)).toEqual(['s1', 's2'])
  })
  it('a pre-bound PV wins over a smaller one, whatever the order', () => {
    const r = findMatchingVolume(
      pvc('c'),
      [
        pv('small', {size: '6Gi'}),
        pv('mine', {size: '100Gi', claimRef: {namespace: 'app', name: 'c'}, phase: 'Available'}),
      ],
      {phaseOf, delayBinding: false},
    )
    expect(names(r.best)).toEqual(['mine'])
  })
  it('with delayed binding and no node, only pre-bound PVs count (the controller leaves the rest to the scheduler)', () => {
    expect(findMatchingVolume(pvc('c'), [pv('free')], {phaseOf, delayBinding: true}).best).toEqual([])
  })
  it('a pre-bound PV that does not fit the node ends the whole search', () => {
    const r = findMatchingVolume(
      pvc('c'),
      [pv('free', {hosts: ['n1']}), pv('mine', {hosts: ['n2'], claimRef: {namespace: 'app', name: 'c'}})],
      {
        phaseOf,
        delayBinding: true,
        nodeLabels: {'kubernetes.io/hostname': 'n1'},
      },
    )
    expect(r.best).toEqual([])
  })
})

describe('controllerPick: access-mode groups, fewest modes first', () => {
  it('a PV with exactly the requested modes beats a smaller PV with extra modes', () => {
    const index = new VolumeIndex([
      pv('small-rwo-rox', {size: '6Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany']}),
      pv('big-rwo', {size: '100Gi'}),
    ])
    const p = controllerPick(pvc('c'), index, false, phaseOf)
    expect(p.winner?.metadata?.name).toBe('big-rwo')
    expect(p.ties).toEqual([])
  })
  it('groups with the same number of modes tie', () => {
    const index = new VolumeIndex([
      pv('rwo-rox', {size: '20Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany']}),
      pv('rwo-rwx', {size: '6Gi', modes: ['ReadWriteOnce', 'ReadWriteMany']}),
    ])
    const p = controllerPick(pvc('c'), index, false, phaseOf)
    expect(names([p.winner!, ...p.ties]).sort()).toEqual(['rwo-rox', 'rwo-rwx'])
  })
  it('a PV pre-bound to the claim binds despite a class difference', () => {
    const index = new VolumeIndex([
      pv('other-class', {cls: 'gold', claimRef: {namespace: 'app', name: 'c'}, phase: 'Available'}),
      pv('same-class-too-small', {size: '1Gi'}),
    ])
    expect(controllerPick(pvc('c'), index, false, phaseOf).winner?.metadata?.name).toBe('other-class')
  })
  it('a Released PV with a stale claimRef uid is never chosen', () => {
    const index = new VolumeIndex([
      pv('old', {phase: 'Released', claimRef: {namespace: 'app', name: 'c', uid: 'dead-uid'}}),
    ])
    expect(controllerPick(pvc('c'), index, false, phaseOf).winner).toBeNull()
  })
  it('matches by exact quantity, not float: 5Gi request, 5368709120 PV', () => {
    const index = new VolumeIndex([pv('exact', {size: '5368709120'})])
    expect(controllerPick(pvc('c', {size: '5Gi'}), index, false, phaseOf).winner?.metadata?.name).toBe('exact')
  })
})

describe('effectivePhase: the phase once the controller has synced the PV (syncVolume)', () => {
  const lookup = (claims: ReturnType<typeof pvc>[], complete = true) => ({
    get: (ns: string, name: string) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    readable: true,
    complete,
  })
  it('a fresh PV becomes Available, a PV of a deleted claim Released', () => {
    const fresh = pv('f')
    delete fresh.status
    expect(effectivePhase(fresh, lookup([]))).toBe('Available')
    const orphan = pv('o', {claimRef: {namespace: 'a', name: 'gone', uid: 'u'}})
    delete orphan.status
    expect(effectivePhase(orphan, lookup([]))).toBe('Released')
    expect(effectivePhase(orphan, lookup([pvc('gone', {ns: 'a', uid: 'u'})]))).toBe('Bound')
  })
  it('every PV without a claimRef is Available at the next sync, whatever its phase (how an admin recycles a Released PV)', () => {
    for (const phase of ['Released', 'Failed', 'Pending', 'Available', 'Bound'])
      expect(effectivePhase(pv('r', {phase}), lookup([]))).toBe('Available')
  })
  it('a Bound PV whose claim is absent stays Bound when the snapshot holds one namespace only', () => {
    const p = pv('b', {claimRef: {namespace: 'other', name: 'db', uid: 'u'}, phase: 'Bound'})
    expect(effectivePhase(p, lookup([], false))).toBe('Bound')
    expect(effectivePhase(p, lookup([], true))).toBe('Released')
  })
  it('a PV whose claim was re-created (same name, new uid) is Released; one whose claim is bound elsewhere is rolled back', () => {
    const p = pv('b', {claimRef: {namespace: 'a', name: 'db', uid: 'old'}, phase: 'Bound'})
    expect(effectivePhase(p, lookup([pvc('db', {ns: 'a', uid: 'new'})], false))).toBe('Released')
    expect(effectivePhase(p, lookup([pvc('db', {ns: 'a', uid: 'old', volumeName: 'other'})], false))).toBe('Available')
  })
})

describe('checkVolumeSatisfyClaim: a claim that names its PV', () => {
  it('lists every failing check in upstream order', () => {
    const claim = pvc('data', {size: '5Gi', modes: ['ReadWriteMany']})
    const bad = pv('a', {size: '1Gi', cls: 'other', volumeMode: 'Block', deleting: true})
    expect(checkVolumeSatisfyClaim(bad, claim)).toEqual([
      'deleting',
      'capacity',
      'storageClass',
      'volumeMode',
      'accessModes',
    ])
  })
  it("compares the PV's class as upstream resolves it: the beta annotation wins over spec", () => {
    const claim = pvc('data', {cls: 'fast'})
    const annotated = pv('a', {cls: 'fast', annotations: {'volume.beta.kubernetes.io/storage-class': 'slow'}})
    expect(checkVolumeSatisfyClaim(annotated, claim)).toEqual(['storageClass'])
  })
})
