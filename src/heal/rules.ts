/**
 * The escalation rules: when a condition is one restarts do not fix. Each returns the reason to page
 * with, or undefined. Pure.
 *
 * Reading of the issue's "escalate what restarts do not fix" per heal.actions value:
 * - escalate: at once, and never restart.
 * - restart: when escalateAfter.restarts restarts within escalateAfter.window have been spent and the
 *   subject is still (again) FAILED; restarts go on under backoff.
 * - restart-then-escalate: at the first failure a restart did not fix (FAILED again after one restart);
 *   restarts go on under backoff.
 * And for both restart kinds: when heal.maxAttempts (> 0) restarts have been spent (restarts go on at the
 * backoff cap), and when the dependency probe has refused for escalateAfter.window (restarts are held
 * back then, so the restart count alone would never page).
 */
import type { FailureClass } from '../classify/types.js';
import type { HealAction } from '../config/schema.js';
import type { HealConfig } from '../config/types.js';
import type { SubjectState } from './types.js';

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  const h = Math.floor(ms / 3_600_000);
  const min = Math.round((ms % 3_600_000) / 60_000);
  return min === 0 ? `${h} h` : `${h} h ${min} min`;
}

const NOT_FIXED_BY_RESTART: Readonly<Record<FailureClass, string>> = {
  serialization: 'serialization failures (bad records) are not fixed by a restart',
  config: 'configuration failures are not fixed by a restart',
  connection: 'heal.actions.connection is escalate: connection failures are paged, not restarted',
  unknown: 'heal.actions.unknown is escalate: unclassified failures are paged, not restarted',
};

export function failureEscalation(
  s: SubjectState,
  cls: FailureClass,
  action: HealAction,
  config: Pick<HealConfig, 'escalateAfter' | 'maxAttempts'>,
  now: number,
  /** The connection endpoint and whether this poll's probe found it refusing (undefined: not probed). */
  dependency: { readonly endpoint: string; readonly refusing: boolean } | undefined,
): string | undefined {
  if (action === 'escalate') return NOT_FIXED_BY_RESTART[cls];
  const { restarts, window } = config.escalateAfter;
  const inWindow = s.restartTimes.filter((t) => t > now - window).length;
  if (action === 'restart-then-escalate' && s.attempts >= 1) return `still failing after ${s.attempts === 1 ? 'a restart' : `${s.attempts} restarts`}`;
  if (action === 'restart' && inWindow >= restarts) return `still failing after ${inWindow} restarts within ${formatDuration(window)}`;
  if (config.maxAttempts > 0 && s.attempts >= config.maxAttempts) {
    return `still failing after ${s.attempts} restarts (heal.maxAttempts ${config.maxAttempts}); restarts go on at the backoff cap`;
  }
  // Only while it still refuses: after a maintenance window (nothing probed inside), the first poll finds
  // it accepting and restarts, rather than paging an outage that is over.
  if (dependency?.refusing === true && s.dependencyDownSince !== undefined && now - s.dependencyDownSince >= window) {
    return `${dependency.endpoint} has refused connections for ${formatDuration(now - s.dependencyDownSince)}; restarts are held back until it accepts`;
  }
  // Refused restarts are not attempts, so the rules above never see them: a rebalance that does not end, or
  // workers that cannot reach the leader to forward to, would be retried unseen for good.
  if (s.refusals !== undefined && s.refusedSince !== undefined && s.refusals >= restarts && now - s.refusedSince >= window) {
    const last = s.lastRefusal === undefined ? '' : `; the last answer: ${s.lastRefusal}`;
    return `Connect refused the last ${s.refusals} restarts as a rebalance for ${formatDuration(now - s.refusedSince)} (409, 500 while forwarding to the leader, or no answer in time): a rebalance that does not end, workers that cannot forward to the leader (its advertised URL unreachable, or TLS between workers refused), or a worker cut off from the Kafka brokers${last}`;
  }
  return undefined;
}

/** `<label, STATE by default> for <how long> (…)` once the subject has been in `state` since `since` for heal.unassignedAfter. */
function inStateTooLong(s: SubjectState, state: SubjectState['state'], since: number | undefined, config: Pick<HealConfig, 'unassignedAfter'>, now: number, label = state): string | undefined {
  if (s.state !== state || since === undefined || now - since < config.unassignedAfter) return undefined;
  return `${label} for ${formatDuration(now - since)} (heal.unassignedAfter ${formatDuration(config.unassignedAfter)})`;
}

export function unassignedEscalation(s: SubjectState, config: Pick<HealConfig, 'unassignedAfter'>, now: number): string | undefined {
  return inStateTooLong(s, 'UNASSIGNED', s.unassignedSince, config, now);
}

/**
 * A connector or task RESTARTING for heal.unassignedAfter: Connect writes RUNNING only once its start()
 * returns, so one whose start() blocks (an unreachable system without a timeout, a lock) reads RESTARTING
 * for good, and no restart or page would ever follow.
 */
export function restartingEscalation(s: SubjectState, config: Pick<HealConfig, 'unassignedAfter'>, now: number): string | undefined {
  const reason = inStateTooLong(s, 'RESTARTING', s.restartingSince, config, now);
  return reason === undefined ? undefined : `${reason}: its start() has not returned`;
}

/** The state remembered for a connector Connect has no status for (an UnreadableConnector with noStatus). */
export const NO_STATUS = 'NO_STATUS';

/**
 * A connector with no status for heal.unassignedAfter: Connect writes one only once the connector's start()
 * has returned, so one created while its start() blocks has none for good, and nothing would follow.
 */
export function noStatusEscalation(s: SubjectState, config: Pick<HealConfig, 'unassignedAfter'>, now: number): string | undefined {
  // NO_STATUS is no Connect state: the page says what it means.
  const reason = inStateTooLong(s, NO_STATUS, s.noStatusSince, config, now, 'no status');
  return reason === undefined ? undefined : `${reason}: its start() has not returned since it was created`;
}

/**
 * A RUNNING connector that has listed no task for heal.noTasksAfter (0: never): its task configs were never
 * written, most often because its worker cannot forward them to the leader. Opt-in: some connectors make no
 * task by design (a MirrorCheckpointConnector with no consumer group, a JDBC source whose filter matches no
 * table), and would be paged for good.
 */
export function noTasksEscalation(s: SubjectState, config: Pick<HealConfig, 'noTasksAfter'>, now: number): string | undefined {
  const after = config.noTasksAfter;
  if (after <= 0 || s.task !== null || s.state !== 'RUNNING' || s.noTasksSince === undefined || now - s.noTasksSince < after) return undefined;
  return (
    `RUNNING with no task for ${formatDuration(now - s.noTasksSince)} (heal.noTasksAfter ${formatDuration(after)}): its task configs were never written. ` +
    'Likely its worker cannot forward them to the leader: the leader\'s advertised REST URL (rest.advertised.host.name, rest.advertised.port, listeners) unreachable from it, TLS between workers refused, ' +
    'or a name with ;, { or } that the forwarded request cannot carry (the leader answers 404 or 500); or its taskConfigs() throws. ' +
    "Either way its worker's log repeats \"Failed to reconfigure connector's tasks\" with the cause. " +
    'Or a connector that makes no task (no consumer group or table matched by its config)'
  );
}

/**
 * Pages a task moving more than rebalance.maxMoves times within rebalance.window, while it still moves.
 * Only the moves of the current episode count: those since the task last stayed on one worker for the
 * stable period. An earlier episode has settled (and its incident resolved); counted again, its moves
 * still in the window would page the next single move at once, as the same incident (same firstSeen).
 * Returns the reason and the episode's first move (the incident's firstSeen).
 */
export function rebalancingEscalation(
  s: SubjectState,
  config: Pick<HealConfig, 'rebalance' | 'stablePeriod'>,
  now: number,
): { readonly reason: string; readonly since: number } | undefined {
  const { maxMoves, window } = config.rebalance;
  const { moves } = s;
  if (moves.length <= maxMoves || settled(s, config.stablePeriod, now)) return undefined;
  let first = moves.length;
  while (first > 0 && (moves[first - 1] as number) > now - window && (first === moves.length || (moves[first] as number) - (moves[first - 1] as number) < config.stablePeriod)) first--;
  const count = moves.length - first;
  if (count <= maxMoves) return undefined;
  return { reason: `moved between workers ${count} times within ${formatDuration(window)} (heal.rebalance.maxMoves ${maxMoves})`, since: moves[first] as number };
}

/** A rebalancing incident is over once the subject has stayed on one worker for the stable period. */
export function settled(s: SubjectState, stablePeriod: number, now: number): boolean {
  const last = s.moves.at(-1);
  return last === undefined || now - last >= stablePeriod;
}
