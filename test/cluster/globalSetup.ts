// vitest globalSetup for the e2e suite.
//
// * PV_DOCTOR_E2E_KUBECONFIG=/path/to/kubeconfig: use that existing cluster (kind,
//   minikube, a real one); nothing is started, `cluster` is provided with
//   external: true and no fake nodes.
// * otherwise: build the binaries if needed (test/cluster/build.sh), start a
//   control plane with the default fake nodes, stop it in teardown.
//
// Tests read the values with `inject('kubeconfig')`, `inject('fakeNodes')`,
// `inject('cluster')`. KUBECONFIG is also set in this process' environment
// (forked workers inherit it).

import * as path from 'node:path'
import type {TestProject} from 'vitest/node'
import {startCluster} from './cluster.js'

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
    project.provide('cluster', {kubeconfig, server: '', workDir: '', binDir: '', external: true})
    return undefined
  }
  const c = await startCluster({})
  process.stderr.write(
    `[pv-doctor e2e] control plane up in ${c.timings.total} ms at ${c.server} (${c.workDir}) ${JSON.stringify(c.timings)}\n`,
  )
  process.env.KUBECONFIG = c.kubeconfig
  project.provide('kubeconfig', c.kubeconfig)
  project.provide('fakeNodes', c.nodeNames)
  project.provide('cluster', {
    kubeconfig: c.kubeconfig,
    server: c.server,
    workDir: c.workDir,
    binDir: c.binDir,
    external: false,
  })
  return () => c.stop()
}
