import type {V1Node, V1Pod} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {nonVolumeReason} from '../../src/binding/scheduling.js'

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
