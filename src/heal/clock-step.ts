/**
 * A wall clock stepped while the daemon runs (NTP setting a clock that ran slow or fast, a host that started the
 * watchdog before its clock was set, two time sources that disagree setting it in turn): every remembered time
 * is moved by the step, so that what is measured from them (backoff waits, the restart budget's refill,
 * UNASSIGNED or RESTARTING for heal.unassignedAfter, the stable period, a worker unhealthy for heal.health.after,
 * offsets unmoved for heal.stall.after) counts the time that passed, not the step: else one step forward of an
 * hour restarts every subject in backoff at once and pages every task caught mid-rebalance. Both ways: a step
 * back left to the clamps where times are read (observe.ts) restarts every count from now, and the step forward
 * that corrects it then moved them again, so a clock flipping between two sources never let anything last
 * heal.unassignedAfter. Pure. Incidents keep their firstSeen: it is in their events' ids (announce.ts).
 */
import { SUBJECT_TIME_FIELDS, type HealState, type SubjectState } from './types.js';

export function shiftTimes(state: HealState, step: number): HealState {
  const map = <T>(r: Readonly<Record<string, T>>, f: (v: T) => T): Record<string, T> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v)]));
  const subject = (s: SubjectState): SubjectState => ({
    ...s,
    ...Object.fromEntries(SUBJECT_TIME_FIELDS.flatMap((k) => (s[k] === undefined ? [] : [[k, (s[k] as number) + step]]))),
    restartTimes: s.restartTimes.map((t) => t + step),
    moves: s.moves.map((t) => t + step),
  });
  return {
    subjects: map(state.subjects, subject),
    incidents: map(state.incidents, (i) => ({ ...i, lastSeen: i.lastSeen + step })),
    budgets: map(state.budgets, (b) => ({ ...b, updatedAt: b.updatedAt + step })),
    ...(state.offsets !== undefined && { offsets: map(state.offsets, (o) => ({ ...o, movedAt: o.movedAt + step })) }),
    ...(state.health !== undefined && { health: map(state.health, (h) => ({ ...h, since: h.since + step })) }),
  };
}

/**
 * How far the wall clock moved beyond the monotonic one between two readings of both (negative: stepped back),
 * beyond what NTP's slewing moves it (at most 500 ppm) and a second: 0 when it did not step. A step back from
 * before this process (a state file written on a clock ahead) is still handled where each time is read
 * (observe.ts, backoff.ts, budget.ts).
 */
export function clockStep(wallElapsed: number, monotonicElapsed: number): number {
  const step = wallElapsed - monotonicElapsed;
  return Math.abs(step) > 1_000 + Math.abs(monotonicElapsed) / 1_000 ? step : 0;
}
