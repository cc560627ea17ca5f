/**
 * Builders for policy tests: snapshots, a stub classifier keyed on trace text (so that these tests do
 * not depend on the real classifier), the schema's defaults as a HealConfig, and a fake-clock poll loop.
 */
import type { Classification, Classifier, FailureClass } from '../../src/classify/types.js';
import { schema } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/types.js';
import type { ClusterSnapshot, ConnectorSnapshot, Endpoint, State, TaskStatus } from '../../src/connect/types.js';
import { backoffWait } from '../../src/heal/backoff.js';
import { isQuiet } from '../../src/heal/observe.js';
import { applyOutcome, decide, type DecideInput } from '../../src/heal/policy.js';
import { EMPTY_HEAL_STATE, type Action, type HealState, type RestartAction, type RestartResult } from '../../src/heal/types.js';

export const CLUSTER = 'prod';
export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const W1 = '127.0.0.1:8083';
export const W2 = '127.0.0.1:8084';

// Abbreviated from the real bodies in /work/shared/reference/real-bodies (Kafka 4.3.1, Debezium 3.7.0).
export const TRACES = {
  connection:
    'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.\n' +
    '\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\n' +
    'Caused by: org.postgresql.util.PSQLException: FATAL: terminating connection due to administrator command\n' +
    '\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2993)\n',
  serialization:
    'org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n' +
    '\tat org.apache.kafka.connect.runtime.errors.RetryWithToleranceOperator.execAndHandleError(RetryWithToleranceOperator.java:259)\n' +
    "Caused by: org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error: \n" +
    "Caused by: org.apache.kafka.common.errors.SerializationException: com.fasterxml.jackson.core.JsonParseException: Unrecognized token 'this'\n",
  config:
    "org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/nonexistent-dir-e2e/out.txt' for FileStreamSinkTask\n" +
    '\tat org.apache.kafka.connect.file.FileStreamSinkTask.start(FileStreamSinkTask.java:74)\n' +
    'Caused by: java.nio.file.NoSuchFileException: /nonexistent-dir-e2e/out.txt\n',
  unknown: 'java.lang.IllegalStateException: something nobody has seen before\n\tat com.example.Task.poll(Task.java:1)\n',
} as const satisfies Record<FailureClass, string>;

/** Classifies by the markers of TRACES; counts its calls. */
export function stubClassifier(): Classifier & { calls: number } {
  const fn = ((trace: string): Classification => {
    fn.calls += 1;
    const cls: FailureClass = /PSQLException|Connection refused|EOFException/.test(trace)
      ? 'connection'
      : /SerializationException|DataException/.test(trace)
        ? 'serialization'
        : /NoSuchFileException|Publication autocreation/.test(trace)
          ? 'config'
          : 'unknown';
    const causes = trace.split('\n').filter((l) => l.startsWith('Caused by: '));
    const rootCause = (causes.at(-1) ?? trace.split('\n')[0] ?? '').replace(/^Caused by: /, '');
    return { class: cls, rootCause, rule: `stub:${cls}`, hint: `check the ${cls}` };
  }) as Classifier & { calls: number };
  fn.calls = 0;
  return fn;
}

const h = schema.heal;
export const DEFAULTS: HealConfig = {
  actions: {
    connection: h.actions.connection.default,
    unknown: h.actions.unknown.default,
    serialization: h.actions.serialization.default,
    config: h.actions.config.default,
  },
  firstRestartDelay: h.firstRestartDelay.default,
  backoff: {
    initial: h.backoff.initial.default,
    factor: h.backoff.factor.default,
    max: h.backoff.max.default,
    jitter: h.backoff.jitter.default,
    heldAfter: h.backoff.heldAfter.default,
  },
  maxAttempts: h.maxAttempts.default,
  stablePeriod: h.stablePeriod.default,
  escalateAfter: { restarts: h.escalateAfter.restarts.default, window: h.escalateAfter.window.default },
  unassignedAfter: h.unassignedAfter.default,
  noTasksAfter: h.noTasksAfter.default,
  rebalance: { maxMoves: h.rebalance.maxMoves.default, window: h.rebalance.window.default },
  budget: { perMinute: h.budget.perMinute.default },
  clusterOutageThreshold: h.clusterOutageThreshold.default,
  probe: { enabled: h.probe.enabled.default, timeout: h.probe.timeout.default },
  confirmDelay: h.confirmDelay.default,
  stall: { connectors: h.stall.connectors.default, after: h.stall.after.default, checkInterval: h.stall.checkInterval.default },
  health: { checkInterval: h.health.checkInterval.default, after: h.health.after.default },
};

export function withConfig(patch: Partial<HealConfig>): HealConfig {
  return { ...DEFAULTS, ...patch };
}

export const PG: Endpoint = { host: 'db.internal', port: 5432 };

export function task(id: number, state: State, opts: { cls?: FailureClass; workerId?: string; trace?: string } = {}): TaskStatus {
  const trace = opts.trace ?? (opts.cls !== undefined ? TRACES[opts.cls] : undefined);
  return { id, state, workerId: opts.workerId ?? W1, ...(trace !== undefined && { trace }) };
}

export function connector(
  name: string,
  state: State,
  tasks: readonly TaskStatus[],
  opts: { cls?: FailureClass; workerId?: string; endpoint?: Endpoint; tasksMax?: number; type?: ConnectorSnapshot['type'] } = {},
): ConnectorSnapshot {
  return {
    name,
    type: opts.type ?? 'source',
    state,
    workerId: opts.workerId ?? W1,
    tasks,
    ...(opts.cls !== undefined && { trace: TRACES[opts.cls] }),
    ...(opts.endpoint !== undefined && { endpoint: opts.endpoint }),
    ...(opts.tasksMax !== undefined && { tasksMax: opts.tasksMax }),
  };
}

/** A RUNNING connector whose task 0 is in `state` (FAILED with `cls`). */
export function oneTask(name: string, state: State, cls?: FailureClass, opts: { endpoint?: Endpoint; workerId?: string } = {}): ConnectorSnapshot {
  return connector(name, 'RUNNING', [task(0, state, { ...(cls !== undefined && { cls }), ...(opts.workerId !== undefined && { workerId: opts.workerId }) })], opts);
}

export function snapshot(connectors: readonly ConnectorSnapshot[], at: number, cluster = CLUSTER, unreadable: readonly string[] = [], noStatus: readonly string[] = []): ClusterSnapshot {
  const all = [
    ...unreadable.map((name) => ({ name, problem: `connectors["${name}"].status.connector.state: unknown state "DRAINING"` })),
    ...noStatus.map((name) => ({ name, problem: 'no status', noStatus: true as const })),
  ];
  return { cluster, at, connectors, ...(all.length > 0 && { unreadable: all }) };
}

export interface PollOptions {
  readonly probes?: ReadonlyMap<string, boolean>;
  readonly inMaintenance?: (connector: string) => boolean;
  readonly owns?: (workerId: string) => boolean;
  /** What the executor reports for each restart ('ok' by default), with Connect's answer to a refusal. */
  readonly outcome?: (action: RestartAction) => RestartResult | { readonly result: RestartResult; readonly refusal: string };
  readonly cluster?: string;
  /** Connectors listed with a status that could not be read. */
  readonly unreadable?: readonly string[];
  /** Connectors Connect has no status for (created, their start() not returned). */
  readonly noStatus?: readonly string[];
  /** The worker said at its last health read that it is not healthy. */
  readonly workerUnhealthy?: boolean;
}

/**
 * A watchdog on a fake clock: poll() decides on a snapshot at `now`, applies the restart outcomes, and
 * keeps every action. With roundTrip, the state goes through JSON between polls, as through the state file.
 */
export class Sim {
  state: HealState = EMPTY_HEAL_STATE;
  /** Per cluster, the snapshot of the last poll (DecideInput.previous), as ClusterLoop keeps it. */
  readonly previous = new Map<string, ClusterSnapshot>();
  now = T0;
  readonly log: { at: number; action: Action }[] = [];
  readonly classify = stubClassifier();

  constructor(
    readonly config: HealConfig = DEFAULTS,
    readonly opts: { roundTrip?: boolean; freeze?: boolean; random?: () => number } = {},
  ) {}

  poll(connectors: readonly ConnectorSnapshot[], o: PollOptions = {}): Action[] {
    if (this.opts.freeze === true) deepFreeze(this.state);
    const snap = snapshot(connectors, this.now, o.cluster, o.unreadable, o.noStatus);
    const previous = this.previous.get(snap.cluster);
    const input: DecideInput = {
      state: this.state,
      snapshot: snap,
      config: this.config,
      classify: this.classify,
      now: this.now,
      random: this.opts.random ?? (() => 0.5),
      probes: o.probes ?? new Map(),
      inMaintenance: o.inMaintenance ?? (() => false),
      owns: o.owns ?? (() => true),
      ...(previous !== undefined && { previous }),
      ...(o.workerUnhealthy !== undefined && { workerUnhealthy: o.workerUnhealthy }),
    };
    const { actions, state } = decide(input);
    this.state = state;
    this.previous.set(snap.cluster, snap);
    for (const a of actions) {
      this.log.push({ at: this.now, action: a });
      if (a.kind === 'restart-connector' || a.kind === 'restart-task') {
        const reported = o.outcome?.(a) ?? 'ok';
        const outcome = typeof reported === 'string' ? { result: reported } : reported;
        const subject = { cluster: a.cluster, connector: a.connector, task: a.kind === 'restart-task' ? a.task : null };
        if (this.opts.freeze === true) deepFreeze(this.state);
        this.state = applyOutcome(this.state, { subject, ...outcome }, this.now, (n) => backoffWait(n, this.config, this.opts.random ?? (() => 0.5)));
      }
    }
    if (this.opts.roundTrip === true) this.state = JSON.parse(JSON.stringify(this.state)) as HealState;
    return [...actions];
  }

  /**
   * A daemon restart: the state as the state file holds it (Daemon.persist's merge leaves quiet subjects
   * out; JSON), and no previous snapshot (ClusterLoop keeps it in memory only).
   */
  restart(): this {
    const subjects = Object.fromEntries(Object.entries(this.state.subjects).filter(([, s]) => !isQuiet(s)));
    this.state = JSON.parse(JSON.stringify({ ...this.state, subjects })) as HealState;
    this.previous.clear();
    return this;
  }

  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  /** Polls every `every` ms for `duration` ms (first poll at the current time), the same connectors each time. */
  run(duration: number, every: number, connectors: readonly ConnectorSnapshot[] | ((now: number) => readonly ConnectorSnapshot[]), o: PollOptions = {}): Action[] {
    const out: Action[] = [];
    const end = this.now + duration;
    while (this.now < end) {
      out.push(...this.poll(typeof connectors === 'function' ? connectors(this.now) : connectors, o));
      this.now += every;
    }
    return out;
  }

  actionsOf<K extends Action['kind']>(kind: K): { at: number; action: Extract<Action, { kind: K }> }[] {
    return this.log.filter((e): e is { at: number; action: Extract<Action, { kind: K }> } => e.action.kind === kind);
  }
}

function deepFreeze(o: unknown): void {
  if (typeof o !== 'object' || o === null || Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
}

export const kinds = (actions: readonly Action[]): string[] => actions.map((a) => (a.kind === 'skip' ? `skip:${a.reason}` : a.kind));
