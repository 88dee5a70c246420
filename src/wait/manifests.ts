/**
 * The claims a set of manifests creates once applied: PersistentVolumeClaims themselves, the
 * `volumeClaimTemplates` of StatefulSets (one claim `<template>-<sts>-<ordinal>` per replica, as
 * the StatefulSet controller names them: getPersistentVolumeClaimName in
 * pkg/controller/statefulset/stateful_set_utils.go), and generic ephemeral volumes of Pods
 * (`<pod>-<volume>`). Each claim remembers the file and line it comes from, for annotations.
 */
import yaml from 'js-yaml'
import {UserError} from '../errors.js'

export interface SourceRef {
  file: string
  line: number
}

export interface ExpectedClaim {
  /** undefined: the namespace the command runs in (as `kubectl apply` does). */
  namespace?: string
  name: string
  source: SourceRef
}

interface Doc {
  value: unknown
  /** 1-based line of the document's first line. */
  line: number
  lines: string[]
}

type Obj = {
  kind?: string
  metadata?: {name?: string; namespace?: string}
  spec?: Record<string, unknown>
  items?: Obj[]
}

/** Splits a YAML stream at `---` lines (JSON is one document), keeping where each starts. */
function documents(text: string, file: string): Doc[] {
  const all = text.split(/\r?\n/)
  const docs: Doc[] = []
  let start = 0
  const flush = (end: number) => {
    const lines = all.slice(start, end)
    if (lines.some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) {
      let value: unknown
      try {
        value = yaml.load(lines.join('\n'))
      } catch (error) {
        const at = (error as {mark?: {line?: number}}).mark?.line
        throw new UserError(
          `cannot read ${file}${at === undefined ? '' : ` line ${start + at + 1}`}: not valid YAML or JSON (${(error as Error).message.split('\n')[0]}); pass the manifests \`kubectl apply -f\` takes`,
        )
      }
      docs.push({value, line: start + 1, lines})
    }
  }
  for (let i = 0; i < all.length; i++) {
    if (/^---(\s|$)/.test(all[i])) {
      flush(i)
      start = i + 1
    }
  }
  flush(all.length)
  return docs
}

/** The line where `name: <name>` (YAML) or `"name": "<name>"` (JSON) appears, at or after `from`. */
function lineOfName(doc: Doc, name: string, from = 0): number {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = new RegExp(`(^|[\\s{,-])"?name"?\\s*:\\s*["']?${esc}["']?\\s*(,|}|$|#)`)
  for (let i = from; i < doc.lines.length; i++) if (re.test(doc.lines[i])) return i
  return -1
}

export function claimsFromManifests(files: {file: string; text: string}[]): ExpectedClaim[] {
  const out: ExpectedClaim[] = []
  for (const {file, text} of files) {
    for (const doc of documents(text, file)) {
      const objs = flatten(doc.value as Obj)
      for (const o of objs) claimsOf(o, doc, file, out)
    }
  }
  return out
}

function flatten(o: Obj | null | undefined): Obj[] {
  if (!o || typeof o !== 'object') return []
  if (Array.isArray(o)) return o.flatMap(flatten)
  if (o.kind?.endsWith('List') && Array.isArray(o.items)) return o.items.flatMap(flatten)
  return [o]
}

function claimsOf(o: Obj, doc: Doc, file: string, out: ExpectedClaim[]): void {
  const name = o.metadata?.name
  if (!name) return
  const ns = o.metadata?.namespace
  const objLine = Math.max(0, lineOfName(doc, name))
  const at = (i: number): SourceRef => ({file, line: doc.line + (i < 0 ? objLine : i)})
  if (o.kind === 'PersistentVolumeClaim') {
    out.push({namespace: ns, name, source: at(objLine)})
  } else if (o.kind === 'StatefulSet') {
    const spec = o.spec ?? {}
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
    const startOrdinal = (spec.ordinals as {start?: number} | undefined)?.start ?? 0
    const templates = (spec.volumeClaimTemplates as Obj[] | undefined) ?? []
    for (const t of templates) {
      const tname = t.metadata?.name
      if (!tname) continue
      const line = lineOfName(doc, tname, objLine)
      for (let i = startOrdinal; i < startOrdinal + replicas; i++)
        out.push({namespace: ns, name: `${tname}-${name}-${i}`, source: at(line)})
    }
  } else if (o.kind === 'Pod') {
    const volumes = (o.spec?.volumes as {name?: string; ephemeral?: unknown}[] | undefined) ?? []
    for (const v of volumes) {
      if (!v.ephemeral || !v.name) continue
      out.push({namespace: ns, name: `${name}-${v.name}`, source: at(lineOfName(doc, v.name, objLine))})
    }
  }
}
