import { defineConfig } from 'vitest/config';

/**
 * Browser tests: Playwright (playwright-core) drives a system Chromium against browser mode
 * (`drift-wb serve`, started once by test/e2e/setup.ts). Run through `npm run test:e2e`, which
 * checks for the browser first. One file at a time: they share the server and the machine.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/setup.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
