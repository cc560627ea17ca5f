/**
 * A state file written by b579549 (the last release) is read whole by this version: an upgrade keeps open
 * incidents, backoff and budgets, and delivers the pages that were waiting, once, to named and unnamed sinks.
 * The fixture was written by b579549's Daemon (run --once four times, both webhooks answering 503) on the
 * connectors below; see docs/operations.md, "Upgrading from b579549".
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/log/logger.js';
import { REAL_TRACES } from '../connect/fixtures.js';
import { FakeConnect } from '../helpers/fake-connect.js';
import { webhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'test/fixtures/state/b579549-open-incidents-pending-pages.json');

describe('a state file written by b579549', () => {
  let fake: FakeConnect;
  let named: WebhookReceiver;
  let unnamed: WebhookReceiver;
  let dir: string;

  beforeEach(async () => {
    fake = await new FakeConnect().start();
    fake.restartEffect = 'failed';
    const { connection, serialization, config } = REAL_TRACES;
    fake.add('cdc-conn', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: connection }] });
    fake.add('sink-ser', { type: 'sink', tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: serialization }] });
    fake.add('cdc-cfg', { state: 'FAILED', trace: config, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: config }] });
    fake.add('ok', {});
    named = await webhookReceiver();
    unnamed = await webhookReceiver();
    dir = mkdtempSync(join(tmpdir(), 'cw-compat-'));
    copyFileSync(FIXTURE, join(dir, 'state.json'));
  });
  afterEach(async () => {
    await fake.stop();
    named.server.close();
    unnamed.server.close();
  });

  it('keeps its incidents and backoff and delivers its pending pages once, to the named and the unnamed sink', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'prod', url: fake.url, probe: false }],
        stateFile: join(dir, 'state.json'),
        metrics: { enabled: false },
        heal: { confirmDelay: 0, firstRestartDelay: 0, escalateAfter: { restarts: 2 } },
        // The second sink has no name: it is webhook-1, as b579549 named it.
        sinks: [{ type: 'webhook', name: 'hook', url: named.url }, { type: 'webhook', url: unnamed.url }],
        delivery: { retries: 0, timeout: 2000 },
      }),
    );
    // A minute after b579549's last run; cdc-conn's next restart is due 11 s later.
    let clock = Date.parse('2026-12-05T10:04:01Z');
    const run = async () => {
      const d = new Daemon({ config: loadConfig({ configFile: file, env: {} }), logger: silentLogger(), now: () => clock, random: () => 0.5 });
      await d.init();
      return d.runOnce();
    };
    expect(await run()).toBe(true);
    expect(fake.posts).toEqual([]);
    const triggers = ['sink-ser:serialization', 'cdc-cfg:config', 'cdc-conn:connection'];
    for (const r of [named, unnamed]) expect(r.received.map((h) => `${h.event}:${h.connector}:${h.class}`)).toEqual(triggers.map((t) => `trigger:${t}`));
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { heal: { incidents: Record<string, unknown> }; outbox: unknown[] };
    expect(Object.keys(saved.heal.incidents).sort()).toEqual(['prod/cdc-cfg/connector/config', 'prod/cdc-conn/0/connection', 'prod/sink-ser/0/serialization']);
    expect(saved.outbox).toEqual([]);
    clock += 20_000;
    expect(await run()).toBe(true);
    // The backoff b579549 computed ran out: one restart, and nothing paged again.
    expect(fake.posts).toEqual(['POST /connectors/cdc-conn/tasks/0/restart']);
    expect(named.received).toHaveLength(3);
    expect(unnamed.received).toHaveLength(3);
  });
});
