import {describe, expect, it} from 'vitest'
import {labelSelectorMatches, nodeSelectorTermsMatch, parseLabelSelector} from '../../src/binding/selectors.js'

describe('labelSelectorMatches', () => {
  it('no selector matches everything; {} too', () => {
    expect(labelSelectorMatches(undefined, {})).toBe(true)
    expect(labelSelectorMatches({}, {a: 'b'})).toBe(true)
  })
  it('matchLabels and every expression operator', () => {
    const labels = {disk: 'ssd', zone: 'a'}
    expect(labelSelectorMatches({matchLabels: {disk: 'ssd'}}, labels)).toBe(true)
    expect(labelSelectorMatches({matchLabels: {disk: 'hdd'}}, labels)).toBe(false)
    expect(labelSelectorMatches({matchExpressions: [{key: 'zone', operator: 'In', values: ['a', 'b']}]}, labels)).toBe(
      true,
    )
    expect(labelSelectorMatches({matchExpressions: [{key: 'zone', operator: 'NotIn', values: ['a']}]}, labels)).toBe(
      false,
    )
    expect(labelSelectorMatches({matchExpressions: [{key: 'x', operator: 'NotIn', values: ['a']}]}, labels)).toBe(true)
    expect(labelSelectorMatches({matchExpressions: [{key: 'disk', operator: 'Exists'}]}, labels)).toBe(true)
    expect(labelSelectorMatches({matchExpressions: [{key: 'disk', operator: 'DoesNotExist'}]}, labels)).toBe(false)
  })
  it('flags selectors the API would reject', () => {
    expect(labelSelectorMatches({matchExpressions: [{key: 'a', operator: 'In', values: []}]}, {})).toBe('invalid')
  })
})

describe('nodeSelectorTermsMatch', () => {
  const labels = {'kubernetes.io/hostname': 'n1', gen: '5'}
  it('ORs terms and ANDs expressions', () => {
    expect(
      nodeSelectorTermsMatch(
        [
          {matchExpressions: [{key: 'kubernetes.io/hostname', operator: 'In', values: ['n2']}]},
          {matchExpressions: [{key: 'gen', operator: 'Exists'}]},
        ],
        labels,
      ),
    ).toBe(true)
    expect(
      nodeSelectorTermsMatch(
        [
          {
            matchExpressions: [
              {key: 'gen', operator: 'Exists'},
              {key: 'x', operator: 'Exists'},
            ],
          },
        ],
        labels,
      ),
    ).toBe(false)
  })
  it('Gt and Lt compare integers; non-integers never match', () => {
    expect(nodeSelectorTermsMatch([{matchExpressions: [{key: 'gen', operator: 'Gt', values: ['4']}]}], labels)).toBe(
      true,
    )
    expect(nodeSelectorTermsMatch([{matchExpressions: [{key: 'gen', operator: 'Lt', values: ['5']}]}], labels)).toBe(
      false,
    )
    expect(nodeSelectorTermsMatch([{matchExpressions: [{key: 'gen', operator: 'Gt', values: ['a']}]}], labels)).toBe(
      false,
    )
  })
  it('NotIn and DoesNotExist match when the label is absent', () => {
    expect(
      nodeSelectorTermsMatch([{matchExpressions: [{key: 'zone', operator: 'NotIn', values: ['a']}]}], labels),
    ).toBe(true)
    expect(nodeSelectorTermsMatch([{matchExpressions: [{key: 'zone', operator: 'DoesNotExist'}]}], labels)).toBe(true)
  })
  it('an empty term or an empty list matches nothing', () => {
    expect(nodeSelectorTermsMatch([{}], labels)).toBe(false)
    expect(nodeSelectorTermsMatch([], labels)).toBe(false)
  })
  it('matchFields on metadata.name sees the node name only when given (pods, not PVs)', () => {
    const terms = [{matchFields: [{key: 'metadata.name', operator: 'In', values: ['n1']}]}]
    expect(nodeSelectorTermsMatch(terms, labels)).toBe(false)
    expect(nodeSelectorTermsMatch(terms, labels, 'n1')).toBe(true)
  })
})

describe('parseLabelSelector', () => {
  it('reads kubectl -l syntax', () => {
    expect(parseLabelSelector('app=db,tier!=cache,env in (prod,stage),!legacy,team')).toEqual({
      matchLabels: {app: 'db'},
      matchExpressions: [
        {key: 'tier', operator: 'NotIn', values: ['cache']},
        {key: 'env', operator: 'In', values: ['prod', 'stage']},
        {key: 'legacy', operator: 'DoesNotExist'},
        {key: 'team', operator: 'Exists'},
      ],
    })
    expect(parseLabelSelector('a b c')).toBeUndefined()
  })
})
