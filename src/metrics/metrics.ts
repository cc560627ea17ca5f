/**
 * The watchdog's Prometheus metrics: names and labels here are a public interface that people alert on
 * (see docs/metrics.md); renaming one is a breaking change.
 *
 * Cardinality is bounded by what is watched: per-connector series scale with connectors × tasks of the
 * watched clusters (and are removed when a connector disappears), per-cluster series with clusters, and
 * every other label (class, state, outcome, target) takes values from a closed set. No trace text, no
 * URLs, no worker ids ever become label values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FAILURE_CLASSES } from '../classify/types.js';
import type { FailureClass } from '../classify/types.js';
import { STATES } from '../connect/types.js';
import type { ClusterSnapshot, State, WorkerHealth } from '../connect/types.js';
import { INCIDENT_CLASSES, type Incident, type IncidentClass } from '../escalate/types.js';
import type { OffsetsMemory, RestartTarget } from '../heal/types.js';

export const METRIC_PREFIX = 'connect_watchdog_';

export const RESTART_TARGETS = ['connector', 'task'] as const satisfies readonly RestartTarget[];
export const RESTART_OUTCOMES = ['ok', 'failed', 'dry_run', 'skipped'] as const;
export type RestartOutcome = (typeof RESTART_OUTCOMES)[number];
export const DELIVERY_OUTCOMES = ['ok', 'failed', 'rejected', 'expired', 'superseded'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
export const POLL_OUTCOMES = ['ok', 'error'] as const;
/** client: the watchdog's own (config `cert`); worker: the chain the worker presented at the last handshake. */
export const CERTIFICATES = ['client', 'worker'] as const;
export type CertificateKind = (typeof CERTIFICATES)[number];
export type PollOutcome = (typeof POLL_OUTCOMES)[number];


/**
 * prom-client default metrics that are gauges named `*_total`: `promtool check metrics` rejects them.
 * They are left out rather than renamed: each equals `sum without (type)` of the per-type gauge that is
 * kept (`connect_watchdog_nodejs_active_handles{type}` etc.), and an invented name would match no
 * shared Node.js dashboard anyway.
 */
export const OMITTED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** Seconds; a poll is a handful of REST calls, from a few ms on loopback to the request timeout. */
export const POLL_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface RestartLabels {
  readonly cluster: string;
  readonly connector: string;
  readonly target: RestartTarget;
  readonly class: FailureClass;
  readonly outcome: RestartOutcome;
}

export interface WatchdogMetricsOptions {
  /** Collect prom-client's process/Node.js metrics (default true). */
  readonly defaultMetrics?: boolean;
  /**
   * Clusters known at start: their polls_total and incidents_open series start at 0, so `increase()`
   * sees the first error and dashboards show 0 rather than "no data".
   */
  readonly clusters?: readonly string[];
  /** Sink names known at start: their deliveries_total series start at 0 (same reason). */
  readonly sinks?: readonly string[];
}

type TaskFailedLabels = { readonly cluster: string; readonly connector: string; readonly task: string; readonly class: FailureClass };

export class WatchdogMetrics {
  readonly registry: Registry;

  private readonly restarts: Counter<'cluster' | 'connector' | 'target' | 'class' | 'outcome'>;
  private readonly escalations: Counter<'cluster' | 'connector' | 'class'>;
  private readonly incidentsOpen: Gauge<'cluster' | 'class'>;
  private readonly deliveries: Counter<'sink' | 'outcome'>;
  private readonly stateWrites: Counter<'outcome'>;
  private readonly connectors: Gauge<'cluster' | 'state'>;
  private readonly tasks: Gauge<'cluster' | 'state'>;
  private readonly unreadable: Gauge<'cluster'>;
  private readonly taskFailed: Gauge<'cluster' | 'connector' | 'task' | 'class'>;
  private readonly polls: Counter<'cluster' | 'outcome'>;
  private readonly pollDuration: Histogram<'cluster'>;
  private readonly clusterUp: Gauge<'cluster'>;
  private readonly workerHealthy: Gauge<'cluster'>;
  private readonly lastSuccess: Gauge<'cluster'>;
  private readonly certificateExpiry: Gauge<'cluster' | 'certificate'>;
  private readonly offsetsMoved: Gauge<'cluster' | 'connector'>;
  private readonly offsetReads: Counter<'cluster' | 'outcome'>;

  /** prom-client cannot remove by partial labels, so we remember who has per-connector series. */
  private readonly connectorsSeen = new Map<string, Set<string>>();
  /** cluster → `${connector}/${task}` → the task_failed label set currently exported. */
  private readonly failedTasks = new Map<string, Map<string, TaskFailedLabels>>();
  private readonly clustersSeen = new Set<string>();
  private readonly incidentClusters = new Set<string>();
  private readonly sinksSeen = new Set<string>();
  /** cluster → the connectors with an offsets_last_moved series, and the value exported. */
  private readonly offsetsExported = new Map<string, Map<string, number>>();

  constructor(options: WatchdogMetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
      for (const name of OMITTED_DEFAULT_METRICS) this.registry.removeSingleMetric(METRIC_PREFIX + name);
    }
    const p = METRIC_PREFIX;
    this.restarts = new Counter({
      name: `${p}restarts_total`,
      help: 'Restarts decided by the watchdog, by target (connector|task), failure class and outcome (ok|failed|dry_run|skipped).',
      labelNames: ['cluster', 'connector', 'target', 'class', 'outcome'],
      registers,
    });
    this.escalations = new Counter({
      name: `${p}escalations_total`,
      help: 'Incidents escalated to a person, by connector (* for cluster-wide) and incident class.',
      labelNames: ['cluster', 'connector', 'class'],
      registers,
    });
    this.incidentsOpen = new Gauge({
      name: `${p}incidents_open`,
      help: 'Open (escalated, unresolved) incidents by cluster and incident class.',
      labelNames: ['cluster', 'class'],
      registers,
    });
    this.deliveries = new Counter({
      name: `${p}deliveries_total`,
      help: 'Escalation deliveries to sinks by outcome (ok|failed|rejected|expired|superseded).',
      labelNames: ['sink', 'outcome'],
      registers,
    });
    this.stateWrites = new Counter({
      name: `${p}state_writes_total`,
      help: 'Writes of the state file by outcome (ok|failed). A failed write is logged; counted, it can page.',
      labelNames: ['outcome'],
      registers,
    });
    // Both at 0 from the start, so that increase() sees the first failure.
    for (const outcome of ['ok', 'failed']) this.stateWrites.inc({ outcome }, 0);
    this.connectors = new Gauge({
      name: `${p}connectors`,
      help: 'Connectors by state at the last successful poll.',
      labelNames: ['cluster', 'state'],
      registers,
    });
    this.tasks = new Gauge({
      name: `${p}tasks`,
      help: 'Tasks by state at the last successful poll.',
      labelNames: ['cluster', 'state'],
      registers,
    });
    this.unreadable = new Gauge({
      name: `${p}connectors_unreadable`,
      help: 'Connectors listed at the last successful poll whose status the watchdog could not read (an unknown state, a wrong shape) or that have none yet (start() not returned since created): nothing is decided about them.',
      labelNames: ['cluster'],
      registers,
    });
    this.taskFailed = new Gauge({
      name: `${p}task_failed`,
      help: '1 while the task is FAILED, with the failure class of its trace; absent otherwise.',
      labelNames: ['cluster', 'connector', 'task', 'class'],
      registers,
    });
    this.polls = new Counter({
      name: `${p}polls_total`,
      help: 'Polls of a Connect cluster by outcome (ok|error).',
      labelNames: ['cluster', 'outcome'],
      registers,
    });
    this.pollDuration = new Histogram({
      name: `${p}poll_duration_seconds`,
      help: 'Duration of one poll\'s read of a Connect cluster (the status listing of all its connectors and tasks; not probes, offsets reads or restarts).',
      labelNames: ['cluster'],
      buckets: [...POLL_DURATION_BUCKETS],
      registers,
    });
    this.clusterUp = new Gauge({
      name: `${p}cluster_up`,
      help: '1 if the last poll of the cluster succeeded, 0 if it failed.',
      labelNames: ['cluster'],
      registers,
    });
    this.workerHealthy = new Gauge({
      name: `${p}worker_healthy`,
      help: "1 if the worker at the cluster's url last answered GET /health healthy, 0 if it answered unhealthy or starting or did not answer in time (heal.health). Absent before the first answer, and for a worker without GET /health (before Kafka Connect 3.9).",
      labelNames: ['cluster'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: `${p}last_successful_poll_timestamp_seconds`,
      help: 'Unix time of the last successful poll of the cluster.',
      labelNames: ['cluster'],
      registers,
    });
    this.certificateExpiry = new Gauge({
      name: `${p}tls_certificate_expiry_timestamp_seconds`,
      help: 'Unix time at which a TLS certificate of the cluster ends: client (the watchdog\'s own, config cert, read at start) or worker (the earliest end in the chain the worker presented at the last TLS handshake, its CA included).',
      labelNames: ['cluster', 'certificate'],
      registers,
    });
    this.offsetsMoved = new Gauge({
      name: `${p}source_offsets_last_moved_timestamp_seconds`,
      help: 'Unix time of the first read that found the committed offsets of a watched source connector (heal.stall.connectors) as they are now: when they last moved, to within heal.stall.checkInterval. Absent for connectors not watched or not streaming.',
      labelNames: ['cluster', 'connector'],
      registers,
    });
    this.offsetReads = new Counter({
      name: `${p}offset_reads_total`,
      help: 'Reads of a watched source connector\'s offsets (GET /connectors/{name}/offsets) by outcome (ok|failed).',
      labelNames: ['cluster', 'outcome'],
      registers,
    });
    for (const cluster of options.clusters ?? []) {
      this.declareCluster(cluster);
      this.declareIncidentCluster(cluster);
    }
    for (const sink of options.sinks ?? []) this.declareSink(sink);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** `at` is epoch milliseconds (like ClusterSnapshot.at); defaults to now. */
  observePoll(cluster: string, outcome: PollOutcome, seconds: number, at: number = Date.now()): void {
    this.declareCluster(cluster);
    this.polls.inc({ cluster, outcome });
    this.pollDuration.observe({ cluster }, seconds);
    this.clusterUp.set({ cluster }, outcome === 'ok' ? 1 : 0);
    if (outcome === 'ok') this.lastSuccess.set({ cluster }, at / 1000);
  }

  /** The worker's last health answer (heal.health); undefined: none to show (no GET /health). */
  observeHealth(cluster: string, status: WorkerHealth['status'] | undefined): void {
    if (status === undefined) this.workerHealthy.remove({ cluster });
    else this.workerHealthy.set({ cluster }, status === 'healthy' ? 1 : 0);
  }

  /**
   * Sets the state gauges and task_failed series of one cluster from a successful poll. Connectors
   * absent from the snapshot (and not listed as unreadable) lose all their series (they were deleted, or renamed).
   * `failedClasses` is keyed `${connector}/${task}`; a FAILED task missing from it counts as unknown.
   */
  observeSnapshot(snapshot: ClusterSnapshot, failedClasses: ReadonlyMap<string, FailureClass>): void {
    const { cluster } = snapshot;
    this.declareCluster(cluster);
    this.declareIncidentCluster(cluster);

    const connectorCounts = zeroByState();
    const taskCounts = zeroByState();
    const present = new Set<string>();
    const before = this.failedTasks.get(cluster) ?? new Map<string, TaskFailedLabels>();
    const nowFailed = new Map<string, TaskFailedLabels>();
    for (const c of snapshot.connectors) {
      present.add(c.name);
      connectorCounts.set(c.state, (connectorCounts.get(c.state) ?? 0) + 1);
      for (const t of c.tasks) {
        taskCounts.set(t.state, (taskCounts.get(t.state) ?? 0) + 1);
        if (t.state !== 'FAILED') continue;
        const key = `${c.name}/${t.id}`;
        const cls = failedClasses.get(key) ?? 'unknown';
        const was = before.get(key);
        // Still FAILED with the same class: the series set then still reads 1.
        nowFailed.set(key, was !== undefined && was.class === cls ? was : { cluster, connector: c.name, task: String(t.id), class: cls });
      }
    }
    // Unreadable is not deleted: its series, task_failed included, stay as they were until it reads again.
    if (snapshot.unreadable !== undefined) {
      const unreadable = new Set(snapshot.unreadable.map((u) => u.name));
      for (const name of unreadable) present.add(name);
      for (const [key, labels] of before) if (unreadable.has(labels.connector)) nowFailed.set(key, labels);
    }
    this.unreadable.set({ cluster }, snapshot.unreadable?.length ?? 0);
    for (const state of STATES) {
      this.connectors.set({ cluster, state }, connectorCounts.get(state) ?? 0);
      this.tasks.set({ cluster, state }, taskCounts.get(state) ?? 0);
    }

    // A class change is a different label set: the old one goes, or both would read 1.
    for (const [key, labels] of before) if (nowFailed.get(key) !== labels) this.taskFailed.remove(labels);
    for (const [key, labels] of nowFailed) {
      if (before.get(key) === labels) continue;
      this.taskFailed.set(labels, 1);
      this.seeConnector(cluster, labels.connector);
    }
    this.failedTasks.set(cluster, nowFailed);

    for (const connector of [...(this.connectorsSeen.get(cluster) ?? [])]) {
      if (!present.has(connector)) this.forgetConnector(cluster, connector);
    }
  }

  countRestart(l: RestartLabels): void {
    this.seeConnector(l.cluster, l.connector);
    this.restarts.inc({ cluster: l.cluster, connector: l.connector, target: l.target, class: l.class, outcome: l.outcome });
  }

  /** `connector` is `*` for a cluster-wide incident; such series go only with forgetCluster. */
  countEscalation(cluster: string, connector: string, cls: IncidentClass): void {
    this.seeConnector(cluster, connector);
    this.escalations.inc({ cluster, connector, class: cls });
  }

  /** Recomputes incidents_open from the given incidents; resolved ones (resolvedAt set) are not counted. */
  setIncidentsOpen(incidents: readonly Incident[]): void {
    const counts = new Map<string, number>();
    for (const i of incidents) {
      this.declareIncidentCluster(i.cluster);
      if (i.resolvedAt !== undefined) continue;
      const key = `${i.cluster}\u0000${i.class}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // Zero, not remove: a series that drops to 0 resolves `incidents_open > 0` cleanly and keeps graphs continuous.
    for (const cluster of this.incidentClusters) {
      for (const cls of INCIDENT_CLASSES) {
        this.incidentsOpen.set({ cluster, class: cls }, counts.get(`${cluster}\u0000${cls}`) ?? 0);
      }
    }
  }

  /** `validTo` is epoch milliseconds. */
  setCertificateExpiry(cluster: string, certificate: CertificateKind, validTo: number): void {
    this.certificateExpiry.set({ cluster, certificate }, validTo / 1000);
  }

  /** The offsets remembered for the cluster's watched sources, after a poll: series for the others are removed. */
  observeOffsets(cluster: string, remembered: readonly OffsetsMemory[]): void {
    const before = this.offsetsExported.get(cluster);
    if (remembered.length === 0 && before === undefined) return;
    const now = new Map(remembered.map((m) => [m.connector, m.movedAt] as const));
    for (const [connector, movedAt] of now) if (before?.get(connector) !== movedAt) this.offsetsMoved.set({ cluster, connector }, movedAt / 1000);
    for (const connector of before?.keys() ?? []) if (!now.has(connector)) this.offsetsMoved.remove({ cluster, connector });
    if (now.size === 0) this.offsetsExported.delete(cluster);
    else this.offsetsExported.set(cluster, now);
  }

  countOffsetReads(cluster: string, ok: number, failed: number): void {
    this.offsetReads.inc({ cluster, outcome: 'ok' }, ok);
    this.offsetReads.inc({ cluster, outcome: 'failed' }, failed);
  }

  countStateWrite(outcome: 'ok' | 'failed'): void {
    this.stateWrites.inc({ outcome });
  }

  countDelivery(sink: string, outcome: DeliveryOutcome): void {
    this.declareSink(sink);
    this.deliveries.inc({ sink, outcome });
  }

  /** Removes every per-connector series of the connector: restarts_total, escalations_total, task_failed. */
  forgetConnector(cluster: string, connector: string): void {
    for (const target of RESTART_TARGETS) {
      for (const cls of FAILURE_CLASSES) {
        for (const outcome of RESTART_OUTCOMES) this.restarts.remove({ cluster, connector, target, class: cls, outcome });
      }
    }
    for (const cls of INCIDENT_CLASSES) this.escalations.remove({ cluster, connector, class: cls });
    const failed = this.failedTasks.get(cluster);
    if (failed !== undefined) {
      for (const [key, labels] of failed) {
        if (labels.connector !== connector) continue;
        this.taskFailed.remove(labels);
        failed.delete(key);
      }
    }
    this.connectorsSeen.get(cluster)?.delete(connector);
  }

  /** Removes every series of the cluster, e.g. when it is dropped from the config. */
  forgetCluster(cluster: string): void {
    for (const connector of [...(this.connectorsSeen.get(cluster) ?? [])]) this.forgetConnector(cluster, connector);
    for (const cls of INCIDENT_CLASSES) this.escalations.remove({ cluster, connector: '*', class: cls });
    this.connectorsSeen.delete(cluster);
    this.failedTasks.delete(cluster);
    for (const state of STATES) {
      this.connectors.remove({ cluster, state });
      this.tasks.remove({ cluster, state });
    }
    this.unreadable.remove({ cluster });
    for (const cls of INCIDENT_CLASSES) this.incidentsOpen.remove({ cluster, class: cls });
    for (const outcome of POLL_OUTCOMES) this.polls.remove({ cluster, outcome });
    this.pollDuration.remove({ cluster });
    this.clusterUp.remove({ cluster });
    this.workerHealthy.remove({ cluster });
    this.lastSuccess.remove({ cluster });
    for (const certificate of CERTIFICATES) this.certificateExpiry.remove({ cluster, certificate });
    this.observeOffsets(cluster, []);
    for (const outcome of ['ok', 'failed']) this.offsetReads.remove({ cluster, outcome });
    this.clustersSeen.delete(cluster);
    this.incidentClusters.delete(cluster);
  }

  private seeConnector(cluster: string, connector: string): void {
    // `*` names the cluster itself, never a connector a snapshot could list.
    if (connector === '*') return;
    let set = this.connectorsSeen.get(cluster);
    if (set === undefined) this.connectorsSeen.set(cluster, (set = new Set()));
    set.add(connector);
  }

  private declareCluster(cluster: string): void {
    if (this.clustersSeen.has(cluster)) return;
    this.clustersSeen.add(cluster);
    // Both outcomes exist from the start so that increase() counts the very first error.
    for (const outcome of POLL_OUTCOMES) this.polls.inc({ cluster, outcome }, 0);
  }

  private declareIncidentCluster(cluster: string): void {
    if (this.incidentClusters.has(cluster)) return;
    this.incidentClusters.add(cluster);
    for (const cls of INCIDENT_CLASSES) this.incidentsOpen.set({ cluster, class: cls }, 0);
  }

  private declareSink(sink: string): void {
    if (this.sinksSeen.has(sink)) return;
    this.sinksSeen.add(sink);
    for (const outcome of DELIVERY_OUTCOMES) this.deliveries.inc({ sink, outcome }, 0);
  }
}

function zeroByState(): Map<State, number> {
  return new Map(STATES.map((s) => [s, 0] as const));
}
