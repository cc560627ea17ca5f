import { createHash } from 'node:crypto';
import type { Severity } from '../config/schema.js';
import type { SinkConfig } from '../config/types.js';
import { DeliveryError } from './errors.js';
import { incidentFields, summaryLine, type IncidentFields, type SinkRequest } from './fields.js';
import { truncate } from '../secrets/scrub.js';
import type { EscalationEvent } from './types.js';

const MAX_DEDUP_KEY = 255;
const MAX_SUMMARY = 1024;

/** PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/). */
export type PagerDutyBody =
  | {
      readonly routing_key: string;
      readonly event_action: 'trigger';
      readonly dedup_key: string;
      readonly payload: {
        readonly summary: string;
        /** When the watchdog opened the page (not when it was delivered: a page held in the outbox keeps its time). */
        readonly timestamp: string;
        readonly source: string;
        readonly severity: Severity;
        readonly component: string;
        readonly group: string;
        readonly class: string;
        readonly custom_details: IncidentFields;
      };
      readonly links?: readonly { readonly href: string; readonly text: string }[];
    }
  | { readonly routing_key: string; readonly event_action: 'resolve'; readonly dedup_key: string };

/**
 * The incident key is the dedup key, so a trigger and its resolve meet at the same PagerDuty alert. Keys
 * over the 255-character limit keep a readable prefix and end in a hash of the whole key (still stable).
 */
export function dedupKey(key: string): string {
  if (key.length <= MAX_DEDUP_KEY) return key;
  const hash = createHash('sha256').update(key, 'utf8').digest('hex');
  let end = MAX_DEDUP_KEY - hash.length - 1;
  // Never half of a surrogate pair (an emoji): it has no UTF-8 form, and PagerDuty refuses the JSON.
  const last = key.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${key.slice(0, end)}#${hash}`;
}

export function pagerdutyRequest(event: EscalationEvent, sink: SinkConfig, _now: number): SinkRequest {
  if (sink.routingKey === undefined || sink.routingKey === '') {
    throw new DeliveryError('SINK_MISCONFIGURED', `pagerduty sink "${sink.name}" has no routing key`);
  }
  const i = event.incident;
  const dedup_key = dedupKey(i.key);
  let body: PagerDutyBody;
  if (event.event === 'resolve') {
    body = { routing_key: sink.routingKey, event_action: 'resolve', dedup_key };
  } else {
    const details = incidentFields(event);
    body = {
      routing_key: sink.routingKey,
      event_action: 'trigger',
      dedup_key,
      payload: {
        summary: truncate(summaryLine(i), MAX_SUMMARY),
        timestamp: new Date(event.at).toISOString(),
        source: i.cluster,
        severity: i.severity,
        component: i.connector,
        group: i.cluster,
        class: i.class,
        custom_details: details,
      },
      ...(details.statusUrl !== '' && { links: [{ href: details.statusUrl, text: 'Kafka Connect status' }] }),
    };
  }
  return { method: 'POST', url: sink.url, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}
