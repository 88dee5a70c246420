// vitest globalSetup for the e2e suite.
//
// * PV_DOCTOR_E2E_KUBECONFIG=/path/to/kubeconfig: use that existing cluster (kind,
//   minikube, a real one); nothing is started, `cluster` is provided with
//   external: true and no fake nodes.
// * otherwise: build the binaries if needed (test/cluster/build.sh), start a
//   control plane with the default fake nodes, the CSI layer and (when this
//   machine can: root, cgroups, the node builds) this machine as a real node;
//   stop it in teardown and check that nothing is left on the host (processes,
//   mounts, the bridge, cgroups, loop devices of the tests): the result goes to
//   .reports/leftovers.json, and leftovers fail the run.
//
// Tests read the values with `inject('kubeconfig')`, `inject('fakeNodes')`,
// `inject('cluster')`. KUBECONFIG is also set in this process' environment
// (forked workers inherit it).

import * as fs from 'node:fs'
import * as path from 'node:path'
import type {TestProject} from 'vitest/node'
import {startCluster, type ClusterCSI} from './cluster.js'
import {detachTestLoopDevices, hostLeftovers} from './leftovers.js'

export interface ProvidedCluster {
  kubeconfig: string
  /** API server URL ('' for an external cluster) */
  server: string
  /** harness work dir ('' for an external cluster) */
  workDir: string
  /** harness bin dir ('' for an external cluster) */
  binDir: string
  /** true when PV_DOCTOR_E2E_KUBECONFIG points at an existing cluster */
  external: boolean
  /** the real node's name ('' when there is none) */
  realNode: string
  /** why there is no real node (for the skip message) */
  realNodeSkipped: string
  /** the harness CSI driver (null on an external cluster) */
  csi: ClusterCSI | null
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string
    fakeNodes: string[]
    cluster: ProvidedCluster
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.PV_DOCTOR_E2E_KUBECONFIG
  if (external) {
    const kubeconfig = path.resolve(external)
    process.env.KUBECONFIG = kubeconfig
    project.provide('kubeconfig', kubeconfig)
    project.provide('fakeNodes', [])
    const why = 'an external cluster (PV_DOCTOR_E2E_KUBECONFIG): the real node and the CSI driver are harness-only'
    project.provide('cluster', {
      kubeconfig,
      server: '',
      workDir: '',
      binDir: '',
      external: true,
      realNode: '',
      realNodeSkipped: why,
      csi: null,
    })
    return undefined
  }
  const c = await startCluster({realNode: true})
  // Holding the real node's lock, no other suite here uses test loop devices: a crashed run's go now.
  if (c.realNode) detachTestLoopDevices((m) => process.stderr.write(`[pv-doctor e2e] ${m}\n`))
  process.stderr.write(
    `[pv-doctor e2e] cluster up in ${c.timings.total} ms at ${c.server} (${c.workDir}) ${JSON.stringify(c.timings)}\n`,
  )
  for (const l of c.describe()) process.stderr.write(`[pv-doctor e2e]   ${l}\n`)
  process.env.KUBECONFIG = c.kubeconfig
  project.provide('kubeconfig', c.kubeconfig)
  project.provide('fakeNodes', c.nodeNames)
  project.provide('cluster', {
    kubeconfig: c.kubeconfig,
    server: c.server,
    workDir: c.workDir,
    binDir: c.binDir,
    external: false,
    realNode: c.realNode,
    realNodeSkipped: c.realNodeSkipped,
    csi: c.csi ?? null,
  })
  return async () => {
    const workDir = c.workDir
    await c.stop()
    const left = hostLeftovers([workDir], c.realNode !== '')
    const report = path.join(project.config.root, '.reports', 'leftovers.json')
    fs.mkdirSync(path.dirname(report), {recursive: true})
    fs.writeFileSync(report, JSON.stringify({checked: new Date().toISOString(), leftovers: left}, null, 2))
    process.stderr.write(
      `[pv-doctor e2e] after the suite: ${left.length ? `LEFT ON THE HOST:\n  ${left.join('\n  ')}` : 'nothing left on the host (processes, mounts, bridge, cgroups, loop devices)'}\n`,
    )
    if (left.length) throw new Error(`the e2e suite left ${left.length} thing(s) on the host: ${left.join('; ')}`)
  }
}
