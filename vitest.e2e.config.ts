import { defineConfig } from 'vitest/config';

/**
 * The e2e suite: the watchdog daemon against a real Kafka Connect worker, Debezium and PostgreSQL
 * (scripts/stack.sh). `npm run test:e2e` = `vitest run -c vitest.e2e.config.ts`. See docs/e2e.md.
 *
 * Files run one at a time in one fork: they share one Connect cluster and one PostgreSQL, and some
 * stop PostgreSQL or add a worker. The stack is brought up once (globalSetup) and down at the end.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    // Each scenario waits on real failures, restarts and rebalances: seconds to a minute each.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 120_000,
    // A scenario that fails must not be retried silently: flakiness is a finding here.
    retry: 0,
    reporters: ['verbose'],
  },
});
