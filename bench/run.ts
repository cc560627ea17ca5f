/**
 * `npm run bench` (= `npx tsx bench/run.ts`): the scale bench, then the policy bench; rewrites
 * bench/RESULTS.md with the machine, the targets met or missed, and every table.
 * Options: `--scale-only`, `--policy-only` (RESULTS.md is then not rewritten), `--out FILE`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { repoPath } from './lib/paths.js';
import { duration, fixed, max, mean, median, percentile, table } from './lib/stats.js';
import { DEFAULT_CONFIG } from './policy/policies.js';
import { policyMarkdown, runPolicy, type Cell } from './policy/run.js';
import { DEFAULT_PLAN, runScale, scaleMarkdown, type SizeResult } from './scale/run.js';
import type { PollerResult } from './scale/protocol.js';

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = outIndex >= 0 ? (argv[outIndex + 1] as string) : repoPath('bench', 'RESULTS.md');
const scaleOnly = argv.includes('--scale-only');
const policyOnly = argv.includes('--policy-only');

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoPath(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');
const started = new Date();
const loadAtStart = load();
const t0 = performance.now();
const log = (line: string) => console.log(line);
log(`bench: ${availableParallelism()} CPUs (${cpuModel()}), node ${process.version}, load ${loadAtStart}`);

let scale: SizeResult[] = [];
let policy: Cell[] = [];
if (!policyOnly) scale = await runScale(DEFAULT_PLAN, log);
const loadAfterScale = load();
if (!scaleOnly) policy = runPolicy(log);
const elapsed = (performance.now() - t0) / 1000;

// ---- targets -------------------------------------------------------------------------------------
type Verdict = [target: string, measured: string, met: boolean | undefined];
const verdicts: Verdict[] = [];
const ONE_POLL = DEFAULT_CONFIG.pollInterval + DEFAULT_CONFIG.pollJitter;
const mark = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? '**met**' : '**missed**');

const at10k = scale.find((s) => s.plan.tasks === 10_000);
const poller = (s: SizeResult | undefined, name: string): PollerResult | undefined => s?.results.find((r) => r.poller === name);
const measured = (r: PollerResult | undefined) => (r === undefined ? [] : r.samples.filter((s) => !s.warmup));
const ours10k = poller(at10k, 'watchdog');
const churn10k = poller(at10k, 'watchdog-churn');
const naive10k = poller(at10k, 'naive');
const runbook10k = poller(at10k, 'runbook');
const client10k = poller(at10k, 'client-only');
const floor10k = poller(at10k, 'receive-only');
const cpuOf = (r: PollerResult | undefined) => measured(r).map((s) => s.cpuMs);
if (ours10k !== undefined) {
  const req = measured(ours10k).map((s) => s.requests);
  verdicts.push([
    '10k tasks: 1 request per poll',
    `median ${median(req)}, mean ${fixed(mean(req), 2)} over ${req.length} polls (5 min of the watchdog's clock: the poll that refreshes the connector info every 5 min makes 2; the first poll of a process also reads GET / once). Not counted: the worker's GET /health (95 bytes), read beside the polls once a minute of the watchdog's clock (heal.health), which no measured poll waits for`,
    median(req) === 1 && max(req) <= 2,
  ]);
  const cpu = cpuOf(ours10k);
  const churnCpu = cpuOf(churn10k);
  verdicts.push([
    '10k tasks: ≤ 25 ms CPU per poll',
    `mean ${fixed(mean(cpu))} ms (median ${fixed(median(cpu))}, p90 ${fixed(percentile(cpu, 90))})` +
      (churn10k === undefined ? '' : `; with a change in the listing at every poll (watchdog-churn): mean ${fixed(mean(churnCpu))} ms (median ${fixed(median(churnCpu))}, p90 ${fixed(percentile(churnCpu, 90))})`),
    mean(cpu) <= 25,
  ]);
  verdicts.push([
    '10k tasks: ≤ 120 MB RSS',
    `peak ${fixed(ours10k.peakRssMb)} MB (baseline after imports ${fixed(ours10k.baselineRssMb)} MB)` +
      (churn10k === undefined ? '' : `; watchdog-churn: peak ${fixed(churn10k.peakRssMb)} MB`),
    ours10k.peakRssMb <= 120,
  ]);
  if (naive10k !== undefined) {
    const naiveMean = mean(cpuOf(naive10k));
    const ratio = naiveMean / mean(cpu);
    const rb = runbook10k === undefined ? undefined : median(cpuOf(runbook10k)) / median(cpu);
    verdicts.push([
      '10k tasks: ≥ 20× less CPU than the naive poller',
      `${fixed(ratio, 1)}× vs the Node.js naive poller (keep-alive, 8 in flight; ratio of means, ${fixed(naiveMean)} ms)` +
        (churn10k === undefined ? '' : `; watchdog-churn: ${fixed(naiveMean / mean(churnCpu), 1)}×`) +
        (rb === undefined ? '' : `; ${fixed(rb, 0)}× vs the curl | jq runbook loop`) +
        (floor10k === undefined
          ? ''
          : `. The floor: receiving the listing alone (receive-only: a raw socket, no HTTP library, nothing parsed) costs ${fixed(mean(cpuOf(floor10k)))} ms ` +
            `(median ${fixed(median(cpuOf(floor10k)))}), so 20× (≤ ${fixed(naiveMean / 20)} ms) would leave ${fixed(naiveMean / 20 - mean(cpuOf(floor10k)))} ms ` +
            'for the HTTP client, the comparison with the last listing, decide, metrics, the state file and GC') +
        (client10k === undefined
          ? ''
          : `. The watchdog's Connect client alone (client-only: its snapshot, nothing decided or written) costs ${fixed(mean(cpuOf(client10k)))} ms ` +
            `(median ${fixed(median(cpuOf(client10k)))}): ${fixed(naiveMean / mean(cpuOf(client10k)), 1)}× on means, the most any policy and state file on top of it could reach`),
      ratio >= 20,
    ]);
  }
}
const cellOf = (timeline: string, policyName: string) => policy.find((c) => c.timeline.name === timeline && c.policy.name === policyName);
if (policy.length > 0) {
  // Recovery lag, ours with the probe, in three groups: single outages, the flapping task, the cluster-wide outage.
  const lagGroups: [string, (name: string) => boolean][] = [
    ['single-connector outages (30 s, 10 min, 1 h, 60 h)', (n) => n.includes('outage') && !n.startsWith('cluster')],
    ['the flapping task (the cause clears at each failure)', (n) => n.startsWith('flapping')],
    ['the cluster-wide outage (50 connectors)', (n) => n.startsWith('cluster')],
  ];
  for (const [label, pick] of lagGroups) {
    const rows = policy.filter((c) => c.policy.name === 'ours (probe)' && pick(c.timeline.name) && c.lags.length > 0);
    verdicts.push([
      `recovery lag ≤ one poll (${ONE_POLL / 1000} s = interval + jitter) after the cause clears, ours with the probe: ${label}`,
      rows.map((c) => `${c.timeline.name}: median ${duration(median(c.lags))}, max ${duration(max(c.lags))}`).join('; '),
      rows.length > 0 && rows.every((c) => max(c.lags) <= ONE_POLL),
    ]);
  }
  const hour = ['ours (probe)', 'ours (no probe)'].map((p) => cellOf('outage 1 h', p));
  verdicts.push([
    '≤ 12 restarts during a 1 h outage',
    hour.map((c) => (c === undefined ? '' : `${c.policy.name}: max ${max(c.restartsDuringCause)}`)).join('; '),
    hour.every((c) => c !== undefined && max(c.restartsDuringCause) <= 12),
  ]);
  const pagesFast = ['serialization failure', 'config failure'].flatMap((t) => ['ours (probe)', 'ours (no probe)'].map((p) => cellOf(t, p)));
  verdicts.push([
    `a page within one poll (${ONE_POLL / 1000} s) for serialization and config failures`,
    pagesFast.map((c) => (c === undefined ? '' : `${c.timeline.name.replace(' failure', '')}, ${c.policy.name}: max ${duration(max(c.firstPage))}`)).join('; '),
    pagesFast.every((c) => c !== undefined && max(c.firstPage) <= ONE_POLL),
  ]);
  const wide = ['ours (probe)', 'ours (no probe)'].map((p) => cellOf('cluster-wide outage, 50 connectors, 1 h', p));
  verdicts.push([
    'one page for a cluster-wide outage',
    wide.map((c) => (c === undefined ? '' : `${c.policy.name}: ${fixed(max(c.pages), 0)} (max over ${c.pages.length} runs)`)).join('; '),
    wide.every((c) => c !== undefined && max(c.pages) === 1),
  ]);
}

// ---- RESULTS.md ------------------------------------------------------------------------------------
const commit = git(['rev-parse', '--short', 'HEAD']);
const dirty = git(['status', '--porcelain', '--', 'src']).split('\n').filter((l) => l !== '').length;
const md = [
  '# Bench results',
  '',
  `Written by \`npx tsx bench/run.ts\` (\`npm run bench\`) on ${started.toISOString()}; do not edit by hand. What each bench does and how to read it: [docs/bench.md](../docs/bench.md).`,
  '',
  '## Machine',
  '',
  table(
    ['', ''],
    [
      ['CPUs (nproc)', String(availableParallelism())],
      ['model', cpuModel()],
      ['memory', `${(totalmem() / 2 ** 30).toFixed(1)} GiB`],
      ['node', process.version],
      ['load average (1, 5, 15 min) at start', loadAtStart],
      ['load average after the scale bench', loadAfterScale],
      ['source', `${commit}${dirty > 0 ? ` with ${dirty} uncommitted change(s) under src/` : ''}`],
      ['run time', `${elapsed.toFixed(0)} s`],
    ],
    ['l', 'l'],
  ),
  '',
  '## Targets (issue #9)',
  '',
  table(['target', 'measured', 'verdict'], verdicts.map(([t, m, ok]) => [t, m, mark(ok)]), ['l', 'l', 'l']),
  '',
  '## Commands',
  '',
  '```sh',
  'npx tsx bench/run.ts                 # both benches, rewrites bench/RESULTS.md (npm run bench)',
  'npx tsx bench/scale/run.ts 10000     # the scale bench alone, one size, tables on stdout',
  'npx tsx bench/policy/run.ts          # the policy bench alone, tables on stdout',
  'BENCH_CPU_PROF=/tmp/prof npx tsx bench/scale/run.ts 10000   # + a .cpuprofile of the watchdog child',
  '```',
  '',
  ...(scale.length > 0 ? ['## Scale: one poll of N tasks', '', scaleMarkdown(scale), ''] : []),
  ...(policy.length > 0 ? ['## Policy: failure timelines on a simulated clock', '', policyMarkdown(policy), ''] : []),
].join('\n');

if (scaleOnly || policyOnly) console.log(md);
else {
  writeFileSync(out, md);
  log(`wrote ${out} in ${elapsed.toFixed(0)} s`);
}
log(table(['target', 'measured', 'verdict'], verdicts.map(([t, m, ok]) => [t, m, mark(ok)]), ['l', 'l', 'l']));
