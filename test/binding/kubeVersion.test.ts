import {describe, expect, it} from 'vitest'
import {isSupported, parseKubeVersion, rulesFor} from '../../src/binding/kubeVersion.js'
import {diagnose} from '../../src/diagnose/diagnose.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pod, pv, pvc, sc, snap} from '../helpers/objects.js'

const v = (s: string) => rulesFor(parseKubeVersion(s))

function explain(s: Snapshot, version: string, claim = 'data') {
  return diagnose(
    {...s, serverVersion: version},
    {targets: [{kind: 'claim', namespace: 'app', name: claim}], all: true},
  ).claims[0]
}

describe('parseKubeVersion', () => {
  it('reads /version gitVersions of managed clusters and plain minors', () => {
    expect(parseKubeVersion('v1.33.2')).toMatchObject({minor: 33, patch: 2})
    expect(parseKubeVersion('v1.31.4-eks-1234')).toMatchObject({minor: 31, patch: 4})
    expect(parseKubeVersion('v1.32.3+k3s1')).toMatchObject({minor: 32, patch: 3})
    expect(parseKubeVersion('1.34')?.minor).toBe(34)
    expect(parseKubeVersion('latest')).toBeUndefined()
    expect(isSupported(parseKubeVersion('1.29')!)).toBe(false)
    expect(isSupported(parseKubeVersion('1.36.3')!)).toBe(true)
  })
})

describe('version rules, each checked in upstream source', () => {
  it('VolumeAttributesClass matching: ignored in 1.30, gate off 1.31-1.33, on from 1.34', () => {
    expect(['1.30', '1.31', '1.33', '1.34', '1.36'].map((x) => v(x).vac)).toEqual([
      'ignore',
      'gateOff',
      'gateOff',
      'strict',
      'strict',
    ])
  })
  it('the VolumeBinding node-affinity reason was reworded in 1.33', () => {
    expect(v('1.32').nodeConflictReason).toBe('node(s) had volume node affinity conflict')
    expect(v('1.33').nodeConflictReason).toBe("node(s) didn't match PersistentVolume's node affinity")
  })
  it('the taint reason drops key and value from 1.35 (and 1.34.2)', () => {
    const t = {key: 'dedicated', value: 'db', effect: 'NoSchedule'}
    expect(v('1.32.13').taintReason(t)).toBe('node(s) had untolerated taint {dedicated: db}')
    expect(v('1.34.0').taintReason(t)).toBe('node(s) had untolerated taint {dedicated: db}')
    expect(v('1.34.4').taintReason(t)).toBe('node(s) had untolerated taint(s)')
    expect(v('1.36').taintReason(t)).toBe('node(s) had untolerated taint(s)')
  })
})

describe('verdicts follow the version', () => {
  const local = sc('local', {mode: 'WaitForFirstConsumer'})
  it('a claim with a VolumeAttributesClass: VolumeAttributesClassDisabled on 1.32, bound on 1.34 and later', () => {
    const s = snap({
      storageClasses: [sc('manual')],
      pvs: [pv('gold', {vac: 'gold'})],
      pvcs: [pvc('data', {vac: 'gold'})],
    })
    const old = explain(s, 'v1.32.13')
    expect(old.cause).toBe('VolumeAttributesClassDisabled')
    expect(old.message).toContain(
      'unsupported volumeAttributesClassName is set on claim app/data when the feature-gate VolumeAttributesClass is disabled',
    )
    expect(explain(s, 'v1.34.4')).toMatchObject({cause: 'BindPending', wouldBind: 'gold'})
  })
  it('a PV with a VolumeAttributesClass is skipped on 1.32 even for a claim without one; ignored entirely on 1.30', () => {
    const s = snap({storageClasses: [sc('manual')], pvs: [pv('gold', {vac: 'gold'})], pvcs: [pvc('data')]})
    expect(explain(s, '1.32').wouldBind).toBeNull()
    expect(explain(s, '1.36').wouldBind).toBeNull()
    expect(explain(s, '1.30').wouldBind).toBe('gold')
  })
  it("the scheduler's node-affinity and taint texts are the version's", () => {
    const nodes = [node('n1', {taints: [{key: 'dedicated', value: 'db', effect: 'NoSchedule'}]}), node('n2')]
    const s = snap({
      storageClasses: [local],
      nodes,
      pvs: [pv('v', {cls: 'local', hosts: ['n1'], claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}})],
      pvcs: [
        pvc('data', {
          cls: 'local',
          volumeName: 'v',
          phase: 'Bound',
          annotations: {'pv.kubernetes.io/bind-completed': 'yes'},
        }),
      ],
      pods: [pod('p', ['data'])],
    })
    const at = (version: string) =>
      diagnose({...s, serverVersion: version}, {targets: [{kind: 'pod', namespace: 'app', name: 'p'}], all: true})
        .claims[0]
    expect(at('1.32').consumers[0].summary).toBe(
      '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) had volume node affinity conflict.',
    )
    expect(at('1.36').consumers[0].summary).toBe(
      "0/2 nodes are available: 1 node(s) didn't match PersistentVolume's node affinity, 1 node(s) had untolerated taint(s).",
    )
  })
  it('kubernetes.io/portworx-volume and kubernetes.io/rbd provision in-tree on 1.30; from 1.31 Portworx is migrated and RBD is gone', () => {
    const s = (p: string) =>
      snap({
        storageClasses: [sc('px', {provisioner: p})],
        pvcs: [pvc('data', {cls: 'px'})],
        skipped: [{resource: 'csidrivers', reason: 'not in the input file'}],
      })
    expect(explain(s('kubernetes.io/portworx-volume'), '1.30').cause).toBe('ProvisioningInProgress')
    expect(explain(s('kubernetes.io/portworx-volume'), '1.32').message).toContain('pxd.portworx.com')
    expect(explain(s('kubernetes.io/rbd'), '1.30').cause).toBe('ProvisioningInProgress')
    expect(explain(s('kubernetes.io/rbd'), '1.32').cause).toBe('UnknownProvisioner')
  })
})
