/** The cluster objects `disks` and `provision` look at: PVs, Nodes and one StorageClass. */
import type {V1Node, V1PersistentVolume, V1StorageClass} from '@kubernetes/client-node'
import type {KubeClient} from '../kube/client.js'
import {NODES, PVS, pathOf, STORAGE_CLASSES} from '../kube/paths.js'

export interface ClusterObjects {
  pvs: V1PersistentVolume[]
  nodes: Map<string, V1Node>
  storageClasses: V1StorageClass[]
}

export function fromLists(
  pvs: V1PersistentVolume[],
  nodes: V1Node[],
  storageClasses: V1StorageClass[],
): ClusterObjects {
  return {pvs, nodes: new Map(nodes.map((n) => [n.metadata?.name ?? '', n])), storageClasses}
}

export async function readClusterObjects(client: KubeClient): Promise<ClusterObjects> {
  const [pvs, nodes, storageClasses] = await Promise.all([
    client.list<V1PersistentVolume>(pathOf(PVS)),
    client.list<V1Node>(pathOf(NODES)),
    client.list<V1StorageClass>(pathOf(STORAGE_CLASSES)),
  ])
  return fromLists(pvs, nodes, storageClasses)
}
