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
 * State holds only subjects with something to remember (failing, recovering, UNASSIGNED, moved, …): a
 * subject RUNNING with nothing to remember (isQuiet) is left out once the snapshot lists its worker, and
 * `previous` (the snapshot of the last decide()) stands in for its last worker. So the per-poll work on
 * state is O(remembered subjects), not O(all subjects).
 *
 * docs/heal.md has the table of "state seen → action".
 */
import type { Classification, Classifier, FailureClass } from '../classify/types.js';
import type { HealConfig } from '../config/types.js';
import type { ClusterSnapshot, ConnectorSnapshot, Endpoint, State, TaskStatus } from '../connect/types.js';
import { incidentKey, type Incident, type IncidentClass } from '../escalate/types.js';
import { backoffWait, restartDueAt } from './backoff.js';
import { refill, take } from './budget.js';
import { HINTS, detailsOf, isConditionPage, openIncident, touchIncident, type IncidentDetails } from './incidents.js';
import { compact, freshSubject, heldRestartDueAt, isQuiet, observe, type Observation, type Seen } from './observe.js';
import { endRefusals } from './outcome.js';
import { failureEscalation, NO_STATUS, noStatusEscalation, noTasksEscalation, rebalancingEscalation, restartingEscalation, settled, unassignedEscalation } from './rules.js';
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
  /**
   * The snapshot given to the previous decide() of this cluster; undefined on the first poll after a start, which then records without counting
   * moves of quiet subjects. State keeps no quiet subject that this snapshot lists with its worker: a
   * subject absent from state and listed here (under a RUNNING or FAILED connector) was quiet on the
   * worker listed here, so a different worker now is a move. A snapshot of another cluster is ignored.
   */
  readonly previous?: ClusterSnapshot;
  /**
   * The worker said at its last health read (GET /health, heal.health) that it is not healthy: every restart
   * is withheld (skip `worker-unhealthy`). Such a worker holds a restart until it is back (the request times
   * out meanwhile), then runs all those held at once; Connect starts its tasks again by itself anyway.
   */
  readonly workerUnhealthy?: boolean;
}

export interface Decision {
  readonly actions: readonly Action[];
  readonly state: HealState;
}

// Endpoints come from the client's info cache, the same objects poll after poll: their key is built once
// (and a string used again keeps its hash, so the probe map lookups do not hash it again).
const endpointKeys = new WeakMap<Endpoint, string>();

export function endpointKey(e: Endpoint): string {
  let key = endpointKeys.get(e);
  if (key === undefined) {
    key = `${e.host}:${e.port}`;
    endpointKeys.set(e, key);
  }
  return key;
}

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
  /** The endpoint that accepts again after refusing, when that is why the restart is due. */
  readonly back?: string;
}

const isFailureClass = (c: IncidentClass): c is FailureClass =>
  c === 'connection' || c === 'serialization' || c === 'config' || c === 'unknown';

/** Task entries are trusted only under a RUNNING or FAILED connector (see step 2 of decide). */
const tasksTrusted = (c: ConnectorSnapshot): boolean => c.state === 'RUNNING' || c.state === 'FAILED';

/**
 * A subject absent from state, seen RUNNING on the worker `previous` listed for it (`was`), or with
 * nothing listed before: quiet, and quiet still. Nothing to observe or decide.
 */
/** RUNNING on a listed worker: a connector or task with nothing to observe unless remembered or moved. */
const onAWorker = (s: { readonly state: State; readonly workerId: string }): boolean => s.state === 'RUNNING' && s.workerId !== '';

const quietStill = (state: State, workerId: string, was: string | undefined): boolean =>
  state === 'RUNNING' && workerId !== '' && (was === undefined || was === '' || was === workerId);

/** Task `id` of `c`, looked up at index `i` first (Connect lists tasks by id). */
function taskOf(c: ConnectorSnapshot, id: number, i: number): TaskStatus | undefined {
  const t = c.tasks[i];
  return t !== undefined && t.id === id ? t : c.tasks.find((x) => x.id === id);
}

/**
 * A RUNNING connector listing no task: Connect lists none between a connector's start and its first task
 * configs (after a create, a resume from STOPPED, a delete and create under the same name), for as long as
 * its taskConfigs() takes. Its remembered tasks are taken for gone only once it has listed none for
 * heal.unassignedAfter (see step 1 of decide).
 */
const listsNoTask = (c: ConnectorSnapshot): boolean => c.state === 'RUNNING' && c.tasks.length === 0;

/**
 * Under a RUNNING connector listing tasks, the task ids from which a task not listed is gone: Connect
 * numbers tasks 0..n-1, so one beyond the last listed was reconfigured away (its status is deleted,
 * KAFKA-9472), as is one beyond a lowered tasks.max. Infinity under any other state, and under a connector
 * listing no task (listsNoTask): its task entries are not to be trusted.
 */
function goneFrom(c: ConnectorSnapshot): number {
  if (c.state !== 'RUNNING' || c.tasks.length === 0) return Infinity;
  let last = -1;
  for (const t of c.tasks) if (t.id > last) last = t.id;
  return Math.min(last + 1, c.tasksMax ?? Infinity);
}

/** What decide() and endpointsToProbe() look up in a list of connectors, computed once per list. */
interface ConnectorIndex {
  readonly byName: ReadonlyMap<string, ConnectorSnapshot>;
  /** Connectors with a subject not RUNNING, or RUNNING on no listed worker: all others are quiet through and through. */
  readonly notable: ReadonlySet<ConnectorSnapshot>;
  /** The same, in listing order. */
  readonly notableInOrder: readonly ConnectorSnapshot[];
  /** Connectors that are FAILED or have a FAILED task, in listing order. */
  readonly failing: readonly ConnectorSnapshot[];
  /** Some connector is RUNNING with no task listed (listsNoTask): quiet, but watched when heal.noTasksAfter > 0. */
  readonly anyTaskless: boolean;
}

// Snapshots are never mutated, and the client hands back the same connectors array while the worker's
// listing does not change: the index of a steady cluster is computed once, not every poll.
const indexes = new WeakMap<readonly ConnectorSnapshot[], ConnectorIndex>();

/** The connectors of a listing by name, built once per listing (shared with stall.ts). */
export function connectorsByName(connectors: readonly ConnectorSnapshot[]): ReadonlyMap<string, ConnectorSnapshot> {
  return indexOf(connectors).byName;
}

function indexOf(connectors: readonly ConnectorSnapshot[]): ConnectorIndex {
  let index = indexes.get(connectors);
  if (index !== undefined) return index;
  const byName = new Map<string, ConnectorSnapshot>();
  const notable = new Set<ConnectorSnapshot>();
  const notableInOrder: ConnectorSnapshot[] = [];
  const failing: ConnectorSnapshot[] = [];
  let anyTaskless = false;
  for (const c of connectors) {
    byName.set(c.name, c);
    if (listsNoTask(c)) anyTaskless = true;
    let quiet = onAWorker(c);
    let failed = c.state === 'FAILED';
    for (const t of c.tasks) {
      if (!onAWorker(t)) quiet = false;
      if (t.state === 'FAILED') failed = true;
    }
    if (!quiet) {
      notable.add(c);
      notableInOrder.push(c);
    }
    if (failed) failing.push(c);
  }
  index = { byName, notable, notableInOrder, failing, anyTaskless };
  indexes.set(connectors, index);
  return index;
}

/** A notable connector as decide() sees it while the listing does not change. */
interface SteadyConnector {
  /** classify(trace) of the connector, when FAILED. */
  readonly classification?: Classification;
  /** Its tasks not RUNNING or RUNNING on no listed worker, in listing order, with classify(trace) when FAILED. */
  readonly tasks: readonly { readonly task: TaskStatus; readonly classification?: Classification }[];
}

/**
 * `compute` memoized per list of connectors, for the classifier it was last asked with. Like the index: the
 * client hands back the same array while the listing does not change, so a steady cluster's polls
 * classify nothing.
 */
function perListing<T>(compute: (connectors: readonly ConnectorSnapshot[], classify: Classifier) => T): (connectors: readonly ConnectorSnapshot[], classify: Classifier) => T {
  const cache = new WeakMap<readonly ConnectorSnapshot[], { readonly classify: Classifier; readonly value: T }>();
  return (connectors, classify) => {
    const cached = cache.get(connectors);
    if (cached !== undefined && cached.classify === classify) return cached.value;
    const value = compute(connectors, classify);
    cache.set(connectors, { classify, value });
    return value;
  };
}

const steadyViewOf = perListing((connectors, classify): ReadonlyMap<ConnectorSnapshot, SteadyConnector> => {
  const classified = (state: State, trace: string | undefined) => (state === 'FAILED' ? { classification: classify(trace ?? '') } : {});
  const view = new Map<ConnectorSnapshot, SteadyConnector>();
  for (const c of indexOf(connectors).notableInOrder) {
    const tasks = c.tasks.filter((t) => !onAWorker(t)).map((task) => ({ task, ...classified(task.state, task.trace) }));
    view.set(c, { ...classified(c.state, c.trace), tasks });
  }
  return view;
});

/**
 * A connector of the listing the last decide() saw: the tasks decide() would see are its notable ones (a
 * task RUNNING where it was, and not remembered, is quiet still), unless a remembered task is RUNNING on a
 * worker (recovering, say): then undefined, and every task is looked at.
 */
function steadyTasks(steady: SteadyConnector, c: ConnectorSnapshot, known: ReadonlyMap<number | null, string> | undefined): SteadyConnector['tasks'] | undefined {
  if (known !== undefined) {
    for (const id of known.keys()) {
      const t = id === null ? undefined : taskOf(c, id, id);
      if (t !== undefined && onAWorker(t)) return undefined;
    }
  }
  return steady.tasks;
}

export function decide(input: DecideInput): Decision {
  const { snapshot, config, now, owns, inMaintenance } = input;
  const cluster = snapshot.cluster;
  // Incidents are few, but resolving deletes: a Map, not a copied object (insertion order is the same).
  const incidents = new Map<string, Incident>();
  for (const key in input.state.incidents) incidents.set(key, input.state.incidents[key] as Incident);
  const actions: Action[] = [];
  const index = indexOf(snapshot.connectors);
  const present = index.byName;
  const samePrevious = input.previous !== undefined && input.previous.cluster === cluster ? input.previous : undefined;
  const previous = samePrevious === undefined ? undefined : indexOf(samePrevious.connectors).byName;
  // The very listing the last decide() saw: a connector quiet through and through was quiet then too.
  const unchanged = samePrevious?.connectors === snapshot.connectors;
  // A RUNNING connector listing no task is quiet unless heal.noTasksAfter watches it: then it is remembered
  // (noTasksSince) for as long as it lists none.
  const watchNoTasks = config.noTasksAfter > 0;
  const watchedTaskless = (c: ConnectorSnapshot): boolean => watchNoTasks && listsNoTask(c);

  const resolve = (incident: Incident, resolution: ResolveReason) => {
    incidents.delete(incident.key);
    actions.push({ kind: 'resolve', incident: { ...incident, lastSeen: now, resolvedAt: now }, resolution });
  };
  /** Incident key → the key of its subject, for the incidents of subjects evaluated this poll (step 6 looks them up). */
  const subjectOfIncident = new Map<string, string>();
  // replacing: the open incident of the key is a condition page that this failure page replaces (an update).
  const escalateOrTouch = (cls: IncidentClass, s: SubjectState, subject: string, details: IncidentDetails | undefined, allowed: boolean, firstSeen: number, replacing = false) => {
    const key = incidentKey(s.cluster, s.connector, s.task, cls);
    const open = incidents.get(key);
    if (open !== undefined && !replacing) incidents.set(key, touchIncident(open, now, s.attempts, s.workerId));
    else if (details !== undefined && allowed) {
      const incident = openIncident(cls, s, details, firstSeen, now);
      incidents.set(key, incident);
      actions.push(replacing ? { kind: 'escalate', incident, update: true } : { kind: 'escalate', incident });
    } else return;
    subjectOfIncident.set(key, subject);
  };

  // 1. Forget what was deleted: a connector missing from a successful listing, a task of a RUNNING one
  // that the listing no longer shows beyond its last listed task or a lowered tasks.max, or that a RUNNING
  // connector listing no task has left unlisted for heal.unassignedAfter (listsNoTask). A task the
  // listing still shows is there, whatever tasks.max says (Connect before 3.8 does not enforce it,
  // KIP-1004): forgotten here, it would be seen as new below and paged again at every poll.
  // State holds remembered subjects only (a few hundred where thousands run): copied into a Map, which
  // the steps below update and the result is built from.
  // A connector listed with a status the watchdog cannot read is not gone: what is remembered of it (and
  // its open incidents) is kept as it is until it reads again; nothing is decided about it meanwhile.
  const unreadable = snapshot.unreadable === undefined ? undefined : new Set(snapshot.unreadable.map((u) => u.name));
  const gone = (connector: string, task: number | null): boolean => {
    const c = present.get(connector);
    if (c === undefined) return unreadable?.has(connector) !== true;
    return task !== null && task >= goneFrom(c) && taskOf(c, task, task) === undefined;
  };
  /** A task of a connector that lists no task (listsNoTask): gone once that has lasted heal.unassignedAfter. */
  const unlisted = (connector: string, task: number | null): boolean => {
    const c = task === null ? undefined : present.get(connector);
    return c !== undefined && listsNoTask(c);
  };
  const unlistedTooLong = (since: number): boolean => now - since >= config.unassignedAfter;
  const subjects = new Map<string, SubjectState>();
  /**
   * Per connector of this cluster, its subjects in state (task id, null for the connector) and their keys
   * in state: only those need a lookup, under a key that need not be built again.
   */
  const remembered = new Map<string, Map<number | null, string>>();
  for (const key in input.state.subjects) {
    let s = input.state.subjects[key] as SubjectState;
    if (s.cluster === cluster) {
      if (gone(s.connector, s.task)) continue;
      if (unlisted(s.connector, s.task)) {
        // A clock stepped back brings since-when back to now, as observe() does for the others.
        if (s.unlistedSince === undefined || s.unlistedSince > now) s = { ...s, unlistedSince: now };
        else if (unlistedTooLong(s.unlistedSince)) continue;
      }
      const tasks = remembered.get(s.connector);
      if (tasks === undefined) remembered.set(s.connector, new Map<number | null, string>().set(s.task, key));
      else tasks.set(s.task, key);
    }
    subjects.set(key, s);
  }
  // Deleting from a Map while iterating it is well defined (what is deleted is not visited): no copy.
  for (const inc of incidents.values()) {
    if (inc.cluster !== cluster || inc.connector === '*' || inMaintenance(inc.connector)) continue;
    // Unlisted: its subject, forgotten above (or never remembered), was last seen when the incident was.
    const unlistedGone = unlisted(inc.connector, inc.task) && (inc.lastSeen > now || unlistedTooLong(inc.lastSeen)) && !subjects.has(subjectKey(inc));
    if (unlistedGone || gone(inc.connector, inc.task)) resolve(inc, 'deleted');
  }

  // 2. Observe every subject seen.
  // A quiet subject (RUNNING, nothing remembered: isQuiet) is not kept in state once this snapshot lists
  // its worker: the next poll reads that worker from `previous`. So a subject absent from state is either
  // new or was quiet on the worker `previous` lists for it (`was`): RUNNING there again is nothing to
  // observe or decide, and is skipped without allocation, since at 10k tasks nearly every subject is one.
  const evaluated: Evaluated[] = [];
  const quietOn = (ref: SubjectRef, workerId: string): SubjectState => freshSubject(ref, { state: 'RUNNING', workerId });
  /** Observes one subject (stateKey: its key in state, when remembered); the callers have skipped those `quietStill` without state. */
  const see = (
    c: ConnectorSnapshot,
    stateKey: string | undefined,
    target: RestartTarget,
    task: number | null,
    state: State,
    workerId: string,
    trace: string | undefined,
    was: string | undefined,
    classification?: Classification,
  ): void => {
    const inState = stateKey !== undefined;
    const key = stateKey ?? `${cluster}/${c.name}/${task ?? 'connector'}`;
    const ref: SubjectRef = { cluster, connector: c.name, task };
    const prev = inState ? subjects.get(key) : was !== undefined && was !== '' ? quietOn(ref, was) : undefined;
    const noTasks = task === null && watchedTaskless(c);
    if (prev !== undefined && state === 'RUNNING' && !noTasks && (workerId === '' || workerId === prev.workerId) && isQuiet(prev)) {
      // Still quiet on its worker: this snapshot carries it, unless it lists no worker.
      if (workerId === '') subjects.set(key, prev);
      else if (inState) subjects.delete(key);
      return;
    }
    const seen: Seen = { state, workerId, trace: trace ?? '', ...(classification !== undefined && { classification }), ...(noTasks && { noTasks }) };
    const observation = observe(prev, ref, seen, input.classify, config, now);
    if (workerId !== '' && isQuiet(observation.subject)) {
      if (inState) subjects.delete(key); // quiet (again): nothing to observe or decide, carried by this snapshot
      return;
    }
    subjects.set(key, observation.subject);
    evaluated.push({ key, ref, target, connector: c, trace: trace ?? '', observation });
  };
  // Quiet tasks that `previous` lists but this poll does not see (their connector is no longer RUNNING
  // or FAILED, or the task is no longer listed) go back into state: no later snapshot carries them.
  const keep = (c: ConnectorSnapshot, before: ConnectorSnapshot, seen: ReadonlySet<number> | undefined, from: number) => {
    for (const t of before.tasks) {
      if (t.workerId === '' || t.id >= from || seen?.has(t.id) === true) continue;
      const key = `${cluster}/${c.name}/${t.id}`;
      if (!subjects.has(key)) subjects.set(key, quietOn({ cluster, connector: c.name, task: t.id }, t.workerId));
    }
  };
  // The connectors to look at, in listing order. With the listing the last decide() saw, a connector with
  // nothing remembered whose subjects all run on a worker was quiet then and is now: it would yield nothing,
  // so only the notable and the remembered ones are visited (in a steady cluster, the notable ones).
  // A RUNNING connector listing no task is not notable either, and is visited when heal.noTasksAfter watches it.
  const visit = (): readonly ConnectorSnapshot[] => {
    if (!unchanged) return snapshot.connectors;
    const also = (x: ConnectorSnapshot) => index.notable.has(x) || remembered.has(x.name) || watchedTaskless(x);
    if (watchNoTasks && index.anyTaskless) return snapshot.connectors.filter(also);
    for (const name of remembered.keys()) {
      const c = present.get(name);
      if (c !== undefined && !index.notable.has(c)) return snapshot.connectors.filter(also);
    }
    return index.notableInOrder;
  };
  const steadyView = unchanged ? steadyViewOf(snapshot.connectors, input.classify) : undefined;
  for (const c of visit()) {
    const known = remembered.get(c.name);
    const before = previous?.get(c.name);
    const steady = before === c ? steadyView?.get(c) : undefined;
    const connectorKey = known?.get(null);
    if (connectorKey !== undefined || !quietStill(c.state, c.workerId, before?.workerId) || watchedTaskless(c)) see(c, connectorKey, 'connector', null, c.state, c.workerId, c.trace, before?.workerId, steady?.classification);
    const beforeTrusted = before !== undefined && tasksTrusted(before);
    // Same rule as the table in docs/heal.md: task entries are trusted only under a RUNNING or FAILED
    // connector (under UNASSIGNED or RESTARTING they are stale, under PAUSED/STOPPED nothing is ours).
    if (!tasksTrusted(c)) {
      if (beforeTrusted) keep(c, before, undefined, Infinity);
      continue;
    }
    const steadyList = steady === undefined ? undefined : steadyTasks(steady, c, known);
    if (steadyList !== undefined) {
      // The very statuses the last decide() saw: every task is where it was (its `was` is its own worker).
      for (const { task: t, classification } of steadyList) {
        see(c, known?.get(t.id), 'task', t.id, t.state, t.workerId, t.trace, t.workerId, classification);
      }
      continue;
    }
    // The loop every task goes through: kept to reads and comparisons.
    let matched = 0;
    const tasks = c.tasks;
    const beforeTasks = beforeTrusted ? before.tasks : undefined;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i] as TaskStatus;
      let was: string | undefined;
      if (beforeTasks !== undefined) {
        let b = beforeTasks[i];
        if (b === undefined || b.id !== t.id) b = beforeTasks.find((x) => x.id === t.id);
        if (b !== undefined) {
          matched += 1;
          was = b.workerId;
        }
      }
      const stateKey = known?.get(t.id);
      if (stateKey !== undefined || !quietStill(t.state, t.workerId, was)) see(c, stateKey, 'task', t.id, t.state, t.workerId, t.trace, was);
    }
    // Quiet tasks that this poll no longer lists are gone, not kept, where step 1 forgets them.
    if (beforeTrusted && matched !== before.tasks.length) keep(c, before, new Set(c.tasks.map((t) => t.id)), goneFrom(c));
  }
  const current = (e: Evaluated): SubjectState => subjects.get(e.key) ?? e.observation.subject;
  const setSubject = (e: Evaluated, s: SubjectState) => {
    subjects.set(e.key, compact(s));
  };
  const failed = evaluated.filter((e) => e.observation.classification !== undefined);
  const classOf = (e: Evaluated): Classification => e.observation.classification as Classification;

  // 2b. Resolve the failure pages that are over (the other incidents in step 6).
  // A subject seen this poll and absent from state is quiet (RUNNING, nothing remembered). So is one of a
  // listed connector that this poll does not show (a task under a paused connector, or not listed): state
  // keeps every subject with something to remember, so it was quiet when last seen. Its incident outlived
  // it only because a maintenance window held the resolve back; a restart loses the previous snapshot that
  // would have kept it in state, and it would stay open until the connector runs its tasks again.
  const quietIfSeen = (inc: Incident): SubjectState | undefined => {
    const c = present.get(inc.connector);
    if (c === undefined) return undefined;
    if (inc.task === null) return quietOn(inc, c.workerId);
    const t = tasksTrusted(c) ? taskOf(c, inc.task, inc.task) : undefined;
    return quietOn(inc, t?.workerId ?? inc.workerId);
  };
  const resolveIfOver = (inc: Incident): void => {
    // An unreadable connector's incidents stay as they were until it reads again (docs/heal.md), also one whose
    // subject state remembers as over (its resolve held back by a maintenance window then).
    if (unreadable?.has(inc.connector) === true) return;
    const s = subjects.get(subjectOfIncident.get(inc.key) ?? subjectKey(inc)) ?? quietIfSeen(inc);
    if (s === undefined || inMaintenance(inc.connector)) return;
    const over = isOver(inc.class, s, config, now);
    if (over !== undefined) resolve(inc, over);
  };
  // Before any page is decided: a page that resolves at this poll speaks for no sibling (spokenFor below), so a
  // sibling due to page with its class pages at this poll, not the next. Over is RUNNING with the failure
  // forgotten, which this poll's observation settles: steps 4 and 5 change only FAILED subjects (and subjects
  // of unreadable connectors), whose pages are not over.
  for (const inc of incidents.values()) {
    if (inc.cluster === cluster && inc.connector !== '*' && isFailureClass(inc.class)) resolveIfOver(inc);
  }

  // 3. Cluster outage: many connectors newly failing with connection in the same poll → one incident.
  const outageKey = incidentKey(cluster, '*', null, 'cluster-outage');
  // Ours or not: in sidecar mode nobody owns the cluster, so each sidecar declares the same incident and its
  // key dedups at the pager (as for unassigned). Counting only ours, an outage spread over N workers needed
  // N times the threshold, and paged once per connector instead. But at a first poll "newly" is "first seen":
  // another worker's failures may be hours old and paged by its sidecar (a pod rescheduled with empty state).
  const newlyDown = new Map<string, Evaluated>();
  for (const e of failed) {
    if (!e.observation.newlyFailed || classOf(e).class !== 'connection') continue;
    if ((samePrevious === undefined && !owns(current(e).workerId)) || inMaintenance(e.ref.connector) || newlyDown.has(e.ref.connector)) continue;
    newlyDown.set(e.ref.connector, e);
  }
  const declareOutage = (down: ReadonlyMap<string, Evaluated>, why: string) => {
    const names = [...down.keys()];
    const first = [...down.values()][0] as Evaluated;
    const listed = names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '');
    const incident = openIncident(
      'cluster-outage',
      { cluster, connector: '*', task: null, attempts: 0, workerId: '' },
      { reason: `${names.length} connectors ${why} (${listed})`, rootCause: classOf(first).rootCause, hint: HINTS.clusterOutage, trace: first.trace },
      now,
      now,
    );
    incidents.set(outageKey, incident);
    actions.push({ kind: 'escalate', incident });
  };
  if (!incidents.has(outageKey) && newlyDown.size >= config.clusterOutageThreshold) {
    // With no snapshot before this one (the watchdog just started), "newly" means "first seen": they may
    // have failed at different times. Still one incident (not a page per connector), but it says so.
    declareOutage(
      newlyDown,
      samePrevious === undefined ? "are failing with connection errors at the watchdog's first poll of this cluster" : 'failed with connection errors in the same poll',
    );
  }
  let outageOpen = incidents.has(outageKey);
  // An outage whose connectors fail a few a poll (each notices the database in its own time), or that began
  // inside a maintenance window, is never newly failing all at once: it is declared when the first of their
  // own connection pages is due, if enough of them are failing then (restarts have had their chance).
  // Counted once per poll, when the first such page is due: the subjects failing do not change meanwhile.
  // A connector that has paged for connection on its own already is no part of it: failures paged one by one
  // over hours are no outage, and counted, they declared one that then silenced every later connection page.
  // A condition page counts as paged here (pagedFor), though it speaks for no sibling's failure: a subject paged
  // for RESTARTING too long after a connection failure put that connector on the pager on its own, as one page.
  let down: Map<string, Evaluated> | undefined;
  const outageNowDue = (): boolean => {
    if (down !== undefined) return false; // counted already: declared then, or too few
    down = new Map();
    for (const e of failed) {
      if (classOf(e).class !== 'connection' || down.has(e.ref.connector) || pagedFor(e.ref.connector, 'connection')) continue;
      // Only ours in sidecar mode: another sidecar's connector may have paged on its own, which this one cannot tell.
      if (owns(current(e).workerId) && !inMaintenance(e.ref.connector)) down.set(e.ref.connector, e);
    }
    if (down.size < config.clusterOutageThreshold) return false;
    declareOutage(down, 'are failing with connection errors that restarts have not healed');
    outageOpen = true;
    return true;
  };
  // One page per connector and failure class: while one of its subjects has a failure page of a class open, it
  // speaks for the others failing with that class (a sink of 32 tasks losing its database is one page, not 32),
  // and for their condition pages. A condition page (RESTARTING too long, no status: isConditionPage) tells of its
  // own subject only: it speaks for a sibling's condition page of its class (a second task RESTARTING need not page
  // again), never for a sibling's failure, which went unpaged while the open page said task 0 was RESTARTING.
  // Built from the open incidents (`connector NUL class`) only when a subject would page: those over at this poll
  // are resolved already, and speak for no one.
  let speaking: { readonly failure: Set<string>; readonly condition: Set<string> } | undefined;
  const speakingNow = (): { readonly failure: Set<string>; readonly condition: Set<string> } => {
    if (speaking === undefined) {
      speaking = { failure: new Set(), condition: new Set() };
      for (const inc of incidents.values()) if (inc.cluster === cluster && isFailureClass(inc.class)) speaking[isConditionPage(inc) ? 'condition' : 'failure'].add(`${inc.connector}\u0000${inc.class}`);
    }
    return speaking;
  };
  /** A failure page of the connector and class is open: no other failure of that class pages. */
  const spokenFor = (connector: string, cls: FailureClass): boolean => speakingNow().failure.has(`${connector}\u0000${cls}`);
  /** Any page of the connector and class is open, a condition page too: no condition page of that class pages. */
  const pagedFor = (connector: string, cls: FailureClass): boolean => spokenFor(connector, cls) || speakingNow().condition.has(`${connector}\u0000${cls}`);
  /** The page open under `key` (if any) speaks from now on, as what it is. */
  const speaks = (key: string): void => {
    const inc = incidents.get(key);
    if (inc !== undefined && speaking !== undefined) speaking[isConditionPage(inc) ? 'condition' : 'failure'].add(`${inc.connector}\u0000${inc.class}`);
  };

  // A condition page of a subject that then fails with another class (a no-status page is unknown; a blocked start()
  // that ends in "Connection refused" is connection) is not replaced: that failure pages under its own key. Once a
  // failure page of that class speaks for the subject (its own, sent at this poll or before, or its connector's of
  // that class: one page per connector and class), the condition page is resolved, or the pager kept it beside the
  // failure page, still saying "no status" or "RESTARTING", until the subject had run for heal.stablePeriod. Not while
  // nothing speaks for the failure: its page not yet due (restarts under way), not sent here (another sidecar's
  // subject, inside a maintenance window), or a cluster outage's (which need not name this connector).
  /** Subject key → the keys of its open condition pages; built on first use, from the incidents open then. */
  let conditionPages: Map<string, string[]> | undefined;
  const supersede = (subject: string, connector: string, cls: FailureClass): void => {
    if (conditionPages === undefined) {
      conditionPages = new Map();
      for (const inc of incidents.values()) {
        if (inc.cluster !== cluster || inc.connector === '*' || !isFailureClass(inc.class) || !isConditionPage(inc)) continue;
        const k = subjectKey(inc);
        conditionPages.set(k, [...(conditionPages.get(k) ?? []), inc.key]);
      }
    }
    const keys = conditionPages.get(subject);
    if (keys === undefined || !spokenFor(connector, cls)) return;
    for (const key of keys) {
      const inc = incidents.get(key);
      if (inc === undefined || inc.class === cls || !isConditionPage(inc)) continue;
      resolve(inc, 'superseded-by-failure');
      speaking = undefined; // built again without it: a sibling's condition page of that class may page now
    }
  };

  // Connectors Connect has no status for (created, their start() not returned): nothing to decide but a page
  // after heal.unassignedAfter, as unknown. Nobody owns one (no worker is listed), so every watchdog may page
  // it (the incident key dedups). Once it reads, it is observed as any connector (and its page resolved).
  for (const u of snapshot.unreadable ?? []) {
    if (u.noStatus !== true) continue;
    const key = `${cluster}/${u.name}/connector`;
    const prev = subjects.get(key);
    const s: SubjectState =
      prev?.state === NO_STATUS && prev.noStatusSince !== undefined
        ? prev.noStatusSince > now
          ? { ...prev, noStatusSince: now }
          : prev
        : { cluster, connector: u.name, task: null, workerId: '', attempts: 0, restartTimes: [], moves: [], ...prev, state: NO_STATUS, noStatusSince: now };
    subjects.set(key, s);
    const reason = noStatusEscalation(s, config, now);
    if (reason !== undefined) escalateOrTouch('unknown', s, key, { reason, rootCause: '', hint: HINTS.noStatus, trace: '' }, !inMaintenance(u.name), s.noStatusSince ?? now);
  }

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
    if (unassigned !== undefined) escalateOrTouch('unassigned', s, e.key, { reason: unassigned, rootCause: '', hint: HINTS.unassigned, trace: '' }, !maintenance, s.unassignedSince ?? now);
    // A restart that never finishes is one a restart did not fix: paged under the class it failed with (unknown
    // when it was not failing: a person's restart), with the failure's firstSeen.
    const stuck = restartingEscalation(s, config, now);
    if (stuck !== undefined) {
      const cls = s.class ?? 'unknown';
      escalateOrTouch(cls, s, e.key, { reason: stuck, rootCause: '', hint: HINTS.restarting, trace: '' }, owned && !maintenance && !pagedFor(s.connector, cls), s.failedSince ?? s.restartingSince ?? now);
      speaks(incidentKey(s.cluster, s.connector, s.task, cls));
    }
    // Its worker's to page, as a failure would be: in the classic case (a follower that cannot forward the task
    // configs to the leader) the connector runs on that follower, whose sidecar then pages it.
    if (e.target === 'connector') {
      const idle = noTasksEscalation(s, config, now);
      if (idle !== undefined) escalateOrTouch('no-tasks', s, e.key, { reason: idle, rootCause: '', hint: HINTS.noTasks, trace: '' }, owned && !maintenance, s.noTasksSince ?? now);
    }
    if (e.target === 'task') {
      const moves = rebalancingEscalation(s, config, now);
      if (moves !== undefined) escalateOrTouch('rebalancing', s, e.key, { reason: moves.reason, rootCause: '', hint: HINTS.rebalancing, trace: '' }, owned && !maintenance, moves.since);
    }

    const classification = e.observation.classification;
    if (classification === undefined) continue;
    const cls = classification.class;
    const action = config.actions[cls];
    const endpoint = cls === 'connection' && e.connector.endpoint !== undefined ? endpointKey(e.connector.endpoint) : undefined;

    // Escalation is judged on restarts already made (and confirmed by applyOutcome), before this poll's.
    const accepting = endpoint === undefined ? undefined : input.probes.get(endpoint);
    const reason = failureEscalation(s, cls, action, config, now, endpoint === undefined ? undefined : { endpoint, refusing: accepting === false });
    const ownKey = incidentKey(s.cluster, s.connector, s.task, cls);
    // A page for a condition under this failure's key (no status, RESTARTING too long): due, the failure page
    // replaces it (a trigger under the same dedup key: one page, now with the failure's reason, hint and trace);
    // touched, the pager went on saying "no status" or "RESTARTING" with no trace for good.
    const open = incidents.get(ownKey);
    const replaced = open !== undefined && isConditionPage(open) ? open : undefined;
    if (reason !== undefined && (open === undefined || replaced !== undefined)) {
      // a wider incident speaks for them
      // (spoken for first: a subject whose connector has a failure page of this class open is no page due, and
      // starts no outage count; a sibling's condition page speaks for no failure)
      // (the condition page it replaces speaks for it, and is no wider incident)
      const suppressed = replaced === undefined && (spokenFor(s.connector, cls) || (cls === 'connection' && (outageOpen || (owned && !maintenance && outageNowDue()))));
      // The page speaks for its siblings: say how many, so that task 0 of a 32-task sink does not read as alone.
      const siblings = suppressed ? [] : failed.filter((t) => t !== e && t.ref.connector === e.ref.connector && classOf(t).class === cls);
      const tasks = siblings.filter((t) => t.target === 'task').length;
      const also = [...(siblings.some((t) => t.target === 'connector') ? ['the connector itself'] : []), ...(tasks > 0 ? [`${tasks} other task${tasks === 1 ? '' : 's'} of this connector`] : [])];
      const why = also.length === 0 ? reason : `${reason}; also failing the same way: ${also.join(' and ')}`;
      if (replaced === undefined) escalateOrTouch(cls, s, e.key, detailsOf(classification, e.trace, why), owned && !maintenance && !suppressed, s.failedSince ?? now);
      else if (maintenance) escalateOrTouch(cls, s, e.key, undefined, false, s.failedSince ?? now); // updated after the window
      // Whoever owns it: every watchdog holding the page open replaces its copy (a no-status page is paged by all
      // of them, nobody owning it; a RESTARTING page by the owner then), so that all of them say the same
      // (Alertmanager re-sends it). firstSeen is the failure's; the event id is an update's (announce.ts), since a
      // RESTARTING page within the failure's streak has that firstSeen too, and the outbox would drop it as sent.
      else escalateOrTouch(cls, s, e.key, detailsOf(classification, e.trace, `${why}; it was paged before: ${replaced.reason}`), true, s.failedSince ?? now, true);
      speaks(ownKey);
    } else escalateOrTouch(cls, s, e.key, undefined, false, s.failedSince ?? now);
    if (!maintenance) supersede(e.key, s.connector, cls);

    // Tasks of a FAILED connector are restarted with it (step 5), never on their own.
    if (e.target === 'task' && e.connector.state === 'FAILED') continue;
    // A restart withheld is no restart refused: a run of refusals ends, or it would page a rebalance long over.
    const withhold = () => {
      const held = current(e);
      const ended = endRefusals(held);
      if (ended !== held) setSubject(e, ended);
    };
    if (!owned) {
      withhold();
      skipOnce(e, cls, 'not-owner');
    } else if (maintenance) {
      withhold();
      skipOnce(e, cls, 'maintenance');
    } else if (action === 'escalate') skipOnce(e, cls, 'escalate-only');
    else if (input.workerUnhealthy === true) {
      withhold();
      skipOnce(e, cls, 'worker-unhealthy');
    } else {
      const after = current(e);
      if (accepting === false) {
        setSubject(e, { ...endRefusals(after), dependencyDownSince: after.dependencyDownSince ?? now });
        skipOnce(e, cls, 'dependency-down');
        continue;
      }
      // The endpoint accepts again after refusing: restart now, whatever the backoff says.
      const dependencyBack = accepting === true && after.dependencyDownSince !== undefined;
      const dueAt = restartDueAt(after, config.firstRestartDelay, now, config.backoff.max);
      if (dueAt > now && !dependencyBack) skipOnce(e, cls, 'backoff', dueAt);
      else if (dependencyBack) candidates.push({ e, dueAt: Math.min(dueAt, after.dependencyDownSince ?? now), ...(endpoint !== undefined && { back: endpoint }) });
      else candidates.push({ e, dueAt });
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
  // The first restart per endpoint that has just come back is not charged to the budget: the probe says
  // it will likely work, so after a partition every database gets its connector back at once, while
  // connectors sharing one endpoint are still paced (one free restart per endpoint per poll).
  const freeFor = new Set<string>();
  for (const { e, back } of candidates) {
    const cls = classOf(e).class;
    const free = back !== undefined && !freeFor.has(back);
    const after = free ? budget : take(budget);
    if (after === undefined) {
      skipOnce(e, cls, 'budget');
      continue;
    }
    if (free) freeFor.add(back);
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

  // 6. Resolve what is over (the failure pages were judged in step 2b).
  // Only a cluster-wide incident needs it: a scan of the remembered subjects, done once and only then.
  // A subject under a PAUSED or STOPPED connector is never observed again until it is resumed: the streak
  // it froze in is not this outage's (it held a cluster-outage open for good).
  const parked = (s: SubjectState): boolean => {
    const state = present.get(s.connector)?.state;
    return state === 'PAUSED' || state === 'STOPPED';
  };
  let streak: boolean | undefined;
  const inConnectionStreak = (): boolean => {
    if (streak === undefined) {
      streak = false;
      for (const s of subjects.values()) {
        // UNASSIGNED keeps the class but not failedSince: a rolling restart of the workers mid-outage is not its end.
        const inEpisode = s.failedSince !== undefined || s.recoveredAt !== undefined || s.unassignedSince !== undefined;
        if (s.cluster === cluster && s.class === 'connection' && inEpisode && !parked(s)) {
          streak = true;
          break;
        }
      }
    }
    return streak;
  };
  for (const inc of incidents.values()) {
    if (inc.cluster !== cluster) continue;
    if (inc.connector === '*') {
      // The other cluster-wide incident, worker-unhealthy, is judgeHealth's (health.ts).
      if (inc.class !== 'cluster-outage') continue;
      if (!inConnectionStreak() && !inMaintenance('*')) resolve(inc, 'outage-over');
      else if (inConnectionStreak()) incidents.set(inc.key, touchIncident(inc, now, inc.attempts, inc.workerId));
      continue;
    }
    if (!isFailureClass(inc.class)) resolveIfOver(inc);
  }

  return {
    actions,
    // What decide() does not own (the offsets of judgeStalls, the health of judgeHealth) passes through.
    state: {
      ...input.state,
      subjects: Object.fromEntries(subjects),
      incidents: Object.fromEntries(incidents),
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
    case 'stalled':
      return undefined; // judged on offsets, by judgeStalls (stall.ts)
    case 'worker-unhealthy':
      return undefined; // cluster-wide, judged on GET /health by judgeHealth (health.ts)
    case 'no-tasks':
      // Turned off, nothing would ever resolve it. A restart in flight (RESTARTING) or a rebalance (UNASSIGNED) keeps the count (observe.ts).
      if (config.noTasksAfter <= 0) return 'unwatched';
      if (s.noTasksSince !== undefined) return undefined;
      return s.state === 'RUNNING' ? 'has-tasks' : 'not-running';
  }
}

export interface ProbeFilter {
  readonly config: HealConfig;
  readonly now: number;
  readonly owns?: (workerId: string) => boolean;
  readonly inMaintenance?: (connector: string) => boolean;
}

/** A FAILED subject that decide() would restart, failing with connection, under a connector with an endpoint. */
interface ConnectionFailure {
  readonly connector: ConnectorSnapshot;
  readonly task: number | null;
  readonly workerId: string;
  readonly endpoint: Endpoint;
  readonly key: string;
}

// Per listing: a steady cluster's polls classify nothing and build no endpoint key to find what to probe.
const connectionFailuresOf = perListing((connectors, classify): readonly ConnectionFailure[] => {
  const failures: ConnectionFailure[] = [];
  const add = (c: ConnectorSnapshot, endpoint: Endpoint, task: number | null, workerId: string, trace: string | undefined) => {
    if (classify(trace ?? '').class === 'connection') failures.push({ connector: c, task, workerId, endpoint, key: endpointKey(endpoint) });
  };
  for (const c of indexOf(connectors).failing) {
    const endpoint = c.endpoint;
    if (endpoint === undefined) continue;
    // The subjects decide() would restart: a FAILED connector (its FAILED tasks go with it), or the
    // FAILED tasks of a RUNNING one (task entries are trusted only under a RUNNING or FAILED connector).
    if (c.state === 'FAILED') add(c, endpoint, null, c.workerId, c.trace);
    else if (c.state === 'RUNNING') for (const t of c.tasks) if (t.state === 'FAILED') add(c, endpoint, t.id, t.workerId, t.trace);
  }
  return failures;
});

/**
 * The endpoints to probe before decide(): those of connection-class FAILED subjects that decide() would
 * restart. Without `filter`, every such subject's endpoint (a superset: probing more only informs more);
 * with it, only subjects owned, outside maintenance, whose class restarts, and whose restart is due or
 * held back by a refusing endpoint.
 */
export function endpointsToProbe(state: HealState, snapshot: ClusterSnapshot, classify: Classifier, filter?: ProbeFilter): Endpoint[] {
  const out = new Map<string, Endpoint>();
  const wanted = (f: ConnectionFailure): boolean => {
    if (filter === undefined) return true;
    const { config, now } = filter;
    if (config.actions.connection === 'escalate') return false;
    if (filter.owns !== undefined && !filter.owns(f.workerId)) return false;
    if (filter.inMaintenance?.(f.connector.name) === true) return false;
    // A subject absent from state is new or was quiet: the same to the backoff.
    const prev = state.subjects[subjectKey({ cluster: snapshot.cluster, connector: f.connector.name, task: f.task })];
    const attempts = prev?.attempts ?? 0;
    const streak = prev?.failedSince !== undefined ? prev : { attempts, nextRestartAt: heldRestartDueAt(prev, config, now) ?? (attempts > 0 ? prev?.nextRestartAt : undefined), failedSince: now };
    const deferred = prev?.failedSince !== undefined && prev.dependencyDownSince !== undefined;
    return deferred || restartDueAt(streak, config.firstRestartDelay, now, config.backoff.max) <= now;
  };
  for (const f of connectionFailuresOf(snapshot.connectors, classify)) {
    if (!out.has(f.key) && wanted(f)) out.set(f.key, f.endpoint);
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
      ...(state.offsets !== undefined && { offsets: keep(state.offsets) }),
      ...(state.health !== undefined && { health: keep(state.health) }),
    },
  };
}
