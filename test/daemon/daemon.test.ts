import { X509Certificate } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { pino } from 'pino';
import { silentLogger } from '../../src/log/logger.js';
import { StateStore, type StateContent } from '../../src/state/store.js';
import { REAL_TRACES } from '../connect/fixtures.js';
import { FakeConnect } from '../helpers/fake-connect.js';
import { recordingProxy } from '../helpers/recording-proxy.js';
import { webhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const { connection: CONNECTION, serialization: SERIALIZATION, config: CONFIG } = REAL_TRACES;

describe('the daemon against a stand-in Connect worker', () => {
  let fake: FakeConnect;
  let hook: WebhookReceiver;
  let dir: string;
  let clock: number;

  beforeEach(async () => {
    fake = await new FakeConnect().start();
    hook = await webhookReceiver();
    dir = mkdtempSync(join(tmpdir(), 'cw-daemon-'));
    clock = Date.parse('2026-11-25T10:00:00Z');
  });
  afterEach(async () => {
    await fake.stop();
    hook.server.close();
  });

  function daemon(extra: Record<string, unknown> = {}, env: Record<string, string> = {}, logger = silentLogger(), monotonic?: () => number): Daemon {
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'prod', url: fake.url, probe: false }],
        stateFile: join(dir, 'state.json'),
        metrics: { enabled: false },
        heal: { confirmDelay: 0 },
        sinks: [{ type: 'webhook', name: 'hook', url: hook.url }],
        ...extra,
      }),
    );
    const config = loadConfig({ configFile: file, env });
    return new Daemon({ config, logger, now: () => clock, random: () => 0.5, ...(monotonic !== undefined && { monotonic }) });
  }

  async function once(d: Daemon): Promise<boolean> {
    return d.runOnce();
  }

  /** One poll of a daemon of the default config, with its info-level log lines. */
  async function pollLogged(): Promise<{ d: Daemon; lines: string[] }> {
    const lines: string[] = [];
    const d = daemon({}, {}, pino({ level: 'info' }, { write: (line: string) => lines.push(line) }));
    await d.init();
    await once(d);
    return { d, lines };
  }

  it('restarts exactly the FAILED task of a RUNNING connector, and the FAILED connector with its failed tasks', async () => {
    fake.add('pg orders/eu', { tasks: [0, 1, 2].map((id) => ({ id, state: 'RUNNING', worker_id: 'w1:8083' })) });
    fake.failTask('pg orders/eu', 2, CONNECTION);
    fake.add('jdbc-sink', { type: 'sink', state: 'FAILED', trace: CONNECTION, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: CONNECTION }] });
    fake.add('healthy', {});
    const d = daemon();
    await d.init();
    expect(await once(d)).toBe(true);
    expect(fake.posts.sort()).toEqual([
      'POST /connectors/jdbc-sink/restart?includeTasks=true&onlyFailed=true',
      'POST /connectors/pg%20orders%2Feu/tasks/2/restart',
    ]);
    const metrics = await d.metrics.metrics();
    expect(metrics).toContain('connect_watchdog_restarts_total{cluster="prod",connector="pg orders/eu",target="task",class="connection",outcome="ok"} 1');
    expect(metrics).toContain('connect_watchdog_restarts_total{cluster="prod",connector="jdbc-sink",target="connector",class="connection",outcome="ok"} 1');
    // The stand-in healed them: the next poll sends nothing.
    fake.requests.length = 0;
    clock += 10_000;
    await once(d);
    expect(fake.posts).toEqual([]);
  });

  it('reads the connector configs again every infoRefresh, not every poll', async () => {
    fake.add('orders', {});
    const d = daemon({ infoRefresh: 60_000 });
    await d.init();
    const infoReads = () => fake.requests.filter((r) => r.url === '/connectors?expand=info').length;
    const reads: number[] = [];
    for (let poll = 0; poll < 13; poll++) {
      await once(d);
      reads.push(infoReads());
      clock += 10_000;
    }
    // Polls at 0, 10 … 120 s: read at the first poll, at 60 s and at 120 s.
    expect(reads).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3]);
  });

  it('run --once counts a connector created while its start() blocks (no status) at once, and pages it from a later run after heal.unassignedAfter', async () => {
    fake.add('healthy', {});
    fake.add('jdbc-blocked', { noStatus: true });
    // each run a new process, as from cron: only the state file carries what the last one saw
    const run = async () => {
      const d = daemon();
      await d.init();
      expect(await once(d)).toBe(true);
      return /connect_watchdog_connectors_unreadable\{cluster="prod"\} (\d+)/.exec(await d.metrics.metrics())?.[1];
    };
    expect(await run()).toBe('1');
    clock += 5 * 60_000;
    expect(await run()).toBe('1');
    expect(hook.received).toEqual([]);
    clock += 5 * 60_000;
    expect(await run()).toBe('1');
    expect(hook.received).toEqual([expect.objectContaining({ event: 'trigger', key: 'prod/jdbc-blocked/connector/unknown', class: 'unknown' })]);
    delete fake.connectors.get('jdbc-blocked')!.noStatus;
    clock += 60_000;
    expect(await run()).toBe('0');
    const sent = hook.received as unknown as { event: string; reason: string; resolution?: string }[];
    expect(sent.map((p) => [p.event, p.reason, p.resolution])).toEqual([
      ['trigger', expect.stringContaining('no status for 10 min'), undefined],
      ['resolve', expect.stringContaining('no status for 10 min'), 'recovered'],
    ]);
    expect(fake.posts).toEqual([]);
  });

  it('a connector paged for having no status that then fails unknown (heal.actions.unknown escalate): its page is updated under the same key, not counted again', async () => {
    fake.add('jdbc-blocked', { noStatus: true });
    const d = daemon({ heal: { confirmDelay: 0, actions: { unknown: 'escalate' } } });
    await d.init();
    await once(d);
    clock += 10 * 60_000;
    await once(d);
    expect(hook.received).toHaveLength(1);
    const unknownTrace = 'java.lang.IllegalStateException: something nobody has seen before\n\tat com.example.Source.start(Source.java:1)\n';
    const c = fake.connectors.get('jdbc-blocked')!;
    delete c.noStatus;
    Object.assign(c, { state: 'FAILED', trace: unknownTrace });
    clock += 10_000;
    await once(d);
    clock += 10_000;
    await once(d);
    const sent = hook.received as unknown as { id: string; event: string; key: string; reason: string; hint: string; rootCause: string; traceExcerpt: string }[];
    expect(sent.map((p) => [p.event, p.key])).toEqual([
      ['trigger', 'prod/jdbc-blocked/connector/unknown'],
      ['trigger', 'prod/jdbc-blocked/connector/unknown'],
    ]);
    expect(sent[1]).toMatchObject({ reason: expect.stringMatching(/^heal\.actions\.unknown is escalate: .*; it was paged before: no status for 10 min .*since it was created$/), rootCause: expect.stringContaining('IllegalStateException'), traceExcerpt: expect.stringContaining('IllegalStateException') });
    expect(sent[1]!.hint).not.toBe(sent[0]!.hint);
    expect(sent[1]!.id).not.toBe(sent[0]!.id);
    expect(await d.metrics.metrics()).toContain('connect_watchdog_escalations_total{cluster="prod",connector="jdbc-blocked",class="unknown"} 1');
    expect(fake.posts).toEqual([]);
  });

  // Kafka 4.3.1: the blocked start() behind a no-status page (unknown) mostly ends in "Connection refused".
  it('a connector paged for having no status that then fails with connection: that page, then the no-status page resolved superseded-by-failure; a dry run sends neither', async () => {
    const lines: { msg: string; key?: string; resolution?: string }[] = [];
    const play = async (dryRun: boolean) => {
      fake.add('jdbc-blocked', { noStatus: true });
      const d = daemon({ dryRun, heal: { confirmDelay: 0, actions: { connection: 'escalate' } } }, {}, pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }));
      await d.init();
      await once(d);
      clock += 10 * 60_000;
      await once(d);
      const c = fake.connectors.get('jdbc-blocked')!;
      delete c.noStatus;
      Object.assign(c, { state: 'FAILED', trace: CONNECTION });
      clock += 10_000;
      await once(d);
      fake.connectors.delete('jdbc-blocked');
      return d;
    };
    await play(true);
    expect(hook.received).toEqual([]);
    expect(lines.filter((l) => l.msg.startsWith('would ')).map((l) => [l.msg, l.key, l.resolution])).toEqual([
      ['would open an incident (dry run: not sent)', 'prod/jdbc-blocked/connector/unknown', undefined],
      ['would open an incident (dry run: not sent)', 'prod/jdbc-blocked/connector/connection', undefined],
      ['would resolve an incident (dry run: not sent)', 'prod/jdbc-blocked/connector/unknown', 'superseded-by-failure'],
    ]);
    await play(false);
    const sent = hook.received as unknown as { event: string; key: string; reason: string; resolution?: string }[];
    expect(sent.map((p) => [p.event, p.key, p.resolution])).toEqual([
      ['trigger', 'prod/jdbc-blocked/connector/unknown', undefined],
      ['trigger', 'prod/jdbc-blocked/connector/connection', undefined],
      ['resolve', 'prod/jdbc-blocked/connector/unknown', 'superseded-by-failure'],
    ]);
    expect(sent[2]!.reason).toMatch(/^no status for 10 min/);
  });

  it('a connector paged for a restart that never finished, FAILED again with the same failure: the update reaches the receiver with an id of its own', async () => {
    // The RESTARTING page carries the failure's firstSeen (one streak), as does the failure page that replaces it.
    fake.add('jdbc', { state: 'FAILED', trace: CONNECTION });
    fake.restartEffect = 'failed';
    const d = daemon({ heal: { confirmDelay: 0, actions: { connection: 'restart-then-escalate' } } });
    await d.init();
    await once(d);
    expect(fake.posts).toHaveLength(1);
    const c = fake.connectors.get('jdbc')!;
    c.state = 'RESTARTING';
    delete c.trace;
    for (let i = 0; i < 62; i++) {
      clock += 10_000;
      await once(d);
    }
    expect(hook.received).toEqual([expect.objectContaining({ event: 'trigger', key: 'prod/jdbc/connector/connection', reason: expect.stringMatching(/^RESTARTING for 10 min/) })]);
    Object.assign(c, { state: 'FAILED', trace: CONNECTION });
    clock += 10_000;
    await once(d);
    const sent = hook.received as unknown as { id: string; event: string; key: string; reason: string; rootCause: string }[];
    expect(sent.map((p) => [p.event, p.key])).toEqual([
      ['trigger', 'prod/jdbc/connector/connection'],
      ['trigger', 'prod/jdbc/connector/connection'],
    ]);
    expect(sent[1]).toMatchObject({ reason: expect.stringMatching(/^still failing after a restart; it was paged before: RESTARTING for 10 min/), rootCause: expect.not.stringMatching(/^$/) });
    expect(sent[1]!.id).not.toBe(sent[0]!.id);
    expect(await d.metrics.metrics()).toContain('connect_watchdog_escalations_total{cluster="prod",connector="jdbc",class="connection"} 1');
  });

  it('on a worker older than 3.0 restarts the connector, then each FAILED task', async () => {
    fake.version = '2.8.1';
    fake.add('old', { state: 'FAILED', trace: CONNECTION, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w', trace: CONNECTION }, { id: 1, state: 'RUNNING', worker_id: 'w' }] });
    const d = daemon();
    await d.init();
    await once(d);
    expect(fake.posts).toEqual(['POST /connectors/old/restart?includeTasks=false&onlyFailed=false', 'POST /connectors/old/tasks/0/restart']);
  });

  it('on a worker older than 3.0 still restarts the FAILED tasks when the connector fails to start again (500)', async () => {
    // A real 2.8.2 worker answers the plain connector restart with this 500 when the connector's start throws
    // again (test/fixtures/connect/restart-500-failed-to-start-connector-connect-2.8.2.json); a KIP-745
    // restart on 3.0+ would have restarted the tasks all the same.
    const body = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/connect/restart-500-failed-to-start-connector-connect-2.8.2.json'), 'utf8')) as { message: string };
    fake.version = '2.8.2';
    fake.restartEffect = 'failed';
    fake.add('old', { state: 'FAILED', trace: CONNECTION, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w', trace: CONNECTION }, { id: 1, state: 'FAILED', worker_id: 'w', trace: CONNECTION }] });
    fake.interceptors.push((req, res) => {
      if (req.method !== 'POST' || !/^\/connectors\/old\/restart(\?|$)/.test(req.url ?? '')) return false;
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ ...body, message: 'Failed to start connector: old' }));
      return true;
    });
    const d = daemon();
    await d.init();
    await once(d);
    expect(fake.posts).toEqual([
      'POST /connectors/old/restart?includeTasks=false&onlyFailed=false',
      'POST /connectors/old/tasks/0/restart',
      'POST /connectors/old/tasks/1/restart',
    ]);
    // The connector's restart did not take: counted as failed, not as ok.
    expect(await d.metrics.metrics()).toContain('connect_watchdog_restarts_total{cluster="prod",connector="old",target="connector",class="connection",outcome="failed"} 1');
  });

  it('on a worker older than 3.0 counts the attempt when a later task restart is refused (409): the connector restart ran', async () => {
    fake.version = '2.8.1';
    fake.add('old', { state: 'FAILED', trace: CONNECTION, tasks: [0, 1].map((id) => ({ id, state: 'FAILED', worker_id: 'w', trace: CONNECTION })) });
    fake.interceptors.push((req, res) => {
      if (req.method !== 'POST' || req.url !== '/connectors/old/tasks/1/restart') return false;
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 409, message: 'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)' }));
      return true;
    });
    const d = daemon();
    await d.init();
    await once(d);
    expect(fake.posts).toEqual(['POST /connectors/old/restart?includeTasks=false&onlyFailed=false', 'POST /connectors/old/tasks/0/restart', 'POST /connectors/old/tasks/1/restart']);
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { heal: { subjects: Record<string, { attempts: number; refusals?: number }> } };
    expect(saved.heal.subjects['prod/old/connector']).toMatchObject({ attempts: 1 });
    expect(saved.heal.subjects['prod/old/connector']).not.toHaveProperty('refusals');
  });

  it('restarts each FAILED task when a KIP-745 restart is answered without a status (an older leader ignored the flags)', async () => {
    // A real 3.0.2 worker in a cluster whose leader is still 2.8.2 (a rolling upgrade) forwards the
    // restart to the leader, which ignores the flags: 202 with an empty body, the FAILED tasks untouched
    // (test/fixtures/connect/restart-202-no-body-forwarded-to-2.8.2-leader-connect-3.0.2.json).
    const exchange = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/connect/restart-202-no-body-forwarded-to-2.8.2-leader-connect-3.0.2.json'), 'utf8')) as { status: number };
    fake.version = '3.0.2';
    fake.add('mixed', { state: 'FAILED', trace: CONNECTION, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w', trace: CONNECTION }, { id: 1, state: 'RUNNING', worker_id: 'w' }] });
    fake.interceptors.push((req, res) => {
      if (req.method !== 'POST' || !/^\/connectors\/mixed\/restart\?/.test(req.url ?? '')) return false;
      fake.connectors.get('mixed')!.state = 'RUNNING';
      res.writeHead(exchange.status, { 'content-length': '0' }).end();
      return true;
    });
    const d = daemon();
    await d.init();
    await once(d);
    expect(fake.posts).toEqual(['POST /connectors/mixed/restart?includeTasks=true&onlyFailed=true', 'POST /connectors/mixed/tasks/0/restart']);
  });

  it('falls back to one status request per connector on a worker that ignores expand', async () => {
    fake.legacy = true;
    fake.add('a', {}).add('b', {});
    fake.failTask('b', 0, CONNECTION);
    const d = daemon();
    await d.init();
    await once(d);
    const gets = fake.requests.filter((r) => r.method === 'GET').map((r) => r.url);
    expect(gets).toEqual(expect.arrayContaining(['/connectors?expand=status', '/connectors/a/status', '/connectors/b/status']));
    expect(fake.posts).toEqual(['POST /connectors/b/tasks/0/restart']);
  });

  it('escalates serialization and config failures once, without restarting, and resolves after recovery', async () => {
    fake.add('sink-json', { type: 'sink' });
    fake.failTask('sink-json', 0, SERIALIZATION);
    fake.add('pg-nopub', {});
    fake.failTask('pg-nopub', 0, CONFIG);
    const d = daemon({ heal: { confirmDelay: 0, stablePeriod: 60_000 } });
    await d.init();
    for (let i = 0; i < 4; i++) {
      await once(d);
      clock += 10_000;
    }
    expect(fake.posts).toEqual([]);
    const triggers = hook.received.filter((h) => h.event === 'trigger');
    expect(triggers.map((h) => [h.connector, h.task, h.class]).sort()).toEqual([
      ['pg-nopub', 0, 'config'],
      ['sink-json', 0, 'serialization'],
    ]);
    // An operator fixes the sink; once RUNNING for the stable period the incident resolves.
    const task = fake.connectors.get('sink-json')!.tasks[0]!;
    task.state = 'RUNNING';
    delete task.trace;
    for (let i = 0; i < 8; i++) {
      await once(d);
      clock += 10_000;
    }
    const resolves = hook.received.filter((h) => h.event === 'resolve') as unknown as { connector: string; resolution: string }[];
    expect(resolves.map((h) => [h.connector, h.resolution])).toEqual([['sink-json', 'recovered']]);
  });

  it('goes on re-sending open incidents to Alertmanager after the wall clock stepped back (it drops an alert not re-sent)', async () => {
    fake.add('sink-json', { type: 'sink' });
    fake.failTask('sink-json', 0, SERIALIZATION);
    const d = daemon({ sinks: [{ type: 'alertmanager', name: 'am', url: hook.url.replace(/\/hook$/, '') }], alertmanager: { resendInterval: 60_000 } });
    await d.init();
    await once(d); // the trigger
    clock -= 3_600_000; // NTP steps the clock back an hour
    for (let i = 0; i < 4; i++) {
      clock += 60_000;
      await once(d);
    }
    // The trigger, then a re-send every resendInterval: Alertmanager forgets the alert after resolve_timeout (5 min).
    expect(hook.received.length).toBeGreaterThanOrEqual(4);
  });

  it('exports when its client certificate ends, and logs an expired one once a day while it runs', async () => {
    const tls = join(ROOT, 'test/fixtures/tls');
    const lines: string[] = [];
    const cluster = { name: 'prod', url: fake.url, probe: false, ca: join(tls, 'ca.pem'), cert: join(tls, 'expired-client.pem'), key: join(tls, 'expired-client.key') };
    const d = daemon({ clusters: [cluster] }, {}, pino({ level: 'info' }, { write: (line: string) => lines.push(line) }));
    const metrics = await d.metrics.metrics();
    expect(metrics).toContain(`connect_watchdog_tls_certificate_expiry_timestamp_seconds{cluster="prod",certificate="client"} ${Date.parse('2021-01-01T00:00:00Z') / 1000}`);
    // The worker's is known from a TLS handshake (test/connect/tls.test.ts); this one speaks plain HTTP.
    expect(metrics).not.toContain('certificate="worker"');

    const warned = () => lines.map((l) => JSON.parse(l) as { msg: string; cluster?: string; key?: string; reason?: string }).filter((l) => l.msg === 'TLS certificate');
    await d.init();
    await once(d);
    expect(warned()).toEqual([]); // the command warned on stderr as it started
    clock += 23 * 3_600_000;
    await once(d);
    expect(warned()).toEqual([]);
    clock += 3_600_000;
    await once(d);
    expect(warned()).toEqual([expect.objectContaining({ cluster: 'prod', key: 'cert', reason: expect.stringContaining('expired on 2021-01-01') })]);
    clock += 10_000;
    await once(d);
    expect(warned()).toHaveLength(1);
    clock += 24 * 3_600_000;
    await once(d);
    expect(warned()).toHaveLength(2);
  });

  it('exports when the certificate chain the worker presents ends, once a poll has made a TLS handshake', async () => {
    const tls = join(ROOT, 'test/fixtures/tls');
    const secure = await new FakeConnect().start({ key: readFileSync(join(tls, 'server.key'), 'utf8'), cert: readFileSync(join(tls, 'server.pem'), 'utf8') });
    try {
      secure.add('orders', {});
      const d = daemon({ clusters: [{ name: 'prod', url: secure.url, probe: false, ca: join(tls, 'ca.pem') }] });
      expect(await d.metrics.metrics()).not.toContain('certificate="worker"');
      await d.init();
      expect(await once(d)).toBe(true);
      const end = (f: string) => new X509Certificate(readFileSync(join(tls, f))).validToDate.getTime() / 1000;
      expect(await d.metrics.metrics()).toContain(`connect_watchdog_tls_certificate_expiry_timestamp_seconds{cluster="prod",certificate="worker"} ${Math.min(end('server.pem'), end('ca.pem'))}`);
    } finally {
      await secure.stop();
    }
  });

  it('delivers a page only once its incident is in the state file (a crash after the page must not page again)', async () => {
    fake.add('sink-json', { type: 'sink' });
    fake.failTask('sink-json', 0, SERIALIZATION);
    const file = join(dir, 'state.json');
    // What a watchdog restarted by a crash at the moment of the delivery would read.
    const onDisk: string[] = [];
    hook.onReceive = () => onDisk.push(existsSync(file) ? readFileSync(file, 'utf8') : '');
    const d = daemon({ pollInterval: 600_000, pollJitter: 0 });
    await d.init();
    await d.start();
    try {
      await vi.waitFor(() => expect(onDisk).toHaveLength(1));
    } finally {
      await d.shutdown();
    }
    expect(onDisk[0]).toContain('"prod/sink-json/0/serialization"');
  });

  it('retries a restart refused with 409 on the next poll without counting it', async () => {
    fake.add('a', {});
    fake.failTask('a', 0, CONNECTION);
    let refuse = true;
    fake.interceptors.push((req, res) => {
      if (req.method !== 'POST' || !refuse) return false;
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 409, message: 'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)' }));
      return true;
    });
    const d = daemon();
    await d.init();
    await once(d);
    expect(fake.posts).toEqual(['POST /connectors/a/tasks/0/restart']);
    refuse = false;
    clock += 10_000;
    await once(d);
    expect(fake.posts).toEqual(['POST /connectors/a/tasks/0/restart', 'POST /connectors/a/tasks/0/restart']);
    expect(fake.connectors.get('a')!.tasks[0]!.state).toBe('RUNNING');
  });

  // Kafka 4.3.1 with the broker down (docs/real-stack.md, "Broker outage"): the worker holds a restart for
  // 90 s and answers 500 "Request timed out. The worker is currently ensuring membership in the cluster …"
  // (test/fixtures/connect/real-broker-restart-…); the watchdog's 5 s timeout ends it first. Either way the
  // worker did not restart anything yet (it queues the request and runs it once the broker is back), and
  // the task reads FAILED from a status Connect cannot update: counted, three of them paged "still failing
  // after 3 restarts" 2 min into a broker outage, 46 s after its database accepted again, for a task
  // that had not been restarted once.
  it.each([
    ['no answer within the request timeout', (res: ServerResponse) => void res],
    ['the worker\'s 500 "Request timed out" (broker unreachable)', (res: ServerResponse) =>
      res.writeHead(500, { 'content-type': 'application/json' }).end(readFileSync(join(ROOT, 'test/fixtures/connect/real-broker-restart-includeTasks-onlyFailed-500-timed-out-ensuring-membership.json'), 'utf8'))],
  ])('does not count a restart that got %s as an attempt: retried under backoff, not paged as still failing', async (_what, answer) => {
    fake.add('a', {});
    fake.failTask('a', 0, CONNECTION);
    let holding = true;
    fake.interceptors.push((req, res) => {
      if (req.method !== 'POST' || !holding) return false;
      answer(res);
      return true;
    });
    const d = daemon({ requestRetries: 0, clusters: [{ name: 'prod', url: fake.url, probe: false, timeout: 200 }], heal: { confirmDelay: 0, escalateAfter: { restarts: 3, window: 1_800_000 }, backoff: { initial: 1000, max: 10_000 } } });
    await d.init();
    for (let i = 0; i < 8; i++) {
      await once(d);
      clock += 10_000;
    }
    expect(fake.posts.length).toBeGreaterThanOrEqual(3);
    expect(hook.received).toEqual([]);
    holding = false;
    await once(d);
    expect(fake.connectors.get('a')!.tasks[0]!.state).toBe('RUNNING');
  });

  it('pages restarts refused for escalateAfter.window quoting the worker\'s last answer (a forward to the leader refused over TLS)', async () => {
    fake.add('a', {});
    fake.failTask('a', 0, CONNECTION);
    const refusal = readFileSync(join(ROOT, 'test/fixtures/connect/real-tls-restart-500-forward-client-cert-refused-by-leader.json'), 'utf8');
    fake.interceptors.push((req, res) => {
      if (req.method !== 'POST') return false;
      res.writeHead(500, { 'content-type': 'application/json' }).end(refusal);
      return true;
    });
    const d = daemon({ requestRetries: 0, heal: { confirmDelay: 0, escalateAfter: { restarts: 3, window: 60_000 }, backoff: { initial: 1000, max: 10_000 } } });
    await d.init();
    for (let i = 0; i < 12 && !hook.received.some((h) => h.event === 'trigger'); i++) {
      await once(d);
      clock += 10_000;
    }
    const [page] = hook.received as unknown as { event: string; reason: string }[];
    expect(page?.event).toBe('trigger');
    expect(page?.reason).toMatch(/^Connect refused the last \d+ restarts as a rebalance for 1 min .*; the last answer: HTTP 500 IO Error trying to forward REST request: javax\.net\.ssl\.SSLHandshakeException: Received fatal alert: certificate_unknown$/);
  });

  it("says why a connector named with '/' cannot be restarted (Jetty 12 answers 400 to %2F, as the real 4.3 worker does)", async () => {
    fake.add('orders/eu', {});
    fake.failTask('orders/eu', 0, CONNECTION);
    fake.interceptors.push((req, res) => {
      if (!/%2F|%25/i.test(req.url ?? '')) return false;
      res.writeHead(400, { 'content-type': 'text/html' }).end('<html><title>Error 400 Ambiguous URI path separator</title></html>');
      return true;
    });
    const { d, lines } = await pollLogged();
    expect(fake.posts).toEqual(['POST /connectors/orders%2Feu/tasks/0/restart']);
    const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string; connector?: string }).filter((l) => l.level === 50);
    expect(errors).toEqual([expect.objectContaining({ connector: 'orders/eu', msg: expect.stringContaining("refuses '/', '%'") })]);
    expect(await d.metrics.metrics()).toContain('connect_watchdog_restarts_total{cluster="prod",connector="orders/eu",target="task",class="connection",outcome="failed"} 1');
  });

  it("says why a connector named with '\\', '..' or a name too long for a URI cannot be restarted (the real 4.3.1 worker's 400 and 414)", async () => {
    // Jetty 12 refuses these too, whatever the encoding: the bodies the real worker answered.
    const exchanges = [
      'real-names-task-restart-400-suspicious-path-character-backslash.json',
      'real-names-task-restart-400-ambiguous-path-segment-dot-dot.json',
      'real-names-task-restart-414-uri-too-long-9000-chars.json',
    ].map((f) => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/connect', f), 'utf8')) as { path: string; status: number; contentType: string; body: string });
    const names = ['back\\slash', '..', 'L'.repeat(9000)];
    for (const name of names) {
      fake.add(name, {});
      fake.failTask(name, 0, CONNECTION);
    }
    fake.interceptors.push((req, res) => {
      const exchange = exchanges.find((e) => req.method === 'POST' && e.path === req.url);
      if (exchange === undefined) return false;
      res.writeHead(exchange.status, { 'content-type': exchange.contentType }).end(exchange.body);
      return true;
    });
    const { lines } = await pollLogged();
    expect(fake.posts.sort()).toEqual(exchanges.map((e) => `POST ${e.path}`).sort());
    const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string; connector?: string }).filter((l) => l.level === 50);
    // Named by length: a failure message printing 9000 characters helps nobody.
    const said = Object.fromEntries(errors.map((e) => [e.connector?.length, e.msg]));
    expect(said).toEqual({ 10: expect.stringContaining("'\\'"), 2: expect.stringContaining("'..'"), 9000: expect.stringContaining('too long') });
  });

  describe("a name with ';' that Connect cuts when it forwards a restart between workers (real 4.3.1 bodies)", () => {
    type Exchange = { path: string; status: number; contentType: string; body: unknown };
    const exchange = (f: string) => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/connect', f), 'utf8')) as Exchange;
    const replay = (e: Exchange) =>
      fake.interceptors.push((req, res) => {
        if (req.method !== 'POST' || req.url !== e.path) return false;
        res.writeHead(e.status, { 'content-type': e.contentType }).end(JSON.stringify(e.body));
        return true;
      });
    const errorsOf = (lines: string[]) => lines.map((l) => JSON.parse(l) as { level: number; msg: string; connector?: string; answeredFor?: string }).filter((l) => l.level === 50);

    it('does not take a 202 for another connector as its restart, nor restart anything more', async () => {
      // A follower forwarded `semi;c` to the leader as `semi;c` unencoded: the leader read connector `semi`
      // (`;` starts a path parameter), restarted its FAILED task and answered `semi`'s status.
      const e = exchange('real-names-restart-202-follower-forwarded-semicolon-name-to-other-connector.json');
      fake.add('semi;c', { state: 'FAILED', trace: CONNECTION, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w', trace: CONNECTION }] });
      replay(e);
      const { d, lines } = await pollLogged();
      expect(fake.posts).toEqual([`POST ${e.path}`]);
      expect(lines.some((l) => l.includes('"msg":"restart sent"'))).toBe(false);
      expect(errorsOf(lines)).toEqual([expect.objectContaining({ connector: 'semi;c', answeredFor: 'semi', msg: expect.stringContaining("cut at ';'") })]);
      expect(await d.metrics.metrics()).toContain('connect_watchdog_restarts_total{cluster="prod",connector="semi;c",target="connector",class="connection",outcome="failed"} 1');
    });

    it("says so when the forwarded task restart is answered 404 for the cut name", async () => {
      const e = exchange('real-names-task-restart-404-forwarded-semicolon-name-cut.json');
      fake.add('semi5;x', {});
      fake.failTask('semi5;x', 0, CONNECTION);
      replay(e);
      const { lines } = await pollLogged();
      expect(fake.posts).toEqual([`POST ${e.path}`]);
      expect(errorsOf(lines)).toEqual([expect.objectContaining({ connector: 'semi5;x', answeredFor: 'semi5', msg: expect.stringContaining("cut at ';'") })]);
    });
  });

  it('never touches PAUSED or STOPPED connectors', async () => {
    fake.add('paused', { state: 'PAUSED', tasks: [{ id: 0, state: 'FAILED', worker_id: 'w', trace: CONNECTION }] });
    fake.add('stopped', { state: 'STOPPED', tasks: [] });
    const d = daemon();
    await d.init();
    await once(d);
    expect(fake.posts).toEqual([]);
  });

  describe('the worker health (heal.health)', () => {
    const outage = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/connect/real-broker-health-500-stopping-tasks.json'), 'utf8')) as unknown;

    it('pages a worker unhealthy for heal.health.after from cron (a new process each run, the state file carrying since when), and resolves it when healthy', async () => {
      fake.add('pg-orders', {}); // RUNNING, as a worker cut off from the brokers lists it
      fake.health = { code: 500, body: outage };
      let last: Daemon | undefined;
      const run = async () => {
        last = daemon();
        await last.init();
        expect(await once(last)).toBe(true);
      };
      for (let minute = 0; minute <= 5; minute++, clock += 60_000) await run();
      expect(fake.requests.filter((r) => r.url === '/health')).toHaveLength(6);
      const pages = hook.received as unknown as { event: string; connector: string; class: string; severity: string; rootCause: string; reason: string }[];
      expect(pages.map((h) => [h.event, h.connector, h.class, h.severity])).toEqual([['trigger', '*', 'worker-unhealthy', 'critical']]);
      expect(pages[0]!.rootCause).toContain('The worker is currently stopping 3 and 3 tasks');
      expect(pages[0]!.reason).toContain('answered GET /health unhealthy at every read for 5 min');
      expect(await last!.metrics.metrics()).toContain('connect_watchdog_worker_healthy{cluster="prod"} 0');
      expect(fake.posts).toEqual([]); // never acted on
      fake.health = { code: 200, body: { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' } };
      await run();
      expect(hook.received.map((h) => [h.event, h.class, (h as unknown as { resolution?: string }).resolution])).toEqual([
        ['trigger', 'worker-unhealthy', undefined],
        ['resolve', 'worker-unhealthy', 'healthy'],
      ]);
      expect(await last!.metrics.metrics()).toContain('connect_watchdog_worker_healthy{cluster="prod"} 1');
    });

    it('withholds restarts and offset reads while the worker says it is not healthy (it would hold them, then run them all at once), and restarts at its first healthy answer', async () => {
      fake.add('pg-orders', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: CONNECTION }] });
      fake.add('pg-items', { offsets: [{ partition: { server: 'shop' }, offset: { lsn: 1 } }] });
      fake.health = { code: 500, body: outage };
      const lines: { msg: string; reason?: string }[] = [];
      const d = daemon({ heal: { confirmDelay: 0, stall: { connectors: '^pg-', after: 120_000, checkInterval: 60_000 } } }, {}, pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }));
      await d.init();
      for (let minute = 0; minute < 4; minute++, clock += 60_000) await once(d);
      expect(fake.posts).toEqual([]);
      expect(fake.requests.filter((r) => r.url.endsWith('/offsets'))).toEqual([]);
      expect(lines.filter((l) => l.msg === 'restart withheld').map((l) => l.reason)).toEqual(['worker-unhealthy']);
      expect(await d.metrics.metrics()).toContain('connect_watchdog_restarts_total{cluster="prod",connector="pg-orders",target="task",class="connection",outcome="skipped"} 1');
      fake.health = { code: 200, body: { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' } };
      await once(d);
      expect(fake.posts).toEqual(['POST /connectors/pg-orders/tasks/0/restart']);
      expect(fake.requests.filter((r) => r.url.endsWith('/offsets')).map((r) => r.url)).toEqual(['/connectors/pg-items/offsets']);
      // Offsets not read for 4 minutes are no stall: the first read after the outage only confirms them.
      expect(hook.received.map((h) => [h.event, h.class])).toEqual([]);
    });
  });

  describe('a connector RUNNING with no task (heal.noTasksAfter)', () => {
    // The name of the connector this was seen with on a real stack: RUNNING, "tasks": [] on a follower for good.
    const NAME = 'mm2 checkpoint;eu';
    const listed = (minutes: number, d: Daemon) => async () => {
      for (let m = 0; m < minutes; m++, clock += 60_000) await once(d);
    };

    it('pages it once after heal.noTasksAfter (set by CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER), never restarts it, counts it, and resolves it when its tasks appear', async () => {
      fake.add(NAME, { tasks: [] });
      fake.add('healthy', {});
      const d = daemon({}, { CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER: '900000' });
      await d.init();
      await listed(15, d)(); // polls at 0 … 14 min
      expect(hook.received).toEqual([]);
      await listed(10, d)(); // 15 … 24 min
      const pages = hook.received as unknown as { event: string; key: string; class: string; severity: string; reason: string; hint: string; firstSeen: string; statusUrl: string }[];
      expect(pages.map((p) => [p.event, p.key, p.class, p.severity])).toEqual([['trigger', `prod/${NAME}/connector/no-tasks`, 'no-tasks', 'error']]);
      expect(pages[0]!.reason).toMatch(/^RUNNING with no task for 15 min \(heal\.noTasksAfter 15 min\)/);
      expect(pages[0]!.reason).toContain('rest.advertised.host.name');
      expect(pages[0]!.hint).toContain('MirrorCheckpointConnector');
      expect(pages[0]!.firstSeen).toBe('2026-11-25T10:00:00.000Z');
      expect(pages[0]!.statusUrl).toBe(`${fake.url}/connectors/mm2%20checkpoint%3Beu/status`);
      expect(fake.posts).toEqual([]);
      let metrics = await d.metrics.metrics();
      expect(metrics).toContain(`connect_watchdog_escalations_total{cluster="prod",connector="${NAME}",class="no-tasks"} 1`);
      expect(metrics).toContain('connect_watchdog_incidents_open{cluster="prod",class="no-tasks"} 1');
      fake.connectors.get(NAME)!.tasks = [{ id: 0, state: 'RUNNING', worker_id: '127.0.0.1:8083' }];
      await once(d);
      expect(hook.received.map((h) => [h.event, h.class, (h as unknown as { resolution?: string }).resolution])).toEqual([
        ['trigger', 'no-tasks', undefined],
        ['resolve', 'no-tasks', 'has-tasks'],
      ]);
      metrics = await d.metrics.metrics();
      expect(metrics).toContain('connect_watchdog_incidents_open{cluster="prod",class="no-tasks"} 0');
      expect(fake.posts).toEqual([]);
    });

    it('is off by default: an hour of "tasks": [] pages nothing and leaves nothing in the state file', async () => {
      fake.add(NAME, { tasks: [] });
      const d = daemon();
      await d.init();
      await listed(60, d)();
      expect(hook.received).toEqual([]);
      expect(fake.posts).toEqual([]);
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { heal: { subjects: object; incidents: object } };
      expect(state.heal).toMatchObject({ subjects: {}, incidents: {} });
    });

    it('pages it from cron too (run --once, a new process each time: the state file carries since when), and not in dry-run', async () => {
      fake.add(NAME, { tasks: [] });
      const env = { CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER: '900000' };
      const run = async (extra: Record<string, unknown> = {}) => {
        const d = daemon(extra, env);
        await d.init();
        expect(await once(d)).toBe(true);
        return d;
      };
      for (let m = 0; m < 15; m += 5, clock += 5 * 60_000) await run();
      expect(hook.received).toEqual([]);
      const dry = await run({ dryRun: true });
      expect(hook.received).toEqual([]);
      expect(await dry.metrics.metrics()).toContain(`connect_watchdog_escalations_total{cluster="prod",connector="${NAME}",class="no-tasks"} 1`);
      await run();
      expect(hook.received.map((h) => [h.event, h.class])).toEqual([['trigger', 'no-tasks']]);
      clock += 5 * 60_000;
      await run();
      expect(hook.received).toHaveLength(1);
      expect(fake.posts).toEqual([]);
    });
  });

  describe('stalled sources (heal.stall)', () => {
    const offsets = (lsn: number) => [{ partition: { server: 'shop' }, offset: { lsn, txId: 7 } }];
    const stall = (over: Record<string, unknown> = {}) => ({ heal: { confirmDelay: 0, stall: { connectors: '^pg-', after: 300_000, checkInterval: 60_000, ...over } } });
    const offsetReads = () => fake.requests.filter((r) => r.url.endsWith('/offsets')).map((r) => r.url);

    it('pages a watched source whose offsets have not moved for heal.stall.after, from cron (a new process each run), and resolves it once they move', async () => {
      fake.add('pg-orders', { offsets: offsets(1) });
      fake.add('pg-sink', { type: 'sink' });
      fake.add('mysql-orders', { offsets: offsets(1) });
      let last: Daemon | undefined;
      const run = async () => {
        last = daemon(stall());
        await last.init();
        await once(last);
      };
      const start = clock;
      for (let minute = 0; minute <= 5; minute++, clock += 60_000) await run();
      // Only the watched source is read, once a run; the state file carried when its offsets last moved.
      expect(offsetReads()).toEqual(Array(6).fill('/connectors/pg-orders/offsets'));
      expect(hook.received.map((h) => [h.event, h.connector, h.task, h.class])).toEqual([['trigger', 'pg-orders', null, 'stalled']]);
      expect(await last!.metrics.metrics()).toContain(`connect_watchdog_source_offsets_last_moved_timestamp_seconds{cluster="prod",connector="pg-orders"} ${start / 1000}`);
      fake.connectors.get('pg-orders')!.offsets = offsets(2);
      await run();
      expect(hook.received.map((h) => [h.event, h.class, (h as unknown as { resolution?: string }).resolution])).toEqual([
        ['trigger', 'stalled', undefined],
        ['resolve', 'stalled', 'flowing'],
      ]);
      expect(await last!.metrics.metrics()).toContain(`connect_watchdog_source_offsets_last_moved_timestamp_seconds{cluster="prod",connector="pg-orders"} ${clock / 1000}`);
    });

    it('reads the offsets every heal.stall.checkInterval, not every poll', async () => {
      fake.add('pg-orders', { offsets: offsets(1) });
      const d = daemon(stall());
      await d.init();
      const reads: number[] = [];
      for (let poll = 0; poll < 13; poll++, clock += 10_000) {
        await once(d);
        reads.push(offsetReads().length);
      }
      expect(reads).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3]);
    });

    it('a read that fails is counted, logged once while it fails the same way, pages nothing, and is tried again at the next check', async () => {
      fake.add('pg-orders', { offsets: offsets(1) });
      let failing = true;
      fake.interceptors.push((req, res) => {
        if (!failing || !req.url?.endsWith('/offsets')) return false;
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 500, message: 'Request timed out' }));
        return true;
      });
      const lines: { msg: string; count?: number }[] = [];
      const d = daemon({ ...stall({ after: 60_000 }), requestRetries: 0 }, {}, pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }));
      await d.init();
      for (let poll = 0; poll < 20; poll++, clock += 10_000) await once(d);
      expect(hook.received).toEqual([]);
      expect(lines.filter((l) => l.msg.startsWith('could not read the offsets'))).toHaveLength(1);
      expect(await d.metrics.metrics()).toContain('connect_watchdog_offset_reads_total{cluster="prod",outcome="failed"} 4');
      failing = false;
      clock += 40_000; // the next check is due 240 s after the first poll
      await once(d);
      expect(await d.metrics.metrics()).toContain('connect_watchdog_offset_reads_total{cluster="prod",outcome="ok"} 1');
      expect(lines.filter((l) => l.msg === 'the offsets of the watched source connectors read again')).toHaveLength(1);
    });

    it('gives a round of offset reads one request\'s time: on a worker that does not answer them the poll ends, the reads fail and are counted', async () => {
      for (const name of ['pg-a', 'pg-b', 'pg-c']) fake.add(name, { offsets: offsets(1) });
      fake.interceptors.push((req) => req.url?.endsWith('/offsets') === true); // never answered
      const d = daemon({ ...stall(), requestRetries: 0, statusConcurrency: 1, clusters: [{ name: 'prod', url: fake.url, probe: false, timeout: 100 }] });
      await d.init();
      expect(await once(d)).toBe(true);
      // One at a time here: the first read used up the round's deadline, the other two were never sent.
      expect(offsetReads()).toHaveLength(1);
      expect(await d.metrics.metrics()).toContain('connect_watchdog_offset_reads_total{cluster="prod",outcome="failed"} 3');
      expect(hook.received).toEqual([]);
    });

    it('after failed reads (a broker outage) pages a stall only when a second read finds the offsets unmoved', async () => {
      fake.add('pg-orders', { offsets: offsets(1) });
      let failing = false;
      fake.interceptors.push((req, res) => {
        if (!failing || !req.url?.endsWith('/offsets')) return false;
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 500, message: 'Request timed out. The worker is currently ensuring membership in the cluster' }));
        return true;
      });
      const d = daemon({ ...stall({ after: 120_000 }), requestRetries: 0 });
      await d.init();
      await once(d);
      failing = true;
      for (let check = 0; check < 5; check++) {
        clock += 60_000;
        await once(d);
      }
      failing = false;
      clock += 60_000;
      await once(d);
      expect(hook.received).toEqual([]);
      clock += 60_000;
      await once(d);
      expect(hook.received.map((h) => [h.event, h.class])).toEqual([['trigger', 'stalled']]);
    });

    it('ends a round of offset reads at the first that times out (a lost broker holds them all): the rest are not sent, and the poll goes on', async () => {
      for (const name of ['pg-a', 'pg-b', 'pg-c']) fake.add(name, { offsets: offsets(1) });
      fake.interceptors.push((req) => req.url?.endsWith('/offsets') === true); // never answered
      // The defaults' 2 retries and a round of 3 × 1 s × 3 = 9 s: without the cut, the three would be asked 3 times each.
      const lines: { msg: string; failed?: { connector: string; err: string }[] }[] = [];
      const d = daemon(
        { ...stall(), statusConcurrency: 1, clusters: [{ name: 'prod', url: fake.url, probe: false, timeout: 1_000 }] },
        {},
        pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }),
      );
      await d.init();
      expect(await once(d)).toBe(true);
      expect(offsetReads()).toEqual(['/connectors/pg-a/offsets']);
      expect(lines.flatMap((l) => l.failed ?? []).map((f) => [f.connector, f.err.replace(/^GET \S+ on cluster prod: /, '')])).toEqual([
        ['pg-a', expect.stringMatching(/^timed out/)],
        ['pg-b', 'not read: an earlier read of this check timed out'],
        ['pg-c', 'not read: an earlier read of this check timed out'],
      ]);
      expect(await d.metrics.metrics()).toContain('connect_watchdog_offset_reads_total{cluster="prod",outcome="failed"} 3');
    });

    it('on a worker without the offsets endpoint (before 3.5) warns once and stops asking until its version changes', async () => {
      fake.add('pg-orders', { offsets: offsets(1) });
      fake.noOffsetsEndpoint = true;
      fake.version = '3.4.1';
      const lines: { msg: string; version?: string }[] = [];
      const d = daemon(stall(), {}, pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }));
      await d.init();
      for (let poll = 0; poll < 20; poll++, clock += 10_000) await once(d);
      expect(offsetReads()).toHaveLength(1);
      expect(lines.filter((l) => l.msg.includes('no GET /connectors/{name}/offsets')).map((l) => l.version)).toEqual(['3.4.1']);
      expect(hook.received).toEqual([]);
    });
  });

  it('keeps its memory across a restart of the daemon (state file)', async () => {
    fake.add('a', {});
    fake.failTask('a', 0, CONNECTION);
    fake.restartEffect = 'failed';
    const first = daemon();
    await first.init();
    await once(first);
    expect(fake.posts).toHaveLength(1);
    // A new daemon 5 s later: the backoff (10 s) remembered from the state file holds the next restart.
    clock += 5_000;
    const second = daemon();
    await second.init();
    await once(second);
    expect(fake.posts).toHaveLength(1);
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { heal: { subjects: Record<string, { attempts: number }> } };
    expect(Object.values(saved.heal.subjects).map((s) => s.attempts)).toContain(1);
  });

  /** A config failure paged by a first run while the sink is down: the page stays in the state file. */
  async function pagedWhileSinkDown() {
    fake.add('pg-nopub', {});
    fake.failTask('pg-nopub', 0, CONFIG);
    const down = { sinks: [{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:1/hook' }], delivery: { retries: 0 } };
    const first = daemon(down);
    await first.init();
    await once(first);
    return down;
  }

  it('a restart with pages still undelivered keeps the open incidents in the state file from its first write', async () => {
    const down = await pagedWhileSinkDown();
    const file = join(dir, 'state.json');
    const before = readFileSync(file, 'utf8');
    const saved = () => JSON.parse(readFileSync(file, 'utf8')) as { heal: { incidents: Record<string, unknown> }; outbox: unknown[] };
    expect(Object.keys(saved().heal.incidents)).toEqual(['prod/pg-nopub/0/config']);
    expect(saved().outbox).toHaveLength(1);
    // The next start restores the page and writes at once (before any poll): a crash right then must
    // leave the incident open in the file, or the next start would page it again and never resolve it.
    clock += 10_000;
    const second = daemon(down);
    await second.init();
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).not.toBe(before));
    expect(Object.keys(saved().heal.incidents)).toEqual(['prod/pg-nopub/0/config']);
    expect(saved().outbox).toHaveLength(1);
  });

  it('at start-up writes the state file once it holds the removed cluster\'s resolves: no write in between drops its incidents unresolved', async () => {
    // Pages left undelivered (restoring them wants a write) and a cluster renamed (its incidents get resolves).
    const down = await pagedWhileSinkDown();
    clock += 10_000;
    const written: StateContent[] = [];
    const save = StateStore.prototype.save;
    vi.spyOn(StateStore.prototype, 'save').mockImplementation(function (this: StateStore, read, opts) {
      written.push(read());
      return save.call(this, read, opts);
    });
    try {
      const second = daemon({ ...down, clusters: [{ name: 'production', url: fake.url, probe: false }] });
      await second.init();
    } finally {
      vi.restoreAllMocks();
    }
    expect(written.length).toBeGreaterThan(0);
    for (const content of written) {
      const events = (content.outbox as { event: { event: string; incident: { cluster: string } } }[]).map((p) => [p.event.event, p.event.incident.cluster]);
      expect(Object.keys(content.heal.incidents)).toEqual([]);
      expect(events).toEqual([['trigger', 'prod'], ['resolve', 'prod']]);
    }
  });

  it('resolves the open incidents of a cluster removed from the config (cluster-removed) and forgets it', async () => {
    fake.add('pg-nopub', {});
    fake.failTask('pg-nopub', 0, CONFIG);
    const first = daemon();
    await first.init();
    await once(first);
    expect(hook.received.map((h) => [h.event, h.connector])).toEqual([['trigger', 'pg-nopub']]);
    // The cluster is renamed: the old name's incident is over; the new name pages afresh.
    clock += 10_000;
    const second = daemon({ clusters: [{ name: 'production', url: fake.url, probe: false }] });
    await second.init();
    await once(second);
    const got = hook.received as unknown as { event: string; cluster: string; resolution?: string; statusUrl: string }[];
    expect(got.map((h) => [h.event, h.cluster, h.resolution])).toEqual([
      ['trigger', 'prod', undefined],
      ['resolve', 'prod', 'cluster-removed'],
      ['trigger', 'production', undefined],
    ]);
    expect(got[1]!.statusUrl).toBe('');
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { heal: { incidents: Record<string, unknown> } };
    expect(Object.keys(saved.heal.incidents)).toEqual(['production/pg-nopub/0/config']);
  });

  it('sends the resolve to a sink that got the trigger, though its filter was narrowed across a restart', async () => {
    fake.add('pg-nopub', {});
    fake.failTask('pg-nopub', 0, CONFIG);
    const first = daemon({ heal: { confirmDelay: 0, stablePeriod: 10_000 }, sinks: [{ type: 'webhook', name: 'hook', url: hook.url, filter: { classes: ['config'] } }] });
    await first.init();
    await once(first);
    const task = fake.connectors.get('pg-nopub')!.tasks[0]!;
    task.state = 'RUNNING';
    delete task.trace;
    const second = daemon({ heal: { confirmDelay: 0, stablePeriod: 10_000 }, sinks: [{ type: 'webhook', name: 'hook', url: hook.url, filter: { classes: ['serialization'] } }] });
    await second.init();
    for (let i = 0; i < 3; i++) {
      clock += 10_000;
      await once(second);
    }
    expect(hook.received.map((h) => [h.event, h.connector])).toEqual([
      ['trigger', 'pg-nopub'],
      ['resolve', 'pg-nopub'],
    ]);
  });

  it('stays alive (/healthz 200) while a slow cluster holds a poll longer than 3 poll intervals', async () => {
    fake.add('a', {});
    let hold = false;
    fake.interceptors.push((req, res) => {
      if (!hold || !req.url?.startsWith('/connectors?expand=status')) return false;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 1500);
      return true;
    });
    const real = new Daemon({ config: loadConfig({ env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_POLL_INTERVAL: '200', CONNECT_WATCHDOG_POLL_JITTER: '0', CONNECT_WATCHDOG_METRICS_PORT: '0', CONNECT_WATCHDOG_METRICS_HOST: '127.0.0.1', CONNECT_WATCHDOG_STATE_FILE: join(dir, 'state.json') } }), logger: silentLogger() });
    await real.init();
    await real.start();
    try {
      await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${real.metricsPort}/readyz`)).status).toBe(200));
      hold = true;
      await new Promise((r) => setTimeout(r, 1200)); // a poll held 1.2 s: 6 poll intervals without a tick
      expect((await fetch(`http://127.0.0.1:${real.metricsPort}/healthz`)).status).toBe(200);
    } finally {
      hold = false;
      await real.shutdown();
    }
  });

  it('stays alive (/healthz 200) when the wall clock steps forward an hour during a poll (liveness is measured on the monotonic clock)', async () => {
    fake.add('a', {});
    let hold = false;
    let held = 0;
    fake.interceptors.push((req, res) => {
      if (!hold || !req.url?.startsWith('/connectors?expand=status')) return false;
      held++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 1500);
      return true;
    });
    let wall = Date.now();
    const real = new Daemon({
      config: loadConfig({ env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_POLL_INTERVAL: '200', CONNECT_WATCHDOG_POLL_JITTER: '0', CONNECT_WATCHDOG_METRICS_PORT: '0', CONNECT_WATCHDOG_METRICS_HOST: '127.0.0.1', CONNECT_WATCHDOG_STATE_FILE: join(dir, 'state.json') } }),
      logger: silentLogger(),
      now: () => wall,
      monotonic: () => performance.now(),
    });
    await real.init();
    await real.start();
    try {
      await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${real.metricsPort}/readyz`)).status).toBe(200));
      hold = true;
      await vi.waitFor(() => expect(held).toBeGreaterThan(0)); // a poll in flight, no tick until it ends
      wall += 3_600_000; // NTP steps a slow clock forward
      expect((await fetch(`http://127.0.0.1:${real.metricsPort}/healthz`)).status).toBe(200);
    } finally {
      hold = false;
      await real.shutdown();
    }
  });

  it('stops within shutdownTimeout, polls and deliveries together, when a cluster and a sink both hang (docker stop, TimeoutStopSec)', async () => {
    fake.add('sink-json', { type: 'sink' });
    fake.failTask('sink-json', 0, SERIALIZATION);
    let listings = 0;
    // The first listing answers (a page is queued); every later one is never answered.
    fake.interceptors.push((req) => req.url?.startsWith('/connectors?expand=status') === true && ++listings > 1);
    let delivering = false;
    const pager = createServer(() => {
      delivering = true; // accepted, never answered
    });
    await new Promise<void>((done) => pager.listen(0, '127.0.0.1', done));
    const pagerUrl = `http://127.0.0.1:${(pager.address() as AddressInfo).port}/hook`;
    const d = daemon({ pollInterval: 50, pollJitter: 0, requestTimeout: 60_000, shutdownTimeout: 1_000, sinks: [{ type: 'webhook', name: 'hook', url: pagerUrl }] });
    await d.init();
    await d.start();
    let elapsed = Infinity;
    try {
      await vi.waitFor(() => {
        expect(delivering).toBe(true);
        expect(listings).toBeGreaterThan(1);
      });
    } finally {
      const started = performance.now();
      await d.shutdown();
      elapsed = performance.now() - started;
      pager.closeAllConnections();
      pager.close();
    }
    // The whole stop, not the polls and then as long again for the pages: a supervisor that waits
    // shutdownTimeout and a little more must not have to SIGKILL it before the last state write.
    expect(elapsed).toBeLessThan(1_000 + 300);
  });

  it('keeps polling at its pace when the wall clock steps back an hour during a poll (NTP, a VM resumed)', async () => {
    fake.add('a', {});
    let offset = 0;
    let listings = 0;
    fake.interceptors.push((req) => {
      if (req.url?.startsWith('/connectors?expand=status') && ++listings === 1) offset = -3_600_000; // mid-poll
      return false;
    });
    const config = loadConfig({ env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_POLL_INTERVAL: '50', CONNECT_WATCHDOG_POLL_JITTER: '0', CONNECT_WATCHDOG_METRICS_ENABLED: 'false', CONNECT_WATCHDOG_STATE_FILE: join(dir, 'state.json') } });
    const real = new Daemon({ config, logger: silentLogger(), now: () => Date.now() + offset });
    await real.init();
    await real.start();
    try {
      await new Promise((r) => setTimeout(r, 600)); // 12 poll intervals
      expect(listings).toBeGreaterThanOrEqual(4);
    } finally {
      await real.shutdown();
    }
  });

  it('counts the time that passed, not the step, when the wall clock steps forward an hour between polls (NTP setting a slow clock): no burst of restarts, no pages', async () => {
    for (const name of ['u0', 'u1', 'u2']) fake.add(name, { tasks: [{ id: 0, state: 'UNASSIGNED', worker_id: '' }] }); // a rebalance under way
    fake.add('pg-orders', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: CONNECTION }] });
    fake.restartEffect = 'failed';
    let elapsed = 0; // the monotonic clock: the time that really passed
    const d = daemon({ heal: { confirmDelay: 0, backoff: { initial: 60_000 } } }, {}, silentLogger(), () => elapsed);
    await d.init();
    const poll = async (passed: number, step = 0) => {
      elapsed += passed;
      clock += passed + step;
      await once(d);
    };
    await poll(0);
    expect(fake.posts).toEqual(['POST /connectors/pg-orders/tasks/0/restart']);
    await poll(10_000, 3_600_000); // 10 s later, the wall clock an hour ahead
    await poll(10_000);
    expect(fake.posts).toHaveLength(1); // still within the 60 s backoff
    expect(hook.received).toEqual([]); // UNASSIGNED for 20 s: no page
    await poll(45_000); // the backoff (60 s, less up to 20 % jitter) has passed
    expect(fake.posts).toHaveLength(2);
    await poll(10 * 60_000); // UNASSIGNED for 10 min, really
    expect(hook.received.map((h) => [h.event, h.connector, h.class])).toEqual([
      ['trigger', 'u0', 'unassigned'],
      ['trigger', 'u1', 'unassigned'],
      ['trigger', 'u2', 'unassigned'],
    ]);
  });

  it('pages a task UNASSIGNED for heal.unassignedAfter, no sooner and no later, while the wall clock flips between two sources an hour apart (stepped back, then forward again)', async () => {
    fake.add('u0', { tasks: [{ id: 0, state: 'UNASSIGNED', worker_id: '' }] });
    let elapsed = 0; // the monotonic clock: the time that really passed
    const start = clock;
    const d = daemon({}, {}, silentLogger(), () => elapsed);
    await d.init();
    const paged = () => hook.received.filter((h) => h.event === 'trigger' && h.connector === 'u0').length;
    // Two time sources an hour apart (a hypervisor's sync and NTP) set the clock in turn, every 2 minutes.
    const wallAt = (t: number) => start + t - (Math.floor(t / 120_000) % 2 === 1 ? 3_600_000 : 0);
    let firstPageAt: number | undefined;
    for (let t = 0; t <= 15 * 60_000; t += 30_000) {
      elapsed = t;
      clock = wallAt(t);
      await once(d);
      if (firstPageAt === undefined && paged() > 0) firstPageAt = t;
    }
    // heal.unassignedAfter is 10 min: UNASSIGNED for 10 min of real time, not 4 (an hour counted twice), nor never.
    expect(firstPageAt).toBe(10 * 60_000);
  });

  it('a dry run leaves the real run\'s undelivered pages alone: they reach the pager once, from the real run', async () => {
    fake.add('sink-json', { type: 'sink' });
    fake.failTask('sink-json', 0, SERIALIZATION);
    const real = () => daemon({ sinks: [{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:1/hook' }], delivery: { retries: 0 } });
    const first = real();
    await first.init();
    await once(first);
    const dry = daemon({ dryRun: true });
    await dry.init();
    await once(dry);
    expect(hook.received).toEqual([]);
    const again = daemon();
    await again.init();
    await once(again);
    expect(hook.received.map((h) => [h.event, h.connector])).toEqual([['trigger', 'sink-json']]);
  });

  it('run --once has sent the heartbeat\'s ping when it returns (the command exits right after)', async () => {
    const answered: number[] = [];
    // A dead man's switch 300 ms away (DNS, TCP and TLS to a hosted service).
    const ping = createServer((_req, res) => setTimeout(() => (answered.push(clock), res.writeHead(200).end('OK')), 300));
    await new Promise<void>((r) => ping.listen(0, '127.0.0.1', r));
    try {
      fake.add('orders', {});
      const d = daemon({ heartbeat: { url: `http://127.0.0.1:${(ping.address() as AddressInfo).port}/ping/uuid` } });
      await d.init();
      expect(await once(d)).toBe(true);
      expect(answered).toHaveLength(1);
    } finally {
      ping.close();
    }
  });

  it('a dry run does not ping heartbeat.url: the switch would call the watchdog alive while nothing heals', async () => {
    let pings = 0;
    const ping = createServer((_req, res) => (pings++, res.writeHead(200).end('OK')));
    await new Promise<void>((r) => ping.listen(0, '127.0.0.1', r));
    try {
      fake.add('orders', {});
      const d = daemon({ dryRun: true, heartbeat: { url: `http://127.0.0.1:${(ping.address() as AddressInfo).port}/ping/uuid` } });
      await d.init();
      expect(await once(d)).toBe(true);
      expect(pings).toBe(0);
    } finally {
      ping.close();
    }
  });

  it('sends pages and heartbeat pings through the proxy of HTTP_PROXY / HTTPS_PROXY, and asks Connect directly', async () => {
    const proxy = await recordingProxy();
    try {
      fake.add('sink-json', { type: 'sink' });
      fake.failTask('sink-json', 0, SERIALIZATION);
      const d = daemon(
        { sinks: [{ type: 'webhook', name: 'hook', url: 'http://pager.example/hook' }], heartbeat: { url: 'http://hc.example/ping/uuid' } },
        { http_proxy: proxy.url },
      );
      await d.init();
      expect(await once(d)).toBe(true);
      expect(proxy.asked.map((a) => a.request).sort()).toEqual(['GET http://hc.example/ping/uuid', 'POST http://pager.example/hook']);
      expect(fake.requests.length).toBeGreaterThan(0);
    } finally {
      proxy.close();
    }
  });

  it('sends nothing in dry-run mode, neither restarts nor pages, but counts what it would do', async () => {
    fake.add('a', {});
    fake.failTask('a', 0, CONNECTION);
    fake.add('sink-json', { type: 'sink' });
    fake.failTask('sink-json', 0, SERIALIZATION);
    // Alertmanager too: its re-sends of open incidents are pages like any other.
    const alertmanager = { type: 'alertmanager', name: 'am', url: hook.url.replace(/\/hook$/, '') };
    const d = daemon({ dryRun: true, sinks: [{ type: 'webhook', name: 'hook', url: hook.url }, alertmanager] });
    await d.init();
    await once(d);
    expect(fake.posts).toEqual([]);
    expect(hook.received).toEqual([]);
    const metrics = await d.metrics.metrics();
    expect(metrics).toContain('outcome="dry_run"} 1');
    expect(metrics).toContain('connect_watchdog_escalations_total{cluster="prod",connector="sink-json",class="serialization"} 1');
    // A trial run leaves the state file alone: the real run after it pages and restarts what it finds.
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
    clock += 10_000;
    const real = daemon();
    await real.init();
    await once(real);
    expect(fake.posts).toEqual(['POST /connectors/a/tasks/0/restart']);
    expect(hook.received.map((h) => [h.event, h.connector])).toEqual([['trigger', 'sink-json']]);
  });

  it('a secret in a trace never reaches the webhook, the logs or the state file', async () => {
    fake.add('jdbc', { type: 'sink' });
    fake.failTask('jdbc', 0, `org.apache.kafka.connect.errors.ConnectException: java.sql.SQLException: Access denied for user 'app' connecting to jdbc:postgresql://app:s3cret@db/x?password=s3cret\n\tat x.y(Z.java:1)`);
    fake.add('pg', {});
    fake.failTask('pg', 0, 'org.apache.kafka.connect.errors.ConnectException: x\nCaused by: org.postgresql.util.PSQLException: Connection to db:5432 refused (url jdbc:postgresql://app:s3cret@db/x, password=s3cret)');
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const d = daemon({ stateFile: join(dir, 'state.json') }, {}, logger);
    await d.init();
    await once(d);
    expect(hook.received).toHaveLength(1);
    expect(fake.posts).toEqual(['POST /connectors/pg/tasks/0/restart']);
    expect(lines.length).toBeGreaterThan(3);
    expect(JSON.stringify(hook.received)).not.toContain('s3cret');
    expect(lines.join('\n')).not.toContain('s3cret');
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).not.toContain('s3cret');
  });

  describe('pages in the state file when unnamed sinks are renumbered', () => {
    // Sinks without a `name` are named `<type>-<index>`: removing or inserting one renumbers those after it.
    // Pages still undelivered in the state file must reach, after a restart, the sink they were queued for,
    // not whichever sink now has that name.
    let dbTeam: WebhookReceiver;
    let searchTeam: WebhookReceiver;
    let newTeam: WebhookReceiver;
    beforeEach(async () => {
      // Pagers that are down until the test says.
      [dbTeam, searchTeam, newTeam] = await Promise.all([webhookReceiver(), webhookReceiver(), webhookReceiver()]);
      for (const r of [dbTeam, searchTeam, newTeam]) r.up = false;
      // Both fail for good (serialization pages at once, never restarted).
      fake.add('pg-orders', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: SERIALIZATION }] });
      fake.add('es-logs', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: SERIALIZATION }] });
    });
    afterEach(() => {
      for (const r of [dbTeam, searchTeam, newTeam]) r.server.close();
    });
    const unnamed = (sinks: readonly WebhookReceiver[], filters: readonly string[]) =>
      daemon({ delivery: { retries: 0 }, sinks: sinks.map((r, i) => ({ type: 'webhook', url: r.url, filter: { connector: filters[i] } })) });
    const got = (r: WebhookReceiver) => r.received.map(({ event, connector }) => ({ event, connector }));

    it('a sink removed from the top of the list: the sink after it gets its own pages, not the removed sink’s', async () => {
      // webhook-0 pages the database team, webhook-1 the search team; both receivers are down.
      const first = unnamed([dbTeam, searchTeam], ['^pg-', '^es-']);
      await first.init();
      await first.runOnce();
      expect([...got(dbTeam), ...got(searchTeam)]).toEqual([]);
      // The database team's sink is removed from the config: the search team's is webhook-0 now.
      dbTeam.up = true;
      searchTeam.up = true;
      const second = unnamed([searchTeam], ['^es-']);
      await second.init();
      await second.runOnce();
      expect(got(searchTeam)).toEqual([{ event: 'trigger', connector: 'es-logs' }]);
      expect(got(dbTeam)).toEqual([]);
    });

    it('a sink inserted at the top of the list: the sinks after it keep their pages', async () => {
      const first = unnamed([searchTeam], ['^es-']);
      await first.init();
      await first.runOnce();
      expect(got(searchTeam)).toEqual([]);
      // A new sink goes first: the search team's is webhook-1 now.
      searchTeam.up = true;
      newTeam.up = true;
      const second = unnamed([newTeam, searchTeam], ['^pg-', '^es-']);
      await second.init();
      await second.runOnce();
      expect(got(searchTeam)).toEqual([{ event: 'trigger', connector: 'es-logs' }]);
      // The new sink gets what is paged from now on, not what was queued for another before it existed.
      expect(got(newTeam)).toEqual([]);
    });
  });
});
