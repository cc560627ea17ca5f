/**
 * A wall clock stepped forward (NTP setting a clock that ran slow, a host that started the watchdog before its
 * clock was set): every remembered time is moved forward with it, so that what is measured from them (backoff
 * waits, the restart budget's refill, UNASSIGNED or RESTARTING for heal.unassignedAfter, the stable period,
 * a worker unhealthy for heal.health.after, offsets unmoved for heal.stall.after) counts the time that
 * passed, not the step: else one step of an hour restarts every subject in backoff at once and pages every
 * task caught mid-rebalance. Pure. Incidents keep their firstSeen: it is in their events' ids (announce.ts).
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
 * How far the wall clock ran ahead of the monotonic one between two readings of both, beyond what NTP's
 * slewing moves it (at most 500 ppm) and a second: 0 when it did not step forward. A step back is handled
 * where each time is read (observe.ts, backoff.ts, budget.ts).
 */
export function forwardStep(wallElapsed: number, monotonicElapsed: number): number {
  const step = wallElapsed - monotonicElapsed;
  return step > 1_000 + Math.abs(monotonicElapsed) / 1_000 ? step : 0;
}
