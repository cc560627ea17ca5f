import { redactUrl } from '../config/load.js';
import { scrubSecrets } from '../secrets/scrub.js';
import type { EscalationEvent, Incident } from './types.js';

/** One HTTP request to a sink, built by a pure payload builder. `body` is the exact bytes to send (and sign). */
export interface SinkRequest {
  readonly method: 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The incident as every sink shows it: text fields scrubbed, times ISO 8601, a link to the Connect status. */
export interface IncidentFields extends Omit<Incident, 'firstSeen' | 'lastSeen' | 'resolvedAt'> {
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly statusUrl: string;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** The cluster's base URL without credentials or trailing slash (defence in depth: it should have none); '' stays ''. */
export function safeBaseUrl(clusterUrl: string): string {
  if (clusterUrl === '') return '';
  return redactUrl(clusterUrl).replace(/\/+$/, '');
}

/**
 * Where a person can see the subject's live state: the connector's status, or the connector list for `*`;
 * '' for a cluster no longer configured (its URL is not remembered).
 */
export function statusUrl(clusterUrl: string, connector: string): string {
  const base = safeBaseUrl(clusterUrl);
  if (base === '') return '';
  return connector === '*' ? `${base}/connectors` : `${base}/connectors/${encodeURIComponent(connector)}/status`;
}

export function incidentFields(event: EscalationEvent): IncidentFields {
  const i = event.incident;
  return {
    key: i.key,
    cluster: i.cluster,
    connector: i.connector,
    task: i.task,
    class: i.class,
    severity: i.severity,
    // Incidents should arrive scrubbed; scrubbing again costs little and guards every sink at once.
    reason: scrubSecrets(i.reason),
    rootCause: scrubSecrets(i.rootCause),
    hint: scrubSecrets(i.hint),
    attempts: i.attempts,
    firstSeen: iso(i.firstSeen),
    lastSeen: iso(i.lastSeen),
    workerId: i.workerId,
    traceExcerpt: scrubSecrets(i.traceExcerpt),
    statusUrl: statusUrl(event.clusterUrl, i.connector),
  };
}

/** "prod/orders-sink task 0", "prod/orders-sink" (the connector), "prod (cluster-wide)". */
export function subjectLabel(i: Pick<Incident, 'cluster' | 'connector' | 'task'>): string {
  if (i.connector === '*') return `${i.cluster} (cluster-wide)`;
  return i.task === null ? `${i.cluster}/${i.connector}` : `${i.cluster}/${i.connector} task ${i.task}`;
}

/** One line naming the subject, the class and the first line of the root cause (or the reason). */
export function summaryLine(i: Incident): string {
  const cause = scrubSecrets(i.rootCause).split(/\r?\n/)[0]?.trim() || scrubSecrets(i.reason);
  return `${subjectLabel(i)}: ${i.class}: ${cause}`;
}
