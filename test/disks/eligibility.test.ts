import {describe, expect, it} from 'vitest'
import {assessDisks, eligibleDisks, isSystemMount} from '../../src/disks/eligibility.js'
import type {ProbeDevice} from '../../src/disks/types.js'
import {pv} from '../helpers/objects.js'
import {byName, fixture, recorded} from './helpers.js'

describe('eligibility on an NVMe storage node (namespaces, native multipath, ceph, USB, BMC CD, snap, zram)', () => {
  const report = fixture('nvme-server.json')
  const v = byName(assessDisks(report))

  it('offers only the blank NVMe namespace and the multipath head, by their EUI link', () => {
    expect(eligibleDisks(Object.values(v)).map((d) => [d.name, d.id])).toEqual([
      ['nvme1n1', '/dev/disk/by-id/nvme-eui.01000000000000005cd2e4a1b2c34d51'],
      ['nvme3n1', '/dev/disk/by-id/nvme-eui.00080d0300015d6b'],
    ])
  })

  it('never offers partitions as disks of their own', () => {
    expect(Object.keys(v)).not.toContain('nvme0n1p1')
    expect(Object.keys(v)).not.toContain('sda1')
  })

  it('refuses the OS disk: mounted through its partitions and the LVM root on top of them', () => {
    expect(v.nvme0n1.reasons).toEqual([
      'mounted',
      'partitioned',
      'has-signature:gpt',
      'has-signature:PMBR',
      'system-disk',
    ])
    expect(v.nvme0n1.mountpoints).toEqual(['/', '/boot', '/boot/efi', '/var/lib/kubelet/pods/5f0e/volume-subpaths/x'])
  })

  it('refuses the second namespace of the same controller for the filesystem it still carries', () => {
    expect(v.nvme1n2.reasons).toEqual(['has-signature:xfs'])
  })

  it('refuses a ceph OSD (LVM PV with a holder) and its LV', () => {
    expect(v.nvme2n1.reasons).toEqual(['has-holders', 'has-signature:LVM2_member'])
    expect(v['dm-1'].reasons).toEqual(['has-signature:ceph_bluestore', 'virtual'])
  })

  it('refuses the hidden per-path device of native NVMe multipath', () => {
    expect(v.nvme3c3n1.reasons).toEqual(['hidden', 'no-stable-id', 'unreadable'])
  })

  it('refuses removable, rom, loop and zram devices', () => {
    expect(v.sda.reasons).toEqual(['partitioned', 'has-signature:dos', 'removable'])
    expect(v.sr0.reasons).toEqual(['has-signature:iso9660', 'read-only', 'removable', 'rom', 'too-small'])
    expect(v.loop0.reasons).toEqual([
      'mounted',
      'has-signature:squashfs',
      'read-only',
      'virtual',
      'too-small',
      'no-stable-id',
    ])
    expect(v.zram0.reasons).toEqual(['swap', 'has-signature:swap', 'virtual', 'no-stable-id'])
    expect(v['dm-0'].reasons).toEqual(['mounted', 'has-signature:ext4', 'virtual', 'system-disk'])
  })

  it('--min-size changes too-small only', () => {
    const big = byName(assessDisks(report, {minSizeBytes: 2 * 1024 ** 4}))
    expect(big.nvme1n1.reasons).toEqual(['too-small'])
    expect(big.nvme1n2.reasons).toEqual(['has-signature:xfs', 'too-small'])
    expect(big.nvme2n1.reasons).not.toContain('too-small')
  })

  it('an unreadable mount table makes every disk unreadable', () => {
    const blind = assessDisks({...report, mountTableReadable: false})
    expect(eligibleDisks(blind)).toEqual([])
    expect(blind.every((d) => d.reasons.includes('unreadable'))).toBe(true)
  })
})

describe('eligibility on a SAN database server (dm-multipath, md RAID, LUKS, read-only LUN)', () => {
  const report = fixture('san-multipath.json')

  it('offers the blank HDD and the blank SSD, refusing everything else with its reasons', () => {
    const v = byName(assessDisks(report))
    expect(eligibleDisks(Object.values(v)).map((d) => d.name)).toEqual(['sdf', 'sdj'])
    expect(v.sda.reasons).toEqual(['mounted', 'swap', 'partitioned', 'has-signature:dos', 'system-disk'])
    expect(v.sdb.reasons).toEqual(['has-holders', 'no-stable-id'])
    expect(v.sdc.reasons).toEqual(['has-holders', 'no-stable-id'])
    expect(v['dm-2'].reasons).toEqual(['virtual'])
    expect(v.sdd.reasons).toEqual(['mounted', 'has-holders', 'has-signature:linux_raid_member'])
    expect(v.md0.reasons).toEqual(['mounted', 'has-signature:ext4', 'virtual'])
    expect(v.sdg.reasons).toEqual(['too-small'])
    expect(v.sdh.reasons).toEqual(['read-only'])
    expect(v.sdi.reasons).toEqual(['mounted', 'has-holders', 'has-signature:crypto_LUKS'])
    expect(v.vdb.reasons).toEqual(['no-stable-id'])
  })

  it('--include-virtual admits the multipath map, named by its WWN link', () => {
    const v = byName(assessDisks(report, {includeVirtual: true}))
    expect(v['dm-2'].eligible).toBe(true)
    expect(v['dm-2'].id).toBe('/dev/disk/by-id/wwn-0x600a098038303634722b4d5a6a6f4f41')
    // Still refused for what they hold, not for being virtual.
    expect(v.md0.reasons).toEqual(['mounted', 'has-signature:ext4'])
  })

  it('prefers the WWN link over the ata- link', () => {
    expect(byName(assessDisks(report)).sdf.id).toBe('/dev/disk/by-id/wwn-0x5000cca0bbccdd01')
  })

  it('in-use-by-pv: a PV on this node that names the disk by any of its paths', () => {
    for (const path of ['/dev/sdj', '/dev/disk/by-id/ata-SAMSUNG_MZ7LH1T9HMLT_S456NY0M600112']) {
      const v = byName(assessDisks(report, {pvs: [pv('by-hand', {local: path, hosts: ['db-2']})]}))
      expect(v.sdj.reasons).toEqual(['in-use-by-pv'])
      expect(v.sdj.usedBy).toEqual(['by-hand'])
    }
  })

  it('in-use-by-pv: a PV pinned to another node is about another disk; an unpinned one counts', () => {
    expect(
      byName(assessDisks(report, {pvs: [pv('elsewhere', {local: '/dev/sdj', hosts: ['db-1']})]})).sdj.eligible,
    ).toBe(true)
    expect(byName(assessDisks(report, {pvs: [pv('anywhere', {local: '/dev/sdj'})]})).sdj.reasons).toEqual([
      'in-use-by-pv',
    ])
  })

  it('in-use-by-pv matches the hostname label when it differs from the node name', () => {
    const pvs = [pv('by-label', {local: '/dev/sdj', hosts: ['db-2.example.com']})]
    expect(byName(assessDisks(report, {pvs, hostname: 'db-2.example.com'})).sdj.reasons).toEqual(['in-use-by-pv'])
  })
})

describe('what libblkid does not see at offset 0: remnants, a backup GPT, an exclusive holder', () => {
  const report = fixture('san-multipath.json')
  const withDev = (name: string, patch: Partial<ProbeDevice>) => ({
    ...report,
    devices: report.devices.map((d) => (d.name === name ? {...d, ...patch} : d)),
  })

  it('a blank-looking disk with signatures at old partition starts: one code per signature and offset', () => {
    const v = byName(
      assessDisks(
        withDev('sdj', {
          remnants: [
            {type: 'ext4', offset: '1048576'},
            {type: 'LVM2_member', offset: '17825792'},
          ],
        }),
      ),
    )
    expect(v.sdj.reasons).toEqual(['remnant-signature:ext4@1048576', 'remnant-signature:LVM2_member@17825792'])
  })

  it('a backup GPT without its primary → backup-partition-table', () => {
    expect(
      byName(assessDisks(withDev('sdj', {backupPartitionTable: {offset: '1920383410176', partitions: 3}}))).sdj.reasons,
    ).toEqual(['backup-partition-table'])
  })

  it('held exclusively with nothing in sysfs to say why → busy', () => {
    expect(byName(assessDisks(withDev('sdj', {busy: true}))).sdj.reasons).toEqual(['busy'])
  })

  it('held because it is mounted, swap or has holders → those codes, not busy as well', () => {
    const v = byName(assessDisks(withDev('sdd', {busy: true})))
    expect(v.sdd.reasons).toEqual(['mounted', 'has-holders', 'has-signature:linux_raid_member'])
  })

  it('the deeper checks change the fingerprint, so provision refuses a disk that gained one', () => {
    const base = byName(assessDisks(report)).sdj.fingerprint
    expect(
      byName(assessDisks(withDev('sdj', {remnants: [{type: 'xfs', offset: '1048576'}]}))).sdj.fingerprint,
    ).not.toBe(base)
    expect(byName(assessDisks(withDev('sdj', {busy: true}))).sdj.fingerprint).not.toBe(base)
  })

  it('a report from probe version 1 (no remnant scan, no exclusive open) proves nothing: every disk is unreadable', () => {
    const v = byName(assessDisks(recorded('san-multipath.json')))
    expect(v.sdj.reasons).toEqual(['unreadable'])
    expect(v.sdj.probeError).toMatch(
      /probe version 1, which does not look for remnants of old partitions or for exclusive holders; run the current probe again/,
    )
  })

  it('an image without perl: exclusive use unchecked, so nothing is offered', () => {
    const v = byName(assessDisks({...report, checks: {remnants: true, exclusiveOpen: false}}))
    expect(v.sdj.reasons).toEqual(['unreadable'])
    expect(v.sdj.probeError).toMatch(/could not look for exclusive holders \(needs perl\)/)
  })
})

describe('isSystemMount', () => {
  it.each([
    ['/', true],
    ['/boot', true],
    ['/boot/efi', true],
    ['/var', true],
    ['/var/lib', true],
    ['/var/lib/kubelet', true],
    ['/var/lib/containerd', true],
    ['/var/lib/etcd', true],
    ['/usr', true],
    ['/var/lib/kubelet/pods/1/volumes/x', false],
    ['/data', false],
    ['/mnt/disks/ssd0', false],
    ['/bootstrap', false],
  ])('%s → %s', (mp, want) => {
    expect(isSystemMount(mp)).toBe(want)
  })
})
