/**
 * Reads snapshot files: a `v1 List` (what `kubectl get ... -o json` prints), a single object,
 * multi-document YAML, or our own `pv-doctor/v1 Snapshot`. Pure: text in, objects out.
 */
import yaml from 'js-yaml'
import {NOT_IN_INPUT, RESOURCES, type Snapshot, type SnapshotKey, emptySnapshot} from './types.js'
import {UserError} from '../errors.js'
import {checkObject} from './checkObject.js'

export const SNAPSHOT_API_VERSION = 'pv-doctor/v1'

const KEY_BY_KIND = new Map<string, SnapshotKey>(RESOURCES.map((r) => [r.kind, r.key]))

type Obj = {apiVersion?: string; kind?: string; items?: unknown[]; [k: string]: unknown}

/** Which resources each snapshot's files actually held (our own format declares all of them). */
const declared = new WeakMap<Snapshot, Set<SnapshotKey>>()

function declare(s: Snapshot, key: SnapshotKey): void {
  const set = declared.get(s) ?? new Set<SnapshotKey>()
  set.add(key)
  declared.set(s, set)
}

/**
 * Kinds a kubectl dump often leaves out, and whose absence would otherwise read as "there are
 * none": without CSIDrivers a missing provisioner cannot be told from an unregistered one.
 */
const MAY_BE_LEFT_OUT: SnapshotKey[] = ['csiDrivers', 'csiStorageCapacities', 'events']

/**
 * Kinds only the after-binding checks need (a pod placed on a node, not started): without
 * VolumeAttachments a volume attached elsewhere cannot be told from one attached nowhere, without
 * CSINodes a driver missing on a node from one not dumped. Named only when such a pod is there.
 */
const AFTER_BIND_KINDS: SnapshotKey[] = ['csiNodes', 'volumeAttachments']

const hasPlacedPendingPod = (s: Snapshot) =>
  s.pods.some((p) => p.spec?.nodeName && (p.status?.phase ?? 'Pending') === 'Pending')

/** Marks the kinds that no input file held as skipped, so the answer says what it could not check. */
export function markMissingKinds(s: Snapshot): Snapshot {
  const have = declared.get(s) ?? new Set()
  const wanted = [...MAY_BE_LEFT_OUT, ...(hasPlacedPendingPod(s) ? AFTER_BIND_KINDS : [])]
  for (const r of RESOURCES) {
    if (wanted.includes(r.key) && !have.has(r.key) && !s.skipped.some((x) => x.resource === r.name))
      s.skipped.push({resource: r.name, reason: NOT_IN_INPUT})
  }
  return s
}

/** Parses one file's text and adds its objects to `into`. `source` names the file in errors. */
export function addSnapshotText(into: Snapshot, text: string, source: string): Snapshot {
  const docs = parseDocuments(text, source)
  for (const doc of docs) addDocument(into, doc, source)
  return into
}

export function parseSnapshot(text: string, source = 'input'): Snapshot {
  return addSnapshotText(emptySnapshot(), text, source)
}

function parseDocuments(text: string, source: string): Obj[] {
  const trimmed = text.trimStart()
  if (trimmed === '')
    throw new UserError(
      `${source} is empty; give a file written by \`kubectl get ... -o json\` or \`kubectl pv-doctor snapshot\``,
    )
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const v = JSON.parse(text) as unknown
      return Array.isArray(v) ? (v as Obj[]) : [v as Obj]
    } catch (error) {
      throw new UserError(
        `${source} is not valid JSON (${oneLine((error as Error).message)}); give a file written by \`kubectl get ... -o json\``,
      )
    }
  }
  try {
    return (yaml.loadAll(text) as unknown[]).filter((d) => d !== null && d !== undefined) as Obj[]
  } catch (error) {
    const reason = oneLine((error as Error).message)
    throw new UserError(
      `${source} is neither JSON nor valid YAML (${reason}); give a file written by \`kubectl get ... -o json\``,
    )
  }
}

/** Whether a document (or the members of one read so far) is our own Snapshot format. */
export function isSnapshotHeader(doc: Obj): boolean {
  return doc.apiVersion === SNAPSHOT_API_VERSION && doc.kind === 'Snapshot'
}

/** Adds one of our Snapshot's lists (`pvcs`, `pvs`, ...), each item checked. */
export function addSnapshotItems(into: Snapshot, key: SnapshotKey, items: unknown, source: string): void {
  const r = RESOURCES.find((x) => x.key === key)
  if (!r) return
  if (!Array.isArray(items))
    throw new UserError(`${source}: "${r.key}" is not a list; write the file again with \`kubectl pv-doctor snapshot\``)
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new UserError(
        `${source}: "${r.key}" holds something that is not an object; write the file again with \`kubectl pv-doctor snapshot\``,
      )
    checkObject(item as Obj, r.kind, source)
  }
  const list = into[r.key] as unknown[]
  for (const item of items) list.push(item) // not push(...items): past ~100k arguments the stack overflows
  declare(into, r.key)
}

/** Adds one parsed document (an object, a List, our Snapshot) to `into`. */
export function addDocument(into: Snapshot, doc: Obj, source: string, depth = 0): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UserError(
      `${source} does not hold Kubernetes objects; give a file written by \`kubectl get ... -o json\``,
    )
  }
  if (isSnapshotHeader(doc)) {
    for (const r of RESOURCES) {
      const items = doc[r.key]
      if (items === undefined || items === null) continue
      addSnapshotItems(into, r.key, items, source)
    }
    if (Array.isArray(doc.skipped))
      for (const s of doc.skipped)
        if (s && typeof s === 'object' && typeof s.resource === 'string' && typeof s.reason === 'string')
          into.skipped.push({resource: s.resource, reason: s.reason} as Snapshot['skipped'][number])
    if (typeof doc.allNamespaces === 'boolean') into.allNamespaces = doc.allNamespaces
    if (typeof doc.serverVersion === 'string') into.serverVersion = doc.serverVersion
    if (typeof doc.takenAt === 'string') into.takenAt = doc.takenAt
    return
  }
  if (Array.isArray(doc.items) || (typeof doc.kind === 'string' && doc.kind.endsWith('List'))) {
    if (doc.items !== undefined && doc.items !== null && !Array.isArray(doc.items))
      throw new UserError(
        `${source}: the List's "items" is not a list; give a file written by \`kubectl get ... -o json\``,
      )
    if (depth > 8)
      throw new UserError(`${source}: Lists nested too deeply; give a file written by \`kubectl get ... -o json\``)
    for (const item of doc.items ?? []) addDocument(into, item as Obj, source, depth + 1)
    return
  }
  if (typeof doc.kind !== 'string') {
    throw new UserError(`${source} holds an object without "kind"; give a file written by \`kubectl get ... -o json\``)
  }
  // events.k8s.io/v1 Events carry the same facts under other names; map them to core/v1 shape.
  if (doc.kind === 'Event' && typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('events.k8s.io')) {
    const event = fromEventsV1(doc)
    checkObject(event, 'Event', source)
    into.events.push(event as never)
    declare(into, 'events')
    return
  }
  const key = KEY_BY_KIND.get(doc.kind)
  if (key) {
    checkObject(doc, doc.kind, source)
    ;(into[key] as unknown[]).push(doc)
    declare(into, key)
  }
  // Other kinds (Namespaces, Deployments, ...) are ignored: a dump may hold anything.
}

function fromEventsV1(e: Obj): Obj {
  const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
  const regarding = isObj(e.regarding) ? e.regarding : undefined
  const series = (isObj(e.series) ? e.series : undefined) as {count?: number; lastObservedTime?: string} | undefined
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata,
    involvedObject: regarding,
    reason: e.reason,
    message: e.note,
    type: e.type,
    source: {component: e.reportingController},
    reportingComponent: e.reportingController,
    count: series?.count ?? e.deprecatedCount ?? 1,
    lastTimestamp: series?.lastObservedTime ?? e.deprecatedLastTimestamp ?? e.eventTime,
    firstTimestamp: e.deprecatedFirstTimestamp ?? e.eventTime,
    eventTime: e.eventTime,
  }
}

/** Our own file format: what `kubectl pv-doctor snapshot` writes. */
export function toSnapshotDocument(s: Snapshot): Record<string, unknown> {
  const doc: Record<string, unknown> = {apiVersion: SNAPSHOT_API_VERSION, kind: 'Snapshot'}
  for (const r of RESOURCES) doc[r.key] = s[r.key]
  doc.skipped = s.skipped
  if (s.allNamespaces !== undefined) doc.allNamespaces = s.allNamespaces
  if (s.serverVersion !== undefined) doc.serverVersion = s.serverVersion
  if (s.takenAt !== undefined) doc.takenAt = s.takenAt
  return doc
}

/** A parser's message on one line, clipped: some quote the offending text, newlines and all. */
function oneLine(s: string): string {
  const line = s.replace(/\s*\n\s*/g, ' ').trim()
  return line.length > 160 ? `${line.slice(0, 157)}...` : line
}
