import {describe, expect, it} from 'vitest'
import {formatBytes, parseQuantity, toBytes} from '../../src/binding/quantity.js'

describe('parseQuantity', () => {
  it('treats 1Gi and 1073741824 as exactly equal', () => {
    expect(parseQuantity('1Gi')).toBe(parseQuantity('1073741824'))
  })
  it('keeps decimal and binary units apart (1G < 1Gi)', () => {
    expect(parseQuantity('1G')! < parseQuantity('1Gi')!).toBe(true)
  })
  it('reads fractions, exponents and milli-units exactly', () => {
    expect(toBytes(parseQuantity('1.5Gi')!)).toBe(1610612736n)
    expect(toBytes(parseQuantity('1e3')!)).toBe(1000n)
    expect(parseQuantity('500m')).toBe(500_000_000n)
    expect(toBytes(parseQuantity('0.5')!)).toBe(1n)
  })
  it('compares huge sizes without float rounding', () => {
    expect(parseQuantity('8Ei')! - parseQuantity('9223372036854775807')!).toBe(1n * 1_000_000_000n)
  })
  it('rejects garbage', () => {
    expect(parseQuantity('ten gigs')).toBeUndefined()
    expect(parseQuantity('1GB')).toBeUndefined()
  })
  it('formats bytes in the largest exact binary unit', () => {
    expect(formatBytes(1073741824n)).toBe('1Gi')
    expect(formatBytes(1610612736n)).toBe('1536Mi')
    expect(formatBytes(1000000000n)).toBe('1000000000')
  })
})
