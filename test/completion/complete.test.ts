import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {complete, Directive, format, type Lookup, type Manifest, type Scope} from '../../src/completion/complete.js'
import {ROOT} from '../helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest

/** A cluster as plain data; records the scope each lookup was asked for. */
function world() {
  const asked: Scope[] = []
  const claims: Record<string, {name: string; phase?: string}[]> = {
    default: [{name: 'scratch', phase: 'Bound'}],
    shop: [
      {name: 'data-db-0', phase: 'Pending'},
      {name: 'data-db-1', phase: 'Pending'},
      {name: 'logs', phase: 'Bound'},
    ],
  }
  const lookup: Lookup = {
    claims: async (s) => {
      asked.push(s)
      return claims[s.namespace ?? 'default'] ?? []
    },
    pods: async (s) => {
      asked.push(s)
      return s.namespace === 'shop' ? ['db-0', 'web-1'] : []
    },
    workloads: async (s, kind) => {
      asked.push(s)
      return s.namespace === 'shop'
        ? ({statefulsets: ['db'], deployments: ['web'], replicasets: ['web-7d9']}[kind] ?? [])
        : []
    },
    volumes: async () => [
      {name: 'local-pv-1', phase: 'Available'},
      {name: 'old-pv', phase: 'Released'},
    ],
    nodes: async () => ['worker-1', 'worker-2'],
    storageClasses: async () => ['fast-local', 'standard'],
    namespaces: async () => ['default', 'shop'],
    contexts: async (s) => {
      asked.push(s)
      return ['prod', 'staging']
    },
  }
  return {lookup, asked}
}
const values = (items: string[]) => items.map((i) => i.split('\t')[0])
const run = async (...words: string[]) => {
  const w = world()
  const a = await complete(words, manifest, w.lookup)
  return {...a, values: values(a.items), asked: w.asked}
}

describe('completion of kubectl pv-doctor', () => {
  it('offers the commands, with their summaries, and no files', async () => {
    const a = await run('')
    expect(a.values).toEqual(
      expect.arrayContaining(['explain', 'bind', 'disks', 'provision', 'snapshot', 'completion']),
    )
    expect(a.items.find((i) => i.startsWith('explain\t'))).toMatch(/Pending/)
    expect(a.directive).toBe(Directive.NoFileComp)
    expect((await run('ex')).values).toEqual(['explain'])
  })

  it('offers the flags of the command typed', async () => {
    const a = await run('provision', '--st')
    expect(a.values).toEqual(['--storage-class'])
    expect((await run('explain', '--')).values).not.toContain('--storage-class')
  })

  it('offers the allowed values of -o, --dry-run= and --color', async () => {
    expect((await run('explain', '-o', '')).values).toEqual(['json', 'yaml', 'wide', 'junit', 'github'])
    expect((await run('bind', '--output', 'j')).values).toEqual(['json'])
    expect((await run('bind', '--dry-run=')).values).toEqual(['--dry-run=none', '--dry-run=client', '--dry-run=server'])
    expect((await run('explain', '--color=a')).values).toEqual(['--color=auto', '--color=always'])
  })

  it('a bare --dry-run takes no value: the next word is the claim', async () => {
    expect((await run('bind', '-n', 'shop', '--dry-run', 'data')).values).toEqual(['data-db-0', 'data-db-1'])
  })

  it('claim names come from the namespace given with -n, else the context namespace', async () => {
    const a = await run('explain', '-n', 'shop', '')
    expect(a.values).toEqual(['data-db-0', 'data-db-1', 'logs', 'pod/', 'sts/', 'deploy/', 'rs/'])
    expect(a.items[0]).toBe('data-db-0\tPending')
    expect(a.asked[0]).toMatchObject({namespace: 'shop'})
    expect((await run('explain', '--namespace=shop', 'l')).values).toEqual(['logs'])
    expect((await run('explain', '')).values).toEqual(['scratch', 'pod/', 'sts/', 'deploy/', 'rs/'])
  })

  it('pod/ completes to the pods of the namespace; alone it leaves the cursor on the word', async () => {
    expect((await run('explain', '-n', 'shop', 'pod/d')).values).toEqual(['pod/db-0'])
    const prefix = await run('explain', '-n', 'shop', 'po')
    expect(prefix.values).toEqual(['pod/'])
    expect(prefix.directive & Directive.NoSpace).toBeTruthy()
  })

  it('sts/, deploy/ and rs/ complete to the workloads of the namespace (explain only)', async () => {
    expect((await run('explain', '-n', 'shop', 'sts/')).values).toEqual(['sts/db'])
    expect((await run('explain', '-n', 'shop', 'deploy/w')).values).toEqual(['deploy/web'])
    expect((await run('explain', '-n', 'shop', 'rs/')).values).toEqual(['rs/web-7d9'])
    const r = await run('explain', '-n', 'shop', 'r')
    expect(r.values).toEqual(['rs/'])
    expect(r.directive & Directive.NoSpace).toBeTruthy()
    expect((await run('bind', '-n', 'shop', 's')).values).toEqual([])
  })

  it('pv/ completes to the PVs of the cluster, with their phase (explain only)', async () => {
    const a = await run('explain', 'pv/o')
    expect(a.values).toEqual(['pv/old-pv'])
    expect(a.items[0]).toBe('pv/old-pv\tReleased')
    expect((await run('explain', 'pv/')).values).toEqual(['pv/local-pv-1', 'pv/old-pv'])
  })

  it('bind takes one claim; a second word gets nothing', async () => {
    expect((await run('bind', '-n', 'shop', 'data-db-0', '')).values).toEqual([])
  })

  it('node, storage class, context and namespace names for their flags', async () => {
    expect((await run('disks', '--node', 'worker-')).values).toEqual(['worker-1', 'worker-2'])
    expect((await run('provision', '--storage-class', '')).values).toEqual(['fast-local', 'standard'])
    expect((await run('provision', '--storage-class=f')).values).toEqual(['--storage-class=fast-local'])
    expect((await run('explain', '--context', 'st')).values).toEqual(['staging'])
    expect((await run('explain', '-n', '')).values).toEqual(['default', 'shop'])
  })

  it('--context and --kubeconfig typed earlier decide where names come from', async () => {
    const a = await run('explain', '--kubeconfig', 'k.yaml', '--context', 'prod', '-n', 'shop', '')
    expect(a.asked[0]).toEqual({kubeconfig: 'k.yaml', context: 'prod', namespace: 'shop'})
  })

  it('bind --volume offers the PVs with their phase', async () => {
    const a = await run('bind', '-n', 'shop', 'data-db-0', '--volume', 'lo')
    expect(a.items).toEqual(['local-pv-1\tAvailable'])
    expect((await run('bind', '--volume=o')).values).toEqual(['--volume=old-pv'])
  })

  it('file flags fall back to the shell file completion', async () => {
    expect((await run('explain', '--from-file', '')).directive).toBe(Directive.Default)
    expect((await run('explain', '-f', '')).directive).toBe(Directive.Default)
  })

  it('speaks cobra: one candidate a line, then :directive', () => {
    expect(format({items: ['a\tdesc', 'b'], directive: 4})).toBe('a\tdesc\nb\n:4\n')
    expect(format({items: [], directive: 1})).toBe(':1\n')
  })
})
