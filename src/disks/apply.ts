/**
 * Carries out a provision plan: re-checks the planned disks right before writing, then creates the
 * StorageClass and the PVs through the client the command hands it.
 */
import type {V1PersistentVolume, V1StorageClass} from '@kubernetes/client-node'
import type {KubeClient} from '../kube/client.js'
import {describeError} from '../kube/errors.js'
import {PVS, pathOf, STORAGE_CLASSES} from '../kube/paths.js'
import {type PlanItem, type ProvisionPlan, recheckPlan} from './planProvision.js'
import type {NodeDisks} from './types.js'

export type Manifest = V1PersistentVolume | V1StorageClass

/** The one call these writes need from the API client. */
type Requester = Pick<KubeClient, 'request'>

/** What to create for these items: the StorageClass first when it is missing, then their PVs. */
export function manifestsFor(plan: ProvisionPlan, items: readonly PlanItem[]): Manifest[] {
  return [
    ...(plan.storageClass.action === 'create' ? [plan.storageClass.manifest] : []),
    ...items.map((i) => i.manifest!),
  ]
}

/**
 * The disks may have changed since they were probed (or since the report was saved): probes the
 * nodes of the planned PVs again (`probeAgain`) and keeps the items whose disk is unchanged. The
 * warnings say why each other item is refused.
 */
export async function recheck(
  items: readonly PlanItem[],
  probeAgain: (nodes: string[]) => Promise<NodeDisks[]>,
  fromReport: boolean,
): Promise<{ok: PlanItem[]; refused: number; warnings: string[]}> {
  const fresh = await probeAgain([...new Set(items.map((i) => i.node))])
  const checked = recheckPlan(items, new Map(fresh.map((n) => [n.name, n])))
  const warnings = checked.refused.map((r) => `refusing ${r.item.pvName}: ${r.why}`)
  if (fromReport && checked.refused.some((r) => r.why.startsWith('could not probe')))
    warnings.push(
      'saved reports are checked against a fresh probe; where probe pods cannot run, check the disks by hand and pass --no-recheck',
    )
  return {ok: checked.ok, refused: checked.refused.length, warnings}
}

/**
 * Creates the manifests (with dryRun=All when asked): the class first, since a claim made meanwhile
 * needs it (PVs do not), then the PVs in parallel. Returns what the server made, sorted class first
 * then by name, and one line per failure; a failed class stops before any PV.
 */
export async function createAll(
  client: Requester,
  manifests: readonly Manifest[],
  dryRun: boolean,
): Promise<{created: Manifest[]; failed: string[]}> {
  const created: Manifest[] = []
  const failed: string[] = []
  const query = dryRun ? {dryRun: 'All'} : undefined
  for (const m of manifests.filter((x) => x.kind === 'StorageClass')) {
    try {
      created.push(await client.request<V1StorageClass>('POST', pathOf(STORAGE_CLASSES), {body: m, query}))
    } catch (error) {
      failed.push(`cannot create StorageClass ${m.metadata?.name}: ${describeError(error)}`)
      return {created, failed}
    }
  }
  await Promise.all(
    manifests
      .filter((x) => x.kind === 'PersistentVolume')
      .map(async (m) => {
        try {
          created.push(await client.request<V1PersistentVolume>('POST', pathOf(PVS), {body: m, query}))
        } catch (error) {
          failed.push(`cannot create PersistentVolume ${m.metadata?.name}: ${describeError(error)}`)
        }
      }),
  )
  created.sort((a, b) =>
    a.kind === b.kind
      ? (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')
      : a.kind === 'StorageClass'
        ? -1
        : 1,
  )
  return {created, failed}
}
