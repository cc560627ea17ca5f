import { createHash, createHmac } from 'node:crypto';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SinkConfig } from '../../src/config/types.js';
import { buildRequest } from '../../src/escalate/build.js';
import { createSend } from '../../src/escalate/http.js';
import { Outbox, type OutboxOptions, type PendingDelivery } from '../../src/escalate/outbox.js';
import type { EscalationEvent } from '../../src/escalate/types.js';
import { clock, delivery, event, incident, memoryLogger, SECRET_TRACE, sinks, T0 } from './fixtures.js';
import { always, fakeSink, sequence, type Received } from './server.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const HOOK = 'https://hooks.example.com';
const HOOK_PATH = '/connect/incidents';
const PD = 'https://events.pagerduty.com';
const PD_PATH = '/v2/enqueue';
const SLACK = 'https://hooks.slack.com';
const SLACK_PATH = '/services/T000/B000/XXXXSLACKPATHTOKEN';
const AM = 'http://alertmanager:9093';
const AM_PATH = '/api/v2/alerts';

describe('a connector named in another script (webhook)', () => {
  it('is delivered, and does not hold the pages behind it: its Idempotency-Key is percent-encoded', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const { outbox, outcomes } = setup([sinks.webhook], { send: createSend({ timeout: delivery.timeout }) });
    outbox.enqueue(event('trigger', incident({ connector: 'заказы-sink' })));
    outbox.enqueue(event('trigger', incident({ connector: 'orders-sink' })));
    await outbox.drain();
    expect(outcomes).toEqual(['hook:ok', 'hook:ok']);
    expect(hook.received).toHaveLength(2);
  });

  it('a request the HTTP client refuses to build is dropped as rejected, not retried until delivery.maxAge', async () => {
    const refused = Object.assign(new Error('invalid Idempotency-Key header'), { code: 'UND_ERR_INVALID_ARG' });
    const { outbox, outcomes } = setup([sinks.webhook], { send: () => Promise.reject(refused) });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outcomes).toEqual(['hook:rejected']);
    expect(outbox.pending()).toEqual([]);
  });
});

function setup(list: readonly SinkConfig[], over: Partial<OutboxOptions> = {}) {
  const { logger, lines } = memoryLogger();
  const c = clock();
  const outcomes: string[] = [];
  const sleeps: number[] = [];
  const changes: number[] = [];
  const opts: OutboxOptions = {
    sinks: list,
    logger,
    delivery,
    now: c.now,
    onDelivery: (sink, outcome) => outcomes.push(`${sink}:${outcome}`),
    onChange: (pending) => changes.push(pending.length),
    backoff: { min: 1, max: 2 },
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      signal.throwIfAborted();
    },
    ...over,
  };
  return { outbox: new Outbox(opts), opts, lines, clock: c, outcomes, sleeps, changes };
}

const pdBody = (r: Received) => JSON.parse(r.body) as { event_action: string; dedup_key: string };
const hookId = (r: Received) => (JSON.parse(r.body) as { id: string }).id;
const logged = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('delivery to each sink', () => {
  it('sends each event once to every sink, exactly the bytes the builder made, trigger before resolve', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const pd = fakeSink(PD, 'post', PD_PATH, always(202, '{"status":"success"}'));
    const slack = fakeSink(SLACK, 'post', SLACK_PATH, always(200, 'ok'));
    const am = fakeSink(AM, 'post', AM_PATH, always(200));
    const all = [sinks.webhook, sinks.pagerduty, sinks.slack, sinks.alertmanager];
    const { outbox, clock: c, outcomes } = setup(all);
    const trigger = event('trigger');
    const resolve = event('resolve');
    outbox.enqueue(trigger);
    // Delivered before the incident closes (a trigger still pending when its resolve is queued is superseded at pagers).
    await outbox.drain();
    outbox.enqueue(resolve);
    await outbox.drain();

    const byType = { webhook: hook, pagerduty: pd, slack, alertmanager: am };
    for (const sink of all) {
      const got = byType[sink.type].received;
      expect(got).toHaveLength(2);
      [trigger, resolve].forEach((ev, i) => {
        const want = buildRequest(ev, sink, c.now());
        const r = got[i]!;
        expect(r.method).toBe('POST');
        expect(r.url).toBe(want.url.replace('9093//', '9093/'));
        expect(r.body).toBe(want.body);
        for (const [name, value] of Object.entries(want.headers)) expect(r.headers[name.toLowerCase()]).toBe(value);
      });
    }
    // The receiver's check: the HMAC of the raw bytes it received.
    for (const r of hook.received) {
      const mac = createHmac('sha256', 'hmac-key').update(Buffer.from(r.body, 'utf8')).digest('hex');
      expect(r.headers['x-connect-watchdog-signature']).toBe(`sha256=${mac}`);
      expect(r.headers['idempotency-key']).toBe(hookId(r));
    }
    expect(outcomes.sort()).toEqual(['am:ok', 'am:ok', 'hook:ok', 'hook:ok', 'pd:ok', 'pd:ok', 'slack:ok', 'slack:ok']);
    expect(outbox.pending()).toEqual([]);
  });

  it('fans out to the sinks whose filter matches', () => {
    const critical = { ...sinks.pagerduty, filter: { severities: ['critical'] } } as const;
    const configOnly = { ...sinks.slack, filter: { classes: ['config'], connector: '^orders-' } } as const;
    const { outbox } = setup([sinks.webhook, critical, configOnly]);
    outbox.enqueue(event('trigger', incident({ class: 'config', severity: 'error' })));
    outbox.enqueue(event('trigger', incident({ connector: 'payments', class: 'config', severity: 'critical' })));
    expect(outbox.pending().map((p) => `${p.sink} ${p.event.incident.connector}`)).toEqual([
      'hook orders-sink',
      'slack orders-sink',
      'hook payments',
      'pd payments',
    ]);
  });

  it('de-duplicates by event id and sink, also after delivery', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const { outbox } = setup([sinks.webhook]);
    const ev = event('trigger');
    outbox.enqueue(ev);
    outbox.enqueue(ev);
    expect(outbox.pending()).toHaveLength(1);
    await outbox.drain();
    outbox.enqueue(ev);
    expect(outbox.pending()).toHaveLength(0);
    await outbox.drain();
    expect(hook.received).toHaveLength(1);
  });

  it('tells the caller to persist after every change', async () => {
    fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const { outbox, changes } = setup([sinks.webhook]);
    outbox.enqueue(event('trigger'));
    expect(changes).toEqual([1]);
    await outbox.drain();
    expect(changes).toEqual([1, 0]);
  });

  it("persists a poll's events together: the first change already holds every one of them", () => {
    const { outbox, changes } = setup([sinks.webhook, sinks.pagerduty]);
    outbox.enqueue(event('trigger'), event('trigger', incident({ connector: 'pg-nopub', class: 'config' })));
    expect(changes).toEqual([4]);
  });
});

describe('routing a resolve', () => {
  it('goes to the sinks its trigger went to, even after their filter was narrowed (and a restart)', async () => {
    const pd = fakeSink(PD, 'post', PD_PATH, always(202, '{"status":"success"}'));
    const before = { ...sinks.pagerduty, filter: { classes: ['config', 'serialization'] } } as SinkConfig;
    const first = setup([before]).outbox;
    first.enqueue(event('trigger'));
    await first.drain();
    expect(first.routing()).toEqual({ [incident().key]: ['pd'] });
    // Restarted with the filter narrowed: serialization no longer matches.
    const after = setup([{ ...before, filter: { classes: ['config'] } } as SinkConfig]);
    after.outbox.loadRouting(JSON.parse(JSON.stringify(first.routing())));
    after.outbox.enqueue(event('resolve'));
    await after.outbox.drain();
    expect(pd.received.map((r) => pdBody(r).event_action)).toEqual(['trigger', 'resolve']);
    expect(after.outbox.routing()).toEqual({});
    // A new incident of the class no longer matching is neither paged nor resolved there.
    const other = incident({ connector: 'other' });
    after.outbox.enqueue(event('trigger', other), event('resolve', other));
    expect(after.outbox.pending()).toEqual([]);
  });

  it('drops remembered sinks that are no longer configured, and malformed routing', () => {
    const { outbox } = setup([sinks.webhook]);
    outbox.loadRouting({ 'a/b/0/config': ['hook', 'gone', 7], 'c/d/0/config': 'hook', 'e/f/0/config': ['gone'] });
    outbox.loadRouting(['not', 'an', 'object']);
    expect(outbox.routing()).toEqual({ 'a/b/0/config': ['hook'] });
  });
});

describe('sinks renamed or changed between runs (adoptSinks)', () => {
  const hookA = { ...sinks.webhook, name: 'webhook-0', url: `${HOOK}/a` } as SinkConfig;
  const hookB = { ...sinks.webhook, name: 'webhook-1', url: `${HOOK}/b` } as SinkConfig;
  const persisted = () => {
    const first = setup([hookA, hookB]).outbox;
    first.enqueue(event('trigger'));
    return JSON.parse(JSON.stringify({ pending: first.pending(), routes: first.routing(), sinks: first.sinkIdentities() })) as { pending: unknown; routes: unknown; sinks: unknown };
  };

  it('a sink renumbered keeps its pages and routes under its new name; the name it took over brings it none of the removed sink’s', () => {
    const saved = persisted();
    const { outbox } = setup([{ ...hookB, name: 'webhook-0' } as SinkConfig]);
    outbox.adoptSinks(saved.sinks);
    outbox.loadRouting(saved.routes);
    expect(outbox.load(saved.pending)).toBe(1);
    expect(outbox.pending().map((p) => p.sink)).toEqual(['webhook-0']);
    expect(outbox.routing()).toEqual({ [incident().key]: ['webhook-0'] });
  });

  it('a sink whose URL changed under the same name keeps its pages; a state file without sinks is read by name, as before', () => {
    const saved = persisted();
    const rotated = setup([{ ...hookA, url: `${HOOK}/a2` } as SinkConfig, hookB]).outbox;
    rotated.adoptSinks(saved.sinks);
    expect(rotated.load(saved.pending)).toBe(2);
    expect(rotated.pending().map((p) => p.sink)).toEqual(['webhook-0', 'webhook-1']);
    const older = setup([{ ...hookB, name: 'webhook-0' } as SinkConfig]).outbox;
    older.adoptSinks(undefined);
    expect(older.load(saved.pending)).toBe(1);
  });

  it('two webhooks to the same URL with different secrets are two sinks: one inserted before them takes neither one’s pages to the other', () => {
    const s1 = { ...sinks.webhook, name: 'webhook-0', secret: 'first-receiver-key' } as SinkConfig;
    const s2 = { ...sinks.webhook, name: 'webhook-1', secret: 'second-receiver-key' } as SinkConfig;
    const first = setup([s1, s2]).outbox;
    first.enqueue(event('trigger'));
    const saved = JSON.parse(JSON.stringify({ pending: first.pending(), sinks: first.sinkIdentities() })) as { pending: unknown; sinks: unknown };
    // A sink inserted first: the two unnamed webhooks are now webhook-1 and webhook-2.
    const { outbox } = setup([{ ...sinks.slack, name: 'slack-0' } as SinkConfig, { ...s1, name: 'webhook-1' } as SinkConfig, { ...s2, name: 'webhook-2' } as SinkConfig]);
    outbox.adoptSinks(saved.sinks);
    expect(outbox.load(saved.pending)).toBe(2);
    expect(outbox.pending().map((p) => p.sink)).toEqual(['webhook-1', 'webhook-2']);
  });

  it('a state file written before sinks were told apart by their secret still takes a signed webhook’s pages by where it sends', () => {
    const signed = { ...sinks.webhook, name: 'webhook-0' } as SinkConfig;
    const first = setup([signed]).outbox;
    first.enqueue(event('trigger'));
    const pending = JSON.parse(JSON.stringify(first.pending())) as unknown;
    // The digest older versions wrote: type, URL and routing key only.
    const legacy = createHash('sha256').update(`webhook\u0000${signed.url}\u0000`).digest('base64url').slice(0, 22);
    const { outbox } = setup([{ ...sinks.slack, name: 'slack-0' } as SinkConfig, { ...signed, name: 'webhook-1' } as SinkConfig]);
    outbox.adoptSinks({ 'webhook-0': legacy });
    expect(outbox.load(pending)).toBe(1);
    expect(outbox.pending().map((p) => p.sink)).toEqual(['webhook-1']);
  });

  it('keeps no URL, key or secret in what it persists of the sinks', () => {
    const { outbox } = setup([sinks.pagerduty, sinks.slack, sinks.webhook]);
    const text = JSON.stringify(outbox.sinkIdentities());
    expect(text).not.toContain('hooks.slack.com');
    expect(text).not.toContain(sinks.pagerduty.routingKey as string);
    expect(text).not.toContain(sinks.webhook.secret);
  });
});

describe('a pager that is down, then back', () => {
  it('receives each event exactly once and in order; other sinks are not held up', async () => {
    // 503 for the first four requests, then accepted.
    const pd = fakeSink(PD, 'post', PD_PATH, (n) => [n <= 4 ? 503 : 202, '{"status":"success"}']);
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const { outbox, clock: c, outcomes } = setup([sinks.pagerduty, sinks.webhook]);
    const a = incident();
    const b = incident({ connector: 'payments-sink' });
    const d = incident({ connector: 'audit-sink' });
    // No resolve here: a pager's trigger with its resolve pending behind it is superseded (outbox-supersede.test.ts).
    const events = [event('trigger', a), event('trigger', b), event('trigger', d)];
    for (const e of events) outbox.enqueue(e);

    await outbox.drain();
    // retries: 2 → three attempts, all of them the first event: nothing overtakes it.
    expect(pd.received.map((r) => `${pdBody(r).event_action} ${pdBody(r).dedup_key}`)).toEqual(Array(3).fill(`trigger ${a.key}`));
    expect(hook.received.map(hookId)).toEqual(events.map((e) => e.id));
    expect(outbox.pending().map((p) => `${p.sink} ${p.event.id}`)).toEqual(events.map((e) => `pd ${e.id}`));
    expect(outbox.pending()[0]).toMatchObject({ attempts: 3, lastError: 'HTTP 503' });

    // The sink pauses for delivery.interval after a failed drain.
    await outbox.drain();
    expect(pd.received).toHaveLength(3);

    c.advance(delivery.interval);
    await outbox.drain();
    const accepted = pd.received.slice(4).map((r) => `${pdBody(r).event_action} ${pdBody(r).dedup_key}`);
    expect(accepted).toEqual([`trigger ${a.key}`, `trigger ${b.key}`, `trigger ${d.key}`]);
    expect(pd.received).toHaveLength(7);
    expect(outbox.pending()).toEqual([]);
    expect(outcomes.filter((o) => o.startsWith('pd:'))).toEqual(['pd:failed', 'pd:ok', 'pd:ok', 'pd:ok']);
  });
});

describe('the state file', () => {
  it('is waited for before pages are sent, once per batch of pages, not once per delivery', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const order: string[] = [];
    const { outbox } = setup([sinks.webhook], {
      persisted: async () => {
        order.push(`written with ${hook.received.length} sent`);
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    outbox.enqueue(...[0, 1, 2, 3, 4].map((i) => event('trigger', incident({ connector: `c${i}` }))));
    await outbox.drain();
    expect(hook.received).toHaveLength(5);
    expect(order).toEqual(['written with 0 sent']);
  });
});

describe('a state file write that never ends (a hung disk)', () => {
  it('delays pages by delivery.timeout at most, and does not hold up stop()', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const { outbox } = setup([sinks.webhook], { persisted: () => new Promise<void>(() => undefined) });
    outbox.enqueue(event('trigger'));
    await outbox.drain(AbortSignal.timeout(delivery.timeout + 2_000));
    expect(hook.received).toHaveLength(1);
    outbox.enqueue(event('trigger', incident({ connector: 'other' })));
    outbox.start();
    const stopped = await Promise.race([outbox.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('hung'), 1_000))]);
    expect(stopped).toBe('stopped');
  });
});

describe('a wall clock that steps back', () => {
  it('does not keep a paused sink paused for the length of the step (an hour without pages)', async () => {
    const pd = fakeSink(PD, 'post', PD_PATH, (n) => [n <= 3 ? 503 : 202, '{"status":"success"}']);
    const { outbox, clock: c } = setup([sinks.pagerduty]);
    outbox.enqueue(event('trigger'));
    await outbox.drain(); // three 503s: the sink pauses for delivery.interval
    expect(pd.received).toHaveLength(3);
    c.advance(-3_600_000); // NTP steps the clock back an hour
    c.advance(delivery.interval);
    await outbox.drain();
    expect(pd.received).toHaveLength(4);
    expect(outbox.pending()).toEqual([]);
  });
});

describe('Retry-After', () => {
  it('waits at least what the sink asks, in seconds or as an HTTP-date', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, (n) => {
      if (n === 1) return [429, 'slow down', { 'Retry-After': '7' }];
      if (n === 2) return [503, '', { 'Retry-After': new Date(T0 + 30_000).toUTCString() }];
      return [200];
    });
    const { outbox, sleeps, outcomes } = setup([sinks.webhook]);
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(sleeps).toEqual([7_000, 30_000]);
    expect(hook.received).toHaveLength(3);
    expect(outcomes).toEqual(['hook:ok']);
  });

  it('is capped at 5 minutes, and a sink that ran out of retries is not called again before it', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, (n) => (n <= 2 ? [429, '', { 'Retry-After': '86400' }] : [200]));
    const { outbox, sleeps, clock: c } = setup([sinks.webhook], { delivery: { ...delivery, retries: 1 } });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(sleeps).toEqual([300_000]);
    expect(hook.received).toHaveLength(2);
    c.advance(299_000);
    await outbox.drain();
    expect(hook.received).toHaveLength(2);
    c.advance(1_000);
    await outbox.drain();
    expect(hook.received).toHaveLength(3);
    expect(outbox.pending()).toEqual([]);
  });
});

describe('rejections', () => {
  it('a 400 at PagerDuty is not retried: dropped, logged as rejected, and the next event still goes', async () => {
    const pd = fakeSink(PD, 'post', PD_PATH, (n) =>
      n === 1
        ? [400, '{"status":"invalid event","message":"Event object is invalid","errors":["routing_key R0UTINGKEY0123456789ABCDEFGHIJKL password=s3cret"]}']
        : [202, '{"status":"success"}'],
    );
    const { outbox, outcomes, lines } = setup([sinks.pagerduty], { delivery: { ...delivery, retries: 5 } });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    outbox.enqueue(event('resolve'));
    await outbox.drain();
    expect(pd.received.map((r) => pdBody(r).event_action)).toEqual(['trigger', 'resolve']);
    expect(outcomes).toEqual(['pd:rejected', 'pd:ok']);
    expect(outbox.pending()).toEqual([]);
    const rejected = logged(lines).find((l) => l['outcome'] === 'rejected');
    expect(rejected).toMatchObject({ level: 50, sink: 'pd', event: 'trigger', status: 400, key: 'prod/orders-sink/0/serialization', attempts: 1 });
    expect(rejected?.['detail']).toContain('Event object is invalid');
    expect(lines.join('')).not.toContain('R0UTINGKEY');
    expect(lines.join('')).not.toContain('s3cret');
  });

  it.each([401, 403, 404, 410])('HTTP %i is rejected without retry', async (status) => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(status));
    const { outbox, outcomes } = setup([sinks.webhook]);
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(hook.received).toHaveLength(1);
    expect(outcomes).toEqual(['hook:rejected']);
  });

  it.each([408, 500, 502])('HTTP %i is retried', async (status) => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, sequence(status, 200));
    const { outbox, outcomes } = setup([sinks.webhook]);
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(hook.received).toHaveLength(2);
    expect(outcomes).toEqual(['hook:ok']);
  });

  it('a pagerduty sink without routing key rejects its items instead of wedging', async () => {
    const { outbox, outcomes } = setup([{ ...sinks.pagerduty, routingKey: '' }]);
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outcomes).toEqual(['pd:rejected']);
  });
});

describe('failures that stay pending', () => {
  it('connection errors are retried, and kept with their reason when retries run out', async () => {
    // nock 15's replyWithError leaves an undici request hanging, so the transport is stood in for here.
    let calls = 0;
    const refused: OutboxOptions['send'] = () => {
      calls += 1;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:443'), { code: 'ECONNREFUSED' }));
    };
    const { outbox, outcomes, lines } = setup([sinks.webhook], { send: refused });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outcomes).toEqual(['hook:failed']);
    expect(calls).toBe(3);
    expect(outbox.pending()[0]).toMatchObject({ attempts: 3, lastError: 'NETWORK ECONNREFUSED' });
    // The error's own message (which may quote an address or URL) is not logged, only its code.
    expect(lines.join('')).not.toContain('10.0.0.9');
  });

  it('a network error followed by success delivers once', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const real = createSend({ timeout: delivery.timeout });
    let calls = 0;
    const flaky: OutboxOptions['send'] = (req) => {
      calls += 1;
      return calls === 1 ? Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) : real(req);
    };
    const { outbox, outcomes } = setup([sinks.webhook], { send: flaky });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(hook.received).toHaveLength(1);
    expect(outcomes).toEqual(['hook:ok']);
  });

  it('a sink URL with user:password@ goes out with Basic auth, without the credentials in the URL or the logs', async () => {
    const am = fakeSink(AM, 'post', AM_PATH, always(200));
    const guarded = { ...sinks.alertmanager, url: 'http://am%40ops:p%3As3cret@alertmanager:9093' };
    const { outbox, outcomes, lines } = setup([guarded], { send: createSend({ timeout: delivery.timeout }) });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outcomes).toEqual(['am:ok']);
    expect(am.received[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('am@ops:p:s3cret').toString('base64')}`);
    expect(am.received[0]!.url).toBe(`${AM}${AM_PATH}`);
    expect(lines.join('')).not.toContain('s3cret');
  });

  it('a sink password with a literal % (no valid escape) goes out as written, not as a failed delivery', async () => {
    const am = fakeSink(AM, 'post', AM_PATH, always(200));
    const { outbox, outcomes } = setup([{ ...sinks.alertmanager, url: 'http://ops:50%zz@alertmanager:9093' }], { send: createSend({ timeout: delivery.timeout }) });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outcomes).toEqual(['am:ok']);
    expect(am.received[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('ops:50%zz').toString('base64')}`);
  });

  it("a rejection that echoes the sink URL's path or query logs neither", async () => {
    const path = '/hooks/tok3n-in-path';
    fakeSink(HOOK, 'post', `${path}?key=qs-secret`, always(410, `Cannot POST ${path}?key=qs-secret (key=qs-secret)`));
    const { outbox, lines } = setup([{ ...sinks.webhook, url: `${HOOK}${path}?key=qs-secret` }]);
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    const rejected = logged(lines).find((l) => l['outcome'] === 'rejected');
    expect(rejected?.['detail']).toBe('Cannot POST *** (***)');
    expect(lines.join('')).not.toMatch(/tok3n|qs-secret/);
  });

  it('an attempt is bounded by delivery.timeout', async () => {
    const hang: OutboxOptions['send'] = (req) =>
      new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason as Error), { once: true }));
    const { outbox, outcomes } = setup([sinks.webhook], { send: hang, delivery: { ...delivery, retries: 0, timeout: 5 } });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outcomes).toEqual(['hook:failed']);
    expect(outbox.pending()[0]).toMatchObject({ attempts: 1, lastError: 'TIMEOUT' });
  });
});

describe('expiry', () => {
  it('drops events older than maxAge without sending them', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const { outbox, outcomes, lines } = setup([sinks.webhook]);
    outbox.enqueue(event('trigger', incident(), { at: T0 - delivery.maxAge - 1 }));
    outbox.enqueue(event('resolve'));
    await outbox.drain();
    expect(outcomes).toEqual(['hook:expired', 'hook:ok']);
    expect(hook.received.map((r) => (JSON.parse(r.body) as { event: string }).event)).toEqual(['resolve']);
    expect(logged(lines).some((l) => l['outcome'] === 'expired' && l['level'] === 40)).toBe(true);
  });

  it('drops an event that stayed undeliverable past maxAge', async () => {
    fakeSink(HOOK, 'post', HOOK_PATH, always(503));
    const { outbox, outcomes, clock: c } = setup([sinks.webhook]);
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outbox.pending()).toHaveLength(1);
    c.advance(delivery.maxAge + 1);
    await outbox.drain();
    expect(outbox.pending()).toEqual([]);
    expect(outcomes).toEqual(['hook:failed', 'hook:expired']);
  });
});

describe('expiry across a wall clock step', () => {
  it('delivers a page queued before the wall clock was set forward weeks (a host started before its clock was set): its age is the time that passed', async () => {
    let up = false;
    const sent: string[] = [];
    // PagerDuty refuses TLS while the clock is weeks behind (its certificate is not yet valid): the page waits.
    const send: OutboxOptions['send'] = async (req) => {
      if (!up) throw Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' });
      sent.push(req.url);
      return { status: 200, headers: {}, body: '' };
    };
    let elapsed = 0;
    const { outbox, outcomes, clock: c } = setup([sinks.webhook], { send, monotonic: () => elapsed });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    expect(outbox.pending()).toHaveLength(1);
    // A minute later NTP sets the clock 30 days forward; TLS works again.
    elapsed += 60_000;
    c.advance(60_000 + 30 * 86_400_000);
    up = true;
    await outbox.drain();
    expect(outcomes).toEqual(['hook:failed', 'hook:ok']);
    expect(sent).toHaveLength(1);
  });

  it('still drops a page that waited past delivery.maxAge of time that passed', async () => {
    let elapsed = 0;
    const send: OutboxOptions['send'] = () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const { outbox, outcomes, clock: c } = setup([sinks.webhook], { send, monotonic: () => elapsed });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    elapsed += delivery.maxAge + 1;
    c.advance(delivery.maxAge + 1 - 3_600_000); // the wall clock also stepped back an hour meanwhile
    await outbox.drain();
    expect(outcomes).toEqual(['hook:failed', 'hook:expired']);
  });
});

describe('expiry across a restart', () => {
  const refused: OutboxOptions['send'] = () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
  const ok: OutboxOptions['send'] = async () => ({ status: 200, headers: {}, body: '' });
  /** A state file as the daemon writes it: the pending list, and when (the daemon's wall clock). */
  const written = (outbox: Outbox, savedAt: number) => JSON.parse(JSON.stringify({ outbox: outbox.pending(), savedAt })) as { outbox: unknown; savedAt: number };

  it('a restart after the wall clock stepped forward under a pending page does not count the step as its age', async () => {
    let elapsed = 0;
    const first = setup([sinks.webhook], { send: refused, monotonic: () => elapsed });
    first.outbox.enqueue(event('trigger'));
    await first.outbox.drain();
    // A minute later NTP sets the clock 30 days forward (a host started before its clock was set); the daemon restarts.
    elapsed += 60_000;
    first.clock.advance(60_000 + 30 * 86_400_000);
    const file = written(first.outbox, first.clock.now());
    const second = setup([sinks.webhook], { send: ok, now: first.clock.now });
    expect(second.outbox.load(file.outbox, file.savedAt)).toBe(1);
    await second.outbox.drain();
    expect(second.outcomes).toEqual(['hook:ok']);
  });

  it('a step of the wall clock reaches the state file at the next tick, without waiting for a delivery to change the list', async () => {
    let elapsed = 0;
    const lists: (readonly PendingDelivery[])[] = [];
    const first = setup([sinks.webhook], { send: refused, monotonic: () => elapsed, onChange: (p) => lists.push(p) });
    first.outbox.enqueue(event('trigger'));
    await first.outbox.drain();
    const before = lists.length;
    first.clock.advance(30 * 86_400_000);
    first.outbox.start();
    await first.outbox.stop();
    expect(lists.length).toBeGreaterThan(before);
    expect(lists[before]?.[0]?.since).toBe(T0 + 30 * 86_400_000);
  });

  it('the time the daemon was down does not count either (a host that booted with its clock weeks ahead looks the same)', async () => {
    const first = setup([sinks.webhook], { send: refused });
    first.outbox.enqueue(event('trigger'));
    await first.outbox.drain();
    const file = written(first.outbox, first.clock.now());
    first.clock.advance(30 * 86_400_000);
    const second = setup([sinks.webhook], { send: ok, now: first.clock.now });
    second.outbox.load(file.outbox, file.savedAt);
    await second.outbox.drain();
    expect(second.outcomes).toEqual(['hook:ok']);
  });

  it('the time a page waited before the restart still counts: it expires after delivery.maxAge of the watchdog trying', async () => {
    const first = setup([sinks.webhook], { send: refused });
    first.outbox.enqueue(event('trigger'));
    await first.outbox.drain();
    first.clock.advance(delivery.maxAge - 60_000);
    const file = written(first.outbox, first.clock.now());
    first.clock.advance(3_600_000);
    const second = setup([sinks.webhook], { send: refused, now: first.clock.now });
    second.outbox.load(file.outbox, file.savedAt);
    await second.outbox.drain();
    expect(second.outcomes).toEqual(['hook:failed']);
    first.clock.advance(60_001);
    await second.outbox.drain();
    expect(second.outcomes).toEqual(['hook:failed', 'hook:expired']);
  });

  it('an entry of an older state file (no `since`) loads, aged by the wall clock up to when the file was written', async () => {
    const first = setup([sinks.webhook], { send: refused });
    first.outbox.enqueue(event('trigger'));
    const old = first.outbox.pending().map(({ sink, event: e, attempts }) => ({ sink, event: e, attempts }));
    const second = setup([sinks.webhook], { send: ok, now: () => T0 + 2 * delivery.maxAge });
    expect(second.outbox.load(JSON.parse(JSON.stringify(old)), T0 + 60_000)).toBe(1);
    await second.outbox.drain();
    expect(second.outcomes).toEqual(['hook:ok']);
  });
});

describe('persistence', () => {
  it('pending() → JSON → a new outbox delivers what the old one could not', async () => {
    fakeSink(HOOK, 'post', HOOK_PATH, always(503));
    fakeSink(PD, 'post', PD_PATH, always(503));
    const first = setup([sinks.webhook, sinks.pagerduty]);
    const events = [event('trigger'), event('resolve')];
    // The resolve is queued after the trigger failed (the sinks are paused since): both pending at both sinks.
    for (const e of events) {
      first.outbox.enqueue(e);
      await first.outbox.drain();
    }
    expect(first.outbox.pending()).toHaveLength(4);
    const stateFile = JSON.stringify({ outbox: first.outbox.pending() });

    nock.cleanAll();
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    const pd = fakeSink(PD, 'post', PD_PATH, always(202));
    const second = setup([sinks.webhook, sinks.pagerduty]);
    const restored = Outbox.restore((JSON.parse(stateFile) as { outbox: unknown }).outbox, second.opts);
    expect(restored.pending()).toEqual(first.outbox.pending());
    await restored.drain();
    expect(restored.pending()).toEqual([]);
    expect(hook.received.map((r) => r.body)).toEqual(events.map((e) => buildRequest(e, sinks.webhook, second.clock.now()).body));
    // The incident closed while PagerDuty was down: its trigger is superseded, the resolve alone goes.
    expect(pd.received.map((r) => pdBody(r).event_action)).toEqual(['resolve']);
    expect(second.outcomes.sort()).toEqual(['hook:ok', 'hook:ok', 'pd:ok', 'pd:superseded']);
  });

  it('load drops malformed entries and unknown sinks with a warning, and puts restored items first', () => {
    const { outbox, lines } = setup([sinks.webhook]);
    const later = event('trigger', incident({ connector: 'later' }));
    outbox.enqueue(later);
    const good = { sink: 'hook', event: event('trigger'), attempts: 2, lastError: 'HTTP 503' };
    const kept = outbox.load([
      {},
      42,
      good,
      good,
      { ...good, attempts: -1 },
      { ...good, event: { ...good.event, event: 'acknowledge' } },
      { ...good, event: { ...good.event, incident: { ...good.event.incident, task: 'zero' } } },
      { ...good, sink: 'gone' },
    ]);
    expect(kept).toBe(1);
    expect(outbox.pending().map((p) => p.event.id)).toEqual([good.event.id, later.id]);
    const warnings = logged(lines).filter((l) => l['level'] === 40);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dropped: 5, msg: expect.stringContaining('malformed') as unknown }),
        expect.objectContaining({ sinks: ['gone'] }),
      ]),
    );
    expect(outbox.load('not a list')).toBe(0);
    expect(outbox.load(undefined)).toBe(0);
  });
});

describe('Alertmanager re-sends', () => {
  it('re-queues open incidents to alertmanager sinks only, never piling up or overtaking a resolve', async () => {
    const am = fakeSink(AM, 'post', AM_PATH, always(200));
    const amConfig = { ...sinks.alertmanager, name: 'am-config', filter: { classes: ['config'] } } as const;
    const { outbox } = setup([sinks.webhook, sinks.alertmanager, amConfig]);
    const a = incident();
    const b = incident({ connector: 'payments-sink', class: 'config' });
    const urlOf = () => 'http://admin:s3cret@connect-1:8083/';
    expect(outbox.resendOpen([a, b], T0 + 60_000, urlOf)).toBe(3);
    expect(outbox.pending().map((p) => `${p.sink} ${p.event.incident.connector} ${p.event.event}`)).toEqual([
      'am orders-sink trigger',
      'am payments-sink trigger',
      'am-config payments-sink trigger',
    ]);
    expect(outbox.pending().every((p) => p.event.clusterUrl === 'http://connect-1:8083' && p.event.at === T0 + 60_000)).toBe(true);
    // Still pending: nothing more.
    expect(outbox.resendOpen([a, b], T0 + 120_000, urlOf)).toBe(0);
    await outbox.drain();
    expect(am.received).toHaveLength(3);
    expect(am.received.every((r) => !('endsAt' in (JSON.parse(r.body) as object[])[0]!))).toBe(true);

    // A resolve pending for a sink blocks the re-send there.
    outbox.enqueue(event('resolve', a));
    expect(outbox.resendOpen([a], T0 + 180_000, urlOf)).toBe(0);
  });
});

describe('background loop', () => {
  it('delivers without anyone calling drain, and stops', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, always(200));
    let delivered!: () => void;
    const done = new Promise<void>((r) => (delivered = r));
    const { outbox } = setup([sinks.webhook], { onDelivery: (_s, o) => o === 'ok' && delivered() });
    outbox.start();
    outbox.enqueue(event('trigger'));
    await done;
    await outbox.stop();
    expect(hook.received).toHaveLength(1);
  });

  it('stop() interrupts a Retry-After wait; the item stays pending and a later drain delivers it', async () => {
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, (n) => (n === 1 ? [429, '', { 'Retry-After': '300' }] : [200]));
    let entered!: () => void;
    const waiting = new Promise<void>((r) => (entered = r));
    const { outbox, outcomes } = setup([sinks.webhook], {
      sleep: (_ms, signal) =>
        new Promise((_, reject) => {
          entered();
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        }),
    });
    outbox.start();
    outbox.enqueue(event('trigger'));
    await waiting;
    await outbox.stop();
    expect(outbox.pending()).toHaveLength(1);
    expect(outcomes).toEqual([]);
    await outbox.drain();
    expect(hook.received).toHaveLength(2);
    expect(outcomes).toEqual(['hook:ok']);
  });

  it('drain(signal) returns when the signal aborts, leaving items pending', async () => {
    const hang: OutboxOptions['send'] = (req) =>
      new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason as Error), { once: true }));
    const { outbox, outcomes } = setup([sinks.webhook], { send: hang, delivery: { ...delivery, timeout: 3_600_000 } });
    outbox.enqueue(event('trigger'));
    const ctl = new AbortController();
    const draining = outbox.drain(ctl.signal);
    ctl.abort();
    await draining;
    await outbox.stop();
    expect(outbox.pending()).toHaveLength(1);
    expect(outcomes).toEqual([]);
  });
});

describe('secrets', () => {
  it('never reach a request body, a header or a log line', async () => {
    const leaky = incident({
      rootCause: 'java.sql.SQLException: cannot open jdbc:postgresql://app:s3cret@db/x',
      reason: 'restarts did not help (password=s3cret)',
      traceExcerpt: SECRET_TRACE,
    });
    const received: Received[] = [];
    const hook = fakeSink(HOOK, 'post', HOOK_PATH, sequence(503, 503, 503, 200));
    const pd = fakeSink(PD, 'post', PD_PATH, always(400, '{"message":"bad password=s3cret","routing_key":"R0UTINGKEY0123456789ABCDEFGHIJKL"}'));
    const slack = fakeSink(SLACK, 'post', SLACK_PATH, sequence(500, 200));
    const am = fakeSink(AM, 'post', AM_PATH, always(200));
    const { outbox, lines, clock: c } = setup([sinks.webhook, sinks.pagerduty, sinks.slack, sinks.alertmanager]);
    const ev = (kind: 'trigger' | 'resolve'): EscalationEvent => event(kind, leaky, { clusterUrl: 'http://admin:s3cret@connect-1:8083' });
    outbox.enqueue(ev('trigger'));
    outbox.enqueue(ev('resolve'));
    outbox.resendOpen([leaky], T0, () => 'http://admin:s3cret@connect-1:8083');
    // What the state file would hold.
    expect(JSON.stringify(outbox.pending())).not.toContain('s3cret');
    await outbox.drain();
    c.advance(delivery.interval);
    await outbox.drain();
    received.push(...hook.received, ...pd.received, ...slack.received, ...am.received);
    expect(received.length).toBeGreaterThan(6);
    for (const r of received) {
      expect(r.body).not.toContain('s3cret');
      expect(JSON.stringify(r.headers)).not.toContain('s3cret');
    }
    expect(lines.length).toBeGreaterThan(5);
    const log = lines.join('');
    for (const secret of ['s3cret', 'R0UTINGKEY', 'hmac-key', 'XXXXSLACKPATHTOKEN', HOOK_PATH]) expect(log).not.toContain(secret);
    // The host is what identifies a sink in logs.
    expect(log).toContain('"host":"hooks.slack.com"');
    const stable = logged(lines).find((l) => l['msg'] === 'escalation delivered');
    expect(stable).toMatchObject({ sink: expect.any(String) as unknown, event: expect.any(String) as unknown, key: leaky.key, outcome: 'ok' });
  });
});

describe('a rejection quoting one secret part of the sink URL', () => {
  it.each([
    ['the last path segment (n8n)', '/webhook/9f1c2e7a-5b3d-4c1e-8a2b-0d4e6f8a1b3c', '9f1c2e7a-5b3d-4c1e-8a2b-0d4e6f8a1b3c'],
    ['one query value', '/hooks/in?apiKey=Qv4lueS3cret&team=ops', 'Qv4lueS3cret'],
  ])('%s is not logged', async (_name, path, secret) => {
    const HOOK = 'https://n8n.example.com';
    fakeSink(HOOK, 'post', path, always(404, JSON.stringify({ code: 404, message: `The requested webhook "POST ${secret}" is not registered.` })));
    const { logger, lines } = memoryLogger();
    const c = clock();
    const outbox = new Outbox({ sinks: [{ ...sinks.webhook, url: `${HOOK}${path}` }], logger, delivery, now: c.now, backoff: { min: 1, max: 2 }, sleep: async () => {} });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    const rejected = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['outcome'] === 'rejected');
    expect(rejected?.['detail']).toContain('is not registered');
    expect(lines.join('')).not.toContain(secret);
  });
});
