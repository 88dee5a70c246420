/**
 * Carries out a bind plan: sends each planned merge patch (guarded by the resourceVersion the plan
 * read, so a PV that changed meanwhile is answered 409 and left alone), records what the API server
 * answered on the Binding, and with --wait polls until the claims are Bound. The only part of bind/
 * that talks to the cluster, through the client the command hands it.
 */
import type {V1PersistentVolume, V1PersistentVolumeClaim} from '@kubernetes/client-node'
import type {KubeClient} from '../kube/client.js'
import {KubeError} from '../kube/errors.js'
import {PVCS, PVS, pathOf} from '../kube/paths.js'
import type {Snapshot} from '../snapshot/types.js'
import {type Binding, describeChange, type MergePatch, type ServerAnswer} from './plan.js'

/** The one call these writes need from the API client. */
export type Requester = Pick<KubeClient, 'request'>

/** The field manager these writes record in managedFields. */
const FIELD_MANAGER = 'kubectl-pv-doctor'

/** Sends the planned patches of one binding (PV first, then the claim), recording what the server answered. */
export async function applyBinding(client: Requester, b: Binding, dryRun: boolean, snapshot: Snapshot): Promise<void> {
  const query = {dryRun: dryRun ? 'All' : undefined, fieldManager: FIELD_MANAGER}
  const [namespace, name] = b.claim.split('/')
  if (b.patch) {
    const planned = snapshot.pvs.find((p) => p.metadata?.name === b.volume)
    const path = pathOf(PVS, {name: b.volume!})
    const answer = await patch(client, path, b.patch, query, planned, `persistentvolume/${b.volume}`, dryRun)
    b.server.push(answer)
    if (!answer.ok) return
    b.applied = !dryRun
  }
  if (b.claimPatch) {
    const planned = snapshot.pvcs.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name)
    const path = pathOf(PVCS, {namespace, name})
    const answer = await patch(client, path, b.claimPatch, query, planned, `persistentvolumeclaim/${name}`, dryRun)
    b.server.push(answer)
    if (answer.ok && !b.patch) b.applied = !dryRun
  }
}

async function patch(
  client: Requester,
  path: string,
  body: MergePatch,
  query: Record<string, string | undefined>,
  planned: V1PersistentVolume | V1PersistentVolumeClaim | undefined,
  object: string,
  dryRun: boolean,
): Promise<ServerAnswer> {
  try {
    // A merge patch: the client's default (application/json) would be refused, and a JSON Patch means something else.
    await client.request('PATCH', path, {body, contentType: 'application/merge-patch+json', query})
    return {object, dryRun, ok: true}
  } catch (error) {
    if (!(error instanceof KubeError) || error.status.code === 0) throw error
    const {code, reason, message} = error.status
    const answer: ServerAnswer = {object, dryRun, ok: false, code, reason, message}
    if (code === 409 && planned) {
      try {
        answer.changes = describeChange(planned, await client.request('GET', path))
      } catch (e) {
        answer.changes = [`could not read it back: ${(e as Error).message}`]
      }
    }
    return answer
  }
}

/**
 * --wait: polls (GET every second) until every written claim is Bound or the time is up, setting
 * `bound` on each. Returns the claims that are still not Bound.
 */
export async function waitBound(client: Requester, bindings: Binding[], timeoutMs: number): Promise<Binding[]> {
  const waiting = bindings.filter((b) => b.applied || (b.status === 'nothingToDo' && b.volume && b.cause !== 'Bound'))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    for (const b of waiting) {
      if (b.bound) continue
      const [namespace, name] = b.claim.split('/')
      const pvc = await client.request<{status?: {phase?: string}}>('GET', pathOf(PVCS, {namespace, name}))
      if (pvc.status?.phase === 'Bound') b.bound = true
    }
    if (waiting.every((b) => b.bound)) return []
    if (Date.now() >= deadline) break
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))))
  }
  const late = waiting.filter((b) => !b.bound)
  for (const b of late) b.bound = false
  return late
}
