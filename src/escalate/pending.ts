import { SEVERITIES, type Severity } from '../config/schema.js';
import { INCIDENT_CLASSES, type EscalationEvent, type Incident, type IncidentClass } from './types.js';
import { isJsonObject } from '../util/json.js';

/** One event still to deliver to one sink. Plain data: persisted in the state file as an array of these. */
export interface PendingDelivery {
  /** The sink's name. */
  readonly sink: string;
  readonly event: EscalationEvent;
  /** Failed attempts so far, across drains and restarts. */
  readonly attempts: number;
  /** A short, secret-free reason for the last failure: "HTTP 503", "TIMEOUT", "ECONNREFUSED". */
  readonly lastError?: string;
  /**
   * Wall-clock ms its age counts from, once the wall clock stepped under it (event.at until then): event.at moved
   * by the steps seen while it was pending, and by the time the watchdog was down (its age runs on the monotonic
   * clock, and downtime does not age it: Outbox.load). Absent in state files written before it.
   */
  readonly since?: number;
}

/** Identity of a delivery: an event goes once to each sink. */
export const deliveryId = (sink: string, eventId: string): string => `${sink}\u0000${eventId}`;

export const isStr = (v: unknown): v is string => typeof v === 'string';
export const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 8.64e15;
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** An incident read back from the state file, rebuilt field by field; undefined when malformed. */
export function parseIncident(v: unknown): Incident | undefined {
  if (!isJsonObject(v)) return undefined;
  const { key, cluster, connector, task, reason, rootCause, hint, attempts, firstSeen, lastSeen, workerId, traceExcerpt, resolvedAt } = v;
  const cls = v['class'];
  const severity = v['severity'];
  if (!isStr(key) || !isStr(cluster) || !isStr(connector) || !isStr(reason) || !isStr(rootCause) || !isStr(hint)) return undefined;
  if (!isStr(workerId) || !isStr(traceExcerpt)) return undefined;
  if (!(task === null || isCount(task))) return undefined;
  if (!INCIDENT_CLASSES.includes(cls as IncidentClass) || !SEVERITIES.includes(severity as Severity)) return undefined;
  if (!isCount(attempts) || !isTime(firstSeen) || !isTime(lastSeen)) return undefined;
  if (resolvedAt !== undefined && !isTime(resolvedAt)) return undefined;
  // Rebuilt field by field so that nothing unexpected rides along into payloads.
  return {
    key,
    cluster,
    connector,
    task,
    class: cls as IncidentClass,
    severity: severity as Severity,
    reason,
    rootCause,
    hint,
    attempts,
    firstSeen,
    lastSeen,
    workerId,
    traceExcerpt,
    ...(resolvedAt !== undefined && { resolvedAt }),
  };
}

function parseEvent(v: unknown): EscalationEvent | undefined {
  if (!isJsonObject(v)) return undefined;
  const { id, event, at, clusterUrl, resolution } = v;
  const incident = parseIncident(v['incident']);
  if (!incident || !isStr(id) || id === '' || (event !== 'trigger' && event !== 'resolve') || !isTime(at) || !isStr(clusterUrl)) return undefined;
  return { id, event, incident, at, clusterUrl, ...(isStr(resolution) && { resolution }) };
}

export function parsePendingDelivery(v: unknown): PendingDelivery | undefined {
  if (!isJsonObject(v)) return undefined;
  const { sink, attempts, lastError, since } = v;
  const event = parseEvent(v['event']);
  if (!event || !isStr(sink) || !isCount(attempts) || (lastError !== undefined && !isStr(lastError)) || (since !== undefined && !isTime(since))) return undefined;
  return { sink, event, attempts, ...(lastError !== undefined && { lastError }), ...(since !== undefined && { since }) };
}

/** Validates a persisted outbox: well-formed entries in their order, and how many were not. */
export function parsePending(raw: unknown): { readonly items: PendingDelivery[]; readonly invalid: number } {
  if (raw === undefined || raw === null) return { items: [], invalid: 0 };
  if (!Array.isArray(raw)) return { items: [], invalid: 1 };
  const items: PendingDelivery[] = [];
  let invalid = 0;
  for (const entry of raw) {
    const item = parsePendingDelivery(entry);
    if (item) items.push(item);
    else invalid += 1;
  }
  return { items, invalid };
}
