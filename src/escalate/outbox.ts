import { createHash, scryptSync } from 'node:crypto';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { ProxyConfig, SinkConfig } from '../config/types.js';
import { resendsDue } from './alertmanager.js';
import { buildRequest } from './build.js';
import { DeliveryError } from './errors.js';
import { safeBaseUrl } from './fields.js';
import { matches } from './filter.js';
import { createSend, hostOf, type Send, type SendResponse } from './http.js';
import { deliveryId, parsePending, type PendingDelivery } from './pending.js';
import { parseRetryAfter, statusVerdict } from './response.js';
import { maskKnownValues, scrubSecrets, truncate } from '../secrets/scrub.js';
import { monotonicOf, within } from '../util/clock.js';
import type { EscalationEvent, Incident } from './types.js';
import { decodeUrlPart } from '../util/url.js';
import { isJsonObject } from '../util/json.js';

export type { PendingDelivery } from './pending.js';

/** superseded: a pager's trigger not sent because its resolve was queued behind it (see Outbox.supersededBy). */
export type DeliveryOutcome = 'ok' | 'failed' | 'rejected' | 'expired' | 'superseded';

export interface DeliverySettings {
  /** Retries of one delivery within one drain. */
  readonly retries: number;
  /** Background drain period (ms). */
  readonly interval: number;
  /** An event that waited this long here (ms on the monotonic clock, across restarts: see load) is dropped as expired. */
  readonly maxAge: number;
  /** Bound of one attempt (ms). */
  readonly timeout: number;
}

export interface OutboxOptions {
  readonly sinks: readonly SinkConfig[];
  readonly logger: Logger;
  readonly delivery: DeliverySettings;
  /** Default: undici `request` with headers/body timeouts of delivery.timeout, through `proxy`. */
  readonly send?: Send;
  readonly proxy?: ProxyConfig;
  readonly now?: () => number;
  /**
   * Monotonic ms (performance.now by default; `now` when only that is given, as tests on a fake clock do): what
   * an event's age runs on once it is here, so that a wall clock stepped does not expire it (delivery.maxAge).
   */
  readonly monotonic?: () => number;
  /** Called once per delivery outcome (metrics). 'failed' = a drain gave up for now; the item stays pending. */
  readonly onDelivery?: (sink: string, outcome: DeliveryOutcome) => void;
  /** Called after every change of the pending list (persist it). */
  readonly onChange?: (pending: readonly PendingDelivery[]) => void;
  /**
   * Resolves once what onChange was handed so far is on disk (or failed to get there). Awaited before each
   * delivery: a page sent before its incident is in the state file is sent again, under a new id, by the
   * watchdog that restarts after a crash. Awaited for delivery.timeout at most: a hung disk delays pages, never
   * stops them.
   */
  readonly persisted?: () => Promise<void>;
  /** p-retry's exponential backoff between attempts within a drain (ms; jittered ×1–2). Default 1 s to 30 s. */
  readonly backoff?: { readonly min: number; readonly max: number };
  /** Waits out a Retry-After; rejects when the signal aborts. Injectable so tests observe the wait without spending it. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const DEFAULT_BACKOFF = { min: 1_000, max: 30_000 };
/** A sink whose drain failed pauses for delivery.interval, doubling per failed drain, up to this (or its Retry-After). */
const MAX_SINK_PAUSE_MS = 60_000;
/** Delivered/dropped ids remembered so that an event enqueued twice is still delivered once. */
const RECENT_LIMIT = 4_096;
const MAX_DETAIL = 300;
/** A gap this large between the wall clock and the monotonic clock is a step (NTP slews both alike), persisted. */
const CLOCK_STEP_MS = 1_000;
/** Open incidents whose sinks are remembered; far above what one watchdog holds open. */
const ROUTES_LIMIT = 10_000;
/** Sinks that wake a person on a trigger: a trigger already over is not worth sending them (see supersededBy). */
const PAGERS: ReadonlySet<SinkConfig['type']> = new Set(['pagerduty', 'alertmanager']);

type AttemptResult =
  | { readonly kind: 'ok'; readonly failures: number }
  | { readonly kind: 'rejected'; readonly failures: number; readonly error: DeliveryError }
  | { readonly kind: 'failed'; readonly failures: number; readonly error: DeliveryError }
  | { readonly kind: 'aborted'; readonly failures: number }
  | { readonly kind: 'superseded'; readonly failures: number; readonly resolve: PendingDelivery };

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves when `work` settles or `signal` aborts, whichever is first; never rejects. */
function untilDoneOrAborted(work: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  const done = work.then(
    () => undefined,
    () => undefined,
  );
  if (!signal) return done;
  if (signal.aborted) return Promise.resolve();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // A long-lived signal passed to many drains must not collect a listener per drain.
  return Promise.race([done, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

/**
 * The event as it is kept (and persisted): free text scrubbed and the cluster URL without credentials.
 * Producers should already send it so; the outbox does not rely on that.
 */
function sanitize(event: EscalationEvent): EscalationEvent {
  const i = event.incident;
  return {
    ...event,
    clusterUrl: safeBaseUrl(event.clusterUrl),
    incident: { ...i, reason: scrubSecrets(i.reason), rootCause: scrubSecrets(i.rootCause), hint: scrubSecrets(i.hint), traceExcerpt: scrubSecrets(i.traceExcerpt) },
  };
}

/** A code for logs: never an error message, which may quote a URL. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'Error';
}

/** For PendingDelivery.lastError: "HTTP 503", "TIMEOUT", "NETWORK ECONNREFUSED". Our own words only. */
function describe(e: DeliveryError): string {
  if (e.status !== undefined) return `HTTP ${e.status}`;
  return e.code === 'NETWORK' ? `NETWORK ${e.message}` : e.code;
}

/** Path segments and query parts this long are masked in a sink's answer on their own (shorter ones are words like "v2"). */
const MIN_ECHOED_PART = 8;

/**
 * What of a sink's config a rejection may echo back: its URL, secret and routing key, and the URL's path and
 * query alone (a Slack token is the path; many servers echo "Cannot POST /hooks/<token>"). Longest first.
 */
function echoable(sink: SinkConfig): string[] {
  const out = [sink.url, sink.secret, sink.routingKey].filter((s): s is string => s !== undefined && s !== '');
  const u = URL.canParse(sink.url) ? new URL(sink.url) : undefined;
  if (u !== undefined) {
    const path = u.pathname.length > 1 ? u.pathname : '';
    for (const part of [path + u.search, path, u.search.slice(1), u.password]) {
      if (part.length > 1) out.push(part, decodeUrlPart(part));
    }
    // A receiver may quote only the token: n8n answers 404 'The requested webhook "POST <id>" is not registered'.
    for (const part of [...u.pathname.split('/'), ...u.search.slice(1).split('&').flatMap((kv) => kv.split('='))]) {
      if (part.length >= MIN_ECHOED_PART) out.push(part, decodeUrlPart(part));
    }
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** What sinkFingerprint was before a webhook's secret took part: still matched in state files written then. */
function legacyFingerprint(sink: Pick<SinkConfig, 'type' | 'url' | 'routingKey'>): string {
  return createHash('sha256').update(`${sink.type}\u0000${sink.url}\u0000${sink.routingKey ?? ''}`).digest('base64url').slice(0, 22);
}

/** scrypt's cost: ~50 ms and 16 MiB a guess, once per signed sink and process (cached). */
const SECRET_DIGEST_COST = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const secretDigests = new Map<string, string>();

/**
 * What tells a sink apart whatever its name: its type, where it sends and, for a signed webhook, its secret (two
 * receivers behind one URL, told apart by the key they verify with, are two sinks). A digest, cut: the URL,
 * routing key and secret are credentials, and the state file keeps this. A webhook secret may be a word an
 * operator chose: it goes through scrypt, salted with the URL, so a state file is no faster a test of guesses
 * than any page the receiver got (an HMAC-SHA256 of a known body), and it is useless without the URL.
 */
export function sinkFingerprint(sink: Pick<SinkConfig, 'type' | 'url' | 'routingKey' | 'secret'>): string {
  const where = legacyFingerprint(sink);
  if (sink.secret === undefined || sink.secret === '') return where;
  const key = `${where}\u0000${sink.secret}`;
  let digest = secretDigests.get(key);
  if (digest === undefined) {
    const salt = `connect-watchdog sink\u0000${sink.type}\u0000${sink.url}\u0000${sink.routingKey ?? ''}`;
    digest = scryptSync(sink.secret, salt, 16, SECRET_DIGEST_COST).toString('base64url');
    secretDigests.set(key, digest);
  }
  return digest;
}

const isTimeoutCode = (code: string): boolean => code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';

/**
 * The escalation outbox: every event × every sink whose filter matches, delivered once per sink.
 *
 * - Per sink, FIFO: an item is tried only after every earlier item for that sink was delivered, rejected,
 *   expired or superseded, so a resolve never reaches a sink before its trigger, except a pager's whose trigger
 *   was superseded: never sent because the resolve was already queued behind it (supersededBy).
 * - Sinks are independent: a pager that is down or asks to wait never delays another sink.
 * - An item that still fails after delivery.retries stays pending for a later drain (and in the state file);
 *   4xx other than 408/429 drop it as "rejected"; older than delivery.maxAge drops it as "expired".
 * - Nothing here throws to the caller; sink URLs, routing keys and secrets are never logged.
 */
export class Outbox {
  private queue: PendingDelivery[] = [];
  /** Items known to be in the state file (see OutboxOptions.persisted). */
  private readonly onDisk = new WeakSet<PendingDelivery>();
  /**
   * Incident key → the sinks its trigger was queued for. Its resolve goes to them whatever their filter says
   * by then (a filter narrowed while an incident was open), so that a pager that got a trigger gets its resolve.
   */
  private readonly routes = new Map<string, readonly string[]>();
  /** routes as persisted; the same object until routes change (the state store compares by identity). */
  private routesDoc: Readonly<Record<string, readonly string[]>> | undefined;
  private readonly queued = new Set<string>();
  private readonly recent = new Set<string>();
  private readonly sinks: ReadonlyMap<string, SinkConfig>;
  /** Each configured sink's name → sinkFingerprint: persisted beside pending() and routing() (see adoptSinks). */
  private readonly identities: Readonly<Record<string, string>>;
  /** The same by legacyFingerprint, for state files written before a webhook's secret took part. */
  private readonly legacyIdentities: Readonly<Record<string, string>>;
  /** A persisted name → the configured sink it names now (undefined: none), from adoptSinks; names not in it stand as they are. */
  private renamed: ReadonlyMap<string, string | undefined> = new Map();
  /** The one drain in flight per sink. */
  private readonly lanes = new Map<string, Promise<void>>();
  /** A sink paused after a failed drain: since when, for how long. */
  private readonly paused = new Map<string, { readonly from: number; readonly wait: number }>();
  private readonly failedDrains = new Map<string, number>();
  private lifecycle = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly send: Send;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  /**
   * Each event's age (wall clock) when it entered this outbox, and the monotonic time then. A host started before
   * its clock was set stepped the clock forward weeks under the pages it could not send yet (TLS refused a
   * certificate "not yet valid"): aged on the wall clock, every one expired the moment it was set.
   */
  private readonly entered = new WeakMap<EscalationEvent, { readonly age: number; readonly at: number }>();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly backoff: { readonly min: number; readonly max: number };

  constructor(private readonly opts: OutboxOptions) {
    this.sinks = new Map(opts.sinks.map((s) => [s.name, s]));
    this.identities = Object.freeze(Object.fromEntries(opts.sinks.map((s) => [s.name, sinkFingerprint(s)])));
    this.legacyIdentities = Object.fromEntries(opts.sinks.map((s) => [s.name, legacyFingerprint(s)]));
    this.log = opts.logger.child({ component: 'outbox' });
    this.send = opts.send ?? createSend({ timeout: opts.delivery.timeout, ...(opts.proxy && { proxy: opts.proxy }) });
    this.now = opts.now ?? Date.now;
    this.monotonic = monotonicOf(opts);
    this.sleep = opts.sleep ?? abortableSleep;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  /** A new outbox holding a persisted pending list (see load). */
  static restore(pending: unknown, opts: OutboxOptions, savedAt?: number): Outbox {
    const outbox = new Outbox(opts);
    outbox.load(pending, savedAt);
    return outbox;
  }

  /** The undelivered items, oldest first: what to persist (with the steps of the wall clock seen so far, see rebase). */
  pending(): readonly PendingDelivery[] {
    this.rebase();
    return [...this.queue];
  }

  /**
   * Moves each item's `since` by the steps of the wall clock seen since it was set, so that the state file
   * holds how old an item is on the monotonic clock (see load). An item changes only when the wall clock
   * stepped: the state store compares items by identity. Returns whether any changed.
   */
  private rebase(): boolean {
    let moved = false;
    this.queue = this.queue.map((item) => {
      const since = Math.round(this.now() - this.age(item));
      if (Math.abs(since - (item.since ?? item.event.at)) < CLOCK_STEP_MS) return item;
      moved = true;
      return { ...item, since };
    });
    return moved;
  }

  /** The configured sinks by name, as sinkFingerprint: what to persist beside pending() and routing(). */
  sinkIdentities(): Readonly<Record<string, string>> {
    return this.identities;
  }

  /**
   * Takes the sinks a persisted outbox named (its sinkIdentities()), before load() and loadRouting(). An unnamed
   * sink is named `<type>-<index>`, so removing or inserting a sink renames those after it: a sink is known by
   * where it sends, so that its pages follow it to its new name, and a sink that took over the name of a removed
   * one does not get that one's pages. A sink whose URL or key changed keeps its pages under its name, unless
   * that sink was saved under another name (it moved in the list).
   */
  adoptSinks(saved: unknown): void {
    if (!isJsonObject(saved)) return;
    const entries = Object.entries(saved).filter((e): e is [string, string] => typeof e[1] === 'string');
    const byFingerprint = new Map<string, string>();
    // Current fingerprints first: a legacy one (an older file) only names a sink no current one does.
    for (const identities of [this.identities, this.legacyIdentities]) {
      for (const [name, fingerprint] of Object.entries(identities)) if (!byFingerprint.has(fingerprint)) byFingerprint.set(fingerprint, name);
    }
    const savedFingerprints = new Set(entries.map(([, fingerprint]) => fingerprint));
    const wasSaved = (name: string) => savedFingerprints.has(this.identities[name] as string) || savedFingerprints.has(this.legacyIdentities[name] as string);
    const renamed = new Map<string, string | undefined>();
    for (const [name, fingerprint] of entries) {
      const configured = this.sinks.has(name);
      if (configured && (this.identities[name] === fingerprint || this.legacyIdentities[name] === fingerprint)) renamed.set(name, name);
      else renamed.set(name, byFingerprint.get(fingerprint) ?? (configured && !wasSaved(name) ? name : undefined));
    }
    const moved = [...renamed].filter(([from, to]) => to !== undefined && to !== from).map(([from, to]) => ({ from, to }));
    if (moved.length > 0) this.log.info({ sinks: moved }, 'sinks renamed since the state file was written (an unnamed sink is named by its place in the list): their pages follow them');
    this.renamed = renamed;
  }

  /** The configured sink a persisted name stands for now (see adoptSinks), or undefined. */
  private sinkNow(saved: string): string | undefined {
    const name = this.renamed.has(saved) ? this.renamed.get(saved) : saved;
    return name !== undefined && this.sinks.has(name) ? name : undefined;
  }

  /**
   * Takes back a persisted pending list, ahead of anything enqueued since (it is older). Malformed entries,
   * entries for sinks no longer configured and duplicates are dropped with a warning. Returns how many were kept.
   *
   * `savedAt` (wall ms) is when the list was written: an item comes back as old as it was then. The time the
   * watchdog was down does not age it: only the wall clock spans a restart, and a host that booted with its clock
   * set weeks ahead looks exactly like weeks of downtime; a page dropped for it would have told no one of an
   * incident the policy will not page again. Without savedAt (a file that has none), the wall clock now.
   */
  load(pending: unknown, savedAt?: number): number {
    const { items, invalid } = parsePending(pending);
    const restored: PendingDelivery[] = [];
    const unknownSinks = new Set<string>();
    for (const saved of items) {
      const sink = this.sinkNow(saved.sink);
      if (sink === undefined) {
        unknownSinks.add(saved.sink);
        continue;
      }
      const item = sink === saved.sink ? saved : { ...saved, sink };
      const id = deliveryId(item.sink, item.event.id);
      if (!this.queued.has(id) && !this.recent.has(id)) {
        this.queued.add(id);
        this.enter(item.event, Math.max(0, (savedAt ?? this.now()) - (item.since ?? item.event.at)));
        restored.push(item);
      }
    }
    if (invalid > 0) this.log.warn({ dropped: invalid }, 'malformed outbox entries dropped from the state file');
    if (unknownSinks.size > 0) this.log.warn({ sinks: [...unknownSinks] }, 'outbox entries for sinks no longer configured dropped');
    if (restored.length > 0) {
      this.queue = [...restored, ...this.queue];
      this.log.info({ pending: restored.length }, 'outbox restored');
      this.changed();
    }
    return restored.length;
  }

  /** Which sinks each open incident's trigger went to: what to persist beside pending(). */
  routing(): Readonly<Record<string, readonly string[]>> {
    this.routesDoc ??= Object.freeze(Object.fromEntries(this.routes));
    return this.routesDoc;
  }

  /** Takes back persisted routing (see routing()); malformed entries and sinks no longer configured are dropped. */
  loadRouting(value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const [key, names] of Object.entries(value as Record<string, unknown>)) {
      if (!Array.isArray(names)) continue;
      const known = names.flatMap((n) => (typeof n === 'string' ? (this.sinkNow(n) ?? []) : []));
      if (known.length > 0) this.setRoute(key, [...new Set([...(this.routes.get(key) ?? []), ...known])]);
    }
  }

  private setRoute(key: string, sinks: readonly string[] | undefined): void {
    if (sinks === undefined) {
      if (!this.routes.delete(key)) return;
    } else {
      this.routes.delete(key); // re-inserted last: the oldest routes go first past the limit
      this.routes.set(key, sinks);
      if (this.routes.size > ROUTES_LIMIT) this.routes.delete(this.routes.keys().next().value as string);
    }
    this.routesDoc = undefined;
  }

  /**
   * Queues each event for every sink whose filter matches it (a resolve also for the sinks its trigger went
   * to); an event already queued or delivered for a sink
   * is ignored. The events of one call reach onChange together: a poll that opens several incidents persists
   * them with all of their pages, never a file that holds the incidents and only some of the pages.
   */
  enqueue(...incoming: readonly EscalationEvent[]): void {
    let added = 0;
    const routesBefore = this.routing();
    for (const raw of incoming) {
      const event = sanitize(raw);
      const key = event.incident.key;
      const routed = event.event === 'resolve' ? this.routes.get(key) : undefined;
      const targets = [...this.sinks.values()].filter((s) => matches(s.filter, event.incident) || routed?.includes(s.name) === true);
      let sinks = 0;
      for (const sink of targets) if (this.add({ sink: sink.name, event, attempts: 0 })) sinks += 1;
      if (event.event === 'resolve') this.setRoute(key, undefined);
      else {
        const before = this.routes.get(key) ?? [];
        const after = [...new Set([...before, ...targets.map((s) => s.name)])];
        if (after.length > before.length) this.setRoute(key, after);
      }
      this.log.debug({ event: event.event, key, id: event.id, sinks }, 'escalation queued');
      added += sinks;
    }
    if (added > 0 || this.routing() !== routesBefore) {
      this.changed();
      // Page now rather than at the next tick; a no-op until start().
      if (this.timer) this.tick();
    }
  }

  /**
   * Re-sends open incidents to Alertmanager sinks, which forget alerts that are not re-sent. The caller paces
   * this (alertmanager.resendInterval). Skips a sink that still has a delivery of that incident pending.
   * Returns how many deliveries were queued.
   */
  resendOpen(open: readonly Incident[], now: number, clusterUrl: (cluster: string) => string): number {
    const due = resendsDue(open, [...this.sinks.values()], (sink, key) => this.queue.some((p) => p.sink === sink && p.event.incident.key === key));
    let added = 0;
    for (const { sink, incident } of due) {
      const event = sanitize({
        id: `${incident.key}#${incident.firstSeen}#resend#${now}`,
        event: 'trigger',
        incident,
        at: now,
        clusterUrl: clusterUrl(incident.cluster),
      });
      if (this.add({ sink, event, attempts: 0 })) added += 1;
    }
    if (added > 0) {
      this.log.debug({ deliveries: added }, 'open incidents re-sent to alertmanager');
      this.changed();
      if (this.timer) this.tick();
    }
    return added;
  }

  /**
   * Delivers what is due: one lane per sink, sinks in parallel, joining lanes already in flight. Resolves when
   * they are done or `signal` aborts (items not delivered stay pending); never rejects.
   */
  async drain(signal?: AbortSignal): Promise<void> {
    this.expire();
    const lanes = this.kick(signal);
    if (lanes.length > 0) await untilDoneOrAborted(Promise.all(lanes), signal);
  }

  /** Drains in the background every delivery.interval (and at once when an event is queued). Never blocks the caller. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.delivery.interval);
    // Polling keeps the daemon alive; this timer alone should not.
    this.timer.unref();
    this.tick();
  }

  /** Stops the background loop, aborts in-flight attempts and waits (items stay pending). drain() first to flush. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lifecycle.abort(new Error('outbox stopped'));
    await Promise.allSettled([...this.lanes.values()]);
    this.lifecycle = new AbortController();
  }

  private tick(): void {
    // A step of the wall clock reaches the state file without waiting for a delivery to change the list.
    if (this.rebase()) this.changed();
    this.expire();
    this.kick(undefined);
  }

  private add(item: PendingDelivery): boolean {
    const id = deliveryId(item.sink, item.event.id);
    if (this.queued.has(id) || this.recent.has(id)) return false;
    this.queued.add(id);
    this.enter(item.event);
    this.queue.push(item);
    return true;
  }

  private changed(): void {
    try {
      this.opts.onChange?.(this.pending());
    } catch (err) {
      this.log.error({ error: errorCode(err) }, 'outbox onChange hook failed');
    }
  }

  /** Starts an event's age on the monotonic clock: `age` (ms) when given, else its age on the wall clock now. */
  private enter(event: EscalationEvent, age?: number): void {
    if (!this.entered.has(event)) this.entered.set(event, { age: age ?? this.now() - event.at, at: this.monotonic() });
  }

  /** How old an event is: its age when it entered, and the time that passed since (monotonic). */
  private age(item: PendingDelivery): number {
    const entered = this.entered.get(item.event);
    return entered === undefined ? this.now() - item.event.at : entered.age + (this.monotonic() - entered.at);
  }

  private isExpired(item: PendingDelivery): boolean {
    return this.age(item) > this.opts.delivery.maxAge;
  }

  /** Drops expired items of sinks that are not being drained (a lane checks its own items). */
  private expire(): void {
    for (const item of this.queue) {
      if (!this.lanes.has(item.sink) && this.isExpired(item)) this.finish(item, 'expired');
    }
  }

  /** Starts a lane for each sink with pending items, not in flight and not paused; returns all relevant lanes. */
  private kick(signal: AbortSignal | undefined): Promise<void>[] {
    const now = this.now();
    const runs: Promise<void>[] = [];
    for (const name of new Set(this.queue.map((p) => p.sink))) {
      const running = this.lanes.get(name);
      if (running) {
        runs.push(running);
        continue;
      }
      const sink = this.sinks.get(name);
      const pause = this.paused.get(name);
      if (!sink || (pause !== undefined && within(now, pause.from, pause.wait))) continue;
      const laneSignal = signal ? AbortSignal.any([signal, this.lifecycle.signal]) : this.lifecycle.signal;
      const run = this.runLane(sink, laneSignal)
        .catch((err: unknown) => this.log.error({ sink: name, error: errorCode(err) }, 'outbox lane crashed'))
        .finally(() => this.lanes.delete(name));
      this.lanes.set(name, run);
      runs.push(run);
    }
    return runs;
  }

  private async runLane(sink: SinkConfig, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const item = this.queue.find((p) => p.sink === sink.name);
      if (!item) return;
      if (this.opts.persisted && !this.onDisk.has(item)) {
        // Every item queued now is in the write that persisted() waits for: one wait per batch, not per
        // delivery (a backlog drains at the sink's pace, not at one state-file write per page).
        // Bounded: a disk that hangs (a stalled network volume) must not silence every pager, nor hold up stop().
        const queuedNow = [...this.queue];
        const bound = AbortSignal.any([signal, AbortSignal.timeout(this.opts.delivery.timeout)]);
        let written = false;
        await untilDoneOrAborted(
          this.opts.persisted().then(() => (written = true)),
          bound,
        );
        if (signal.aborted) return;
        if (!written) this.log.warn({ sink: sink.name, waitedMs: this.opts.delivery.timeout }, 'state file write not done in time; pages sent before it');
        for (const p of queuedNow) this.onDisk.add(p);
        continue; // the queue may have changed meanwhile
      }
      if (this.isExpired(item)) {
        this.finish(item, 'expired');
        continue;
      }
      const resolve = this.supersededBy(item, sink);
      if (resolve) {
        this.finish(item, 'superseded', { attempts: item.attempts, resolve });
        continue;
      }
      const result = await this.attempt(item, sink, signal);
      switch (result.kind) {
        case 'ok':
          this.failedDrains.delete(sink.name);
          this.paused.delete(sink.name);
          this.finish(item, 'ok', { attempts: item.attempts + result.failures + 1 });
          break;
        case 'rejected':
          this.finish(item, 'rejected', { attempts: item.attempts + result.failures + 1, error: result.error });
          break;
        case 'failed':
          this.keep(item, result.failures, result.error);
          this.pause(sink.name, result.error);
          this.opts.onDelivery?.(sink.name, 'failed');
          return;
        case 'aborted':
          if (result.failures > 0) this.keep(item, result.failures, undefined);
          return;
        case 'superseded':
          this.finish(item, 'superseded', { attempts: item.attempts + result.failures, resolve: result.resolve });
          break;
        default: {
          const unknown: never = result;
          throw new Error(`unexpected attempt result ${String(unknown)}`);
        }
      }
    }
  }

  /** One item to one sink with retries (exponential, jittered, Retry-After honoured). */
  private async attempt(item: PendingDelivery, sink: SinkConfig, signal: AbortSignal): Promise<AttemptResult> {
    let failures = 0;
    let resolve: PendingDelivery | undefined;
    try {
      await pRetry(
        async () => {
          // The incident may have closed during the backoff (or a Retry-After wait) since the last attempt.
          resolve = this.supersededBy(item, sink);
          if (resolve) throw new AbortError('superseded');
          try {
            await this.once(item, sink, signal);
          } catch (err) {
            const e = err instanceof DeliveryError ? err : new DeliveryError('INTERNAL', errorCode(err));
            if (!e.retriable && !signal.aborted) throw new AbortError(e);
            throw e;
          }
        },
        {
          retries: this.opts.delivery.retries,
          factor: 2,
          minTimeout: this.backoff.min,
          maxTimeout: this.backoff.max,
          randomize: true,
          signal,
          onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
            failures = attemptNumber;
            const e = error as DeliveryError;
            this.log.debug(
              { ...this.fields(item, sink), outcome: 'retry', status: e.status, error: e.code, reason: e.message, attempt: attemptNumber, retriesLeft, retryAfterMs: e.retryAfterMs },
              'delivery attempt failed',
            );
            // Wait at least what the sink asked for; p-retry's own backoff comes on top.
            if (retriesLeft > 0 && e.retryAfterMs !== undefined && e.retryAfterMs > 0) await this.sleep(e.retryAfterMs, signal);
          },
        },
      );
      return { kind: 'ok', failures };
    } catch (err) {
      if (signal.aborted) return { kind: 'aborted', failures };
      if (resolve) return { kind: 'superseded', failures, resolve };
      const e = err instanceof DeliveryError ? err : new DeliveryError('INTERNAL', errorCode(err));
      return e.retriable ? { kind: 'failed', failures, error: e } : { kind: 'rejected', failures, error: e };
    }
  }

  private async once(item: PendingDelivery, sink: SinkConfig, signal: AbortSignal): Promise<void> {
    const req = buildRequest(item.event, sink, this.now());
    const timeout = this.opts.delivery.timeout;
    const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
    let res: SendResponse;
    try {
      res = await this.send({ ...req, signal: attemptSignal });
    } catch (err) {
      if (signal.aborted) throw err;
      const code = errorCode(err);
      if (attemptSignal.aborted || isTimeoutCode(code)) throw new DeliveryError('TIMEOUT', `no answer within ${timeout} ms`);
      // A request the client refuses to build (a header it cannot carry) fails the same way every time:
      // retried, it would hold every later page to this sink until delivery.maxAge.
      if (code === 'UND_ERR_INVALID_ARG') throw new DeliveryError('INTERNAL', code);
      throw new DeliveryError('NETWORK', code);
    }
    const verdict = statusVerdict(res.status);
    if (verdict === 'ok') return;
    const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers['retry-after'], this.now()) : undefined;
    throw new DeliveryError(verdict === 'retry' ? 'HTTP_RETRIABLE' : 'HTTP_REJECTED', `HTTP ${res.status}`, res.status, retryAfterMs, this.detail(res.body, sink));
  }

  /** The sink's answer for a log line: scrubbed, and cleared of anything of ours a sink might echo back. */
  private detail(body: string | undefined, sink: SinkConfig): string | undefined {
    if (body === undefined || body.trim() === '') return undefined;
    const text = maskKnownValues(body, echoable(sink));
    return truncate(scrubSecrets(text).replace(/\s+/g, ' ').trim(), MAX_DETAIL);
  }

  /** Stable log fields. The sink's host only: its URL, routing key and secret are credentials. */
  private fields(item: PendingDelivery, sink: SinkConfig) {
    return { sink: sink.name, host: hostOf(sink.url), event: item.event.event, key: item.event.incident.key, id: item.event.id };
  }

  /**
   * The resolve that makes a pager's trigger not worth sending: one for the same sink and incident key, queued
   * behind it (the trigger is the sink's first item when this is asked), of this occurrence of the incident or a
   * later one. The incident opened and closed while the pager was unreachable or the watchdog was down: sending
   * the trigger would wake someone for something already over, a moment before the resolve clears it. Sending
   * the resolve alone is harmless: PagerDuty ignores a resolve for a dedup_key it has no open alert for, and
   * Alertmanager does not notify an alert it first hears of resolved. Whether this trigger reached the pager
   * before (an answer lost to a timeout, a kill between a delivery and its bookkeeping) cannot be known here,
   * and need not be: the resolve follows either way and closes it. Slack and the generic webhook are a record
   * (a receiver may count incidents): they get both.
   */
  private supersededBy(item: PendingDelivery, sink: SinkConfig): PendingDelivery | undefined {
    if (item.event.event !== 'trigger' || !PAGERS.has(sink.type)) return undefined;
    const { key, firstSeen } = item.event.incident;
    // A resolve of an older occurrence ahead of a newer trigger (restored items go first) must not cancel a page still owed.
    return this.queue.find((p) => p.sink === item.sink && p.event.event === 'resolve' && p.event.incident.key === key && p.event.incident.firstSeen >= firstSeen);
  }

  private finish(
    item: PendingDelivery,
    outcome: 'ok' | 'rejected' | 'expired' | 'superseded',
    info: { attempts?: number; error?: DeliveryError; resolve?: PendingDelivery } = {},
  ): void {
    const id = deliveryId(item.sink, item.event.id);
    this.queue = this.queue.filter((p) => deliveryId(p.sink, p.event.id) !== id);
    this.queued.delete(id);
    this.recent.add(id);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.values().next().value as string);
    const sink = this.sinks.get(item.sink);
    const base = sink ? this.fields(item, sink) : { sink: item.sink, event: item.event.event, key: item.event.incident.key, id: item.event.id };
    const e = info.error;
    if (outcome === 'ok') this.log.info({ ...base, outcome, attempts: info.attempts }, 'escalation delivered');
    else if (outcome === 'rejected') {
      this.log.error(
        { ...base, outcome, status: e?.status, error: e?.code, detail: e?.detail, attempts: info.attempts },
        'escalation rejected by the sink; dropped (retrying cannot help)',
      );
    } else if (outcome === 'superseded') {
      this.log.info(
        { ...base, outcome, attempts: info.attempts, lastError: item.lastError, resolveId: info.resolve?.event.id },
        'escalation superseded: its resolve is queued behind it, so the trigger is not sent (the incident is already over)',
      );
    } else this.log.warn({ ...base, outcome, ageMs: this.age(item) }, 'escalation expired undelivered; dropped');
    this.opts.onDelivery?.(item.sink, outcome);
    this.changed();
  }

  private keep(item: PendingDelivery, failures: number, error: DeliveryError | undefined): void {
    const id = deliveryId(item.sink, item.event.id);
    const lastError = error ? describe(error) : item.lastError;
    const updated: PendingDelivery = { ...item, attempts: item.attempts + failures, ...(lastError !== undefined && { lastError }) };
    this.queue = this.queue.map((p) => (deliveryId(p.sink, p.event.id) === id ? updated : p));
    if (error) {
      const sink = this.sinks.get(item.sink);
      this.log.warn(
        { ...(sink ? this.fields(item, sink) : { sink: item.sink }), outcome: 'failed', status: error.status, error: error.code, reason: error.message, attempts: updated.attempts },
        'escalation not delivered; kept for the next drain',
      );
    }
    this.changed();
  }

  private pause(sink: string, error: DeliveryError): void {
    const n = (this.failedDrains.get(sink) ?? 0) + 1;
    this.failedDrains.set(sink, n);
    const wait = Math.max(Math.min(this.opts.delivery.interval * 2 ** (n - 1), MAX_SINK_PAUSE_MS), error.retryAfterMs ?? 0);
    this.paused.set(sink, { from: this.now(), wait });
  }
}
