import {describe, expect, it} from 'vitest'
import {claimsFromManifests} from '../../src/wait/manifests.js'

describe('the claims manifests create', () => {
  it('claims, StatefulSet templates per replica, ephemeral volumes of pods; with file and line', () => {
    const text = `# app
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shared
  namespace: shop
spec: {}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 3
  volumeClaimTemplates:
    - metadata:
        name: data
    - metadata:
        name: wal
---
apiVersion: v1
kind: Pod
metadata:
  name: job
spec:
  volumes:
    - name: scratch
      ephemeral: {volumeClaimTemplate: {spec: {}}}
    - name: cfg
      configMap: {name: x}
`
    const got = claimsFromManifests([{file: 'k8s/app.yaml', text}])
    expect(got.map((c) => `${c.namespace ?? '-'}/${c.name}@${c.source.line}`)).toEqual([
      'shop/shared@5',
      '-/data-db-0@17',
      '-/data-db-1@17',
      '-/data-db-2@17',
      '-/wal-db-0@19',
      '-/wal-db-1@19',
      '-/wal-db-2@19',
      '-/job-scratch@27',
    ])
  })

  it('JSON, a List, ordinals.start and the default of one replica', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {kind: 'StatefulSet', metadata: {name: 'a'}, spec: {volumeClaimTemplates: [{metadata: {name: 'd'}}]}},
        {
          kind: 'StatefulSet',
          metadata: {name: 'b'},
          spec: {replicas: 2, ordinals: {start: 5}, volumeClaimTemplates: [{metadata: {name: 'd'}}]},
        },
      ],
    }
    const got = claimsFromManifests([{file: 'x.json', text: JSON.stringify(list, null, 2)}])
    expect(got.map((c) => c.name)).toEqual(['d-a-0', 'd-b-5', 'd-b-6'])
  })

  it('bad YAML is a one-line error naming the file and line', () => {
    expect(() => claimsFromManifests([{file: 'bad.yaml', text: 'kind: Pod\nmetadata: {name: [\n'}])).toThrow(
      /cannot read bad\.yaml line \d+: not valid YAML or JSON/,
    )
  })
})
