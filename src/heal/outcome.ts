/**
 * Feeding the executor's result of a restart back into the state. decide() commits each restart
 * optimistically (attempt, restart time, next restart time); here a rebalance undoes it.
 */
import { compact } from './observe.js';
import { subjectKey, type HealState, type RestartOutcome, type SubjectState } from './types.js';

/** A restart refused as a rebalance is not an attempt; refusals in a row back off like restarts (wait). */
function rollBack(s: SubjectState, now: number, wait: (refusals: number) => number, refusal: string | undefined): SubjectState {
  const at = s.lastRestartAt;
  if (at === undefined) return s;
  const i = s.restartTimes.lastIndexOf(at);
  const refusals = (s.refusals ?? 0) + 1;
  return compact({
    ...s,
    attempts: Math.max(0, s.attempts - 1),
    restartTimes: i === -1 ? s.restartTimes : [...s.restartTimes.slice(0, i), ...s.restartTimes.slice(i + 1)],
    nextRestartAt: now + wait(refusals),
    lastRestartAt: undefined,
    refusals,
    refusedSince: s.refusedSince ?? now,
    lastRefusal: refusal,
  });
}

/** Ends a run of refusals: a restart reached the worker, or decide() withheld one (no restart, no refusal). */
export const endRefusals = (s: SubjectState): SubjectState => (s.refusals === undefined ? s : compact({ ...s, refusals: undefined, refusedSince: undefined, lastRefusal: undefined }));

/**
 * - ok, failed: the attempt stands (a failed request may still have reached the worker), and ends a run of
 *   refusals.
 * - not-found: the attempt stands too. A connector deleted meanwhile is forgotten, and its incidents
 *   resolved, by the next decide() whose listing no longer has it; one still listed is still there, and
 *   forgetting it would restart it afresh at every poll, never backing off or paging.
 * - rebalance: not an attempt: rolled back, due again after wait(refusals in a row) (the first one at
 *   once, with the default of no wait), and counted as a refusal: a rebalance that never ends, or workers
 *   that cannot reach the leader, is paged (rules.ts) rather than retried unseen forever.
 * For a connector restart the tasks restarted with it (same lastRestartAt) go with it. Applying an outcome
 * twice is harmless.
 */
export function applyOutcome(state: HealState, outcome: RestartOutcome, now: number, wait: (refusals: number) => number = () => 0): HealState {
  const key = subjectKey(outcome.subject);
  const { cluster, connector, task } = outcome.subject;
  const at = state.subjects[key]?.lastRestartAt;
  if (at === undefined) return state;
  const change = outcome.result === 'rebalance' ? (s: SubjectState) => rollBack(s, now, wait, outcome.refusal) : endRefusals;
  const restartedTogether =
    task !== null ? [key] : Object.keys(state.subjects).filter((k) => {
      const s = state.subjects[k] as SubjectState;
      return s.cluster === cluster && s.connector === connector && s.lastRestartAt === at;
    });
  let subjects: Record<string, SubjectState> | undefined;
  for (const k of restartedTogether) {
    const s = state.subjects[k] as SubjectState;
    const next = change(s);
    if (next !== s) (subjects ??= { ...state.subjects })[k] = next;
  }
  return subjects === undefined ? state : { ...state, subjects };
}
