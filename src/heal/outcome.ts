/**
 * Feeding the executor's result of a restart back into the state. decide() commits each restart
 * optimistically (attempt, restart time, next restart time); here a rebalance undoes it.
 */
import { compact } from './observe.js';
import { subjectKey, type HealState, type RestartOutcome, type SubjectState } from './types.js';

function rollBack(s: SubjectState, now: number): SubjectState {
  const at = s.lastRestartAt;
  if (at === undefined) return s;
  const i = s.restartTimes.lastIndexOf(at);
  return compact({
    ...s,
    attempts: Math.max(0, s.attempts - 1),
    restartTimes: i === -1 ? s.restartTimes : [...s.restartTimes.slice(0, i), ...s.restartTimes.slice(i + 1)],
    nextRestartAt: now, // due again: the next poll retries
    lastRestartAt: undefined,
  });
}

/**
 * - ok, failed: the attempt stands (a failed request may still have reached the worker).
 * - not-found: the attempt stands too. A connector deleted meanwhile is forgotten, and its incidents
 *   resolved, by the next decide() whose listing no longer has it; one still listed is still there, and
 *   forgetting it would restart it afresh at every poll, never backing off or paging.
 * - rebalance: not an attempt: rolled back, due again at the next poll. For a connector restart the
 *   tasks restarted with it (same lastRestartAt) are rolled back too. Applying it twice is harmless.
 */
export function applyOutcome(state: HealState, outcome: RestartOutcome, now: number): HealState {
  const key = subjectKey(outcome.subject);
  const { cluster, connector, task } = outcome.subject;
  const sameConnector = (s: SubjectState) => s.cluster === cluster && s.connector === connector;
  switch (outcome.result) {
    case 'ok':
    case 'failed':
    case 'not-found':
      return state;
    case 'rebalance': {
      const at = state.subjects[key]?.lastRestartAt;
      if (at === undefined) return state;
      const subjects = Object.fromEntries(
        Object.entries(state.subjects).map(([k, s]) => {
          const restartedTogether = k === key || (task === null && sameConnector(s) && s.lastRestartAt === at);
          return [k, restartedTogether ? rollBack(s, now) : s];
        }),
      );
      return { ...state, subjects };
    }
  }
}
