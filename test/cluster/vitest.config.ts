// Runs the harness self-test: npx vitest run --config test/cluster/vitest.config.ts
import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/cluster/**/*.e2e.test.ts'],
    globalSetup: ['test/cluster/globalSetup.ts'],
    testTimeout: 90_000,
    // a cold build of the binaries can take ~30 min on 2 cores
    hookTimeout: 60 * 60_000,
    fileParallelism: false,
  },
})
