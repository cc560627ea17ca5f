/**
 * Scale bench: for each size, a simulated Connect worker (child process) and each poller in a child
 * process of its own (compiled JS, as the daemon runs in production), polling in turns of 10 polls (the
 * runbook alone, after them), measured the same way per poll. `npx tsx bench/scale/run.ts [tasks...]`
 * runs it alone; bench/run.ts runs it with the policy bench and writes bench/RESULTS.md.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, BUILD_DIR, repoPath } from '../lib/paths.js';
import { fixed, max, mean, median, percentile, table } from '../lib/stats.js';
import { setChurn, type PollerArgs, type PollerName, type PollerResult, type PollSample } from './protocol.js';

export interface SizePlan {
  readonly tasks: number;
  readonly warmup: number;
  readonly polls: number;
  /** The runbook poller spawns ~3 processes per connector: fewer polls, or none (undefined). */
  readonly runbook?: { readonly warmup: number; readonly polls: number };
}

// 30 measured polls = 5 min of the watchdog's clock (10 s a poll): one connector-info refresh falls in them,
// so the mean is the amortized cost of a poll. As many warm-up polls before them (fewer at 50k, where a
// naive poll takes 0.3 s): the watchdog writes its state file one poll in three and refreshes the info one
// in thirty, and with 3 warm-up polls the first measured writes and the refresh still paid for the JIT
// compiling those paths, which a daemon running for days does once. Every poller gets the same warm-up.
export const DEFAULT_PLAN: readonly SizePlan[] = [
  { tasks: 1_000, warmup: 30, polls: 30, runbook: { warmup: 0, polls: 3 } },
  { tasks: 10_000, warmup: 30, polls: 30, runbook: { warmup: 0, polls: 1 } },
  { tasks: 50_000, warmup: 10, polls: 30 },
];

export const POLLERS: readonly PollerName[] = ['watchdog', 'watchdog-churn', 'naive', 'naive-no-keepalive', 'runbook', 'client-only', 'receive-only'];
const OURS: readonly PollerName[] = ['watchdog', 'watchdog-churn'];
const isOurs = (p: PollerName) => OURS.includes(p);
/** Neither ours nor a way to poll: what parts of a poll cost by themselves. */
const isPart = (p: PollerName) => p === 'client-only' || p === 'receive-only';
/** What the watchdog is compared with. */
const isNaive = (p: PollerName) => !isOurs(p) && !isPart(p);
/** Started as the watchdog is deployed (its node flags and allocator setting). */
const runsAsDeployed = (p: PollerName) => isOurs(p) || p === 'client-only';

/** BENCH_POLLERS="watchdog naive" runs only those (quicker iterations); default: all of them. */
function pollersToRun(): readonly PollerName[] {
  const wanted = (process.env['BENCH_POLLERS'] ?? '').split(/[\s,]+/).filter((p) => p !== '');
  return wanted.length === 0 ? POLLERS : POLLERS.filter((p) => wanted.includes(p));
}

function hasShellTools(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v curl && command -v jq && command -v xargs'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface SimInfo {
  readonly port: number;
  readonly connectors: number;
  readonly tasks: number;
  readonly failedTasks: number;
  readonly failedByClass: Record<string, number>;
  readonly expandBytes: number;
  readonly statusBytes: number;
}

export interface SizeResult {
  readonly plan: SizePlan;
  readonly sim: SimInfo;
  readonly results: readonly PollerResult[];
}

/** Compiles src + bench into bench/.build (tsc emits even with type errors; those are reported). */
export function build(log: (line: string) => void): void {
  const tsc = repoPath('node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(BENCH_DIR, 'tsconfig.json')], { stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    log(`tsc reported type errors (JS emitted anyway):\n${out.split('\n').slice(0, 10).join('\n')}`);
  }
  if (!existsSync(join(BUILD_DIR, 'bench', 'scale', 'sim-worker.js'))) throw new Error('bench build failed');
}

function once<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type) {
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before sending ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const compiled = (name: string) => join(BUILD_DIR, 'bench', 'scale', `${name}.js`);

/** Extra node flags for the pollers that run as deployed (the watchdog's, client-only's): BENCH_CPU_PROF=dir (a .cpuprofile per size), BENCH_WATCHDOG_FLAGS="--max-semi-space-size=4 ...". */
function deployedFlags(poller: PollerName, tasks: number): string[] {
  if (!runsAsDeployed(poller)) return [];
  // As deployed (Dockerfile, systemd unit, npm start): a 4 MB young generation.
  const flags = (process.env['BENCH_WATCHDOG_FLAGS'] ?? '--max-semi-space-size=4').split(/\s+/).filter((f) => f !== '');
  const dir = process.env['BENCH_CPU_PROF'];
  if (dir === undefined || dir === '') return flags;
  mkdirSync(dir, { recursive: true });
  return [...flags, '--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${poller}-${tasks}.cpuprofile`];
}

/**
 * The watchdog child's (and client-only's) environment as deployed (Dockerfile, systemd unit, npm start): MALLOC_ARENA_MAX=1;
 * BENCH_MALLOC_ARENA_MAX replaces the value ('' for glibc's default). The other pollers get glibc's default.
 */
function pollerEnv(poller: PollerName): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['MALLOC_ARENA_MAX'];
  const arenas = process.env['BENCH_MALLOC_ARENA_MAX'] ?? '1';
  if (runsAsDeployed(poller) && arenas !== '') env['MALLOC_ARENA_MAX'] = arenas;
  return env;
}

/** The file each poller runs (bench/scale/<file>.ts); variants of one poller share it. */
const POLLER_FILES: Readonly<Record<PollerName, string>> = {
  watchdog: 'poller-watchdog',
  'watchdog-churn': 'poller-watchdog',
  naive: 'poller-naive',
  'naive-no-keepalive': 'poller-naive',
  runbook: 'poller-runbook',
  'client-only': 'poller-client',
  'receive-only': 'poller-receive',
};

/** A poller's child process, started: `fork` of its compiled file with its flags and environment. */
function startPoller(poller: PollerName, args: PollerArgs, tasks: number): ChildProcess {
  const file = compiled(POLLER_FILES[poller]);
  const argv = [JSON.stringify(args), ...(poller === 'naive-no-keepalive' ? ['no-keepalive'] : [])];
  return fork(file, argv, { execArgv: deployedFlags(poller, tasks), env: pollerEnv(poller), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function resultOf(child: ChildProcess, poller: PollerName): Promise<PollerResult> {
  const result = await once<PollerResult>(child, 'result');
  await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  return { ...result, poller };
}

/** Polls a poller makes in a row, in its turn: most of them with warm caches, as polls back to back are. */
const TURN_POLLS = 10;

/**
 * The pollers of one size, all started at once and polling in turns of TURN_POLLS polls each, in an order
 * that rotates from one round of turns to the next. So every poller's polls are spread over the whole
 * run, and a machine whose speed drifts (another VM on the host, frequency scaling) moves them all alike
 * instead of the one that happened to run then. The sim churns only during watchdog-churn's turns.
 */
async function runInTurns(pollers: readonly PollerName[], args: PollerArgs, tasks: number): Promise<PollerResult[]> {
  const children = pollers.map((poller) => ({ poller, child: startPoller(poller, { ...args, paced: true }, tasks) }));
  const results = children.map(({ poller, child }) => resultOf(child, poller));
  // A child that dies rejects its result: the bench stops with that error instead of waiting for it.
  const died = Promise.race(results).then(() => new Promise<never>(() => {}));
  died.catch(() => {}); // observed through the races below
  const ask = async (child: ChildProcess, type: 'poll' | 'done', reply?: string) => {
    const answered = reply === undefined ? undefined : once(child, reply);
    child.send({ type });
    if (answered !== undefined) await Promise.race([answered, died]);
  };
  await Promise.race([Promise.all(children.map(({ child }) => once(child, 'ready'))), died]);
  const total = args.warmup + args.polls;
  for (let round = 0, done = 0; done < total; round += 1, done += TURN_POLLS) {
    for (let k = 0; k < children.length; k += 1) {
      const { poller, child } = children[(round + k) % children.length] as (typeof children)[number];
      const churn = poller === 'watchdog-churn';
      if (churn) await setChurn(args.url, true);
      try {
        for (let i = done; i < Math.min(total, done + TURN_POLLS); i += 1) await ask(child, 'poll', 'polled');
      } finally {
        if (churn) await setChurn(args.url, false);
      }
    }
  }
  for (const { child } of children) await ask(child, 'done');
  return Promise.all(results);
}

export async function runScale(plan: readonly SizePlan[], log: (line: string) => void, gapMs = 100): Promise<SizeResult[]> {
  build(log);
  const shellTools = hasShellTools();
  if (!shellTools) log('curl, jq or xargs missing: the runbook poller is skipped');
  const out: SizeResult[] = [];
  for (const size of plan) {
    const sim = fork(compiled('sim-worker'), [String(size.tasks)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const info = await once<SimInfo>(sim, 'ready');
      log(
        `${size.tasks} tasks: ${info.connectors} connectors, ${info.failedTasks} FAILED (${Object.entries(info.failedByClass).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
          `expand body ${(info.expandBytes / 1e6).toFixed(2)} MB, status bodies ${(info.statusBytes / 1e6).toFixed(2)} MB in all`,
      );
      const url = `http://127.0.0.1:${info.port}`;
      const wanted = pollersToRun();
      const results = await runInTurns(
        wanted.filter((p) => p !== 'runbook'),
        { url, warmup: size.warmup, polls: size.polls, gapMs },
        size.tasks,
      );
      // The runbook alone, after the others: its polls take seconds and spawn thousands of processes.
      if (wanted.includes('runbook') && size.runbook !== undefined && shellTools) {
        const runbook = { url, warmup: size.runbook.warmup, polls: size.runbook.polls, gapMs };
        results.push(await resultOf(startPoller('runbook', runbook, size.tasks), 'runbook'));
      }
      for (const r of results) log(perPollText(r));
      out.push({ plan: size, sim: info, results });
    } finally {
      sim.kill();
    }
  }
  return out;
}

const measured = (r: PollerResult) => r.samples.filter((s) => !s.warmup);
const col = (r: PollerResult, f: (s: PollSample) => number) => measured(r).map(f);

function perPollText(r: PollerResult): string {
  const lines = r.samples.map(
    (s) =>
      `  ${r.poller.padEnd(18)} poll ${String(s.poll).padStart(2)}${s.warmup ? ' (warm-up)' : '          '} requests ${String(s.requests).padStart(5)}  bytes ${String(s.bytes).padStart(9)}  ` +
      `cpu ${s.cpuMs.toFixed(1).padStart(7)} ms  wall ${s.wallMs.toFixed(1).padStart(7)} ms  rss ${s.rssMb.toFixed(1).padStart(6)} MB`,
  );
  return [...lines, `  ${r.poller}: baseline RSS ${r.baselineRssMb.toFixed(1)} MB, peak RSS ${r.peakRssMb.toFixed(1)} MB`].join('\n');
}

/** Markdown: the summary per size, the ratios, the watchdog's phases, then every poll in a <details>. */
export function scaleMarkdown(results: readonly SizeResult[]): string {
  const parts: string[] = [];
  const summaryRows: string[][] = [];
  const ratioRows: string[][] = [];
  for (const { plan, sim, results: rs } of results) {
    for (const r of rs) {
      summaryRows.push([
        `${plan.tasks.toLocaleString('en-US')} tasks / ${sim.connectors} conn.`,
        r.poller,
        fixed(median(col(r, (s) => s.requests)), 0),
        fixed(median(col(r, (s) => s.bytes)) / 1e6, 2),
        fixed(median(col(r, (s) => s.cpuMs))),
        fixed(percentile(col(r, (s) => s.cpuMs), 90)),
        fixed(mean(col(r, (s) => s.cpuMs))),
        fixed(median(col(r, (s) => s.wallMs))),
        fixed(percentile(col(r, (s) => s.wallMs), 90)),
        ...(r.poller === 'runbook' ? ['—', '—', '—', '—'] : [fixed(mean(col(r, (s) => s.minorFaults)), 0), fixed(max(col(r, (s) => s.rssMb))), fixed(r.peakRssMb), fixed(r.baselineRssMb)]),
      ]);
    }
    for (const ours of rs.filter((r) => isOurs(r.poller))) for (const naive of rs.filter((r) => isNaive(r.poller))) {
      // The runbook's sample counts are small: its ratios are indicative.
      const ratio = (f: (s: PollSample) => number) => median(col(naive, f)) / median(col(ours, f));
      ratioRows.push([
        `${plan.tasks.toLocaleString('en-US')} tasks`,
        ours.poller,
        naive.poller,
        `${fixed(ratio((s) => s.requests), 0)}×`,
        `${fixed(ratio((s) => s.bytes), 2)}×`,
        `${fixed(ratio((s) => s.cpuMs), 2)}×`,
        `${fixed(mean(col(naive, (s) => s.cpuMs)) / mean(col(ours, (s) => s.cpuMs)), 2)}×`,
        `${fixed(ratio((s) => s.wallMs), 2)}×`,
        naive.poller === 'runbook' ? '—' : `${fixed(naive.peakRssMb / ours.peakRssMb, 2)}×`,
      ]);
    }
  }
  parts.push(
    `The pollers of a size poll in turns of ${TURN_POLLS} polls each, round after round (the runbook alone, after them): see docs/bench.md. ` +
      'Medians, 90th percentiles and means over the measured polls (the warm-up polls before them, 30 or 10 at 50k, excluded; 30 polls = 5 min of the ' +
      'watchdog\'s clock, which moves 10 s per poll, so the means carry one connector-info refresh and a state-file ' +
      'write every third poll). CPU is the poller process\'s `process.cpuUsage()` delta (user + system, all its ' +
      'threads, GC included); RSS after poll is the largest `process.memoryUsage().rss` seen right after a poll; ' +
      'peak RSS is `process.resourceUsage().maxRSS` over the process\'s life; baseline RSS is after start-up and ' +
      'imports, before the first poll; page faults are the mean of the minor page faults during a poll (fresh memory ' +
      'touched, about 10 µs each on this VM). watchdog-churn is the watchdog while the listing changes at every poll; ' +
      'client-only is the watchdog\'s Connect client alone (its snapshot: HTTP, the comparison with the last listing, the info refresh), nothing decided or written; ' +
      'receive-only is no poller but the floor under them all: the listing\'s bytes received on a raw socket, nothing parsed.\n',
    table(
      ['size', 'poller', 'requests/poll', 'MB/poll', 'CPU ms med', 'CPU ms p90', 'CPU ms mean', 'wall ms med', 'wall ms p90', 'page faults/poll', 'RSS after poll MB', 'peak RSS MB', 'baseline RSS MB'],
      summaryRows,
      ['l', 'l'],
    ),
    '\nRatios, naive ÷ ours (>1 means ours uses less; medians except where it says means):\n',
    table(['size', 'ours', 'naive poller', 'requests', 'bytes', 'CPU (medians)', 'CPU (means)', 'wall', 'peak RSS'], ratioRows, ['l', 'l', 'l']),
  );

  const phaseRows: string[][] = [];
  for (const { plan, results: rs } of results) for (const ours of rs.filter((r) => isOurs(r.poller))) {
    const ph = (k: string) => median(col(ours, (s) => s.phases?.[k] ?? Number.NaN));
    const cpu = median(col(ours, (s) => s.cpuMs));
    const rest = median(
      col(ours, (s) => s.cpuMs - (s.phases?.['snapshotCpuMs'] ?? 0) - (s.phases?.['classifyMs'] ?? 0) - (s.phases?.['observeSnapshotMs'] ?? 0) - (s.phases?.['persistCpuMs'] ?? 0)),
    );
    phaseRows.push([
      `${plan.tasks.toLocaleString('en-US')} tasks`,
      ours.poller,
      fixed(cpu),
      fixed(ph('snapshotCpuMs')),
      `${fixed(ph('classifyMs'))} (${fixed(ph('classifyCalls'), 0)} calls)`,
      fixed(ph('observeSnapshotMs')),
      fixed(ph('persistCpuMs')),
      fixed(rest),
      fixed(median(col(ours, (s) => s.actions?.['subjects'] ?? Number.NaN)), 0),
      String(ours.notes?.['stateBytes'] ?? '—'),
      fixed(Number(ours.notes?.['scrapeCpuMs'] ?? Number.NaN)),
    ]);
  }
  parts.push(
    '\nWhere the watchdog\'s CPU goes (medians of the measured polls, ms). snapshot = `ConnectClient.snapshot` ' +
      '(HTTP, the comparison with the last listing; when it changed, `JSON.parse`, shape validation, the info merge); ' +
      'classify = every call of the classifier in the poll (cached per trace); persist = writing the state file ' +
      '(open, vectored write, close, rename), in one poll in three: 0 at the median; rest = decide, the executor, ' +
      'the encoding of the state file (StateEncoder, on the polls that write it), logging, GC not inside the other phases. A Prometheus scrape is measured once after the polls, apart.\n',
    table(['size', 'poller', 'CPU/poll', 'snapshot', 'classify', 'observeSnapshot', 'persist', 'rest (decide …)', 'subjects in state', 'state file bytes', 'one scrape'], phaseRows),
  );

  const details: string[] = [];
  for (const { plan, results: rs } of results) {
    for (const r of rs) {
      details.push(
        `\n**${plan.tasks.toLocaleString('en-US')} tasks, ${r.poller}**${r.poller === 'runbook' ? ' (CPU includes the curl, jq, sh and xargs processes)' : ` (baseline RSS ${fixed(r.baselineRssMb)} MB, peak ${fixed(r.peakRssMb)} MB)`}\n`,
        table(
          ['poll', 'requests', 'bytes', 'CPU ms', 'wall ms', 'page faults', 'RSS MB', ...(isOurs(r.poller) ? ['actions'] : [])],
          r.samples.map((s) => [
            `${s.poll}${s.warmup ? ' (warm-up)' : ''}`,
            String(s.requests),
            String(s.bytes),
            fixed(s.cpuMs),
            fixed(s.wallMs),
            String(s.minorFaults),
            fixed(s.rssMb),
            ...(isOurs(r.poller)
              ? [Object.entries(s.actions ?? {}).filter(([k, v]) => k !== 'subjects' && v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || '—']
              : []),
          ]),
        ),
      );
    }
  }
  parts.push('\n<details><summary>Every poll</summary>\n', ...details, '\n</details>');
  return parts.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const plan = sizes.length > 0 ? DEFAULT_PLAN.filter((p) => sizes.includes(p.tasks)).concat(sizes.filter((n) => !DEFAULT_PLAN.some((p) => p.tasks === n)).map((tasks) => ({ tasks, warmup: 3, polls: 10 }))) : DEFAULT_PLAN;
  // BENCH_POLLS=200: more measured polls per poller (steadier medians, profiles dominated by the steady polls).
  const polls = Number(process.env['BENCH_POLLS'] ?? '');
  // BENCH_GAP_MS=10000: idle time between polls (default 100 ms; the daemon's interval is 10 s).
  const gap = Number(process.env['BENCH_GAP_MS'] ?? '');
  // BENCH_WARMUP=3: warm-up polls per poller (default: the plan's).
  const warm = Number(process.env['BENCH_WARMUP'] ?? '');
  const results = await runScale((polls > 0 ? plan.map((p) => ({ ...p, polls })) : plan).map((p) => (warm > 0 ? { ...p, warmup: warm } : p)), (l) => console.log(l), gap > 0 ? gap : undefined);
  console.log(scaleMarkdown(results));
}
