import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import type {Diagnosis} from '../../src/diagnose/types.js'
import {renderDiagnosis} from '../../src/output/renderDiagnosis.js'

describe('renderDiagnosis', () => {
  it('keeps a quoted message that spans lines under its quote, and names the pod a claim was followed through', () => {
    const d: Diagnosis = {
      apiVersion: 'pv-doctor/v1',
      kind: 'Diagnosis',
      skipped: [],
      claims: [
        {
          namespace: 'app',
          name: 'data',
          phase: 'Bound',
          storageClass: 'nfs',
          request: '1Gi',
          cause: 'MountFailed',
          severity: 'error',
          message: 'The kubelet on n1 cannot mount PV pv1 for pod web (NFS).',
          evidence: ['Warning FailedMount: mount failed: exit status 32\nOutput: mount.nfs: access denied'],
          fix: [],
          wouldBind: null,
          ties: [],
          candidates: [],
          consumers: [],
          pod: 'web',
        },
      ],
    }
    const text = renderDiagnosis(d, new Chalk({level: 0}), {scopeLabel: 'in namespace app'})
    expect(text).toContain('app/data  Bound  (1Gi, class nfs, pod web)')
    expect(text).toContain(
      '    Warning FailedMount: mount failed: exit status 32\n      Output: mount.nfs: access denied\n',
    )
  })
})
