/**
 * What one poll teaches about one subject: its new SubjectState before any decision. Pure.
 *
 * Streaks: failedSince marks the start of a FAILED streak, which a RESTARTING in between does not end
 * (that is our restart in flight) but any other state does. recoveredAt marks the first RUNNING after a
 * failure; the restart counters reset only once the subject has been RUNNING continuously for
 * heal.stablePeriod from there (not from the last restart), so a flapping subject keeps its counters:
 * it is paged after escalateAfter restarts, and a crash loop keeps backing off. But a subject that ran
 * for heal.backoff.heldAfter before failing again was fixed by its last restart: its new failure is
 * restarted without the backoff wait (waiting would only add downtime to each flap).
 */
import type { Classification, Classifier } from '../classify/types.js';
import type { State } from '../connect/types.js';
import type { HealConfig } from '../config/types.js';
import { SUBJECT_SINCE_FIELDS, type SubjectRef, type SubjectState } from './types.js';

export interface Seen {
  readonly state: State;
  readonly workerId: string;
  readonly trace?: string;
  /** classify(trace), when the caller has it already. */
  readonly classification?: Classification;
  /**
   * A RUNNING connector listing no task, watched for it (heal.noTasksAfter > 0): noTasksSince is kept while
   * this holds, and dropped as soon as it does not (a task listed, another state).
   */
  readonly noTasks?: boolean;
}

export interface Observation {
  readonly subject: SubjectState;
  /** Present when the subject is FAILED. */
  readonly classification?: Classification;
  /** FAILED now, and not FAILED (or RESTARTING within a FAILED streak) at the previous observation. */
  readonly newlyFailed: boolean;
}

type ObserveConfig = Pick<HealConfig, 'stablePeriod' | 'escalateAfter' | 'rebalance' | 'backoff' | 'firstRestartDelay' | 'noTasksAfter'>;

/**
 * When the restart of a failure that begins `now` is due, if the subject's last restart held (it ran
 * for heal.backoff.heldAfter since its recovery): heal.firstRestartDelay from now, as for a first failure.
 * Undefined when it did not hold: the backoff wait set at that restart stands.
 */
export function heldRestartDueAt(prev: Pick<SubjectState, 'recoveredAt'> | undefined, config: Pick<HealConfig, 'backoff' | 'firstRestartDelay'>, now: number): number | undefined {
  const { heldAfter } = config.backoff;
  if (prev?.recoveredAt === undefined || heldAfter <= 0 || now - prev.recoveredAt < heldAfter) return undefined;
  return now + config.firstRestartDelay;
}

/** Drops keys whose value is undefined so that state is the same before and after a JSON round trip. */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * RUNNING with nothing to remember but its worker: no failure streak or episode, no restarts, no moves.
 * Such a subject need not be persisted (a fresh one from the next poll decides the same).
 * Field by field rather than a walk of SUBJECT_TIME_FIELDS: it runs for every healthy subject on every poll,
 * and the walk is ten times slower (a test holds it to the list).
 */
export function isQuiet(s: SubjectState): boolean {
  return (
    s.state === 'RUNNING' &&
    s.class === undefined &&
    s.attempts === 0 &&
    s.moves.length === 0 &&
    s.restartTimes.length === 0 &&
    s.failedSince === undefined &&
    s.recoveredAt === undefined &&
    s.unassignedSince === undefined &&
    s.restartingSince === undefined &&
    s.unlistedSince === undefined &&
    s.noStatusSince === undefined &&
    s.noTasksSince === undefined &&
    s.lastSkip === undefined &&
    s.dependencyDownSince === undefined &&
    s.nextRestartAt === undefined &&
    s.lastRestartAt === undefined &&
    s.refusals === undefined &&
    s.refusedSince === undefined &&
    s.lastRefusal === undefined
  );
}

/**
 * A clock stepped back (NTP, a VM resumed) leaves remembered times in the future, and every timer measured
 * from them (a page, a settle, a reset, a resolve) would be stretched by the size of the step: they are
 * brought back to now. Times meant to lie ahead (nextRestartAt) are bounded in backoff.ts instead.
 */
function sinceAtMostNow(s: SubjectState, now: number): SubjectState {
  const late = (t: number | undefined) => t !== undefined && t > now;
  if (!SUBJECT_SINCE_FIELDS.some((k) => late(s[k])) && !s.moves.some((t) => t > now) && !s.restartTimes.some((t) => t > now)) return s;
  return {
    ...s,
    ...Object.fromEntries(SUBJECT_SINCE_FIELDS.filter((k) => late(s[k])).map((k) => [k, now])),
    // The moves the step put ahead count as one, now: brought to now each, an episode long settled (and its
    // incident resolved) read as that many moves at once, and paged again.
    moves: s.moves.some((t) => t > now) ? [...s.moves.filter((t) => t <= now), now] : s.moves,
    restartTimes: s.restartTimes.map((t) => Math.min(t, now)),
  };
}

export function freshSubject(ref: SubjectRef, seen: Seen): SubjectState {
  return { cluster: ref.cluster, connector: ref.connector, task: ref.task, state: seen.state, workerId: seen.workerId, attempts: 0, restartTimes: [], moves: [] };
}

export function observe(
  remembered: SubjectState | undefined,
  ref: SubjectRef,
  seen: Seen,
  classify: Classifier,
  config: ObserveConfig,
  now: number,
): Observation {
  // Healthy before and now on the same worker with nothing remembered: the slow path would rebuild an
  // equal object; returning prev keeps a poll of many healthy subjects free of allocation.
  if (remembered !== undefined && seen.state === 'RUNNING' && seen.noTasks !== true && (seen.workerId === '' || seen.workerId === remembered.workerId) && isQuiet(remembered)) {
    return { subject: remembered, newlyFailed: false };
  }
  const prev = remembered === undefined ? undefined : sinceAtMostNow(remembered, now);
  // Still FAILED, on the same worker, with the same class, nothing aging out of its windows: the slow path
  // would rebuild an equal object (the failing subjects of a large cluster are seen like this every poll).
  const classification = seen.state === 'FAILED' ? (seen.classification ?? classify(seen.trace ?? '')) : undefined;
  const keepMoves = Math.max(config.rebalance.window, config.stablePeriod);
  if (
    classification !== undefined &&
    prev?.failedSince !== undefined &&
    prev.state === 'FAILED' &&
    prev.class === classification.class &&
    (seen.workerId === '' || seen.workerId === prev.workerId) &&
    prev.recoveredAt === undefined &&
    prev.unassignedSince === undefined &&
    prev.unlistedSince === undefined &&
    prev.noStatusSince === undefined &&
    prev.moves.every((t) => t > now - keepMoves) &&
    prev.restartTimes.every((t) => t > now - config.escalateAfter.window)
  ) {
    return { subject: prev, classification, newlyFailed: false };
  }
  const base = prev ?? freshSubject(ref, seen);
  const moved = prev !== undefined && prev.workerId !== '' && seen.workerId !== '' && prev.workerId !== seen.workerId;
  const moves = [...base.moves.filter((t) => t > now - keepMoves), ...(moved ? [now] : [])];
  const restartTimes = base.restartTimes.filter((t) => t > now - config.escalateAfter.window);
  // Seen with a status: listed again, whatever it was while unlisted or without a status. Listing no task
  // counts in a row while RUNNING, and across a restart in flight (RESTARTING: a restart does not fix it)
  // or a rebalance (UNASSIGNED: a rolling restart of the workers moves it, which fixes nothing unless it
  // lands on the leader, and then its tasks appear); a task listed, or any other state, ends it.
  const between = (seen.state === 'RESTARTING' || seen.state === 'UNASSIGNED') && config.noTasksAfter > 0;
  const noTasksSince = seen.state === 'RUNNING' && seen.noTasks === true ? (base.noTasksSince ?? now) : between ? base.noTasksSince : undefined;
  const common = { ...base, state: seen.state, workerId: seen.workerId === '' ? base.workerId : seen.workerId, moves, restartTimes, unlistedSince: undefined, noStatusSince: undefined, noTasksSince };

  switch (seen.state) {
    case 'FAILED': {
      const failure = classification ?? classify(seen.trace ?? ''); // set above: seen is FAILED
      const since = prev?.failedSince;
      const continuing = since !== undefined;
      const held = continuing ? undefined : heldRestartDueAt(prev, config, now);
      // With no restart standing in this episode, a new streak's first restart is due firstRestartDelay after
      // it is seen: a due time an earlier streak left (one that cleared up before its restart, or a refused
      // restart's wait) is not this one's.
      const nextRestartAt = held ?? (continuing || base.attempts > 0 ? base.nextRestartAt : undefined);
      const subject = compact({
        ...common,
        nextRestartAt,
        class: failure.class,
        failedSince: since ?? now,
        recoveredAt: undefined,
        unassignedSince: undefined,
        restartingSince: undefined,
        lastSkip: continuing ? prev?.lastSkip : undefined,
        dependencyDownSince: continuing ? prev?.dependencyDownSince : undefined,
        refusals: continuing ? prev?.refusals : undefined,
        refusedSince: continuing ? prev?.refusedSince : undefined,
      });
      return { subject, classification: failure, newlyFailed: !continuing };
    }
    case 'RESTARTING':
      return { subject: compact({ ...common, recoveredAt: undefined, unassignedSince: undefined, restartingSince: base.restartingSince ?? now }), newlyFailed: false };
    case 'RUNNING': {
      const running = { ...common, failedSince: undefined, unassignedSince: undefined, restartingSince: undefined, lastSkip: undefined, dependencyDownSince: undefined, refusals: undefined, refusedSince: undefined, lastRefusal: undefined };
      const inEpisode = base.class !== undefined || base.attempts > 0;
      if (!inEpisode) return { subject: compact({ ...running, recoveredAt: undefined }), newlyFailed: false };
      const recoveredAt = base.recoveredAt ?? now;
      if (now - recoveredAt < config.stablePeriod) return { subject: compact({ ...running, recoveredAt }), newlyFailed: false };
      const reset = { ...running, attempts: 0, restartTimes: [], nextRestartAt: undefined, recoveredAt: undefined, class: undefined, lastRestartAt: undefined };
      return { subject: compact(reset), newlyFailed: false };
    }
    case 'UNASSIGNED':
      return {
        subject: compact({
          ...common,
          unassignedSince: base.unassignedSince ?? now,
          restartingSince: undefined,
          failedSince: undefined,
          recoveredAt: undefined,
          lastSkip: undefined,
          dependencyDownSince: undefined,
          refusals: undefined,
          refusedSince: undefined,
          lastRefusal: undefined,
        }),
        newlyFailed: false,
      };
    case 'PAUSED':
    case 'STOPPED':
      return {
        subject: compact({
          ...common,
          failedSince: undefined,
          recoveredAt: undefined,
          unassignedSince: undefined,
          restartingSince: undefined,
          lastSkip: undefined,
          dependencyDownSince: undefined,
          refusals: undefined,
          refusedSince: undefined,
          lastRefusal: undefined,
        }),
        newlyFailed: false,
      };
  }
}
