import {describe, expect, it} from 'vitest'
import {markMissingKinds, parseSnapshot, toSnapshotDocument} from '../../src/snapshot/parseSnapshot.js'

describe('parseSnapshot', () => {
  it('reads a kubectl v1 List and sorts objects by kind', () => {
    const s = parseSnapshot(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name: 'a'}},
          {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'c', namespace: 'x'}},
          {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'ignored'}},
        ],
      }),
    )
    expect(s.pvs.map((p) => p.metadata?.name)).toEqual(['a'])
    expect(s.pvcs.map((p) => p.metadata?.name)).toEqual(['c'])
  })
  it('reads multi-document YAML, nested lists included', () => {
    const s = parseSnapshot(
      'kind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {name: fast}\n---\nkind: PersistentVolumeList\nitems:\n- kind: PersistentVolume\n  metadata: {name: v}\n',
    )
    expect(s.storageClasses).toHaveLength(1)
    expect(s.pvs).toHaveLength(1)
  })
  it('maps events.k8s.io/v1 Events to the core shape', () => {
    const s = parseSnapshot(
      JSON.stringify({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        regarding: {kind: 'Pod', name: 'p', namespace: 'n'},
        note: 'hello',
        reason: 'FailedScheduling',
        reportingController: 'default-scheduler',
      }),
    )
    expect(s.events[0].message).toBe('hello')
    expect(s.events[0].involvedObject.name).toBe('p')
  })
  it('round-trips our own snapshot document, skipped resources included', () => {
    const s = parseSnapshot('kind: PersistentVolume\nmetadata: {name: v}\n')
    s.skipped.push({resource: 'events', reason: 'forbidden'})
    const again = parseSnapshot(JSON.stringify(toSnapshotDocument(s)))
    expect(again.pvs).toHaveLength(1)
    expect(again.skipped).toEqual([{resource: 'events', reason: 'forbidden'}])
  })
  it("records the cluster's version and whether every namespace was read; a kubectl dump says neither", () => {
    const s = parseSnapshot('kind: PersistentVolume\nmetadata: {name: v}\n')
    expect(s.serverVersion).toBeUndefined()
    expect(s.allNamespaces).toBeUndefined()
    s.serverVersion = 'v1.32.13'
    s.allNamespaces = true
    const again = parseSnapshot(JSON.stringify(toSnapshotDocument(s)))
    expect(again.serverVersion).toBe('v1.32.13')
    expect(again.allNamespaces).toBe(true)
  })
  it('says what is wrong with a malformed file, in one line', () => {
    expect(() => parseSnapshot('{"kind": ', 'dump.json')).toThrow(/^dump.json is not valid JSON/)
    expect(() => parseSnapshot('a: [b', 'dump.yaml')).toThrow(/^dump.yaml is neither JSON nor valid YAML/)
    expect(() => parseSnapshot('', 'e.json')).toThrow(/is empty/)
    expect(() => parseSnapshot('[1, 2]', 'n.json')).toThrow(/does not hold Kubernetes objects/)
    expect(() => parseSnapshot('{"metadata": {}}', 'k.json')).toThrow(/without "kind"/)
  })
})

describe('objects checked against the Kubernetes types', () => {
  const pv = (spec: string) => `kind: PersistentVolume\nmetadata: {name: v}\nspec: ${spec}\n`
  it('names the file, the object and the field of the wrong type', () => {
    expect(() => parseSnapshot(pv('{accessModes: 5}'), 'dump.yaml')).toThrow(
      /^dump\.yaml: PersistentVolume v: spec\.accessModes is a number, expected a list; /,
    )
    expect(() => parseSnapshot('kind: PersistentVolumeClaim\nspec: {}\n', 'dump.yaml')).toThrow(
      /^dump\.yaml holds a PersistentVolumeClaim without metadata\.name/,
    )
    expect(() => parseSnapshot('kind: List\nitems: 5\n', 'dump.yaml')).toThrow(/the List's "items" is not a list/)
  })
  it('takes a quantity as a number, as the API does, and leaves unknown fields alone', () => {
    const s = parseSnapshot(pv('{capacity: {storage: 1073741824}, somethingNew: [1]}'))
    expect(s.pvs).toHaveLength(1)
  })
  it('a dump without VolumeAttachments or CSINodes says so only when a pod waits on a node for its volumes', () => {
    const dump = (pod: object) =>
      markMissingKinds(parseSnapshot(JSON.stringify({apiVersion: 'v1', kind: 'List', items: [pod]})))
    const missing = (pod: object) => dump(pod).skipped.map((x) => x.resource)
    const unscheduled = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p', namespace: 'x'}, spec: {}}
    expect(missing(unscheduled)).not.toContain('volumeattachments')
    const placed = {...unscheduled, spec: {nodeName: 'n1'}, status: {phase: 'Pending'}}
    expect(missing(placed)).toEqual(expect.arrayContaining(['csinodes', 'volumeattachments']))
    expect(missing({...placed, status: {phase: 'Running'}})).not.toContain('csinodes')
  })
})
