/**
 * Reads a probe report (the JSON scripts/probe.sh prints) into typed data, strictly: a report
 * we cannot fully read must never make a disk look empty. Pure: text in, report out.
 */
import {
  type BackupPartitionTable,
  PROBE_API_VERSION,
  type ProbeDevice,
  type ProbeReport,
  type Remnant,
  type Signature,
} from './types.js'

export class ProbeReportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProbeReportError'
  }
}

export function parseProbeReport(text: string, source = 'probe report'): ProbeReport {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    const head = text.trim().split('\n')[0]?.slice(0, 120) ?? ''
    throw new ProbeReportError(
      `${source} is not JSON (${(error as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 160)})${head ? `; it starts with "${head}"` : ''}`,
    )
  }
  return toProbeReport(raw, source)
}

export function toProbeReport(raw: unknown, source = 'probe report'): ProbeReport {
  const o = obj(raw, source)
  if (o.apiVersion !== PROBE_API_VERSION || o.kind !== 'ProbeReport') {
    throw new ProbeReportError(
      `${source} is not a pv-doctor probe report (expected apiVersion ${PROBE_API_VERSION}, kind ProbeReport; make it with scripts/probe.sh)`,
    )
  }
  const node = str(o.node, `${source}: node`)
  if (!node) throw new ProbeReportError(`${source} names no node; run the probe with NODE_NAME=<node name>`)
  if (!Array.isArray(o.devices)) throw new ProbeReportError(`${source}: devices is not a list`)
  const probeVersion = typeof o.probeVersion === 'number' ? o.probeVersion : 1
  // Version 1 probes did not look for remnants or exclusive holders: those checks count as not made.
  const current = probeVersion >= 2
  const devices = o.devices.map((d, i) => toDevice(d, `${source}: devices[${i}]`, current))
  const checks = current ? obj(o.checks, `${source}: checks`) : {}
  return {
    apiVersion: PROBE_API_VERSION,
    kind: 'ProbeReport',
    probeVersion,
    node,
    time: optStr(o.time),
    kernel: optStr(o.kernel),
    udev: o.udev === true,
    // Older or hand-made reports may omit it; only an explicit false means "could not read".
    mountTableReadable: o.mountTableReadable !== false,
    swaps: strList(o.swaps, `${source}: swaps`),
    checks: {remnants: checks.remnants === true, exclusiveOpen: checks.exclusiveOpen === true},
    devices,
  }
}

function toDevice(raw: unknown, where: string, current: boolean): ProbeDevice {
  const d = obj(raw, where)
  const name = str(d.name, `${where}.name`)
  const size = d.sizeBytes
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new ProbeReportError(`${where} (${name}): sizeBytes is not a whole number of bytes`)
  if (!Array.isArray(d.signatures)) throw new ProbeReportError(`${where} (${name}): signatures is not a list`)
  const signatures: Signature[] = d.signatures.map((s, i) => {
    const so = obj(s, `${where}.signatures[${i}]`)
    return {type: str(so.type, `${where}.signatures[${i}].type`), offset: optStr(so.offset)}
  })
  const dev: ProbeDevice = {
    name,
    path: optStr(d.path) ?? `/dev/${name}`,
    majMin: optStr(d.majMin) ?? '',
    type: optStr(d.type) ?? 'disk',
    parent: optStr(d.parent),
    sizeBytes: size,
    rotational: d.rotational === true,
    removable: d.removable === true,
    readOnly: d.readOnly === true,
    hidden: d.hidden === true,
    wwn: unescapeLsblk(optStr(d.wwn)),
    serial: unescapeLsblk(optStr(d.serial)),
    model: unescapeLsblk(optStr(d.model)),
    vendor: optStr(d.vendor),
    links: strList(d.links, `${where}.links`),
    partitions: reqList(d.partitions, `${where} (${name}).partitions`),
    holders: reqList(d.holders, `${where} (${name}).holders`),
    slaves: strList(d.slaves, `${where}.slaves`),
    mountpoints: reqList(d.mountpoints, `${where} (${name}).mountpoints`).map(unescapeMountinfo),
    swap: reqBool(d.swap, `${where} (${name}).swap`),
    signatures,
    probeError: optStr(d.probeError),
    // From probeVersion 2 on these must be present: a missing list is not an empty one.
    busy: current ? reqNullableBool(d.busy, `${where} (${name}).busy`) : null,
    remnants: current ? remnants(d.remnants, `${where} (${name}).remnants`) : [],
    backupPartitionTable: current
      ? backupTable(d.backupPartitionTable, `${where} (${name}).backupPartitionTable`)
      : null,
  }
  if ('backingFile' in d) dev.backingFile = optStr(d.backingFile)
  if ('dmName' in d) dev.dmName = optStr(d.dmName)
  if ('dmUuid' in d) dev.dmUuid = optStr(d.dmUuid)
  return dev
}

function remnants(v: unknown, where: string): Remnant[] {
  if (!Array.isArray(v)) throw new ProbeReportError(`${where} is missing or not a list`)
  return v.map((r, i) => {
    const o = obj(r, `${where}[${i}]`)
    return {type: str(o.type, `${where}[${i}].type`), offset: str(o.offset, `${where}[${i}].offset`)}
  })
}

function backupTable(v: unknown, where: string): BackupPartitionTable | null {
  if (v === null) return null
  if (v === undefined) throw new ProbeReportError(`${where} is missing`)
  const o = obj(v, where)
  return {offset: str(o.offset, `${where}.offset`), partitions: typeof o.partitions === 'number' ? o.partitions : 0}
}

function reqNullableBool(v: unknown, where: string): boolean | null {
  if (v === null || typeof v === 'boolean') return v
  throw new ProbeReportError(`${where} is not true, false or null`)
}

/** lsblk --raw writes blanks and odd bytes as \xNN. */
function unescapeLsblk(s: string | null): string | null {
  if (s === null) return null
  const v = s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))).trim()
  return v === '' ? null : v
}

/** /proc/PID/mountinfo writes space, tab, newline and backslash as octal escapes (\040). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProbeReportError(`${where} is not an object`)
  return v as Record<string, unknown>
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new ProbeReportError(`${where} is not a string`)
  return v
}

function optStr(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

/** Fields that prove a disk is unused must be present: absent is not the same as empty. */
function reqList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) throw new ProbeReportError(`${where} is missing`)
  return strList(v, where)
}

function reqBool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new ProbeReportError(`${where} is not true or false`)
  return v
}

function strList(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new ProbeReportError(`${where} is not a list of strings`)
  return v as string[]
}
