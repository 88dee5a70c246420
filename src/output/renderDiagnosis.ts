/** The human view of a Diagnosis: one block per claim. Pure: returns a string, or its pieces. */
import type {ChalkInstance} from 'chalk'
import {MISMATCH_CODES, type MismatchCode} from '../binding/matchVolume.js'
import {shortModes} from '../binding/accessModes.js'
import type {ClaimDiagnosis, Diagnosis, Severity, VolumeDiagnosis, WorkloadDiagnosis} from '../diagnose/types.js'
import {columns} from './table.js'

/** -o wide's per-check columns: lower case with "?", so none reads like a data column (PHASE, CLASS). */
const CHECK_HEADERS: Record<MismatchCode, string> = {
  claimedByOther: 'free?',
  capacity: 'size?',
  volumeMode: 'vmode?',
  volumeAttributesClass: 'vac?',
  deleting: 'live?',
  phase: 'phase?',
  selector: 'sel?',
  storageClass: 'class?',
  accessModes: 'modes?',
  nodeAffinity: 'node?',
}

export interface RenderOptions {
  wide?: boolean
  scopeLabel: string
  /** The terminal's width: table lines are cut with … to fit; undefined = no limit (a pipe). */
  width?: number
}

export function renderDiagnosis(d: Diagnosis, c: ChalkInstance, opts: RenderOptions): string {
  return [...renderDiagnosisParts(d, c, opts)].join('')
}

/**
 * renderDiagnosis's text in pieces, one block (a claim, a workload, a PV) at a time, each ending in
 * a newline: at 20,000 reported claims the whole text takes gigabytes as one string, so explain
 * writes the pieces as they come (./writeParts.ts). `claims` is read once, in order, so a scan's
 * claims can be diagnosed as they are rendered (diagnoseScan).
 */
export function* renderDiagnosisParts(
  d: Omit<Diagnosis, 'claims'> & {claims: Iterable<ClaimDiagnosis>},
  c: ChalkInstance,
  opts: RenderOptions,
): Generator<string> {
  if (d.skipped.length) {
    yield `${c.yellow(
      `Partial answer: could not read ${d.skipped.map((s) => `${s.resource} (${s.reason})`).join(', ')}; the checks that need them were skipped.`,
    )}\n\n`
  }
  for (const w of d.workloads ?? []) yield `${renderWorkload(w, c, opts.width)}\n\n`
  for (const v of d.volumes ?? []) yield `${renderVolume(v, c)}\n\n`
  const counts = new Map<string, number>()
  let n = 0
  for (const claim of d.claims) {
    n++
    counts.set(claim.severity, (counts.get(claim.severity) ?? 0) + 1)
    yield `${renderClaim(claim, c, opts.wide ?? false, opts.width)}\n\n`
  }
  if (n === 0) {
    if (!d.workloads?.length && !d.volumes?.length)
      yield `${c.green(`No unhealthy PersistentVolumeClaims ${opts.scopeLabel}.`)} (use --all to list healthy ones too)\n`
    return
  }
  yield `${n} claim(s): ${['error', 'warning', 'info', 'ok']
    .filter((s) => counts.get(s))
    .map((s) => paint(c, s as Severity, `${counts.get(s)} ${s}`))
    .join(', ')}\n`
}

function paint(c: ChalkInstance, s: Severity, text: string): string {
  return s === 'error'
    ? c.red.bold(text)
    : s === 'warning'
      ? c.yellow.bold(text)
      : s === 'info'
        ? c.cyan(text)
        : c.green(text)
}

/** A listed PV that passes every check: the one that will be bound, one tied with it, or one that merely fits. */
function fitsWord(cl: ClaimDiagnosis, name: string): string {
  return name === cl.wouldBind ? 'chosen' : cl.ties.includes(name) ? 'tie' : 'fits'
}

/** The default table's natural width (indent, columns, three-space gaps), to know whether it fits. */
function tableWidth(cl: ClaimDiagnosis): number {
  const cols = [
    ['NAME', ...cl.candidates.map((p) => p.name)],
    ['CAPACITY', ...cl.candidates.map((p) => p.capacity)],
    ['MODES', ...cl.candidates.map((p) => shortModes(p.accessModes))],
    ['CLASS', ...cl.candidates.map((p) => p.storageClass || '""')],
    ['PHASE', ...cl.candidates.map((p) => p.phase)],
    ['WHY NOT', ...cl.candidates.map((p) => (p.eligible ? 'chosen' : p.whyNot.join('; ')))],
  ]
  return 4 + cols.reduce((a, c) => a + Math.max(...c.map((x) => [...x].length)) + 3, -3)
}

function omittedLine(cl: ClaimDiagnosis): string {
  const by = cl.candidatesOmittedBy
  const n = cl.candidatesOmitted ?? 0
  if (!by) return `… and ${n} more PV(s) of this class`
  const parts = [
    by.boundElsewhere && `${by.boundElsewhere} bound to other claims`,
    by.reserved && `${by.reserved} reserved for other claims`,
    by.released && `${by.released} Released from earlier claims`,
    by.furtherFromFitting && `${by.furtherFromFitting} free but further from fitting`,
  ].filter(Boolean)
  return `… and ${n} more PV(s) of this class not listed: ${parts.join(', ')}`
}

/** A PersistentVolume (`pv/NAME`): its state, the cause, evidence and the fix. */
function renderVolume(v: VolumeDiagnosis, c: ChalkInstance): string {
  const cls = v.storageClass === null ? 'no class' : v.storageClass === '' ? 'class ""' : `class ${v.storageClass}`
  const lines = [
    `${c.bold(`pv/${v.name}`)}  ${v.phase}  ${c.dim(`(reclaimPolicy ${v.reclaimPolicy}, ${cls}${v.claim ? `, claim ${v.claim}` : ''})`)}`,
    `  ${paint(c, v.severity, v.cause)} ${c.dim(`[${v.severity}]`)}: ${v.message}`,
  ]
  if (v.finalizers.length) lines.push(`  Finalizers: ${v.finalizers.join(', ')}`)
  if (v.evidence.length) {
    lines.push('  Evidence:')
    for (const e of v.evidence) lines.push(...e.split('\n').map((l, i) => `${i ? '      ' : '    '}${c.dim(l)}`))
  }
  if (v.fix.length) {
    lines.push('  Fix:')
    for (const f of v.fix) lines.push(`    - ${f}`)
  }
  return lines.join('\n')
}

/**
 * A workload: one row per claim it has or should have (a StatefulSet's per ordinal; a
 * Deployment's or ReplicaSet's per volume, ephemeral ones per pod), its pods, then the fixes.
 */
function renderWorkload(w: WorkloadDiagnosis, c: ChalkInstance, width?: number): string {
  const lines = [
    `${c.bold(`${w.kind.toLowerCase()} ${w.namespace}/${w.name}`)}  ${paint(c, w.severity, w.severity)}  ${c.dim(`(${w.replicas} replica(s))`)}`,
    `  ${w.message}`,
  ]
  const state = (cl: WorkloadDiagnosis['claims'][number]) =>
    cl.state === 'missing' || cl.state === 'foreign'
      ? c.red(cl.state)
      : cl.state === 'retained'
        ? `retained, ${cl.phase}`
        : (cl.phase ?? '')
  const bad = (cl: WorkloadDiagnosis['claims'][number]) => cl.state === 'missing' || cl.state === 'foreign'
  if (w.claims.length && w.kind === 'StatefulSet') {
    const rows = w.claims.map((cl) => [
      String(cl.ordinal ?? ''),
      bad(cl) ? c.red(cl.name) : cl.name,
      state(cl),
      cl.state === 'present' ? paint(c, cl.severity, cl.cause ?? '') : '',
      cl.volume ?? '-',
    ])
    lines.push(columns(['ORDINAL', 'CLAIM', 'STATE', 'CAUSE', 'VOLUME'], rows, '    ', width))
  } else if (w.claims.length) {
    const rows = w.claims.map((cl) => [
      bad(cl) ? c.red(cl.name) : cl.name,
      cl.source === 'ephemeral' ? `${cl.template} (ephemeral)` : cl.template,
      state(cl),
      cl.state === 'present' ? paint(c, cl.severity, cl.cause ?? '') : '',
      cl.volume ?? '-',
    ])
    lines.push(columns(['CLAIM', 'POD VOLUME', 'STATE', 'CAUSE', 'PV'], rows, '    ', width))
  }
  for (const cl of w.claims.filter((x) => x.why)) {
    lines.push(`  ${cl.name}: ${cl.why}`)
    for (const e of cl.evidence) lines.push(`    ${c.dim(e)}`)
  }
  if (w.pods?.length) {
    const rows = w.pods.map((p) => [
      p.name,
      `${p.replicaSet}${p.revision ? ` (${p.revision})` : ''}`,
      p.phase,
      p.node ?? '-',
      p.cause ? paint(c, p.severity, p.cause) : p.severity === 'ok' ? '' : paint(c, p.severity, p.severity),
    ])
    lines.push(columns(['POD', 'REPLICASET', 'PHASE', 'NODE', 'CAUSE'], rows, '    ', width))
    for (const p of w.pods.filter((x) => x.message)) lines.push(`  ${p.name}: ${p.message}`)
  }
  for (const e of w.evidence ?? []) lines.push(`    ${c.dim(e)}`)
  if (w.fix.length) {
    lines.push('  Fix:')
    for (const f of w.fix) lines.push(`    - ${f}`)
  }
  return lines.join('\n')
}

function renderClaim(cl: ClaimDiagnosis, c: ChalkInstance, wide: boolean, width?: number): string {
  const lines: string[] = []
  const cls = cl.storageClass === null ? 'no class' : cl.storageClass === '' ? 'class ""' : `class ${cl.storageClass}`
  lines.push(
    `${c.bold(`${cl.namespace}/${cl.name}`)}  ${cl.phase}  ${c.dim(`(${cl.request ?? 'no request'}, ${cls}${cl.pod ? `, pod ${cl.pod}` : ''})`)}`,
  )
  lines.push(`  ${paint(c, cl.severity, `${cl.cause}`)} ${c.dim(`[${cl.severity}]`)}: ${cl.message}`)
  if (cl.wouldBind && cl.cause !== 'Bound')
    lines.push(`  Would bind: ${c.bold(cl.wouldBind)}${cl.ties.length ? ` (tied with ${cl.ties.join(', ')})` : ''}`)
  if (cl.evidence.length) {
    lines.push('  Evidence:')
    // A quoted message may span lines (mount's output): keep its continuation under the quote.
    for (const e of cl.evidence) lines.push(...e.split('\n').map((l, i) => `${i ? '      ' : '    '}${c.dim(l)}`))
  }
  if (cl.candidates.length) {
    lines.push('  Candidate PVs:')
    // Default: why not, in words and values; -o wide: the per-check matrix as well.
    // On a narrow terminal, the CLASS column goes when it only repeats the claim's class (named above).
    const sameClass = cl.candidates.every((p) => p.storageClass === (cl.storageClass ?? p.storageClass))
    const dropClass = Boolean(width) && !wide && sameClass && tableWidth(cl) > (width ?? 0)
    const head = [
      'NAME',
      'CAPACITY',
      'MODES',
      ...(dropClass ? [] : ['CLASS']),
      'PHASE',
      ...(wide ? ['VOLUMEMODE', 'CLAIM', ...MISMATCH_CODES.map((m) => CHECK_HEADERS[m])] : []),
      'WHY NOT',
    ]
    const rows = cl.candidates.map((p) => [
      p.eligible ? c.green(p.name) : p.name,
      p.capacity,
      shortModes(p.accessModes),
      ...(dropClass ? [] : [p.storageClass === '' ? '""' : p.storageClass]),
      p.phase,
      ...(wide
        ? [
            p.volumeMode,
            p.claimRef ?? '-',
            ...MISMATCH_CODES.map((m) => (p.mismatches.includes(m) ? c.red('✗') : c.green('✓'))),
          ]
        : []),
      p.eligible ? c.green(fitsWord(cl, p.name)) : (p.whyNot ?? []).join('; '),
    ])
    lines.push(columns(head, rows, '    ', width))
    if (cl.candidatesOmitted) lines.push(c.dim(`    ${omittedLine(cl)}`))
  }
  for (const con of cl.consumers) {
    const state = con.scheduled ? `scheduled on ${con.node}` : 'not scheduled'
    lines.push(`  Consumer pod ${c.bold(con.pod)} (${state})${con.summary ? `: ${con.summary}` : ''}`)
    if (wide)
      for (const n of con.nodes)
        lines.push(`    ${n.name}: ${n.reasons.length ? n.reasons.join('; ') : c.green('fits')}`)
  }
  if (cl.fix.length) {
    lines.push('  Fix:')
    for (const f of cl.fix) lines.push(`    - ${f}`)
  }
  return lines.join('\n')
}
