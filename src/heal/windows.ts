/**
 * Maintenance windows: a node-cron expression gives each window's start, `duration` its length. Pure
 * (no timers, no Date.now()): the question is always "is `now` inside a window", answered by walking
 * back from `now` to the latest start of the cron expression.
 *
 * Semantics follow node-cron's matcher: 5 fields (minute precision) or 6 (seconds first); day of month
 * AND day of week must both match; L, L-n, nW, LW, nL and n#k are understood. Times are read in
 * window.timezone (an IANA name), UTC when absent, so that decisions do not depend on the host's zone.
 */
import { parse, type ParsedFields } from 'node-cron';
import type { MaintenanceWindow } from '../config/types.js';
import { compiledRegExp } from '../util/regexp.js';

/** Windows longer than this are treated as this long: it bounds the walk back. */
export const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

interface LocalParts {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number; // 0 = Sunday
}

interface CompiledCron {
  readonly seconds: readonly number[]; // ascending
  readonly minutes: readonly number[];
  readonly hours: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfMonth: readonly (number | string)[];
  readonly daysOfWeek: readonly (number | string)[];
}

// Caches keep this pure from the outside: same inputs, same answers, only faster.
const compiled = new Map<string, CompiledCron>();
const formatters = new Map<string, Intl.DateTimeFormat>();
const lastStarts = new Map<string, { readonly now: number; readonly start: number | undefined }>();

function compile(cron: string): CompiledCron {
  let c = compiled.get(cron);
  if (c === undefined) {
    const f: ParsedFields = parse(cron);
    const asc = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => a - b);
    c = {
      seconds: asc(f.second),
      minutes: asc(f.minute),
      hours: new Set(f.hour),
      months: new Set(f.month),
      daysOfMonth: f.dayOfMonth,
      daysOfWeek: f.dayOfWeek,
    };
    compiled.set(cron, c);
  }
  return c;
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function partsAt(t: number, timezone: string | undefined): LocalParts {
  if (timezone === undefined || timezone === 'UTC') {
    const d = new Date(t);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  let fmt = formatters.get(timezone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timezone, fmt);
  }
  const out: Record<string, string> = {};
  for (const p of fmt.formatToParts(t)) out[p.type] = p.value;
  return {
    year: Number(out['year']),
    month: Number(out['month']),
    day: Number(out['day']),
    hour: Number(out['hour']) % 24,
    minute: Number(out['minute']),
    second: Number(out['second']),
    weekday: WEEKDAYS[out['weekday'] ?? ''] ?? -1,
  };
}

const lastDayOfMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
const weekdayOf = (year: number, month: number, day: number) => new Date(Date.UTC(year, month - 1, day)).getUTCDay();

function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOfMonth(year, month);
  if (target < 1 || target > last) return -1;
  const wd = weekdayOf(year, month, target);
  if (wd === 6) return target === 1 ? target + 2 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfMonthMatches(field: readonly (number | string)[], p: LocalParts): boolean {
  const last = lastDayOfMonth(p.year, p.month);
  return field.some((v) => {
    if (typeof v === 'number') return v === p.day;
    if (v === 'L') return p.day === last;
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w?.[1] !== undefined) return nearestWeekday(p.year, p.month, w[1] === 'L' ? last : Number(w[1])) === p.day;
    const off = /^L-(\d{1,2})$/.exec(v);
    if (off?.[1] !== undefined) return last - Number(off[1]) === p.day;
    return false;
  });
}

function dayOfWeekMatches(field: readonly (number | string)[], p: LocalParts): boolean {
  return field.some((v) => {
    if (typeof v === 'number') return v % 7 === p.weekday;
    const lastOf = /^([0-7])L$/i.exec(v);
    if (lastOf?.[1] !== undefined) return Number(lastOf[1]) % 7 === p.weekday && p.day + 7 > lastDayOfMonth(p.year, p.month);
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth?.[1] !== undefined && nth[2] !== undefined) {
      return Number(nth[1]) % 7 === p.weekday && Math.floor((p.day - 1) / 7) + 1 === Number(nth[2]);
    }
    return false;
  });
}

/** The largest element of an ascending list that is <= x. */
function maxAtMost(xs: readonly number[], x: number): number | undefined {
  let found: number | undefined;
  for (const v of xs) {
    if (v > x) break;
    found = v;
  }
  return found;
}

/**
 * The latest instant t <= now at which `cron` fires, looking back at most MAX_WINDOW_MS; undefined if
 * none. Walks back an hour at a time through non-matching hours, then jumps straight to the matching
 * minute and second: at most ~170 steps for a week. The jumps assume the local clock ran evenly since the
 * step before; where the UTC offset changed in between (DST: in Lord Howe by half an hour, in Chatham at
 * 02:45, so not always on the hour) the span is walked again a minute at a time.
 */
export function lastStartAtOrBefore(cron: string, now: number, timezone?: string): number | undefined {
  const cacheKey = `${cron}\u0000${timezone ?? ''}`;
  const cached = lastStarts.get(cacheKey);
  if (cached?.now === now) return cached.start;

  const c = compile(cron);
  const floor = now - MAX_WINDOW_MS;
  let start: number | undefined;
  let t = now;
  let previous: { readonly offset: number; readonly minuteStart: number } | undefined;
  /** Instants above it are walked a minute at a time (a span the offset changed in). */
  let byMinuteAbove = Number.POSITIVE_INFINITY;
  while (t > floor) {
    const p = partsAt(t, timezone);
    const ms = ((t % 1000) + 1000) % 1000;
    const minuteStart = t - p.second * 1000 - ms;
    const offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (t - ms);
    const byMinute = t > byMinuteAbove;
    if (!byMinute && previous !== undefined && offset !== previous.offset) {
      byMinuteAbove = t;
      t = previous.minuteStart - 1;
      previous = undefined;
      continue;
    }
    previous = { offset, minuteStart };
    const hourStart = byMinute ? minuteStart : minuteStart - p.minute * 60_000;
    const dayOk = c.months.has(p.month) && dayOfMonthMatches(c.daysOfMonth, p) && dayOfWeekMatches(c.daysOfWeek, p);
    if (!dayOk || !c.hours.has(p.hour)) {
      t = hourStart - 1;
      continue;
    }
    const minute = maxAtMost(c.minutes, p.minute);
    if (minute === undefined) {
      t = hourStart - 1;
      continue;
    }
    if (minute < p.minute) {
      t = byMinute ? minuteStart - 1 : minuteStart - (p.minute - minute) * 60_000 + 59_999; // the last instant of that minute
      continue;
    }
    const second = maxAtMost(c.seconds, p.second);
    if (second === undefined) {
      t = minuteStart - 1;
      continue;
    }
    const fire = minuteStart + second * 1000;
    start = fire > floor ? fire : undefined;
    break;
  }
  lastStarts.set(cacheKey, { now, start });
  return start;
}

/** Does the window's scope cover this connector? connector is an unanchored regular expression. */
export function windowCovers(window: MaintenanceWindow, cluster: string, connector: string): boolean {
  if (window.cluster !== undefined && window.cluster !== cluster) return false;
  return window.connector === undefined || compiledRegExp(window.connector).test(connector);
}

/** Is the window open at `now`: a start t with now − duration < t <= now (duration capped at 7 days). */
export function isWindowOpen(window: MaintenanceWindow, now: number): boolean {
  const start = lastStartAtOrBefore(window.cron, now, window.timezone);
  return start !== undefined && start > now - Math.min(window.duration, MAX_WINDOW_MS);
}

export function isInWindow(window: MaintenanceWindow, cluster: string, connector: string, now: number): boolean {
  return windowCovers(window, cluster, connector) && isWindowOpen(window, now);
}

const outsideEveryWindow = (): boolean => false;

/**
 * The `inMaintenance` input of decide() for one cluster and one instant: which windows are open is
 * worked out once, then each connector is only matched against their scopes. The cluster-wide incident
 * asks about connector '*', which a window without a connector pattern covers.
 */
export function maintenanceMatcher(windows: readonly MaintenanceWindow[], cluster: string, now: number): (connector: string) => boolean {
  const open = windows.filter((w) => (w.cluster === undefined || w.cluster === cluster) && isWindowOpen(w, now));
  // Asked for every failing subject and incident each poll: with no window open, not even a closure.
  if (open.length === 0) return outsideEveryWindow;
  return (connector) => open.some((w) => windowCovers(w, cluster, connector));
}
