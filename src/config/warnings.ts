/**
 * Settings that are valid one by one but contradict each other, or how Kafka Connect (or Alertmanager)
 * behaves: a duration written in seconds (the unit is milliseconds), a window no poll can fill. Warnings,
 * not errors: each still runs, these values were accepted before, and an operator may mean them (a
 * cluster with a lower scheduled.rebalance.max.delay.ms). Pure; the CLI prints them at start.
 */
import { backoffWait } from '../heal/backoff.js';
import { MAX_WINDOW_MS } from '../heal/windows.js';
import type { WatchdogConfig } from './types.js';

export interface SettingWarning {
  readonly key: string;
  readonly reason: string;
}

/** Connect's default scheduled.rebalance.max.delay.ms: a departed worker's tasks stay UNASSIGNED this long. */
export const CONNECT_REBALANCE_DELAY_MS = 300_000;
/**
 * Below this, heal.noTasksAfter pages connectors still writing their first task configs: a connector that
 * discovers its work (tables, topics) in taskConfigs() may take tens of seconds after a create or resume.
 */
export const NO_TASKS_FLOOR_MS = 60_000;
/** The worker's default offset.flush.interval.ms: a healthy source's committed offsets move this often. */
export const CONNECT_OFFSET_FLUSH_MS = 60_000;
/** Alertmanager's default resolve_timeout: an alert sent without endsAt resolves after this. */
export const ALERTMANAGER_RESOLVE_TIMEOUT_MS = 300_000;

const MILLIS = ' (durations are milliseconds)';

type Checked = Pick<WatchdogConfig, 'pollInterval' | 'pollJitter' | 'infoRefresh' | 'heal' | 'maintenance' | 'delivery' | 'alertmanager' | 'sinks'>;

/**
 * The least time from a subject's first restart to the poll that can see `escalateAfter.restarts` of them:
 * restarts happen at polls (at most one a poll), each after its backoff wait shortened by the most jitter,
 * and escalation is judged on restarts already made, so a poll later.
 */
export function leastEscalationSpan(config: Pick<WatchdogConfig, 'pollInterval' | 'heal'>): number {
  const { initial, factor, max } = config.heal.backoff;
  // The policy's own wait with the most jitter (random() = 1); maxAttempts' cap only lengthens it.
  const step = (attempt: number): number => Math.max(config.pollInterval, backoffWait(attempt, { backoff: config.heal.backoff, maxAttempts: 0 }, () => 1));
  const waits = config.heal.escalateAfter.restarts - 1;
  let span = config.pollInterval;
  for (let attempt = 1; attempt <= waits; attempt++) {
    // At the cap every further wait is the same: no loop of a million restarts.
    if (initial * Math.pow(factor, Math.min(attempt - 1, 64)) >= max) return span + (waits - attempt + 1) * step(attempt);
    // A factor of 1 or less never reaches the cap: past this many, count a poll each (still a least span).
    if (attempt > 10_000) return span + (waits - attempt + 1) * config.pollInterval;
    span += step(attempt);
  }
  return span;
}

/** The warnings of a valid config, in the order of the schema's keys. */
export function settingWarnings(config: Checked): SettingWarning[] {
  const out: SettingWarning[] = [];
  const add = (key: string, reason: string): void => void out.push({ key, reason });
  const { pollInterval: poll, pollJitter: jitter, heal } = config;

  if (jitter >= poll) add('pollJitter', `${jitter} ms is not below pollInterval (${poll} ms): polls come up to ${poll + jitter} ms apart; it is meant as a small part of the interval`);
  if (config.infoRefresh < poll) add('infoRefresh', `${config.infoRefresh} ms is below pollInterval (${poll} ms): every poll reads every connector's config${MILLIS}`);

  if (heal.stablePeriod <= poll) {
    add('heal.stablePeriod', `${heal.stablePeriod} ms is not above pollInterval (${poll} ms): a subject seen RUNNING at two polls in a row counts as fixed (counters reset, incident resolved), so a crash loop is never escalated${MILLIS}`);
  }
  // Only the restart action escalates by count; escalate and restart-then-escalate page without it.
  if (Object.values(heal.actions).includes('restart')) {
    const { restarts, window } = heal.escalateAfter;
    const least = leastEscalationSpan(config);
    if (window <= least) {
      const outcome = heal.maxAttempts > 0 ? `is paged only after heal.maxAttempts (${heal.maxAttempts})` : 'is never paged';
      add('heal.escalateAfter.window', `${window} ms is not above the ${least} ms that ${restarts} restarts take at the least (heal.backoff, pollInterval): a subject that restarts do not fix ${outcome}`);
    }
  }
  if (heal.unassignedAfter < CONNECT_REBALANCE_DELAY_MS) {
    add('heal.unassignedAfter', `${heal.unassignedAfter} ms is below Connect's scheduled.rebalance.max.delay.ms (${CONNECT_REBALANCE_DELAY_MS} ms by default): every worker restart pages the tasks it ran as unassigned${MILLIS}`);
  }
  if (heal.noTasksAfter > 0 && heal.noTasksAfter < NO_TASKS_FLOOR_MS) {
    add('heal.noTasksAfter', `${heal.noTasksAfter} ms is below ${NO_TASKS_FLOOR_MS} ms: a new or resumed connector whose first task configs take longer is paged as no-tasks${MILLIS}`);
  }
  // Moves are seen at polls: maxMoves + 1 of them span maxMoves polls at the least.
  const { maxMoves, window: moveWindow } = heal.rebalance;
  const movesSpan = Math.min(maxMoves, Number.MAX_SAFE_INTEGER / poll) * poll;
  if (moveWindow <= movesSpan) {
    add('heal.rebalance.window', `${moveWindow} ms is not above ${maxMoves} polls (${movesSpan} ms): a task is never seen to move more than heal.rebalance.maxMoves (${maxMoves}) times in it, so rebalancing never pages`);
  }
  if (heal.stall.connectors !== '' && heal.stall.after <= CONNECT_OFFSET_FLUSH_MS) {
    add('heal.stall.after', `${heal.stall.after} ms is not above the worker's default offset.flush.interval.ms (${CONNECT_OFFSET_FLUSH_MS} ms): a healthy source whose offsets move only at each flush is paged as stalled`);
  }
  // Windows are looked at by the polls: one no longer than a poll interval may open and close between two.
  for (const [i, w] of config.maintenance.entries()) {
    const key = `maintenance[${i}].duration`;
    if (w.duration <= poll) add(key, `${w.duration} ms is not above pollInterval (${poll} ms): the window may hold no poll, so restarts and pages go on through it${MILLIS}`);
    else if (w.duration > MAX_WINDOW_MS) add(key, `${w.duration} ms is above ${MAX_WINDOW_MS} ms (7 days): the window closes after 7 days`);
  }
  // A sink whose drain failed waits delivery.interval (at least) for its next.
  if (config.delivery.maxAge <= config.delivery.interval) {
    add('delivery.maxAge', `${config.delivery.maxAge} ms is not above delivery.interval (${config.delivery.interval} ms): a page that fails its first delivery expires before it is tried again${MILLIS}`);
  }
  if (config.sinks.some((s) => s.type === 'alertmanager') && config.alertmanager.resendInterval >= ALERTMANAGER_RESOLVE_TIMEOUT_MS) {
    add('alertmanager.resendInterval', `${config.alertmanager.resendInterval} ms is not below Alertmanager's default resolve_timeout (${ALERTMANAGER_RESOLVE_TIMEOUT_MS} ms): an open incident's alert resolves by itself between re-sends and fires again`);
  }
  return out;
}
