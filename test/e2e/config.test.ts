/**
 * Scenario 3 — config: two connectors whose configuration a restart cannot fix.
 *  - Debezium PostgreSQL with publication.autocreate.mode=disabled and a publication that does not
 *    exist ("Publication autocreation is disabled, please create one and restart the connector.");
 *  - FileStreamSink writing into a directory that does not exist (NoSuchFileException).
 * Each task FAILS for real; the watchdog must page each once with class config and restart neither.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { M, RUN_ID, capture, createConnector, deleteConnector, dropSlot, killAllDaemons, startDaemon, status, waitForTask } from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver } from './receiver.js';
import { CONNECT_URL, debeziumOrdersConfig, produce, psql } from './stack.js';

const PG = `e2e-cfg-pub-${RUN_ID}`;
const SLOT = `e2e_slot_cfg_${RUN_ID}`;
const FILE = `e2e-cfg-dir-${RUN_ID}`;
const TOPIC = `e2e-cfg-${RUN_ID}`;

let receiver: Receiver;
let proxy: ConnectProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
  await produce(TOPIC, ['{"schema":{"type":"string"},"payload":"hello"}']);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  await deleteConnector(PG).catch(() => undefined);
  await deleteConnector(FILE).catch(() => undefined);
  await dropSlot(SLOT).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
});

describe('config failures', () => {
  it('pages each once as config and restarts neither', async () => {
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url });

    await createConnector(PG, debeziumOrdersConfig({ 'slot.name': SLOT, 'topic.prefix': `e2ecfg${RUN_ID}`, 'publication.name': `e2e_pub_missing_${RUN_ID}` }));
    await createConnector(FILE, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: TOPIC,
      file: '/nonexistent-dir-e2e/out.txt',
    });
    const pg = await waitForTask(PG, 'FAILED', { timeoutMs: 30_000 });
    const file = await waitForTask(FILE, 'FAILED', { timeoutMs: 30_000 });
    expect(pg.connector.state).toBe('RUNNING');
    expect(pg.tasks[0]!.trace).toContain('Publication autocreation is disabled');
    expect(file.tasks[0]!.trace).toContain('/nonexistent-dir-e2e/out.txt');
    capture('real-e2e-status-failed-config-missing-publication-debezium-postgres.json', pg);
    capture('real-e2e-status-failed-config-missing-directory-filestream-sink.json', file);
    // No slot is created when the publication is missing.
    expect(await psql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${SLOT}'`, 'postgres')).toBe('0');

    const pgPage = await receiver.waitFor((p) => p.connector === PG && p.event === 'trigger', 15_000, `a trigger for ${PG}`);
    const filePage = await receiver.waitFor((p) => p.connector === FILE && p.event === 'trigger', 15_000, `a trigger for ${FILE}`);
    expect(pgPage).toMatchObject({ class: 'config', task: 0, severity: 'error', attempts: 0 });
    expect(pgPage.rootCause).toContain('Publication autocreation is disabled');
    expect(filePage).toMatchObject({ class: 'config', task: 0, severity: 'error', attempts: 0 });
    expect(filePage.rootCause).toMatch(/NoSuchFileException|Couldn't find or create file/);
    // The listing the watchdog reads carries info.config with database.password in clear text.
    expect(JSON.stringify(pgPage)).not.toContain('database.password');
    capture('real-e2e-webhook-trigger-config-missing-publication-debezium-postgres.json', pgPage);

    await daemon.polls(6);
    const m = await daemon.metrics();
    for (const name of [PG, FILE]) {
      expect(m.sum(M.taskFailed, { connector: name, task: '0', class: 'config' }), name).toBe(1);
      expect(m.sum(M.escalations, { connector: name, class: 'config' }), name).toBe(1);
      expect(m.sum(M.escalations, { connector: name }), name).toBe(1);
      expect(m.sum(M.restarts, { connector: name, outcome: 'ok' }), name).toBe(0);
      expect(m.sum(M.restarts, { connector: name, outcome: 'failed' }), name).toBe(0);
      expect(receiver.about(name), name).toHaveLength(1);
      expect((await status(name))?.tasks[0]?.state, name).toBe('FAILED');
    }
    expect(m.sum(M.incidentsOpen, { cluster: 'e2e', class: 'config' })).toBe(2);
    expect(proxy.writes()).toEqual([]);
    expect(await daemon.stop()).toBe(0);
    expect(daemon.stderr()).toBe('');
  });
});
