/**
 * vitest globalSetup of the e2e suite (vitest.e2e.config.ts): brings the real stack up once before the
 * first file (scripts/stack.sh up: Kafka broker, Connect worker, PostgreSQL prepared) and down after
 * the last one. PostgreSQL is started again first in case a scenario left it stopped, so that `down`
 * can drop the PG_DB database (e2e_shop by default) and its e2e_ slots.
 *
 * Before `up`: the jars are built (`stack.sh build`) and the suite's own test connector (blocker.ts) is
 * compiled against them, so that the worker finds it on its plugin path (EXTRA_PLUGIN_PATH, which stack.ts
 * passes to every stack.sh call) when it starts.
 */
import { buildBlocker } from './blocker.js';
import { reapStrayDaemons } from './daemon.js';
import { stackBuild, stackDown, stackUp, startPostgres, worker2Down } from './stack.js';

export default async function setup(): Promise<() => Promise<void>> {
  const t0 = Date.now();
  if (process.env['EXTRA_PLUGIN_PATH']) {
    throw new Error(`[e2e] EXTRA_PLUGIN_PATH is set (${process.env['EXTRA_PLUGIN_PATH']}): the suite puts its own test connector there; unset it`);
  }
  const lib = await stackBuild();
  const t1 = Date.now();
  const blocker = await buildBlocker(lib);
  process.stdout.write(`[e2e] test connector ${blocker.compiled ? `compiled in ${((Date.now() - t1) / 1000).toFixed(1)} s` : 'up to date'} (${blocker.pluginPath})\n`);
  const out = await stackUp();
  process.stdout.write(`[e2e] stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${out}`);
  return async () => {
    const t2 = Date.now();
    const stray = reapStrayDaemons();
    if (stray.length > 0) process.stderr.write(`[e2e] killed watchdog daemons left behind by a test: ${stray.join(', ')}\n`);
    await startPostgres().catch((e: unknown) => process.stderr.write(`[e2e] startPostgres at teardown: ${String(e)}\n`));
    await worker2Down().catch((e: unknown) => process.stderr.write(`[e2e] worker2Down at teardown: ${String(e)}\n`));
    if (process.env['E2E_KEEP_STACK'] === '1') {
      process.stdout.write('[e2e] E2E_KEEP_STACK=1: leaving the stack up (bash scripts/stack.sh down when done)\n');
      return;
    }
    await stackDown();
    process.stdout.write(`[e2e] stack down in ${((Date.now() - t2) / 1000).toFixed(1)} s\n`);
  };
}
