#!/usr/bin/env node
// pv-doctor at cluster scale: offline, engine, live and startup timings in one table.
// Usage: npm run build && npm run bench -- [--sizes S,M,L,XL] [--runs N] [--skip-offline]
//        [--skip-engine] [--skip-pinned] [--skip-live] [--skip-startup] [--skip-probe] [--live-size M] [--workdir DIR]
//        [--only-healthy] (live: the 99%-healthy rows only)
//        [--shapes indented,compact]
// Not a test: it prints numbers and whether each target of issue 6 is met.
import {spawn, execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, openSync, statSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir, totalmem} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {addPinnedPods, generate, writeCompactList, writeList, SIZES, BIG_SIZES} from './generate.mjs'
import {benchProbe, probeSkipReason, PROBE_DISKS} from './probe.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')
const CLI = join(ROOT, 'bin', 'kubectl-pv_doctor')
const NODE = process.execPath
const COMPLETER = join(ROOT, 'bin', 'kubectl_complete-pv_doctor')
const BINARY = join(
  ROOT,
  'build',
  `kubectl-pv_doctor-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`,
)
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

const args = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? dflt : args[i + 1]
}
const flag = (name) => args.includes(`--${name}`)
const sizes = opt('sizes', 'S,M,L')
  .split(',')
  .filter((s) => SIZES[s] || BIG_SIZES[s])
const runsArg = opt('runs')
const workdir = opt('workdir', join(tmpdir(), 'pv-doctor-bench'))
const liveSize = opt('live-size', 'M')
mkdirSync(workdir, {recursive: true})

if (!existsSync(join(ROOT, 'dist', 'diagnose', 'diagnose.js'))) {
  console.error('dist/ is missing: run `npm run build` first')
  process.exit(2)
}

const log = (m) => process.stderr.write(`[bench] ${m}\n`)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const fmtMs = (ms) =>
  ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
const spread = (xs) => `${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}`
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`

/** Runs a command once: wall time in ms (spawn to exit) and peak RSS in bytes (GNU time). */
function runOnce(cmd, argv, {env, okCodes = [0]} = {}) {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w')
    const full = TIME ? [TIME, ['-f', '__RSS_KB=%M', cmd, ...argv]] : [cmd, argv]
    const t0 = process.hrtime.bigint()
    const child = spawn(full[0], full[1], {stdio: ['ignore', devnull, 'pipe'], env: {...process.env, ...env}})
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const m = /__RSS_KB=(\d+)/.exec(err)
      const rss = m ? Number(m[1]) * 1024 : undefined
      const exit = TIME && m ? code : code
      if (!okCodes.includes(exit))
        reject(
          new Error(
            `${cmd} ${argv.join(' ')} exited ${exit}: ${err
              .replace(/__RSS_KB=\d+\n?/, '')
              .trim()
              .slice(0, 500)}`,
          ),
        )
      else resolve({ms, rss})
    })
  })
}

/** Runs each named command `runs` times, interleaved (a b c a b c ...), so load drifts hit all alike. */
async function interleaved(cmds, runs, warmup = 1) {
  const out = Object.fromEntries(Object.keys(cmds).map((k) => [k, {ms: [], rss: []}]))
  for (let r = -warmup; r < runs; r++) {
    for (const [k, c] of Object.entries(cmds)) {
      const res = await runOnce(c[0], c[1], c[2])
      if (r < 0) continue
      out[k].ms.push(res.ms)
      if (res.rss !== undefined) out[k].rss.push(res.rss)
    }
  }
  return out
}

/** The size's dumps, indented and compact, written in a child with a big heap (XL's objects need ~2 GB). */
async function dataset(size) {
  const file = join(workdir, `cluster-${size}.json`)
  const compact = join(workdir, `cluster-${size}.compact.json`)
  const genMtime = Math.max(...['generate.mjs', 'write-dataset.mjs'].map((f) => statSync(join(HERE, f)).mtimeMs))
  if (![file, compact].every((f) => existsSync(f) && statSync(f).mtimeMs >= genMtime)) {
    log(`generating size ${size} → ${file}, ${compact}`)
    execFileSync(NODE, ['--max-old-space-size=16384', join(HERE, 'write-dataset.mjs'), size, workdir], {
      stdio: 'inherit',
    })
  }
  return {file, compact}
}

/** Issue 12 item 4: the size plus a pod pinned to every fourth node, written without indentation. */
async function pinnedDataset(size) {
  const file = join(workdir, `cluster-${size}-pinned.json`)
  const genMtime = statSync(join(HERE, 'generate.mjs')).mtimeMs
  if (!existsSync(file) || statSync(file).mtimeMs < genMtime) {
    log(`generating size ${size} with pinned pods, compact → ${file}`)
    await writeCompactList(file, addPinnedPods(generate(size)))
  }
  return file
}

const rows = [] // [section, what, size, median, range, ratio, target, met]
const verdicts = []
const check = (name, ok) => {
  verdicts.push([name, ok])
  return ok === undefined ? 'n/a' : ok ? 'yes' : '**no**'
}

// ---------------------------------------------------------------------------------------------
const files = {}
for (const s of new Set([...(flag('skip-offline') && flag('skip-engine') ? [] : sizes)])) files[s] = await dataset(s)

if (!flag('skip-offline')) {
  for (const s of sizes) {
    for (const shape of opt('shapes', 'indented,compact').split(',')) {
      const file = files[s][shape === 'indented' ? 'file' : 'compact']
      const size = statSync(file).size
      const big = s === 'XL'
      const runs = Number(runsArg ?? (big ? 2 : s === 'L' ? 3 : 5))
      log(`offline ${s} ${shape}: ${runs} runs (${mb(size)} file)`)
      // Past V8's string limit JSON.parse cannot be the floor: XL's is stream-json's tokenizer (issue 12).
      const floorCmd = big
        ? [NODE, [join(HERE, 'tokenize.mjs'), file]]
        : [NODE, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(file)}))`]]
      const r = await interleaved(
        {
          floor: floorCmd,
          json: [NODE, [CLI, 'explain', '-A', '--from-file', file, '-o', 'json'], {okCodes: [0, 1]}],
          human: [NODE, [CLI, 'explain', '-A', '--from-file', file], {okCodes: [0, 1]}],
        },
        runs,
        s === 'L' || big ? 0 : 1,
      )
      const floor = median(r.floor.ms)
      const rssTarget = big ? 1.5e9 : 3 * size + 150 * 2 ** 20
      const targeted = (s === 'L' && shape === 'indented') || big
      const what = `${s} ${shape === 'compact' ? 'compact ' : ''}`
      rows.push([
        'Offline',
        `${big ? 'stream-json tokenizer floor' : 'JSON.parse floor'} (${mb(size)} ${shape} file)`,
        s,
        fmtMs(floor),
        spread(r.floor.ms),
        r.floor.rss.length ? `RSS ${mb(Math.max(...r.floor.rss))}` : '',
        '',
        '',
      ])
      for (const k of ['json', 'human']) {
        const m = median(r[k].ms)
        const ratio = m / floor
        const peak = r[k].rss.length ? Math.max(...r[k].rss) : undefined
        rows.push([
          'Offline',
          `explain -A --from-file${k === 'json' ? ' -o json' : ''}${shape === 'compact' ? ' (compact)' : ''}`,
          s,
          fmtMs(m),
          spread(r[k].ms),
          `${ratio.toFixed(2)}× floor`,
          targeted ? '≤ 2.0×' : '',
          targeted ? check(`offline ${what}${k} time`, ratio <= 2.0) : '',
        ])
        rows.push([
          'Offline',
          `  peak RSS (${k})`,
          s,
          peak ? mb(peak) : 'n/a',
          '',
          peak ? `${(peak / size).toFixed(2)}× file` : '',
          targeted ? `≤ ${mb(rssTarget)}${big ? '' : ' (3× file + 150 MB)'}` : '',
          targeted ? check(`offline ${what}${k} RSS`, peak === undefined ? undefined : peak <= rssTarget) : '',
        ])
      }
    }
  }
}

if (!flag('skip-pinned') && sizes.includes('L')) {
  const file = await pinnedDataset('L')
  const size = statSync(file).size
  const runs = Number(runsArg ?? 3)
  log(`pinned L: ${runs} runs (${mb(size)} compact file)`)
  const r = await interleaved(
    {
      floor: [NODE, ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(file)}))`]],
      json: [NODE, [CLI, 'explain', '-A', '--from-file', file, '-o', 'json'], {okCodes: [0, 1]}],
      human: [NODE, [CLI, 'explain', '-A', '--from-file', file], {okCodes: [0, 1]}],
    },
    runs,
    0,
  )
  const floor = median(r.floor.ms)
  rows.push([
    'Pinned',
    `JSON.parse floor (${mb(size)} compact file)`,
    'L',
    fmtMs(floor),
    spread(r.floor.ms),
    '',
    '',
    '',
  ])
  for (const k of ['json', 'human']) {
    const ratio = median(r[k].ms) / floor
    rows.push([
      'Pinned',
      `explain -A --from-file${k === 'json' ? ' -o json' : ''} (1,250 pods each pinned to a node)`,
      'L',
      fmtMs(median(r[k].ms)),
      spread(r[k].ms),
      `${ratio.toFixed(2)}× floor`,
      '≤ 2.0×',
      check(`pinned L ${k} time`, ratio <= 2.0),
    ])
  }
}

if (!flag('skip-engine')) {
  const med = {}
  for (const s of sizes) {
    const runs = Number(runsArg ?? (s === 'XL' ? 3 : s === 'L' ? 5 : 7))
    log(`engine ${s}: ${runs} runs in one process`)
    const out = execFileSync(
      NODE,
      ['--max-old-space-size=8192', join(HERE, 'engine.mjs'), files[s].compact, String(runs)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      },
    )
    const {ms, claims} = JSON.parse(out.trim().split('\n').pop())
    med[s] = median(ms)
    rows.push([
      'Engine',
      `buildWorld + diagnose (${claims} claims reported)`,
      s,
      fmtMs(med[s]),
      spread(ms),
      '',
      s === 'L' ? '≤ 1 s' : s === 'XL' ? '≤ 5 s' : '',
      s === 'L' ? check('engine L ≤ 1 s', med[s] <= 1000) : s === 'XL' ? check('engine XL ≤ 5 s', med[s] <= 5000) : '',
    ])
  }
  if (med.L && med.XL) {
    const ratio = med.XL / med.L
    rows.push([
      'Engine',
      'growth XL/L (sizes differ 4×)',
      'XL/L',
      `${ratio.toFixed(1)}×`,
      '',
      '',
      '≤ 5',
      check('engine XL/L ≤ 5', ratio <= 5),
    ])
  }
  if (med.S && med.L) {
    const ratio = med.L / med.S
    rows.push([
      'Engine',
      'growth L/S (sizes differ 50×)',
      'L/S',
      `${ratio.toFixed(1)}×`,
      '',
      '',
      '≤ 60',
      check('engine L/S ≤ 60', ratio <= 60),
    ])
  }
}

if (!flag('skip-startup')) {
  const runs = Number(runsArg ?? 15)
  log(`startup: ${runs} runs each`)
  const tiny = join(workdir, 'tiny.json')
  await writeList(tiny, generate({nodes: 3, pvs: 10, pvcs: 10, pods: 10}))
  const kubeconfig = join(workdir, 'closed-port.kubeconfig')
  // Nothing listens on port 1: the first request fails at once, so the time is startup + client load.
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: closed\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: bench\ncontexts:\n- name: closed\n  context:\n    cluster: closed\n    user: u\ncurrent-context: closed\n`,
  )
  const r = await interleaved(
    {
      base: [NODE, ['-e', '0']],
      version: [NODE, [CLI, '--version']],
      help: [NODE, [CLI, '--help']],
      tiny: [NODE, [CLI, 'explain', '-A', '--from-file', tiny], {okCodes: [0, 1]}],
      cluster: [NODE, [CLI, 'explain', '-A', '--kubeconfig', kubeconfig, '--request-timeout', '5s'], {okCodes: [2]}],
      // kubectl_complete-pv_doctor answering a flag value (what a TAB costs before any cluster lookup).
      complete: [NODE, [COMPLETER, 'explain', '-o', '']],
      // The self-contained binary of `npm run package`, when it has been built.
      ...(existsSync(BINARY)
        ? {
            binVersion: [BINARY, ['--version']],
            binTiny: [BINARY, ['explain', '-A', '--from-file', tiny], {okCodes: [0, 1]}],
          }
        : {}),
    },
    runs,
    2,
  )
  const base = median(r.base.ms)
  rows.push(['Startup', 'node -e 0 (floor)', '', fmtMs(base), spread(r.base.ms), '', '', ''])
  for (const [k, what, target] of [
    ['version', '--version', 2.0],
    ['help', '--help', 2.0],
    ['tiny', 'explain -A --from-file tiny.json', undefined],
  ]) {
    const m = median(r[k].ms)
    rows.push([
      'Startup',
      what,
      '',
      fmtMs(m),
      spread(r[k].ms),
      `${(m / base).toFixed(2)}× node -e 0`,
      target ? `≤ ${target}×` : '',
      target ? check(`startup ${what}`, m / base <= target) : '',
    ])
  }
  const co = median(r.complete.ms)
  rows.push([
    'Startup',
    'completion: kubectl_complete-pv_doctor explain -o <TAB>',
    '',
    fmtMs(co),
    spread(r.complete.ms),
    `${(co / base).toFixed(2)}× node -e 0`,
    '',
    '',
  ])
  if (r.binVersion) {
    for (const [k, what] of [
      ['binVersion', 'binary (npm run package): --version'],
      ['binTiny', 'binary (npm run package): explain -A --from-file tiny.json'],
    ]) {
      const m = median(r[k].ms)
      rows.push(['Startup', what, '', fmtMs(m), spread(r[k].ms), `${(m / base).toFixed(2)}× node -e 0`, '', ''])
    }
  } else rows.push(['Startup', 'binary: not built (npm run package)', '', '', '', '', '', ''])
  const c = median(r.cluster.ms)
  rows.push([
    'Startup',
    'explain -A against a closed port (startup + client, until the first request)',
    '',
    fmtMs(c),
    spread(r.cluster.ms),
    `+${fmtMs(c - base)} over node -e 0`,
    '≤ +250 ms',
    check('startup cluster command', c - base <= 250),
  ])
}

if (!flag('skip-live')) {
  const kubectl = ['/usr/bin/kubectl', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'kubectl'))].find(
    (p) => existsSync(p),
  )
  if (!kubectl) {
    rows.push(['Live', 'skipped: no kubectl on this machine', liveSize, '', '', '', '≤ 0.8×', check('live', undefined)])
  } else {
    const runs = Number(runsArg ?? 5)
    log(`live ${liveSize}: starting the control plane (test/cluster), loading, ${runs} runs`)
    const out = execFileSync(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [
        join(HERE, 'live.ts'),
        '--size',
        liveSize,
        '--runs',
        String(runs),
        '--kubectl',
        kubectl,
        ...(flag('only-healthy') ? ['--only-healthy'] : []),
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      },
    )
    const res = JSON.parse(out.trim().split('\n').pop())
    const floor = median(res.kubectl)
    if (res.kubectl.length)
      rows.push([
        'Live',
        `kubectl get pv,pvc,sc,nodes,pods,events -A -o json (floor; ${res.objects} objects)`,
        liveSize,
        fmtMs(floor),
        spread(res.kubectl),
        '',
        '',
        '',
      ])
    for (const [k, what] of [
      ['explain', 'explain -A'],
      ['explainJson', 'explain -A -o json'],
    ]) {
      if (!res[k].length) continue
      const m = median(res[k])
      const ratio = m / floor
      rows.push([
        'Live',
        what,
        liveSize,
        fmtMs(m),
        spread(res[k]),
        `${ratio.toFixed(2)}× kubectl`,
        '≤ 0.8×',
        check(`live ${what}`, ratio <= 0.8),
      ])
    }
    // Issue 12: one claim or pod against kubectl describe; a 99%-healthy cluster against the floor.
    const pair = (section, label, describeWhat, x, target) => {
      const d = median(x.describe)
      const e = median(x.explain)
      rows.push(['Live', `kubectl describe ${describeWhat}`, liveSize, fmtMs(d), spread(x.describe), '', '', ''])
      rows.push([
        'Live',
        label,
        liveSize,
        fmtMs(e),
        spread(x.explain),
        `${(e / d).toFixed(2)}× describe`,
        `≤ ${target}×`,
        check(`${section} ${label}`, e / d <= target),
      ])
      // PV_DOCTOR_BENCH_BEFORE_CLI: the same, by another build, timed interleaved (live.ts).
      if (x.before?.length) {
        const b = median(x.before)
        rows.push([
          'Live',
          `${label}, before`,
          liveSize,
          fmtMs(b),
          spread(x.before),
          `${(b / d).toFixed(2)}× describe`,
          '',
          '',
        ])
      }
    }
    for (const [cause, x] of Object.entries(res.one ?? {}))
      pair('live one claim', `explain NS/NAME (${cause})`, 'pvc NS/NAME', x, 1.5)
    for (const [what, x] of Object.entries(res.pod ?? {}))
      pair('live pod', `explain pod/NAME (${what} pod)`, 'pod NAME', x, 1.5)
    if (res.healthy) {
      const h = res.healthy
      const floorH = median(h.kubectl)
      rows.push([
        'Live',
        `kubectl get pv,pvc,sc,nodes,pods,events -A -o json, 99% healthy (${h.unhealthy} of ${h.claims} claims unhealthy; ${h.objects} objects)`,
        liveSize,
        fmtMs(floorH),
        spread(h.kubectl),
        '',
        '',
        '',
      ])
      const m = median(h.explain)
      rows.push([
        'Live',
        'explain -A, 99% healthy',
        liveSize,
        fmtMs(m),
        spread(h.explain),
        `${(m / floorH).toFixed(2)}× kubectl`,
        '≤ 0.1×',
        check('live healthy explain -A', m / floorH <= 0.1),
      ])
      if (h.before?.length) {
        const b = median(h.before)
        rows.push([
          'Live',
          'explain -A, 99% healthy, before',
          liveSize,
          fmtMs(b),
          spread(h.before),
          `${(b / floorH).toFixed(2)}× kubectl`,
          '',
          '',
        ])
      }
    }
  }
}

if (!flag('skip-probe')) {
  // Target: well under the default probe timeout (60 s) on a node with many disks.
  const skip = probeSkipReason()
  if (skip)
    rows.push(['Probe', `skipped: ${skip}`, `${PROBE_DISKS} disks`, '', '', '', '≤ 10 s', check('probe', undefined)])
  else {
    const res = benchProbe({root: ROOT, workdir, runs: Number(runsArg ?? 3), log})
    for (const [k, what] of [
      ['blank', 'scripts/probe.sh, blank loop devices (remnant scan + exclusive open on each)'],
      ['remnants', 'scripts/probe.sh, each with a backup GPT and two remnants'],
    ]) {
      const m = median(res[k])
      rows.push([
        'Probe',
        what,
        `${PROBE_DISKS} disks`,
        fmtMs(m),
        spread(res[k]),
        `${((m / 60_000) * 100).toFixed(1)}% of the 60 s timeout`,
        '≤ 10 s',
        check(`probe ${k}`, m <= 10_000),
      ])
    }
  }
}

// ---------------------------------------------------------------------------------------------
const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU'
const header = `pv-doctor benchmark — ${new Date().toISOString().slice(0, 10)} — ${cpus().length} cores (nproc ${execFileSync('nproc', {encoding: 'utf8'}).trim()}), ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
const table = [
  '| section | measurement | size | median | min–max | ratio | target | met |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
]
console.log(header)
console.log('')
console.log(table.join('\n'))
const missed = verdicts.filter(([, ok]) => ok === false)
console.log('')
console.log(
  missed.length
    ? `targets missed: ${missed.map(([n]) => n).join('; ')}`
    : `all ${verdicts.filter(([, ok]) => ok !== undefined).length} targets checked are met`,
)
