/**
 * A pager's trigger whose resolve is already queued behind it for the same sink is not sent (docs/escalation.md,
 * "Superseded triggers"): the incident opened and closed while the pager was unreachable or the watchdog was down,
 * and sending both would ring on-call for something already over. Slack and the generic webhook still get both.
 */
import { describe, expect, it } from 'vitest';
import type { SinkConfig } from '../../src/config/types.js';
import { Outbox, type OutboxOptions } from '../../src/escalate/outbox.js';
import type { SendRequest, SendResponse } from '../../src/escalate/http.js';
import { clock, delivery, event, incident, memoryLogger, sinks, T0 } from './fixtures.js';

/** What one request was about, in each builder's own words. */
function describeRequest(req: SendRequest): string {
  const body = JSON.parse(req.body!) as unknown;
  if (Array.isArray(body)) {
    const alert = body[0] as { labels: { connector: string }; endsAt?: string };
    return `am ${'endsAt' in alert ? 'resolve' : 'trigger'} ${alert.labels.connector}`;
  }
  const b = body as Record<string, unknown>;
  if ('event_action' in b) return `pd ${b['event_action'] as string} ${(b['dedup_key'] as string).split('/')[1]!}`;
  if ('schema' in b) return `hook ${b['event'] as string} ${b['connector'] as string}`;
  return `slack ${(b['text'] as string).includes('Resolved') ? 'resolve' : 'trigger'}`;
}

/** A transport that is down (connection refused) until `up` is set, recording every request it gets. */
function transport() {
  const state = { up: false, requests: [] as string[], onRequest: undefined as ((n: number) => void) | undefined };
  const send = async (req: SendRequest): Promise<SendResponse> => {
    state.requests.push(describeRequest(req));
    state.onRequest?.(state.requests.length);
    if (!state.up) throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:443'), { code: 'ECONNREFUSED' });
    return { status: req.url.includes('pagerduty') ? 202 : 200, headers: {} };
  };
  return { state, send };
}

function setup(list: readonly SinkConfig[], over: Partial<OutboxOptions> = {}) {
  const { logger, lines } = memoryLogger();
  const c = clock();
  const outcomes: string[] = [];
  const t = transport();
  const opts: OutboxOptions = {
    sinks: list,
    logger,
    delivery,
    now: c.now,
    send: t.send,
    onDelivery: (sink, outcome) => outcomes.push(`${sink}:${outcome}`),
    backoff: { min: 1, max: 2 },
    sleep: async (_ms, signal) => signal.throwIfAborted(),
    ...over,
  };
  return { outbox: new Outbox(opts), opts, lines, clock: c, outcomes, net: t.state };
}

const logged = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

/** An incident opened (trigger) and closed (resolve) while the sinks were unreachable. */
async function openedAndClosedWhileDown(list: readonly SinkConfig[], inc = incident()) {
  const s = setup(list);
  const trigger = event('trigger', inc);
  const resolve = event('resolve', inc);
  s.outbox.enqueue(trigger);
  await s.outbox.drain();
  s.outbox.enqueue(resolve);
  s.clock.advance(delivery.interval);
  s.net.up = true;
  s.net.requests.length = 0;
  await s.outbox.drain();
  return { ...s, trigger, resolve };
}

describe('a pager unreachable while an incident opened and closed', () => {
  it('PagerDuty gets the resolve only: the trigger, tried and failed before, is dropped as superseded', async () => {
    const { outbox, net, outcomes } = await openedAndClosedWhileDown([sinks.pagerduty]);
    expect(net.requests).toEqual(['pd resolve orders-sink']);
    expect(outcomes).toEqual(['pd:failed', 'pd:superseded', 'pd:ok']);
    expect(outbox.pending()).toEqual([]);
  });

  it('Alertmanager gets the alert already ended only (it does not notify an alert first seen resolved)', async () => {
    const { outbox, net, outcomes } = await openedAndClosedWhileDown([sinks.alertmanager]);
    expect(net.requests).toEqual(['am resolve orders-sink']);
    expect(outcomes).toEqual(['am:failed', 'am:superseded', 'am:ok']);
    expect(outbox.pending()).toEqual([]);
  });

  it('logs one info line with stable fields and no URL or routing key', async () => {
    const { lines, trigger, resolve } = await openedAndClosedWhileDown([sinks.pagerduty]);
    const line = logged(lines).find((l) => l['outcome'] === 'superseded');
    expect(line).toMatchObject({
      level: 30,
      component: 'outbox',
      sink: 'pd',
      host: 'events.pagerduty.com',
      event: 'trigger',
      key: trigger.incident.key,
      id: trigger.id,
      outcome: 'superseded',
      attempts: 3,
      lastError: 'NETWORK ECONNREFUSED',
      resolveId: resolve.id,
    });
    expect(lines.join('')).not.toContain(sinks.pagerduty.routingKey);
    expect(lines.join('')).not.toContain('/v2/enqueue');
  });

  it('a trigger never tried (queued with its resolve, the sink paused) is superseded too', async () => {
    const s = setup([sinks.pagerduty]);
    s.net.up = true;
    s.outbox.enqueue(event('trigger'), event('resolve'));
    await s.outbox.drain();
    expect(s.net.requests).toEqual(['pd resolve orders-sink']);
    expect(s.outcomes).toEqual(['pd:superseded', 'pd:ok']);
  });

  it('a resolve queued while the trigger is being retried stops the retries: the trigger is not sent again', async () => {
    const s = setup([sinks.pagerduty]);
    const resolve = event('resolve');
    // The first attempt fails; the incident closes before the retry.
    s.net.onRequest = (n) => {
      if (n === 1) s.outbox.enqueue(resolve);
      else s.net.up = true;
    };
    s.outbox.enqueue(event('trigger'));
    await s.outbox.drain();
    expect(s.net.requests).toEqual(['pd trigger orders-sink', 'pd resolve orders-sink']);
    expect(s.outcomes).toEqual(['pd:superseded', 'pd:ok']);
    expect(logged(s.lines).find((l) => l['outcome'] === 'superseded')).toMatchObject({ attempts: 1 });
  });

  it('FIFO still holds for the other incidents: each is sent once, in the order queued', async () => {
    const s = setup([sinks.pagerduty]);
    const a = incident();
    const b = incident({ connector: 'payments-sink' });
    const c = incident({ connector: 'audit-sink' });
    s.outbox.enqueue(event('trigger', a), event('trigger', b));
    await s.outbox.drain();
    s.outbox.enqueue(event('resolve', a), event('trigger', c));
    s.clock.advance(delivery.interval);
    s.net.up = true;
    s.net.requests.length = 0;
    await s.outbox.drain();
    expect(s.net.requests).toEqual(['pd trigger payments-sink', 'pd resolve orders-sink', 'pd trigger audit-sink']);
    expect(s.outcomes).toEqual(['pd:failed', 'pd:superseded', 'pd:ok', 'pd:ok', 'pd:ok']);
  });

  it('an incident closed and opened again: the first trigger is superseded, the trigger of the one open now is sent', async () => {
    const s = setup([sinks.pagerduty]);
    const first = incident();
    const again = { ...first, firstSeen: T0 + 300_000, lastSeen: T0 + 300_000 };
    s.outbox.enqueue(event('trigger', first));
    await s.outbox.drain();
    s.outbox.enqueue(event('resolve', first), event('trigger', again, { at: T0 + 300_000 }));
    s.clock.advance(delivery.interval);
    s.net.up = true;
    s.net.requests.length = 0;
    await s.outbox.drain();
    expect(s.net.requests).toEqual(['pd resolve orders-sink', 'pd trigger orders-sink']);
    expect(s.outcomes).toEqual(['pd:failed', 'pd:superseded', 'pd:ok', 'pd:ok']);
  });

  it('a resolve of an older occurrence of the key never supersedes the trigger of a newer one', async () => {
    const s = setup([sinks.pagerduty]);
    s.net.up = true;
    const older = incident();
    const newer = { ...older, firstSeen: T0 + 300_000 };
    // Restored items go ahead of items queued since: the only way such an order can arise.
    s.outbox.enqueue(event('resolve', older));
    s.outbox.load([{ sink: 'pd', event: event('trigger', newer, { at: T0 + 300_000 }), attempts: 0 }]);
    await s.outbox.drain();
    expect(s.net.requests).toEqual(['pd trigger orders-sink', 'pd resolve orders-sink']);
    expect(s.outcomes).toEqual(['pd:ok', 'pd:ok']);
  });

  it('a trigger delivered before its resolve was queued is not touched: both are sent', async () => {
    const s = setup([sinks.pagerduty, sinks.alertmanager]);
    s.net.up = true;
    s.outbox.enqueue(event('trigger'));
    await s.outbox.drain();
    s.outbox.enqueue(event('resolve'));
    await s.outbox.drain();
    expect(s.net.requests.sort()).toEqual(['am resolve orders-sink', 'am trigger orders-sink', 'pd resolve orders-sink', 'pd trigger orders-sink']);
    expect(s.outcomes.filter((o) => o.endsWith('superseded'))).toEqual([]);
  });

  it('a resolve queued for another sink does not supersede: only the same sink counts', async () => {
    const onlyB = { ...sinks.pagerduty, name: 'pd-b', routingKey: 'OTHERROUTINGKEY0123456789ABCDEFG' };
    const s = setup([sinks.pagerduty, onlyB]);
    // Restored: pd has a trigger pending, pd-b only a resolve (its trigger was delivered before the restart).
    s.outbox.load([
      { sink: 'pd', event: event('trigger'), attempts: 1 },
      { sink: 'pd-b', event: event('resolve'), attempts: 1 },
    ]);
    s.net.up = true;
    await s.outbox.drain();
    expect(s.outcomes.sort()).toEqual(['pd-b:ok', 'pd:ok']);
  });
});

describe('across a restart (state file)', () => {
  it('a restored trigger and its resolve: the pager gets the resolve only', async () => {
    const first = setup([sinks.pagerduty, sinks.alertmanager]);
    first.outbox.enqueue(event('trigger'));
    await first.outbox.drain();
    first.outbox.enqueue(event('resolve'));
    await first.outbox.drain();
    expect(first.outbox.pending()).toHaveLength(4);
    const file = JSON.parse(JSON.stringify({ outbox: first.outbox.pending(), savedAt: first.clock.now() })) as { outbox: unknown; savedAt: number };

    // Down for an hour: downtime does not age the items (delivery.maxAge), they come back as they were.
    first.clock.advance(3_600_000);
    const second = setup([sinks.pagerduty, sinks.alertmanager], { now: first.clock.now });
    const restored = Outbox.restore(file.outbox, second.opts, file.savedAt);
    second.net.up = true;
    await restored.drain();
    expect(second.net.requests.sort()).toEqual(['am resolve orders-sink', 'pd resolve orders-sink']);
    expect(second.outcomes.sort()).toEqual(['am:ok', 'am:superseded', 'pd:ok', 'pd:superseded']);
    expect(restored.pending()).toEqual([]);
  });
});

describe('Slack and the generic webhook', () => {
  it('still get the trigger and then the resolve (a record; a receiver may count incidents), beside a pager that does not', async () => {
    const { net, outcomes } = await openedAndClosedWhileDown([sinks.webhook, sinks.slack, sinks.pagerduty]);
    expect(net.requests.filter((r) => !r.startsWith('pd'))).toEqual(
      expect.arrayContaining(['hook trigger orders-sink', 'hook resolve orders-sink', 'slack trigger', 'slack resolve']),
    );
    const order = (prefix: string) => net.requests.filter((r) => r.startsWith(prefix));
    expect(order('hook')).toEqual(['hook trigger orders-sink', 'hook resolve orders-sink']);
    expect(order('slack')).toEqual(['slack trigger', 'slack resolve']);
    expect(order('pd')).toEqual(['pd resolve orders-sink']);
    expect(outcomes.filter((o) => o.endsWith('superseded'))).toEqual(['pd:superseded']);
  });
});
