/**
 * Scenario 5 — scaling out and back: a second worker (same group.id) joins the Connect cluster, work
 * moves to it, then it leaves and its work comes back after scheduled.rebalance.max.delay.ms (10 s in
 * the stack). Connectors and tasks read UNASSIGNED in between: that is Connect's own scheduling, not a
 * failure, so the watchdog must send no restart for any of them (and page nobody: heal.unassignedAfter
 * is 10 minutes), and everything must be RUNNING afterwards.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  M,
  RUN_ID,
  createConnector,
  deleteConnector,
  dropSlot,
  killAllDaemons,
  startDaemon,
  status,
  tempDir,
  waitForSlotActive,
  waitForTask,
  type ConnectorStatus,
} from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver } from './receiver.js';
import { CONNECT_PORT, CONNECT_URL, WORKER2_PORT, debeziumOrdersConfig, produce, waitFor, worker2Down, worker2Up } from './stack.js';

const SINKS = [`e2e-scale-a-${RUN_ID}`, `e2e-scale-b-${RUN_ID}`];
const PG = `e2e-scale-pg-${RUN_ID}`;
const SLOT = `e2e_slot_scale_${RUN_ID}`;
const TOPIC = `e2e-scale-${RUN_ID}`;
const ALL = [...SINKS, PG];
const W1 = `127.0.0.1:${CONNECT_PORT}`;
const dir = tempDir();
const W2 = `127.0.0.1:${WORKER2_PORT}`;

let receiver: Receiver;
let proxy: ConnectProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
  await produce(TOPIC, ['{"schema":{"type":"string"},"payload":"one"}', '{"schema":{"type":"string"},"payload":"two"}']);
});

afterEach(async () => {
  await worker2Down();
  await killAllDaemons();
});

afterAll(async () => {
  for (const n of ALL) await deleteConnector(n).catch(() => undefined);
  await dropSlot(SLOT).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function statuses(): Promise<ConnectorStatus[]> {
  return Promise.all(ALL.map(async (n) => (await status(n)) ?? Promise.reject(new Error(`${n}: no status`))));
}

const allRunning = (ss: readonly ConnectorStatus[]) => ss.every((s) => s.connector.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every((t) => t.state === 'RUNNING'));
const workers = (ss: readonly ConnectorStatus[]) => new Set(ss.flatMap((s) => [s.connector.worker_id, ...s.tasks.map((t) => t.worker_id)]));

/** How many connector/task entries of ours read UNASSIGNED in the listings the watchdog received. */
function unassignedSeenByWatchdog(since: number): number {
  let n = 0;
  for (const e of proxy.exchanges) {
    if (e.at < since || e.method !== 'GET' || !e.path.startsWith('/connectors?') || typeof e.body !== 'object' || e.body === null) continue;
    for (const [name, entry] of Object.entries(e.body as Record<string, { status?: ConnectorStatus }>)) {
      if (!ALL.includes(name) || !entry.status) continue;
      n += [entry.status.connector, ...entry.status.tasks].filter((x) => x.state === 'UNASSIGNED').length;
    }
  }
  return n;
}

describe('scaling out and back', () => {
  it('sends no restart while work is UNASSIGNED during rebalances; everything RUNNING after', async () => {
    for (const n of SINKS) {
      await createConnector(n, {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '2',
        topics: TOPIC,
        file: join(dir, `${n}.out.txt`),
      });
    }
    await createConnector(PG, debeziumOrdersConfig({ 'slot.name': SLOT, 'topic.prefix': `e2escale${RUN_ID}`, 'retriable.restart.connector.wait.ms': '2000' }));
    for (const n of SINKS) for (const t of [0, 1]) await waitForTask(n, 'RUNNING', { task: t });
    await waitForTask(PG, 'RUNNING');
    await waitForSlotActive(SLOT);

    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url });

    // Join.
    const joinAt = Date.now();
    await worker2Up();
    const joined = await waitFor(
      async () => {
        const ss = await statuses();
        return allRunning(ss) && workers(ss).has(W2) ? ss : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'everything RUNNING with some work on worker 2' },
    );
    const movedToW2 = joined.flatMap((s) => [s.connector, ...s.tasks].filter((x) => x.worker_id === W2)).length;
    const seenJoin = unassignedSeenByWatchdog(joinAt);
    console.log(`[e2e scale-out] join: everything RUNNING ${Date.now() - joinAt} ms after worker2Up() began; ${movedToW2} connector/task entries on ${W2}; UNASSIGNED entries in the listings the watchdog read: ${seenJoin}`);
    await daemon.polls(2);

    // Leave: worker 2's work reads UNASSIGNED until scheduled.rebalance.max.delay.ms (10 s) passes.
    const leaveAt = Date.now();
    await worker2Down();
    await waitFor(
      async () => {
        const ss = await statuses();
        return allRunning(ss) && [...workers(ss)].every((w) => w === W1) ? ss : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `everything RUNNING on ${W1} again` },
    );
    const seenLeave = unassignedSeenByWatchdog(leaveAt);
    console.log(`[e2e scale-out] leave: everything RUNNING on ${W1} ${Date.now() - leaveAt} ms after worker2Down() began; UNASSIGNED entries the watchdog read: ${seenLeave}`);
    await daemon.polls(2);

    // The watchdog did see work UNASSIGNED (so this scenario tested something) and sent nothing.
    expect(seenJoin + seenLeave).toBeGreaterThan(0);
    expect(seenLeave).toBeGreaterThan(0);
    expect(proxy.writes()).toEqual([]);
    const m = await daemon.metrics();
    for (const n of ALL) {
      expect(m.sum(M.restarts, { connector: n }), n).toBe(0);
      expect(m.sum(M.escalations, { connector: n }), n).toBe(0);
      expect(m.series(M.taskFailed, { connector: n }), n).toEqual([]);
    }
    expect(receiver.received).toEqual([]);
    expect(m.sum(M.polls, { outcome: 'error' })).toBe(0);
    expect(allRunning(await statuses())).toBe(true);
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr()).toBe('');
  });
});
