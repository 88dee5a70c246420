/**
 * The probe pod and the API server's real Pod Security admission. A namespace that enforces
 * "baseline" must reject the pod at create time (no kubelet is needed for that): `disks` and
 * `provision` then stop with one line that says which label or namespace to use, and no pod,
 * PV or class exists afterwards. In a namespace labelled enforce=privileged the pod is admitted
 * (here it then waits for a kubelet these fake nodes do not have).
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'
import {asCurrentProbe} from '../disks/helpers.js'
import {Kube, type Obj} from './kube.js'
import {usableNodes} from './scenario.js'

const kubeconfig = inject('kubeconfig')
const external = inject('cluster').external
// A harness with a real node (kubelet + containerd) runs the probe there; the fake nodes have no kubelet.
const realNode = (inject('cluster') as {realNode?: string}).realNode ?? ''
const suffix = `${process.pid % 1000}-${Date.now() % 100000}`
const baseline = `e2e-pss-baseline-${suffix}`
const privileged = `e2e-pss-privileged-${suffix}`
const cls = `e2e-pss-${suffix}`
let kube: Kube

const label = (level: string) => ({
  'pod-security.kubernetes.io/enforce': level,
  'pod-security.kubernetes.io/enforce-version': 'latest',
})

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  await kube.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: baseline, labels: label('baseline')}})
  await kube.create({apiVersion: 'v1', kind: 'Namespace', metadata: {name: privileged, labels: label('privileged')}})
})

afterAll(async () => {
  for (const ns of [baseline, privileged]) await kube.cleanup(ns, [])
  await kube.delete('StorageClass', cls)
})

function oneLineError(r: {code: number; stderr: string}): string {
  expect(r.code, r.stderr).toBe(2)
  const lines = r.stderr.trim().split('\n')
  expect(lines, 'one line, no stack').toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  return lines[0]
}

describe.skipIf(external)('the probe pod under Pod Security admission', () => {
  it('enforce=baseline: disks stops in one line naming the level, what it rejects and the label to use; no pod is created', async () => {
    const r = runCli(['disks', '--kubeconfig', kubeconfig, '-n', baseline, '--timeout', '5s'])
    const line = oneLineError(r)
    expect(line).toContain(`namespace "${baseline}" enforces Pod Security level "baseline"`)
    expect(line).toMatch(/hostPID=true/)
    expect(line).toMatch(/privileged/)
    expect(line).toContain('pod-security.kubernetes.io/enforce=privileged with -n')
    expect(r.stdout).toBe('')
    expect(await kube.list<Obj>('Pod', baseline)).toEqual([])
  })

  it('a namespace that does not exist: one line saying so and what to use', () => {
    const line = oneLineError(
      runCli(['disks', '--kubeconfig', kubeconfig, '-n', `${baseline}-missing`, '--timeout', '5s']),
    )
    expect(line).toBe(
      `error: namespace "${baseline}-missing" not found; name a namespace labelled pod-security.kubernetes.io/enforce=privileged with -n (kubectl create namespace pv-doctor; kubectl label namespace pv-doctor pod-security.kubernetes.io/enforce=privileged)`,
    )
  })

  it('enforce=baseline: provision refuses before its re-check and writes no PV and no class', async () => {
    const nodes = await usableNodes(kube)
    const tmp = mkdtempSync(join(tmpdir(), 'pvd-pss-'))
    const report = asCurrentProbe(
      JSON.parse(readFileSync(join(ROOT, 'test', 'disks', 'fixtures', 'san-multipath.json'), 'utf8')),
    )
    report.node = nodes[0].name
    const file = join(tmp, 'r.json')
    writeFileSync(file, JSON.stringify(report))
    const pvsBefore = (await kube.list<Obj>('PersistentVolume')).length
    const r = runCli([
      'provision',
      '--kubeconfig',
      kubeconfig,
      '-n',
      baseline,
      '--from-report',
      file,
      '--storage-class',
      cls,
      '--yes',
      '--timeout',
      '5s',
    ])
    // The plan is on stderr first; the run then ends with the one-line error, no stack.
    expect(r.code, r.stderr).toBe(2)
    const lines = r.stderr.trim().split('\n')
    expect(lines.at(-1)).toMatch(/^error: namespace ".*" enforces Pod Security level "baseline"/)
    expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([])
    expect(await kube.list<Obj>('Pod', baseline)).toEqual([])
    expect((await kube.list<Obj>('PersistentVolume')).length).toBe(pvsBefore)
    expect(await kube.get('StorageClass', cls)).toBeUndefined()
  })

  it('-n naming a namespace labelled enforce=privileged: the pods are admitted (the real node, if any, answers; fake nodes wait for a kubelet they lack), then deleted', async () => {
    const r = runCli(
      ['disks', '--kubeconfig', kubeconfig, '-n', privileged, '--timeout', realNode ? '30s' : '5s', '-o', 'json'],
      {timeoutMs: 120_000},
    )
    expect(r.code, r.stderr).toBe(1)
    const report = JSON.parse(r.stdout) as {nodes: {name: string; error: string | null}[]}
    expect(report.nodes.length).toBeGreaterThan(0)
    for (const n of report.nodes) {
      if (n.name === realNode) expect(n.error).toBeNull()
      else expect(n.error).toMatch(/probe pod did not start within/)
    }
    expect(await kube.list<Obj>('Pod', privileged)).toEqual([])
  })
})
