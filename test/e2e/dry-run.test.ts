/**
 * Scenario 6 — `run --dry-run` on a FAILED task the watchdog would restart (Debezium, replication
 * backend terminated: class connection, database up so the probe accepts). Dry run decides, logs and
 * counts (restarts_total{outcome="dry_run"}), but not one request other than GET reaches the worker and
 * the task stays FAILED.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  M,
  RUN_ID,
  createFailedDebeziumTask,
  deleteConnector,
  dropSlot,
  holds,
  killAllDaemons,
  startDaemon,
  status,
} from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver } from './receiver.js';
import { CONNECT_URL, waitFor } from './stack.js';

const NAME = `e2e-dry-${RUN_ID}`;
const SLOT = `e2e_slot_dry_${RUN_ID}`;

let receiver: Receiver;
let proxy: ConnectProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  await deleteConnector(NAME).catch(() => undefined);
  await dropSlot(SLOT).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
});

describe('run --dry-run', () => {
  it('counts the restarts it would make and sends none', async () => {
    await createFailedDebeziumTask(NAME, SLOT, `e2edry${RUN_ID}`);

    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url, args: ['--dry-run'] });
    await waitFor(async () => (await daemon.metrics()).sum(M.restarts, { connector: NAME, outcome: 'dry_run' }) > 0, {
      timeoutMs: 10_000,
      what: 'restarts_total{outcome="dry_run"} > 0',
    });
    // Several polls, longer than the first backoff (2 s): the task stays FAILED, nothing is sent.
    await holds(
      5_000,
      async () => status(NAME),
      (s) => (s?.tasks[0]?.state !== 'FAILED' ? `task left FAILED under --dry-run: ${JSON.stringify(s?.tasks)}` : undefined),
    );
    const m = await daemon.metrics();
    const dry = m.sum(M.restarts, { connector: NAME, outcome: 'dry_run', class: 'connection', target: 'task' });
    console.log(`[e2e dry-run] restarts_total{outcome="dry_run"} = ${dry} after ~6 s; escalations: ${JSON.stringify(receiver.about(NAME).map((p) => [p.event, p.class, p.reason]))}`);
    expect(dry).toBeGreaterThan(0);
    expect(m.sum(M.restarts, { connector: NAME, outcome: 'ok' })).toBe(0);
    expect(m.sum(M.restarts, { connector: NAME, outcome: 'failed' })).toBe(0);
    expect(m.sum(M.taskFailed, { connector: NAME, task: '0', class: 'connection' })).toBe(1);
    expect(proxy.writes()).toEqual([]);
    expect(proxy.exchanges.length).toBeGreaterThan(0); // it did talk to the worker: GETs only
    expect(daemon.logged('would restart (dry run)', (l) => l['connector'] === NAME).length).toBe(dry);
    expect(daemon.logged('restart sent')).toEqual([]);
    expect(daemon.logged('watchdog started')[0]?.['dryRun']).toBe(true);
    expect((await status(NAME))?.tasks[0]?.state).toBe('FAILED');
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr()).toBe('');
  });
});
