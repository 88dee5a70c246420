/**
 * Trims an object read from a big snapshot file to what the engine reads, so a 20,000-node dump
 * fits in memory: server bookkeeping (managedFields, kubectl's last-applied copy), a pod's
 * containers and kubelet/DNS/priority settings (the engine reads its volumes, placement, security
 * context and statuses), conditions no check reads, and a node's inventory (images, addresses,
 * system info, capacity). Real clusters' dumps are mostly these. Strings that repeat across
 * objects are kept once (`StringPool`). A field on a drop list must be read by nothing in src/;
 * a test checks that explain's output is byte-for-byte the same with and without trimming.
 */
type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

const POD_SPEC_DROP = new Set([
  'containers',
  'initContainers',
  'ephemeralContainers',
  // The kubelet's and DNS's settings, and the scheduler's priority: no check of ours reads them.
  'dnsPolicy',
  'dnsConfig',
  'enableServiceLinks',
  'preemptionPolicy',
  'priority',
  'priorityClassName',
  'restartPolicy',
  'schedulerName',
  'automountServiceAccountToken',
  'serviceAccountName',
  'serviceAccount',
])
const POD_STATUS_DROP = new Set(['podIP', 'podIPs', 'hostIP', 'hostIPs', 'startTime', 'qosClass'])
const NODE_SPEC_DROP = new Set(['podCIDR', 'podCIDRs', 'providerID'])
// Capacity and allocatable too: attach limits come from CSINode, and no resource fit is modelled.
const NODE_STATUS_DROP = new Set([
  'images',
  'nodeInfo',
  'addresses',
  'daemonEndpoints',
  'config',
  'capacity',
  'allocatable',
])
const META_DROP = new Set(['managedFields'])
// A pod's or node's resourceVersion guards no write of ours (bind's patches guard PVs and claims).
const POD_META_DROP = new Set(['managedFields', 'generateName', 'resourceVersion'])
const NODE_META_DROP = new Set(['managedFields', 'resourceVersion'])
const PV_STATUS_DROP = new Set(['lastPhaseTransitionTime'])
/** The only conditions read: a pod's PodScheduled (the scheduler's message), a node's Ready. */
const POD_CONDITIONS = new Set(['PodScheduled'])
const NODE_CONDITIONS = new Set(['Ready'])
/** Container statuses are read for their state only (terminated, waiting and its reason). */
const STATUS_LISTS = ['initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses']

/** A copy without `drop`'s keys (a copy, not `delete`: deleting turns V8 objects into slower, bigger dictionaries). */
function without(o: Obj, drop: Set<string>): Obj {
  let hit = false
  for (const k in o) if (drop.has(k)) hit = true
  if (!hit) return o
  const out: Obj = {}
  for (const k in o) if (!drop.has(k)) out[k] = o[k]
  return out
}

function trimMeta(m: unknown, drop: Set<string>): unknown {
  if (!isObj(m)) return m
  let out = without(m, drop)
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

/**
 * Fields whose values repeat across objects (a kind, a class, an access mode, a finalizer, a
 * condition's words, a taint's key, a label's value): JSON.parse makes a new string for each
 * occurrence longer than 10 characters, so at 200,000 objects the copies take hundreds of MB.
 * One copy is kept per distinct value (`pool`). Names, uids and times are left alone: mostly
 * distinct, they would only grow the pool.
 */
const SHARED_KEYS = new Set([
  'kind',
  'apiVersion',
  'namespace',
  'finalizers',
  'accessModes',
  'storageClassName',
  'volumeMode',
  'phase',
  'driver',
  'fsType',
  'persistentVolumeReclaimPolicy',
  'type',
  'status',
  'reason',
  'message',
  'key',
  'operator',
  'effect',
  'values',
  'component',
  'reportingComponent',
  'reportingInstance',
  'host',
  'fieldPath',
])
/** Maps whose every value is shared the same way. */
const SHARED_MAPS = new Set(['labels', 'annotations', 'nodeSelector', 'matchLabels'])

/** One string per distinct value, for the objects of one read. */
export type StringPool = Map<string, string>

function shared(s: string, pool: StringPool): string {
  if (s.length <= 10) return s // V8 already keeps one copy of short strings read by JSON.parse
  const had = pool.get(s)
  if (had !== undefined) return had
  pool.set(s, s)
  return s
}

/** Replaces repeated strings in `o` (in place: `o` is a fresh object from JSON.parse). */
function share(o: Obj | unknown[], pool: StringPool, all: boolean): void {
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const x = o[i]
      if (typeof x === 'string') {
        if (all) o[i] = shared(x, pool)
      } else if (typeof x === 'object' && x !== null) share(x as Obj, pool, false)
    }
    return
  }
  for (const k in o) {
    const x = o[k]
    if (typeof x === 'string') {
      if (all || SHARED_KEYS.has(k)) o[k] = shared(x, pool)
    } else if (typeof x === 'object' && x !== null)
      share(x as Obj, pool, SHARED_MAPS.has(k) || (Array.isArray(x) && SHARED_KEYS.has(k)))
  }
}

/** The object as the engine needs it; anything else (not an object, other kinds) as it came. */
export function projectItem(v: unknown, pool?: StringPool): unknown {
  if (!isObj(v)) return v
  if (Array.isArray(v.items)) return {...v, items: v.items.map((x) => projectItem(x, pool))} // a List inside an array
  const o = trim(v)
  if (pool) share(o, pool, false)
  return o
}

function trim(v: Obj): Obj {
  let o = v
  const meta = trimMeta(o.metadata, o.kind === 'Pod' ? POD_META_DROP : o.kind === 'Node' ? NODE_META_DROP : META_DROP)
  if (meta !== o.metadata) o = {...o, metadata: meta}
  if (o.kind === 'Pod') {
    o = trimField(o, 'spec', POD_SPEC_DROP)
    o = trimField(o, 'status', POD_STATUS_DROP)
    o = trimStatus(o, POD_CONDITIONS, true)
  } else if (o.kind === 'Node') {
    o = trimField(o, 'spec', NODE_SPEC_DROP)
    o = trimField(o, 'status', NODE_STATUS_DROP)
    o = trimStatus(o, NODE_CONDITIONS, false)
  } else if (o.kind === 'PersistentVolume') o = trimField(o, 'status', PV_STATUS_DROP)
  return o
}

/** status.conditions down to the types read; a pod's container statuses down to their state. */
function trimStatus(o: Obj, types: Set<string>, containers: boolean): Obj {
  const st = o.status
  if (!isObj(st)) return o
  let out = st
  const conds = st.conditions
  // Anything but a condition object stays, so a damaged one is still reported by the check.
  const kept = (c: unknown) => !isObj(c) || types.has(c.type as string)
  if (Array.isArray(conds) && !conds.every(kept)) out = {...out, conditions: conds.filter(kept)}
  if (containers)
    for (const key of STATUS_LISTS) {
      const list = st[key]
      if (
        Array.isArray(list) &&
        list.some((c) => isObj(c) && Object.keys(c).some((k) => k !== 'name' && k !== 'state'))
      )
        out = {
          ...out,
          [key]: list.map((c) =>
            isObj(c) ? without(c, new Set(Object.keys(c).filter((k) => k !== 'name' && k !== 'state'))) : c,
          ),
        }
    }
  return out === st ? o : {...o, status: out}
}
