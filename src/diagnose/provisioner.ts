/**
 * What happens when no PV fits and the class names a provisioner: pv_controller
 * findProvisionablePlugin (in-tree names, CSI migration) and the external provisioner's events.
 */
import type {CoreV1Event, V1PersistentVolumeClaim, V1StorageClass} from '@kubernetes/client-node'
import {NO_PROVISIONER} from '../binding/storageClass.js'
import {timeOf} from '../snapshot/time.js'
import {rulesFor, type VersionRules} from '../binding/kubeVersion.js'
import {eventMessage, eventSource, eventTime, latest, quoteEvent} from '../snapshot/events.js'
import type {Cause, ProvisioningFailureInfo} from './types.js'
import {fromProvisioner, provisionerLiveness} from './provisionerLiveness.js'
import {classifyFailure} from './provisioningFailure.js'
import {SELECTED_NODE} from '../binding/scheduling.js'
import type {World} from '../binding/world.js'

/** In-tree names that CSI migration hands to a CSI driver (csi-translation-lib). */
export const MIGRATED: Record<string, string> = {
  'kubernetes.io/aws-ebs': 'ebs.csi.aws.com',
  'kubernetes.io/gce-pd': 'pd.csi.storage.gke.io',
  'kubernetes.io/azure-disk': 'disk.csi.azure.com',
  'kubernetes.io/azure-file': 'file.csi.azure.com',
  'kubernetes.io/cinder': 'cinder.csi.openstack.org',
  'kubernetes.io/vsphere-volume': 'csi.vsphere.vmware.com',
  'kubernetes.io/portworx-volume': 'pxd.portworx.com',
}

const PV_CONTROLLER = 'persistentvolume-controller'

export type ProvisionKind =
  | {kind: 'none'}
  | {kind: 'unknown'; name: string}
  | {kind: 'external'; name: string}
  | {kind: 'inTree'; name: string}

/** pv_controller findProvisionablePlugin for the cluster's version (VersionRules.inTreeProvisioners). */
export function provisionerOf(sc: V1StorageClass, rules: VersionRules = rulesFor()): ProvisionKind {
  const p = sc.provisioner ?? ''
  if (p === '' || p === NO_PROVISIONER) return {kind: 'none'}
  if (rules.inTreeProvisioners.has(p)) return {kind: 'inTree', name: p}
  if (MIGRATED[p]) return {kind: 'external', name: MIGRATED[p]}
  if (p.startsWith('kubernetes.io/')) return {kind: 'unknown', name: p}
  return {kind: 'external', name: p}
}

export interface ProvisionState {
  cause: Extract<
    Cause,
    | 'ProvisioningFailed'
    | 'ProvisionerNotFound'
    | 'ProvisionerNotRunning'
    | 'ProvisionerNotResponding'
    | 'ProvisioningInProgress'
  >
  message: string
  evidence: string[]
  fix: string[]
  /** For ProvisioningFailed from an external provisioner: what the failure means and what happens next. */
  failure?: ProvisioningFailureInfo
}

/**
 * How long an external provisioner may stay silent before it counts as not answering. A running
 * external-provisioner reports on a claim it owns within seconds ("Provisioning", then
 * "ProvisioningSucceeded" or "ProvisioningFailed"); the PV controller repeats ExternalProvisioning
 * on every sync. Five minutes without a word from the provisioner is far past any start-up or
 * leader-election delay.
 */
export const NOT_ANSWERING_MS = 5 * 60_000

/**
 * How long the PV controller has been waiting for the provisioner, from what the snapshot itself
 * holds (offline dumps cannot show "no CSIDriver" nor "now"): from the claim's creation or the
 * first ExternalProvisioning event, whichever is earlier, to the last ExternalProvisioning event.
 */
export function waitedForProvisioner(
  pvc: V1PersistentVolumeClaim,
  events: readonly CoreV1Event[],
): {ms: number; from: string; to: string; start: number} | undefined {
  const waiting = events.filter((e) => e.reason === 'ExternalProvisioning')
  if (!waiting.length) return undefined
  const starts = waiting
    .map((e) => timeOf(e.firstTimestamp) || timeOf(e.eventTime as unknown as string) || eventTime(e))
    .filter((t) => t > 0)
  const created = timeOf(pvc.metadata?.creationTimestamp)
  if (created > 0) starts.push(created)
  const end = Math.max(...waiting.map(eventTime))
  if (!starts.length || end <= 0) return undefined
  const start = Math.min(...starts)
  const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z')
  return {ms: end - start, from: iso(start), to: iso(end), start}
}

const podsHint = (provisioner: string) =>
  `kubectl get pods -A | grep -i ${provisioner.split('.')[0]}; then the csi-provisioner container's log`

/** The state of dynamic provisioning by an external provisioner for one claim, with the scheduler's part. */
export function provisionState(
  pvc: V1PersistentVolumeClaim,
  sc: V1StorageClass,
  provisioner: string,
  w: World,
  inTree = false,
): ProvisionState {
  return withScheduling(provisionerState(pvc, sc, provisioner, w, inTree), pvc, w)
}

/** The scheduler's PreBind text when a provisioning failure sent the pod back (volumebinding binder.go checkBindings). */
const PREBIND_PROVISIONING = 'provisioning failed for PVC'

/**
 * WaitForFirstConsumer: the node the scheduler selected (volume.kubernetes.io/selected-node), and
 * pods the provisioner's failure sent back to scheduling: the scheduler's PreBind (binder.go
 * checkBindings) fails with `provisioning failed for PVC "<name>"` once the provisioner removed
 * the annotation (rescheduleProvisioning), and the pod's PodScheduled condition says so.
 */
function withScheduling(st: ProvisionState, pvc: V1PersistentVolumeClaim, w: World): ProvisionState {
  const selected = pvc.metadata?.annotations?.[SELECTED_NODE]
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const preBind = (w.podsByClaim.get(`${ns}/${name}`) ?? []).flatMap((p) => {
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False')
    return c?.message?.includes('running PreBind plugin') && c.message.includes(`"${name}"`)
      ? [{pod: p.metadata?.name ?? '', message: c.message}]
      : []
  })
  // Where the provisioner is missing or down, the node it would provision for is beside the point.
  if ((!selected && !preBind.length) || (st.cause !== 'ProvisioningFailed' && st.cause !== 'ProvisioningInProgress'))
    return st
  let message = st.message
  if (selected)
    message += ` The scheduler selected node ${selected} for the claim (volume.kubernetes.io/selected-node): the volume is to be created where that node can reach it.`
  const sentBack = preBind.filter((p) => p.message.includes(PREBIND_PROVISIONING))
  if (sentBack.length)
    message += ` Pod ${sentBack.map((p) => p.pod).join(', ')} went back to scheduling: the provisioner gave up on the selected node and removed the annotation, so the scheduler's PreBind failed and it picks a node again.`
  return {...st, message, evidence: [...st.evidence, ...preBind.map((p) => `pod ${p.pod}: ${p.message}`)]}
}

function provisionerState(
  pvc: V1PersistentVolumeClaim,
  sc: V1StorageClass,
  provisioner: string,
  w: World,
  inTree: boolean,
): ProvisionState {
  const ns = pvc.metadata?.namespace ?? 'default'
  const name = pvc.metadata?.name ?? ''
  const events = w.events.about('PersistentVolumeClaim', ns, name, pvc.metadata?.uid)
  // An in-tree plugin provisions inside the PV controller, so its failures come from there.
  const failure = latest(
    events,
    (e) => e.reason === 'ProvisioningFailed' && (inTree || eventSource(e) !== PV_CONTROLLER),
  )
  const success = latest(events, (e) => e.reason === 'ProvisioningSucceeded')
  const failed = failure && (!success || eventTime(success) < eventTime(failure)) ? failure : undefined
  const className = sc.metadata?.name ?? ''
  if (inTree) {
    if (failed)
      return {
        cause: 'ProvisioningFailed',
        message: `The in-tree plugin ${provisioner} tried to create a volume for this claim and failed: ${eventMessage(failed)}`,
        evidence: [quoteEvent(failed)],
        fix: [`Read the reason above; kube-controller-manager's log has the details for ${provisioner}.`],
      }
    return {
      cause: 'ProvisioningInProgress',
      message: `The in-tree plugin ${provisioner} (inside kube-controller-manager on Kubernetes ${w.rules.version.text}) is creating a volume for this claim; nothing has failed so far.`,
      evidence: [],
      fix: [`If this lasts, read kube-controller-manager's log for ${provisioner}.`],
    }
  }
  const driverKnown = !w.skipped.has('csidrivers')
  const hasDriver = w.csiDrivers.some((d) => d.metadata?.name === provisioner)
  const heard = events.some((e) => fromProvisioner(e, provisioner))
  const waiting = latest(events, (e) => e.reason === 'ExternalProvisioning')
  const evidence = waiting ? [quoteEvent(waiting)] : []
  const live = provisionerLiveness(provisioner, w.snapshot)
  if (driverKnown && !hasDriver && !heard && !w.skipped.has('events') && live.state === 'unknown' && !live.lastEvent) {
    return {
      cause: 'ProvisionerNotFound',
      message: `StorageClass "${className}" hands this claim to the provisioner "${provisioner}", but no CSIDriver of that name is registered and the provisioner has never answered: it is not installed, not running, or the name is misspelt.`,
      evidence,
      fix: [
        `Install or start the provisioner "${provisioner}" (kubectl get csidrivers lists the drivers that are registered).`,
        `If the name is a typo, recreate the class with the right provisioner (the field is immutable): kubectl get storageclass ${className} -o yaml > sc.yaml; edit provisioner; kubectl replace --force -f sc.yaml`,
      ],
    }
  }
  const waited = waitedForProvisioner(pvc, events)
  const silentTooLong = !heard && waited !== undefined && waited.ms > NOT_ANSWERING_MS
  // Activity on other claims since this one started waiting is a sign of life too.
  const activeSince = waited !== undefined && live.lastEvent > waited.start
  const minutes = waited ? Math.floor(waited.ms / 60_000) : 0
  if (live.state === 'down' || (live.state === 'unknown' && silentTooLong && !activeSince)) {
    const why =
      live.state === 'down'
        ? `its leader-election ${live.lease}, so no replica is leading and nothing is provisioned`
        : `the PersistentVolume controller has waited for it ${minutes} minutes (ExternalProvisioning events from ${waited!.from} to ${waited!.to}) and it has written no event since, about this claim or any other (${live.lease})`
    return {
      cause: 'ProvisionerNotRunning',
      message:
        `The provisioner "${provisioner}" of StorageClass "${className}" is not running: ${why}.` +
        (failed ? ` Its last word on this claim was a failure; it will not retry until it runs again.` : '') +
        (hasDriver ? ` (A CSIDriver "${provisioner}" is registered, but that says nothing about the controller.)` : ''),
      evidence: [...(live.state === 'down' ? [live.lease!] : []), ...(failed ? [quoteEvent(failed)] : []), ...evidence],
      fix: [
        `Start the provisioner's controller (the Deployment or StatefulSet with the csi-provisioner sidecar): ${podsHint(provisioner)}.`,
        'If it runs but cannot renew its Lease, check its API access (leases in coordination.k8s.io) and its log for "failed to renew lease".',
      ],
    }
  }
  if (failed) {
    const f = classifyFailure(eventMessage(failed), {
      selectedNode: pvc.metadata?.annotations?.[SELECTED_NODE],
      delayed: sc.volumeBindingMode === 'WaitForFirstConsumer',
      className,
    })
    return {
      cause: 'ProvisioningFailed',
      message: `The provisioner ${provisioner} tried to create a volume for this claim and failed: ${eventMessage(failed)} — ${f.meaning} (${f.reason}). ${f.retry}`,
      evidence: [quoteEvent(failed)],
      fix: [...f.fix, `Read the provisioner's log: ${podsHint(provisioner)}.`],
      failure: {reason: f.reason, ...(f.code ? {code: f.code} : {}), retry: f.retry},
    }
  }
  if (silentTooLong) {
    return {
      cause: 'ProvisionerNotResponding',
      message: `The provisioner "${provisioner}" is running (${live.state === 'alive' ? live.lease : 'it wrote events about other claims since'}), but in ${minutes} minutes (ExternalProvisioning events from ${waited!.from} to ${waited!.to}) it has not said a word about this claim: it does not take it (another provisioner name, a node-local deployment for another node, or a full work queue).`,
      evidence,
      fix: [
        `Check that the csi-provisioner serves the name "${provisioner}" (its driver's name must equal the class's provisioner) and read its log for this claim: ${podsHint(provisioner)}.`,
      ],
    }
  }
  const unknown = [!driverKnown && 'CSIDrivers', w.skipped.has('events') && 'events'].filter(Boolean)
  const picked = latest(events, (e) => e.reason === 'Provisioning' && fromProvisioner(e, provisioner))
  const state =
    live.state === 'alive'
      ? ` It is running (${live.lease}).`
      : live.lease
        ? ` Its liveness cannot be told from a Lease (${live.lease}).`
        : ''
  return {
    cause: 'ProvisioningInProgress',
    message: `Waiting for the provisioner "${provisioner}" to create a volume for this claim; nothing has failed so far${picked ? ' and it has picked the claim up (Provisioning event)' : ''}${unknown.length ? ` (without ${unknown.join(' and ')}, pv-doctor could not check that the provisioner exists)` : ''}.${state}`,
    evidence: picked ? [quoteEvent(picked), ...evidence] : evidence,
    fix: [
      `If this lasts more than a minute or two, check that the provisioner "${provisioner}" is running: ${podsHint(provisioner)}`,
    ],
  }
}
