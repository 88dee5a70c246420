/** `disks` and `provision` as a user runs them, offline: saved probe reports + a snapshot file. */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {runCli} from '../helpers/cli.js'
import {FIXTURES, fixtureFile} from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'pvd-disks-cli-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))
const san = fixtureFile('san-multipath.json', tmp)
const nvme = fixtureFile('nvme-server.json', tmp)
// No cluster in these tests: a kubeconfig that does not exist must never be needed.
const env = {KUBECONFIG: join(tmp, 'no-such-kubeconfig')}

function snapshot(name: string, extra = ''): string {
  const p = join(tmp, name)
  writeFileSync(
    p,
    `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: db-2, labels: {kubernetes.io/hostname: db-2}}}
- {apiVersion: v1, kind: Node, metadata: {name: worker-nvme-1, labels: {kubernetes.io/hostname: worker-nvme-1}}}
- apiVersion: v1
  kind: PersistentVolume
  metadata: {name: by-hand}
  spec:
    capacity: {storage: 1Ti}
    accessModes: [ReadWriteOnce]
    local: {path: /dev/sdj}
    nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [db-2]}]}]}}
${extra}`,
  )
  return p
}

function oneLineError(r: {code: number; stderr: string}, pattern: RegExp) {
  expect(r.code).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
}

describe('disks (offline)', () => {
  const snap = snapshot('snap.yaml')

  it('reports every disk of every report as a DiskReport, with in-use-by-pv from the snapshot', () => {
    const r = runCli(['disks', '--from-report', san, '--from-report', nvme, '--from-file', snap, '-o', 'json'], {env})
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({apiVersion: 'pv-doctor/v1', kind: 'DiskReport'})
    expect(report.nodes.map((n: {name: string; error: unknown}) => [n.name, n.error])).toEqual([
      ['db-2', null],
      ['worker-nvme-1', null],
    ])
    const sdj = report.nodes[0].disks.find((d: {name: string}) => d.name === 'sdj')
    expect(sdj).toMatchObject({eligible: false, reasons: ['in-use-by-pv'], usedBy: ['by-hand']})
    const sdf = report.nodes[0].disks.find((d: {name: string}) => d.name === 'sdf')
    expect(sdf).toMatchObject({eligible: true, id: '/dev/disk/by-id/wwn-0x5000cca0bbccdd01', sizeBytes: 4000787030016})
  })

  it('prints a table that ends with the safety promise; --node picks one report', () => {
    const r = runCli(['disks', '--from-report', san, '--from-report', nvme, '--from-file', snap, '--node', 'db-2'], {
      env,
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^NODE\s+DISK\s+SIZE\s+TYPE\s+MODEL\s+ELIGIBLE\s+REASONS/)
    expect(r.stdout).toMatch(/db-2\s+\/dev\/sdh\s+2Ti\s+disk\s+LUN C-Mode\s+no\s+read-only/)
    expect(r.stdout).not.toMatch(/worker-nvme-1/)
    expect(r.stdout).toMatch(
      /1 of 16 disks eligible on 1 of 1 nodes\. pv-doctor never partitions, formats or wipes a disk\./,
    )
  })

  it('warns, and still answers, when no cluster can be reached for in-use-by-pv', () => {
    const r = runCli(['disks', '--from-report', san, '-o', 'json'], {env})
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^warning: cannot read PersistentVolumes .*in-use-by-pv was not checked/)
  })

  it.each([
    [['--from-report', join(tmp, 'missing.json')], /cannot read --from-report .*missing.json: no such file/],
    [['--from-report', FIXTURES], /it is a directory/],
    [['--from-report', san, '--min-size', 'lots'], /invalid --min-size "lots"/],
    [['--from-report', san, '--from-report', san], /both for node db-2/],
    [['--from-report', san, '--node', 'db-9'], /no --from-report file is for node db-9/],
    [['--from-file', 'x.yaml'], /--from-file gives no way to reach the nodes/],
  ])('fails in one line: disks %j', (args, pattern) => {
    oneLineError(runCli(['disks', ...args], {env}), pattern)
  })

  it('rejects a file that is not a probe report', () => {
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, 'lsblk: not found\n')
    oneLineError(runCli(['disks', '--from-report', bad], {env}), /--from-report .*bad.json is not JSON/)
  })
})

describe('provision (offline dry-run)', () => {
  const snap = snapshot('snap-prov.yaml')

  it('--dry-run prints the class and one PV per eligible disk as a List, the plan on stderr', () => {
    const r = runCli(
      ['provision', '--from-report', san, '--from-report', nvme, '--from-file', snap, '--dry-run', '-o', 'json'],
      {env},
    )
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout)
    expect(list.kind).toBe('List')
    expect(
      list.items.map((i: {kind: string; spec?: {local?: {path: string}}}) => [i.kind, i.spec?.local?.path ?? null]),
    ).toEqual([
      ['StorageClass', null],
      ['PersistentVolume', '/dev/disk/by-id/wwn-0x5000cca0bbccdd01'],
      ['PersistentVolume', '/dev/disk/by-id/nvme-eui.01000000000000005cd2e4a1b2c34d51'],
      ['PersistentVolume', '/dev/disk/by-id/nvme-eui.00080d0300015d6b'],
    ])
    expect(r.stderr).toMatch(/db-2\s+\/dev\/sdj\s+.*skip\s+not eligible: in-use-by-pv/)
    expect(r.stderr).toMatch(/StorageClass local-disks: will be created/)
  })

  it('a bare --dry-run means client and prints YAML', () => {
    const r = runCli(['provision', '--from-report', san, '--from-file', snap, '--dry-run', '--storage-class', 'fast'], {
      env,
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /^apiVersion: v1\nkind: List\nitems:\n- apiVersion: storage.k8s.io\/v1\n {2}kind: StorageClass/,
    )
    expect(r.stdout).toMatch(/storageClassName: fast/)
  })

  it('exits 1 when no disk can be provisioned at all', () => {
    const r = runCli(
      ['provision', '--from-report', san, '--from-file', snap, '--dry-run', '--min-size', '10Ti', '-o', 'json'],
      {env},
    )
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).items).toEqual([])
    expect(r.stderr).toMatch(/No eligible disk: nothing to provision/)
  })

  it('refuses an existing class that binds Immediately, and says why', () => {
    const imm = snapshot(
      'snap-imm.yaml',
      '- {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: local-disks}, provisioner: kubernetes.io/no-provisioner, volumeBindingMode: Immediate}\n',
    )
    oneLineError(
      runCli(['provision', '--from-report', san, '--from-file', imm, '--dry-run'], {env}),
      /volumeBindingMode Immediate.*WaitForFirstConsumer/,
    )
  })

  it.each([
    [['--from-report', san], /stdin is not a terminal; pass --yes, or --dry-run to preview/],
    [['--from-report', san, '--from-file', 'snap.yaml', '--yes'], /only with --dry-run=client/],
    [['--from-report', san, '--volume-mode', 'Filesystem', '--dry-run'], /--volume-mode Filesystem needs --fs-type/],
    [
      ['--from-report', san, '--volume-mode', 'Block', '--fs-type', 'xfs', '--dry-run'],
      /--fs-type needs --volume-mode Filesystem/,
    ],
    [['--no-recheck', '--dry-run'], /--no-recheck only applies to --from-report/],
  ])('fails in one line before touching anything: provision %j', (args, pattern) => {
    oneLineError(runCli(['provision', ...args], {env, input: ''}), pattern)
  })
})

describe('help', () => {
  it.each(['disks', 'provision'])('%s --help says no command ever partitions, formats or wipes a disk', (cmd) => {
    const r = runCli([cmd, '--help'], {env})
    expect(r.code).toBe(0)
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/never partitions, formats or wipes a disk/)
  })
})
