import type { EscalationEvent, EscalationEventKind, Incident } from '../escalate/types.js';
import type { Logger } from '../log/logger.js';

export interface AnnounceOptions {
  readonly now: number;
  /** The cluster's base URL without credentials; '' when the cluster is no longer configured. */
  readonly clusterUrl: string;
  readonly dryRun: boolean;
  readonly log: Logger;
  readonly resolution?: string;
}

/**
 * Logs an incident opened or resolved and builds its outbox event. A dry run POSTs nothing, pages
 * included: it logs what it would send and builds no event.
 */
export function announce(event: EscalationEventKind, incident: Incident, o: AnnounceOptions): EscalationEvent | undefined {
  const fields = {
    connector: incident.connector,
    task: incident.task,
    class: incident.class,
    severity: incident.severity,
    key: incident.key,
    reason: incident.reason,
    rootCause: incident.rootCause,
    ...(o.resolution !== undefined && { resolution: o.resolution }),
    ...(o.dryRun && { dryRun: true }),
  };
  if (o.dryRun) {
    o.log.warn(fields, event === 'trigger' ? 'would open an incident (dry run: not sent)' : 'would resolve an incident (dry run: not sent)');
    return undefined;
  }
  o.log[event === 'trigger' ? 'warn' : 'info'](fields, event === 'trigger' ? 'incident opened' : 'incident resolved');
  return {
    // One incident opens once per firstSeen: the id is what dedups a page enqueued twice.
    id: `${incident.key}#${incident.firstSeen}#${event}`,
    event,
    incident,
    at: o.now,
    clusterUrl: o.clusterUrl,
    ...(o.resolution !== undefined && { resolution: o.resolution }),
  };
}
