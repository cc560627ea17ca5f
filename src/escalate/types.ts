import { FAILURE_CLASSES } from '../classify/types.js';
import type { Severity } from '../config/schema.js';

/**
 * What an incident is about: a failure class for a FAILED subject, or one of the conditions
 * that restarts cannot fix (long UNASSIGNED, repeated rebalancing, many connectors failing at once, a
 * source RUNNING whose offsets do not move, a worker that says it is not healthy, a connector RUNNING with no
 * task for heal.noTasksAfter).
 */
export const INCIDENT_CLASSES = [...FAILURE_CLASSES, 'unassigned', 'rebalancing', 'cluster-outage', 'stalled', 'worker-unhealthy', 'no-tasks'] as const;
export type IncidentClass = (typeof INCIDENT_CLASSES)[number];

/** Plain data; persisted in the state file and sent (scrubbed) to sinks. */
export interface Incident {
  /** `${cluster}/${connector}/${task ?? 'connector'}/${class}`; the dedup key at every pager. */
  readonly key: string;
  readonly cluster: string;
  /** `*` for a cluster-wide incident. */
  readonly connector: string;
  /** A task id, or null for the connector itself. */
  readonly task: number | null;
  readonly class: IncidentClass;
  readonly severity: Severity;
  /** Why it was escalated (e.g. "serialization failures are not fixed by a restart"). */
  readonly reason: string;
  readonly rootCause: string;
  readonly hint: string;
  /** Restarts spent on the subject so far. */
  readonly attempts: number;
  /** Epoch ms. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly workerId: string;
  /** Already scrubbed of secrets and bounded in size. */
  readonly traceExcerpt: string;
  readonly resolvedAt?: number;
}

export type EscalationEventKind = 'trigger' | 'resolve';

/** One entry of the outbox: an incident opened or resolved, to deliver once to every matching sink. */
export interface EscalationEvent {
  /** Unique, stable id (used as an idempotency key where a sink supports one). */
  readonly id: string;
  readonly event: EscalationEventKind;
  readonly incident: Incident;
  /** Epoch ms at which the event was created. */
  readonly at: number;
  /** The Connect worker's base URL of this cluster, without credentials, for statusUrl. */
  readonly clusterUrl: string;
  /** Resolve events: why it is over (recovered, deleted, assigned, settled, outage-over, healthy, cluster-removed, …). */
  readonly resolution?: string;
}

export function incidentKey(cluster: string, connector: string, task: number | null, cls: IncidentClass): string {
  return `${cluster}/${connector}/${task ?? 'connector'}/${cls}`;
}
