import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import {diagnose} from '../../src/diagnose/diagnose.js'
import {renderDiagnosis} from '../../src/output/renderDiagnosis.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {pv, pvc, sc, snap} from '../helpers/objects.js'
import {TEN_STATES} from './tenStates.js'

const plain = new Chalk({level: 0})

function explain(s: Snapshot) {
  return diagnose(s, {targets: [{kind: 'claim', namespace: 'app', name: 'data'}], all: true})
}

/** The first fix a storage engineer would do in each state (a substring of it), and the cause. */
const FIRST: Record<string, {cause: string; first: RegExp | null}> = {
  'missing-class': {cause: 'StorageClassNotFound', first: /typo, recreate the claim with an existing class/},
  'no-class-no-default': {cause: 'NoDefaultStorageClass', first: /^Mark a StorageClass as default.*local-path/},
  'too-small-or-wrong-mode': {cause: 'NoMatchingVolume', first: /^PV pv-small is too small \(10Gi < 20Gi\)/},
  'block-vs-filesystem': {
    cause: 'NoMatchingVolume',
    first: /^PV pv-fs is volumeMode Filesystem, the claim wants Block/,
  },
  'wffc-without-pod': {cause: 'WaitingForFirstConsumer', first: /^Create the workload/},
  'pvs-only-in-other-zone': {
    cause: 'NoVolumeOnFeasibleNodes',
    first: /^Create a PV of class local-nvme .* on one of: node-a1, node-a2/,
  },
  'provisioner-not-installed': {
    cause: 'ProvisionerNotFound',
    first: /^Install or start the provisioner "ebs.csi.aws.com"/,
  },
  'volume-name-bound-elsewhere': {
    cause: 'VolumeClaimedByOther',
    first: /^spec.volumeName is immutable once set: delete and recreate the claim/,
  },
  'released-pv-of-recreated-claim': {
    cause: 'NoMatchingVolume',
    first: /^PV pv-old-data \(Released\) holds the data .* bind -n app data --volume pv-old-data$/,
  },
  healthy: {cause: 'Bound', first: null},
}

describe('the ten states of the advice review', () => {
  for (const [name, s] of Object.entries(TEN_STATES)) {
    it(`${name}: the first fix is the one to do first; the reviewed text is unchanged`, async () => {
      const d = explain(s)
      const c = d.claims[0]
      expect(c.cause).toBe(FIRST[name].cause)
      if (FIRST[name].first) expect(c.fix[0]).toMatch(FIRST[name].first!)
      else expect(c.fix).toEqual([])
      // Reviewed texts: a change of wording shows up here and is reviewed before it is checked in.
      await expect(renderDiagnosis(d, plain, {scopeLabel: ''})).toMatchFileSnapshot(`advice/${name}.txt`)
    })
  }
})

describe('advice rules', () => {
  it("closest PVs are of the claim's class: no other class in the table, message or fixes", () => {
    const c = explain(TEN_STATES['too-small-or-wrong-mode']).claims[0]
    expect(c.candidates.map((r) => r.name)).not.toContain('pv-other-class')
    expect(`${c.message}${c.fix.join()}`).not.toMatch(/pv-other-class|slow/)
  })

  it("other classes only when the claim's class has no PV, and then said so", () => {
    const s = snap({
      pvcs: [pvc('data', {cls: 'gold', size: '5Gi'})],
      storageClasses: [sc('gold')],
      pvs: [pv('pv-silver', {size: '10Gi', cls: 'silver'})],
    })
    const c = explain(s).claims[0]
    expect(c.message).toMatch(/closest, of another class since "gold" has no PV: pv-silver \(class silver\)/)
    expect(c.fix[0]).toMatch(/^No PV of class "gold" exists; PV pv-silver of class "silver" would fit otherwise/)
  })

  it('a PV of another class that fails more than its class gets no fix sentence', () => {
    const s = snap({
      pvcs: [pvc('data', {cls: 'gold', size: '5Gi', modes: ['ReadWriteMany']})],
      storageClasses: [sc('gold')],
      pvs: [pv('pv-silver', {size: '10Gi', cls: 'silver'})],
    })
    expect(explain(s).claims[0].fix.join('\n')).not.toMatch(/pv-silver/)
  })

  it('one sentence per distinct failing check among the closest candidates', () => {
    const c = explain(TEN_STATES['too-small-or-wrong-mode']).claims[0]
    expect(c.fix.filter((f) => /too small/.test(f))).toHaveLength(1)
    expect(c.fix.filter((f) => /offers RWX, the claim needs RWO/.test(f))).toHaveLength(1)
  })

  it('keep data > fix the claim > create capacity', () => {
    const c = explain(TEN_STATES['released-pv-of-recreated-claim']).claims[0]
    const at = (re: RegExp) => c.fix.findIndex((f) => re.test(f))
    expect(at(/--volume pv-old-data/)).toBe(0)
    expect(at(/too small/)).toBeLessThan(at(/^Create a PV/))
  })

  it('the WaitForFirstConsumer hint only when PVs of the Immediate class are pinned to nodes', () => {
    const none = explain(TEN_STATES['too-small-or-wrong-mode']).claims[0]
    expect(none.fix.join('\n')).not.toMatch(/WaitForFirstConsumer/)
    const pinned = snap({
      pvcs: [pvc('data', {size: '20Gi'})],
      storageClasses: [sc('manual')],
      pvs: [pv('local-a1', {size: '10Gi', hosts: ['node-a1']})],
    })
    expect(explain(pinned).claims[0].fix.at(-1)).toMatch(
      /binds Immediately, ignoring the node affinity of its local PVs/,
    )
  })

  it('"mark a class default" only when a class exists', () => {
    const c = explain(snap({pvcs: [pvc('data', {cls: null})]})).claims[0]
    expect(c.fix[0]).toMatch(/^The cluster has no StorageClass: create one marked default/)
  })

  it('a wrong spec.volumeName is named immutable: the claim must be recreated', () => {
    const c = explain(TEN_STATES['volume-name-bound-elsewhere']).claims[0]
    expect(c.fix[0]).toMatch(/immutable/)
    expect(c.fix.join('\n')).not.toMatch(/Pick another PV/)
  })

  it('the keep-data hint is not offered to a claim that names another PV (bind would refuse)', () => {
    const s = snap({
      pvcs: [pvc('data', {volumeName: 'missing'})],
      pvs: [pv('pv-old', {phase: 'Released', claimRef: {namespace: 'app', name: 'data', uid: 'old'}})],
    })
    expect(explain(s).claims[0].fix.join('\n')).not.toMatch(/--volume pv-old/)
  })

  it('a stale PV still recorded Bound is offered back too (the controller releases it), a Failed one is not', () => {
    const stale = (phase: string) =>
      explain(
        snap({
          pvcs: [pvc('data', {size: '20Gi'})],
          storageClasses: [sc('manual')],
          pvs: [pv('pv-old', {size: '20Gi', phase, claimRef: {namespace: 'app', name: 'data', uid: 'old'}})],
        }),
      ).claims[0].fix[0] ?? ''
    expect(stale('Bound')).toMatch(/--volume pv-old$/)
    expect(stale('Failed')).not.toMatch(/--volume pv-old/)
  })

  it('unlisted PVs are named for what they are, not "further from fitting"', () => {
    const pvs = [pv('pv-small', {size: '1Gi'})]
    for (let i = 0; i < 12; i++)
      pvs.push(pv(`pv-bound-${i}`, {size: '50Gi', claimRef: {namespace: 'app', name: `c${i}`, uid: `u${i}`}}))
    const d = explain(snap({pvcs: [pvc('data', {size: '20Gi'})], storageClasses: [sc('manual')], pvs}))
    const c = d.claims[0]
    expect(c.candidatesOmittedBy).toEqual({boundElsewhere: 12, reserved: 0, released: 0, furtherFromFitting: 0})
    expect(renderDiagnosis(d, plain, {scopeLabel: ''})).toMatch(
      /… and 12 more PV\(s\) of this class not listed: 12 bound to other claims\n/,
    )
  })

  it('WHY NOT names every failing check with its values', () => {
    const c = explain(TEN_STATES['pvs-only-in-other-zone']).claims[0]
    const row = c.candidates.find((r) => r.name === 'local-b1')!
    expect(row.whyNot).toEqual(['only on node-b1; pod can use node-a1, node-a2'])
    const used = c.candidates.find((r) => r.name === 'local-a1-used')
    if (used) expect(used.whyNot[0]).toBe('reserved for app/other')
  })
})
