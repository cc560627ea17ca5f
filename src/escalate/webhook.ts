import { createHmac } from 'node:crypto';
import type { SinkConfig } from '../config/types.js';
import { incidentFields, iso, type IncidentFields, type SinkRequest } from './fields.js';
import type { EscalationEvent, EscalationEventKind } from './types.js';

export const WEBHOOK_SCHEMA = 'connect-watchdog/incident/v1';
export const SIGNATURE_HEADER = 'X-Connect-Watchdog-Signature';
export const TIMESTAMP_HEADER = 'X-Connect-Watchdog-Timestamp';

/** The generic webhook body. Versioned by `schema`: fields are only ever added within v1. */
export interface WebhookBody extends IncidentFields {
  readonly schema: typeof WEBHOOK_SCHEMA;
  readonly event: EscalationEventKind;
  readonly id: string;
  /** Resolve events only: why it is over, and when. */
  readonly resolution?: string;
  readonly resolvedAt?: string;
}

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`: what a receiver recomputes to authenticate us. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookRequest(event: EscalationEvent, sink: SinkConfig, now: number): SinkRequest {
  const payload: WebhookBody = {
    schema: WEBHOOK_SCHEMA,
    event: event.event,
    id: event.id,
    ...incidentFields(event),
    ...(event.event === 'resolve' && { resolution: event.resolution ?? 'recovered', resolvedAt: iso(event.incident.resolvedAt ?? event.at) }),
  };
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    // Receivers de-duplicate redeliveries (after a timeout, a restart) on this. A header carries bytes, not
    // Unicode (undici refuses a character above U+00FF): non-ASCII in a connector or cluster name is
    // percent-encoded as UTF-8, and so is `%` itself, so that the key always decodes back to the id.
    'Idempotency-Key': event.id.replace(/[^\x20-\x24\x26-\x7e]+/gu, (s) => encodeURIComponent(s)),
  };
  if (sink.secret !== undefined && sink.secret !== '') {
    headers[SIGNATURE_HEADER] = signature(sink.secret, body);
    headers[TIMESTAMP_HEADER] = String(Math.floor(now / 1000));
  }
  return { method: 'POST', url: sink.url, headers, body };
}
