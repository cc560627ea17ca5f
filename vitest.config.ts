import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    globalSetup: ['test/helpers/private-tmpdir.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    // vitest's default is one fork less than the cores: a single fork on a 2-core machine, running every
    // file in turn while most of them wait on sockets, timeouts and spawned CLIs.
    maxWorkers: Math.max(2, availableParallelism()),
    // The concurrent suites (test/cli) each spawn a CLI: two at a time per level is what 2 cores keep up with.
    maxConcurrency: 2,
  },
});
