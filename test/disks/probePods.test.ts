/** Pod orchestration against a fake API: what the pod looks like, and that every pod is deleted. */
import {describe, expect, it} from 'vitest'
import type {V1Pod} from '@kubernetes/client-node'
import type {KubeClient} from '../../src/kube/client.js'
import {probePodManifest, probePodName, probeWithPods} from '../../src/disks/probePods.js'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {FIXTURES} from './helpers.js'

type Behaviour = 'answer' | 'silent' | 'pull-error' | 'forbidden'

/** A tiny in-memory API server: pods are created, "run" per node behaviour, listed, logged, deleted. */
function fakeCluster(behaviour: Record<string, Behaviour>) {
  const pods = new Map<string, V1Pod>()
  const deleted: string[] = []
  const report = JSON.parse(readFileSync(join(FIXTURES, 'san-multipath.json'), 'utf8'))
  const client: KubeClient = {
    server: 'https://fake',
    namespace: 'default',
    contextName: 'fake',
    async request<T>(method: string, path: string, opts: {body?: unknown} = {}): Promise<T> {
      if (method === 'POST') {
        const pod = structuredClone(opts.body as V1Pod)
        const b = behaviour[pod.spec!.nodeName!]
        if (b === 'forbidden') throw Object.assign(new Error('forbidden'), {status: {code: 403, reason: 'Forbidden', message: 'pods is forbidden: violates PodSecurity "baseline:latest": privileged'}})
        pod.status =
          b === 'answer'
            ? {phase: 'Succeeded'}
            : b === 'pull-error'
              ? {phase: 'Pending', containerStatuses: [{name: 'probe', image: 'x', imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"'}}}]}
              : {phase: 'Pending'}
        pods.set(pod.metadata!.name!, pod)
        return pod as T
      }
      const name = decodeURIComponent(path.split('/')[6] ?? '')
      if (method === 'GET' && path.endsWith('/log')) return {...report, node: 'whatever'} as T
      if (method === 'DELETE') {
        deleted.push(name)
        pods.delete(name)
        return {} as T
      }
      throw new Error(`unexpected ${method} ${path}`)
    },
    async list<T>(): Promise<T[]> {
      return [...pods.values()] as T[]
    },
  }
  return {client, pods, deleted}
}

describe('probeWithPods', () => {
  it('collects answering nodes, reports the others with their reason, and deletes every pod', async () => {
    const {client, pods, deleted} = fakeCluster({n1: 'answer', n2: 'silent', n3: 'pull-error', n4: 'forbidden'})
    const out = await probeWithPods(client, {namespace: 'default', image: 'nope:1', timeoutMs: 300, pollMs: 50, script: 'true', nodes: ['n1', 'n2', 'n3', 'n4']})
    expect(out.results.map((r) => [r.node, r.report?.node ?? null])).toEqual([
      ['n1', 'n1'],
      ['n2', null],
      ['n3', null],
      ['n4', null],
    ])
    expect(out.results[1].error).toMatch(/^probe pod did not start within 0s \(pod Pending, no status from the kubelet\)/)
    expect(out.results[2].error).toMatch(/^probe pod did not start: image nope:1 cannot be pulled \(ImagePullBackOff: Back-off pulling image "nope:1"\)/)
    expect(out.results[3].error).toMatch(/cannot create the probe pod: Forbidden: .*PodSecurity.*pod-security.kubernetes.io\/enforce=privileged/)
    expect(pods.size).toBe(0)
    expect(deleted).toHaveLength(3)
    expect(out.leftovers).toEqual([])
  })

  it('stops waiting and still deletes the pods when aborted', async () => {
    const {client, pods} = fakeCluster({n1: 'silent'})
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const started = Date.now()
    const out = await probeWithPods(client, {namespace: 'default', image: 'x', timeoutMs: 60_000, pollMs: 20, script: 'true', nodes: ['n1'], signal: ac.signal})
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(out.interrupted).toBe(true)
    expect(pods.size).toBe(0)
  })
})

describe('the probe pod', () => {
  const pod = probePodManifest({name: 'p', namespace: 'ns', node: 'n1', image: 'img', script: 'echo hi', runId: 'abc123', timeoutMs: 60_000})

  it('is pinned to the node, tolerates every taint, sees the host PID namespace, and cleans up after itself', () => {
    expect(pod.spec).toMatchObject({nodeName: 'n1', hostPID: true, restartPolicy: 'Never', tolerations: [{operator: 'Exists'}], automountServiceAccountToken: false, activeDeadlineSeconds: 120})
  })

  it('mounts /dev, /sys and /run/udev read-only and passes the node name', () => {
    const c = pod.spec!.containers[0]
    expect(c.volumeMounts!.map((m) => [m.mountPath, m.readOnly])).toEqual([
      ['/dev', true],
      ['/sys', true],
      ['/run/udev', true],
    ])
    expect(pod.spec!.volumes!.map((v) => v.hostPath!.path)).toEqual(['/dev', '/sys', '/run/udev'])
    expect(c.env).toEqual([{name: 'NODE_NAME', valueFrom: {fieldRef: {fieldPath: 'spec.nodeName'}}}])
    expect(c.command).toEqual(['sh', '-c', 'exec 2>/dev/null\necho hi'])
    expect(c.securityContext).toMatchObject({privileged: true, readOnlyRootFilesystem: true})
  })

  it('has a valid, distinct name even for long node names', () => {
    const long = 'ip-10-0-1-23.eu-central-1.compute.internal.example.very-long-domain.net'
    const name = probePodName(long, 'abc123')
    expect(name.length).toBeLessThanOrEqual(63)
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    expect(name).not.toBe(probePodName(long + 'x', 'abc123'))
  })
})
