import type {V1Node, V1Pod} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {nodeAffinityPreFilter, nonVolumeReason} from '../../src/binding/scheduling.js'

describe('non-volume filters', () => {
  const node: V1Node = {
    metadata: {name: 'n1', labels: {}},
    spec: {taints: [{key: 'dedicated', value: 'db', effect: 'NoSchedule'}]},
  }
  const pod: V1Pod = {metadata: {name: 'p'}, spec: {containers: []}}

  it('an untolerated taint gives the 1.35+ scheduler text, which no longer names the taint', () => {
    expect(nonVolumeReason(pod, node)).toBe('node(s) had untolerated taint(s)')
  })

  it('a toleration lets the pod past the taint', () => {
    expect(
      nonVolumeReason({...pod, spec: {containers: [], tolerations: [{key: 'dedicated', operator: 'Exists'}]}}, node),
    ).toBeNull()
  })
})

// nodeaffinity/node_affinity_test.go TestNodeAffinity, the cases with a PreFilter result.
describe("NodeAffinity's PreFilter", () => {
  const name = (values: string[], operator = 'In') => ({key: 'metadata.name', operator, values})
  const fooBar = {key: 'foo', operator: 'In', values: ['bar']}
  const withTerms = (terms: object[]): V1Pod => ({
    metadata: {name: 'p'},
    spec: {
      containers: [],
      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: terms}}},
    },
  })
  const names = (pod: V1Pod) => [...(nodeAffinityPreFilter(pod).nodeNames ?? [])].sort()

  it('matchFields metadata.name In names the only nodes the filters run on', () => {
    expect(names(withTerms([{matchFields: [name(['node1'])]}]))).toEqual(['node1'])
  })
  it('a term with label expressions as well is still narrowed to its names', () => {
    expect(names(withTerms([{matchFields: [name(['node1'])], matchExpressions: [fooBar]}]))).toEqual(['node1'])
  })
  it('two terms of node names: their union', () => {
    expect(names(withTerms([{matchFields: [name(['node1'])]}, {matchFields: [name(['node2'])]}]))).toEqual([
      'node1',
      'node2',
    ])
  })
  it('a term without a name field lets every node through (terms are ORed)', () => {
    const pod = withTerms([{matchFields: [name(['node1']), name(['node2'])]}, {matchExpressions: [fooBar]}])
    expect(nodeAffinityPreFilter(pod)).toEqual({})
  })
  it('NotIn does not narrow; neither does a nodeSelector alone', () => {
    expect(nodeAffinityPreFilter(withTerms([{matchFields: [name(['node1'], 'NotIn')]}]))).toEqual({})
    expect(nodeAffinityPreFilter({metadata: {name: 'p'}, spec: {containers: [], nodeSelector: {a: 'b'}}})).toEqual({})
    expect(nodeAffinityPreFilter(withTerms([]))).toEqual({})
  })
  it('two conflicting name requirements in one term reject the pod', () => {
    expect(nodeAffinityPreFilter(withTerms([{matchFields: [name(['node1']), name(['node2'])]}]))).toEqual({
      rejection: 'pod affinity terms conflict',
    })
  })
})
