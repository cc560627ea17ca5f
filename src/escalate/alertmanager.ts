import type { Severity } from '../config/schema.js';
import type { SinkConfig } from '../config/types.js';
import { iso, incidentFields, summaryLine, type SinkRequest } from './fields.js';
import { matches } from './filter.js';
import type { EscalationEvent, Incident, IncidentClass } from './types.js';

export const ALERT_NAME = 'KafkaConnectIncident';

/** One alert of Alertmanager's POST /api/v2/alerts. The labels identify it: identical on trigger, re-send and resolve. */
export interface AlertmanagerAlert {
  readonly labels: {
    readonly alertname: typeof ALERT_NAME;
    readonly cluster: string;
    readonly connector: string;
    readonly task: string;
    readonly class: IncidentClass;
    readonly severity: Severity;
  };
  readonly annotations: { readonly summary: string; readonly description: string; readonly hint: string; readonly trace_excerpt: string };
  readonly startsAt: string;
  readonly endsAt?: string;
  /** Absent for a cluster no longer configured. */
  readonly generatorURL?: string;
}

export function alertsUrl(sinkUrl: string): string {
  return `${sinkUrl.replace(/\/+$/, '')}/api/v2/alerts`;
}

export function alertmanagerRequest(event: EscalationEvent, sink: SinkConfig, now: number): SinkRequest {
  const i = event.incident;
  const f = incidentFields(event);
  // A resolve ends the alert when it ended, not when a delayed delivery finally got through.
  const endsAt = event.event === 'resolve' ? Math.min(i.resolvedAt ?? now, now) : undefined;
  const alert: AlertmanagerAlert = {
    labels: { alertname: ALERT_NAME, cluster: i.cluster, connector: i.connector, task: String(i.task ?? 'connector'), class: i.class, severity: i.severity },
    annotations: { summary: summaryLine(i), description: f.rootCause, hint: f.hint, trace_excerpt: f.traceExcerpt },
    // Never after the send (or the end): a firstSeen read from a clock since stepped back would be in
    // Alertmanager's future, and it refuses an alert that ends before it starts (400), every re-send included.
    startsAt: iso(Math.min(i.firstSeen, endsAt ?? now)),
    // Without endsAt Alertmanager keeps the alert for its resolve_timeout, hence the re-sends.
    ...(endsAt !== undefined && { endsAt: iso(endsAt) }),
    ...(f.statusUrl !== '' && { generatorURL: f.statusUrl }),
  };
  return { method: 'POST', url: alertsUrl(sink.url), headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([alert]) };
}

/** One re-send to make: this open incident to this Alertmanager sink. */
export interface Resend {
  readonly sink: string;
  readonly incident: Incident;
}

/**
 * Which open incidents to re-send to which Alertmanager sinks (Alertmanager drops an alert not re-sent
 * within its resolve_timeout). A pair that still has a delivery pending is skipped: a sink that is down
 * does not pile up re-sends, and a re-send can never overtake a pending resolve.
 */
export function resendsDue(
  open: readonly Incident[],
  sinks: readonly SinkConfig[],
  hasPending: (sink: string, incidentKey: string) => boolean,
): Resend[] {
  const out: Resend[] = [];
  for (const sink of sinks) {
    if (sink.type !== 'alertmanager') continue;
    for (const incident of open) {
      if (incident.resolvedAt !== undefined) continue;
      if (matches(sink.filter, incident) && !hasPending(sink.name, incident.key)) out.push({ sink: sink.name, incident });
    }
  }
  return out;
}
