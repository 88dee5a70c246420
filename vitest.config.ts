import {defineConfig} from 'vitest/config'

// Unit tests (the pure core) and the root-only disk tests on loop devices.
// The end-to-end suite against a real control plane has its own config: test/e2e/vitest.config.ts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/cluster/**', 'node_modules/**'],
    disableConsoleIntercept: true,
    testTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: {json: '.reports/unit.json'},
  },
})
