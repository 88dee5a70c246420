/** Renders a bind plan and what the API server answered, for people (docs/bind.md has the JSON). */
import type {ChalkInstance} from 'chalk'
import type {Binding, DryRun} from '../bind/plan.js'

function resultLine(b: Binding, dryRun: DryRun, c: ChalkInstance): string {
  if (dryRun === 'client') return c.dim('dry run: nothing was written')
  const bad = b.server.find((s) => !s.ok)
  const where = dryRun === 'server' ? 'server dry run' : 'write'
  if (bad) {
    const changes = bad.changes?.length ? ` (${bad.changes.join('; ')})` : ''
    const what =
      bad.code === 409
        ? `${bad.object} changed since it was read${changes}; nothing was written by this step, run bind again to re-plan`
        : bad.message
    const partial =
      dryRun === 'none' && b.applied ? ` (the PV write went through: ${b.volume} is reserved for the claim)` : ''
    return c.red(`${where} rejected for ${bad.object}: Error from server (${bad.reason}): ${what}${partial}`)
  }
  if (dryRun === 'server')
    return c.green(
      `server dry run: the API server accepted ${b.server.map((s) => s.object).join(' and ')} (admission and validation passed); nothing was written`,
    )
  if (!b.applied) return c.dim('not applied')
  const waited =
    b.bound === true
      ? ' — the claim is Bound'
      : b.bound === false
        ? c.red(' — the claim is not Bound yet')
        : '; the PersistentVolume controller completes the binding'
  return c.green(`written: ${b.server.map((s) => s.object).join(', ')}${waited}`)
}

export function renderBindings(bindings: Binding[], c: ChalkInstance, dryRun: DryRun, withResult: boolean): string {
  const out: string[] = []
  if (bindings.length === 0) return 'No Pending claims in scope: nothing to bind.\n'
  for (const b of bindings) {
    const head = c.bold(b.claim)
    if (b.status === 'bind') out.push(`${head} → PV ${c.bold(b.volume ?? '?')}`)
    else if (b.status === 'nothingToDo') out.push(`${head}: ${c.green('nothing to do')}`)
    else if (b.status === 'noCandidate') out.push(`${head}: ${c.red(`no PV to bind${b.cause ? ` (${b.cause})` : ''}`)}`)
    else out.push(`${head}: ${c.red(`refused${b.volume ? ` to bind PV ${b.volume}` : ''}`)}`)
    if (b.mismatches.length)
      out.push(
        `  PV ${b.volume} fails these checks:`,
        ...b.mismatches.map((m) => `    ${c.red('✗')} ${m.check}: ${m.text}`),
      )
    else out.push(`  ${b.status === 'bind' ? 'Why: ' : ''}${b.reason}`)
    for (const w of b.warnings) out.push(`  ${c.yellow('Warning:')} ${w}`)
    if (b.patch) out.push(`  Patch (JSON merge patch, persistentvolume/${b.volume}):`, `    ${JSON.stringify(b.patch)}`)
    if (b.claimPatch)
      out.push(
        `  Patch (JSON merge patch, persistentvolumeclaim/${b.claim.split('/')[1]}):`,
        `    ${JSON.stringify(b.claimPatch)}`,
      )
    if (b.command || b.claimCommand)
      out.push('  The same with kubectl:', ...[b.command, b.claimCommand].filter(Boolean).map((x) => `    ${x}`))
    if (b.fix.length) out.push('  Fix:', ...b.fix.map((f) => `    - ${f}`))
    if (withResult && b.status === 'bind') out.push(`  Result: ${resultLine(b, dryRun, c)}`)
    out.push('')
  }
  if (bindings.length > 1) {
    const n = (s: Binding['status']) => bindings.filter((b) => b.status === s).length
    out.push(
      `${bindings.length} claim(s): ${n('bind')} to bind, ${n('nothingToDo')} nothing to do, ${n('noCandidate')} without candidate, ${n('refused')} refused`,
    )
  }
  return `${out.join('\n')}\n`
}

/** After a confirmed write: one result line per written claim (the plan was shown before the prompt). */
export function renderResults(bindings: Binding[], c: ChalkInstance, dryRun: DryRun): string {
  return bindings
    .filter((b) => b.status === 'bind')
    .map((b) => `${c.bold(b.claim)}: ${resultLine(b, dryRun, c)}`)
    .join('\n')
}
