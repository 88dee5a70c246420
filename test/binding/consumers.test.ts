// FitError's text for a pod whose nodes NodeAffinity's PreFilter narrows (DaemonSet-style
// matchFields metadata.name In): schedule_one_test.go TestSchedulerSchedulePod's PreFilterResult
// cases, with NodeAffinity as the plugin that returns node names, per scheduler version.
import type {V1Pod} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {analysePod} from '../../src/binding/consumers.js'
import {buildWorld} from '../../src/binding/world.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pod, pv, pvc, sc, snap} from '../helpers/objects.js'

const local = sc('local', {mode: 'WaitForFirstConsumer'})
const tainted = {key: 'dedicated', value: 'db', effect: 'NoSchedule'}

/** A pod pinned the way the DaemonSet controller pins its pods, with one claim. */
function pinned(names: string[][], claim = 'data'): V1Pod {
  const p = pod('p', [claim])
  p.spec!.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{matchFields: names.map((values) => ({key: 'metadata.name', operator: 'In', values}))}],
      },
    },
  }
  return p
}

function analyse(s: Partial<Snapshot>, p: V1Pod, version = 'v1.36.3') {
  return analysePod(
    p,
    buildWorld(snap({storageClasses: [local], pvcs: [pvc('data', {cls: 'local'})], ...s, serverVersion: version})),
  )
}

describe('FitError when a PreFilterResult narrows the nodes', () => {
  // "test some nodes are filtered out by prefilter plugin and other are filtered out by filter plugin"
  const nodes = [node('node1'), node('node2', {taints: [tainted]})]
  const p = pinned([['node2']])

  it('1.32+: the nodes left out are counted as not satisfying NodeAffinity; the named one by its filter', () => {
    const a = analyse({nodes}, p)
    expect(a.summary).toBe(
      "0/2 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 1 node(s) had untolerated taint(s).",
    )
    expect(a.nodes).toEqual([
      {name: 'node1', reasons: ["node(s) didn't satisfy plugin(s) [NodeAffinity]"]},
      {name: 'node2', reasons: ['node(s) had untolerated taint(s)']},
    ])
    expect(analyse({nodes}, p, 'v1.32.13').summary).toBe(
      "0/2 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 1 node(s) had untolerated taint {dedicated: db}.",
    )
  })

  it('1.30.2-1.31: the nodes left out get no status, so the counts add up to fewer than N', () => {
    expect(analyse({nodes}, p, 'v1.31.0').summary).toBe(
      '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.',
    )
    expect(analyse({nodes}, p, 'v1.30.2').summary).toBe(
      '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.',
    )
  })

  it('1.30.0-1.30.1: each node left out is "filtered out by the prefilter result"', () => {
    expect(analyse({nodes}, p, 'v1.30.1').summary).toBe(
      '0/2 nodes are available: 1 node is filtered out by the prefilter result, 1 node(s) had untolerated taint {dedicated: db}.',
    )
  })

  // "test prefilter plugin returned an invalid node"
  it('a name no node has: every node is left out', () => {
    const a = analyse({nodes: [node('1'), node('2')]}, pinned([['invalid-node']]))
    expect(a.summary).toBe("0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity].")
    expect(analyse({nodes: [node('1'), node('2')]}, pinned([['invalid-node']]), 'v1.31.4').summary).toBe(
      '0/2 nodes are available:',
    )
  })

  it("VolumeBinding's reason on the named node, NodeAffinity's count for the others", () => {
    const a = analyse(
      {nodes: [node('n1'), node('n2'), node('n3')], pvs: [pv('on-n1', {cls: 'local', hosts: ['n1']})]},
      pinned([['n2']]),
    )
    expect(a.summary).toBe(
      "0/3 nodes are available: 1 node(s) didn't find available persistent volumes to bind, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    )
  })

  it('the named node that passes every filter is the one feasible node', () => {
    const a = analyse(
      {nodes: [node('n1'), node('n2')], pvs: [pv('on-n2', {cls: 'local', hosts: ['n2']})]},
      pinned([['n2']]),
    )
    expect(a.summary).toBe('1/2 nodes are available.')
    expect(a.fits.map((n) => n.metadata?.name)).toEqual(['n2'])
  })

  it('conflicting name requirements: a PreFilter rejection, before the claim checks of VolumeBinding', () => {
    const p2 = pinned([['n1'], ['n2']], 'missing')
    const a = analyse({nodes: [node('n1'), node('n2')]}, p2)
    expect(a.preFilter).toBe('pod affinity terms conflict')
    expect(a.summary).toBe('0/2 nodes are available: pod affinity terms conflict.')
  })

  it('a hostname label term (not matchFields) is still the Filter\'s "didn\'t match" for every other node', () => {
    const p3 = pod('p', ['data'], {nodeSelector: {'kubernetes.io/hostname': 'n2'}})
    const a = analyse({nodes: [node('n1'), node('n2'), node('n3')]}, p3)
    expect(a.summary).toBe(
      "0/3 nodes are available: 1 node(s) didn't find available persistent volumes to bind, 2 node(s) didn't match Pod's node affinity/selector.",
    )
  })
})
