/**
 * Trims an object read from a big snapshot file to what the engine reads, so a 20,000-node dump
 * fits in memory: server bookkeeping (managedFields, kubectl's last-applied copy), a pod's
 * containers (the engine reads its volumes, placement and statuses, never its containers) and a
 * node's inventory (images, addresses, system info). Real clusters' dumps are mostly these.
 * A test checks that explain's output is byte-for-byte the same with and without trimming.
 */
type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

const POD_SPEC_DROP = new Set(['containers', 'initContainers', 'ephemeralContainers'])
const POD_STATUS_DROP = new Set(['podIP', 'podIPs', 'hostIP', 'hostIPs', 'startTime'])
const NODE_SPEC_DROP = new Set(['podCIDR', 'podCIDRs', 'providerID'])
const NODE_STATUS_DROP = new Set(['images', 'nodeInfo', 'addresses', 'daemonEndpoints', 'config'])
const META_DROP = new Set(['managedFields'])

/** A copy without `drop`'s keys (a copy, not `delete`: deleting turns V8 objects into slower, bigger dictionaries). */
function without(o: Obj, drop: Set<string>): Obj {
  let hit = false
  for (const k in o) if (drop.has(k)) hit = true
  if (!hit) return o
  const out: Obj = {}
  for (const k in o) if (!drop.has(k)) out[k] = o[k]
  return out
}

function trimMeta(m: unknown): unknown {
  if (!isObj(m)) return m
  let out = without(m, META_DROP)
  const a = out.annotations
  if (isObj(a) && LAST_APPLIED in a) out = {...out, annotations: without(a, new Set([LAST_APPLIED]))}
  return out
}

function trimField(o: Obj, key: string, drop: Set<string>): Obj {
  const v = o[key]
  if (!isObj(v)) return o
  const t = without(v, drop)
  return t === v ? o : {...o, [key]: t}
}

/** The object as the engine needs it; anything else (not an object, other kinds) as it came. */
export function projectItem(v: unknown): unknown {
  if (!isObj(v)) return v
  let o = v
  if (Array.isArray(o.items)) return {...o, items: o.items.map(projectItem)} // a List inside an array
  const meta = trimMeta(o.metadata)
  if (meta !== o.metadata) o = {...o, metadata: meta}
  if (o.kind === 'Pod') {
    o = trimField(o, 'spec', POD_SPEC_DROP)
    o = trimField(o, 'status', POD_STATUS_DROP)
  } else if (o.kind === 'Node') {
    o = trimField(o, 'spec', NODE_SPEC_DROP)
    o = trimField(o, 'status', NODE_STATUS_DROP)
  }
  return o
}
