import {describe, expect, it} from 'vitest'
import {evaluate, overall, type WaitSpec} from '../../src/wait/evaluate.js'
import {runWait} from '../../src/wait/loop.js'
import {event, node, pod, pv, pvc, sc, snap} from '../helpers/objects.js'

const BOUND = {'pv.kubernetes.io/bind-completed': 'yes'}
const NOW = Date.parse('2026-11-25T10:01:00Z')
const spec = (o: Partial<WaitSpec> = {}): WaitSpec => ({
  targets: [{kind: 'claim', namespace: 'app', name: 'data'}],
  for: 'usable',
  graceMs: 30_000,
  ...o,
})
const created = (at: string) => {
  const c = pvc('data', {cls: 'fast'})
  c.metadata!.creationTimestamp = at as unknown as Date
  return c
}

describe('which claims are done, failed, or worth waiting for', () => {
  it('a missing class fails at once', () => {
    const [c] = evaluate(snap({pvcs: [pvc('data', {cls: 'nope'})]}), spec(), NOW)
    expect(c).toMatchObject({state: 'failed', cause: 'StorageClassNotFound'})
  })

  it('a no-provisioner class with no PV yet keeps waiting (a static provisioner may create one)', () => {
    const s = snap({pvcs: [pvc('data', {cls: 'local'})], storageClasses: [sc('local')]})
    expect(evaluate(s, spec(), NOW)[0]).toMatchObject({state: 'waiting', cause: 'NoMatchingVolume'})
  })

  it('storageClassName "" with no fitting PV fails: only a person creates class-less PVs', () => {
    const s = snap({pvcs: [pvc('data', {cls: ''})]})
    expect(evaluate(s, spec(), NOW)[0]).toMatchObject({state: 'failed', cause: 'NoMatchingVolume'})
  })

  it('WaitForFirstConsumer without a pod: done for usable, waiting for bound', () => {
    const s = snap({
      pvcs: [pvc('data', {cls: 'wffc'})],
      storageClasses: [sc('wffc', {mode: 'WaitForFirstConsumer'})],
      nodes: [node('n1')],
    })
    expect(evaluate(s, spec(), NOW)[0]).toMatchObject({state: 'done', cause: 'WaitingForFirstConsumer'})
    expect(evaluate(s, spec({for: 'bound'}), NOW)[0]).toMatchObject({state: 'waiting'})
  })

  it('a bound claim is done', () => {
    const s = snap({
      pvcs: [pvc('data', {volumeName: 'pv1', phase: 'Bound', annotations: BOUND})],
      pvs: [pv('pv1', {claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}})],
    })
    expect(evaluate(s, spec({for: 'bound'}), NOW)[0]).toMatchObject({state: 'done', summary: 'Bound to pv1'})
  })

  it('a provisioner that never answers is given the grace period, then fails', () => {
    const s = (at: string) =>
      snap({pvcs: [created(at)], storageClasses: [sc('fast', {provisioner: 'csi.example.com'})]})
    expect(evaluate(s('2026-11-25T10:00:50Z'), spec(), NOW)[0]).toMatchObject({
      state: 'waiting',
      cause: 'ProvisionerNotFound',
    })
    expect(evaluate(s('2026-11-25T10:00:00Z'), spec(), NOW)[0]).toMatchObject({state: 'failed'})
  })

  it('a provisioner retrying: waits, unless --fail-after-retries is reached or it says retrying is futile', () => {
    const s = (message: string, count: number) => {
      const e = event('data', 'ProvisioningFailed', message, {source: 'csi.example.com_ctrl-0'})
      e.count = count
      return snap({
        pvcs: [created('2026-11-25T10:00:00Z')],
        storageClasses: [sc('fast', {provisioner: 'csi.example.com'})],
        events: [e],
      })
    }
    expect(evaluate(s('rpc error: deadline exceeded', 3), spec(), NOW)[0]).toMatchObject({
      state: 'waiting',
      cause: 'ProvisioningFailed',
    })
    expect(evaluate(s('rpc error: deadline exceeded', 3), spec({failAfterRetries: 3}), NOW)[0].state).toBe('failed')
    expect(
      evaluate(
        s(
          'Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = bad fsType',
          1,
        ),
        spec(),
        NOW,
      )[0].state,
    ).toBe('failed')
    // The diagnosis's sub-reason decides, not the wording: InvalidArgument is Infeasible either way.
    const bare = evaluate(s('rpc error: code = InvalidArgument desc = bad fsType', 1), spec(), NOW)[0]
    expect(bare.diagnosis?.failure?.reason).toBe('Infeasible')
    expect(bare.state).toBe('failed')
  })

  it('a claim that does not exist yet is waited for (the apply may still be creating it)', () => {
    expect(evaluate(snap({}), spec(), NOW)[0]).toMatchObject({state: 'waiting', cause: 'NotCreated'})
  })

  it('pod/NAME waits for each of its claims; a pod created with nodeName fails fast', () => {
    const s = snap({
      pvcs: [pvc('data', {cls: 'wffc'})],
      storageClasses: [sc('wffc', {mode: 'WaitForFirstConsumer'})],
      nodes: [node('n1')],
      pods: [pod('web', ['data'], {nodeName: 'n1'})],
    })
    const [c] = evaluate(s, spec({targets: [{kind: 'pod', namespace: 'app', name: 'web'}]}), NOW)
    expect(c).toMatchObject({name: 'data', state: 'failed', cause: 'ConsumerBypassedScheduler'})
  })

  it('overall: any failure fails; all done is done', () => {
    const x = (state: 'done' | 'failed' | 'waiting') => ({
      namespace: 'a',
      name: 'b',
      state,
      cause: 'Bound' as const,
      summary: '',
    })
    expect(overall([x('done'), x('waiting'), x('failed')])).toBe('failed')
    expect(overall([x('done'), x('waiting')])).toBe('waiting')
    expect(overall([x('done'), x('done')])).toBe('done')
  })
})

describe('the wait loop', () => {
  it('re-evaluates on each change and ends when the claim is done, timing it', async () => {
    let current = snap({pvcs: [pvc('data', {cls: 'local'})], storageClasses: [sc('local')]})
    let notify: () => void = () => undefined
    let stopped = false
    const outcome = runWait({
      start: async (onChange) => {
        notify = onChange
        return {snapshot: () => current, stop: () => (stopped = true)}
      },
      evaluate: (s, now) => evaluate(s, spec(), now),
      timeoutMs: 10_000,
      tickMs: 60_000,
    })
    await new Promise((r) => setTimeout(r, 20))
    current = snap({
      pvcs: [pvc('data', {cls: 'local', volumeName: 'pv1', phase: 'Bound', annotations: BOUND})],
      pvs: [pv('pv1', {cls: 'local', claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}})],
      storageClasses: [sc('local')],
    })
    notify()
    const o = await outcome
    expect(o.result).toBe('done')
    expect(o.claims[0].doneAfterMs).toBeGreaterThanOrEqual(15)
    expect(stopped).toBe(true)
  })

  it('times out while still progressing', async () => {
    const current = snap({pvcs: [pvc('data', {cls: 'local'})], storageClasses: [sc('local')]})
    const o = await runWait({
      start: async () => ({snapshot: () => current, stop: () => undefined}),
      evaluate: (s, now) => evaluate(s, spec(), now),
      timeoutMs: 50,
      tickMs: 10,
    })
    expect(o).toMatchObject({result: 'timeout', claims: [{state: 'waiting', cause: 'NoMatchingVolume'}]})
  })

  it('a feed that cannot go on rejects (pv-doctor could not do its job)', async () => {
    const current = snap({pvcs: [pvc('data', {cls: 'local'})], storageClasses: [sc('local')]})
    const o = runWait({
      start: async (_c, onError) => {
        setTimeout(() => onError(new Error('watch lost')), 10)
        return {snapshot: () => current, stop: () => undefined}
      },
      evaluate: (s, now) => evaluate(s, spec(), now),
      timeoutMs: 10_000,
    })
    await expect(o).rejects.toThrow('watch lost')
  })
})
