/**
 * vitest globalSetup of the e2e suite (vitest.e2e.config.ts): brings the real stack up once before the
 * first file (scripts/stack.sh up: Kafka broker, Connect worker, PostgreSQL prepared) and down after
 * the last one. PostgreSQL is started again first in case a scenario left it stopped, so that `down`
 * can drop the PG_DB database (e2e_shop by default) and its e2e_ slots.
 */
import { reapStrayDaemons } from './daemon.js';
import { stackDown, stackUp, startPostgres, worker2Down } from './stack.js';

export default async function setup(): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const out = await stackUp();
  process.stdout.write(`[e2e] stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${out}`);
  return async () => {
    const t1 = Date.now();
    const stray = reapStrayDaemons();
    if (stray.length > 0) process.stderr.write(`[e2e] killed watchdog daemons left behind by a test: ${stray.join(', ')}\n`);
    await startPostgres().catch((e: unknown) => process.stderr.write(`[e2e] startPostgres at teardown: ${String(e)}\n`));
    await worker2Down().catch((e: unknown) => process.stderr.write(`[e2e] worker2Down at teardown: ${String(e)}\n`));
    if (process.env['E2E_KEEP_STACK'] === '1') {
      process.stdout.write('[e2e] E2E_KEEP_STACK=1: leaving the stack up (bash scripts/stack.sh down when done)\n');
      return;
    }
    await stackDown();
    process.stdout.write(`[e2e] stack down in ${((Date.now() - t1) / 1000).toFixed(1)} s\n`);
  };
}
