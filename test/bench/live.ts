// Live part of the benchmark: starts the test control plane (test/cluster), loads a synthetic
// cluster of the given size, lets the real controllers settle, then times, interleaved:
// `explain -A` against `kubectl get pv,pvc,sc,nodes,pods,events -A -o json` (today's mix);
// `explain NS/NAME` against `kubectl describe pvc` on claims of several causes, and
// `explain pod/NAME` against `kubectl describe pod`; then deletes the unhealthy claims outside
// ten namespaces (a 99%-healthy cluster) and times `explain -A` against the same floor again.
// Prints one JSON line.
// Run by bench.mjs: tsx test/bench/live.ts --size M --runs 5 --kubectl /usr/bin/kubectl
import {execFileSync, spawn} from 'node:child_process'
import {openSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as paths from '../../src/kube/paths.js'
import {loadCluster, type Obj} from './load.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const CLI = join(HERE, '..', '..', 'bin', 'kubectl-pv_doctor')
// Another build's bin/ (e.g. the branch point), timed interleaved with this one on the same
// claims and pods, so a change's before and after share one run's load.
const BEFORE = process.env.PV_DOCTOR_BENCH_BEFORE_CLI
const args = process.argv.slice(2)
const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
const size = opt('size', 'M')
const runs = Number(opt('runs', '5'))
const kubectl = opt('kubectl', '/usr/bin/kubectl')
// --only-healthy: time the 99%-healthy rows only (today's mix and the one-claim rows are skipped).
const onlyHealthy = args.includes('--only-healthy')
const log = (m: string) => process.stderr.write(`[bench live] ${m}\n`)

function timeRun(cmd: string, argv: string[], env: Record<string, string>, okCodes: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w')
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, argv, {stdio: ['ignore', devnull, 'pipe'], env: {...process.env, ...env}})
    let err = ''
    child.stderr!.on('data', (d) => (err += d))
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (!okCodes.includes(code ?? -1))
        reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err.slice(0, 500)}`))
      else resolve(ms)
    })
  })
}

const {cluster, client, gen} = await loadCluster(size, {
  log,
  settleMin: Number(process.env.PV_DOCTOR_BENCH_SETTLE_MIN ?? 10),
  // upstream's default resync (15 s): the harness's 2 s re-queues every claim constantly; a
  // higher API rate for the controller so it binds the pre-bound pairs in minutes, not an hour
  pvSyncPeriod: '15s',
  controllerQps: 400,
})
let exitCode = 0
try {
  const env = {KUBECONFIG: cluster.kubeconfig}
  const counts = await Promise.all(
    [paths.PVS, paths.PVCS, paths.STORAGE_CLASSES, paths.NODES, paths.PODS, paths.EVENTS].map((r) =>
      client.list(paths.pathOf(r)).then((l: unknown[]) => l.length),
    ),
  )
  const objects = counts.reduce((a: number, b: number) => a + b, 0)
  log(`measuring (${objects} objects in pv,pvc,sc,nodes,pods,events), ${runs} runs + 1 warm-up`)
  const res: Record<string, number[]> = {kubectl: [], explain: [], explainJson: []}
  for (let r = -1; r < (onlyHealthy ? -1 : runs); r++) {
    const k = await timeRun(kubectl, ['get', 'pv,pvc,sc,nodes,pods,events', '-A', '-o', 'json'], env, [0])
    const e = await timeRun(process.execPath, [CLI, 'explain', '-A', '--request-timeout', '60s'], env, [0, 1])
    const j = await timeRun(
      process.execPath,
      [CLI, 'explain', '-A', '-o', 'json', '--request-timeout', '60s'],
      env,
      [0, 1],
    )
    if (r < 0) continue
    res.kubectl.push(k)
    res.explain.push(e)
    res.explainJson.push(j)
    log(`run ${r + 1}: kubectl ${k.toFixed(0)} ms, explain ${e.toFixed(0)} ms, explain -o json ${j.toFixed(0)} ms`)
  }
  const explainJson = (argv: string[]) => {
    try {
      return JSON.parse(
        execFileSync(process.execPath, [CLI, ...argv, '-o', 'json'], {
          env: {...process.env, ...env},
          maxBuffer: 1 << 28,
          encoding: 'utf8',
        }),
      )
    } catch (e: any) {
      if (e.status === 1) return JSON.parse(e.stdout)
      throw e
    }
  }
  // One claim of each cause (a person's incident), and a Bound one.
  const all = explainJson(['explain', '-A', '--request-timeout', '60s'])
  const picked = new Map<string, {namespace: string; name: string; consumers: {pod: string}[]}>()
  for (const c of all.claims) if (!picked.has(c.cause) && picked.size < 7) picked.set(c.cause, c)
  const boundClaim = gen.pvcs.find((p: Obj) => p.status?.phase === 'Bound')
  picked.set('Bound', {namespace: boundClaim.metadata.namespace, name: boundClaim.metadata.name, consumers: []})
  const claims = onlyHealthy ? [] : [...picked]
  const one: Record<string, {describe: number[]; explain: number[]; before?: number[]}> = {}
  for (const [cause] of claims) one[cause] = {describe: [], explain: [], ...(BEFORE ? {before: []} : {})}
  log(`one claim: ${claims.map(([c, x]) => `${c} ${x.namespace}/${x.name}`).join(', ')}`)
  for (let r = -1; r < runs; r++) {
    for (const [cause, c] of claims) {
      const d = await timeRun(kubectl, ['describe', 'pvc', '-n', c.namespace, c.name], env, [0])
      const e = await timeRun(process.execPath, [CLI, 'explain', '-n', c.namespace, c.name], env, [0, 1])
      const b = BEFORE && (await timeRun(process.execPath, [BEFORE, 'explain', '-n', c.namespace, c.name], env, [0, 1]))
      if (r < 0) continue
      one[cause].describe.push(d)
      one[cause].explain.push(e)
      if (b) one[cause].before!.push(b)
    }
  }
  // pod/NAME: the consumer of a pending claim, and a running pod of a Bound claim.
  const pendingPod = [...picked.values()].find((c) => c.consumers?.length)
  const boundPod = gen.pods.find(
    (p: Obj) =>
      p.spec.volumes?.some((v: any) => v.persistentVolumeClaim?.claimName === boundClaim.metadata.name) &&
      p.metadata.namespace === boundClaim.metadata.namespace,
  )
  const pods = onlyHealthy
    ? []
    : [
        ...(pendingPod ? [{namespace: pendingPod.namespace, name: pendingPod.consumers[0].pod, what: 'pending'}] : []),
        ...(boundPod ? [{namespace: boundPod.metadata.namespace, name: boundPod.metadata.name, what: 'running'}] : []),
      ]
  // The fake nodes run no kubelet, so every scheduled pod stays Pending (and pod/NAME would
  // follow it through attach and mount). The test plays the running pod's kubelet: its status as
  // the kubelet reports it (the generator's, phase Running), through the status subresource.
  if (boundPod && !onlyHealthy)
    await client.request(
      'PATCH',
      paths.pathOf(paths.PODS, {
        namespace: boundPod.metadata.namespace,
        name: boundPod.metadata.name,
        subresource: 'status',
      }),
      {body: {status: boundPod.status}, contentType: 'application/merge-patch+json'},
    )
  const pod: Record<string, {describe: number[]; explain: number[]; before?: number[]}> = {}
  for (const p of pods) pod[p.what] = {describe: [], explain: [], ...(BEFORE ? {before: []} : {})}
  for (let r = -1; r < runs; r++) {
    for (const p of pods) {
      const d = await timeRun(kubectl, ['describe', 'pod', '-n', p.namespace, p.name], env, [0])
      const e = await timeRun(process.execPath, [CLI, 'explain', '-n', p.namespace, `pod/${p.name}`], env, [0, 1])
      const b =
        BEFORE &&
        (await timeRun(process.execPath, [BEFORE, 'explain', '-n', p.namespace, `pod/${p.name}`], env, [0, 1]))
      if (r < 0) continue
      pod[p.what].describe.push(d)
      pod[p.what].explain.push(e)
      if (b) pod[p.what].before!.push(b)
    }
  }
  // 99% healthy: the unhealthy claims of ten namespaces stay (a broken app or two), the rest go
  // with their pods.
  const keep = new Set([...new Set(all.claims.map((c: {namespace: string}) => c.namespace))].sort().slice(0, 10))
  const gone = all.claims.filter((c: {namespace: string}) => !keep.has(c.namespace))
  const del = async (r: paths.Resource, namespace: string, name: string) => {
    try {
      await client.request('DELETE', paths.pathOf(r, {namespace, name}))
    } catch (e: any) {
      if (e?.status?.code !== 404) throw e
    }
  }
  let next = 0
  await Promise.all(
    Array.from({length: 16}, async () => {
      while (next < gone.length) {
        const c = gone[next++]
        for (const p of c.consumers ?? []) await del(paths.PODS, c.namespace, p.pod)
        await del(paths.PVCS, c.namespace, c.name)
      }
    }),
  )
  for (let i = 0; i < 60; i++) {
    const left = explainJson(['explain', '-A', '--request-timeout', '60s']).claims.length
    log(`healthy: ${left} unhealthy claims left`)
    if (left <= all.claims.length - gone.length) break
    await new Promise((r) => setTimeout(r, 5000))
  }
  const healthyCounts = await Promise.all(
    [paths.PVS, paths.PVCS, paths.STORAGE_CLASSES, paths.NODES, paths.PODS, paths.EVENTS].map((r) =>
      client.list(paths.pathOf(r)).then((l: unknown[]) => l.length),
    ),
  )
  const healthy = {
    objects: healthyCounts.reduce((a: number, b: number) => a + b, 0),
    claims: healthyCounts[1],
    unhealthy: all.claims.length - gone.length,
    kubectl: [] as number[],
    explain: [] as number[],
    before: [] as number[],
  }
  for (let r = -1; r < runs; r++) {
    const k = await timeRun(kubectl, ['get', 'pv,pvc,sc,nodes,pods,events', '-A', '-o', 'json'], env, [0])
    const e = await timeRun(process.execPath, [CLI, 'explain', '-A', '--request-timeout', '60s'], env, [0, 1])
    const b =
      BEFORE && (await timeRun(process.execPath, [BEFORE, 'explain', '-A', '--request-timeout', '60s'], env, [0, 1]))
    if (r < 0) continue
    healthy.kubectl.push(k)
    healthy.explain.push(e)
    if (b) healthy.before.push(b)
    log(
      `healthy run ${r + 1}: kubectl ${k.toFixed(0)} ms, explain ${e.toFixed(0)} ms${b ? `, before ${b.toFixed(0)} ms` : ''}`,
    )
  }
  process.stdout.write(`${JSON.stringify({size, objects, ...res, one, pod, healthy})}\n`)
} catch (e) {
  log(String((e as Error).stack ?? e))
  exitCode = 1
} finally {
  await cluster.stop()
}
process.exit(exitCode)
