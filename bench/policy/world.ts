/**
 * The simulated Connect cluster of the policy bench: connectors with one task each (like Debezium
 * sources), a failure cause per timeline, and a worker model that applies restarts. No HTTP, no real
 * time: the clock is whatever the caller says.
 *
 * Worker model (what Kafka Connect does):
 * - when a cause starts, the task goes FAILED with the cause's trace; Connect never restarts it;
 * - a restart while the cause persists fails again at once (the next poll sees FAILED, same trace);
 * - a restart after the cause has cleared brings the task back to RUNNING;
 * - a flapping task runs `every` after each successful restart, then fails again, until `until`.
 * The dependency probe's answer for a connector's endpoint is "the cause has cleared".
 */
import type { ClusterSnapshot, ConnectorSnapshot, Endpoint } from '../../src/connect/types.js';

export type Cause =
  /** FAILED at `start`; restarts heal it from `end` on (the endpoint refuses connections until then). */
  | { readonly kind: 'outage'; readonly start: number; readonly end: number }
  /** FAILED at `start`; any restart heals it; fails again `every` after each heal while before `until`. */
  | { readonly kind: 'flap'; readonly start: number; readonly every: number; readonly until: number }
  /** FAILED at `start`, and no restart ever heals it (a bad record, a bad config). */
  | { readonly kind: 'permanent'; readonly start: number };

export interface SubjectSpec {
  readonly connector: string;
  readonly endpoint: Endpoint;
  readonly trace: string;
  readonly cause: Cause;
}

/** One failure episode of one task: when the cause cleared, and when a restart made it RUNNING again. */
export interface Episode {
  readonly connector: string;
  readonly failedAt: number;
  /** When a restart could first heal it: the outage's end, the failure itself for a flap, never for permanent. */
  readonly clearsAt: number;
  healedAt?: number;
}

export const CLUSTER = 'sim';
const WORKER = '10.20.1.11:8083';

interface TaskModel {
  readonly spec: SubjectSpec;
  state: 'RUNNING' | 'FAILED';
  /** Next time a flapping task fails by itself. */
  nextFailAt?: number;
  episode?: Episode;
}

export class World {
  private readonly tasks = new Map<string, TaskModel>();
  readonly episodes: Episode[] = [];
  /** Restart requests received, per connector, with their times. */
  readonly restarts = new Map<string, number[]>();

  constructor(specs: readonly SubjectSpec[]) {
    for (const spec of specs) {
      this.tasks.set(spec.connector, { spec, state: 'RUNNING', nextFailAt: spec.cause.start });
      this.restarts.set(spec.connector, []);
    }
  }

  /** Applies the failures due by `now`. */
  advance(now: number): void {
    for (const t of this.tasks.values()) {
      if (t.state === 'RUNNING' && t.nextFailAt !== undefined && t.nextFailAt <= now) this.fail(t, t.nextFailAt);
    }
  }

  private fail(t: TaskModel, at: number): void {
    t.state = 'FAILED';
    t.nextFailAt = undefined;
    const cause = t.spec.cause;
    const clearsAt = cause.kind === 'outage' ? cause.end : cause.kind === 'flap' ? at : Number.POSITIVE_INFINITY;
    t.episode = { connector: t.spec.connector, failedAt: at, clearsAt };
    this.episodes.push(t.episode);
  }

  /** Whether the subject's cause is over at `now` (what the dependency probe answers for its endpoint). */
  cleared(connector: string, now: number): boolean {
    const cause = this.tasks.get(connector)?.spec.cause;
    if (cause === undefined) return true;
    switch (cause.kind) {
      case 'outage':
        return now < cause.start || now >= cause.end;
      case 'flap':
        return true;
      case 'permanent':
        return now < cause.start;
    }
  }

  /** A restart of the connector's task (a connector restart with includeTasks does the same here). */
  restart(connector: string, now: number): void {
    const t = this.tasks.get(connector);
    if (t === undefined) return;
    this.restarts.get(connector)?.push(now);
    this.advance(now);
    if (t.state !== 'FAILED') return;
    const cause = t.spec.cause;
    const heals = cause.kind === 'flap' || (cause.kind === 'outage' && now >= cause.end);
    if (!heals) return; // started, and failed again at once
    t.state = 'RUNNING';
    if (t.episode !== undefined) t.episode.healedAt = now;
    t.episode = undefined;
    if (cause.kind === 'flap' && now + cause.every < cause.until) t.nextFailAt = now + cause.every;
  }

  /** What the client's snapshot would give (statuses with the cached info parts merged in). */
  snapshot(now: number): ClusterSnapshot {
    this.advance(now);
    const connectors: ConnectorSnapshot[] = [...this.tasks.values()].map((t) => ({
      name: t.spec.connector,
      type: 'source',
      state: 'RUNNING',
      workerId: WORKER,
      tasks: [{ id: 0, state: t.state, workerId: WORKER, ...(t.state === 'FAILED' && { trace: t.spec.trace }) }],
      tasksMax: 1,
      connectorClass: 'io.debezium.connector.postgresql.PostgresConnector',
      endpoint: t.spec.endpoint,
    }));
    return { cluster: CLUSTER, at: now, connectors };
  }

  connectors(): string[] {
    return [...this.tasks.keys()];
  }

  failedConnectors(now: number): string[] {
    this.advance(now);
    return [...this.tasks.values()].filter((t) => t.state === 'FAILED').map((t) => t.spec.connector);
  }

  /** The probe's answer for an endpoint (`host:port`): accepting once the cause of every connector using it is over. */
  accepting(endpointKey: string, now: number): boolean {
    for (const t of this.tasks.values()) {
      if (`${t.spec.endpoint.host}:${t.spec.endpoint.port}` === endpointKey && !this.cleared(t.spec.connector, now)) return false;
    }
    return true;
  }
}
