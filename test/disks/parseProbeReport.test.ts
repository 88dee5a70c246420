import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ProbeReportError, parseProbeReport} from '../../src/disks/parseProbeReport.js'
import {FIXTURES, asCurrentProbe, fixture} from './helpers.js'

const text = readFileSync(join(FIXTURES, 'san-multipath.json'), 'utf8')

describe('parseProbeReport', () => {
  it('reads a full report', () => {
    const r = fixture('san-multipath.json')
    expect(r.node).toBe('db-2')
    expect(r.devices.find((d) => d.name === 'dm-2')).toMatchObject({
      type: 'mpath',
      dmName: 'mpatha',
      slaves: ['sdb', 'sdc'],
    })
  })

  it('decodes lsblk and mountinfo escapes', () => {
    const raw = JSON.parse(text)
    raw.devices[0].model = 'ST480NM0001\\x20\\x20'
    raw.devices[0].serial = '\\x20'
    raw.devices[1].mountpoints = ['/mnt/my\\040disk']
    const r = parseProbeReport(JSON.stringify(raw))
    expect(r.devices[0].model).toBe('ST480NM0001')
    expect(r.devices[0].serial).toBeNull()
    expect(r.devices[1].mountpoints).toEqual(['/mnt/my disk'])
  })

  it.each([
    ['not JSON', 'lsblk: command not found', /not JSON.*starts with "lsblk: command not found"/],
    ['another kind', JSON.stringify({apiVersion: 'v1', kind: 'List'}), /not a pv-doctor probe report/],
    ['no node', text.replace('"node": "db-2"', '"node": ""'), /names no node.*NODE_NAME/],
  ])('rejects %s', (_what, input, message) => {
    expect(() => parseProbeReport(input)).toThrow(message)
  })

  it.each(['busy', 'remnants', 'backupPartitionTable'])('rejects a probe version 2 device without %s', (field) => {
    const raw = asCurrentProbe(JSON.parse(text))
    delete raw.devices[5][field]
    expect(() => parseProbeReport(JSON.stringify(raw), 'r.json')).toThrow(
      new RegExp(`r.json: devices\\[5\\] \\(sdb\\)\\.${field}`),
    )
  })

  it('reads a probe version 1 report with the deeper checks marked as not made', () => {
    const r = parseProbeReport(text)
    expect(r.checks).toEqual({remnants: false, exclusiveOpen: false})
    expect(r.devices[5]).toMatchObject({busy: null, remnants: [], backupPartitionTable: null})
  })

  it.each(['holders', 'partitions', 'mountpoints', 'swap'])(
    'rejects a device without %s: absent is not empty',
    (field) => {
      const raw = JSON.parse(text)
      delete raw.devices[5][field]
      expect(() => parseProbeReport(JSON.stringify(raw), 'r.json')).toThrow(ProbeReportError)
      expect(() => parseProbeReport(JSON.stringify(raw), 'r.json')).toThrow(
        new RegExp(`r.json: devices\\[5\\] \\(sdb\\)\\.${field}`),
      )
    },
  )
})
