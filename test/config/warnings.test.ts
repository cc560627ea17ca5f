import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { settingWarnings } from '../../src/config/warnings.js';

/** The warnings of a config set by environment variables (CONNECT_WATCHDOG_ + the rest), as "key: reason" lines. */
function warn(env: Record<string, string>, file?: string): string[] {
  const config = loadConfig({ env: Object.fromEntries(Object.entries(env).map(([k, v]) => [`CONNECT_WATCHDOG_${k}`, v])), ...(file !== undefined && { configFile: file }) });
  return settingWarnings(config).map((w) => `${w.key}: ${w.reason}`);
}

describe('settingWarnings', () => {
  it('says nothing of the defaults', () => {
    expect(warn({})).toEqual([]);
    // The README's documented watch of the stall and no-task alarms, at their usual values.
    expect(warn({ HEAL_STALL_CONNECTORS: '.*', HEAL_NO_TASKS_AFTER: '600000' })).toEqual([]);
  });

  it('pollJitter not below pollInterval', () => {
    expect(warn({ POLL_JITTER: '10000' })).toEqual([
      'pollJitter: 10000 ms is not below pollInterval (10000 ms): polls come up to 20000 ms apart; it is meant as a small part of the interval',
    ]);
    expect(warn({ POLL_JITTER: '9999' })).toEqual([]);
  });

  it('infoRefresh below pollInterval', () => {
    expect(warn({ INFO_REFRESH: '300' })).toEqual([
      "infoRefresh: 300 ms is below pollInterval (10000 ms): every poll reads every connector's config (durations are milliseconds)",
    ]);
    expect(warn({ INFO_REFRESH: '10000' })).toEqual([]);
  });

  it('heal.unassignedAfter below Connect\'s scheduled.rebalance.max.delay.ms (written as seconds)', () => {
    expect(warn({ HEAL_UNASSIGNED_AFTER: '900' })).toEqual([
      "heal.unassignedAfter: 900 ms is below Connect's scheduled.rebalance.max.delay.ms (300000 ms by default): every worker restart pages the tasks it ran as unassigned (durations are milliseconds)",
    ]);
    expect(warn({ HEAL_UNASSIGNED_AFTER: '299999' })).toHaveLength(1);
    expect(warn({ HEAL_UNASSIGNED_AFTER: '300000' })).toEqual([]);
  });

  it('heal.noTasksAfter on but shorter than a connector takes to write its first task configs', () => {
    expect(warn({ HEAL_NO_TASKS_AFTER: '900' })).toEqual([
      'heal.noTasksAfter: 900 ms is below 60000 ms: a new or resumed connector whose first task configs take longer is paged as no-tasks (durations are milliseconds)',
    ]);
    expect(warn({ HEAL_NO_TASKS_AFTER: '60000' })).toEqual([]);
    expect(warn({ HEAL_NO_TASKS_AFTER: '0' })).toEqual([]);
  });

  it('heal.stablePeriod not above pollInterval', () => {
    // heldAfter (1 min by default) is also above it then: moot, not warned about.
    expect(warn({ HEAL_STABLE_PERIOD: '600' })).toEqual([
      'heal.stablePeriod: 600 ms is not above pollInterval (10000 ms): a subject seen RUNNING at two polls in a row counts as fixed (counters reset, incident resolved), so a crash loop is never escalated (durations are milliseconds)',
    ]);
    expect(warn({ HEAL_STABLE_PERIOD: '10001' })).toEqual([]);
  });

  it('heal.escalateAfter.window shorter than escalateAfter.restarts restarts can take', () => {
    // Defaults: restarts 10 s apart at least (a poll), then 16 s (20 s backoff less 20 % jitter), judged a poll later: 36 s.
    expect(warn({ HEAL_ESCALATE_AFTER_WINDOW: '1800' })).toEqual([
      'heal.escalateAfter.window: 1800 ms is not above the 36000 ms that 3 restarts take at the least (heal.backoff, pollInterval): a subject that restarts do not fix is never paged',
    ]);
    expect(warn({ HEAL_ESCALATE_AFTER_WINDOW: '36000' })).toHaveLength(1);
    expect(warn({ HEAL_ESCALATE_AFTER_WINDOW: '36001' })).toEqual([]);
    // heal.maxAttempts still pages it.
    expect(warn({ HEAL_ESCALATE_AFTER_WINDOW: '1800', HEAL_MAX_ATTEMPTS: '5' })).toEqual([
      'heal.escalateAfter.window: 1800 ms is not above the 36000 ms that 3 restarts take at the least (heal.backoff, pollInterval): a subject that restarts do not fix is paged only after heal.maxAttempts (5)',
    ]);
    // No class is restarted by count: the window counts no restarts.
    // A billion restarts at a factor of 1 is counted at once, not restart by restart.
    expect(warn({ HEAL_ESCALATE_AFTER_RESTARTS: '1000000000', HEAL_BACKOFF_FACTOR: '1' })).toEqual([
      'heal.escalateAfter.window: 1800000 ms is not above the 10000000000000 ms that 1000000000 restarts take at the least (heal.backoff, pollInterval): a subject that restarts do not fix is never paged',
    ]);
    const none = { HEAL_ESCALATE_AFTER_WINDOW: '1800', HEAL_ACTIONS_CONNECTION: 'escalate', HEAL_ACTIONS_UNKNOWN: 'restart-then-escalate' };
    expect(warn(none)).toEqual([]);
  });

  it('heal.rebalance.window too short to see heal.rebalance.maxMoves + 1 moves', () => {
    expect(warn({ HEAL_REBALANCE_WINDOW: '1800' })).toEqual([
      'heal.rebalance.window: 1800 ms is not above 5 polls (50000 ms): a task is never seen to move more than heal.rebalance.maxMoves (5) times in it, so rebalancing never pages',
    ]);
    expect(warn({ HEAL_REBALANCE_WINDOW: '50001' })).toEqual([]);
  });

  it('heal.stall.after not above the worker\'s default offset flush interval, only while sources are watched', () => {
    expect(warn({ HEAL_STALL_CONNECTORS: '^pg-', HEAL_STALL_AFTER: '60000' })).toEqual([
      "heal.stall.after: 60000 ms is not above the worker's default offset.flush.interval.ms (60000 ms): a healthy source whose offsets move only at each flush is paged as stalled",
    ]);
    expect(warn({ HEAL_STALL_CONNECTORS: '^pg-', HEAL_STALL_AFTER: '120000' })).toEqual([]);
    expect(warn({ HEAL_STALL_AFTER: '60000' })).toEqual([]);
  });

  it('delivery.maxAge not above delivery.interval', () => {
    expect(warn({ DELIVERY_MAX_AGE: '5000' })).toEqual([
      'delivery.maxAge: 5000 ms is not above delivery.interval (5000 ms): a page that fails its first delivery expires before it is tried again (durations are milliseconds)',
    ]);
    expect(warn({ DELIVERY_MAX_AGE: '5001' })).toEqual([]);
  });

  it('alertmanager.resendInterval not below Alertmanager\'s default resolve_timeout, only with an alertmanager sink', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-warn-')), 'c.json');
    writeFileSync(file, JSON.stringify({ sinks: [{ type: 'alertmanager', url: 'http://127.0.0.1:9093' }] }));
    expect(warn({ ALERTMANAGER_RESEND_INTERVAL: '300000' }, file)).toEqual([
      "alertmanager.resendInterval: 300000 ms is not below Alertmanager's default resolve_timeout (300000 ms): an open incident's alert resolves by itself between re-sends and fires again",
    ]);
    expect(warn({ ALERTMANAGER_RESEND_INTERVAL: '299999' }, file)).toEqual([]);
    expect(warn({ ALERTMANAGER_RESEND_INTERVAL: '300000' })).toEqual([]);
  });

  it('maintenance[].duration no longer than a poll (written as seconds), or beyond the 7 days a window is held open', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-warn-')), 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        maintenance: [
          { cron: '0 2 * * 6', duration: 7200 },
          { cron: '0 2 * * 6', duration: 7_200_000 },
          { cron: '0 2 1 * *', duration: 8 * 24 * 3_600_000 },
        ],
      }),
    );
    expect(warn({}, file)).toEqual([
      'maintenance[0].duration: 7200 ms is not above pollInterval (10000 ms): the window may hold no poll, so restarts and pages go on through it (durations are milliseconds)',
      'maintenance[2].duration: 691200000 ms is above 604800000 ms (7 days): the window closes after 7 days',
    ]);
  });
});
