/**
 * The node affinity the scheduler checks for an in-tree PV migrated to CSI (volumebinding
 * tryTranslatePVToCSI → csi-translation-lib translateTopologyFromInTreeToCSI): only on a node
 * whose CSINode lists the plugin as migrated; the zone key becomes the CSI driver's topology key,
 * and a PV with no zone affinity gets one from its zone label (zones joined by "__").
 */
import type {V1CSINode, V1NodeSelectorTerm, V1PersistentVolume} from '@kubernetes/client-node'

export const MIGRATED_PLUGINS_ANNOTATION = 'storage.alpha.kubernetes.io/migrated-plugins'
const ZONE_GA = 'topology.kubernetes.io/zone'
const ZONE_BETA = 'failure-domain.beta.kubernetes.io/zone'
const REGION_GA = 'topology.kubernetes.io/region'
const REGION_BETA = 'failure-domain.beta.kubernetes.io/region'

/** In-tree plugins whose translation rewrites topology: the PV source field, plugin name, CSI topology key. */
const TOPOLOGY_PLUGINS: {
  source: 'gcePersistentDisk' | 'awsElasticBlockStore' | 'cinder'
  plugin: string
  key: string
}[] = [
  {source: 'gcePersistentDisk', plugin: 'kubernetes.io/gce-pd', key: 'topology.gke.io/zone'},
  {source: 'awsElasticBlockStore', plugin: 'kubernetes.io/aws-ebs', key: 'topology.ebs.csi.aws.com/zone'},
  {source: 'cinder', plugin: 'kubernetes.io/cinder', key: 'topology.cinder.csi.openstack.org/zone'},
]

function terms(pv: V1PersistentVolume): V1NodeSelectorTerm[] {
  return pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []
}

function hasKey(pv: V1PersistentVolume, key: string): boolean {
  return terms(pv).some((t) => (t.matchExpressions ?? []).some((e) => e.key === key))
}

/** getTopologyLabel: the zone/region label pair the PV uses, affinity first, then labels. */
function topologyLabels(pv: V1PersistentVolume): [string, string] {
  if (hasKey(pv, ZONE_GA)) return [ZONE_GA, REGION_GA]
  if (hasKey(pv, ZONE_BETA)) return [ZONE_BETA, REGION_BETA]
  const labels = pv.metadata?.labels ?? {}
  if (ZONE_GA in labels) return [ZONE_GA, REGION_GA]
  if (ZONE_BETA in labels) return [ZONE_BETA, REGION_BETA]
  return [ZONE_GA, REGION_GA]
}

function rename(pv: V1PersistentVolume, from: string, to: string): V1NodeSelectorTerm[] {
  return terms(pv).map((t) => ({
    ...t,
    matchExpressions: (t.matchExpressions ?? []).map((e) => (e.key === from ? {...e, key: to} : e)),
  }))
}

/** The PV as the scheduler sees it on a node with this CSINode (unchanged when not migrated there). */
export function schedulerViewOfPV(pv: V1PersistentVolume, csiNode: V1CSINode | undefined): V1PersistentVolume {
  const spec = pv.spec as Record<string, unknown> | undefined
  const plugin = TOPOLOGY_PLUGINS.find((p) => spec?.[p.source])
  if (!plugin) return pv
  const migrated = (csiNode?.metadata?.annotations?.[MIGRATED_PLUGINS_ANNOTATION] ?? '').split(',')
  if (!migrated.includes(plugin.plugin)) return pv
  const [zone, region] = topologyLabels(pv)
  let next: V1NodeSelectorTerm[]
  if (hasKey(pv, zone)) next = rename(pv, zone, plugin.key)
  else {
    const label = pv.metadata?.labels?.[zone]
    const zones = [
      ...new Set(
        (label ?? '')
          .split('__')
          .map((z) => z.trim())
          .filter(Boolean),
      ),
    ].sort()
    if (!zones.length) return pv
    const base = terms(pv).length ? terms(pv) : [{matchExpressions: []}]
    next = base.map((t) => ({
      ...t,
      matchExpressions: [...(t.matchExpressions ?? []), {key: plugin.key, operator: 'In', values: zones}],
    }))
  }
  let out: V1PersistentVolume = {...pv, spec: {...pv.spec, nodeAffinity: {required: {nodeSelectorTerms: next}}}}
  if (region === REGION_BETA && hasKey(out, REGION_BETA))
    out = {
      ...out,
      spec: {...out.spec, nodeAffinity: {required: {nodeSelectorTerms: rename(out, REGION_BETA, REGION_GA)}}},
    }
  return out
}
