/**
 * Property-based tests of decide(): random timelines of a small cluster (connectors and tasks changing
 * state, failing with real traces, appearing, deleted and re-created, moving between workers, read
 * unreadable or without a status), dependency probes, maintenance windows, an unhealthy worker, sidecar
 * ownership, config drawn within the schema's bounds, and the policy's own restarts fed back (the subject
 * reads RESTARTING, then RUNNING or FAILED again). Each invariant is stated from docs/heal.md.
 *
 * Fixed seed, so `npm test` is repeatable; PROPS_SEED and PROPS_RUNS explore further. On failure fast-check
 * prints the seed, the path and the shrunk timeline.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../src/classify/index.js';
import type { FailureClass } from '../../src/classify/types.js';
import { HEAL_ACTIONS } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/types.js';
import type { ClusterSnapshot, ConnectorSnapshot, Endpoint, State, TaskStatus, UnreadableConnector } from '../../src/connect/types.js';
import { incidentKey, type Incident } from '../../src/escalate/types.js';
import { backoffWait } from '../../src/heal/backoff.js';
import { isQuiet } from '../../src/heal/observe.js';
import { applyOutcome, decide, endpointKey } from '../../src/heal/policy.js';
import { type Action, type HealState, type RestartResult } from '../../src/heal/types.js';
import { StateEncoder } from '../../src/state/serialize.js';
import { parseState, STATE_VERSION } from '../../src/state/store.js';
import { seeded } from '../../bench/lib/stats.js';
import { DEFAULTS, MINUTE, SECOND, T0 } from './helpers.js';

const SEED = Number(process.env['PROPS_SEED'] ?? 20261206);
const RUNS = Number(process.env['PROPS_RUNS'] ?? 400);
const CLUSTER = 'prod';
const WORKERS = ['127.0.0.1:8083', '127.0.0.1:8084', '127.0.0.1:8085'] as const;
const STATES: readonly State[] = ['RUNNING', 'FAILED', 'UNASSIGNED', 'PAUSED', 'STOPPED', 'RESTARTING'];
const ENDPOINTS: readonly (Endpoint | undefined)[] = [{ host: 'db.internal', port: 5432 }, { host: 'db.internal', port: 5432 }, { host: 'mysql.internal', port: 3306 }, undefined];

// ---------------------------------------------------------------------------------------------------------
// Traces: the real ones of the fixtures, a few of each class as the real classifier reads them.

const classify = createClassifier();
const TRACE_POOL: readonly { readonly trace: string; readonly cls: FailureClass }[] = (() => {
  const dirs = [join(import.meta.dirname, '../fixtures/traces')];
  const traces: string[] = [];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line.trim() !== '') traces.push((JSON.parse(line) as { trace: string }).trace);
    }
  }
  const perClass = new Map<FailureClass, string[]>();
  for (const t of traces) {
    const cls = classify(t).class;
    const list = perClass.get(cls) ?? [];
    if (list.length < 3) perClass.set(cls, [...list, t]);
  }
  // A FAILED status with no trace at all reads as unknown.
  return [...[...perClass].flatMap(([cls, ts]) => ts.map((trace) => ({ trace, cls }))), { trace: '', cls: classify('').class }];
})();

// ---------------------------------------------------------------------------------------------------------
// The world: what Connect would list.

interface WTask {
  id: number;
  state: State;
  worker: string;
  trace?: string;
}
interface WConnector {
  name: string;
  state: State;
  worker: string;
  trace?: string;
  tasks: WTask[];
  endpoint?: Endpoint;
}

type Mut =
  | { readonly kind: 'connector'; readonly c: number; readonly state: State; readonly trace: number }
  | { readonly kind: 'task'; readonly c: number; readonly t: number; readonly state: State; readonly trace: number }
  | { readonly kind: 'add-task'; readonly c: number }
  | { readonly kind: 'drop-task'; readonly c: number }
  | { readonly kind: 'delete'; readonly c: number }
  | { readonly kind: 'create'; readonly c: number; readonly tasks: number }
  | { readonly kind: 'move'; readonly c: number; readonly t: number; readonly worker: number };

interface Step {
  readonly dt: number;
  readonly muts: readonly Mut[];
  /** The daemon restarts (state through the state file) before this poll. */
  readonly restart: boolean;
  /** 0 none, 1 a window over everything (and the cluster), 2 a window over connector c1 only. */
  readonly maintenance: 0 | 1 | 2;
  /** Per endpoint index: undefined not probed, true accepts, false refuses. */
  readonly probes: readonly (boolean | undefined)[];
  readonly unhealthy: boolean;
  /** Connector index read unreadable (1) or without a status (2) at this poll. */
  readonly unreadable: readonly (0 | 1 | 2)[];
  /** What each restart emitted at the previous poll led to: RUNNING, FAILED again, or RESTARTING still. */
  readonly feedback: readonly ('RUNNING' | 'FAILED' | 'RESTARTING')[];
  /** What the executor reports for each restart of this poll, in order. */
  readonly outcomes: readonly RestartResult[];
}

const mutArb = (connectors: number): fc.Arbitrary<Mut> => {
  const c = fc.nat({ max: connectors - 1 });
  const state = fc.constantFrom(...STATES);
  const trace = fc.nat({ max: TRACE_POOL.length - 1 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('connector' as const), c, state, trace }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('task' as const), c, t: fc.nat({ max: 3 }), state, trace }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add-task' as const), c }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop-task' as const), c }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), c }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), c, tasks: fc.nat({ max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), c, t: fc.integer({ min: -1, max: 3 }), worker: fc.nat({ max: WORKERS.length - 1 }) }) },
  );
};

const stepArb = (connectors: number): fc.Arbitrary<Step> =>
  fc.record({
    dt: fc.constantFrom(5 * SECOND, 10 * SECOND, 10 * SECOND, 30 * SECOND, MINUTE, 4 * MINUTE, 12 * MINUTE),
    muts: fc.array(mutArb(connectors), { maxLength: 3 }),
    restart: fc.constantFrom(false, false, false, false, false, false, false, true),
    maintenance: fc.constantFrom(0, 0, 0, 0, 0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
    probes: fc.array(fc.constantFrom(undefined, undefined, true, false), { minLength: ENDPOINTS.length, maxLength: ENDPOINTS.length }),
    unhealthy: fc.constantFrom(false, false, false, false, false, false, true),
    unreadable: fc.array(fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2) as fc.Arbitrary<0 | 1 | 2>, { minLength: connectors, maxLength: connectors }),
    feedback: fc.array(fc.constantFrom('RUNNING', 'RUNNING', 'FAILED', 'RESTARTING') as fc.Arbitrary<'RUNNING' | 'FAILED' | 'RESTARTING'>, { maxLength: 4 }),
    outcomes: fc.array(fc.constantFrom('ok', 'ok', 'ok', 'rebalance', 'failed', 'not-found') as fc.Arbitrary<RestartResult>, { maxLength: 4 }),
  });

/** A HealConfig within the schema's bounds (and load.ts's: backoff.max not below backoff.initial). */
const configArb: fc.Arbitrary<HealConfig> = fc
  .record({
    connection: fc.constantFrom(...HEAL_ACTIONS),
    unknown: fc.constantFrom(...HEAL_ACTIONS),
    serialization: fc.constantFrom(...HEAL_ACTIONS),
    config: fc.constantFrom(...HEAL_ACTIONS),
    firstRestartDelay: fc.constantFrom(0, 0, 30 * SECOND),
    initial: fc.constantFrom(SECOND, 10 * SECOND, MINUTE),
    factor: fc.constantFrom(1, 1.5, 2, 3),
    maxOver: fc.constantFrom(1, 10, 60),
    jitter: fc.constantFrom(0, 0.2, 1),
    heldAfter: fc.constantFrom(0, MINUTE),
    maxAttempts: fc.constantFrom(0, 0, 2, 5),
    stablePeriod: fc.constantFrom(MINUTE, 10 * MINUTE),
    restarts: fc.constantFrom(1, 3),
    window: fc.constantFrom(5 * MINUTE, 30 * MINUTE),
    unassignedAfter: fc.constantFrom(MINUTE, 10 * MINUTE),
    noTasksAfter: fc.constantFrom(0, 0, 2 * MINUTE),
    maxMoves: fc.constantFrom(1, 5),
    rebalanceWindow: fc.constantFrom(5 * MINUTE, 30 * MINUTE),
    perMinute: fc.constantFrom(0.5, 2, 10),
    outage: fc.constantFrom(1, 2, 5),
  })
  .map(
    (r): HealConfig => ({
      ...DEFAULTS,
      actions: { connection: r.connection, unknown: r.unknown, serialization: r.serialization, config: r.config },
      firstRestartDelay: r.firstRestartDelay,
      backoff: { initial: r.initial, factor: r.factor, max: r.initial * r.maxOver, jitter: r.jitter, heldAfter: r.heldAfter },
      maxAttempts: r.maxAttempts,
      stablePeriod: r.stablePeriod,
      escalateAfter: { restarts: r.restarts, window: r.window },
      unassignedAfter: r.unassignedAfter,
      noTasksAfter: r.noTasksAfter,
      rebalance: { maxMoves: r.maxMoves, window: r.rebalanceWindow },
      budget: { perMinute: r.perMinute },
      clusterOutageThreshold: r.outage,
    }),
  );

interface Scenario {
  readonly config: HealConfig;
  /** Sidecar mode: the watchdog of WORKERS[0] only. */
  readonly sidecar: boolean;
  readonly initial: readonly { readonly state: State; readonly tasks: number }[];
  readonly steps: readonly Step[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    config: configArb,
    sidecar: fc.constantFrom(false, false, true),
    initial: fc.array(fc.record({ state: fc.constantFrom<State>('RUNNING', 'RUNNING', 'FAILED'), tasks: fc.nat({ max: 3 }) }), { minLength: n, maxLength: n }),
    steps: fc.array(stepArb(n), { minLength: 1, maxLength: 60, size: 'max' }),
  }),
);

// ---------------------------------------------------------------------------------------------------------
// Running a scenario: the world, the watchdog(s), the checks.

const traceOf = (i: number): string => (TRACE_POOL[i % TRACE_POOL.length] as { trace: string }).trace;
const withTrace = (state: State, trace: number, old: string | undefined): string | undefined => (state === 'FAILED' ? traceOf(trace) : state === 'RESTARTING' ? old : undefined);

function newConnector(i: number, state: State, tasks: number, trace = i): WConnector {
  return {
    name: `c${i}`,
    state,
    worker: WORKERS[i % WORKERS.length] as string,
    ...(state === 'FAILED' && { trace: traceOf(trace) }),
    tasks: Array.from({ length: tasks }, (_, id) => ({ id, state: 'RUNNING' as State, worker: WORKERS[(i + id) % WORKERS.length] as string })),
    ...(ENDPOINTS[i] !== undefined && { endpoint: ENDPOINTS[i] }),
  };
}

function applyMut(world: (WConnector | undefined)[], m: Mut): void {
  const c = world[m.c];
  switch (m.kind) {
    case 'create':
      if (c === undefined) world[m.c] = newConnector(m.c, 'RUNNING', m.tasks);
      return;
    case 'delete':
      world[m.c] = undefined;
      return;
  }
  if (c === undefined) return;
  switch (m.kind) {
    case 'connector': {
      const trace = withTrace(m.state, m.trace, c.trace);
      world[m.c] = { ...c, state: m.state, ...(trace !== undefined ? { trace } : { trace: undefined }) };
      return;
    }
    case 'task': {
      const t = c.tasks.find((x) => x.id === m.t);
      if (t === undefined) return;
      const trace = withTrace(m.state, m.trace, t.trace);
      c.tasks = c.tasks.map((x) => (x === t ? { id: t.id, state: m.state, worker: t.worker, ...(trace !== undefined && { trace }) } : x));
      return;
    }
    case 'add-task':
      c.tasks = [...c.tasks, { id: c.tasks.length, state: 'RUNNING', worker: WORKERS[c.tasks.length % WORKERS.length] as string }];
      return;
    case 'drop-task':
      c.tasks = c.tasks.slice(0, -1);
      return;
    case 'move': {
      const worker = WORKERS[m.worker] as string;
      if (m.t < 0) world[m.c] = { ...c, worker };
      else c.tasks = c.tasks.map((x) => (x.id === m.t ? { ...x, worker } : x));
    }
  }
}

function listing(world: readonly (WConnector | undefined)[], at: number, unreadable: readonly (0 | 1 | 2)[]): ClusterSnapshot {
  const connectors: ConnectorSnapshot[] = [];
  const bad: UnreadableConnector[] = [];
  world.forEach((c, i) => {
    if (c === undefined) return;
    const u = unreadable[i] ?? 0;
    if (u === 1) bad.push({ name: c.name, problem: `connectors["${c.name}"].status.connector.state: unknown state "DRAINING"` });
    else if (u === 2) bad.push({ name: c.name, problem: 'no status', noStatus: true });
    else {
      connectors.push({
        name: c.name,
        type: 'source',
        state: c.state,
        workerId: c.worker,
        ...(c.trace !== undefined && { trace: c.trace }),
        tasks: c.tasks.map((t): TaskStatus => ({ id: t.id, state: t.state, workerId: t.worker, ...(t.trace !== undefined && { trace: t.trace }) })),
        ...(c.endpoint !== undefined && { endpoint: c.endpoint }),
      });
    }
  });
  return { cluster: CLUSTER, at, connectors, ...(bad.length > 0 && { unreadable: bad }) };
}

/** The state file a daemon writes and a restarted one reads (quiet subjects left out, as Daemon's merge does). */
function throughStateFile(state: HealState): HealState {
  const subjects = Object.fromEntries(Object.entries(state.subjects).filter(([, s]) => !isQuiet(s)));
  const bytes = Buffer.concat(new StateEncoder().encode({ version: STATE_VERSION, savedAt: new Date(0).toISOString(), heal: { ...state, subjects }, outbox: [] }));
  return parseState(bytes.toString('utf8')).heal;
}

/** A watchdog: state, the previous snapshot it keeps in memory, and the pager's view of what it opened. */
/** Another cluster's memory, which no decide() of this cluster may touch. */
const OTHER: HealState = (() => {
  const incident: Incident = {
    key: incidentKey('other', 'x', 0, 'config'), cluster: 'other', connector: 'x', task: 0, class: 'config', severity: 'error', reason: 'r', rootCause: 'c', hint: 'h',
    attempts: 0, firstSeen: T0 - MINUTE, lastSeen: T0 - MINUTE, workerId: WORKERS[0], traceExcerpt: '',
  };
  const subject = { cluster: 'other', connector: 'x', task: 0, state: 'FAILED', workerId: WORKERS[0], class: 'config' as const, failedSince: T0 - MINUTE, attempts: 0, restartTimes: [], moves: [] };
  return { subjects: { 'other/x/0': subject }, incidents: { [incident.key]: incident }, budgets: { other: { tokens: 1, updatedAt: T0 - MINUTE } } };
})();
const ofOther = (s: HealState) => JSON.stringify([
  Object.entries(s.subjects).filter(([, v]) => v.cluster === 'other'),
  Object.entries(s.incidents).filter(([, v]) => v.cluster === 'other'),
  s.budgets['other'],
]);

class Watchdog {
  state: HealState = OTHER;
  previous: ClusterSnapshot | undefined;
  restart(): void {
    this.state = throughStateFile(this.state);
    this.previous = undefined;
  }
}

interface PollRecord {
  readonly at: number;
  readonly snapshot: ClusterSnapshot;
  readonly actions: readonly Action[];
  readonly results: readonly (RestartResult | undefined)[];
  readonly probes: ReadonlyMap<string, boolean>;
}

interface Run {
  readonly polls: PollRecord[];
  readonly violations: string[];
  readonly final: HealState;
}

const pending = (a: Action): { c: string; task: number | null; tasks: readonly number[] } | undefined =>
  a.kind === 'restart-task' ? { c: a.connector, task: a.task, tasks: [] } : a.kind === 'restart-connector' ? { c: a.connector, task: null, tasks: a.failedTasks } : undefined;

/**
 * Plays the scenario (then `settle`: every connector left RUNNING with its tasks RUNNING, one task at least,
 * for `settleFor`), with daemon restarts where the steps say (`restarts`), checking the per-poll invariants.
 */
function play(s: Scenario, opts: { restarts: boolean; settleFor: number }): Run {
  const { config } = s;
  const world: (WConnector | undefined)[] = s.initial.map((c, i) => newConnector(i, c.state, c.tasks));
  const wd = new Watchdog();
  const polls: PollRecord[] = [];
  const violations: string[] = [];
  const open = new Set<string>();
  const owns = (w: string): boolean => !s.sidecar || w === WORKERS[0];
  let restarting: { c: string; task: number | null; tasks: readonly number[] }[] = [];
  let tokens = config.budget.perMinute;
  let lastAt: number | undefined;
  let now = T0;
  const settle: Step = { dt: 30 * SECOND, muts: [], restart: false, maintenance: 0, probes: [], unhealthy: false, unreadable: [], feedback: [], outcomes: [] };
  const steps: { step: Step; settling: boolean }[] = [...s.steps.map((step) => ({ step, settling: false })), ...Array.from({ length: Math.ceil(opts.settleFor / settle.dt) }, () => ({ step: settle, settling: true }))];
  let settledOnce = false;
  /** Per subject, the reason of its last skip in this FAILED streak since its last restart. */
  const lastSkip = new Map<string, string>();
  /** Per subject, the times of its restarts that stood since its counters last reset, and since when it runs. */
  const stood = new Map<string, number[]>();
  const runningSince = new Map<string, number>();

  for (const [n, { step, settling }] of steps.entries()) {
    const at = (what: string) => `poll ${n} (t+${(now - T0) / SECOND} s${settling ? ', settling' : ''}): ${what}`;
    // The restarts of the last poll: the subject reads RESTARTING, then RUNNING, FAILED again or RESTARTING still.
    const next: typeof restarting = [];
    restarting.forEach((r, i) => {
      const c = world.find((x) => x?.name === r.c);
      if (c === undefined) return;
      const fate = settling ? 'RUNNING' : (step.feedback[i] ?? 'RUNNING');
      if (fate === 'RESTARTING') {
        next.push(r);
        return;
      }
      // FAILED again with the trace it failed with (a RESTARTING status keeps it).
      const land = (trace: string | undefined) => ({ state: fate as State, ...(fate === 'FAILED' && { trace: trace ?? traceOf(0) }) });
      if (r.task === null) {
        if (c.state === 'RESTARTING') Object.assign(c, { trace: undefined }, land(c.trace));
        c.tasks = c.tasks.map((t) => (r.tasks.includes(t.id) && t.state === 'RESTARTING' ? { id: t.id, worker: t.worker, ...land(t.trace) } : t));
      } else c.tasks = c.tasks.map((t) => (t.id === r.task && t.state === 'RESTARTING' ? { id: t.id, worker: t.worker, ...land(t.trace) } : t));
    });
    restarting = next;
    for (const m of step.muts) applyMut(world, m);
    if (settling && !settledOnce) {
      settledOnce = true;
      restarting = [];
      for (const [i, c] of world.entries()) {
        if (c === undefined) continue;
        world[i] = { ...c, state: 'RUNNING', trace: undefined, tasks: (c.tasks.length === 0 ? [{ id: 0, state: 'RUNNING' as State, worker: c.worker }] : c.tasks).map((t) => ({ id: t.id, state: 'RUNNING' as State, worker: t.worker })) };
      }
    }
    if (opts.restarts && step.restart) wd.restart();

    const snapshot = listing(world, now, step.unreadable);
    const probes = new Map<string, boolean>();
    step.probes.forEach((p, i) => {
      const e = ENDPOINTS[i];
      if (p !== undefined && e !== undefined && !probes.has(endpointKey(e))) probes.set(endpointKey(e), p);
    });
    const inMaintenance = (name: string): boolean => step.maintenance === 1 || (step.maintenance === 2 && name === 'c1');
    const random = seeded(SEED ^ (n * 7919));
    let actions: readonly Action[];
    const before = wd.state;
    try {
      const d = decide({ state: wd.state, snapshot, config, classify, now, random, probes, inMaintenance, owns, ...(wd.previous !== undefined && { previous: wd.previous }), workerUnhealthy: step.unhealthy });
      actions = d.actions;
      wd.state = d.state;
    } catch (err) {
      violations.push(at(`decide threw ${(err as Error).stack ?? String(err)}`));
      return { polls, violations, final: wd.state };
    }
    wd.previous = snapshot;
    if (ofOther(wd.state) !== ofOther(OTHER)) violations.push(at('another cluster\'s memory changed'));

    // Per-poll invariants, from docs/heal.md.
    const byName = new Map(snapshot.connectors.map((c) => [c.name, c]));
    const actionOf = (cls: FailureClass) => config.actions[cls];
    /**
     * A failure page of the connector and class is open after this poll, or a cluster outage speaks for a connection
     * failure. A page no failure opened (RESTARTING too long, no status: no root cause) tells of its own subject and
     * speaks for no sibling's failure; the subject's own such page is replaced by its failure page once due.
     */
    const pagedFor = (connector: string, cls: FailureClass): boolean =>
      [...open].some((k) => k.startsWith(`${CLUSTER}/${connector}/`) && k.endsWith(`/${cls}`) && wd.state.incidents[k]?.rootCause !== '') ||
      (cls === 'connection' && open.has(incidentKey(CLUSTER, '*', null, 'cluster-outage')));
    let restarts = 0;
    for (const a of actions) {
      if (a.kind === 'restart-task' || a.kind === 'restart-connector') {
        restarts += 1;
        const c = byName.get(a.connector);
        if (c === undefined) {
          violations.push(at(`restarts ${a.connector}, which is not listed with a status`));
          continue;
        }
        // "PAUSED, STOPPED: nothing, ever"; a restart is only for a FAILED subject (table "State seen → action").
        const subject = a.kind === 'restart-task' ? c.tasks.find((t) => t.id === a.task) : c;
        if (a.kind === 'restart-task' && c.state !== 'RUNNING') violations.push(at(`restart-task ${a.connector}/${a.task} under a ${c.state} connector`));
        if (subject === undefined || subject.state !== 'FAILED') violations.push(at(`${a.kind} ${a.connector}/${a.kind === 'restart-task' ? a.task : 'connector'} which reads ${subject?.state ?? 'absent'}`));
        if (subject !== undefined && subject.state === 'FAILED') {
          const cls = classify(subject.trace ?? '').class;
          // serialization and config (or any class configured escalate): never restarted.
          if (actionOf(cls) === 'escalate') violations.push(at(`restarts ${a.connector}/${a.kind === 'restart-task' ? a.task : 'connector'} whose failure is ${cls}, configured escalate`));
          if (!owns(subject.workerId)) violations.push(at(`restarts ${a.connector} on ${subject.workerId}, another worker's (sidecar)`));
          if (cls === 'connection' && c.endpoint !== undefined && probes.get(endpointKey(c.endpoint)) === false) violations.push(at(`restarts ${a.connector} while its endpoint refuses`));
        }
        if (a.kind === 'restart-connector') {
          const failedTasks = c.tasks.filter((t) => t.state === 'FAILED');
          const restartable = failedTasks.filter((t) => actionOf(classify(t.trace ?? '').class) !== 'escalate').map((t) => t.id);
          if (JSON.stringify([...a.failedTasks].sort()) !== JSON.stringify(restartable.sort())) violations.push(at(`restart-connector ${a.connector} with tasks ${a.failedTasks} where ${restartable} are FAILED and restartable`));
          if (a.includeTasks !== (restartable.length === failedTasks.length)) violations.push(at(`restart-connector ${a.connector} includeTasks ${a.includeTasks}`));
        }
        if (inMaintenance(a.connector)) violations.push(at(`restarts ${a.connector} inside a maintenance window`));
        if (step.unhealthy) violations.push(at(`restarts ${a.connector} while the worker says it is not healthy`));
      }
      if (a.kind === 'escalate' || a.kind === 'resolve') {
        const inc = a.incident;
        // "Inside a window: no restart, no escalate and no resolve."
        if (inc.cluster === CLUSTER && inMaintenance(inc.connector)) violations.push(at(`${a.kind} ${inc.key} inside a maintenance window`));
        // One open incident per key; a resolve closes one that is open.
        if (a.kind === 'escalate') {
          // An update replaces the open page of its key, one no failure opened (no status, RESTARTING too long:
          // no root cause), with its failure's page, which has one; any other escalate opens a page not open.
          if (a.update === true) {
            const replaced = before.incidents[inc.key];
            if (!open.has(inc.key) || replaced === undefined) violations.push(at(`updates ${inc.key}, not open`));
            else if (replaced.rootCause !== '' || inc.rootCause === '') violations.push(at(`updates ${inc.key}: ${JSON.stringify(replaced.rootCause)} replaced by ${JSON.stringify(inc.rootCause)}`));
          } else if (open.has(inc.key)) violations.push(at(`escalates ${inc.key}, open already`));
          open.add(inc.key);
          const c = byName.get(inc.connector);
          if (c !== undefined && (c.state === 'PAUSED' || c.state === 'STOPPED')) violations.push(at(`pages ${inc.key} of a ${c.state} connector`));
        } else {
          if (!open.has(inc.key)) violations.push(at(`resolves ${inc.key}, which is not open`));
          open.delete(inc.key);
        }
      }
    }
    const inState = Object.keys(wd.state.incidents).filter((k) => wd.state.incidents[k]?.cluster === CLUSTER).sort();
    if (JSON.stringify(inState) !== JSON.stringify([...open].sort())) violations.push(at(`state holds incidents ${inState.join(', ')} where the pager has ${[...open].sort().join(', ')}`));

    // serialization/config (escalate) failures are paged at the first poll that sees them, outside maintenance,
    // by the subject's watchdog, unless a subject of the connector pages that class already ("one page per
    // connector and failure class"): open after this poll, since one resolved at this poll speaks for no one.
    for (const c of snapshot.connectors) {
      const subjects: { task: number | null; state: State; workerId: string; trace?: string }[] = [
        { task: null, state: c.state, workerId: c.workerId, ...(c.trace !== undefined && { trace: c.trace }) },
        ...(c.state === 'RUNNING' || c.state === 'FAILED' ? c.tasks.map((t) => ({ task: t.id, ...t })) : []),
      ];
      for (const sub of subjects) {
        if (sub.state !== 'FAILED') continue;
        const cls = classify(sub.trace ?? '').class;
        if (actionOf(cls) !== 'escalate' || inMaintenance(c.name) || !owns(sub.workerId)) continue;
        if (!pagedFor(c.name, cls)) violations.push(at(`${c.name}/${sub.task ?? 'connector'} FAILED with ${cls} (configured escalate) and no incident open for it`));
      }
    }

    // "A page taken over by its failure": a condition page (no status, RESTARTING too long: no root cause) of a
    // subject that reads FAILED with another class is resolved once a failure page of that class speaks for it (its
    // own, or its connector's), outside maintenance: no subject is on the pager twice, once as it no longer is.
    for (const c of snapshot.connectors) {
      if (inMaintenance(c.name)) continue;
      const subjects: { task: number | null; state: State; trace?: string }[] = [
        { task: null, state: c.state, ...(c.trace !== undefined && { trace: c.trace }) },
        ...(c.state === 'RUNNING' || c.state === 'FAILED' ? c.tasks.map((t) => ({ task: t.id, ...t })) : []),
      ];
      for (const sub of subjects) {
        if (sub.state !== 'FAILED') continue;
        const cls = classify(sub.trace ?? '').class;
        const spoken = [...open].some((k) => k.startsWith(`${CLUSTER}/${c.name}/`) && k.endsWith(`/${cls}`) && wd.state.incidents[k]?.rootCause !== '');
        if (!spoken) continue;
        for (const other of ['connection', 'serialization', 'config', 'unknown'] as const) {
          const stale = other === cls ? undefined : wd.state.incidents[incidentKey(CLUSTER, c.name, sub.task, other)];
          if (stale !== undefined && stale.rootCause === '') violations.push(at(`${stale.key}, a condition page, still open while ${c.name}/${sub.task ?? 'connector'} FAILED with ${cls} is paged`));
        }
      }
    }

    // The budget: a token bucket of perMinute, refilled at that rate; the first restart per endpoint that
    // accepts again is free (one per endpoint per poll: at most the endpoints probed accepting).
    if (lastAt !== undefined) tokens = Math.min(config.budget.perMinute, tokens + ((now - lastAt) * config.budget.perMinute) / MINUTE);
    lastAt = now;
    const free = [...probes.values()].filter((p) => p).length;
    tokens -= Math.max(0, restarts - free);
    if (tokens < -1e-9) violations.push(at(`${restarts} restarts overdraw the budget of ${config.budget.perMinute}/min (bucket ${tokens.toFixed(2)})`));

    // "A skip is emitted when the reason changes, not on every poll: once per reason and failure streak (and
    // once per wait after each restart for backoff)."
    for (const c of snapshot.connectors) {
      const streak = (task: number | null, state: State) => {
        if (state !== 'FAILED' && state !== 'RESTARTING') lastSkip.delete(`${c.name}/${task ?? 'connector'}`);
      };
      streak(null, c.state);
      if (c.state === 'RUNNING' || c.state === 'FAILED') for (const t of c.tasks) streak(t.id, t.state);
    }
    for (const name of new Set([...lastSkip.keys()].map((k) => k.split('/')[0] as string))) {
      if (!byName.has(name) && !(snapshot.unreadable ?? []).some((u) => u.name === name)) for (const k of [...lastSkip.keys()]) if (k.startsWith(`${name}/`)) lastSkip.delete(k);
    }
    for (const a of actions) {
      if (a.kind === 'skip') {
        const key = `${a.subject.connector}/${a.subject.task ?? 'connector'}`;
        if (lastSkip.get(key) === a.reason) violations.push(at(`skips ${key} for ${a.reason} again, with no other reason or restart in between`));
        lastSkip.set(key, a.reason);
      }
      const p = pending(a);
      if (p !== undefined) for (const t of [p.task, ...p.tasks]) lastSkip.delete(`${p.c}/${t ?? 'connector'}`);
    }

    // "restart: escalateAfter.restarts restarts within escalateAfter.window and FAILED again"; "restart-then-escalate:
    // FAILED again after one restart": paged by the subject's watchdog outside maintenance, unless its connector
    // pages that class after this poll (or a cluster outage speaks for a connection failure). Counters reset once RUNNING
    // for stablePeriod.
    for (const c of snapshot.connectors) {
      const subjects: { task: number | null; state: State; workerId: string; trace?: string }[] = [
        { task: null, state: c.state, workerId: c.workerId, ...(c.trace !== undefined && { trace: c.trace }) },
        ...(c.state === 'RUNNING' || c.state === 'FAILED' ? c.tasks.map((t) => ({ task: t.id, ...t })) : []),
      ];
      for (const sub of subjects) {
        const key = `${c.name}/${sub.task ?? 'connector'}`;
        if (sub.state !== 'RUNNING') runningSince.delete(key);
        else if (now - (runningSince.get(key) ?? now) >= config.stablePeriod) stood.delete(key);
        else if (!runningSince.has(key)) runningSince.set(key, now);
        if (sub.state !== 'FAILED') continue;
        const cls = classify(sub.trace ?? '').class;
        const action = actionOf(cls);
        const times = stood.get(key) ?? [];
        const due = action === 'restart' ? times.filter((t) => t > now - config.escalateAfter.window).length >= config.escalateAfter.restarts : action === 'restart-then-escalate' && times.length >= 1;
        if (!due || inMaintenance(c.name) || !owns(sub.workerId)) continue;
        if (!pagedFor(c.name, cls)) violations.push(at(`${key} FAILED with ${cls} (${action}) after ${times.length} restarts and not paged`));
      }
    }
    for (const name of new Set([...stood.keys()].map((k) => k.split('/')[0] as string))) {
      if (!byName.has(name) && !(snapshot.unreadable ?? []).some((u) => u.name === name)) for (const k of [...stood.keys()]) if (k.startsWith(`${name}/`)) stood.delete(k);
    }

    // Feed back: the executor's outcome per restart, and the subjects then read RESTARTING.
    const results: (RestartResult | undefined)[] = [];
    let k = 0;
    for (const a of actions) {
      const p = pending(a);
      if (p === undefined) {
        results.push(undefined);
        continue;
      }
      const result: RestartResult = settling ? 'ok' : (step.outcomes[k] ?? 'ok');
      k += 1;
      results.push(result);
      wd.state = applyOutcome(wd.state, { subject: { cluster: CLUSTER, connector: p.c, task: p.task }, result, ...(result === 'rebalance' && { refusal: 'HTTP 409 {"error_code":409,"message":"Cannot complete request because of a conflicting operation (e.g. worker rebalance)"}' }) }, now, (r) => backoffWait(r, config, random));
      if (result === 'rebalance') continue;
      for (const t of [p.task, ...p.tasks]) stood.set(`${p.c}/${t ?? 'connector'}`, [...(stood.get(`${p.c}/${t ?? 'connector'}`) ?? []), now]);
      const c = world.find((x) => x?.name === p.c);
      if (c === undefined) continue;
      if (p.task === null) {
        c.state = 'RESTARTING';
        c.tasks = c.tasks.map((t) => (p.tasks.includes(t.id) ? { ...t, state: 'RESTARTING' } : t));
      } else c.tasks = c.tasks.map((t) => (t.id === p.task ? { ...t, state: 'RESTARTING' } : t));
      restarting.push(p);
    }
    polls.push({ at: now, snapshot, actions, results, probes });
    now += step.dt;
  }
  return { polls, violations, final: wd.state };
}

/** The smallest wait docs/heal.md allows after the n-th restart: min(max, initial × factor^(n−1)), max past maxAttempts, less the most jitter. */
function leastWait(n: number, config: HealConfig): number {
  const { initial, factor, max, jitter, heldAfter } = config.backoff;
  const base = config.maxAttempts > 0 && n >= config.maxAttempts ? max : Math.min(max, initial * factor ** (n - 1));
  const wait = base * (1 - jitter);
  // A restart that held lets the next failure restart at once, but restarts stay at least heldAfter apart.
  return heldAfter > 0 ? Math.min(wait, heldAfter) : wait;
}

/** Restarts of one subject (the action's own: a connector, or a task restarted on its own) too close together. */
function backoffViolations(run: Run, config: HealConfig): string[] {
  const out: string[] = [];
  const last = new Map<string, { at: number; attempt: number }>();
  // Per subject, the first poll of its FAILED streak (a RESTARTING in between does not end it); a subject not
  // read at a poll (unreadable, under a connector whose tasks are not read) keeps its streak.
  const failedSince = new Map<string, number>();
  /** Subjects whose last restart was refused as a rebalance. */
  const refused = new Set<string>();
  for (const p of run.polls) {
    const seen = (key: string, state: State) => {
      if (state === 'FAILED') failedSince.set(key, failedSince.get(key) ?? p.at);
      else if (state !== 'RESTARTING') failedSince.delete(key);
    };
    const read = new Set([...p.snapshot.connectors.map((c) => c.name), ...(p.snapshot.unreadable ?? []).map((u) => u.name)]);
    for (const key of failedSince.keys()) if (!read.has(key.split('/')[0] as string)) failedSince.delete(key);
    for (const c of p.snapshot.connectors) {
      seen(`${c.name}/connector`, c.state);
      if (c.state === 'RUNNING' || c.state === 'FAILED') for (const t of c.tasks) seen(`${c.name}/${t.id}`, t.state);
    }
    p.actions.forEach((a, i) => {
      if (a.kind !== 'restart-task' && a.kind !== 'restart-connector') return;
      const key = `${a.connector}/${a.kind === 'restart-task' ? a.task : 'connector'}`;
      const before = last.get(key);
      const c = p.snapshot.connectors.find((x) => x.name === a.connector);
      // "On the first poll where it accepts again, the subject is restarted even if its backoff would wait longer."
      const back = c?.endpoint !== undefined && p.probes.get(endpointKey(c.endpoint)) === true;
      if (before !== undefined && a.attempt === before.attempt + 1 && !back && p.at - before.at < leastWait(before.attempt, config) - 1) {
        out.push(`${key}: restart ${a.attempt} at t+${(p.at - T0) / SECOND} s, ${(p.at - before.at) / SECOND} s after restart ${before.attempt} (at least ${leastWait(before.attempt, config) / SECOND} s)`);
      }
      // "The first restart is sent on the first poll that sees it FAILED, or heal.firstRestartDelay later."
      // After a refusal the restart is due at the refusals' backoff instead (the first on the next poll).
      const since = failedSince.get(key);
      if (a.attempt === 1 && !back && !refused.has(key) && since !== undefined && p.at - since < config.firstRestartDelay) {
        out.push(`${key}: first restart at t+${(p.at - T0) / SECOND} s, ${(p.at - since) / SECOND} s after it was seen FAILED (heal.firstRestartDelay ${config.firstRestartDelay / SECOND} s)`);
      }
      // A restart refused as a rebalance is not an attempt: the next one counts from the last that stood.
      if (p.results[i] !== 'rebalance') last.set(key, { at: p.at, attempt: a.attempt });
      if (p.results[i] === 'rebalance') refused.add(key);
      else refused.delete(key);
    });
  }
  return out;
}

const fmt = (s: Scenario): string => JSON.stringify(s, (k, v: unknown) => (k === 'trace' ? undefined : v));

describe('decide() on random timelines (properties from docs/heal.md)', () => {
  const params = { seed: SEED, numRuns: RUNS, endOnFailure: false } as const;

  it('never throws; restarts only a FAILED subject of its own whose class restarts, outside maintenance, with a healthy worker, an endpoint not refusing, within the budget; pages escalate-only failures at once; one open incident per key', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const run = play(s, { restarts: true, settleFor: 0 });
        expect(run.violations, fmt(s)).toEqual([]);
      }),
      params,
    );
  });

  it('restarts of one subject are spaced by the documented backoff, the first heal.firstRestartDelay after the failure', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const run = play(s, { restarts: true, settleFor: 0 });
        expect(backoffViolations(run, s.config), fmt(s)).toEqual([]);
      }),
      params,
    );
  });

  it('no stuck page: once every connector left reads RUNNING with its tasks for stablePeriod, every incident is resolved (deleted ones too) and state forgets every subject', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { stablePeriod, rebalance } = s.config;
        const run = play(s, { restarts: true, settleFor: Math.max(stablePeriod, rebalance.window) + stablePeriod + 2 * MINUTE });
        expect(run.violations, fmt(s)).toEqual([]);
        const left: Incident[] = Object.values(run.final.incidents).filter((i) => i.cluster === CLUSTER);
        expect(left.map((i) => i.key), fmt(s)).toEqual([]);
        expect(Object.keys(run.final.subjects).filter((k) => k.startsWith(`${CLUSTER}/`)), fmt(s)).toEqual([]);
      }),
      params,
    );
  });

  it('a daemon restarted from its state file decides what one that kept running decides', () => {
    fc.assert(
      fc.property(
        scenarioArb.filter((s) => s.steps.some((x) => x.restart)),
        (s) => {
          // Documented exceptions: a restart does not count a worker change across it of a subject with nothing
          // to remember (from its last listing under a running connector before it to its next one after it,
          // which changes whether it is remembered, and so when its pages resolve): no moves here, the other
          // properties have them. A sidecar at its first poll counts only its own connectors toward an outage.
          const t = { ...withoutMoves(s), sidecar: false };
          const a = play(t, { restarts: false, settleFor: 0 }).polls.map((p) => p.actions.map(sameAfterRestart).map((a) => JSON.stringify(a)).sort());
          const b = play(t, { restarts: true, settleFor: 0 }).polls.map((p) => p.actions.map(sameAfterRestart).map((a) => JSON.stringify(a)).sort());
          const first = a.findIndex((x, i) => JSON.stringify(x) !== JSON.stringify(b[i]));
          expect(first === -1 ? [] : [`poll ${first}`, a[first], b[first]], fmt(s)).toEqual([]);
        },
      ),
      params,
    );
  });
});

/**
 * An action as a restarted daemon must decide it too. A cluster outage declared at the first poll after a
 * start says so in its reason (documented), and its resolve quotes it: the wording is left out, not the page.
 * A resolve is compared by key and time, not reason: a page of a task its connector stopped listing resolves
 * at the same poll either way, `deleted` (unlisted for heal.unassignedAfter) once the previous snapshot is lost,
 * and so in another step of decide (the actions of a poll are compared in any order).
 */
function sameAfterRestart(a: Action): Action {
  if (a.kind !== 'escalate' && a.kind !== 'resolve') return a;
  const reason = a.incident.class !== 'cluster-outage' ? a.incident.reason : a.incident.reason.replace("are failing with connection errors at the watchdog's first poll of this cluster", 'failed with connection errors in the same poll');
  const incident = { ...a.incident, reason };
  return a.kind === 'escalate' ? { ...a, incident } : { kind: 'resolve', incident };
}

/** The scenario without worker moves. */
function withoutMoves(s: Scenario): Scenario {
  return { ...s, steps: s.steps.map((step) => ({ ...step, muts: step.muts.filter((m) => m.kind !== 'move') })) };
}
