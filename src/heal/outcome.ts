/**
 * Feeding the executor's result of a restart back into the state. decide() commits each restart
 * optimistically (attempt, restart time, next restart time); here a rebalance undoes it.
 */
import type { ClusterSnapshot } from '../connect/types.js';
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
 * - rebalance: not an attempt: rolled back, due again at the next poll. For a connector restart the
 *   tasks restarted with it (same lastRestartAt) are rolled back too. Applying it twice is harmless.
 * - not-found: the connector (task null) and its tasks, or the one task, are forgotten; open incidents
 *   are resolved by the next decide(), which no longer sees the connector.
 */
export function applyOutcome(state: HealState, outcome: RestartOutcome, now: number): HealState {
  const key = subjectKey(outcome.subject);
  const { cluster, connector, task } = outcome.subject;
  const sameConnector = (s: SubjectState) => s.cluster === cluster && s.connector === connector;
  switch (outcome.result) {
    case 'ok':
    case 'failed':
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
    case 'not-found': {
      const subjects = Object.fromEntries(Object.entries(state.subjects).filter(([k, s]) => (task === null ? !sameConnector(s) : k !== key)));
      return { ...state, subjects };
    }
  }
}

/**
 * The snapshot to pass as DecideInput.previous after an outcome. decide() reads a subject absent from
 * state but listed in `previous` as quiet on the worker listed there; a subject applyOutcome forgot
 * (not-found) must be new to the next decide(), so it goes from `previous` too. Otherwise `previous` is
 * returned as it is.
 */
export function applyOutcomeToPrevious(previous: ClusterSnapshot, outcome: RestartOutcome): ClusterSnapshot {
  const { cluster, connector, task } = outcome.subject;
  if (outcome.result !== 'not-found' || previous.cluster !== cluster || !previous.connectors.some((c) => c.name === connector)) return previous;
  const connectors =
    task === null
      ? previous.connectors.filter((c) => c.name !== connector)
      : previous.connectors.map((c) => (c.name === connector ? { ...c, tasks: c.tasks.filter((t) => t.id !== task) } : c));
  return { ...previous, connectors };
}
