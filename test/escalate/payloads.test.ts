import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertmanagerRequest, resendsDue } from '../../src/escalate/alertmanager.js';
import { buildRequest } from '../../src/escalate/build.js';
import { DeliveryError } from '../../src/escalate/errors.js';
import { statusUrl } from '../../src/escalate/fields.js';
import { dedupKey, pagerdutyRequest } from '../../src/escalate/pagerduty.js';
import { slackRequest } from '../../src/escalate/slack.js';
import { webhookRequest } from '../../src/escalate/webhook.js';
import { event, incident, SECRET_TRACE, sinks, T0 } from './fixtures.js';

const NOW = T0 + 90_000;
const inc = incident();
const ROOT = 'org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error';
const STATUS = 'http://connect-1:8083/connectors/orders-sink/status';
const fields = {
  key: 'prod/orders-sink/0/serialization',
  cluster: 'prod',
  connector: 'orders-sink',
  task: 0,
  class: 'serialization',
  severity: 'error',
  reason: 'serialization failures are not fixed by a restart',
  rootCause: ROOT,
  hint: 'Check the converter settings and what the producers write to the topic.',
  attempts: 2,
  firstSeen: '2026-11-25T09:28:00.000Z',
  lastSeen: '2026-11-25T09:30:00.000Z',
  workerId: '10.0.0.5:8083',
  traceExcerpt: ROOT,
  statusUrl: STATUS,
};

/** What a receiver does: recompute the HMAC over the exact bytes received and compare in constant time. */
function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(Buffer.from(body, 'utf8')).digest();
  const got = Buffer.from(header.slice('sha256='.length), 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('generic webhook payload', () => {
  it('trigger: versioned JSON body, idempotency key, verifiable HMAC signature and timestamp', () => {
    const req = webhookRequest(event('trigger', inc), sinks.webhook, NOW);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://hooks.example.com/connect/incidents');
    expect(JSON.parse(req.body)).toEqual({
      schema: 'connect-watchdog/incident/v1',
      event: 'trigger',
      id: 'prod/orders-sink/0/serialization#1795598880000#trigger',
      ...fields,
    });
    expect(Object.keys(req.headers).sort()).toEqual(['Content-Type', 'Idempotency-Key', 'X-Connect-Watchdog-Signature', 'X-Connect-Watchdog-Timestamp']);
    expect(req.headers['Content-Type']).toBe('application/json');
    expect(req.headers['Idempotency-Key']).toBe('prod/orders-sink/0/serialization#1795598880000#trigger');
    expect(req.headers['X-Connect-Watchdog-Timestamp']).toBe(String(Math.floor(NOW / 1000)));
    expect(verifySignature('hmac-key', req.body, req.headers['X-Connect-Watchdog-Signature'])).toBe(true);
    expect(verifySignature('other-key', req.body, req.headers['X-Connect-Watchdog-Signature'])).toBe(false);
    expect(verifySignature('hmac-key', req.body.replace('"attempts":2', '"attempts":3'), req.headers['X-Connect-Watchdog-Signature'])).toBe(false);
    // A header carries bytes: a connector named in another script goes percent-encoded, ASCII as it is.
    const named = webhookRequest(event('trigger', incident({ connector: 'заказы-sink' })), sinks.webhook, NOW);
    expect(named.headers['Idempotency-Key']).toMatch(/^[\x20-\x7e]+$/);
    expect(decodeURIComponent(named.headers['Idempotency-Key']!)).toBe((JSON.parse(named.body) as { id: string }).id);
    // `%` is encoded too: `50%-sink` must not decode badly, nor clash with a name that reads like its encoding.
    for (const connector of ['50%-sink', 'a%D0%B7', 'aз']) {
      const req = webhookRequest(event('trigger', incident({ connector })), sinks.webhook, NOW);
      expect(decodeURIComponent(req.headers['Idempotency-Key']!)).toBe((JSON.parse(req.body) as { id: string }).id);
    }
  });

  it('resolve: the same fields with event "resolve", its own id, and why and when it is over', () => {
    const req = webhookRequest(event('resolve', inc, { resolution: 'deleted' }), sinks.webhook, NOW);
    expect(JSON.parse(req.body)).toEqual({
      schema: 'connect-watchdog/incident/v1',
      event: 'resolve',
      id: 'prod/orders-sink/0/serialization#1795598880000#resolve',
      ...fields,
      resolution: 'deleted',
      resolvedAt: new Date(T0 + 60_000).toISOString(),
    });
    expect(req.headers['Idempotency-Key']).toBe('prod/orders-sink/0/serialization#1795598880000#resolve');
    expect(verifySignature('hmac-key', req.body, req.headers['X-Connect-Watchdog-Signature'])).toBe(true);
  });

  it('without a secret there is no signature', () => {
    const req = webhookRequest(event('trigger', inc), { ...sinks.webhook, secret: undefined } as never, NOW);
    expect(req.headers).toEqual({ 'Content-Type': 'application/json', 'Idempotency-Key': 'prod/orders-sink/0/serialization#1795598880000#trigger' });
  });

  it('task null is the connector; a cluster-wide incident links to the connector list', () => {
    const conn = JSON.parse(webhookRequest(event('trigger', incident({ task: null })), sinks.webhook, NOW).body) as { task: unknown; key: string };
    expect(conn.task).toBeNull();
    expect(conn.key).toBe('prod/orders-sink/connector/serialization');
    const outage = JSON.parse(webhookRequest(event('trigger', incident({ connector: '*', task: null, class: 'cluster-outage' })), sinks.webhook, NOW).body) as {
      statusUrl: string;
    };
    expect(outage.statusUrl).toBe('http://connect-1:8083/connectors');
  });
});

describe('statusUrl', () => {
  it('encodes the connector name and drops credentials and trailing slashes', () => {
    expect(statusUrl('http://connect:8083/', 'a b/c')).toBe('http://connect:8083/connectors/a%20b%2Fc/status');
    expect(statusUrl('https://admin:s3cret@connect.example.com/base/', 'x')).toBe('https://connect.example.com/base/connectors/x/status');
  });
});

describe('PagerDuty Events API v2 payload', () => {
  it('trigger', () => {
    const req = pagerdutyRequest(event('trigger', inc), sinks.pagerduty, NOW);
    expect(req.url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(req.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual({
      routing_key: 'R0UTINGKEY0123456789ABCDEFGHIJKL',
      event_action: 'trigger',
      dedup_key: 'prod/orders-sink/0/serialization',
      payload: {
        summary: `prod/orders-sink task 0: serialization: ${ROOT}`,
        timestamp: new Date(T0).toISOString(),
        source: 'prod',
        severity: 'error',
        component: 'orders-sink',
        group: 'prod',
        class: 'serialization',
        custom_details: fields,
      },
      links: [{ href: STATUS, text: 'Kafka Connect status' }],
    });
  });

  it('a page delivered late (held in the outbox) carries the time it was opened, not the delivery time', () => {
    const late = NOW + 3 * 3_600_000;
    const body = JSON.parse(pagerdutyRequest(event('trigger', inc, { at: T0 + 5_000 }), sinks.pagerduty, late).body) as { payload: { timestamp: string } };
    expect(body.payload.timestamp).toBe(new Date(T0 + 5_000).toISOString());
  });

  it('resolve carries only the routing and dedup keys', () => {
    const req = pagerdutyRequest(event('resolve', inc), sinks.pagerduty, NOW);
    expect(JSON.parse(req.body)).toEqual({ routing_key: 'R0UTINGKEY0123456789ABCDEFGHIJKL', event_action: 'resolve', dedup_key: 'prod/orders-sink/0/serialization' });
  });

  it('bounds the summary to 1024 and the dedup key to 255, stably', () => {
    const long = incident({ connector: 'c'.repeat(400), rootCause: 'x'.repeat(5000) });
    const body = JSON.parse(pagerdutyRequest(event('trigger', long), sinks.pagerduty, NOW).body) as { dedup_key: string; payload: { summary: string } };
    expect(body.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(body.dedup_key.length).toBeLessThanOrEqual(255);
    const resolve = JSON.parse(pagerdutyRequest(event('resolve', long), sinks.pagerduty, NOW).body) as { dedup_key: string };
    expect(resolve.dedup_key).toBe(body.dedup_key);
    expect(dedupKey(`${'c'.repeat(300)}a`)).not.toBe(dedupKey(`${'c'.repeat(300)}b`));
  });

  /** A lone surrogate has no UTF-8 form: it comes back as U+FFFD. */
  const utf8RoundTrips = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;

  it('never cuts the dedup key inside a surrogate pair (an emoji has no UTF-8 half: PagerDuty would refuse the JSON)', () => {
    const connector = `${'a'.repeat(184)}\u{1F525}${'b'.repeat(120)}`; // the emoji straddles the cut
    const key = dedupKey(`prod/${connector}/0/config`);
    expect(key.length).toBeLessThanOrEqual(255);
    expect(utf8RoundTrips(key)).toBe(true);
    const body = JSON.parse(pagerdutyRequest(event('trigger', incident({ connector })), sinks.pagerduty, NOW).body) as { dedup_key: string };
    expect(utf8RoundTrips(body.dedup_key)).toBe(true);
  });

  it('every severity maps to a PagerDuty one', () => {
    for (const severity of ['critical', 'error', 'warning', 'info'] as const) {
      const body = JSON.parse(pagerdutyRequest(event('trigger', incident({ severity })), sinks.pagerduty, NOW).body) as { payload: { severity: string } };
      expect(body.payload.severity).toBe(severity);
    }
  });

  it('a sink without routing key is a misconfiguration, not a request', () => {
    expect(() => pagerdutyRequest(event('trigger', inc), { ...sinks.pagerduty, routingKey: undefined } as never, NOW)).toThrow(DeliveryError);
  });
});

describe('Slack incoming-webhook payload', () => {
  it('trigger: readable text and blocks', () => {
    const req = slackRequest(event('trigger', inc), sinks.slack, NOW);
    expect(req.url).toBe('https://hooks.slack.com/services/T000/B000/XXXXSLACKPATHTOKEN');
    expect(req.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual({
      text: `:red_circle: prod/orders-sink task 0: serialization: ${ROOT}`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: ':red_circle: Kafka Connect error: prod/orders-sink task 0', emoji: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Cluster*\nprod' },
            { type: 'mrkdwn', text: '*Connector*\norders-sink' },
            { type: 'mrkdwn', text: '*Task*\n0' },
            { type: 'mrkdwn', text: '*Class*\nserialization' },
            { type: 'mrkdwn', text: '*Severity*\nerror' },
            { type: 'mrkdwn', text: '*Restarts*\n2' },
          ],
        },
        { type: 'section', text: { type: 'mrkdwn', text: `*Root cause*\n\`\`\`${ROOT}\`\`\`` } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Why you are paged*\nserialization failures are not fixed by a restart\n*Hint*\nCheck the converter settings and what the producers write to the topic.',
          },
        },
        { type: 'section', text: { type: 'mrkdwn', text: `*Trace excerpt*\n\`\`\`${ROOT}\`\`\`` } },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: `First seen 2026-11-25T09:28:00.000Z · worker 10.0.0.5:8083 · <${STATUS}|status> · key \`prod/orders-sink/0/serialization\``,
            },
          ],
        },
      ],
    });
  });

  it('resolve: a short "Resolved" message with how long it was open, and until when', () => {
    const req = slackRequest(event('resolve', inc), sinks.slack, NOW);
    expect(JSON.parse(req.body)).toEqual({
      text: ':white_check_mark: Resolved: prod/orders-sink task 0 (serialization)',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: *Resolved:* prod/orders-sink task 0 (serialization)' } },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: `Open for 3 min, until 2026-11-25T09:31:00.000Z · 2 restart(s) · <${STATUS}|status> · key \`prod/orders-sink/0/serialization\`` }],
        },
      ],
    });
  });

  // A "no status" or "RESTARTING" page closed because its subject failed with another class, paged under that key
  // in the same poll: a bare "Resolved" after that red trigger would read as the connector being fine again.
  it('resolve superseded-by-failure: says the subject is still failing, paged as that failure', () => {
    const body = JSON.parse(slackRequest(event('resolve', inc, { resolution: 'superseded-by-failure' }), sinks.slack, NOW).body) as { text: string; blocks: { elements?: { text: string }[] }[] };
    expect(body.text).toBe(':white_check_mark: Resolved: prod/orders-sink task 0 (serialization)');
    expect(body.blocks[1]!.elements![0]!.text).toBe(
      `Open for 3 min, until 2026-11-25T09:31:00.000Z · not over: failing with another class, paged as that failure (superseded-by-failure) · 2 restart(s) · <${STATUS}|status> · key \`prod/orders-sink/0/serialization\``,
    );
    // Any other resolution reads as before.
    expect(JSON.parse(slackRequest(event('resolve', inc, { resolution: 'deleted' }), sinks.slack, NOW).body)).toEqual(JSON.parse(slackRequest(event('resolve', inc), sinks.slack, NOW).body));
  });

  it('resolve posted long after the incident ended (it opened and closed while Slack was unreachable): says so', () => {
    const late = JSON.parse(slackRequest(event('resolve', inc), sinks.slack, T0 + 60_000 + 25 * 60_000).body) as { blocks: { elements?: { text: string }[] }[] };
    expect(late.blocks[1]!.elements![0]!.text).toContain('Open for 3 min, until 2026-11-25T09:31:00.000Z · posted 25 min after it ended: Slack was unreachable or the watchdog down until then · ');
    // Just under a minute late (retries, a paused sink) is not worth a remark.
    const onTime = JSON.parse(slackRequest(event('resolve', inc), sinks.slack, T0 + 60_000 + 59_000).body) as { blocks: { elements?: { text: string }[] }[] };
    expect(onTime.blocks[1]!.elements![0]!.text).not.toContain('posted');
  });

  it('one emoji per severity; markup in the trace is escaped and cannot close the code block', () => {
    const emojis = (['critical', 'error', 'warning', 'info'] as const).map((severity) => {
      const body = JSON.parse(slackRequest(event('trigger', incident({ severity })), sinks.slack, NOW).body) as { text: string };
      return body.text.split(' ')[0];
    });
    expect(new Set(emojis).size).toBe(4);
    const tricky = incident({ rootCause: 'x <!channel> & ```boom```' });
    const body = slackRequest(event('trigger', tricky), sinks.slack, NOW).body;
    expect(body).toContain('x &lt;!channel&gt; &amp; \'\'\'boom\'\'\'');
    expect(body).not.toContain('<!channel>');
  });

  it('stays within Slack block limits for huge traces', () => {
    const big = incident({ rootCause: 'r'.repeat(10_000), traceExcerpt: 't'.repeat(10_000), reason: 'why'.repeat(2000) });
    const body = JSON.parse(slackRequest(event('trigger', big), sinks.slack, NOW).body) as { blocks: { type: string; text?: { text: string } }[] };
    for (const b of body.blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(b.type === 'header' ? 150 : 3000);
  });
});

describe('Alertmanager payload', () => {
  const labels = { alertname: 'KafkaConnectIncident', cluster: 'prod', connector: 'orders-sink', task: '0', class: 'serialization', severity: 'error' };
  const annotations = {
    summary: `prod/orders-sink task 0: serialization: ${ROOT}`,
    description: ROOT,
    hint: 'Check the converter settings and what the producers write to the topic.',
    trace_excerpt: ROOT,
  };

  it('trigger: POST /api/v2/alerts, no endsAt', () => {
    const req = alertmanagerRequest(event('trigger', inc), sinks.alertmanager, NOW);
    expect(req.url).toBe('http://alertmanager:9093/api/v2/alerts');
    expect(req.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual([{ labels, annotations, startsAt: '2026-11-25T09:28:00.000Z', generatorURL: STATUS }]);
  });

  it('resolve: the same labels with endsAt (when it resolved, never after now)', () => {
    const req = alertmanagerRequest(event('resolve', inc), sinks.alertmanager, NOW);
    expect(JSON.parse(req.body)).toEqual([{ labels, annotations, startsAt: '2026-11-25T09:28:00.000Z', endsAt: '2026-11-25T09:31:00.000Z', generatorURL: STATUS }]);
    const unstamped = alertmanagerRequest(event('resolve', inc, { incident: inc }), sinks.alertmanager, NOW);
    expect((JSON.parse(unstamped.body) as { endsAt: string }[])[0]!.endsAt).toBe(new Date(NOW).toISOString());
  });

  it('startsAt is never after the send: a firstSeen from a clock since stepped back would be refused (ends before it starts)', () => {
    const ahead = incident({ firstSeen: NOW + 3_600_000 });
    const trigger = JSON.parse(alertmanagerRequest(event('trigger', ahead), sinks.alertmanager, NOW).body) as { startsAt: string }[];
    expect(trigger[0]!.startsAt).toBe(new Date(NOW).toISOString());
    const resolved = { ...ahead, resolvedAt: NOW - 60_000 };
    const resolve = JSON.parse(alertmanagerRequest(event('resolve', resolved, { incident: resolved }), sinks.alertmanager, NOW).body) as { startsAt: string; endsAt: string }[];
    expect(resolve[0]!.startsAt).toBe(new Date(NOW - 60_000).toISOString());
    expect(resolve[0]!.endsAt).toBe(new Date(NOW - 60_000).toISOString());
  });

  it('task label is "connector" for the connector itself', () => {
    const req = alertmanagerRequest(event('trigger', incident({ task: null })), sinks.alertmanager, NOW);
    expect((JSON.parse(req.body) as { labels: { task: string } }[])[0]!.labels.task).toBe('connector');
  });

  it('resendsDue: open incidents × matching alertmanager sinks, minus pairs with a delivery pending', () => {
    const a = incident();
    const b = incident({ connector: 'payments-sink', class: 'config' });
    const resolved = incident({ connector: 'gone', resolvedAt: T0 });
    const amConfigOnly = { ...sinks.alertmanager, name: 'am-config', filter: { classes: ['config'] } };
    const due = resendsDue([a, b, resolved], [sinks.webhook, sinks.alertmanager, amConfigOnly], (sink, key) => sink === 'am' && key === a.key);
    expect(due.map((d) => `${d.sink} ${d.incident.connector}`)).toEqual(['am payments-sink', 'am-config payments-sink']);
  });
});

describe('secrets never reach a payload', () => {
  it('every sink, trigger and resolve', () => {
    const leaky = incident({
      rootCause: 'java.sql.SQLException: cannot open jdbc:postgresql://app:s3cret@db/x',
      reason: 'restarts did not help (token=s3cret)',
      hint: 'check password=s3cret',
      traceExcerpt: SECRET_TRACE,
    });
    for (const sink of Object.values(sinks)) {
      for (const kind of ['trigger', 'resolve'] as const) {
        const req = buildRequest(event(kind, leaky, { clusterUrl: 'http://admin:s3cret@connect-1:8083' }), sink, NOW);
        expect(req.body, `${sink.type} ${kind}`).not.toContain('s3cret');
        expect(JSON.stringify(req.headers)).not.toContain('s3cret');
      }
    }
  });
});

describe('docs/escalation.md webhook examples', () => {
  it('are signed over the bytes sent: JSON.stringify of the example as shown, with the documented secret', () => {
    const doc = readFileSync(new URL('../../docs/escalation.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```http\n([\s\S]*?)\n```/g)].map((m) => m[1]!).filter((b) => b.includes('X-Connect-Watchdog-Signature'));
    expect(blocks).toHaveLength(2);
    for (const block of blocks) {
      const split = block.indexOf('\n\n');
      const header = /X-Connect-Watchdog-Signature: sha256=([0-9a-f]+)/.exec(block.slice(0, split))![1];
      const sent = JSON.stringify(JSON.parse(block.slice(split + 2)));
      expect(createHmac('sha256', 'example-secret').update(sent, 'utf8').digest('hex')).toBe(header);
    }
  });
});
