/**
 * The exit status of each command, one function per command, from what the command found. Every
 * command shares one scheme: 0 all is well, 1 something the user asked about is not (a stuck claim,
 * a claim not bound, a node not probed, a disk refused), 2 pv-doctor could not do its job (bad input,
 * no access; those end as an error in BaseCommand, or as 2 here when the API server forbade a write).
 * Each command's --help "Exit status" paragraph says the same in words.
 */
import type {Binding} from '../bind/plan.js'
import type {DiskReport} from '../disks/types.js'

/** explain: 1 when any claim (or workload, or PV asked about) is a warning or an error, 0 when every one is ok or info. */
export function explainExitCode(d: {
  claims: readonly {severity: string}[]
  workloads?: readonly {severity: string}[]
  volumes?: readonly {severity: string}[]
}): 0 | 1 {
  const bad = (s: string) => s === 'warning' || s === 'error'
  return d.claims.some((c) => bad(c.severity)) ||
    (d.workloads ?? []).some((w) => bad(w.severity)) ||
    (d.volumes ?? []).some((v) => bad(v.severity))
    ? 1
    : 0
}

/**
 * bind: 2 when the API server refused a write for lack of rights (401/403); 1 when any claim could
 * not be bound (no candidate, refused, rejected by the API server, not Bound after --wait).
 */
export function bindExitCode(bindings: readonly Binding[]): 0 | 1 | 2 {
  if (bindings.some((b) => b.server.some((s) => s.code === 401 || s.code === 403))) return 2
  return bindings.some(
    (b) => b.status === 'noCandidate' || b.status === 'refused' || b.server.some((s) => !s.ok) || b.bound === false,
  )
    ? 1
    : 0
}

/** disks: 1 when some node could not be probed. */
export function disksExitCode(report: DiskReport): 0 | 1 {
  return report.nodes.some((n) => n.error) ? 1 : 0
}

/**
 * provision: 1 when anything went wrong on the way (`problems`: a node not probed, a disk refused
 * by the plan or the re-check, a create that failed), or when there was no PV to make or keep at
 * all (`planned`: PVs to create plus those earlier runs made).
 */
export function provisionExitCode(o: {problems: number; planned: number}): 0 | 1 {
  return o.problems > 0 || o.planned === 0 ? 1 : 0
}

/** snapshot: a snapshot was written (resources it may not read are listed in it, not failures). */
export function snapshotExitCode(): 0 {
  return 0
}
