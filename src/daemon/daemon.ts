import { createClassifier } from '../classify/classify.js';
import { ConnectClient, clientOptions, HEALTH_TIMEOUT_MS } from '../connect/client.js';
import { DEADLINE_FACTOR } from '../connect/transport.js';
import { leafValidity, tlsDateWarnings } from '../config/tls.js';
import type { WatchdogConfig } from '../config/types.js';
import { Heartbeat } from '../escalate/heartbeat.js';
import { hostOf } from '../escalate/http.js';
import { Outbox } from '../escalate/outbox.js';
import { isQuiet } from '../heal/observe.js';
import { forgetCluster } from '../heal/policy.js';
import { EMPTY_HEAL_STATE, type BudgetState, type HealState, type HealthMemory, type OffsetsMemory, type SubjectState } from '../heal/types.js';
import type { Incident } from '../escalate/types.js';
import type { Logger } from '../log/logger.js';
import { WatchdogMetrics } from '../metrics/metrics.js';
import { healthOf, startMetricsServer } from '../metrics/server.js';
import { StateStore } from '../state/store.js';
import { monotonicOf, within } from '../util/clock.js';
import { announce } from './announce.js';
import { ClusterLoop } from './cluster-loop.js';

export interface DaemonOptions {
  readonly config: WatchdogConfig;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Monotonic milliseconds (performance.now by default; `now` when only that is given, as tests on a fake clock do). */
  readonly monotonic?: () => number;
  readonly random?: () => number;
}

/** Splits the persisted policy state by cluster: each loop owns its own slice. */
function sliceFor(state: HealState, cluster: string): HealState {
  const mine = <T extends { cluster: string }>(r: Readonly<Record<string, T>>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v.cluster === cluster));
  return {
    subjects: mine(state.subjects),
    incidents: mine(state.incidents),
    budgets: Object.fromEntries(Object.entries(state.budgets).filter(([k]) => k === cluster)),
    ...(state.offsets !== undefined && { offsets: mine(state.offsets) }),
    ...(state.health !== undefined && { health: mine(state.health) }),
  };
}

export function merge(states: Iterable<HealState>): HealState {
  const subjects: Record<string, SubjectState> = {};
  const incidents: Record<string, Incident> = {};
  const budgets: Record<string, BudgetState> = {};
  const offsets: Record<string, OffsetsMemory> = {};
  const health: Record<string, HealthMemory> = {};
  for (const s of states) {
    // decide() keeps quiet subjects (RUNNING, nothing remembered) out of state while the previous snapshot
    // lists their worker; the few it keeps (a task under a paused connector, one listed without a worker)
    // stand for that snapshot, which a restart loses: they are left out of the file too, so that a
    // restarted watchdog records every quiet subject afresh. A scan of the remembered subjects only.
    for (const [k, v] of Object.entries(s.subjects)) if (!isQuiet(v)) subjects[k] = v;
    Object.assign(incidents, s.incidents);
    Object.assign(budgets, s.budgets);
    Object.assign(offsets, s.offsets);
    Object.assign(health, s.health);
  }
  return { subjects, incidents, budgets, ...(Object.keys(offsets).length > 0 && { offsets }), ...(Object.keys(health).length > 0 && { health }) };
}

/**
 * How long one poll may take when every request runs to its deadline: the listing, the info, the restarts
 * and their confirmation, each with its retries, the round of offset reads (heal.stall), bounded as one
 * request, and a first poll's wait for the health read. Beyond it a poll in flight counts as hung (/healthz).
 */
function pollBound(config: WatchdogConfig): number {
  const request = DEADLINE_FACTOR * Math.max(...config.clusters.map((c) => c.timeout));
  return 5 * (config.requestRetries + 1) * request + config.heal.probe.timeout + config.heal.confirmDelay + HEALTH_TIMEOUT_MS;
}

/** How often a running daemon logs again the TLS certificates that expired or expire soon (every command warns at start). */
const CERTIFICATE_CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** run --once: polls, then deliveries, together under 30 s. */
const ONE_SHOT_POLL_BOUND_MS = 20_000;
const ONE_SHOT_DRAIN_BOUND_MS = 8_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Waits for `work` (which never rejects) until the signal aborts, whichever comes first. */
const settledOrAborted = (work: Promise<void>, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    void work.then(() => resolve());
  });

/**
 * Wiring and lifecycle: one loop per cluster (never two polls of one cluster at once), the outbox drained
 * in the background, the state file written after each poll, the metrics server, signals.
 */
export class Daemon {
  readonly metrics: WatchdogMetrics;
  private readonly loops: ClusterLoop[] = [];
  private readonly clients: ConnectClient[] = [];
  private readonly store: StateStore;
  private readonly outbox: Outbox;
  private readonly heartbeat: Heartbeat | undefined;
  /** Stops scheduling new polls. */
  private readonly stopping = new AbortController();
  /** Aborts work in flight: only when it overstays the shutdown bound. */
  private readonly abortWork = new AbortController();
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly random: () => number;
  /** Monotonic ms, as pollsInFlight: what liveness (healthOf) measures. */
  private lastTickAt: number | undefined;
  private readonly polledOnce = new Set<string>();
  /** When each loop's poll in flight began (monotonic ms). */
  private readonly pollsInFlight = new Map<ClusterLoop, number>();
  private server: { port: number; close(): Promise<void> } | undefined;
  private running: Promise<void>[] = [];
  private lastAlertmanagerResend = 0;
  /**
   * Set while init() puts the state together (restored pages, then the resolves of removed clusters): a
   * write in between would hold neither a removed cluster's incidents nor their resolves. One write after.
   */
  private initializing: { writeWanted: boolean } | undefined;
  /** The heartbeat's ping of the last poll: `run --once` waits for it, or the process exits before it is sent. */
  private lastBeat: Promise<void> = Promise.resolve();
  /** The command warned of the certificates' dates on stderr as it started. */
  private lastCertificateCheck: number;

  constructor(private readonly options: DaemonOptions) {
    const { config, logger } = options;
    this.now = options.now ?? Date.now;
    this.monotonic = monotonicOf(options);
    this.random = options.random ?? Math.random;
    this.lastCertificateCheck = this.now();
    // Series declared up front, so that Prometheus' increase() sees a cluster's or sink's first error.
    this.metrics = new WatchdogMetrics({ clusters: config.clusters.map((c) => c.name), sinks: config.sinks.map((s) => s.name) });
    // On the daemon's clock: the outbox reads the file's savedAt against the ages it persisted (Outbox.load).
    this.store = new StateStore(config.stateFile, logger, { now: this.now, onWrite: (outcome) => this.metrics.countStateWrite(outcome) });
    this.outbox = new Outbox({
      sinks: config.sinks,
      logger,
      delivery: config.delivery,
      proxy: config.proxy,
      now: this.now,
      monotonic: this.monotonic,
      onDelivery: (sink, outcome) => this.metrics.countDelivery(sink, outcome),
      onChange: () => this.persist(),
      persisted: () => this.store.settled(),
    });
    for (const cluster of config.clusters) {
      const client = cluster.cert === undefined ? undefined : leafValidity(cluster.cert);
      if (client !== undefined) this.metrics.setCertificateExpiry(cluster.name, 'client', client.validTo);
    }
    // A dry run pings no dead man's switch: the switch would call the watchdog alive while nothing heals.
    this.heartbeat = config.heartbeat.url && !config.dryRun ? new Heartbeat({ url: config.heartbeat.url, interval: config.heartbeat.interval, proxy: config.proxy, logger }) : undefined;
    if (config.heartbeat.url && config.dryRun) logger.info('dry run: heartbeat.url is not pinged');
  }

  get metricsPort(): number | undefined {
    return this.server?.port;
  }

  private persist(routine = false): void {
    // A dry run reads the state file but never writes it: the incidents it would open and the restarts it
    // would send, written down, would keep the real run after it from paging and restarting them.
    if (this.options.config.dryRun) return;
    if (this.initializing !== undefined) {
      this.initializing.writeWanted = true;
      return;
    }
    this.store.save(() => ({ heal: merge(this.loops.map((l) => l.healState)), outbox: this.outbox.pending(), routes: this.outbox.routing(), sinks: this.outbox.sinkIdentities() }), { routine });
  }

  /** Loads state, builds one loop per cluster, resolves the incidents of clusters no longer configured. */
  async init(): Promise<void> {
    const { config, logger } = this.options;
    // A dry run never writes the state file: it may run beside the real run that owns it.
    if (!config.dryRun) await this.store.lock();
    this.initializing = { writeWanted: false };
    const saved = await this.store.load();
    const heal = saved.heal ?? EMPTY_HEAL_STATE;
    const classify = createClassifier(config.rules);
    for (const cluster of config.clusters) {
      const client = new ConnectClient(cluster, {
        ...clientOptions(config),
        logger,
        now: this.now,
        onWorkerCertificate: (validTo) => this.metrics.setCertificateExpiry(cluster.name, 'worker', validTo),
      });
      this.clients.push(client);
      this.loops.push(
        new ClusterLoop(
          {
            cluster,
            config,
            client,
            classify,
            metrics: this.metrics,
            logger,
            now: this.now,
            monotonic: this.monotonic,
            random: this.random,
            escalate: (events) => this.outbox.enqueue(...events),
            onState: (_state, routine) => this.persist(routine),
          },
          sliceFor(heal, cluster.name),
        ),
      );
    }
    // After the loops: restoring the outbox persists, and the file written must keep their state. A dry run
    // delivers nothing, the real run's pages still waiting in the file included: they stay there for it.
    if (config.dryRun) {
      if (Array.isArray(saved.outbox) && saved.outbox.length > 0) logger.info({ pending: saved.outbox.length }, 'dry run: the undelivered pages in the state file are left for the real run');
    } else {
      // Sinks are matched by what they send to first: an unnamed one is named by its place in the list.
      this.outbox.adoptSinks(saved.sinks);
      this.outbox.loadRouting(saved.routes);
      this.outbox.load(saved.outbox, saved.savedAt);
    }
    this.forgetRemovedClusters(heal);
    const { writeWanted } = this.initializing;
    this.initializing = undefined;
    if (writeWanted) this.persist();
    this.metrics.setIncidentsOpen(this.loops.flatMap((l) => l.openIncidents()));
  }

  /**
   * A cluster in the state file but not in the config (removed or renamed): its open incidents are resolved
   * (`cluster-removed`), so that no pager keeps them open for good; the rest of its memory goes with the
   * next write, which holds the configured clusters only.
   */
  private forgetRemovedClusters(heal: HealState): void {
    const configured = new Set(this.options.config.clusters.map((c) => c.name));
    const removed = new Set(Object.values(heal.incidents).map((i) => i.cluster).filter((c) => !configured.has(c)));
    const now = this.now();
    for (const cluster of removed) {
      const log = this.options.logger.child({ cluster });
      const events = forgetCluster(heal, cluster, now).actions.flatMap((a) =>
        a.kind === 'resolve' ? [announce('resolve', a.incident, { now, clusterUrl: '', dryRun: this.options.config.dryRun, log, ...(a.resolution !== undefined && { resolution: a.resolution }) })] : [],
      );
      log.warn({ incidents: events.length }, 'cluster no longer configured: its open incidents are resolved');
      this.outbox.enqueue(...events.filter((e) => e !== undefined));
    }
  }

  private afterPoll(loop: ClusterLoop, ok: boolean): void {
    this.lastTickAt = this.monotonic();
    if (ok) this.polledOnce.add(loop.name);
    this.metrics.setIncidentsOpen(this.loops.flatMap((l) => l.openIncidents()));
    if (ok && this.heartbeat) this.lastBeat = this.heartbeat.beat();
    this.resendToAlertmanager();
    this.warnCertificateDates();
  }

  /**
   * A daemon runs for months: a client certificate reaching its end meanwhile is logged once a day from two
   * weeks before (the start-up warning is long gone), and every day after, beside the polls it fails.
   */
  private warnCertificateDates(): void {
    const now = this.now();
    if (within(now, this.lastCertificateCheck, CERTIFICATE_CHECK_INTERVAL_MS)) return;
    this.lastCertificateCheck = now;
    for (const cluster of this.options.config.clusters) {
      for (const { key, reason } of tlsDateWarnings(cluster, now)) this.options.logger.warn({ cluster: cluster.name, key, reason }, 'TLS certificate');
    }
  }

  /** Alertmanager forgets an alert that is not re-sent: re-send open incidents to those sinks. */
  private resendToAlertmanager(): void {
    if (this.options.config.dryRun) return; // a dry run pages nothing, re-sends included
    const now = this.now();
    if (within(now, this.lastAlertmanagerResend, this.options.config.alertmanager.resendInterval)) return;
    this.lastAlertmanagerResend = now;
    this.outbox.resendOpen(
      this.loops.flatMap((l) => l.openIncidents()),
      now,
      (cluster) => this.options.config.clusters.find((c) => c.name === cluster)?.url ?? '',
    );
  }

  /**
   * Every cluster once, then the outbox drained once: `run --once`. True when every cluster answered.
   * Bounded so that the answer comes within 30 s even when a cluster does not answer.
   */
  async runOnce(): Promise<boolean> {
    const pollSignal = AbortSignal.any([this.abortWork.signal, AbortSignal.timeout(ONE_SHOT_POLL_BOUND_MS)]);
    const results = await Promise.all(
      this.loops.map(async (loop) => {
        const r = await loop.poll(pollSignal, true);
        this.afterPoll(loop, r.ok);
        return r.ok;
      }),
    );
    // The pages and the heartbeat's ping in the same bounded time: the command exits right after.
    const bound = AbortSignal.timeout(Math.min(this.options.config.shutdownTimeout, ONE_SHOT_DRAIN_BOUND_MS));
    await Promise.all([this.outbox.drain(bound), settledOrAborted(this.lastBeat, bound)]);
    this.persist();
    await this.store.flush();
    if (!this.options.config.dryRun) await this.store.unlock();
    return results.every(Boolean);
  }

  /** The daemon: serves metrics, polls each cluster until stop() is called. */
  async start(): Promise<void> {
    const { config, logger } = this.options;
    if (config.metrics.enabled) {
      this.server = await startMetricsServer({
        host: config.metrics.host,
        port: config.metrics.port,
        metrics: this.metrics,
        logger,
        health: () =>
          // Liveness on the monotonic clock: a wall clock stepped forward is no hang (a probe would restart it).
          healthOf({
            now: this.monotonic(),
            pollInterval: config.pollInterval,
            ...(this.lastTickAt !== undefined && { lastTickAt: this.lastTickAt }),
            clustersPolledOnce: this.polledOnce.size,
            clusters: this.loops.length,
            ...(this.pollsInFlight.size > 0 && { pollInFlightSince: Math.min(...this.pollsInFlight.values()), pollBound: pollBound(config) }),
          }),
      });
      logger.info({ host: config.metrics.host, port: this.server.port }, 'metrics server listening');
    }
    this.outbox.start();
    this.lastTickAt = this.monotonic();
    this.running = this.loops.map((loop) => this.loopForever(loop));
    logger.info({ clusters: this.loops.map((l) => l.name), pollInterval: config.pollInterval, dryRun: config.dryRun }, 'watchdog started');
    const { http, https, noProxy } = config.proxy;
    if (http !== undefined || https !== undefined) {
      // Where the pages go out, without the proxy's credentials; Connect is always asked directly.
      logger.info({ httpProxy: http && hostOf(http), httpsProxy: hostOf(https ?? http!), noProxy }, 'pages and heartbeat pings go through the proxy (HTTPS_PROXY / HTTP_PROXY, except NO_PROXY hosts)');
    }
  }

  private async loopForever(loop: ClusterLoop): Promise<void> {
    const { pollInterval, pollJitter } = this.options.config;
    // A small random offset so that many clusters do not fire together.
    await sleep(this.random() * pollJitter, this.stopping.signal);
    while (!this.stopping.signal.aborted) {
      this.pollsInFlight.set(loop, this.monotonic());
      // The pace is measured on the monotonic clock: the wall clock stepped back during a poll (NTP, a VM
      // resumed) made the elapsed time negative, and the loop slept the whole step (an hour without a poll).
      const started = performance.now();
      const r = await loop.poll(this.abortWork.signal);
      this.pollsInFlight.delete(loop);
      this.afterPoll(loop, r.ok);
      const elapsed = performance.now() - started;
      await sleep(Math.max(0, pollInterval - elapsed) + this.random() * pollJitter, this.stopping.signal);
    }
  }

  /** Stops scheduling, lets in-flight polls finish within shutdownTimeout, flushes state, closes servers. */
  async shutdown(): Promise<void> {
    const { logger, config } = this.options;
    logger.info('shutting down');
    this.stopping.abort();
    // One budget for the polls and the pages together: a supervisor sized on shutdownTimeout (docker stop,
    // TimeoutStopSec, terminationGracePeriodSeconds) would otherwise SIGKILL it before the last state write.
    const deadline = performance.now() + config.shutdownTimeout;
    const inFlight = Promise.all(this.running);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), config.shutdownTimeout);
    });
    const outcome = await Promise.race([inFlight.then(() => 'done' as const), bound]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      logger.warn({ shutdownTimeout: config.shutdownTimeout }, 'in-flight polls did not finish in time; aborting them');
      this.abortWork.abort();
      await inFlight;
    }
    // Give pending pages what is left of the budget; what is not delivered stays in the state file for next time.
    const left = Math.max(0, Math.floor(deadline - performance.now()));
    await this.outbox.drain(AbortSignal.timeout(Math.min(left, ONE_SHOT_DRAIN_BOUND_MS)));
    await this.outbox.stop();
    this.persist();
    await this.store.flush();
    if (!config.dryRun) await this.store.unlock();
    await this.server?.close();
    for (const c of this.clients) await c.close();
    logger.info('stopped');
  }
}
