import { setTimeout as wait } from 'node:timers/promises';
import type { Classifier, FailureClass } from '../classify/types.js';
import type { ConnectClient, OffsetsAnswer } from '../connect/client.js';
import type { ClusterSnapshot, WorkerHealth } from '../connect/types.js';
import type { ClusterConfig, WatchdogConfig } from '../config/types.js';
import { redactUrl } from '../config/load.js';
import type { EscalationEvent, Incident } from '../escalate/types.js';
import { applyOutcome, decide, endpointsToProbe } from '../heal/policy.js';
import { judgeStalls, stallCandidates } from '../heal/stall.js';
import { judgeHealth } from '../heal/health.js';
import { mapBounded } from '../connect/bounded.js';
import { isConnectError, isTimeout } from '../connect/errors.js';
import { DEADLINE_FACTOR } from '../connect/transport.js';
import { backoffWait } from '../heal/backoff.js';
import { clockStep, shiftTimes } from '../heal/clock-step.js';
import { maintenanceMatcher } from '../heal/windows.js';
import type { Action, HealState, RestartAction, SubjectRef } from '../heal/types.js';
import type { Logger } from '../log/logger.js';
import type { WatchdogMetrics } from '../metrics/metrics.js';
import { announce } from './announce.js';
import { executeRestart, type ExecutedRestart } from './executor.js';
import { probeAll } from './probe.js';
import { monotonicOf, timerMs, within } from '../util/clock.js';

export interface ClusterLoopDeps {
  readonly cluster: ClusterConfig;
  readonly config: WatchdogConfig;
  readonly client: ConnectClient;
  readonly classify: Classifier;
  readonly metrics: WatchdogMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * A monotonic clock (performance.now), read beside `now` to tell a wall clock stepped forward from time that
   * passed; absent, `now` stands for it (tests on a fake clock, where every advance is time that passed).
   */
  readonly monotonic?: () => number;
  readonly random: () => number;
  /** Hands a poll's escalation events to the outbox, all at once. */
  readonly escalate: (events: readonly EscalationEvent[]) => void;
  /**
   * Called after each poll with this cluster's new policy state (persisted by the daemon); `routine` when
   * the poll neither paged nor resolved anything (only restarts, skips and observations moved).
   */
  readonly onState: (state: HealState, routine: boolean) => void;
  readonly probe?: Parameters<typeof probeAll>[2];
}

export interface PollResult {
  readonly ok: boolean;
  readonly snapshot?: ClusterSnapshot;
  readonly actions: readonly Action[];
}

function failedClasses(snapshot: ClusterSnapshot, classify: Classifier): Map<string, FailureClass> {
  const map = new Map<string, FailureClass>();
  for (const c of snapshot.connectors) {
    if (c.state === 'FAILED') map.set(`${c.name}/connector`, classify(c.trace ?? '').class);
    for (const t of c.tasks) if (t.state === 'FAILED') map.set(`${c.name}/${t.id}`, classify(t.trace ?? '').class);
  }
  return map;
}

/** While polls keep failing with the same error, how often the log says so again. */
const POLL_FAILED_REPEAT_MS = 10 * 60_000;

const subjectOf = (a: RestartAction): SubjectRef => ({ cluster: a.cluster, connector: a.connector, task: a.kind === 'restart-task' ? a.task : null });

/**
 * One watched cluster: poll → snapshot → decide → act → remember. Level-triggered: each poll decides
 * from the whole current state and the remembered policy state, never from a transition it had to see.
 */
export class ClusterLoop {
  private state: HealState;
  private version: string | undefined;
  /** The snapshot of the last decide(): where decide() reads the worker of a quiet subject (not in state). */
  private previous: ClusterSnapshot | undefined;
  /** Sidecar mode: whether our worker id matching no worker_id was warned about (again only after a match). */
  private workerIdWarned = false;
  /** The connectors last given to the metrics, and their FAILED subjects' classes. */
  private observed:
    | { readonly connectors: ClusterSnapshot['connectors']; readonly unreadable: ClusterSnapshot['unreadable']; readonly classes: ReadonlyMap<string, FailureClass> }
    | undefined;
  /** When the offsets of the watched sources were last read (heal.stall.checkInterval). */
  private offsetsReadAt: number | undefined;
  /** The worker version that answered that it has no offsets endpoint, if one did. */
  private offsetsUnsupported: { readonly version: string | undefined } | undefined;
  /** The offset reads that failed at the last check (connectors and codes), when last warned of. */
  private offsetReadsFailing: { readonly key: string; readonly at: number } | undefined;
  /** The answer of the last health read (GET /health), until a poll hands it to judgeHealth. */
  private healthAnswer: WorkerHealth | 'unsupported' | undefined;
  /** A health read in flight: awaited only by a one-shot pass and a process's first poll (the worker holds it 10 s when unhealthy). */
  private healthRead: Promise<void> | undefined;
  /** When the last health read started (heal.health.checkInterval). */
  private healthReadAt: number | undefined;
  /** The worker version that answered that it has no GET /health, if one did. */
  private healthUnsupported: { readonly version: string | undefined } | undefined;
  /** host:port of the cluster's url: the worker whose health is read. */
  private readonly healthOf: string;
  /** Polls failing in a row: the error last warned of, since when, how many, and when last logged. */
  private failing: { readonly err: string; readonly since: number; readonly polls: number; readonly loggedAt: number } | undefined;
  /** Both clocks as the last decide() read them: a wall clock stepped since is undone (followClockStep). */
  private clocks: { readonly wall: number; readonly monotonic: number } | undefined;
  /** The unreadable connectors last logged (name and problem), so that each change is logged once, not every poll. */
  private unreadableLogged: { readonly key: string; readonly names: readonly string[] } = { key: '[]', names: [] };

  constructor(
    private readonly deps: ClusterLoopDeps,
    initial: HealState,
  ) {
    this.state = initial;
    this.healthOf = new URL(deps.cluster.url).host;
  }

  get name(): string {
    return this.deps.cluster.name;
  }

  get healState(): HealState {
    return this.state;
  }

  /** Resolves once the health read in flight, if any, has been recorded (tests wait on it). */
  async healthReadSettled(): Promise<void> {
    await this.healthRead;
  }

  /** After the n-th restart in a row refused as a rebalance: the backoff of the n-th restart. */
  private readonly refusalWait = (refusals: number): number => backoffWait(refusals, this.deps.config.heal, this.deps.random);

  /**
   * One pass. Never throws: an unreachable or confused cluster is logged and counted. A one-shot pass
   * (`run --once`) asks each connector the listing leaves out for its status at once: it has no second poll
   * to find a connector with no status by (ConnectClient.withStatusless), and a cron job would never see one.
   */
  async poll(signal?: AbortSignal, oneShot = false): Promise<PollResult> {
    try {
      return await this.pass(signal, oneShot);
    } catch (err) {
      // A bug, not a cluster's answer: counted as a failed poll and logged with its stack, the loop goes on
      // (and the other clusters with it) instead of the daemon dying on an unhandled rejection.
      this.deps.metrics.observePoll(this.deps.cluster.name, 'error', 0);
      this.deps.logger.error({ cluster: this.deps.cluster.name, err }, 'poll crashed');
      return { ok: false, actions: [] };
    }
  }

  private async pass(signal: AbortSignal | undefined, oneShot: boolean): Promise<PollResult> {
    const { cluster, client, metrics, config, classify } = this.deps;
    const log = this.deps.logger.child({ cluster: cluster.name });
    const started = this.deps.now();
    // A one-shot pass has no later poll to hand the answer to: it reads the health beside the listing and
    // waits for it before judging (its process is gone by the next run; state keeps since when).
    if (oneShot) this.readHealth(undefined, log, signal, true);
    let snapshot: ClusterSnapshot;
    try {
      snapshot = await client.snapshot(signal);
      if (oneShot) snapshot = await client.withUnlisted(snapshot, signal);
      this.version = snapshot.version;
    } catch (err) {
      metrics.observePoll(cluster.name, 'error', (this.deps.now() - started) / 1000);
      this.logPollFailed(err as Error, log);
      return { ok: false, actions: [] };
    }
    metrics.observePoll(cluster.name, 'ok', (this.deps.now() - started) / 1000, this.deps.now());
    // The first poll of a process waits for the worker's health, as a one-shot pass does: what the state file
    // remembers of it may be hours old, and a worker cut off from its brokers holds the restarts sent to it,
    // then runs them all at once when they are back (up to HEALTH_TIMEOUT_MS, once, at start-up).
    const waitForHealth = oneShot || this.healthReadAt === undefined;
    if (!oneShot) this.readHealth(snapshot.version, log, signal, false);
    if (this.failing !== undefined) {
      log.info({ failedPolls: this.failing.polls, failingForMs: Math.max(0, this.deps.now() - this.failing.since) }, 'poll succeeds again');
      this.failing = undefined;
    }
    // The client hands back the same connectors (and unreadable) array when the worker's listing did not
    // change by a byte: the classes and the gauges made of it are still right. The unreadable ones may change
    // on the same listing (a connector without a status, found by an info read: ConnectClient.withStatusless).
    const same = this.observed?.connectors === snapshot.connectors && this.observed.unreadable === snapshot.unreadable;
    let classes = same ? this.observed?.classes : undefined;
    if (classes === undefined) {
      classes = failedClasses(snapshot, classify);
      metrics.observeSnapshot(snapshot, classes);
      this.observed = { connectors: snapshot.connectors, unreadable: snapshot.unreadable, classes };
      this.logUnreadable(snapshot, log);
      if (config.ownership.mode === 'worker') this.checkWorkerId(snapshot.connectors, log);
    }

    const owns = (workerId: string) => config.ownership.mode === 'all' || workerId === config.ownership.workerId;
    const probeAt = this.deps.now();
    const toProbe = cluster.probe
      ? endpointsToProbe(this.state, snapshot, classify, { config: config.heal, now: probeAt, owns, inMaintenance: maintenanceMatcher(config.maintenance, cluster.name, probeAt) })
      : [];
    // No answer for an endpoint (probe off) means: restart under backoff alone.
    const probes = toProbe.length > 0 ? await probeAll(toProbe, config.heal.probe.timeout, this.deps.probe, signal) : new Map<string, boolean>();
    if (waitForHealth) await this.healthRead;
    const answer = this.healthAnswer;
    this.healthAnswer = undefined;
    const workerUnhealthy = this.unhealthy(answer);
    const offsets = await this.readOffsets(snapshot, owns, log, signal, workerUnhealthy);
    const now = this.deps.now();
    this.followClockStep(now, log);
    const inMaintenance = maintenanceMatcher(config.maintenance, cluster.name, now);
    const decision = decide({
      state: this.state,
      snapshot,
      config: config.heal,
      classify,
      now,
      random: this.deps.random,
      probes,
      inMaintenance,
      owns,
      ...(this.previous !== undefined && { previous: this.previous }),
      workerUnhealthy,
    });
    const stalls = judgeStalls({ state: decision.state, snapshot, reads: offsets.reads, failedReads: offsets.failed, config: config.heal.stall, now, owns, inMaintenance });
    const health = judgeHealth({ state: stalls.state, cluster: cluster.name, answer, workerId: this.healthOf, config: config.heal.health, now, inMaintenance: inMaintenance('*') });
    const actions = stalls.actions.length === 0 && health.actions.length === 0 ? decision.actions : [...decision.actions, ...stalls.actions, ...health.actions];
    this.state = health.state;
    this.previous = snapshot;
    metrics.observeOffsets(cluster.name, Object.values(this.state.offsets ?? {}).filter((m) => m.cluster === cluster.name));

    const restarts: Promise<ExecutedRestart>[] = [];
    const events: EscalationEvent[] = [];
    const announceOptions = { now, clusterUrl: redactUrl(cluster.url), dryRun: config.dryRun, log };
    for (const action of actions) {
      switch (action.kind) {
        case 'restart-connector':
        case 'restart-task':
          restarts.push(
            executeRestart(action, {
              client,
              version: this.version,
              dryRun: config.dryRun,
              logger: log,
              ...(signal && { signal }),
            }),
          );
          break;
        case 'escalate': {
          // An update pages no one anew (the pager adds it to the open incident): no escalation to count.
          if (action.update !== true) metrics.countEscalation(cluster.name, action.incident.connector, action.incident.class);
          const event = announce('trigger', action.incident, action.update === true ? { ...announceOptions, update: true } : announceOptions);
          if (event) events.push(event);
          break;
        }
        case 'resolve': {
          const event = announce('resolve', action.incident, { ...announceOptions, ...(action.resolution !== undefined && { resolution: action.resolution }) });
          if (event) events.push(event);
          break;
        }
        case 'skip':
          metrics.countRestart({ cluster: cluster.name, connector: action.subject.connector, target: action.target, class: action.class, outcome: 'skipped' });
          log.debug({ connector: action.subject.connector, task: action.subject.task, reason: action.reason, nextAt: action.nextAt }, 'restart withheld');
          break;
      }
    }
    if (events.length > 0) this.deps.escalate(events);
    const executed = await Promise.all(restarts);
    for (const { action, outcome, refusal } of executed) {
      const target = action.kind === 'restart-task' ? 'task' : 'connector';
      metrics.countRestart({
        cluster: cluster.name,
        connector: action.connector,
        target,
        class: action.class,
        outcome: outcome === 'ok' ? 'ok' : outcome === 'dry_run' ? 'dry_run' : 'failed',
      });
      if (outcome !== 'dry_run') this.state = applyOutcome(this.state, { subject: subjectOf(action), result: outcome, ...(refusal !== undefined && { refusal }) }, this.deps.now(), this.refusalWait);
    }
    const sent = executed.filter((e) => e.outcome === 'ok').map((e) => e.action.connector);
    if (sent.length > 0) await this.confirm([...new Set(sent)], log, signal);
    // Only a page or a resolution must reach the state file at once (lost, it would page again after a
    // crash); restart bookkeeping can wait for the next routine write (lost, a backoff restarts once early).
    this.deps.onState(
      this.state,
      actions.every((a) => a.kind !== 'escalate' && a.kind !== 'resolve'),
    );
    log.debug(
      { connectors: snapshot.connectors.length, failed: classes.size, actions: actions.length, ms: this.deps.now() - started },
      'poll done',
    );
    return { ok: true, snapshot, actions };
  }

  /**
   * The wall clock stepped since the last decide() (by more than NTP's slewing moves it), forward or back: the
   * remembered times move with it (clock-step.ts), so that the step counts as no time passed for backoff, budget
   * and every "for this long" of the policy. Logged, since every time in the state file and the pages moves too.
   */
  private followClockStep(now: number, log: Logger): void {
    const monotonic = monotonicOf(this.deps)();
    const last = this.clocks;
    this.clocks = { wall: now, monotonic };
    if (last === undefined) return;
    const step = clockStep(now - last.wall, monotonic - last.monotonic);
    if (step === 0) return;
    this.state = shiftTimes(this.state, step);
    log.warn({ stepMs: step }, `the wall clock stepped ${step > 0 ? 'forward' : 'back'}: remembered times move with it, so that the step counts for no backoff or waiting time`);
  }

  /**
   * Did the worker say it is not healthy: at the read this poll hands over, or else at the last one remembered?
   * With heal.health off (checkInterval 0) nothing is read, so a memory from an earlier run withholds nothing.
   */
  private unhealthy(answer: WorkerHealth | 'unsupported' | undefined): boolean {
    if (answer === 'unsupported' || this.deps.config.heal.health.checkInterval === 0) return false;
    const status = answer?.status ?? this.state.health?.[this.deps.cluster.name]?.status;
    return status !== undefined && status !== 'healthy';
  }

  /**
   * Starts a read of the worker's health (heal.health), at most every heal.health.checkInterval and one at
   * a time, beside the polls: the worker holds GET /health 10 s when its herder is stuck. While the worker
   * says it is not healthy it is read at every poll instead, since restarts wait for its first healthy
   * answer. The answer waits for the next poll (the first poll of a process waits for it). A worker without
   * GET /health (before 3.9) is not asked again until its version changes. A one-shot pass asks once,
   * whatever was answered before.
   */
  private readHealth(version: string | undefined, log: Logger, signal: AbortSignal | undefined, oneShot: boolean): void {
    const { checkInterval } = this.deps.config.heal.health;
    const now = this.deps.now();
    if (checkInterval === 0 || this.healthRead !== undefined) return;
    if (!oneShot && this.healthReadAt !== undefined && within(now, this.healthReadAt, checkInterval) && !this.unhealthy(this.healthAnswer)) return;
    if (!oneShot && this.healthUnsupported !== undefined && this.healthUnsupported.version === version) return;
    this.healthReadAt = now;
    this.healthRead = this.deps.client
      .health(signal)
      .then(
        (answer) => this.recordHealth(answer, version, log),
        // Unreachable, refused or cut: the polls say so (cluster_up); what the worker said last stands.
        (err: unknown) => log.debug({ code: isConnectError(err) ? err.code : undefined }, 'could not read the worker health'),
      )
      .finally(() => {
        this.healthRead = undefined;
      });
  }

  private recordHealth(answer: WorkerHealth | undefined, version: string | undefined, log: Logger): void {
    const cluster = this.deps.cluster.name;
    const before = this.state.health?.[cluster];
    this.deps.metrics.observeHealth(cluster, answer?.status);
    if (answer === undefined) {
      if (this.healthUnsupported === undefined || this.healthUnsupported.version !== version) log.info({ version }, 'this worker has no GET /health (Kafka Connect 3.9 or later): heal.health cannot watch it');
      this.healthUnsupported = { version };
      this.healthAnswer = 'unsupported';
      return;
    }
    this.healthAnswer = answer;
    const was = before === undefined || before.status === 'healthy';
    if (answer.status !== 'healthy' && was) log.warn({ worker: this.healthOf, health: answer.status, message: answer.message }, 'the worker says it is not healthy: its connectors and tasks may be stopped while they read RUNNING');
    else if (answer.status === 'healthy' && !was) log.info({ worker: this.healthOf, unhealthyForMs: Math.max(0, this.deps.now() - before.since) }, 'the worker is healthy again');
  }

  /**
   * The offsets of the watched sources (heal.stall), read at most every heal.stall.checkInterval, by digest
   * (stall.ts judges them). A failed read is counted and logged, and handed to judgeStalls: the next read
   * that finds those offsets unmoved only confirms them. A worker that says it is not healthy is not asked
   * (it would hold each read 90 s): its sources are handed over as failed reads, not counted.
   */
  private async readOffsets(
    snapshot: ClusterSnapshot,
    owns: (workerId: string) => boolean,
    log: Logger,
    signal: AbortSignal | undefined,
    workerUnhealthy: boolean,
  ): Promise<{ readonly reads: ReadonlyMap<string, string>; readonly failed: ReadonlySet<string> }> {
    const { stall } = this.deps.config.heal;
    const reads = new Map<string, string>();
    const none = { reads, failed: new Set<string>() };
    const now = this.deps.now();
    if (stall.connectors === '' || (this.offsetsReadAt !== undefined && within(now, this.offsetsReadAt, stall.checkInterval))) return none;
    // A worker without the endpoint (before 3.5) is not asked again until its version changes (an upgrade).
    if (this.offsetsUnsupported !== undefined && this.offsetsUnsupported.version === snapshot.version) return none;
    const names = stallCandidates(snapshot, stall, owns);
    if (names.length === 0) return none;
    if (workerUnhealthy) return { reads, failed: new Set(names) };
    this.offsetsReadAt = now;
    // The round as a whole gets one request's time with its retries (pollBound counts it): on a slow worker
    // the reads not done by then fail and wait for the next check, rather than hold the poll.
    const round = AbortSignal.timeout(timerMs(DEADLINE_FACTOR * this.deps.cluster.timeout * (this.deps.config.requestRetries + 1)));
    // Connect serves every offsets read on its herder thread: once one times out, the others would wait behind
    // it (a broker outage held them 90 s each), so the round ends there and the rest are not sent.
    const stuck = new AbortController();
    const read = (name: string, s: AbortSignal) =>
      this.deps.client.offsets(name, AbortSignal.any([s, round, stuck.signal])).catch((err: unknown) => {
        if (isTimeout(err)) stuck.abort();
        return err as Error;
      });
    let answers: (OffsetsAnswer | Error)[];
    try {
      answers = await mapBounded(names, this.deps.config.statusConcurrency, read, signal);
    } catch {
      return none; // aborted: shutting down
    }
    const failed: { connector: string; err: string; code?: string }[] = [];
    answers.forEach((answer, k) => {
      const connector = names[k] as string;
      if (answer instanceof Error) {
        const cut = stuck.signal.aborted && isConnectError(answer) && answer.code === 'ABORTED';
        failed.push({ connector, err: cut ? 'not read: an earlier read of this check timed out' : answer.message, ...(isConnectError(answer) && { code: answer.code }) });
      } else if (answer === 'unsupported') {
        if (this.offsetsUnsupported?.version !== snapshot.version) log.warn({ version: snapshot.version }, 'this worker has no GET /connectors/{name}/offsets (Kafka Connect 3.5 or later): heal.stall cannot watch this cluster');
        this.offsetsUnsupported = { version: snapshot.version };
      } else if (answer !== 'gone') reads.set(connector, answer.digest);
    });
    this.deps.metrics.countOffsetReads(this.deps.cluster.name, reads.size, failed.length);
    this.logOffsetReads(failed, now, log);
    return { reads, failed: new Set(failed.map((f) => f.connector)) };
  }

  /**
   * Reads that keep failing the same way (a connector whose offsets the worker cannot serve) are warned
   * about when the failing set changes, and again every POLL_FAILED_REPEAT_MS, not at every check.
   */
  private logOffsetReads(failed: readonly { readonly connector: string; readonly err: string; readonly code?: string }[], now: number, log: Logger): void {
    const logged = this.offsetReadsFailing;
    if (failed.length === 0) {
      if (logged !== undefined) log.info('the offsets of the watched source connectors read again');
      this.offsetReadsFailing = undefined;
      return;
    }
    const key = JSON.stringify(failed.map((f) => [f.connector, f.code]));
    if (logged !== undefined && logged.key === key && within(now, logged.at, POLL_FAILED_REPEAT_MS)) return;
    log.warn({ failed: failed.slice(0, 10), count: failed.length }, 'could not read the offsets of watched source connectors: their stall is judged at the next read');
    this.offsetReadsFailing = { key, at: now };
  }

  /**
   * A cluster down, or a wrong password, fails every poll: warned when it starts or its error changes, then
   * once every POLL_FAILED_REPEAT_MS with the count (a line every 10 s buried the log), and an info line when
   * a poll succeeds again. The polls metric counts each.
   */
  private logPollFailed(err: Error, log: Logger): void {
    const now = this.deps.now();
    const code = (err as { code?: string }).code;
    const f = this.failing;
    if (f !== undefined && f.err === err.message) {
      const polls = f.polls + 1;
      const due = !within(now, f.loggedAt, POLL_FAILED_REPEAT_MS);
      if (due) log.warn({ err: err.message, code, failedPolls: polls, failingForMs: Math.max(0, now - f.since) }, 'poll still failing');
      this.failing = { ...f, polls, ...(due && { loggedAt: now }) };
      return;
    }
    log.warn({ err: err.message, code }, 'poll failed');
    this.failing = { err: err.message, since: f?.since ?? now, polls: (f?.polls ?? 0) + 1, loggedAt: now };
  }

  private logUnreadable(snapshot: ClusterSnapshot, log: Logger): void {
    const unreadable = (snapshot.unreadable ?? []).map((u) => ({ connector: u.name, problem: u.problem }));
    const key = JSON.stringify(unreadable);
    if (key === this.unreadableLogged.key) return;
    if (unreadable.length > 0) log.warn({ unreadable }, 'cannot read the status of some connectors: nothing is decided about them until it reads again');
    // One that leaves the set either reads now or is gone: a connector deleted while it had no status must
    // not read as one that started.
    const still = new Set(unreadable.map((u) => u.connector));
    const left = this.unreadableLogged.names.filter((name) => !still.has(name));
    const listed = new Set(snapshot.connectors.map((c) => c.name));
    const reads = left.filter((name) => listed.has(name));
    const gone = left.filter((name) => !listed.has(name));
    if (reads.length > 0) log.info({ connectors: reads }, 'the status of these connectors reads again');
    if (gone.length > 0) log.info({ connectors: gone }, 'connectors whose status could not be read are no longer listed: deleted');
    this.unreadableLogged = { key, names: [...still] };
  }

  /**
   * A sidecar whose ownership.workerId is no worker_id Connect reports (a DNS name where Connect advertises
   * the pod IP, a port that changed) acts on nothing and pages nothing but UNASSIGNED, with no sign of it:
   * warned once, and again only after the id has matched meanwhile. A worker may run nothing, hence a warning.
   */
  private checkWorkerId(connectors: ClusterSnapshot['connectors'], log: Logger): void {
    const ours = this.deps.config.ownership.workerId;
    const seen = new Set<string>();
    let matched = false;
    for (const c of connectors) {
      seen.add(c.workerId);
      for (const t of c.tasks) seen.add(t.workerId);
      if (seen.has(ours)) {
        matched = true;
        break;
      }
    }
    seen.delete('');
    const before = this.workerIdWarned;
    const mismatch = !matched && seen.size > 0;
    if (mismatch && !before) {
      log.warn(
        { workerId: ours, seen: [...seen].sort().slice(0, 10) },
        'ownership.workerId is the worker_id of no connector or task: this sidecar restarts nothing (compare with status --json; nothing to do if its worker runs nothing)',
      );
    }
    // An empty listing (or one without worker ids) tells nothing either way.
    this.workerIdWarned = mismatch || (!matched && before);
  }

  /** Re-reads restarted connectors shortly after, to log the outcome now rather than at the next poll. */
  private async confirm(connectors: readonly string[], log: Logger, signal?: AbortSignal): Promise<void> {
    const delay = this.deps.config.heal.confirmDelay;
    // A timer that keeps the process alive: `run --once` has nothing else pending here, and an unref'd one let
    // Node exit mid-poll, with exit code 0 and neither the state file nor the pages written.
    if (delay > 0) {
      try {
        await wait(delay, undefined, signal && { signal });
      } catch {
        return; // aborted: shutting down
      }
    }
    await Promise.all(
      connectors.map(async (name) => {
        try {
          const status = await this.deps.client.status(name, signal);
          if (!status) return;
          const failed = [status.state === 'FAILED' ? 'connector' : undefined, ...status.tasks.filter((t) => t.state === 'FAILED').map((t) => `task ${t.id}`)].filter(Boolean);
          // RESTARTING until start() returns: not confirmed yet (a start() that blocks reads RESTARTING for good).
          const pending = failed.length > 0 || status.state === 'RESTARTING' || status.tasks.some((t) => t.state === 'RESTARTING');
          log.info({ connector: name, state: status.state, tasks: status.tasks.map((t) => t.state), stillFailed: failed }, pending ? 'restart not yet effective' : 'restart confirmed');
        } catch (err) {
          log.debug({ connector: name, err: (err as Error).message }, 'confirmation read failed');
        }
      }),
    );
  }

  /** Open incidents of this cluster (metrics, Alertmanager re-sends). */
  openIncidents(): Incident[] {
    return Object.values(this.state.incidents);
  }
}
