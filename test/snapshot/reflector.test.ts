// The reflector's resourceVersion handling, with a scripted ListWatch that speaks the apiserver's
// wire format (watch events as the API sends them, 410 as a Status in an ERROR event).
import {describe, expect, it} from 'vitest'
import type {WatchEvent} from '../../src/kube/client.js'
import {KubeError} from '../../src/kube/errors.js'
import {type ListWatch, Reflector} from '../../src/snapshot/reflector.js'

type Watch = {rv: string; emit: (e: WatchEvent) => void; end: (e?: KubeError) => void}

function scripted(lists: {items: object[]; resourceVersion: string}[]) {
  const watches: Watch[] = []
  let n = 0
  const lw: ListWatch = {
    listWithVersion: async <T>() => lists[Math.min(n++, lists.length - 1)] as {items: T[]; resourceVersion: string},
    watch: (_path, query, onEvent, onEnd) => {
      watches.push({rv: query.resourceVersion ?? '', emit: onEvent, end: onEnd})
      return () => undefined
    },
  }
  return {lw, watches, lists: () => n}
}

const pvc = (name: string, rv: string, labels?: Record<string, string>) => ({
  metadata: {namespace: 'app', name, resourceVersion: rv, labels},
})
const tick = () => new Promise((r) => setTimeout(r, 0))
const names = (r: Reflector) => r.items().map((i) => i.metadata?.name)

describe('Reflector', () => {
  it('watches from the list resourceVersion, so a change after the list arrives as an event', async () => {
    const {lw, watches} = scripted([{items: [pvc('a', '10')], resourceVersion: '12'}])
    const r = new Reflector(
      lw,
      '/api/v1/persistentvolumeclaims',
      {},
      () => undefined,
      () => undefined,
    )
    await r.start()
    expect(watches[0].rv).toBe('12')
    watches[0].emit({type: 'MODIFIED', object: pvc('a', '13', {x: 'y'})})
    expect(r.items()[0]).toMatchObject({metadata: {labels: {x: 'y'}}})
  })

  it('resumes a closed stream from the last event or bookmark, without listing again', async () => {
    const {lw, watches, lists} = scripted([{items: [], resourceVersion: '5'}])
    const r = new Reflector(
      lw,
      '/p',
      {},
      () => undefined,
      () => undefined,
    )
    await r.start()
    watches[0].emit({type: 'ADDED', object: pvc('a', '6')})
    watches[0].emit({type: 'BOOKMARK', object: {metadata: {resourceVersion: '9'}}})
    watches[0].end()
    expect(watches[1].rv).toBe('9')
    expect(lists()).toBe(1)
    watches[1].emit({type: 'DELETED', object: pvc('a', '10')})
    expect(names(r)).toEqual([])
  })

  it('on 410 Gone (an ERROR event) lists again and watches from the new version', async () => {
    const {lw, watches} = scripted([
      {items: [pvc('a', '3')], resourceVersion: '4'},
      {items: [pvc('a', '3'), pvc('b', '40')], resourceVersion: '41'},
    ])
    let changes = 0
    const r = new Reflector(
      lw,
      '/p',
      {},
      () => changes++,
      () => undefined,
    )
    await r.start()
    watches[0].emit({
      type: 'ERROR',
      object: {code: 410, reason: 'Expired', message: 'too old resource version: 4 (40)'},
    })
    watches[0].end()
    await tick()
    expect(r.lists).toBe(2)
    expect(names(r)).toEqual(['a', 'b'])
    expect(changes).toBe(1)
    expect(watches.map((w) => w.rv)).toEqual(['4', '41'])
  })

  it('on 410 as the HTTP status of the watch request, lists again too', async () => {
    const {lw, watches} = scripted([
      {items: [], resourceVersion: '4'},
      {items: [pvc('b', '40')], resourceVersion: '41'},
    ])
    const r = new Reflector(
      lw,
      '/p',
      {},
      () => undefined,
      () => undefined,
    )
    await r.start()
    watches[0].end(new KubeError({code: 410, reason: 'Gone', message: 'too old resource version'}))
    await tick()
    expect(r.lists).toBe(2)
    expect(watches[1].rv).toBe('41')
  })
})
