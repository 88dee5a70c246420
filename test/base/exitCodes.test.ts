import {describe, expect, it} from 'vitest'
import {bindExitCode, disksExitCode, provisionExitCode} from '../../src/base/exitCodes.js'
import {type Binding, newBinding} from '../../src/bind/plan.js'

const binding = (o: Partial<Binding>): Binding => ({...newBinding('app/data'), volume: 'pv-1', status: 'bind', ...o})

describe('exit codes', () => {
  it('bind: 2 when the API server forbade a write, 1 when it rejected one otherwise, 0 when it took it', () => {
    const forbidden = binding({server: [{object: 'persistentvolume/pv-1', dryRun: false, ok: false, code: 403}]})
    const conflict = binding({server: [{object: 'persistentvolume/pv-1', dryRun: false, ok: false, code: 409}]})
    const written = binding({applied: true, server: [{object: 'persistentvolume/pv-1', dryRun: false, ok: true}]})
    expect(bindExitCode([written, forbidden])).toBe(2)
    expect(bindExitCode([written, conflict])).toBe(1)
    expect(bindExitCode([written])).toBe(0)
    expect(bindExitCode([{...written, bound: false}])).toBe(1)
  })

  it('disks: 1 when a node could not be probed', () => {
    const ok = {name: 'n1', error: null, disks: []}
    expect(disksExitCode({apiVersion: 'pv-doctor/v1', kind: 'DiskReport', nodes: [ok]})).toBe(0)
    expect(
      disksExitCode({apiVersion: 'pv-doctor/v1', kind: 'DiskReport', nodes: [ok, {...ok, error: 'timed out'}]}),
    ).toBe(1)
  })

  it('provision: 1 on any problem, or when there is no PV to make or keep', () => {
    expect(provisionExitCode({problems: 0, planned: 2})).toBe(0)
    expect(provisionExitCode({problems: 1, planned: 2})).toBe(1)
    expect(provisionExitCode({problems: 0, planned: 0})).toBe(1)
  })
})
