import { createTask } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { lastStartAtOrBefore } from '../../src/heal/windows.js';

// node-cron's scheduler finds fire times forwards with TimeMatcher.getNextMatch; it is not exported, so
// reach it through a task (never started). If node-cron renames it, this test fails loudly.
type Matcher = { match(d: Date): boolean; getNextMatch(d: Date): Date };

/** node-cron agrees when `found` fires and the next fire after it (or after now − 7 days) is past `now`. */
function agreesWithNodeCron(cron: string, now: number, timezone: string, found: number | undefined): string | true {
  const task = createTask(cron, () => undefined, { timezone });
  try {
    const matcher = (task as unknown as { timeMatcher: Matcher }).timeMatcher;
    if (found !== undefined && (found > now || !matcher.match(new Date(found)))) return `node-cron does not fire at ${new Date(found).toISOString()}`;
    const next = matcher.getNextMatch(new Date(found ?? now - 7 * 86_400_000)).getTime();
    return next > now ? true : `node-cron fires at ${new Date(next).toISOString()}`;
  } finally {
    void task.destroy();
  }
}

describe('lastStartAtOrBefore agrees with node-cron', () => {
  const expressions = ['0 2 * * *', '*/20 9-17 * * MON-FRI', '45 23 * * 0', '0 0 L * *', '15 4 1-7 * 2', '0 12 15W * *', '5 1 * * 5L', '0 */6 * * *', '30 2 * * *', '10 30 2 * * *', '45 1 * * *', '0 2 * * 0', '*/15 1-4 * * *'];
  // Lord Howe changes its clock by 30 min, Chatham at 02:45/03:45 local: changes that are not on the hour.
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
  // Around the 2026 DST changes of Berlin, New York, Lord Howe and Chatham, and a fixed pseudo-random spread
  // over the year.
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const instants = [
    Date.UTC(2026, 2, 29, 0, 40),
    Date.UTC(2026, 2, 29, 3, 10),
    Date.UTC(2026, 9, 25, 0, 40),
    Date.UTC(2026, 9, 25, 1, 40),
    Date.UTC(2026, 2, 8, 8, 10),
    Date.UTC(2026, 10, 1, 7, 10),
    ...[0, 20, 40, 60, 90, 120, 180].flatMap((m) => [
      Date.UTC(2026, 9, 3, 15, 30) + m * 60_000, // Lord Howe: 02:00 +10:30 becomes 02:30 +11
      Date.UTC(2026, 3, 4, 15, 0) + m * 60_000, // Lord Howe: 02:00 +11 becomes 01:30 +10:30
      Date.UTC(2026, 8, 26, 14, 0) + m * 60_000, // Chatham: 02:45 +12:45 becomes 03:45 +13:45
      Date.UTC(2026, 3, 4, 14, 0) + m * 60_000, // Chatham: 03:45 +13:45 becomes 02:45 +12:45
    ]),
    ...Array.from({ length: 40 }, () => Date.UTC(2026, 0, 1) + Math.floor(next() * 365 * 86_400_000)),
  ];

  for (const cron of expressions) {
    it(cron, () => {
      for (const zone of zones) {
        for (const now of instants) {
          const found = lastStartAtOrBefore(cron, now, zone);
          expect(agreesWithNodeCron(cron, now, zone, found), `${cron} in ${zone} at ${new Date(now).toISOString()}`).toBe(true);
        }
      }
    });
  }
});
