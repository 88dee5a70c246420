import {describe, expect, it} from 'vitest'
import {parseVolumeArg} from '../../src/base/args.js'
import {UserError} from '../../src/errors.js'

describe('pv/NAME', () => {
  it("kubectl's words for PersistentVolumes name a PV; anything else is not a PV", () => {
    expect(parseVolumeArg('pv/pvc-1', 'u')).toBe('pvc-1')
    expect(parseVolumeArg('PersistentVolume/pvc-1', 'u')).toBe('pvc-1')
    expect(parseVolumeArg('persistentvolumes/x', 'u')).toBe('x')
    expect(parseVolumeArg('pv', 'u')).toBeUndefined()
    expect(parseVolumeArg('pvc/data', 'u')).toBeUndefined()
    expect(parseVolumeArg('shop/data', 'u')).toBeUndefined()
  })
  it('a PV has no namespace: pv/NS/NAME is an error that says so', () => {
    expect(() => parseVolumeArg('pv/shop/x', 'NAME or pv/NAME')).toThrow(UserError)
    expect(() => parseVolumeArg('pv/shop/x', 'NAME or pv/NAME')).toThrow(/has no namespace; use pv\/NAME/)
    expect(() => parseVolumeArg('pv/', 'u')).toThrow(UserError)
  })
})
