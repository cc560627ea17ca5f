import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    globalSetup: ['test/helpers/private-tmpdir.ts'],
    testTimeout: 20_000,
    pool: 'forks',
  },
});
