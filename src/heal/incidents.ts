/**
 * Building the incidents the policy opens. Severity by class:
 *   cluster-outage, worker-unhealthy       critical  many connectors down at once: a person now
 *   serialization, config, connection,     error     a subject that restarts cannot (or did not) fix
 *   unknown, stalled, no-tasks                       (stalled: a RUNNING source that moves nothing;
 *                                                    no-tasks: a RUNNING connector with no task at all)
 *   unassigned, rebalancing                warning   Connect's own scheduling; often resolves itself
 */
import { EMPTY_ROOT_CAUSE } from '../classify/classify.js';
import type { Classification } from '../classify/types.js';
import type { Severity } from '../config/schema.js';
import { scrubSecrets, traceExcerpt } from '../secrets/scrub.js';
import { incidentKey, type Incident, type IncidentClass } from '../escalate/types.js';
import type { SubjectState } from './types.js';

export function severityOf(cls: IncidentClass): Severity {
  switch (cls) {
    case 'cluster-outage':
    case 'worker-unhealthy':
      return 'critical';
    case 'serialization':
    case 'config':
    case 'connection':
    case 'unknown':
    case 'stalled':
    case 'no-tasks':
      return 'error';
    case 'unassigned':
    case 'rebalancing':
      return 'warning';
  }
}

export interface IncidentDetails {
  readonly reason: string;
  readonly rootCause: string;
  readonly hint: string;
  readonly trace: string;
}

export function detailsOf(c: Classification, trace: string, reason: string): IncidentDetails {
  // Never empty (the built-in classifier never returns one; a custom one might): an empty root cause is a
  // condition page's (isConditionPage).
  return { reason, rootCause: c.rootCause === '' ? EMPTY_ROOT_CAUSE : c.rootCause, hint: c.hint, trace };
}

export function openIncident(
  cls: IncidentClass,
  subject: Pick<SubjectState, 'cluster' | 'connector' | 'task' | 'attempts' | 'workerId'>,
  details: IncidentDetails,
  firstSeen: number,
  now: number,
): Incident {
  return {
    key: incidentKey(subject.cluster, subject.connector, subject.task, cls),
    cluster: subject.cluster,
    connector: subject.connector,
    task: subject.task,
    class: cls,
    severity: severityOf(cls),
    reason: details.reason,
    // Incidents are persisted: nothing secret may reach the state file either.
    rootCause: scrubSecrets(details.rootCause),
    hint: scrubSecrets(details.hint),
    attempts: subject.attempts,
    firstSeen,
    lastSeen: now,
    workerId: subject.workerId,
    traceExcerpt: details.trace === '' ? '' : traceExcerpt(details.trace, details.rootCause),
  };
}

/**
 * A page under a failure class's key that no failure opened: a connector with no status, or a subject RESTARTING
 * for too long (noStatusEscalation, restartingEscalation). Nothing has thrown, so it carries no root cause, while a
 * failure page always carries one (detailsOf). Told from the incident alone, so that one in a state file written
 * by an older version is recognised too. Once the subject's failure page of that class is due, it replaces it.
 */
export function isConditionPage(incident: Incident): boolean {
  return incident.rootCause === '';
}

/** An open incident whose condition still holds: refreshed in state, no new page. */
export function touchIncident(incident: Incident, now: number, attempts: number, workerId: string): Incident {
  if (incident.lastSeen === now && incident.attempts === attempts && incident.workerId === workerId) return incident;
  return { ...incident, lastSeen: now, attempts, workerId: workerId === '' ? incident.workerId : workerId };
}

export const HINTS = {
  // Kafka 4.3.1: a connector whose start() blocks reads UNASSIGNED from its worker's restart until start() returns
  // (not RESTARTING, which follows a restart request; checked 2026-12-06, docs/real-stack.md): this page tells of it.
  unassigned:
    "Connect has not assigned this to any worker, or it has not finished starting: check that workers are up and in the same group (a departed worker's work moves only after scheduled.rebalance.max.delay.ms). If it stays UNASSIGNED with every worker up, its start() may not have returned since its worker restarted: look in the worker's log and a thread dump (jstack) for a start() blocked on an unreachable system or a lock.",
  restarting:
    "The restart has not finished: Connect reads RUNNING only once the connector's or task's start() returns. Look in the worker's log and a thread dump (jstack) for a start() blocked on an unreachable system or a lock; once the cause is gone, restarting the worker, or deleting and re-creating the connector, frees it (a worker restarted before that starts it again, and it reads UNASSIGNED while it blocks).",
  noStatus:
    "Connect keeps no status for a connector until its start() returns: this one was created and has not finished starting. Look in the worker's log and a thread dump (jstack) for a start() blocked on an unreachable system (firewall, DNS, a wrong host) or a lock; once the cause is gone, deleting and re-creating the connector, or restarting the worker, frees it.",
  rebalancing:
    'The task keeps moving between workers: look for workers that leave and rejoin (GC pauses, session timeouts, crash loops) in the worker logs.',
  stalled:
    "Connect reads RUNNING while no offset is committed: a task retrying on its own (Debezium retries a lost database connection for good unless errors.max.retries is 0; -1, its default, and a positive count alike), or blocked on a system that does not answer. Look in the worker's log for retries and check that the source system is reachable from the worker; once it is, a restart (POST /connectors/{name}/restart?includeTasks=true) frees a task that still hangs.",
  noTasks:
    "Connect lists no task for this RUNNING connector: its task configs were never written. Look in the log of the worker it runs on for \"Failed to reconfigure connector's tasks\", repeated, and the cause after it: a request forwarded to the leader that failed (check the leader's rest.advertised.host.name, rest.advertised.port and listeners, which must give a URL every worker can reach, and TLS between workers; a name with ;, { or } cannot be carried by the forwarded request, which is answered 404 or 500: re-create it under another name), or the connector's own taskConfigs() throwing (a config provider that cannot read its file, a source that cannot list what it should read). Or a connector that makes no task by design (a MirrorCheckpointConnector with no consumer group to sync, a JDBC source whose table filter matches nothing): then the config is the thing to look at, or set heal.noTasksAfter to 0. Connect retries the forwarding by itself; once the cause is fixed the tasks appear without a restart.",
  workerUnhealthy:
    "The worker's herder cannot finish its work, most often because the worker cannot reach the Kafka brokers: it has then stopped every connector and task while their status still reads RUNNING (the status topic cannot be written), and holds restarts and offset reads until it is back. Check the brokers and the network between them and the workers, then the worker's log (\"Broker coordinator was unreachable\", \"ensuring membership\"). Connect resumes everything by itself once it is back; the watchdog sends no restart until then.",
  clusterOutage:
    'Many connectors lost their connections at once: check the network and any dependency they share (Kafka brokers, a database, a proxy) before looking at connectors one by one.',
} as const;
