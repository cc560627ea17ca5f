/**
 * Scenario 4 — what is not the watchdog's to touch, and what is gone.
 *  a) A connector a person PAUSED, even with a FAILED task whose class the watchdog would restart
 *     (connection, database up): no restart, no resume, over many polls. Once the person resumes it,
 *     the FAILED task is the watchdog's again and it heals it.
 *  b) A DELETED connector with an open incident: forgotten, its series removed from /metrics, its
 *     incident resolved (a resolve event reaches the sink).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  M,
  RUN_ID,
  capture,
  createConnector,
  createFailedDebeziumTask,
  deleteConnector,
  dropSlot,
  holds,
  killAllDaemons,
  startDaemon,
  status,
  waitForTask,
} from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver } from './receiver.js';
import { CONNECT_URL, connect, produce, waitFor } from './stack.js';

const PAUSED = `e2e-paused-${RUN_ID}`;
const SLOT = `e2e_slot_paused_${RUN_ID}`;
const GONE = `e2e-deleted-${RUN_ID}`;
const TOPIC = `e2e-deleted-${RUN_ID}`;

let receiver: Receiver;
let proxy: ConnectProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  await deleteConnector(PAUSED).catch(() => undefined);
  await deleteConnector(GONE).catch(() => undefined);
  await dropSlot(SLOT).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
});

describe('paused and deleted connectors', () => {
  it('leaves a paused connector with a FAILED task alone, and heals it once a person resumes it', async () => {
    // Made FAILED and paused before the watchdog runs, as a person would find it in the morning.
    await createFailedDebeziumTask(PAUSED, SLOT, `e2epaused${RUN_ID}`);
    expect((await connect('PUT', `/connectors/${PAUSED}/pause`)).status).toBe(202);
    const paused = await waitFor(async () => ((await status(PAUSED))?.connector.state === 'PAUSED' ? status(PAUSED) : undefined), { what: `${PAUSED} PAUSED` });
    expect(paused!.tasks[0]!.state).toBe('FAILED');
    capture('real-e2e-status-paused-connector-failed-task-debezium-postgres.json', paused);

    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url });
    await daemon.polls(1);
    // Many polls: the person's pause stands, the task stays FAILED, nothing is sent.
    await holds(
      6_000,
      async () => status(PAUSED),
      (s) => (s?.connector.state !== 'PAUSED' || s.tasks[0]?.state !== 'FAILED' ? `paused connector changed: ${JSON.stringify(s)}` : undefined),
    );
    const m = await daemon.metrics();
    expect(proxy.writes()).toEqual([]);
    expect(m.sum(M.restarts, { connector: PAUSED })).toBe(0);
    expect(m.sum(M.escalations, { connector: PAUSED })).toBe(0);
    // The FAILED task is still visible (it is FAILED), with its class.
    expect(m.sum(M.taskFailed, { connector: PAUSED, task: '0', class: 'connection' })).toBe(1);
    expect(m.sum(M.tasks, { cluster: 'e2e', state: 'FAILED' })).toBeGreaterThanOrEqual(1);
    expect(m.sum('connect_watchdog_connectors', { cluster: 'e2e', state: 'PAUSED' })).toBe(1);
    expect(receiver.about(PAUSED)).toEqual([]);

    // The person resumes it. Resume does not restart a FAILED task (checked on the real worker: the
    // connector reads RUNNING, the task stays FAILED); the task is now the watchdog's, the database is
    // up, so the watchdog restarts it: exactly one request, after the resume.
    const resumedAt = Date.now();
    expect((await connect('PUT', `/connectors/${PAUSED}/resume`)).status).toBe(202);
    await waitForTask(PAUSED, 'RUNNING', { timeoutMs: 15_000 });
    await waitFor(async () => (await daemon.metrics()).sum(M.restarts, { connector: PAUSED, outcome: 'ok' }) === 1, { timeoutMs: 10_000, what: 'one restart after resume' });
    const writes = proxy.writes(PAUSED);
    expect(writes.map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([`POST /connectors/${PAUSED}/tasks/0/restart 204`]);
    expect(writes[0]!.at).toBeGreaterThanOrEqual(resumedAt);
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr()).toBe('');
  });

  it('forgets a deleted connector: series removed, open incident resolved', async () => {
    await produce(TOPIC, ['{"schema":{"type":"string"},"payload":"x"}']);
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url });
    await createConnector(GONE, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: TOPIC,
      file: '/nonexistent-dir-e2e/out.txt',
    });
    await waitForTask(GONE, 'FAILED', { timeoutMs: 30_000 });
    const trigger = await receiver.waitFor((p) => p.connector === GONE && p.event === 'trigger', 15_000, `a trigger for ${GONE}`);
    expect(trigger.class).toBe('config');
    await waitFor(async () => (await daemon.metrics()).ofConnector(GONE).length > 0, { what: `series of ${GONE}` });
    const before = await daemon.metrics();
    expect(before.sum(M.taskFailed, { connector: GONE, class: 'config' })).toBe(1);
    expect(before.sum(M.escalations, { connector: GONE, class: 'config' })).toBe(1);
    expect(before.sum(M.incidentsOpen, { cluster: 'e2e', class: 'config' })).toBe(1);

    await deleteConnector(GONE);
    const resolve = await receiver.waitFor((p) => p.connector === GONE && p.event === 'resolve', 15_000, `a resolve for ${GONE}`);
    expect(resolve.key).toBe(trigger.key);
    expect(resolve.class).toBe('config');
    capture('real-e2e-webhook-resolve-deleted-connector-filestream-sink.json', resolve);
    await waitFor(async () => (await daemon.metrics()).ofConnector(GONE).length === 0, { timeoutMs: 10_000, what: `every series of ${GONE} gone from /metrics` });
    const after = await daemon.metrics();
    expect(after.sum(M.incidentsOpen, { cluster: 'e2e', class: 'config' })).toBe(0);
    await daemon.polls(3);
    expect(receiver.about(GONE).map((p) => p.event)).toEqual(['trigger', 'resolve']);
    expect(proxy.writes(GONE)).toEqual([]);
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr()).toBe('');
  });
});
