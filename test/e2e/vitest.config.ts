// The end-to-end suite: the built CLI against a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler; test/cluster), or against any cluster given by
// PV_DOCTOR_E2E_KUBECONFIG. Run with `npm run test:e2e`.
import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.test.ts', 'test/cluster/**/*.e2e.test.ts'],
    globalSetup: ['test/cluster/globalSetup.ts'],
    testTimeout: 120_000,
    // A cold build of the control-plane binaries takes a while on 2 cores.
    hookTimeout: 60 * 60_000,
    fileParallelism: false,
    disableConsoleIntercept: true,
    reporters: ['default', 'json'],
    outputFile: {json: '.reports/e2e.json'},
  },
})
