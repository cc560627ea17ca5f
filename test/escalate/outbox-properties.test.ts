/**
 * Property-based tests of the escalation delivery path: random sequences of incidents opened, touched, resolved
 * and replayed for a few keys, Alertmanager re-sends, sinks of every type with random filters answering at random
 * (2xx, 4xx, 429/503 with Retry-After, 5xx, timeouts, connection refused) on an injected clock, and daemon restarts
 * through the real state file encoding (StateEncoder → parseState → adoptSinks, loadRouting, load) with sinks added,
 * removed, reordered (an unnamed sink renumbered), renamed and refiltered across them. Each invariant is stated from
 * docs/escalation.md, against a model of what the doc says each sink is owed, not from the outbox's code.
 *
 * No network: `send` is a stand-in that records every request and answers from the scenario (sink URLs point at
 * 127.0.0.1 anyway). Fixed seed, so `npm test` is repeatable; PROPS_SEED and PROPS_RUNS explore further. On failure
 * fast-check prints the seed, the path and the shrunk scenario.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SinkConfig, SinkFilter } from '../../src/config/types.js';
import type { Severity } from '../../src/config/schema.js';
import { buildRequest } from '../../src/escalate/build.js';
import { Outbox, type PendingDelivery } from '../../src/escalate/outbox.js';
import type { SendRequest, SendResponse } from '../../src/escalate/http.js';
import { incidentKey, type EscalationEvent, type Incident, type IncidentClass } from '../../src/escalate/types.js';
import { EMPTY_HEAL_STATE } from '../../src/heal/types.js';
import { StateEncoder } from '../../src/state/serialize.js';
import { parseState, STATE_VERSION, StateStore } from '../../src/state/store.js';
import { memoryLogger, SECRET_TRACE, T0 } from './fixtures.js';

const SEED = Number(process.env['PROPS_SEED'] ?? 20261206);
const RUNS = Number(process.env['PROPS_RUNS'] ?? 300);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// ---------------------------------------------------------------------------------------------------------
// Sinks: stable identities (where they send), configured under changing names, orders and filters.

interface Ident {
  readonly id: string;
  readonly type: SinkConfig['type'];
  readonly url: string;
  readonly secret?: string;
  readonly routingKey?: string;
  /** What must never leave for another sink, nor appear in a log line or the state file. */
  readonly secrets: readonly string[];
}

const IDENTS: readonly Ident[] = [
  { id: 'W', type: 'webhook', url: 'http://127.0.0.1:9/hooks/WEBHOOKPATHTOKEN-w1', secret: 'whsec-W1-SECRETVALUE', secrets: ['WEBHOOKPATHTOKEN-w1', 'whsec-W1-SECRETVALUE'] },
  { id: 'V', type: 'webhook', url: 'http://127.0.0.1:9/hooks/WEBHOOKPATHTOKEN-v2?token=QUERYTOKEN-v2', secrets: ['WEBHOOKPATHTOKEN-v2', 'QUERYTOKEN-v2'] },
  { id: 'P', type: 'pagerduty', url: 'http://127.0.0.1:9/v2/enqueue', routingKey: 'PDROUTINGKEY0123456789ABCDEFGHIJ', secrets: ['PDROUTINGKEY0123456789ABCDEFGHIJ'] },
  { id: 'S', type: 'slack', url: 'http://127.0.0.1:9/services/T000/B000/SLACKPATHTOKENSECRET', secrets: ['SLACKPATHTOKENSECRET'] },
  { id: 'A', type: 'alertmanager', url: 'http://am-user:AMPASSWORDSECRET@127.0.0.1:9/', secrets: ['AMPASSWORDSECRET'] },
];
/** docs/escalation.md, Superseded triggers: the sinks that wake a person, which get no trigger already over. */
const isPager = (ident: string): boolean => ['pagerduty', 'alertmanager'].includes(IDENTS.find((i) => i.id === ident)!.type);
const identOfUrl = (url: string, body: string): Ident => {
  const hit = IDENTS.filter((i) => (i.type === 'alertmanager' ? url.startsWith('http://am-user:') || url.includes('/api/v2/alerts') : url === i.url));
  if (hit.length !== 1) throw new Error(`request to an unknown sink: ${url} ${body.slice(0, 40)}`);
  return hit[0]!;
};

const CLASSES: readonly IncidentClass[] = ['serialization', 'connection', 'cluster-outage', 'stalled'];
const SEVERITIES: readonly Severity[] = ['critical', 'error', 'warning'];

interface Subject {
  readonly cluster: string;
  readonly connector: string;
  readonly task: number | null;
  readonly cls: IncidentClass;
  readonly severity: Severity;
}
const SUBJECTS: readonly Subject[] = [
  { cluster: 'prod', connector: 'orders-sink', task: 0, cls: 'serialization', severity: 'error' },
  { cluster: 'stage', connector: 'pg-source', task: null, cls: 'connection', severity: 'critical' },
  { cluster: 'prod', connector: '*', task: null, cls: 'cluster-outage', severity: 'critical' },
  { cluster: 'stage', connector: 'orders-src', task: 2, cls: 'stalled', severity: 'warning' },
];
const CLUSTER_URL = 'http://admin:CLUSTERPASSWORD@127.0.0.1:8083';

/** docs/escalation.md, Filters: every criterion given must hold; an empty list is none; `*` passes any connector pattern. */
function admits(f: SinkFilter, i: Incident): boolean {
  const allows = <T>(list: readonly T[] | undefined, v: T) => list === undefined || list.length === 0 || list.includes(v);
  return allows(f.classes, i.class) && allows(f.severities, i.severity) && allows(f.clusters, i.cluster) && (f.connector === undefined || i.connector === '*' || new RegExp(f.connector).test(i.connector));
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios.

type Answer = { readonly kind: 'ok' | 'reject' | 'http500' | 'timeout' | 'refused' } | { readonly kind: 'http429' | 'http503'; readonly retryAfter: number };

interface SinkPlace {
  readonly ident: number;
  readonly named: boolean;
  readonly filter: SinkFilter;
}
type Config = readonly SinkPlace[];

type Op =
  | { readonly kind: 'escalate'; readonly s: number }
  | { readonly kind: 'touch'; readonly s: number }
  | { readonly kind: 'resolve'; readonly s: number }
  /** The same event enqueued again (a decision replayed). */
  | { readonly kind: 'replay'; readonly s: number }
  | { readonly kind: 'resend' };

interface Step {
  readonly dt: number;
  readonly ops: readonly Op[];
  /** What each sink identity answers during this step's drain, cyclically. */
  readonly answers: readonly (readonly Answer[])[];
  readonly drain: boolean;
  /** The daemon restarts after this step, with this config, or the same sinks with these filters (narrowed, widened). */
  readonly restart: Config | { readonly refilter: readonly SinkFilter[] } | undefined;
}

interface Scenario {
  readonly maxAge: number;
  readonly interval: number;
  readonly config: Config;
  readonly steps: readonly Step[];
}

const filterArb: fc.Arbitrary<SinkFilter> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        classes: fc.subarray([...CLASSES]),
        severities: fc.subarray([...SEVERITIES]),
        clusters: fc.subarray(['prod', 'stage', 'gone']),
        connector: fc.constantFrom('^orders', 'pg', '^nomatch$', 'sink$'),
      },
      { requiredKeys: [] },
    ),
  },
);

const configArb: fc.Arbitrary<Config> = fc
  .shuffledSubarray(
    IDENTS.map((_, i) => i),
    { minLength: 0 },
  )
  .chain((idents) => fc.tuple(...idents.map((ident) => fc.record({ ident: fc.constant(ident), named: fc.boolean(), filter: filterArb }))))
  .map((places) => places as Config);

const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'ok' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reject' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'http500' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'timeout' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'refused' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('http429' as const, 'http503' as const), retryAfter: fc.constantFrom(1, 30, 120, 900) }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('escalate' as const), s: fc.nat({ max: SUBJECTS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('touch' as const), s: fc.nat({ max: SUBJECTS.length - 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resolve' as const), s: fc.nat({ max: SUBJECTS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), s: fc.nat({ max: SUBJECTS.length - 1 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'resend' as const }) },
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  dt: fc.constantFrom(SECOND, 5 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 20 * MINUTE),
  ops: fc.array(opArb, { maxLength: 3 }),
  answers: fc.array(fc.array(answerArb, { minLength: 1, maxLength: 3 }), { minLength: IDENTS.length, maxLength: IDENTS.length }),
  drain: fc.constantFrom(true, true, true, false),
  restart: fc.option(fc.oneof(configArb, fc.record({ refilter: fc.array(filterArb, { minLength: IDENTS.length, maxLength: IDENTS.length }) })), { freq: 5 }).map((c) => c ?? undefined),
});

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  maxAge: fc.constantFrom(24 * HOUR, 24 * HOUR, 30 * MINUTE),
  interval: fc.constantFrom(5 * SECOND, 30 * SECOND),
  config: configArb,
  steps: fc.array(stepArb, { minLength: 1, maxLength: 16 }),
});

/** The SinkConfig list a config file with these places gives (load.ts names an unnamed sink `<type>-<index>`). */
function sinksOf(config: Config): SinkConfig[] {
  return config.map((p, index) => {
    const id = IDENTS[p.ident]!;
    return {
      type: id.type,
      name: p.named ? `named-${id.id}` : `${id.type}-${index}`,
      url: id.url,
      ...(id.secret !== undefined && { secret: id.secret }),
      ...(id.routingKey !== undefined && { routingKey: id.routingKey }),
      filter: p.filter,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Playing a scenario.

interface Sent {
  readonly life: number;
  readonly at: number;
  readonly ident: string;
  readonly eventId: string;
  readonly kind: 'trigger' | 'resolve' | 'resend';
  /** `<incident key>#<firstSeen>`: which incident. */
  readonly incident: string;
  readonly request: string;
  readonly answer: Answer['kind'];
}

interface Admission {
  readonly life: number;
  readonly ident: string;
  readonly eventId: string;
  readonly kind: Sent['kind'];
  readonly incident: string;
  readonly at: number;
}

interface Run {
  readonly sent: Sent[];
  readonly admitted: Admission[];
  /** ident → the times it was removed from the config by a restart. */
  readonly removedAt: Map<string, number[]>;
  /** Events enqueued again (a replayed decision), and in which life. */
  readonly replays: { readonly life: number; readonly eventId: string }[];
  readonly violations: string[];
  readonly pendingLeft: readonly PendingDelivery[];
  readonly stateFiles: string[];
  readonly logs: string[];
  readonly end: number;
}

const identOfOld = (old: readonly { name: string; ident: string }[], name: string): string => old.find((x) => x.name === name)!.ident;
const incidentOf = (e: EscalationEvent) => `${e.incident.key}#${e.incident.firstSeen}`;
const kindOf = (e: EscalationEvent): Sent['kind'] => (e.id.includes('#resend#') ? 'resend' : e.event);

function requestIds(req: SendRequest): { eventId: string; kind: 'trigger' | 'resolve'; key: string } {
  // Each builder's own way of saying which event it is: the webhook's id, PagerDuty's action, Alertmanager's endsAt.
  const body = JSON.parse(req.body!) as Record<string, unknown>;
  if ('id' in body) return { eventId: body['id'] as string, kind: body['event'] as 'trigger' | 'resolve', key: body['key'] as string };
  if ('event_action' in body) return { eventId: '', kind: body['event_action'] as 'trigger' | 'resolve', key: body['dedup_key'] as string };
  if (Array.isArray(body)) return { eventId: '', kind: 'endsAt' in (body[0] as object) ? 'resolve' : 'trigger', key: '' };
  return { eventId: '', kind: (body['text'] as string).includes('Resolved') ? 'resolve' : 'trigger', key: '' };
}

async function play(s: Scenario): Promise<Run> {
  let now = T0;
  const { logger, lines } = memoryLogger();
  const sent: Sent[] = [];
  const admitted: Admission[] = [];
  const removedAt = new Map<string, number[]>();
  const replays: Run['replays'] = [];
  const violations: string[] = [];
  const stateFiles: string[] = [];
  let answers: readonly (readonly Answer[])[] = IDENTS.map(() => [{ kind: 'ok' }]);
  const calls = new Map<string, number>();
  let life = 0;
  let config = s.config;
  let sinks = sinksOf(config);

  const open = new Map<number, Incident>();
  /** Per key, the sink identities its trigger was queued for (docs: routes), as the doc says they survive. */
  const routes = new Map<string, Set<string>>();
  const identOfName = (name: string) => IDENTS[config[sinks.findIndex((x) => x.name === name)]!.ident]!.id;

  const send = async (req: SendRequest): Promise<SendResponse> => {
    const ident = identOfUrl(req.url, req.body ?? '');
    const n = calls.get(ident.id) ?? 0;
    calls.set(ident.id, n + 1);
    const list = answers[IDENTS.indexOf(ident)]!;
    const a = list[n % list.length]!;
    lastAnswer.set(ident.id, a);
    if (now < (notBefore.get(ident.id) ?? -Infinity)) violations.push(`${ident.id} called at t+${(now - T0) / SECOND} s, paused until t+${(notBefore.get(ident.id)! - T0) / SECOND} s`);
    // Per sink, FIFO: the request must be the first item pending for that sink, byte for byte as its builder makes it.
    const index = config.findIndex((p) => IDENTS[p.ident]!.id === ident.id);
    const sink = sinks[index];
    const first = sink === undefined ? undefined : outbox.pending().find((p) => p.sink === sink.name);
    const ev = first?.event;
    if (ev === undefined || buildRequest(ev, sink!, now).body !== req.body) violations.push(`${ident.id}: a request that is not the first pending for it: ${req.body!.slice(0, 160)}`);
    else {
      const ids = requestIds(req);
      if (ids.kind !== ev.event) violations.push(`${ident.id}: ${ev.id} sent as a ${ids.kind}`);
      // docs, Superseded triggers: a pager is never sent a trigger whose resolve is already queued behind it.
      const over = outbox.pending().find((p) => p.sink === sink!.name && p.event.event === 'resolve' && p.event.incident.key === ev.incident.key && p.event.incident.firstSeen >= ev.incident.firstSeen);
      if (ev.event === 'trigger' && isPager(ident.id) && over !== undefined) violations.push(`${ident.id}: paged with ${ev.id} while ${over.event.id} was queued behind it`);
      sent.push({ life, at: now, ident: ident.id, eventId: ev.id, kind: kindOf(ev), incident: incidentOf(ev), request: `${JSON.stringify(req.headers)} ${req.url} ${req.body}`, answer: a.kind });
    }
    switch (a.kind) {
      case 'ok':
        return { status: ident.type === 'pagerduty' ? 202 : 200, headers: {} };
      case 'reject':
        return { status: 400, headers: {}, body: `bad request to ${req.url}` };
      case 'http500':
        return { status: 500, headers: {}, body: 'oops' };
      case 'http429':
        return { status: 429, headers: { 'retry-after': String(a.retryAfter) } };
      case 'http503':
        return { status: 503, headers: { 'retry-after': String(a.retryAfter) } };
      case 'timeout':
        throw Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
      case 'refused':
        throw Object.assign(new Error(`connect ECONNREFUSED ${req.url}`), { code: 'ECONNREFUSED' });
    }
  };

  const make = () =>
    new Outbox({
      sinks,
      logger,
      delivery: { retries: 2, interval: s.interval, maxAge: s.maxAge, timeout: 2 * SECOND },
      send,
      now: () => now,
      backoff: { min: 1, max: 2 },
      sleep: async (_ms, signal) => signal.throwIfAborted(),
      persisted: async () => {},
      onDelivery: (name, outcome) => {
        const ident = identOfName(name);
        if (outcome === 'ok') failedDrains.delete(ident);
        if (outcome !== 'failed') return;
        // docs: the sink pauses for delivery.interval, doubling per failed drain up to 1 minute; and a sink that ran
        // out of retries on a Retry-After (429, 503; capped at 5 minutes) is not called again before it.
        const n = (failedDrains.get(ident) ?? 0) + 1;
        failedDrains.set(ident, n);
        const a = lastAnswer.get(ident);
        const retryAfter = a !== undefined && 'retryAfter' in a ? Math.min(a.retryAfter * SECOND, 5 * MINUTE) : 0;
        notBefore.set(ident, now + Math.max(Math.min(s.interval * 2 ** (n - 1), MINUTE), retryAfter));
      },
    });
  /** Per sink identity: failed drains in a row, and when it may be called again (this process only). */
  const failedDrains = new Map<string, number>();
  const notBefore = new Map<string, number>();
  const lastAnswer = new Map<string, Answer>();
  let outbox = make();

  const checkPending = (where: string) => {
    const pending = outbox.pending();
    const ids = pending.map((p) => `${p.sink}\u0000${p.event.id}`);
    if (new Set(ids).size !== ids.length) violations.push(`${where}: a delivery pending twice`);
    // docs: "A re-send is skipped for a sink that still has a delivery of that incident pending".
    const perKey = new Map<string, number>();
    for (const p of pending) if (kindOf(p.event) === 'resend') perKey.set(`${p.sink}/${p.event.incident.key}`, (perKey.get(`${p.sink}/${p.event.incident.key}`) ?? 0) + 1);
    for (const [k, n] of perKey) if (n > 1) violations.push(`${where}: ${n} re-sends of ${k} pending at once`);
    // Routes are kept for open incidents only (docs: "which sinks each open incident's trigger went to").
    const openKeys = new Set([...open.values()].map((i) => i.key));
    for (const key of Object.keys(outbox.routing())) if (!openKeys.has(key)) violations.push(`${where}: a route kept for ${key}, not open`);
  };

  const enqueue = (events: EscalationEvent[]) => {
    for (const e of events) {
      for (const [index, sink] of sinks.entries()) {
        const ident = IDENTS[config[index]!.ident]!.id;
        const routed = e.event === 'resolve' && routes.get(e.incident.key)?.has(ident) === true;
        if (admits(sink.filter, e.incident) || routed) admitted.push({ life, ident, eventId: e.id, kind: e.event, incident: incidentOf(e), at: e.at });
        if (e.event === 'trigger' && admits(sink.filter, e.incident)) routes.set(e.incident.key, new Set([...(routes.get(e.incident.key) ?? []), ident]));
      }
      if (e.event === 'resolve') routes.delete(e.incident.key);
    }
    outbox.enqueue(...events);
  };

  const eventOf = (kind: 'trigger' | 'resolve', i: Incident, at: number): EscalationEvent => ({
    id: `${i.key}#${i.firstSeen}#${kind}`,
    event: kind,
    incident: kind === 'resolve' ? { ...i, resolvedAt: at } : i,
    at,
    clusterUrl: CLUSTER_URL,
    ...(kind === 'resolve' && { resolution: 'recovered' }),
  });
  const lastTrigger = new Map<number, EscalationEvent>();

  const restart = (next: Config) => {
    const doc = { version: STATE_VERSION as typeof STATE_VERSION, savedAt: new Date(now).toISOString(), heal: EMPTY_HEAL_STATE, outbox: outbox.pending(), routes: outbox.routing(), sinks: outbox.sinkIdentities() };
    const text = Buffer.concat(new StateEncoder().encode(doc)).toString('utf8');
    stateFiles.push(text);
    const pendingBefore = outbox.pending();
    const before = pendingBefore.map((p) => ({ ident: identOfName(p.sink), id: p.event.id }));
    const saved = parseState(text);
    const oldSinks = sinks.map((x, i) => ({ name: x.name, ident: IDENTS[config[i]!.ident]!.id }));
    config = next;
    sinks = sinksOf(config);
    life += 1;
    const newSinks = sinks.map((x, i) => ({ name: x.name, ident: IDENTS[config[i]!.ident]!.id }));
    const newIdents = new Set(newSinks.map((x) => x.ident));
    const oldIdents = new Set(oldSinks.map((x) => x.ident));
    // Where each sink's pages go (docs, Persisted: matched by where it sends, before its name). A sink saved under
    // a name that now names a sink sending somewhere no saved sink sent is that sink with its URL or key changed
    // (adoptSinks): its pages follow the name. Otherwise a sink no longer configured gets nothing more.
    const follow = new Map<string, string | undefined>();
    for (const o of oldSinks) {
      const sameName = newSinks.find((x) => x.name === o.name);
      follow.set(o.ident, newIdents.has(o.ident) ? o.ident : sameName !== undefined && !oldIdents.has(sameName.ident) ? sameName.ident : undefined);
    }
    for (const [from, to] of follow) {
      if (to === from) continue;
      removedAt.set(from, [...(removedAt.get(from) ?? []), now]);
      if (to === undefined) continue;
      for (const p of pendingBefore.filter((x) => identOfOld(oldSinks, x.sink) === from)) admitted.push({ life, ident: to, eventId: p.event.id, kind: kindOf(p.event), incident: incidentOf(p.event), at: p.event.at });
    }
    // docs: "A sink removed from the config gets nothing more": its routes go with it (or follow it, as its pages).
    for (const [key, set] of routes) routes.set(key, new Set([...set].flatMap((id) => (follow.has(id) ? (follow.get(id) ?? []) : newIdents.has(id) ? [id] : []))));
    outbox = make();
    failedDrains.clear();
    notBefore.clear();
    outbox.adoptSinks(saved.sinks);
    outbox.loadRouting(saved.routes);
    outbox.load(saved.outbox, saved.savedAt);
    // docs, Persisted: entries for sinks no longer configured are dropped; the others come back, following
    // their sink by where it sends (renamed or renumbered), in their order.
    const after = outbox.pending().map((p) => ({ ident: identOfName(p.sink), id: p.event.id }));
    const expected = before.flatMap((b) => (follow.get(b.ident) === undefined ? [] : [{ ident: follow.get(b.ident)!, id: b.id }]));
    if (JSON.stringify(after) !== JSON.stringify(expected)) violations.push(`restart at t+${(now - T0) / SECOND} s lost or changed pending pages: ${JSON.stringify(expected)} → ${JSON.stringify(after)}`);
    // Routes as the doc says they survive: a restored route names the same sink identities.
    for (const [key, names] of Object.entries(outbox.routing())) {
      const got = new Set(names.map(identOfName));
      const want = routes.get(key) ?? new Set<string>();
      if ([...got].some((x) => !want.has(x)) || [...want].some((x) => !got.has(x))) violations.push(`restart: route of ${key} names ${[...got].join(',')}, the trigger went to ${[...want].join(',')}`);
    }
    for (const [key, want] of routes) if (want.size > 0 && outbox.routing()[key] === undefined) violations.push(`restart: route of ${key} (to ${[...want].join(',')}) lost`);
  };

  for (const [n, step] of s.steps.entries()) {
    now += step.dt;
    answers = step.answers;
    for (const op of step.ops) {
      const subj = SUBJECTS[(op as { s?: number }).s ?? 0]!;
      const s_ = (op as { s?: number }).s ?? 0;
      // The policy opens an incident at a poll, and a resolve and a re-open take two polls: firstSeen differs.
      if (op.kind === 'escalate' && !open.has(s_) && lastTrigger.get(s_)?.incident.firstSeen !== now) {
        const i: Incident = {
          key: incidentKey(subj.cluster, subj.connector, subj.task, subj.cls),
          cluster: subj.cluster,
          connector: subj.connector,
          task: subj.task,
          class: subj.cls,
          severity: subj.severity,
          reason: 'not fixed by a restart',
          rootCause: 'java.sql.SQLException: password=s3cret rejected',
          hint: 'check the credentials',
          attempts: 1,
          firstSeen: now,
          lastSeen: now,
          workerId: '127.0.0.1:8083',
          traceExcerpt: SECRET_TRACE,
        };
        open.set(s_, i);
        const e = eventOf('trigger', i, now);
        lastTrigger.set(s_, e);
        enqueue([e]);
      } else if (op.kind === 'touch' && open.has(s_)) open.set(s_, { ...open.get(s_)!, lastSeen: now, attempts: open.get(s_)!.attempts + 1 });
      else if (op.kind === 'resolve' && open.has(s_)) {
        const i = open.get(s_)!;
        open.delete(s_);
        enqueue([eventOf('resolve', i, now)]);
      } else if (op.kind === 'replay' && lastTrigger.has(s_) && open.get(s_)?.firstSeen === lastTrigger.get(s_)!.incident.firstSeen) {
        // A replayed decision of the incident still open (the same event id).
        replays.push({ life, eventId: lastTrigger.get(s_)!.id });
        enqueue([lastTrigger.get(s_)!]);
      } else if (op.kind === 'resend') {
        const openList = [...open.values()];
        for (const [index, sink] of sinks.entries()) {
          if (sink.type !== 'alertmanager') continue;
          for (const i of openList) {
            if (admits(sink.filter, i)) admitted.push({ life, ident: IDENTS[config[index]!.ident]!.id, eventId: `${i.key}#${i.firstSeen}#resend#${now}`, kind: 'resend', incident: `${i.key}#${i.firstSeen}`, at: now });
          }
        }
        // docs: "A re-send is skipped for a sink that still has a delivery of that incident pending".
        const was = outbox.pending();
        const busy = new Set(was.map((p) => `${p.sink}/${p.event.incident.key}`));
        outbox.resendOpen(openList, now, () => CLUSTER_URL);
        for (const p of outbox.pending()) if (!was.includes(p) && busy.has(`${p.sink}/${p.event.incident.key}`)) violations.push(`step ${n}: re-send of ${p.event.incident.key} queued for ${p.sink} behind a delivery of it still pending`);
      }
    }
    checkPending(`step ${n}`);
    if (step.drain) {
      const paused = new Set([...notBefore].filter(([, t]) => now < t).map(([id]) => id));
      await outbox.drain();
      // Sinks are independent, a drain delivers what is due, and "a rejected item must not block the sink's queue":
      // a sink not paused that answers only 2xx or 4xx is left with nothing pending, whatever the others do.
      for (const [index, sink] of sinks.entries()) {
        const id = IDENTS[config[index]!.ident]!;
        if (paused.has(id.id) || !step.answers[IDENTS.indexOf(id)]!.every((a) => a.kind === 'ok' || a.kind === 'reject')) continue;
        const left = outbox.pending().filter((p) => p.sink === sink.name);
        if (left.length > 0) violations.push(`step ${n}: ${id.id} answered only 2xx and 4xx, not paused, still has ${left.length} pending after a drain`);
      }
    }
    checkPending(`step ${n} after drain`);
    if (step.restart !== undefined) restart('refilter' in step.restart ? config.map((p, i) => ({ ...p, filter: (step.restart as { refilter: readonly SinkFilter[] }).refilter[i]! })) : step.restart);
    checkPending(`step ${n} after restart`);
  }

  // Every sink answers 2xx from now on, for long enough: past any pause (1 min) and Retry-After (5 min).
  answers = IDENTS.map(() => [{ kind: 'ok' }]);
  for (let k = 0; k < 4; k++) {
    now += 6 * MINUTE;
    await outbox.drain();
  }
  return { sent, admitted, removedAt, replays, violations, pendingLeft: outbox.pending(), stateFiles, logs: lines, end: now };
}

// ---------------------------------------------------------------------------------------------------------
// Invariants, each from docs/escalation.md.

/** Filters: a sink receives what its filter admitted when the event was queued (a resolve: also if its trigger went there). */
function unadmitted(run: Run): string[] {
  const ok = new Set(run.admitted.map((a) => `${a.ident}\u0000${a.eventId}`));
  return run.sent.filter((x) => !ok.has(`${x.ident}\u0000${x.eventId}`)).map((x) => `${x.ident} got ${x.eventId}, which its filter did not admit`);
}

/**
 * Resolve after trigger: per sink, FIFO, "an item is tried only when every earlier item for that sink was delivered,
 * rejected or expired". So no trigger after its resolve, and no resolve while its trigger to that sink is owed.
 */
function outOfOrder(run: Run, maxAge: number): string[] {
  const out: string[] = [];
  for (const r of run.sent.filter((x) => x.kind === 'resolve')) {
    for (const t of run.sent) {
      if (t.ident === r.ident && t.incident === r.incident && t.kind === 'trigger' && run.sent.indexOf(t) > run.sent.indexOf(r)) out.push(`${r.ident}: trigger of ${r.incident} sent after its resolve`);
    }
    const trigger = run.admitted.find((a) => a.ident === r.ident && a.incident === r.incident && a.kind === 'trigger');
    // A pager's trigger still owed when its resolve goes is superseded (never sent: the loop above holds it to that).
    if (trigger === undefined || isPager(r.ident)) continue;
    const before = run.sent.slice(0, run.sent.indexOf(r));
    const finished = before.some((x) => x.ident === r.ident && x.eventId === trigger.eventId && (x.answer === 'ok' || x.answer === 'reject'));
    const expired = r.at - trigger.at > maxAge;
    const dropped = (run.removedAt.get(r.ident) ?? []).some((t) => t >= trigger.at);
    if (!finished && !expired && !dropped) out.push(`${r.ident}: resolve of ${r.incident} sent at t+${(r.at - T0) / SECOND} s before its trigger was delivered, rejected or expired`);
  }
  return out;
}

/**
 * At least once per sink: every admitted delivery was answered 2xx, or rejected (4xx), or expired (older than
 * delivery.maxAge), or its sink was removed from the config since ("gets nothing more"); nothing is left pending.
 */
function undelivered(run: Run, maxAge: number): string[] {
  const out: string[] = run.pendingLeft.map((p) => `still pending after every sink answered 2xx for ${(4 * 6 * MINUTE) / MINUTE} min: ${p.sink} ${p.event.id}`);
  for (const a of run.admitted) {
    const done = run.sent.some((x) => x.ident === a.ident && x.eventId === a.eventId && (x.answer === 'ok' || x.answer === 'reject'));
    const expired = run.end - a.at > maxAge;
    const dropped = (run.removedAt.get(a.ident) ?? []).some((t) => t >= a.at);
    // docs, Superseded triggers: a pager's trigger not delivered by the time its resolve (or a later occurrence's) is queued is not owed.
    const superseded = a.kind === 'trigger' && isPager(a.ident) && run.admitted.slice(run.admitted.indexOf(a) + 1).some((r) => r.ident === a.ident && r.kind === 'resolve' && sameKeyNotOlder(r.incident, a.incident));
    // A re-send is owed only while the incident is open and nothing of it is pending at that sink (docs, Alertmanager).
    if (!done && !expired && !dropped && !superseded && a.kind !== 'resend') out.push(`${a.ident} never got ${a.eventId} (queued in life ${a.life})`);
  }
  return out;
}

/** `<key>#<firstSeen>` of a resolve against a trigger's: the same incident key, the same occurrence or a later one. */
function sameKeyNotOlder(resolve: string, trigger: string): boolean {
  const split = (x: string) => [x.slice(0, x.lastIndexOf('#')), Number(x.slice(x.lastIndexOf('#') + 1))] as const;
  const [rk, rf] = split(resolve);
  const [tk, tf] = split(trigger);
  return rk === tk && rf >= tf;
}

/** One event, one delivery per sink: within one process, an event is not delivered (2xx) twice to a sink. */
function duplicates(run: Run): string[] {
  const seen = new Map<string, number>();
  for (const x of run.sent.filter((y) => y.answer === 'ok')) {
    const k = `${x.life}\u0000${x.ident}\u0000${x.eventId}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  const out = [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k.replaceAll('\u0000', ' ')} delivered ${n} times in one life`);
  // Across a restart by the book (stop, state written, start), a delivered event is not delivered again (Slack
  // posts each one as a message) unless the decision was replayed after it: the last 4096 ids are not persisted.
  const first = new Map<string, Sent>();
  for (const x of run.sent.filter((y) => y.answer === 'ok')) {
    const k = `${x.ident}\u0000${x.eventId}`;
    const before = first.get(k);
    if (before === undefined) first.set(k, x);
    else if (x.life !== before.life && !run.replays.some((r) => r.eventId === x.eventId && r.life > before.life)) out.push(`${x.ident} got ${x.eventId} again after a restart (life ${before.life}, then ${x.life})`);
  }
  return out;
}

/** Secrets: a sink's URL, routing key and secret go to that sink only; traces and cluster credentials go nowhere. */
function leaks(run: Run): string[] {
  const out: string[] = [];
  const everywhere = ['s3cret', 'CLUSTERPASSWORD'];
  for (const x of run.sent) {
    const own = IDENTS.find((i) => i.id === x.ident)!;
    // The request line carries the sink's own URL; PagerDuty's body its own routing key: that is where they belong.
    const [head, url, ...rest] = x.request.split(' ');
    const body = rest.join(' ');
    for (const i of IDENTS) {
      for (const secret of [...i.secrets, ...everywhere]) {
        const allowedInBody = i === own && own.type === 'pagerduty' && secret === own.routingKey;
        if (body.includes(secret) && !allowedInBody) out.push(`${x.ident} request body holds ${secret}`);
        if (head!.includes(secret)) out.push(`${x.ident} request headers hold ${secret}`);
        if (url!.includes(secret) && !(i === own && own.type === 'alertmanager') && i !== own) out.push(`${x.ident} request URL holds ${secret}`);
      }
    }
  }
  const secrets = [...IDENTS.flatMap((i) => i.secrets), ...everywhere];
  for (const f of run.stateFiles) for (const secret of secrets) if (f.includes(secret)) out.push(`state file holds ${secret}`);
  for (const l of run.logs) for (const secret of secrets) if (l.includes(secret)) out.push(`log line holds ${secret}: ${l.slice(0, 200)}`);
  return [...new Set(out)];
}

const fmt = (s: Scenario): string => JSON.stringify(s);

describe('the outbox on random sequences (properties from docs/escalation.md)', () => {
  const params = { seed: SEED, numRuns: RUNS, endOnFailure: false } as const;

  it('delivers every admitted page at least once, in order, to its own sink only, loses nothing across restarts, and leaks nothing', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const run = await play(s);
        expect(run.violations, fmt(s)).toEqual([]);
        expect(unadmitted(run), fmt(s)).toEqual([]);
        expect(outOfOrder(run, s.maxAge), fmt(s)).toEqual([]);
        expect(undelivered(run, s.maxAge), fmt(s)).toEqual([]);
        expect(duplicates(run), fmt(s)).toEqual([]);
        expect(leaks(run), fmt(s)).toEqual([]);
      }),
      params,
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------------------
// Crashes: the daemon killed at any point, deliveries and state writes in flight, through the real StateStore.

type CrashAnswer = Answer | { readonly kind: 'slow' };

interface CrashStep {
  readonly dt: number;
  readonly ops: readonly Op[];
  readonly answers: readonly (readonly CrashAnswer[])[];
  /**
   * While this step's drain is in flight, its ops queued meanwhile, the watchdog is killed, or stopped (stop(): in-flight
   * attempts aborted, items kept, the state file written) and started again.
   */
  readonly crash: false | 'kill' | 'stop';
}

interface CrashScenario {
  readonly config: Config;
  readonly steps: readonly CrashStep[];
}

const crashStepArb: fc.Arbitrary<CrashStep> = fc.record({
  dt: fc.constantFrom(SECOND, 5 * SECOND, MINUTE, 5 * MINUTE),
  ops: fc.array(opArb, { maxLength: 3 }),
  answers: fc.array(fc.array(fc.oneof({ weight: 3, arbitrary: answerArb }, { weight: 1, arbitrary: fc.constant({ kind: 'slow' as const }) }), { minLength: 1, maxLength: 3 }), { minLength: IDENTS.length, maxLength: IDENTS.length }),
  crash: fc.constantFrom<false | 'kill' | 'stop'>(false, false, false, false, 'kill', 'stop'),
});

const crashScenarioArb: fc.Arbitrary<CrashScenario> = fc.record({
  config: configArb.filter((c) => c.length > 0),
  steps: fc.array(crashStepArb, { minLength: 1, maxLength: 10 }),
});

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function playCrashes(s: CrashScenario, dir: string): Promise<{ violations: string[]; sent: Sent[] }> {
  let now = T0;
  const { logger } = memoryLogger();
  const violations: string[] = [];
  const sent: Sent[] = [];
  const sinks = sinksOf(s.config);
  const identOf = (name: string) => IDENTS[s.config[sinks.findIndex((x) => x.name === name)]!.ident]!.id;
  let answers: readonly (readonly CrashAnswer[])[] = IDENTS.map(() => [{ kind: 'ok' }]);
  const calls = new Map<string, number>();
  let gate: { promise: Promise<void>; open: () => void } = newGate();
  let life = 0;
  const dead = new Set<number>();
  let path = join(dir, `state-${life}.json`);
  /** Every event queued, by id: the policy decides again what a crash lost before it reached the state file. */
  const events = new Map<string, EscalationEvent>();
  /** (sink, event id) → what became of it: 'open' owed, 'done' answered 2xx or refused. */
  const owed = new Map<string, 'open' | 'done'>();
  const open = new Map<number, Incident>();

  function newGate() {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  }

  const onDisk = (): Set<string> => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return new Set();
    }
    return new Set((parseState(text).outbox as PendingDelivery[]).map((p) => `${p.sink}\u0000${p.event.id}`));
  };

  const makeLife = async () => {
    // On the outbox's clock, as the daemon's: load() reads savedAt against the ages it persisted.
    const store = new StateStore(path, logger, { now: () => now });
    const saved = await store.load();
    let outbox!: Outbox;
    const thisLife = life;
    const killed = () => Object.assign(new Error('the process was killed'), { name: 'AbortError' });
    const send = async (req: SendRequest): Promise<SendResponse> => {
      // A killed process sends nothing more.
      if (dead.has(thisLife)) throw killed();
      const ident = identOfUrl(req.url, req.body ?? '');
      const sink = sinks[s.config.findIndex((p) => IDENTS[p.ident]!.id === ident.id)]!;
      const first = outbox.pending().find((p) => p.sink === sink.name);
      if (first === undefined || buildRequest(first.event, sink, now).body !== req.body) {
        violations.push(`${ident.id}: a request that is not the first pending for it`);
        return { status: 200, headers: {} };
      }
      const ev = first.event;
      // OutboxOptions.persisted: a page is sent only once it is in the state file, so a crash cannot lose a page
      // the sink already has (its resolve would be lost with it) nor send one the restarted daemon does not know.
      if (!onDisk().has(`${sink.name}\u0000${ev.id}`)) violations.push(`${ident.id}: ${ev.id} sent before it was in the state file`);
      const n = calls.get(ident.id) ?? 0;
      calls.set(ident.id, n + 1);
      const list = answers[IDENTS.indexOf(ident)]!;
      let a = list[n % list.length]!;
      if (a.kind === 'slow') {
        const aborted = new Promise<never>((_, reject) => req.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true }));
        // The sink got it; its answer is lost if the watchdog dies first.
        const got: Sent = { life: thisLife, at: now, ident: ident.id, eventId: ev.id, kind: kindOf(ev), incident: incidentOf(ev), request: '', answer: 'timeout' };
        sent.push(got);
        await Promise.race([gate.promise, aborted]);
        if (dead.has(thisLife)) throw killed();
        sent.splice(sent.indexOf(got), 1);
        a = { kind: 'ok' };
      }
      sent.push({ life: thisLife, at: now, ident: ident.id, eventId: ev.id, kind: kindOf(ev), incident: incidentOf(ev), request: '', answer: a.kind });
      if (a.kind === 'ok' || a.kind === 'reject') owed.set(`${ident.id}\u0000${ev.id}`, 'done');
      switch (a.kind) {
        case 'ok':
          return { status: 200, headers: {} };
        case 'reject':
          return { status: 400, headers: {} };
        case 'http429':
        case 'http503':
          return { status: a.kind === 'http429' ? 429 : 503, headers: { 'retry-after': String(a.retryAfter) } };
        case 'http500':
          return { status: 500, headers: {} };
        case 'timeout':
          throw Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
        case 'refused':
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      }
    };
    outbox = new Outbox({
      sinks,
      logger,
      delivery: { retries: 1, interval: 5 * SECOND, maxAge: 24 * HOUR, timeout: 5 * SECOND },
      send,
      now: () => now,
      backoff: { min: 1, max: 2 },
      sleep: async (_ms, signal) => signal.throwIfAborted(),
      onChange: () => store.save(() => ({ heal: EMPTY_HEAL_STATE, outbox: outbox.pending(), routes: outbox.routing(), sinks: outbox.sinkIdentities() })),
      persisted: () => store.settled(),
    });
    outbox.adoptSinks(saved.sinks);
    outbox.loadRouting(saved.routes);
    outbox.load(saved.outbox, saved.savedAt);
    return { outbox, store };
  };

  let { outbox, store } = await makeLife();
  // docs, Superseded triggers: a pager's trigger is not owed once a resolve of its incident (or a later occurrence) is.
  const superseded = (k: string): boolean => {
    const [ident, id] = k.split('\u0000') as [string, string];
    const e = events.get(id)!;
    return e.event === 'trigger' && isPager(ident) && [...events.values()].some((r) => r.event === 'resolve' && r.incident.key === e.incident.key && r.incident.firstSeen >= e.incident.firstSeen && owed.has(`${ident}\u0000${r.id}`));
  };
  const enqueue = (e: EscalationEvent) => {
    events.set(e.id, e);
    for (const sink of sinks) if (admits(sink.filter, e.incident)) owed.set(`${identOf(sink.name)}\u0000${e.id}`, owed.get(`${identOf(sink.name)}\u0000${e.id}`) ?? 'open');
    outbox.enqueue(e);
  };

  for (const step of s.steps) {
    now += step.dt;
    answers = step.answers;
    gate = newGate();
    const drain = outbox.drain();
    await turn();
    for (const op of step.ops) {
      const s_ = (op as { s?: number }).s ?? 0;
      const subj = SUBJECTS[s_]!;
      if (op.kind === 'escalate' && !open.has(s_)) {
        const key = incidentKey(subj.cluster, subj.connector, subj.task, subj.cls);
        if ([...events.values()].some((e) => e.incident.key === key && e.incident.firstSeen === now)) continue;
        const i: Incident = { key, cluster: subj.cluster, connector: subj.connector, task: subj.task, class: subj.cls, severity: subj.severity, reason: 'r', rootCause: 'c', hint: 'h', attempts: 1, firstSeen: now, lastSeen: now, workerId: 'w', traceExcerpt: 't' };
        open.set(s_, i);
        enqueue({ id: `${key}#${now}#trigger`, event: 'trigger', incident: i, at: now, clusterUrl: CLUSTER_URL });
      } else if (op.kind === 'resolve' && open.has(s_)) {
        const i = open.get(s_)!;
        open.delete(s_);
        enqueue({ id: `${i.key}#${i.firstSeen}#resolve`, event: 'resolve', incident: { ...i, resolvedAt: now }, at: now, clusterUrl: CLUSTER_URL, resolution: 'recovered' });
      }
      await turn();
    }
    if (step.crash !== false) {
      if (step.crash === 'stop') {
        await outbox.stop();
        await store.flush();
      }
      // Killed: what is on disk now is all the next process has; the old one's writes and sends stop here.
      const text = (() => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
      })();
      const persisted = onDisk();
      const old = outbox;
      dead.add(life);
      life += 1;
      path = join(dir, `state-${life}.json`);
      if (text !== undefined) writeFileSync(path, text);
      gate.open();
      void old.stop();
      ({ outbox, store } = await makeLife());
      // The policy state went with the same file: an event queued after the last write is decided again.
      for (const [k, state] of owed) {
        const [ident, id] = k.split('\u0000') as [string, string];
        const name = sinks.find((x) => identOf(x.name) === ident)!.name;
        // A superseded trigger left the file with its incident resolved in it: the policy does not decide it again.
        if (state === 'open' && !superseded(k) && !persisted.has(`${name}\u0000${id}`)) outbox.enqueue(events.get(id)!);
      }
    } else {
      gate.open();
      await drain;
    }
  }
  gate.open();
  answers = IDENTS.map(() => [{ kind: 'ok' }]);
  for (let k = 0; k < 4; k++) {
    now += 6 * MINUTE;
    await outbox.drain();
  }
  await store.settled();
  for (const [k, state] of owed) if (state === 'open' && !superseded(k)) violations.push(`${k.replace('\u0000', ' never got ')}`);
  for (const p of outbox.pending()) violations.push(`still pending: ${p.sink} ${p.event.id}`);
  // Per sink, in order. Within one process a trigger is never sent after its resolve; across a crash the sink may
  // get both again ("killed between a delivery and its bookkeeping sends that event again"), but in order: the last
  // thing a sink accepted of a resolved incident is its resolve, so no page is left open.
  for (const r of sent.filter((x) => x.kind === 'resolve')) {
    const later = sent.slice(sent.indexOf(r) + 1).find((t) => t.life === r.life && t.ident === r.ident && t.incident === r.incident && t.kind === 'trigger');
    if (later !== undefined) violations.push(`${r.ident}: trigger of ${r.incident} sent after its resolve`);
  }
  for (const r of sent.filter((x) => x.kind === 'resolve' && x.answer === 'ok')) {
    const same = sent.filter((x) => x.ident === r.ident && x.incident === r.incident);
    const lastTrigger = same.findLastIndex((x) => x.kind === 'trigger' && x.answer === 'ok');
    // A resolve the sink refused (400) is dropped for good (documented), re-sent trigger or not.
    const closed = same.some((x, i) => i > lastTrigger && x.kind === 'resolve' && (x.answer === 'ok' || x.answer === 'reject'));
    if (!closed) violations.push(`${r.ident}: ${r.incident} left open: its trigger was accepted after its resolve`);
  }
  await outbox.stop();
  return { violations, sent };
}

describe('the outbox across crashes (real state file)', () => {
  const params = { seed: SEED, numRuns: Math.max(1, Math.round(RUNS / 4)), endOnFailure: false } as const;

  it('a page is in the state file before it is sent; a crash at any point loses no page, reorders none, and leaves none stuck', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-props-'));
    try {
      await fc.assert(
        fc.asyncProperty(crashScenarioArb, async (s) => {
          const run = await playCrashes(s, mkdtempSync(join(dir, 'run-')));
          expect(run.violations, JSON.stringify(s)).toEqual([]);
        }),
        params,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------------------
// The payload builders on random incidents (names in any script, long, with `%`, times in any order).

describe('expiry across wall clock steps and restarts (docs/escalation.md, Age across a restart)', () => {
  const params = { seed: SEED, numRuns: RUNS, endOnFailure: false } as const;
  const DAY = 24 * HOUR;
  const MAX_AGE = 30 * MINUTE;
  /** Time running (both clocks move), then the wall clock stepped, then maybe a restart after some downtime. */
  const stepArb = fc.record({
    running: fc.integer({ min: 0, max: 20 }).map((m) => m * MINUTE),
    step: fc.constantFrom(0, 0, SECOND, -SECOND, HOUR, -HOUR, 30 * DAY, -30 * DAY),
    restart: fc.option(fc.constantFrom(0, MINUTE, HOUR, 30 * DAY), { nil: undefined }),
  });

  it('a page to a sink that stays down expires once, and exactly when, the watchdog has spent delivery.maxAge running with it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 12 }), async (steps) => {
        const sink = sinksOf([{ ident: 0, named: true, filter: {} }])[0]!;
        let wall = T0;
        let mono = 0;
        const outcomes: string[] = [];
        const make = () =>
          new Outbox({
            sinks: [sink],
            logger: memoryLogger().logger,
            delivery: { retries: 0, interval: SECOND, maxAge: MAX_AGE, timeout: SECOND },
            send: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
            now: () => wall,
            monotonic: () => mono,
            onDelivery: (_sink, outcome) => outcomes.push(outcome),
            backoff: { min: 1, max: 2 },
            sleep: async (_ms, signal) => signal.throwIfAborted(),
          });
        let outbox = make();
        const i: Incident = { key: 'prod/orders-sink/0/serialization', cluster: 'prod', connector: 'orders-sink', task: 0, class: 'serialization', severity: 'error', reason: 'r', rootCause: 'c', hint: 'h', attempts: 1, firstSeen: wall, lastSeen: wall, workerId: 'w', traceExcerpt: '' };
        outbox.enqueue({ id: `${i.key}#${wall}#trigger`, event: 'trigger', incident: i, at: wall, clusterUrl: CLUSTER_URL });
        let spent = 0;
        for (const st of steps) {
          wall += st.running + st.step;
          mono += st.running;
          spent += st.running;
          if (st.restart !== undefined) {
            const doc = { version: STATE_VERSION as typeof STATE_VERSION, savedAt: new Date(wall).toISOString(), heal: EMPTY_HEAL_STATE, outbox: outbox.pending() };
            const saved = parseState(Buffer.concat(new StateEncoder().encode(doc)).toString('utf8'));
            wall += st.restart;
            mono += 7 * DAY; // another process: its monotonic clock starts anywhere
            outbox = make();
            outbox.load(saved.outbox, saved.savedAt);
          }
          await outbox.drain();
          // A drain that still had the page tried it (failed) or dropped it (expired).
          const want = spent > MAX_AGE ? 0 : 1;
          expect(outbox.pending().length, JSON.stringify({ steps, spent })).toBe(want);
        }
        expect(outcomes.filter((o) => o === 'expired').length, JSON.stringify(steps)).toBe(spent > MAX_AGE ? 1 : 0);
      }),
      params,
    );
  });
});

describe('the payload builders on random incidents (docs/escalation.md)', () => {
  const params = { seed: SEED, numRuns: RUNS, endOnFailure: false } as const;
  const name = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.string({ minLength: 120, maxLength: 300 }), fc.constantFrom('*', 'orders-sink', '100%-done', 'заказы'));
  const incidentArb = fc
    .record({
      cluster: name,
      connector: name,
      task: fc.option(fc.nat({ max: 64 }), { nil: null }),
      class: fc.constantFrom(...CLASSES),
      severity: fc.constantFrom(...SEVERITIES),
      firstSeen: fc.integer({ min: T0 - 48 * HOUR, max: T0 + HOUR }),
      lastSeen: fc.integer({ min: T0 - 48 * HOUR, max: T0 + HOUR }),
      resolvedAt: fc.integer({ min: T0 - 48 * HOUR, max: T0 + 2 * HOUR }),
      rootCause: fc.constantFrom('java.sql.SQLException: password=s3cret', 'x'),
    })
    .map(
      (r): Incident => ({
        key: incidentKey(r.cluster, r.connector, r.task, r.class),
        cluster: r.cluster,
        connector: r.connector,
        task: r.task,
        class: r.class,
        severity: r.severity,
        reason: 'r',
        rootCause: r.rootCause,
        hint: 'h',
        attempts: 0,
        firstSeen: r.firstSeen,
        lastSeen: r.lastSeen,
        workerId: '127.0.0.1:8083',
        traceExcerpt: SECRET_TRACE,
        resolvedAt: r.resolvedAt,
      }),
    );
  const now = T0 + 30 * MINUTE;
  const ev = (kind: 'trigger' | 'resolve', i: Incident, id = `${i.key}#${i.firstSeen}#${kind}`): EscalationEvent => {
    const { resolvedAt, ...open } = i;
    return { id, event: kind, incident: kind === 'resolve' ? i : open, at: resolvedAt ?? now, clusterUrl: CLUSTER_URL };
  };
  const sinkOf = (id: string) => sinksOf([{ ident: IDENTS.findIndex((x) => x.id === id), named: true, filter: {} }])[0]!;

  it('PagerDuty: trigger and resolve share a dedup_key of at most 255 characters; Alertmanager: the same labels on trigger, re-send and resolve, startsAt ≤ endsAt ≤ now; webhook: an Idempotency-Key a header can carry that decodes to the id, a signature over the exact body; no secret in any', () => {
    fc.assert(
      fc.property(incidentArb, (i) => {
        const out: string[] = [];
        const pd = sinkOf('P');
        const [pt, pr] = [buildRequest(ev('trigger', i), pd, now), buildRequest(ev('resolve', i), pd, now)].map((r) => JSON.parse(r.body) as { dedup_key: string });
        if (pt!.dedup_key !== pr!.dedup_key) out.push('PagerDuty dedup_key differs between trigger and resolve');
        if (pt!.dedup_key.length > 255) out.push(`PagerDuty dedup_key of ${pt!.dedup_key.length} characters`);
        const am = sinkOf('A');
        type Alert = { labels: Record<string, string>; startsAt: string; endsAt?: string };
        const [at, ar, as] = [ev('trigger', i), ev('resolve', i), ev('trigger', i, `${i.key}#${i.firstSeen}#resend#${now}`)].map((e) => (JSON.parse(buildRequest(e, am, now).body) as Alert[])[0]!);
        if (JSON.stringify(at!.labels) !== JSON.stringify(ar!.labels) || JSON.stringify(at!.labels) !== JSON.stringify(as!.labels)) out.push('Alertmanager labels differ');
        for (const a of [at!, ar!, as!]) {
          const ends = a.endsAt === undefined ? now : Date.parse(a.endsAt);
          if (Date.parse(a.startsAt) > ends || ends > now) out.push(`Alertmanager startsAt ${a.startsAt} endsAt ${a.endsAt ?? '-'} at ${new Date(now).toISOString()}`);
        }
        const hook = sinkOf('W');
        for (const kind of ['trigger', 'resolve'] as const) {
          const e = ev(kind, i);
          const r = buildRequest(e, hook, now);
          const key = r.headers['Idempotency-Key']!;
          if (!/^[\x20-\x7e]*$/.test(key)) out.push(`Idempotency-Key not ASCII: ${key}`);
          if (decodeURIComponent(key) !== e.id) out.push(`Idempotency-Key ${key} does not decode to ${e.id}`);
          if (r.headers['X-Connect-Watchdog-Signature'] !== `sha256=${createHmac('sha256', hook.secret!).update(r.body).digest('hex')}`) out.push('signature does not match the body');
        }
        for (const id of ['W', 'V', 'P', 'S', 'A']) {
          const sink = sinkOf(id);
          for (const kind of ['trigger', 'resolve'] as const) {
            const body = buildRequest(ev(kind, i), sink, now).body;
            for (const secret of ['s3cret', 'CLUSTERPASSWORD', ...IDENTS.flatMap((x) => x.secrets).filter((x) => !(id === 'P' && x === sink.routingKey))]) if (body.includes(secret)) out.push(`${id} ${kind} holds ${secret}`);
          }
        }
        expect(out, JSON.stringify(i)).toEqual([]);
      }),
      params,
    );
  });
});
