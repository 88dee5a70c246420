/**
 * Least privilege, for real: the API server's RBAC decides. `explain` run as a user bound only
 * to docs/rbac.yaml gets the full answer; a user who may not list events or
 * CSIStorageCapacities gets a partial answer that names what was skipped.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {ROOT, runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {pvcObj, Scenario, scObj} from './scenario.js'

const kubeconfig = inject('kubeconfig')
let kube: Kube
let s: Scenario
const made: {kind: string; name: string}[] = []

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  s = new Scenario(kube, kubeconfig, 'rbac')
  await s.setup()
  await s.create(pvcObj('data', {cls: s.n('missing')}))
  for (const doc of yaml.loadAll(readFileSync(join(ROOT, 'docs', 'rbac.yaml'), 'utf8')) as Obj[]) {
    await kube.delete(doc.kind!, doc.metadata!.name!)
    await kube.create(doc)
    made.push({kind: doc.kind!, name: doc.metadata!.name!})
  }
  // The same rules minus events, CSIStorageCapacities and VolumeAttachments.
  const full = yaml.loadAll(readFileSync(join(ROOT, 'docs', 'rbac.yaml'), 'utf8'))[0] as {
    rules: {apiGroups: string[]; resources: string[]; verbs: string[]}[]
  }
  const partial = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {name: `${s.ns}-partial`},
    rules: full.rules.map((r) => ({
      ...r,
      resources: r.resources.filter((x) => !['events', 'csistoragecapacities', 'volumeattachments'].includes(x)),
    })),
  }
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {name: `${s.ns}-partial`},
    roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: partial.metadata.name},
    subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `${s.ns}-partial`}],
  }
  for (const o of [partial, binding] as Obj[]) {
    await kube.create(o)
    made.push({kind: o.kind!, name: o.metadata!.name!})
  }
  // RBAC caches settle within a moment; wait until the reader may list claims.
  await kube.waitFor(
    async () =>
      runCli([
        'explain',
        '-A',
        '--kubeconfig',
        kubeconfig,
        '--as',
        'reader',
        '--as-group',
        'pv-doctor-readers',
        '-o',
        'json',
      ]),
    (r) => r.code !== 2,
    10_000,
    500,
  )
})

afterAll(async () => {
  for (const o of made) await kube.delete(o.kind, o.name)
  await s.cleanup()
})

/** `explain data` as a user of `group`: JSON unless `output` says otherwise ('' = the human view). */
function explainAs(group: string, output = 'json') {
  return runCli([
    'explain',
    '-n',
    s.ns,
    'data',
    '--kubeconfig',
    kubeconfig,
    '--as',
    `someone-${group}`,
    '--as-group',
    group,
    ...(output ? ['-o', output] : []),
  ])
}

describe('RBAC', () => {
  it('a user bound only to docs/rbac.yaml gets the full answer', () => {
    const r = explainAs('pv-doctor-readers')
    expect(r.stderr).toBe('')
    const d = JSON.parse(r.stdout)
    expect(d.skipped).toEqual([])
    expect(d.claims[0].cause).toBe('StorageClassNotFound')
    expect(r.code).toBe(1)
  })
  it('wait, as a user bound only to docs/rbac.yaml, may watch: it waits out the timeout (exit 3), not exit 2', async () => {
    await s.create(scObj(s.n('local')))
    await s.create(pvcObj('later', {cls: s.n('local')}))
    const r = runCli([
      'wait',
      '-n',
      s.ns,
      'later',
      '--timeout',
      '3s',
      '--kubeconfig',
      kubeconfig,
      '--as',
      'reader',
      '--as-group',
      'pv-doctor-readers',
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(3)
    expect(r.stdout).toContain('NoMatchingVolume')
  })
  it('a user who cannot list events, CSIStorageCapacities or VolumeAttachments gets a partial answer that says so', () => {
    const r = explainAs(`${s.ns}-partial`)
    const d = JSON.parse(r.stdout)
    expect(d.skipped).toEqual(
      expect.arrayContaining([
        {resource: 'events', reason: 'forbidden'},
        {resource: 'csistoragecapacities', reason: 'forbidden'},
        {resource: 'volumeattachments', reason: 'forbidden'},
      ]),
    )
    expect(d.claims[0].cause).toBe('StorageClassNotFound')
    const human = explainAs(`${s.ns}-partial`, '')
    expect(human.stdout).toContain('Partial answer: could not read')
    expect(human.stdout).toContain('events (forbidden)')
    expect(r.stderr).toContain('warning: could not read events (forbidden)')
  })
  it('a user who may not read claims gets one line and exit 2', () => {
    const r = runCli(['explain', '-n', s.ns, '--kubeconfig', kubeconfig, '--as', 'nobody'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: cannot list persistentvolumeclaims in namespace ".*" \(forbidden\)/)
  })
})
