/** What bench/scale/run.ts and its poller child processes exchange (argv JSON in, one IPC message out). */
import { get } from 'node:http';

/**
 * watchdog-churn: the watchdog while the sim's listing changes on every request (see sim-worker.ts);
 * client-only: the watchdog's Connect client and nothing more; receive-only: the listing's bytes received
 * and nothing else, the floor under any poller that reads it.
 */
export type PollerName = 'watchdog' | 'watchdog-churn' | 'naive' | 'naive-no-keepalive' | 'runbook' | 'client-only' | 'receive-only';

export interface PollerArgs {
  readonly url: string;
  readonly warmup: number;
  readonly polls: number;
  /** Idle time between polls (the daemon sleeps pollInterval; a short gap is enough to separate them). */
  readonly gapMs: number;
  /**
   * The parent paces the polls: one poll per `{ type: 'poll' }` message, answered `{ type: 'polled' }`,
   * until `{ type: 'done' }`. So the pollers of a size take turns, and a machine that slows down or speeds
   * up during the run does so for all of them alike (their ratios are what the bench is for).
   */
  readonly paced?: boolean;
}

export interface PollSample {
  readonly poll: number;
  readonly warmup: boolean;
  /** Requests the sim answered during the poll. */
  readonly requests: number;
  /** Response body bytes the sim sent during the poll. */
  readonly bytes: number;
  /** process.cpuUsage() delta (user + system, all threads of the poller process). */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** RSS right after the poll. */
  readonly rssMb: number;
  /** Minor page faults of the poller process during the poll (fresh memory touched: ~10 µs each on a VM). */
  readonly minorFaults: number;
  readonly heapUsedMb: number;
  /** Watchdog only: CPU or wall ms by phase, and what the poll decided. */
  readonly phases?: Readonly<Record<string, number>>;
  readonly actions?: Readonly<Record<string, number>>;
}

export interface PollerResult {
  readonly type: 'result';
  readonly poller: PollerName;
  /** RSS after start-up and imports, before the first poll. */
  readonly baselineRssMb: number;
  /** process.resourceUsage().maxRSS at the end: the peak over the process's life. */
  readonly peakRssMb: number;
  readonly samples: readonly PollSample[];
  readonly notes?: Readonly<Record<string, number | string>>;
}

export const MB = 1024 * 1024;

export function parseArgs(): PollerArgs {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('usage: poller <json args>');
  return JSON.parse(raw) as PollerArgs;
}

/** The sim's counters, on a connection of its own (not counted by the sim, not inside a measured window). */
export function simStats(url: string): Promise<{ requests: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    get(`${url}/__bench/stats`, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(JSON.parse(text) as { requests: number; bytes: number }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Turns the sim's churn on or off (`GET /__bench/churn?on=1|0`, not counted). */
export function setChurn(url: string, on: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    get(`${url}/__bench/churn?on=${on ? 1 : 0}`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`churn: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The parent's messages to a paced poller, kept from the start so that none arrives before its reader. */
function inbox(): () => Promise<string> {
  const queued: string[] = [];
  let waiting: ((type: string) => void) | undefined;
  process.on('message', (m: unknown) => {
    const type = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') return;
    if (waiting === undefined) queued.push(type);
    else {
      const w = waiting;
      waiting = undefined;
      w(type);
    }
  });
  return () => {
    const type = queued.shift();
    return type !== undefined ? Promise.resolve(type) : new Promise((resolve) => (waiting = resolve));
  };
}

/**
 * Runs `poll` warmup + polls times (or, paced, as often as the parent asks), measuring each the same way
 * for every poller.
 */
export async function measure(
  args: PollerArgs,
  poll: () => Promise<{ phases?: Record<string, number>; actions?: Record<string, number> } | void>,
): Promise<PollSample[]> {
  const samples: PollSample[] = [];
  const one = async (i: number): Promise<void> => {
    const before = await simStats(args.url);
    // The gap after the stats request, so that its socket's teardown is not counted in the poll.
    await sleep(args.gapMs);
    const faults0 = process.resourceUsage().minorPageFault;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const extra = await poll();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const minorFaults = process.resourceUsage().minorPageFault - faults0;
    const after = await simStats(args.url);
    const mem = process.memoryUsage();
    samples.push({
      poll: i + 1,
      warmup: i < args.warmup,
      requests: after.requests - before.requests,
      bytes: after.bytes - before.bytes,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      rssMb: mem.rss / MB,
      minorFaults,
      heapUsedMb: mem.heapUsed / MB,
      ...(extra?.phases !== undefined && { phases: extra.phases }),
      ...(extra?.actions !== undefined && { actions: extra.actions }),
    });
  };
  if (!args.paced) {
    for (let i = 0; i < args.warmup + args.polls; i += 1) await one(i);
    return samples;
  }
  const next = inbox();
  const send = (type: string) => new Promise<void>((resolve) => process.send?.({ type }, () => resolve()));
  await send('ready');
  for (let i = 0; (await next()) === 'poll'; i += 1) {
    await one(i);
    await send('polled');
  }
  return samples;
}

export function finish(result: Omit<PollerResult, 'type' | 'peakRssMb'>): void {
  const message: PollerResult = { type: 'result', ...result, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  process.send?.(message, () => process.exit(0));
}
