/** The `disks` table and `provision`'s plan. Pure: the command passes the colours (a chalk instance fits). */
import {columns, plainTable} from './table.js'
import type {ProvisionPlan} from '../disks/planProvision.js'
import type {DiskReport} from '../disks/types.js'

export interface Paint {
  green(s: string): string
  red(s: string): string
  yellow(s: string): string
  dim(s: string): string
}

export function humanBytes(bytes: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v}B` : `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10}${units[i]}`
}

export function renderDisks(report: DiskReport, paint: Paint, opts: {wide?: boolean; width?: number} = {}): string {
  const head = opts.wide
    ? ['NODE', 'DISK', 'SIZE', 'TYPE', 'MODEL', 'SERIAL', 'ELIGIBLE', 'REASONS', 'ID', 'FINGERPRINT']
    : ['NODE', 'DISK', 'SIZE', 'TYPE', 'MODEL', 'ELIGIBLE', 'REASONS']
  const rows: string[][] = []
  for (const node of report.nodes) {
    for (const d of node.disks) {
      const eligible = d.eligible ? paint.green('yes') : paint.red('no')
      const reasons = d.reasons.length ? d.reasons.join(',') : paint.dim('-')
      const model = d.model ?? '-'
      rows.push(
        opts.wide
          ? [
              node.name,
              d.path,
              humanBytes(d.sizeBytes),
              d.type,
              model,
              d.serial ?? '-',
              eligible,
              reasons,
              d.id ?? '-',
              d.fingerprint,
            ]
          : [node.name, d.path, humanBytes(d.sizeBytes), d.type, model, eligible, reasons],
      )
    }
  }
  const lines: string[] = []
  if (rows.length > 0) lines.push(columns(head, rows, '', opts.width, head.indexOf('MODEL')))
  const total = report.nodes.reduce((n, x) => n + x.disks.length, 0)
  const eligible = report.nodes.reduce((n, x) => n + x.disks.filter((d) => d.eligible).length, 0)
  for (const node of report.nodes) if (node.error) lines.push(paint.red(`node ${node.name}: ${node.error}`))
  const answered = report.nodes.filter((n) => !n.error).length
  lines.push(
    paint.dim(
      `${eligible} of ${total} disks eligible on ${answered} of ${report.nodes.length} nodes. pv-doctor never partitions, formats or wipes a disk.`,
    ),
  )
  return lines.join('\n')
}

/** provision's plan: one row per disk, and what happens to the StorageClass. */
export function renderProvisionPlan(plan: ProvisionPlan): string {
  const rows = plan.items.map((i) => [
    i.node,
    i.disk.path,
    i.disk.id ?? '-',
    humanBytes(i.disk.sizeBytes),
    i.action === 'skip' ? '-' : (i.pvName ?? '-'),
    i.action,
    i.why ?? '',
  ])
  const lines: string[] = []
  if (rows.length > 0) lines.push(plainTable(['NODE', 'DISK', 'ID', 'SIZE', 'PV', 'ACTION', 'WHY'], rows))
  const cls = plan.storageClass.action === 'create' ? 'will be created' : 'exists'
  lines.push(`StorageClass ${plan.storageClass.name}: ${cls}. pv-doctor never partitions, formats or wipes a disk.`)
  return lines.join('\n')
}
