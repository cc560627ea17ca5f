/**
 * Scenario 7 — a stalled source: a Debezium PostgreSQL source left to retry a lost database by itself
 * (`errors.max.retries=-1`, Debezium's default) reads RUNNING while nothing streams. Its database
 * connection goes through a TCP relay that the test cuts, as a network partition would (PostgreSQL itself
 * stays up); a heartbeat that writes (`heartbeat.action.query`) moves its offsets while it streams. With
 * heal.stall watching it, the watchdog must page `stalled` once and restart nothing, and resolve the page
 * as `flowing` once the relay accepts again and Debezium has reconnected by itself; nothing written
 * meanwhile may be lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { M, RUN_ID, consumeAll, createConnector, deleteConnector, dropSlot, killAllDaemons, startDaemon, status, waitForSlotActive, waitForTask } from './daemon.js';
import { startReceiver, startTcpProxy, type Receiver, type TcpProxy, type WebhookPayload } from './receiver.js';
import { CONNECT_URL, debeziumOrdersConfig, psql, waitFor } from './stack.js';

const NAME = `e2e-stall-${RUN_ID}`;
const SLOT = `e2e_slot_stall_${RUN_ID}`;
const TABLE = `stall_${RUN_ID}`;
const HEARTBEAT = `stall_hb_${RUN_ID}`;
const PUB = `e2e_pub_stall_${RUN_ID}`;
const TOPIC = `e2e.public.${TABLE}`;
const LAST_MOVED = 'connect_watchdog_source_offsets_last_moved_timestamp_seconds';
const STALL_AFTER_MS = 12_000;

let receiver: Receiver;
let relay: TcpProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  relay = await startTcpProxy(5432);
  await psql(`CREATE TABLE public.${TABLE} (id serial PRIMARY KEY, item text NOT NULL)`);
  await psql(`CREATE TABLE public.${HEARTBEAT} (id int PRIMARY KEY, at timestamptz NOT NULL)`);
  await psql(`INSERT INTO public.${HEARTBEAT} VALUES (1, now())`);
  await psql(`GRANT SELECT ON public.${TABLE} TO e2e_cdc`);
  await psql(`GRANT SELECT, UPDATE ON public.${HEARTBEAT} TO e2e_cdc`);
  // The heartbeat table is captured too: each heartbeat's UPDATE is a change the connector streams,
  // so its offsets move while it streams, whether or not the orders table sees writes.
  await psql(`CREATE PUBLICATION ${PUB} FOR TABLE public.${TABLE}, public.${HEARTBEAT}`);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  await relay?.restore().catch(() => undefined);
  await deleteConnector(NAME).catch(() => undefined);
  await dropSlot(SLOT).catch(() => undefined);
  await psql(`DROP PUBLICATION IF EXISTS ${PUB}`).catch(() => undefined);
  await psql(`DROP TABLE IF EXISTS public.${TABLE}, public.${HEARTBEAT}`).catch(() => undefined);
  await relay?.close();
  await receiver?.close();
});

function items(records: readonly string[]): string[] {
  return records.map((r) => (JSON.parse(r) as { payload: { after?: { item?: string } } }).payload.after?.item ?? '?');
}

describe('a Debezium source that retries by itself', () => {
  it('reads RUNNING while nothing streams: paged stalled, not restarted, resolved flowing once it streams again, nothing lost', async () => {
    const daemon = await startDaemon({
      connectUrl: CONNECT_URL,
      webhookUrl: receiver.url,
      overrides: { heal: { stall: { connectors: `^${NAME}$`, after: STALL_AFTER_MS, checkInterval: 1_000 } } },
    });
    await createConnector(
      NAME,
      debeziumOrdersConfig({
        'database.port': String(relay.port),
        'slot.name': SLOT,
        'publication.name': PUB,
        'table.include.list': `public.${TABLE},public.${HEARTBEAT}`,
        'errors.max.retries': '-1',
        'retriable.restart.connector.wait.ms': '2000',
        'heartbeat.interval.ms': '1000',
        'heartbeat.action.query': `UPDATE public.${HEARTBEAT} SET at = now() WHERE id = 1`,
      }),
    );
    await waitForTask(NAME, 'RUNNING');
    await waitForSlotActive(SLOT);
    await psql(`INSERT INTO public.${TABLE} (item) VALUES ('live-1')`);
    await waitFor(async () => items(await consumeAll(TOPIC, 2_000)).includes('live-1'), { timeoutMs: 60_000, intervalMs: 0, what: 'live-1 in the topic' });

    // Idle but for its heartbeat: the offsets the watchdog reads keep moving.
    const lastMoved = async () => (await daemon.metrics()).sum(LAST_MOVED, { connector: NAME });
    const before = await waitFor(async () => (await lastMoved()) || undefined, { timeoutMs: 10_000, what: 'the offsets read once' });
    await waitFor(async () => (await lastMoved()) > before, { timeoutMs: 15_000, what: 'the offsets moving with the heartbeat alone' });
    const idle = await lastMoved();
    await waitFor(async () => (await lastMoved()) > idle, { timeoutMs: 15_000, what: 'the offsets moving again' });
    expect(receiver.about(NAME)).toEqual([]);

    // The partition: every connection through the relay reset, new ones refused. A row committed meanwhile.
    const cutAt = Date.now();
    await relay.cut();
    await psql(`INSERT INTO public.${TABLE} (item) VALUES ('during-cut-1')`);
    const states = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const s = await status(NAME);
        if (s !== undefined) states.add(`${s.connector.state}/${s.tasks.map((t) => t.state).join(',')}`);
        await sleep(250);
      }
    })();
    let stalled: WebhookPayload;
    try {
      stalled = await receiver.waitFor((p) => p.connector === NAME && p.event === 'trigger', STALL_AFTER_MS + 45_000, 'the stalled page');
    } finally {
      watching = false;
      await watch;
    }
    const pagedAfter = Date.now() - cutAt;
    console.log(`[e2e stall] states seen during the cut: ${[...states].join(' ')}; paged ${pagedAfter} ms after the cut (heal.stall.after ${STALL_AFTER_MS} ms)`);
    // Connect never said anything was wrong: what the watchdog paged, no status showed.
    expect([...states]).toEqual(['RUNNING/RUNNING']);
    expect(stalled).toMatchObject({ class: 'stalled', severity: 'error', task: null, rootCause: '', traceExcerpt: '', attempts: 0 });
    expect(stalled.reason).toMatch(/^its committed source offsets have not moved for \d+ s while the connector and its 1 task read RUNNING$/);
    expect(pagedAfter).toBeGreaterThanOrEqual(STALL_AFTER_MS - 2_000);
    await daemon.polls(3);
    const during = await daemon.metrics();
    expect(during.sum(M.restarts, { connector: NAME })).toBe(0);
    expect(during.sum(M.escalations, { connector: NAME, class: 'stalled' })).toBe(1);
    expect(during.sum(M.incidentsOpen, { class: 'stalled' })).toBe(1);
    expect(receiver.about(NAME)).toHaveLength(1);

    // The partition heals: Debezium reconnects by itself (no restart from anyone) and the page resolves.
    const restoredAt = Date.now();
    await relay.restore();
    const resolved = await receiver.waitFor((p) => p.connector === NAME && p.event === 'resolve', 60_000, 'the resolve');
    console.log(`[e2e stall] resolved ${Date.now() - restoredAt} ms after the relay accepted again`);
    expect((resolved as WebhookPayload & { resolution?: string }).resolution).toBe('flowing');
    expect(resolved.key).toBe(stalled.key);
    await waitFor(async () => items(await consumeAll(TOPIC, 2_000)).includes('during-cut-1'), { timeoutMs: 30_000, intervalMs: 0, what: 'during-cut-1 in the topic' });
    const after = await daemon.metrics();
    expect(after.sum(M.restarts, { connector: NAME })).toBe(0);
    expect(after.sum(M.incidentsOpen, { class: 'stalled' })).toBe(0);
    expect(after.sum('connect_watchdog_offset_reads_total', { outcome: 'failed' })).toBe(0);
    // The stack flushes offsets every second (offset.flush.interval.ms=1000), which the start-up warning cannot know.
    expect(daemon.stderr()).toBe(
      `connect-watchdog: warning: heal.stall.after: ${STALL_AFTER_MS} ms is not above the worker's default offset.flush.interval.ms (60000 ms): a healthy source whose offsets move only at each flush is paged as stalled\n`,
    );
    expect(await daemon.stop()).toBe(0);
  });
});
