import { describe, expect, it } from 'vitest';
import type { MaintenanceWindow } from '../../src/config/types.js';
import { isInWindow, lastStartAtOrBefore, maintenanceMatcher, MAX_WINDOW_MS } from '../../src/heal/windows.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe('lastStartAtOrBefore', () => {
  it('finds the latest fire time of a 5-field expression (UTC)', () => {
    expect(lastStartAtOrBefore('0 2 * * *', at('2026-11-25T03:30:00Z'))).toBe(at('2026-11-25T02:00:00Z'));
    expect(lastStartAtOrBefore('0 2 * * *', at('2026-11-25T01:59:59Z'))).toBe(at('2026-11-24T02:00:00Z'));
    expect(lastStartAtOrBefore('*/15 * * * *', at('2026-11-25T10:44:59.999Z'))).toBe(at('2026-11-25T10:30:00Z'));
  });

  it('counts the fire instant itself', () => {
    expect(lastStartAtOrBefore('0 2 * * *', at('2026-11-25T02:00:00Z'))).toBe(at('2026-11-25T02:00:00Z'));
  });

  it('understands 6-field expressions (seconds first)', () => {
    expect(lastStartAtOrBefore('30 0 2 * * *', at('2026-11-25T02:00:45Z'))).toBe(at('2026-11-25T02:00:30Z'));
    expect(lastStartAtOrBefore('30 0 2 * * *', at('2026-11-25T02:00:29Z'))).toBe(at('2026-11-24T02:00:30Z'));
  });

  it('matches day of week and names (2026-11-22 is a Sunday)', () => {
    expect(lastStartAtOrBefore('0 2 * * SUN', at('2026-11-25T12:00:00Z'))).toBe(at('2026-11-22T02:00:00Z'));
    expect(lastStartAtOrBefore('0 2 * * 7', at('2026-11-25T12:00:00Z'))).toBe(at('2026-11-22T02:00:00Z'));
  });

  it('understands L (last day of month) and n#k (nth weekday)', () => {
    expect(lastStartAtOrBefore('0 23 L * *', at('2026-12-01T00:30:00Z'))).toBe(at('2026-11-30T23:00:00Z'));
    // first Monday of November 2026 is the 2nd; the second (the 9th) does not match
    expect(lastStartAtOrBefore('0 6 * * 1#2', at('2026-11-06T00:00:00Z'))).toBeUndefined();
    expect(lastStartAtOrBefore('0 6 * * 1#1', at('2026-11-06T00:00:00Z'))).toBe(at('2026-11-02T06:00:00Z'));
  });

  it('looks back at most seven days', () => {
    expect(lastStartAtOrBefore('0 0 1 1 *', at('2026-11-25T00:00:00Z'))).toBeUndefined();
    expect(MAX_WINDOW_MS).toBe(7 * 24 * HOUR);
  });

  it('reads times in the window timezone, across a DST change', () => {
    // Europe/Berlin: CET (UTC+1) from 2026-10-25; 02:00 local = 01:00Z
    expect(lastStartAtOrBefore('0 2 * * *', at('2026-11-25T01:30:00Z'), 'Europe/Berlin')).toBe(at('2026-11-25T01:00:00Z'));
    // in summer (CEST, UTC+2) 02:00 local = 00:00Z
    expect(lastStartAtOrBefore('0 2 * * *', at('2026-07-01T00:30:00Z'), 'Europe/Berlin')).toBe(at('2026-07-01T00:00:00Z'));
    // 2026-10-25 03:00 CEST → 02:00 CET: local 02:30 happens twice, the later one wins after both
    expect(lastStartAtOrBefore('30 2 * * *', at('2026-10-25T02:00:00Z'), 'Europe/Berlin')).toBe(at('2026-10-25T01:30:00Z'));
    expect(lastStartAtOrBefore('30 2 * * *', at('2026-10-25T00:45:00Z'), 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
  });
});

describe('isInWindow', () => {
  const nightly: MaintenanceWindow = { cron: '0 2 * * *', duration: HOUR };

  it('is open from the start (inclusive) for duration (exclusive)', () => {
    expect(isInWindow(nightly, 'prod', 'pg-orders', at('2026-11-25T01:59:59Z'))).toBe(false);
    expect(isInWindow(nightly, 'prod', 'pg-orders', at('2026-11-25T02:00:00Z'))).toBe(true);
    expect(isInWindow(nightly, 'prod', 'pg-orders', at('2026-11-25T02:59:59.999Z'))).toBe(true);
    expect(isInWindow(nightly, 'prod', 'pg-orders', at('2026-11-25T03:00:00Z'))).toBe(false);
  });

  it('spans midnight and days', () => {
    const weekend: MaintenanceWindow = { cron: '0 22 * * 6', duration: 30 * HOUR }; // Saturday 22:00 → Monday 04:00
    expect(isInWindow(weekend, 'prod', 'x', at('2026-11-22T12:00:00Z'))).toBe(true);
    expect(isInWindow(weekend, 'prod', 'x', at('2026-11-23T03:59:00Z'))).toBe(true);
    expect(isInWindow(weekend, 'prod', 'x', at('2026-11-23T04:00:00Z'))).toBe(false);
  });

  it('is scoped by cluster and by a connector regular expression', () => {
    const w: MaintenanceWindow = { ...nightly, cluster: 'prod', connector: '^pg-' };
    const now = at('2026-11-25T02:10:00Z');
    expect(isInWindow(w, 'prod', 'pg-orders', now)).toBe(true);
    expect(isInWindow(w, 'prod', 'sink-es', now)).toBe(false);
    expect(isInWindow(w, 'staging', 'pg-orders', now)).toBe(false);
  });

  it('is open through a DST change that is not on the hour (Lord Howe moves by 30 min, Chatham at 02:45)', () => {
    // 2026-10-04 in Lord Howe: 01:45 +10:30 starts the window; 02:00 becomes 02:30 +11; 03:00 is 45 min in.
    const lordHowe: MaintenanceWindow = { cron: '45 1 * * *', duration: 2 * HOUR, timezone: 'Australia/Lord_Howe' };
    expect(isInWindow(lordHowe, 'prod', 'x', at('2026-10-03T16:00:00Z'))).toBe(true);
    // 2026-09-27 in Chatham: 02:00 +12:45 starts the window; 02:45 becomes 03:45 +13:45; 04:00 is 1 h in.
    const chatham: MaintenanceWindow = { cron: '0 2 * * *', duration: 2 * HOUR, timezone: 'Pacific/Chatham' };
    expect(lastStartAtOrBefore(chatham.cron, at('2026-09-26T14:15:00Z'), chatham.timezone)).toBe(at('2026-09-26T13:15:00Z'));
    expect(isInWindow(chatham, 'prod', 'x', at('2026-09-26T14:15:00Z'))).toBe(true);
  });

  it('caps a window at seven days', () => {
    const w: MaintenanceWindow = { cron: '0 0 1 11 *', duration: 30 * 24 * HOUR };
    expect(isInWindow(w, 'prod', 'x', at('2026-11-07T23:00:00Z'))).toBe(true);
    expect(isInWindow(w, 'prod', 'x', at('2026-11-08T01:00:00Z'))).toBe(false);
  });
});

describe('maintenanceMatcher', () => {
  it('answers per connector for one cluster and instant; cluster-wide windows cover "*"', () => {
    const windows: MaintenanceWindow[] = [
      { cron: '0 2 * * *', duration: HOUR, connector: '^pg-' },
      { cron: '0 4 * * *', duration: HOUR, cluster: 'prod' },
      { cron: '0 2 * * *', duration: HOUR, cluster: 'staging' },
    ];
    const two = maintenanceMatcher(windows, 'prod', at('2026-11-25T02:30:00Z'));
    expect([two('pg-orders'), two('sink-es'), two('*')]).toEqual([true, false, false]);
    const four = maintenanceMatcher(windows, 'prod', at('2026-11-25T04:30:00Z'));
    expect([four('pg-orders'), four('sink-es'), four('*')]).toEqual([true, true, true]);
    const noon = maintenanceMatcher(windows, 'prod', at('2026-11-25T12:00:00Z'));
    expect([noon('pg-orders'), noon('*')]).toEqual([false, false]);
  });
});
