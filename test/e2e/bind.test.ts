/**
 * `bind` against the real control plane: dry runs change nothing (resourceVersions compared),
 * a real bind is completed by the real PV controller, a stale-uid Released PV is recovered with
 * its data path intact, and a PV changed between plan and write is never overwritten.
 */
import {spawn} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {BIN, ROOT, runCli} from '../helpers/cli.js'
import {Kube, type Obj} from './kube.js'
import {pvcObj, pvObj, type Scenario, Scenarios, scObj, usableNodes} from './scenario.js'

const kubeconfig = inject('kubeconfig')
let kube: Kube
let host = ''
let scenarios: Scenarios

beforeAll(async () => {
  kube = await Kube.open(kubeconfig)
  host = (await usableNodes(kube))[0].hostname
  scenarios = new Scenarios(kube, kubeconfig)
})
afterAll(() => scenarios.cleanup())

const scenario = (label: string) => scenarios.create(label)

type PV = Obj & {
  metadata: {resourceVersion: string}
  spec: {claimRef?: {uid?: string; name?: string}; hostPath?: {path: string}}
  status?: {phase?: string}
}

const rv = async (name: string) => (await kube.get<PV>('PersistentVolume', name))!.metadata.resourceVersion
const bind = (s: Scenario, args: string[]) => runCli(['bind', '-n', s.ns, '--kubeconfig', kubeconfig, ...args])

/** A WaitForFirstConsumer claim with no pod: only a pre-binding (what bind writes) gets it bound. */
async function waitingClaim(label: string) {
  const s = await scenario(label)
  const cls = s.n('local')
  await s.create(scObj(cls, {wffc: true}))
  await s.create(pvObj(s.n('disk'), {cls, size: '2Gi', hosts: [host]}))
  await kube.waitPVPhase(s.n('disk'), ['Available'])
  await s.create(pvcObj('data', {cls, size: '1Gi'}))
  return s
}

describe('bind against the real control plane', () => {
  it("--dry-run=client and --dry-run=server change nothing; server dry-run reports the API server's answer", async () => {
    const s = await waitingClaim('bind-dry')
    const before = await rv(s.n('disk'))
    const client = bind(s, ['data', '--volume', s.n('disk'), '--dry-run', '-o', 'json'])
    expect(client.code, client.stderr).toBe(0)
    const plan = JSON.parse(client.stdout).bindings[0]
    expect(plan).toMatchObject({claim: `${s.ns}/data`, volume: s.n('disk'), applied: false})
    expect(plan.patch.spec.claimRef).toMatchObject({namespace: s.ns, name: 'data'})
    expect(plan.command).toContain(`kubectl patch pv ${s.n('disk')} --type=merge`)
    const server = bind(s, ['data', '--volume', s.n('disk'), '--dry-run=server', '-o', 'json'])
    expect(server.code, server.stderr).toBe(0)
    expect(JSON.parse(server.stdout).bindings[0].server[0]).toMatchObject({ok: true})
    expect(await rv(s.n('disk'))).toBe(before)
    expect((await kube.claimPhase(s.ns, 'data')).phase).toBe('Pending')
  })

  it('without a terminal and without --yes it writes nothing (exit 2)', async () => {
    const s = await waitingClaim('bind-noyes')
    const before = await rv(s.n('disk'))
    const r = bind(s, ['data', '--volume', s.n('disk')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: .*--yes/)
    expect(await rv(s.n('disk'))).toBe(before)
  })

  it('a real bind: the PV controller completes it and the claim is Bound to that PV', async () => {
    const s = await waitingClaim('bind-real')
    const r = bind(s, ['data', '--volume', s.n('disk'), '--yes', '--wait', '--timeout', '30s', '-o', 'json'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).bindings[0]).toMatchObject({volume: s.n('disk'), applied: true})
    const c = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (x) => x.phase === 'Bound',
      20_000,
    )
    expect(c?.volumeName).toBe(s.n('disk'))
    const again = bind(s, ['data', '--yes', '-o', 'json'])
    expect(again.code).toBe(0) // re-running is safe: nothing left to do
  })

  it('recovers a Released PV whose claimRef names this claim with a stale uid, data path intact', async () => {
    const s = await scenario('bind-stale')
    const cls = s.n('manual')
    await s.create(scObj(cls))
    await s.create(
      pvObj(s.n('kept'), {
        cls,
        size: '5Gi',
        claimRef: {namespace: s.ns, name: 'data', uid: '11111111-2222-4333-8444-555555555555'},
      }),
    )
    await kube.waitPVPhase(s.n('kept'), ['Released'])
    await s.create(pvcObj('data', {cls, size: '5Gi'}))
    const explain = s.explain(['data'])
    expect(explain.json?.claims[0].candidates.find((c) => c.name === s.n('kept'))?.mismatches).toContain(
      'claimedByOther',
    )
    const r = bind(s, ['data', '--volume', s.n('kept'), '--yes', '--wait', '--timeout', '30s', '-o', 'json'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const c = await kube.waitFor(
      () => kube.claimPhase(s.ns, 'data'),
      (x) => x.phase === 'Bound',
      20_000,
    )
    expect(c?.volumeName).toBe(s.n('kept'))
    const pv = (await kube.get<PV>('PersistentVolume', s.n('kept')))!
    expect(pv.spec.hostPath?.path).toBe(`/mnt/pvd/${s.n('kept')}`)
    const claim = (await kube.get<Obj & {metadata: {uid: string}}>('PersistentVolumeClaim', 'data', s.ns))!
    expect(pv.spec.claimRef?.uid).toBe(claim.metadata.uid)
  })

  it('on a terminal it asks first, and "n" writes nothing', async () => {
    const s = await waitingClaim('bind-no')
    const before = await rv(s.n('disk'))
    const r = await onTerminal(['bind', '-n', s.ns, '--kubeconfig', kubeconfig, 'data', '--volume', s.n('disk')], 'n')
    expect(r.out).toContain('[y/N]')
    expect(r.code).toBe(0)
    expect(await rv(s.n('disk'))).toBe(before)
  })

  it('a PV changed between plan and write is detected and nothing is written', async () => {
    const s = await waitingClaim('bind-race')
    const pvName = s.n('disk')
    const out = await onTerminal(
      ['bind', '-n', s.ns, '--kubeconfig', kubeconfig, 'data', '--volume', pvName],
      'y',
      () => kube.patch('PersistentVolume', pvName, {metadata: {labels: {changed: 'meanwhile'}}}),
    )
    expect(out.code).toBe(1)
    expect(out.out).toContain('changed since it was read')
    const pv = (await kube.get<PV>('PersistentVolume', pvName))!
    expect(pv.spec.claimRef).toBeUndefined()
    expect((await kube.claimPhase(s.ns, 'data')).phase).toBe('Pending')
  })
})

/** Runs the CLI on a real terminal (util-linux `script`), answering its prompt. */
function onTerminal(
  args: string[],
  answer: string,
  whilePrompting?: () => Promise<unknown>,
): Promise<{code: number; out: string}> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete env.NODE_ENV
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {cwd: ROOT, env})
    let text = ''
    let answered = false
    child.stdout.on('data', async (d: Buffer) => {
      text += d.toString()
      if (!answered && text.includes('[y/N]')) {
        answered = true
        await whilePrompting?.()
        child.stdin.write(`${answer}\n`)
      }
    })
    child.on('close', (code) => resolve({code: code ?? 1, out: text}))
  })
}
