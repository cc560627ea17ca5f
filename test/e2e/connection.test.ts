/**
 * Scenario 1 — connection: a streaming Debezium PostgreSQL source loses its database.
 *
 * The replication backend is terminated and PostgreSQL stopped right after it (fast shutdown, ~0.3 s
 * once the walsender is gone), so the task FAILS with a real "Database connection failed when reading
 * from copy / EOFException" trace while PostgreSQL refuses connections. The watchdog must classify it
 * `connection`, probe 127.0.0.1:5432 (derived from database.hostname/port), spend NO restart while it
 * refuses, restart at the first poll after PostgreSQL accepts again, and nothing written meanwhile may
 * be lost.
 */
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  M,
  POLL_INTERVAL_MS,
  RUN_ID,
  capture,
  consumeAll,
  createConnector,
  deleteConnector,
  dropSlot,
  killAllDaemons,
  startDaemon,
  status,
  waitForSlotActive,
  waitForTask,
} from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver } from './receiver.js';
import { CONNECT_URL, debeziumOrdersConfig, psql, startPostgres, stopPostgres, waitFor } from './stack.js';

const NAME = `e2e-conn-${RUN_ID}`;
const SLOT = `e2e_slot_conn_${RUN_ID}`;
const TABLE = `conn_${RUN_ID}`;
const PUB = `e2e_pub_conn_${RUN_ID}`;
const TOPIC = `e2e.public.${TABLE}`;

let receiver: Receiver;
let proxy: ConnectProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
  await psql(`CREATE TABLE public.${TABLE} (id serial PRIMARY KEY, item text NOT NULL, qty int NOT NULL)`);
  await psql(`GRANT SELECT ON public.${TABLE} TO e2e_cdc`);
  await psql(`CREATE PUBLICATION ${PUB} FOR TABLE public.${TABLE}`);
  await psql(`INSERT INTO public.${TABLE} (item, qty) VALUES ('snap-1', 1), ('snap-2', 2)`);
});

afterEach(async () => {
  // Whatever happened, PostgreSQL must be running again for the next scenario (and the machine).
  await startPostgres();
  await killAllDaemons();
});

afterAll(async () => {
  await startPostgres();
  await deleteConnector(NAME).catch(() => undefined);
  await dropSlot(SLOT).catch(() => undefined);
  await psql(`DROP PUBLICATION IF EXISTS ${PUB}`).catch(() => undefined);
  await psql(`DROP TABLE IF EXISTS public.${TABLE}`).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
});

/** Does 127.0.0.1:port accept a TCP connection (what the watchdog's dependency probe asks)? */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function items(records: readonly string[]): string[] {
  return records.map((r) => (JSON.parse(r) as { payload: { after?: { item?: string } } }).payload.after?.item ?? '?');
}

describe('connection failure of a Debezium PostgreSQL source', () => {
  it('holds restarts while PostgreSQL refuses, restarts once it accepts, loses nothing', async () => {
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url });

    await createConnector(
      NAME,
      debeziumOrdersConfig({
        'slot.name': SLOT,
        'publication.name': PUB,
        'table.include.list': `public.${TABLE}`,
        'topic.prefix': 'e2e',
        // The first streaming error fails the task (default: Debezium retries by itself forever).
        'errors.max.retries': '0',
      }),
    );
    await waitForTask(NAME, 'RUNNING');
    await waitForSlotActive(SLOT);

    // Streaming for real: a row inserted now arrives (after the two snapshot rows).
    await psql(`INSERT INTO public.${TABLE} (item, qty) VALUES ('live-1', 3)`);
    await waitFor(async () => items(await consumeAll(TOPIC, 2_000)).includes('live-1'), { timeoutMs: 60_000, intervalMs: 0, what: 'live-1 in the topic' });

    let pgStartAt = 0; // pg_ctlcluster start begins: before this, PostgreSQL refused every connection
    let acceptingAt = 0; // first TCP connection to 127.0.0.1:5432 accepted (PostgreSQL logs "ready" within ms of listening)
    let runningAt = 0; // first status read with the task RUNNING again
    let streamingAt = 0; // first time the replication slot reads active again
    let watching: Promise<void> | undefined;
    try {
      // Cut the replication connection; in the same session commit two rows the connector cannot
      // stream any more; then take the database away (~0.2-0.6 s once the walsender is gone). The task
      // notices the cut 0.4-0.7 s after it, so the two race: the watchdog's requests are held at the
      // proxy meanwhile, so that its first sight of the FAILED task is with the database refusing. (Had
      // a poll fallen in that window, restarting would have been right: the database was up.)
      const release = proxy.hold();
      const cutAt = Date.now();
      try {
        const cut = await psql(
          `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${SLOT}' AND active; ` +
            `INSERT INTO public.${TABLE} (item, qty) VALUES ('after-cut-1', 4), ('after-cut-2', 5)`,
        );
        expect(cut).toMatch(/^t/);
        await stopPostgres();
      } finally {
        release();
      }
      const downAt = Date.now();
      const failed = await waitForTask(NAME, 'FAILED', { timeoutMs: 30_000 });
      console.log(`[e2e connection] PostgreSQL down ${downAt - cutAt} ms after the cut; task FAILED seen ${Date.now() - cutAt} ms after it`);
      const trace = failed.tasks[0]?.trace ?? '';
      expect(failed.connector.state).toBe('RUNNING');
      expect(trace).toMatch(/PSQLException|EOFException|I\/O error/);
      capture('real-e2e-status-failed-connection-terminated-and-stopped-debezium-postgres.json', failed);

      // The watchdog sees it as connection, probes the database and holds back.
      await waitFor(async () => (await daemon.metrics()).sum(M.taskFailed, { connector: NAME, task: '0', class: 'connection' }) === 1, {
        timeoutMs: 10_000,
        what: 'task_failed{class="connection"} = 1',
      });
      await waitFor(async () => (await daemon.metrics()).sum(M.restarts, { connector: NAME, outcome: 'skipped', class: 'connection' }) >= 1, {
        timeoutMs: 10_000,
        what: 'a restart withheld (skipped)',
      });
      // Several polls with the database down: not one restart is sent.
      await daemon.polls(5);
      const down = await daemon.metrics();
      expect(down.sum(M.restarts, { connector: NAME, outcome: 'ok' })).toBe(0);
      expect(down.sum(M.restarts, { connector: NAME, outcome: 'failed' })).toBe(0);
      expect(down.sum(M.restarts, { connector: NAME, outcome: 'skipped' })).toBeGreaterThanOrEqual(1);
      console.log(`[e2e connection] with PostgreSQL down: restarts_total{outcome="skipped"} = ${down.sum(M.restarts, { connector: NAME, outcome: 'skipped' })} after ${down.sum(M.polls, { outcome: 'ok' })} polls in all`);
      expect(proxy.writes(NAME)).toEqual([]);
      expect(daemon.logged('restart withheld', (l) => l['connector'] === NAME && l['reason'] === 'dependency-down').length).toBeGreaterThanOrEqual(1);
      expect((await status(NAME))?.tasks[0]?.state).toBe('FAILED');
    } finally {
      pgStartAt = Date.now();
      // Watch, every 50 ms, for the port to accept, the task to read RUNNING and the slot to be active.
      watching = (async () => {
        while (acceptingAt === 0 || runningAt === 0 || streamingAt === 0) {
          if (acceptingAt === 0 && (await accepts(5432))) acceptingAt = Date.now();
          if (acceptingAt !== 0 && runningAt === 0 && (await status(NAME))?.tasks[0]?.state === 'RUNNING') runningAt = Date.now();
          if (runningAt !== 0 && streamingAt === 0) {
            const active = await psql(`SELECT active FROM pg_replication_slots WHERE slot_name = '${SLOT}'`, 'postgres').catch(() => '');
            if (active === 't') streamingAt = Date.now();
          }
          if (Date.now() - pgStartAt > 60_000) return;
          await sleep(50);
        }
      })();
      await startPostgres();
    }
    const pgReadyAt = Date.now(); // startPostgres() resolved (pg_ctlcluster returned, pg_isready ok)

    const running = await waitForTask(NAME, 'RUNNING', { timeoutMs: POLL_INTERVAL_MS + 15_000 });
    await watching;
    expect(acceptingAt).toBeGreaterThan(0);
    expect(runningAt).toBeGreaterThan(0);
    console.log(
      `[e2e connection] PostgreSQL: accepting ${acceptingAt - pgStartAt} ms after pg_ctlcluster start began (which returned after ${pgReadyAt - pgStartAt} ms); task RUNNING ${runningAt - acceptingAt} ms and slot active ${streamingAt - acceptingAt} ms after PostgreSQL accepted`,
    );
    expect(runningAt - acceptingAt).toBeLessThanOrEqual(POLL_INTERVAL_MS + 5_000);
    capture('real-e2e-status-running-after-watchdog-restart-debezium-postgres.json', running);

    // Exactly one restart, sent by the watchdog after the database came back.
    await waitFor(async () => (await daemon.metrics()).sum(M.restarts, { connector: NAME, outcome: 'ok' }) === 1, { timeoutMs: 10_000, what: 'restarts_total{outcome="ok"} = 1' });
    const writes = proxy.writes(NAME);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.method).toBe('POST');
    expect(writes[0]!.path).toMatch(new RegExp(`^/connectors/${NAME}/(tasks/0/restart|restart\\?includeTasks=true&onlyFailed=true)$`));
    expect([202, 204]).toContain(writes[0]!.status);
    // Not before PostgreSQL was started again, and within a poll interval (+ probe and slack) of it accepting.
    expect(writes[0]!.at).toBeGreaterThanOrEqual(pgStartAt);
    expect(writes[0]!.at - acceptingAt).toBeLessThanOrEqual(POLL_INTERVAL_MS + 2_000);
    console.log(`[e2e connection] the watchdog's restart was sent ${writes[0]!.at - acceptingAt} ms after PostgreSQL accepted: ${writes[0]!.method} ${writes[0]!.path} -> ${writes[0]!.status}`);
    capture('real-e2e-watchdog-restart-exchange-debezium-postgres.json', { method: writes[0]!.method, path: writes[0]!.path, status: writes[0]!.status, body: writes[0]!.body });

    // Streaming again: a row written now arrives, and so did the rows committed after the cut.
    await waitForSlotActive(SLOT);
    await psql(`INSERT INTO public.${TABLE} (item, qty) VALUES ('after-1', 6)`);
    const expected = ['snap-1', 'snap-2', 'live-1', 'after-cut-1', 'after-cut-2', 'after-1'];
    let seen: string[] = [];
    await waitFor(
      async () => {
        seen = items(await consumeAll(TOPIC, 2_000));
        return expected.every((i) => seen.includes(i));
      },
      { timeoutMs: 60_000, intervalMs: 0, what: `all of ${expected.join(', ')} in ${TOPIC}` },
    );
    console.log(`[e2e connection] ${TOPIC}: ${seen.length} records (${seen.join(', ')})`);

    const after = await daemon.metrics();
    expect(after.series(M.taskFailed, { connector: NAME })).toEqual([]);
    expect(after.sum(M.escalations, { connector: NAME })).toBe(0);
    expect(after.sum(M.restarts, { connector: NAME, outcome: 'ok' })).toBe(1);
    // A self-healed outage pages nobody.
    expect(receiver.about(NAME)).toEqual([]);
    expect(daemon.logged('restart confirmed', (l) => l['connector'] === NAME).length + daemon.logged('restart not yet effective', (l) => l['connector'] === NAME).length).toBeGreaterThanOrEqual(1);

    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr()).toBe('');
  });
});
