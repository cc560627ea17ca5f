/**
 * The healing policy: (previous state, fresh snapshot, classifier, clock, probe answers) → actions and
 * next state. Pure: no I/O, no Date.now(), randomness only from input.random. Level-triggered: every
 * decision is made from the whole snapshot and the remembered state, so a watchdog restarted from its
 * state file decides what it would have decided (state is plain JSON).
 *
 * Attempts are committed optimistically: a restart action's attempt, restart time and next restart time
 * are in the returned state already; the executor reports back through applyOutcome, which rolls the
 * attempt back on a rebalance (409) so that it is retried on the next poll and not counted. Outcomes
 * must be applied before the next decide() of the same cluster.
 *
 * docs/heal.md has the table of "state seen → action".
 */
import type { Classification, Classifier, FailureClass } from '../classify/types.js';
import type { HealConfig } from '../config/types.js';
import type { ClusterSnapshot, ConnectorSnapshot, Endpoint, State } from '../connect/types.js';
import { incidentKey, type Incident, type IncidentClass } from '../escalate/types.js';
import { backoffWait, restartDueAt } from './backoff.js';
import { refill, take } from './budget.js';
import { HINTS, detailsOf, openIncident, touchIncident, type IncidentDetails } from './incidents.js';
import { compact, isQuiet, observe, type Observation } from './observe.js';
import { failureEscalation, rebalancingEscalation, settled, unassignedEscalation } from './rules.js';
import {
  subjectKey,
  type Action,
  type HealState,
  type ResolveReason,
  type RestartTarget,
  type SkipReason,
  type SubjectRef,
  type SubjectState,
} from './types.js';

export { applyOutcome } from './outcome.js';

export interface DecideInput {
  readonly state: HealState;
  readonly snapshot: ClusterSnapshot;
  readonly config: HealConfig;
  readonly classify: Classifier;
  readonly now: number;
  /** Jitter source, [0, 1). */
  readonly random: () => number;
  /**
   * Dependency probe answers keyed by endpointKey(): true = accepts TCP connections. An endpoint not in
   * the map was not probed (probing off for the cluster, or no probe wanted): backoff alone decides.
   */
  readonly probes: ReadonlyMap<string, boolean>;
  /** Inside a maintenance window? Asked with '*' for the cluster-wide incident. */
  readonly inMaintenance: (connector: string) => boolean;
  /** Sidecar ownership: act on a subject only when its worker is ours; observe it otherwise. */
  readonly owns: (workerId: string) => boolean;
  /** Not used by the policy (events carry the URL); accepted so that the shell can pass one object. */
  readonly clusterUrl?: string;
}

export interface Decision {
  readonly actions: readonly Action[];
  readonly state: HealState;
}

export const endpointKey = (e: Endpoint): string => `${e.host}:${e.port}`;

/** One subject as this poll saw it, after observation. */
interface Evaluated {
  readonly key: string;
  readonly ref: SubjectRef;
  readonly target: RestartTarget;
  readonly connector: ConnectorSnapshot;
  readonly trace: string;
  readonly observation: Observation;
}

interface RestartCandidate {
  readonly e: Evaluated;
  readonly dueAt: number;
}

const isFailureClass = (c: IncidentClass): c is FailureClass =>
  c === 'connection' || c === 'serialization' || c === 'config' || c === 'unknown';

interface SeenSubject {
  readonly ref: SubjectRef;
  readonly connector: ConnectorSnapshot;
  readonly target: RestartTarget;
  readonly state: State;
  readonly workerId: string;
  readonly trace: string;
}

/** Subjects whose entries are trustworthy this poll: a connector and, when it is RUNNING or FAILED, its tasks. */
function seenSubjects(snapshot: ClusterSnapshot): SeenSubject[] {
  const out: SeenSubject[] = [];
  for (const c of snapshot.connectors) {
    out.push({ ref: { cluster: snapshot.cluster, connector: c.name, task: null }, connector: c, target: 'connector', state: c.state, workerId: c.workerId, trace: c.trace ?? '' });
    // Under an UNASSIGNED or RESTARTING connector the task entries are stale (a departed worker's last
    // word, or a restart in flight); under PAUSED/STOPPED nothing is ours to touch.
    if (c.state !== 'RUNNING' && c.state !== 'FAILED') continue;
    for (const t of c.tasks) {
      out.push({ ref: { cluster: snapshot.cluster, connector: c.name, task: t.id }, connector: c, target: 'task', state: t.state, workerId: t.workerId, trace: t.trace ?? '' });
    }
  }
  return out;
}

export function decide(input: DecideInput): Decision {
  const { snapshot, config, now, owns, inMaintenance } = input;
  const cluster = snapshot.cluster;
  const subjects: Record<string, SubjectState> = { ...input.state.subjects };
  const incidents: Record<string, Incident> = { ...input.state.incidents };
  const actions: Action[] = [];
  const present = new Map(snapshot.connectors.map((c) => [c.name, c]));

  const resolve = (incident: Incident, resolution: ResolveReason) => {
    delete incidents[incident.key];
    actions.push({ kind: 'resolve', incident: { ...incident, lastSeen: now, resolvedAt: now }, resolution });
  };
  const escalateOrTouch = (cls: IncidentClass, s: SubjectState, details: IncidentDetails | undefined, allowed: boolean, firstSeen: number) => {
    const key = incidentKey(s.cluster, s.connector, s.task, cls);
    const open = incidents[key];
    if (open !== undefined) incidents[key] = touchIncident(open, now, s.attempts, s.workerId);
    else if (details !== undefined && allowed) {
      const incident = openIncident(cls, s, details, firstSeen, now);
      incidents[key] = incident;
      actions.push({ kind: 'escalate', incident });
    }
  };

  // 1. Forget what was deleted: a connector missing from a successful listing, a task beyond tasks.max.
  const gone = (connector: string, task: number | null): boolean => {
    const c = present.get(connector);
    if (c === undefined) return true;
    return task !== null && c.state === 'RUNNING' && c.tasksMax !== undefined && task >= c.tasksMax;
  };
  for (const key in subjects) {
    const s = subjects[key] as SubjectState;
    if (s.cluster === cluster && gone(s.connector, s.task)) delete subjects[key];
  }
  for (const inc of Object.values(incidents)) {
    if (inc.cluster === cluster && inc.connector !== '*' && gone(inc.connector, inc.task) && !inMaintenance(inc.connector)) resolve(inc, 'deleted');
  }

  // 2. Observe every subject seen.
  // A subject RUNNING on the same worker with nothing remembered (isQuiet) has nothing to observe or
  // decide: skipped without allocation, since at 10k tasks nearly every subject is one.
  const evaluated: Evaluated[] = [];
  for (const c of snapshot.connectors) {
    const visit = (target: RestartTarget, task: number | null, state: State, workerId: string, trace: string | undefined): void => {
      const key = `${cluster}/${c.name}/${task ?? 'connector'}`;
      const prev = subjects[key];
      if (prev !== undefined && state === 'RUNNING' && (workerId === '' || workerId === prev.workerId) && isQuiet(prev)) return;
      const ref: SubjectRef = { cluster, connector: c.name, task };
      const observation = observe(prev, ref, { state, workerId, trace: trace ?? '' }, input.classify, config, now);
      subjects[key] = observation.subject;
      evaluated.push({ key, ref, target, connector: c, trace: trace ?? '', observation });
    };
    visit('connector', null, c.state, c.workerId, c.trace);
    // Same rule as seenSubjects: task entries are trusted only under a RUNNING or FAILED connector.
    if (c.state !== 'RUNNING' && c.state !== 'FAILED') continue;
    for (const t of c.tasks) visit('task', t.id, t.state, t.workerId, t.trace);
  }
  const current = (e: Evaluated): SubjectState => subjects[e.key] ?? e.observation.subject;
  const setSubject = (e: Evaluated, s: SubjectState) => {
    subjects[e.key] = compact(s);
  };
  const failed = evaluated.filter((e) => e.observation.classification !== undefined);
  const classOf = (e: Evaluated): Classification => e.observation.classification as Classification;

  // 3. Cluster outage: many connectors newly failing with connection in the same poll → one incident.
  const outageKey = incidentKey(cluster, '*', null, 'cluster-outage');
  const newlyDown = new Map<string, Evaluated>();
  for (const e of failed) {
    if (!e.observation.newlyFailed || classOf(e).class !== 'connection') continue;
    if (!owns(current(e).workerId) || inMaintenance(e.ref.connector) || newlyDown.has(e.ref.connector)) continue;
    newlyDown.set(e.ref.connector, e);
  }
  if (incidents[outageKey] === undefined && newlyDown.size >= config.clusterOutageThreshold) {
    const names = [...newlyDown.keys()];
    const first = [...newlyDown.values()][0] as Evaluated;
    const listed = names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '');
    const incident = openIncident(
      'cluster-outage',
      { cluster, connector: '*', task: null, attempts: 0, workerId: '' },
      { reason: `${names.length} connectors failed with connection errors in the same poll (${listed})`, rootCause: classOf(first).rootCause, hint: HINTS.clusterOutage, trace: first.trace },
      now,
      now,
    );
    incidents[outageKey] = incident;
    actions.push({ kind: 'escalate', incident });
  }
  const outageOpen = incidents[outageKey] !== undefined;

  // 4. Per subject: escalations, and what each FAILED subject's restart waits for.
  const candidates: RestartCandidate[] = [];
  const skipOnce = (e: Evaluated, cls: FailureClass, reason: SkipReason, nextAt?: number) => {
    const s = current(e);
    if (s.lastSkip === reason) return;
    setSubject(e, { ...s, lastSkip: reason });
    actions.push({ kind: 'skip', subject: e.ref, target: e.target, class: cls, reason, ...(nextAt !== undefined && { nextAt }) });
  };

  for (const e of evaluated) {
    const s = current(e);
    const owned = owns(s.workerId);
    const maintenance = inMaintenance(e.ref.connector);

    // Nobody owns an UNASSIGNED subject, so every watchdog may page it (the incident key dedups).
    const unassigned = unassignedEscalation(s, config, now);
    if (unassigned !== undefined) escalateOrTouch('unassigned', s, { reason: unassigned, rootCause: '', hint: HINTS.unassigned, trace: '' }, !maintenance, s.unassignedSince ?? now);
    if (e.target === 'task') {
      const moves = rebalancingEscalation(s, config, now);
      if (moves !== undefined) escalateOrTouch('rebalancing', s, { reason: moves, rootCause: '', hint: HINTS.rebalancing, trace: '' }, owned && !maintenance, s.moves[0] ?? now);
    }

    const classification = e.observation.classification;
    if (classification === undefined) continue;
    const cls = classification.class;
    const action = config.actions[cls];
    const endpoint = cls === 'connection' && e.connector.endpoint !== undefined ? endpointKey(e.connector.endpoint) : undefined;

    // Escalation is judged on restarts already made (and confirmed by applyOutcome), before this poll's.
    const reason = failureEscalation(s, cls, action, config, now, endpoint);
    const suppressed = cls === 'connection' && outageOpen; // the cluster-wide incident speaks for them
    escalateOrTouch(cls, s, reason === undefined ? undefined : detailsOf(classification, e.trace, reason), owned && !maintenance && !suppressed, s.failedSince ?? now);

    // Tasks of a FAILED connector are restarted with it (step 5), never on their own.
    if (e.target === 'task' && e.connector.state === 'FAILED') continue;
    if (!owned) skipOnce(e, cls, 'not-owner');
    else if (maintenance) skipOnce(e, cls, 'maintenance');
    else if (action === 'escalate') skipOnce(e, cls, 'escalate-only');
    else {
      const accepting = endpoint === undefined ? undefined : input.probes.get(endpoint);
      const after = current(e);
      if (accepting === false) {
        setSubject(e, { ...after, dependencyDownSince: after.dependencyDownSince ?? now });
        skipOnce(e, cls, 'dependency-down');
        continue;
      }
      // The endpoint accepts again after refusing: restart now, whatever the backoff says.
      const dependencyBack = accepting === true && after.dependencyDownSince !== undefined;
      const dueAt = restartDueAt(after, config.firstRestartDelay, now);
      if (dueAt > now && !dependencyBack) skipOnce(e, cls, 'backoff', dueAt);
      else candidates.push({ e, dueAt: dependencyBack ? Math.min(dueAt, after.dependencyDownSince ?? now) : dueAt });
    }
  }

  // 5. Restarts under the cluster's budget, longest-waiting first, so that those held back go next.
  let budget = refill(input.state.budgets[cluster], config.budget.perMinute, now);
  candidates.sort((a, b) => a.dueAt - b.dueAt || (a.e.key < b.e.key ? -1 : a.e.key > b.e.key ? 1 : 0));
  const commit = (e: Evaluated): number => {
    const s = current(e);
    const attempt = s.attempts + 1;
    setSubject(e, {
      ...s,
      attempts: attempt,
      restartTimes: [...s.restartTimes, now],
      nextRestartAt: now + backoffWait(attempt, config, input.random),
      lastRestartAt: now,
      lastSkip: undefined,
      dependencyDownSince: undefined,
    });
    return attempt;
  };
  for (const { e } of candidates) {
    const cls = classOf(e).class;
    const after = take(budget);
    if (after === undefined) {
      skipOnce(e, cls, 'budget');
      continue;
    }
    budget = after;
    if (e.target === 'task' && e.ref.task !== null) {
      actions.push({ kind: 'restart-task', cluster, connector: e.ref.connector, task: e.ref.task, class: cls, attempt: commit(e) });
      continue;
    }
    // A FAILED connector: restart it with those of its FAILED tasks whose class allows a restart.
    const failedTasks = failed.filter((t) => t.target === 'task' && t.ref.connector === e.ref.connector);
    const restartable = failedTasks.filter((t) => config.actions[classOf(t).class] !== 'escalate');
    const attempt = commit(e);
    for (const t of restartable) commit(t);
    actions.push({
      kind: 'restart-connector',
      cluster,
      connector: e.ref.connector,
      failedTasks: restartable.map((t) => t.ref.task as number),
      includeTasks: restartable.length === failedTasks.length,
      connectorFailed: true,
      class: cls,
      attempt,
    });
  }

  // 6. Resolve what is over.
  // Only a cluster-wide incident needs it: a scan of every subject, done once and only then.
  let streak: boolean | undefined;
  const inConnectionStreak = (): boolean => {
    if (streak === undefined) {
      streak = false;
      for (const key in subjects) {
        const s = subjects[key] as SubjectState;
        if (s.cluster === cluster && s.class === 'connection' && (s.failedSince !== undefined || s.recoveredAt !== undefined)) {
          streak = true;
          break;
        }
      }
    }
    return streak;
  };
  for (const inc of Object.values(incidents)) {
    if (inc.cluster !== cluster) continue;
    if (inc.connector === '*') {
      if (inc.class === 'cluster-outage' && !inConnectionStreak() && !inMaintenance('*')) resolve(inc, 'outage-over');
      else if (inConnectionStreak()) incidents[inc.key] = touchIncident(inc, now, inc.attempts, inc.workerId);
      continue;
    }
    const s = subjects[subjectKey(inc)];
    if (s === undefined || inMaintenance(inc.connector)) continue;
    const over = isOver(inc.class, s, config, now);
    if (over !== undefined) resolve(inc, over);
  }

  return {
    actions,
    state: {
      subjects,
      incidents,
      budgets: { ...input.state.budgets, [cluster]: budget },
    },
  };
}

function isOver(cls: IncidentClass, s: SubjectState, config: HealConfig, now: number): ResolveReason | undefined {
  if (isFailureClass(cls)) return s.state === 'RUNNING' && s.class === undefined ? 'recovered' : undefined;
  switch (cls) {
    case 'unassigned':
      return s.state !== 'UNASSIGNED' ? 'assigned' : undefined;
    case 'rebalancing':
      return settled(s, config.stablePeriod, now) ? 'settled' : undefined;
    case 'cluster-outage':
      return undefined; // cluster-wide, handled by the caller
  }
}

export interface ProbeFilter {
  readonly config: HealConfig;
  readonly now: number;
  readonly owns?: (workerId: string) => boolean;
  readonly inMaintenance?: (connector: string) => boolean;
}

/**
 * The endpoints to probe before decide(): those of connection-class FAILED subjects that decide() would
 * restart. Without `filter`, every such subject's endpoint (a superset: probing more only informs more);
 * with it, only subjects owned, outside maintenance, whose class restarts, and whose restart is due or
 * held back by a refusing endpoint.
 */
export function endpointsToProbe(state: HealState, snapshot: ClusterSnapshot, classify: Classifier, filter?: ProbeFilter): Endpoint[] {
  const out = new Map<string, Endpoint>();
  for (const seen of seenSubjects(snapshot)) {
    const endpoint = seen.connector.endpoint;
    if (seen.state !== 'FAILED' || endpoint === undefined || out.has(endpointKey(endpoint))) continue;
    if (seen.target === 'task' && seen.connector.state === 'FAILED') continue; // restarted with the connector
    if (classify(seen.trace).class !== 'connection') continue;
    if (filter !== undefined) {
      const { config, now } = filter;
      if (config.actions.connection === 'escalate') continue;
      if (filter.owns !== undefined && !filter.owns(seen.workerId)) continue;
      if (filter.inMaintenance?.(seen.ref.connector) === true) continue;
      const prev = state.subjects[subjectKey(seen.ref)];
      const streak = prev?.failedSince !== undefined ? prev : { attempts: prev?.attempts ?? 0, nextRestartAt: prev?.nextRestartAt, failedSince: now };
      const deferred = prev?.failedSince !== undefined && prev.dependencyDownSince !== undefined;
      if (!deferred && restartDueAt(compact(streak), config.firstRestartDelay, now) > now) continue;
    }
    out.set(endpointKey(endpoint), endpoint);
  }
  return [...out.values()];
}

/** A cluster removed from the configuration: its memory goes, its open incidents are resolved. */
export function forgetCluster(state: HealState, cluster: string, now: number): Decision {
  const keep = <T extends { cluster: string }>(r: Readonly<Record<string, T>>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v.cluster !== cluster));
  const actions: Action[] = Object.values(state.incidents)
    .filter((i) => i.cluster === cluster)
    .map((incident): Action => ({ kind: 'resolve', incident: { ...incident, lastSeen: now, resolvedAt: now }, resolution: 'cluster-removed' }));
  return {
    actions,
    state: {
      subjects: keep(state.subjects),
      incidents: keep(state.incidents),
      budgets: Object.fromEntries(Object.entries(state.budgets).filter(([k]) => k !== cluster)),
    },
  };
}
