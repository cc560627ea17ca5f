import type { EscalationEvent, EscalationEventKind, Incident } from '../escalate/types.js';
import type { Logger } from '../log/logger.js';

export interface AnnounceOptions {
  readonly now: number;
  /** The cluster's base URL without credentials; '' when the cluster is no longer configured. */
  readonly clusterUrl: string;
  readonly dryRun: boolean;
  readonly log: Logger;
  readonly resolution?: string;
  /** A trigger that replaces the open incident of its key (an escalate action's `update`): logged as such. */
  readonly update?: boolean;
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
    ...(o.update === true && { update: true }),
  };
  if (o.dryRun) {
    const would = event === 'resolve' ? 'would resolve an incident' : o.update === true ? 'would update an incident' : 'would open an incident';
    o.log.warn(fields, `${would} (dry run: not sent)`);
    return undefined;
  }
  o.log[event === 'trigger' ? 'warn' : 'info'](fields, event === 'resolve' ? 'incident resolved' : o.update === true ? 'incident updated' : 'incident opened');
  return {
    // One incident opens once per firstSeen: the id is what dedups a page enqueued twice. An update replaces a
    // page that may have the same firstSeen (a RESTARTING page within the failure's streak): an id of its own.
    id: `${incident.key}#${incident.firstSeen}#${o.update === true && event === 'trigger' ? 'update' : event}`,
    event,
    incident,
    at: o.now,
    clusterUrl: o.clusterUrl,
    ...(o.resolution !== undefined && { resolution: o.resolution }),
  };
}
