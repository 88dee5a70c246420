/**
 * The ten cluster states of the advice review (issue "advice that is right as well as the
 * verdict"), as plain objects: each is one claim `app/data` in a small cluster.
 */
import type {Snapshot} from '../../src/snapshot/types.js'
import {node, pod, pv, pvc, sc, snap} from '../helpers/objects.js'

const zoneNodes = [node('node-a1', {zone: 'a'}), node('node-a2', {zone: 'a'}), node('node-b1', {zone: 'b'})]
const local = sc('local-nvme', {mode: 'WaitForFirstConsumer'})

export const TEN_STATES: Record<string, Snapshot> = {
  'missing-class': snap({
    pvcs: [pvc('data', {cls: 'fast-sdd', size: '10Gi'})],
    storageClasses: [
      sc('fast-ssd', {provisioner: 'ebs.csi.aws.com'}),
      sc('standard', {provisioner: 'ebs.csi.aws.com'}),
    ],
  }),
  'no-class-no-default': snap({
    pvcs: [pvc('data', {cls: null, size: '10Gi'})],
    storageClasses: [sc('local-path', {provisioner: 'rancher.io/local-path', mode: 'WaitForFirstConsumer'})],
    pvs: [pv('pv-manual', {size: '50Gi', cls: 'manual'})],
  }),
  'too-small-or-wrong-mode': snap({
    pvcs: [pvc('data', {size: '20Gi'})],
    storageClasses: [sc('manual')],
    pvs: [
      pv('pv-small', {size: '10Gi'}),
      pv('pv-shared', {size: '50Gi', modes: ['ReadWriteMany']}),
      pv('pv-other-class', {size: '100Gi', cls: 'slow'}),
    ],
  }),
  'block-vs-filesystem': snap({
    pvcs: [pvc('data', {size: '10Gi', volumeMode: 'Block'})],
    storageClasses: [sc('manual')],
    pvs: [pv('pv-fs', {size: '20Gi'})],
  }),
  'wffc-without-pod': snap({
    pvcs: [pvc('data', {cls: 'local-nvme', size: '100Gi'})],
    storageClasses: [local],
    nodes: zoneNodes,
    pvs: [pv('local-a1', {size: '200Gi', cls: 'local-nvme', hosts: ['node-a1']})],
  }),
  'pvs-only-in-other-zone': snap({
    pvcs: [pvc('data', {cls: 'local-nvme', size: '100Gi'})],
    storageClasses: [local],
    nodes: zoneNodes,
    pods: [pod('db-0', ['data'], {nodeSelector: {'topology.kubernetes.io/zone': 'a'}})],
    pvs: [
      pv('local-b1', {size: '200Gi', cls: 'local-nvme', hosts: ['node-b1']}),
      pv('local-a1-used', {
        size: '200Gi',
        cls: 'local-nvme',
        hosts: ['node-a1'],
        claimRef: {namespace: 'app', name: 'other', uid: 'uid-other'},
      }),
    ],
  }),
  'provisioner-not-installed': snap({
    pvcs: [pvc('data', {cls: 'standard', size: '10Gi'})],
    storageClasses: [sc('standard', {provisioner: 'ebs.csi.aws.com'})],
  }),
  'volume-name-bound-elsewhere': snap({
    pvcs: [
      pvc('data', {volumeName: 'pv-taken', size: '10Gi'}),
      pvc('other', {volumeName: 'pv-taken', size: '10Gi', phase: 'Bound'}),
    ],
    storageClasses: [sc('manual')],
    pvs: [
      pv('pv-taken', {size: '10Gi', claimRef: {namespace: 'app', name: 'other', uid: 'uid-other'}}),
      pv('pv-free', {size: '10Gi'}),
    ],
  }),
  'released-pv-of-recreated-claim': snap({
    pvcs: [pvc('data', {size: '20Gi'})],
    storageClasses: [sc('manual')],
    pvs: [
      pv('pv-old-data', {
        size: '20Gi',
        phase: 'Released',
        claimRef: {namespace: 'app', name: 'data', uid: 'uid-of-the-deleted-claim'},
      }),
      pv('pv-small', {size: '5Gi'}),
      pv('pv-other', {size: '50Gi', phase: 'Bound', claimRef: {namespace: 'app', name: 'x', uid: 'uid-x'}}),
    ],
  }),
  healthy: snap({
    pvcs: [
      pvc('data', {
        size: '10Gi',
        volumeName: 'pv-1',
        phase: 'Bound',
        annotations: {'pv.kubernetes.io/bind-completed': 'yes'},
      }),
    ],
    storageClasses: [sc('manual')],
    pvs: [pv('pv-1', {size: '10Gi', claimRef: {namespace: 'app', name: 'data', uid: 'uid-data'}})],
  }),
}
