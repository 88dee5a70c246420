/**
 * Big --from-file dumps are read in parts (snapshot/streamSnapshot.ts): the same objects as the
 * whole-text reader, wherever the chunks split the text, one-line errors on damaged files, and
 * explain's output byte-for-byte the same on the bench's S and M dumps.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, openSync, closeSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {addSnapshotChunks} from '../../src/snapshot/streamSnapshot.js'
import {parseSnapshot} from '../../src/snapshot/parseSnapshot.js'
import {projectItem} from '../../src/snapshot/project.js'
import {emptySnapshot, type Snapshot} from '../../src/snapshot/types.js'
import {UserError} from '../../src/errors.js'
import {BIN, ROOT} from '../helpers/cli.js'
// @ts-expect-error plain ESM module without types
import {generate, writeCompactList, writeList} from '../bench/generate.mjs'

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    managedFields: [{manager: 'kubectl', fieldsV1: {'f:spec': {}}}],
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Pod","x":"a \\"quoted\\" ]} value"}',
      note: 'braces { [ and a quote \\" in text, é, 日本, 🙂',
    },
  },
  spec: {
    containers: [{name: 'app', image: 'nginx', env: [{name: 'A', value: '}]'}]}],
    nodeName: 'node-1',
    schedulerName: 'default-scheduler',
    serviceAccountName: 'default',
    securityContext: {fsGroup: 1000},
    volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'data-web-0'}}],
  },
  status: {
    phase: 'Running',
    podIP: '10.0.0.1',
    qosClass: 'BestEffort',
    conditions: [
      {type: 'Ready', status: 'True'},
      {type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-12-03T10:00:00Z'},
    ],
    containerStatuses: [{name: 'app', image: 'nginx', restartCount: 0, state: {running: {}}}],
  },
}
const pvc = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: {name: 'data-web-0', namespace: 'shop', annotations: {'volume.kubernetes.io/selected-node': 'node-1'}},
  spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}, storageClassName: ''},
  status: {phase: 'Pending'},
}
const node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {name: 'node-1', labels: {'kubernetes.io/hostname': 'node-1'}},
  spec: {providerID: 'aws:///a/i-1', taints: [{key: 'k', effect: 'NoSchedule'}]},
  status: {
    images: [{names: ['nginx'], sizeBytes: 1}],
    nodeInfo: {kubeletVersion: 'v1.36.0'},
    capacity: {cpu: '4'},
    allocatable: {cpu: '4'},
    conditions: [
      {type: 'MemoryPressure', status: 'False'},
      {type: 'Ready', status: 'True', lastTransitionTime: '2026-12-03T09:00:00Z'},
    ],
    volumesAttached: [{name: 'kubernetes.io/csi/ebs^vol-1', devicePath: ''}],
  },
}
const list = {apiVersion: 'v1', items: [pvc, pod, node, {kind: 'Namespace', metadata: {name: 'shop'}}], kind: 'List'}

/** The text in chunks of `size` bytes. */
function chunks(text: string, size: number): Buffer[] {
  const all = Buffer.from(text)
  const out: Buffer[] = []
  for (let i = 0; i < all.length; i += size) out.push(all.subarray(i, i + size))
  return out
}

const streamed = (text: string, size: number): Snapshot =>
  addSnapshotChunks(emptySnapshot(), chunks(text, size), 'dump.json', 0)

/** What the whole-text reader gives, with each object trimmed as the streaming reader trims it. */
function expected(text: string): Snapshot {
  const s = parseSnapshot(text, 'dump.json')
  for (const k of ['pvcs', 'pods', 'nodes'] as const) (s[k] as unknown[]) = s[k].map((x) => projectItem(x)) as never
  return s
}

function errorOf(f: () => unknown): string {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    return (error as Error).message
  }
  throw new Error('no error')
}

describe('reading a dump in parts', () => {
  it('gives the whole-text reader’s objects wherever the chunks split the text', () => {
    for (const text of [JSON.stringify(list), JSON.stringify(list, null, 4)]) {
      const want = expected(text)
      for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) expect(streamed(text, size)).toEqual(want)
    }
  })

  it('reads our Snapshot format and a top-level array of objects', () => {
    const snap = JSON.stringify({
      apiVersion: 'pv-doctor/v1',
      kind: 'Snapshot',
      pvcs: [pvc],
      pods: [pod],
      nodes: [node],
      events: [],
      skipped: [{resource: 'leases', reason: 'forbidden'}],
      takenAt: '2026-12-03T10:00:00Z',
    })
    for (const size of [3, 1 << 20]) {
      const s = streamed(snap, size)
      expect(s).toEqual(expected(snap))
      expect(s.skipped).toEqual([{resource: 'leases', reason: 'forbidden'}])
      expect(s.takenAt).toBe('2026-12-03T10:00:00Z')
    }
    const arr = JSON.stringify([pvc, {kind: 'List', items: [pod]}])
    expect(streamed(arr, 4)).toEqual(expected(arr))
  })

  it('keeps what the engine reads and drops bookkeeping, containers, node inventory and unread conditions', () => {
    const s = streamed(JSON.stringify(list), 1 << 20)
    const p = s.pods[0]
    expect(p.metadata?.managedFields).toBeUndefined()
    expect(p.metadata?.annotations).toEqual({note: pod.metadata.annotations.note})
    expect(p.spec?.containers).toBeUndefined()
    expect(p.spec?.volumes).toEqual(pod.spec.volumes)
    expect(p.spec?.securityContext).toEqual({fsGroup: 1000})
    expect(p.spec?.schedulerName).toBeUndefined()
    expect(p.status).toEqual({
      phase: 'Running',
      conditions: [pod.status.conditions[1]],
      containerStatuses: [{name: 'app', state: {running: {}}}],
    })
    expect(s.pvcs[0]).toEqual(pvc)
    expect(s.nodes[0].spec).toEqual({taints: node.spec.taints})
    expect(s.nodes[0].status).toEqual({
      conditions: [node.status.conditions[1]],
      volumesAttached: node.status.volumesAttached,
    })
  })

  it('names a damaged file in one line, with the byte offset', () => {
    const text = JSON.stringify(list)
    const cut = errorOf(() => streamed(text.slice(0, 200), 16))
    expect(cut).toMatch(
      /^dump\.json is not valid JSON \(the file ends in the middle of the data .* at byte offset \d+\)/,
    )
    const bad = text.replace('"Pending"', '"Pending" x')
    const m = errorOf(() => streamed(bad, 16))
    expect(m).toMatch(/^dump\.json is not valid JSON \(.* at byte offset \d+\); give a file written by/)
    expect(m).not.toContain('\n')
    const offset = Number(/byte offset (\d+)/.exec(m)![1])
    expect(Math.abs(offset - bad.indexOf(' x'))).toBeLessThan(3)
    expect(errorOf(() => streamed(`${text} {}`, 8))).toMatch(/unexpected data after the end of the JSON value/)
    expect(errorOf(() => streamed('{"items": [{"kind": "X", "metadata": {"name": "a"}} {}]}', 8))).toMatch(
      /expected "," or "]" after an item/,
    )
    // A mistyped field is the same one-line error as with the whole-text reader.
    const typo = JSON.stringify({kind: 'List', items: [{...pvc, spec: {...pvc.spec, accessModes: 'ReadWriteOnce'}}]})
    expect(errorOf(() => streamed(typo, 8))).toBe(errorOf(() => parseSnapshot(typo, 'dump.json')))
  })
})

describe('explain -A --from-file, read in parts and whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvd-stream-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  /** explain's stdout, written to a file (the M output is bigger than a pipe buffer's default). */
  function explain(file: string, args: string[], env: Record<string, string>): string {
    const out = join(dir, 'out.txt')
    const fd = openSync(out, 'w')
    const runEnv: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...env}
    delete runEnv.NODE_ENV
    delete runEnv.VITEST
    const r = spawnSync(process.execPath, [BIN, 'explain', '-A', '--from-file', file, ...args], {
      stdio: ['ignore', fd, 'pipe'],
      env: runEnv,
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    })
    closeSync(fd)
    expect(r.status, r.stderr).toBe(1) // pending claims were found
    return readFileSync(out, 'utf8')
  }

  it.each([
    ['S', 'indented'],
    ['M', 'compact'],
  ])(
    'on the bench’s %s dump (%s), human and -o json, byte for byte',
    async (size, shape) => {
      const file = join(dir, `cluster-${size}.json`)
      await (shape === 'compact' ? writeCompactList : writeList)(file, generate(size))
      for (const args of [[], ['-o', 'json']]) {
        const whole = explain(file, args, {})
        const parts = explain(file, args, {PV_DOCTOR_STREAM_MIN_BYTES: '1'})
        expect(parts.length).toBeGreaterThan(1000)
        expect(parts === whole).toBe(true)
      }
    },
    600_000,
  )
})
