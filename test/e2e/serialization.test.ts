/**
 * Scenario 2 — serialization: a FileStreamSink with JsonConverter (schemas.enable=true) reads a record
 * that is not JSON. The task FAILS with a real DataException; a restart cannot fix a bad record, so the
 * watchdog must page exactly once (class serialization) and never restart — not over many polls, and
 * not after the watchdog itself is restarted (the incident is persisted in its state file).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { indexListing, indexMembers } from '../../src/connect/listing-index.js';
import { parseInfoEntry, parseInfoListing, parseListing, splitInfo } from '../../src/connect/shapes.js';
import { M, RUN_ID, capture, createConnector, deleteConnector, killAllDaemons, startDaemon, status, tempDir, waitForTask } from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver } from './receiver.js';
import { CONNECT_PORT, CONNECT_URL, produce, waitFor } from './stack.js';

const NAME = `e2e-serde-${RUN_ID}`;
const TOPIC = `e2e-garbage-${RUN_ID}`;

let receiver: Receiver;
let proxy: ConnectProxy;
const dir = tempDir();

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
  await produce(TOPIC, ['this is not json']);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  await deleteConnector(NAME).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serialization failure of a FileStreamSink', () => {
  it('pages once (serialization), never restarts, and does not page again after its own restart', async () => {
    const listing = async () => Buffer.from(await (await fetch(`${CONNECT_URL}/connectors?expand=status`)).arrayBuffer());
    const beforeCreate = await listing();
    const stateDir = tempDir('cw-e2e-state-');
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url, dir: stateDir });

    await createConnector(NAME, {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1',
      topics: TOPIC,
      file: join(dir, 'out.txt'),
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
    });
    const failed = await waitForTask(NAME, 'FAILED', { timeoutMs: 30_000 });
    expect(failed.connector.state).toBe('RUNNING');
    expect(failed.tasks[0]!.trace).toContain('org.apache.kafka.connect.errors.DataException');
    capture('real-e2e-status-failed-serialization-not-json-filestream-sink.json', failed);

    // What the client's unchanged-listing shortcut rests on (src/connect/client.ts): while nothing
    // changes, the real worker lists the statuses byte for byte the same, FAILED traces included.
    const before = await listing();
    expect(before.toString()).toContain('DataException');
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await listing()).equals(before)).toBe(true);
    // And what the changed-listing walk rests on (src/connect/listing-index.ts): the real worker's bytes,
    // before and after a connector appeared and failed, read connector by connector as parseListing reads them.
    const whole = (body: Buffer) => parseListing(JSON.parse(body.toString('utf8')));
    const first = indexListing(beforeCreate);
    expect(first && { kind: 'expanded', connectors: first.connectors, unreadable: first.unreadable }).toEqual(whole(beforeCreate));
    const changed = indexListing(before, first);
    expect(changed && { kind: 'expanded', connectors: changed.connectors, unreadable: changed.unreadable }).toEqual(whole(before));
    // The info listing goes through the same walk, one connector's config at a time (ConnectClient.readInfo).
    const info = Buffer.from(await (await fetch(`${CONNECT_URL}/connectors?expand=info`)).arrayBuffer());
    const walked = indexMembers(info, parseInfoEntry);
    expect(walked?.names).toContain(NAME);
    const infos = walked && splitInfo(walked.names.map((name, k) => [name, walked.entries[k]] as const));
    expect(infos).toEqual(parseInfoListing(JSON.parse(info.toString('utf8'))));
    expect(infos?.infos.get(NAME)).toMatchObject({ tasksMax: 1, connectorClass: 'org.apache.kafka.connect.file.FileStreamSinkConnector' });

    const page = await receiver.waitFor((p) => p.connector === NAME && p.event === 'trigger', 15_000, `a trigger for ${NAME}`);
    expect(page).toMatchObject({
      schema: 'connect-watchdog/incident/v1',
      event: 'trigger',
      cluster: 'e2e',
      connector: NAME,
      task: 0,
      class: 'serialization',
      severity: 'error',
      attempts: 0,
      workerId: `127.0.0.1:${CONNECT_PORT}`,
      statusUrl: `${proxy.url}/connectors/${NAME}/status`,
    });
    expect(page.rootCause).toMatch(/JsonParseException|DataException|SerializationException/);
    expect(page.hint.length).toBeGreaterThan(0);
    expect(page.traceExcerpt).toContain('Unrecognized token');
    expect(Date.parse(page.firstSeen)).toBeLessThanOrEqual(Date.parse(page.lastSeen));
    capture('real-e2e-webhook-trigger-serialization-filestream-sink.json', page);

    // Many polls later: still FAILED, still one page, not one restart request.
    await daemon.polls(6);
    const m = await daemon.metrics();
    expect(m.sum(M.taskFailed, { connector: NAME, task: '0', class: 'serialization' })).toBe(1);
    expect(m.sum(M.escalations, { connector: NAME, class: 'serialization' })).toBe(1);
    expect(m.sum(M.escalations, { connector: NAME })).toBe(1);
    expect(m.sum(M.restarts, { connector: NAME, outcome: 'ok' })).toBe(0);
    expect(m.sum(M.restarts, { connector: NAME, outcome: 'failed' })).toBe(0);
    expect(m.sum(M.restarts, { connector: NAME, outcome: 'skipped', class: 'serialization' })).toBeGreaterThanOrEqual(1);
    expect(m.sum(M.incidentsOpen, { cluster: 'e2e', class: 'serialization' })).toBe(1);
    expect(m.sum(M.deliveries, { sink: 'e2e', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(receiver.about(NAME)).toHaveLength(1);
    expect(proxy.writes()).toEqual([]);
    expect((await status(NAME))?.tasks[0]?.state).toBe('FAILED');
    expect(await daemon.stop()).toBe(0);

    // The watchdog restarts (deploy, crash): the incident is in its state file, so no second page.
    const again = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url, dir: stateDir });
    await again.polls(4);
    const m2 = await again.metrics();
    expect(m2.sum(M.escalations, { connector: NAME })).toBe(0);
    expect(m2.sum(M.incidentsOpen, { cluster: 'e2e', class: 'serialization' })).toBe(1);
    expect(m2.sum(M.taskFailed, { connector: NAME, class: 'serialization' })).toBe(1);
    expect(receiver.about(NAME)).toHaveLength(1);
    expect(proxy.writes()).toEqual([]);
    expect(await again.stop()).toBe(0);
    expect(daemon.stderr() + again.stderr()).toBe('');
    rmSync(stateDir, { recursive: true, force: true });

    await waitFor(async () => (await status(NAME))?.tasks[0]?.state === 'FAILED', { what: `${NAME} still FAILED` });
  });
});
