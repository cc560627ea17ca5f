import type { SinkConfig } from '../config/types.js';
import { alertmanagerRequest } from './alertmanager.js';
import type { SinkRequest } from './fields.js';
import { pagerdutyRequest } from './pagerduty.js';
import { slackRequest } from './slack.js';
import type { EscalationEvent } from './types.js';
import { webhookRequest } from './webhook.js';

/** The request for one event at one sink. Pure: same event, sink and time, same bytes. */
export function buildRequest(event: EscalationEvent, sink: SinkConfig, now: number): SinkRequest {
  switch (sink.type) {
    case 'webhook':
      return webhookRequest(event, sink, now);
    case 'pagerduty':
      return pagerdutyRequest(event, sink, now);
    case 'slack':
      return slackRequest(event, sink, now);
    case 'alertmanager':
      return alertmanagerRequest(event, sink, now);
    default: {
      const unknown: never = sink.type;
      throw new Error(`unknown sink type ${String(unknown)}`);
    }
  }
}
