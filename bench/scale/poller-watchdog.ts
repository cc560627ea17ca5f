/**
 * The watchdog's real poll path in a process of its own: loadConfig defaults (dry run, so that no
 * restart changes the sim), the real ConnectClient (undici), classifier, WatchdogMetrics and
 * ClusterLoop (snapshot → observeSnapshot → probe list → decide → execute), an info-level pino logger
 * writing to /dev/null, and what the Daemon does around each poll: the state file written by the real
 * StateStore (awaited, so that its JSON.stringify counts), the incidents gauge. The dependency probe is
 * answered "accepting" at once (probing a database is I/O of another system; its cost is not the poll's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createClassifier } from '../../src/classify/classify.js';
import type { Classifier } from '../../src/classify/types.js';
import { ConnectClient, clientOptions } from '../../src/connect/client.js';
import type { ClusterSnapshot } from '../../src/connect/types.js';
import { loadConfig } from '../../src/config/load.js';
import { ClusterLoop } from '../../src/daemon/cluster-loop.js';
import { merge } from '../../src/daemon/daemon.js';
import { EMPTY_HEAL_STATE, type HealState } from '../../src/heal/types.js';
import { REDACT_PATHS } from '../../src/log/logger.js';
import { WatchdogMetrics } from '../../src/metrics/metrics.js';
import { StateStore } from '../../src/state/store.js';
import { seeded } from '../lib/stats.js';
import { finish, MB, measure, parseArgs } from './protocol.js';

const args = parseArgs();
const config = loadConfig({ env: { CONNECT_URL: args.url }, overrides: { dryRun: true } });
const cluster = config.clusters[0];
if (cluster === undefined) throw new Error('no cluster');

// The daemon's logger (src/log/logger.ts createLogger), at the default level, into /dev/null.
const logger = pino(
  {
    level: config.logLevel,
    base: { app: 'connect-watchdog' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  pino.destination({ dest: '/dev/null', sync: true }),
);

// Phase accounting: wrappers around the real objects (wall time of synchronous work = its CPU time).
const phase = { snapshotMs: 0, snapshotCpuMs: 0, classifyMs: 0, classifyCalls: 0, observeSnapshotMs: 0, persistMs: 0, persistCpuMs: 0 };
const realClassify = createClassifier(config.rules);
const classify: Classifier = (trace) => {
  const t0 = performance.now();
  try {
    return realClassify(trace);
  } finally {
    phase.classifyMs += performance.now() - t0;
    phase.classifyCalls += 1;
  }
};
const metrics = new WatchdogMetrics({ clusters: [cluster.name], sinks: [] });
const observeSnapshot = metrics.observeSnapshot.bind(metrics);
metrics.observeSnapshot = (snapshot, classes) => {
  const t0 = performance.now();
  observeSnapshot(snapshot, classes);
  phase.observeSnapshotMs += performance.now() - t0;
};
// The watchdog's clock moves one poll interval per poll, as in the daemon, while the bench polls back to
// back: backoff timers, the 30 s state-write throttle and the 5 min info refresh fall where they would.
let clock = Date.now();
const now = () => clock;
const client = new ConnectClient(cluster, { ...clientOptions(config), logger, now });
const snapshot = client.snapshot.bind(client);
client.snapshot = async (signal?: AbortSignal): Promise<ClusterSnapshot> => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    return await snapshot(signal);
  } finally {
    const c = process.cpuUsage(c0);
    phase.snapshotCpuMs += (c.user + c.system) / 1000;
    phase.snapshotMs += performance.now() - t0;
  }
};

const dir = mkdtempSync(join(tmpdir(), 'cw-bench-'));
const store = new StateStore(join(dir, 'state.json'), logger, { now });
let latest: HealState = EMPTY_HEAL_STATE;
// Daemon.persist(): StateStore.save of merge() of every loop's state (one loop here), merged when the write
// starts; a routine save, after a poll that paged nothing, is written at most every 30 s, as in the daemon.
const persist = (routine: boolean) => store.save(() => ({ heal: merge([latest]), outbox: [] }), { routine });
const loop = new ClusterLoop(
  {
    cluster,
    config,
    client,
    classify,
    metrics,
    logger,
    now,
    random: seeded(1),
    // Not called in a dry run (ClusterLoop logs what it would page); the actions count the escalations.
    escalate: () => {},
    onState: (state, routine) => {
      latest = state;
      persist(routine);
    },
    probe: async () => true,
  },
  EMPTY_HEAL_STATE,
);

const baselineRssMb = process.memoryUsage().rss / MB;
const samples = await measure(args, async () => {
  for (const k of Object.keys(phase) as (keyof typeof phase)[]) phase[k] = 0;
  clock += config.pollInterval;
  const r = await loop.poll();
  if (!r.ok) throw new Error('poll failed');
  // Daemon.afterPoll: the incidents gauge.
  metrics.setIncidentsOpen(loop.openIncidents());
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await store.settled();
  const c = process.cpuUsage(c0);
  phase.persistCpuMs = (c.user + c.system) / 1000;
  phase.persistMs = performance.now() - t0;
  const actions: Record<string, number> = { subjects: Object.keys(latest.subjects).length };
  for (const a of r.actions) actions[a.kind] = (actions[a.kind] ?? 0) + 1;
  return { phases: { ...phase }, actions };
});

// One Prometheus scrape after the polls, for scale (not part of a poll).
const c0 = process.cpuUsage();
const text = await metrics.metrics();
const scrape = process.cpuUsage(c0);
await client.close();
rmSync(dir, { recursive: true, force: true });
finish({
  poller: 'watchdog',
  baselineRssMb,
  samples,
  notes: { scrapeCpuMs: (scrape.user + scrape.system) / 1000, scrapeBytes: text.length, stateBytes: JSON.stringify(latest).length },
});
