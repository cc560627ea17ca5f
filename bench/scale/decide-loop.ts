/**
 * `decide` alone, on the scale bench's cluster (10k tasks by default, 200 FAILED), the watchdog's clock
 * moving 10 s per call as in the daemon: the same calls back to back, then with an idle gap before each
 * (as polls are), side by side in one run. What it shows: a poll pays for cold caches and a cold CPU, so
 * the per-call cost after a gap, not the back-to-back one, is what a poll of the daemon costs.
 *
 *   npx tsx bench/scale/decide-loop.ts [tasks] [gapMs]
 */
import { createClassifier } from '../../src/classify/classify.js';
import { loadConfig } from '../../src/config/load.js';
import { parseInfoListing, parseListing } from '../../src/connect/shapes.js';
import type { ClusterSnapshot, ConnectorSnapshot } from '../../src/connect/types.js';
import { decide, endpointKey, endpointsToProbe } from '../../src/heal/policy.js';
import { EMPTY_HEAL_STATE, type HealState } from '../../src/heal/types.js';
import { fixed, mean, median, seeded, table } from '../lib/stats.js';
import { buildCluster } from './cluster.js';

const tasks = Number(process.argv[2] ?? 10_000);
const gapMs = Number(process.argv[3] ?? 50);
const WARMUP = 50;
const CALLS = 200;

const sim = buildCluster(tasks);
const listing = parseListing(JSON.parse(sim.statusExpandBody));
if (listing.kind !== 'expanded') throw new Error('the sim lists expanded statuses');
const { infos } = parseInfoListing(JSON.parse(sim.infoExpandBody));
// What ConnectClient hands over: the statuses with the cached info merged in, the same array every poll.
const connectors: readonly ConnectorSnapshot[] = listing.connectors.map((c) => ({ ...c, ...infos.get(c.name) }));
const config = loadConfig({ env: { CONNECT_URL: 'http://127.0.0.1:1' }, overrides: { dryRun: true } });
const classify = createClassifier(config.rules);

/** Per-call ms of endpointsToProbe and decide over `calls` polls, each after `gap` ms idle. */
async function run(gap: number): Promise<{ probe: number[]; decide: number[] }> {
  const random = seeded(1);
  let state: HealState = EMPTY_HEAL_STATE;
  let previous: ClusterSnapshot | undefined;
  let now = Date.UTC(2026, 10, 25, 12);
  const out = { probe: [] as number[], decide: [] as number[] };
  for (let i = 0; i < WARMUP + CALLS; i += 1) {
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
    now += config.pollInterval;
    const snapshot: ClusterSnapshot = { cluster: 'default', at: now, connectors };
    const t0 = performance.now();
    const endpoints = endpointsToProbe(state, snapshot, classify, { config: config.heal, now, owns: () => true, inMaintenance: () => false });
    const t1 = performance.now();
    const probes = new Map(endpoints.map((e) => [endpointKey(e), true]));
    const t2 = performance.now();
    const decision = decide({ state, snapshot, config: config.heal, classify, now, random, probes, inMaintenance: () => false, owns: () => true, ...(previous !== undefined && { previous }) });
    const t3 = performance.now();
    state = decision.state;
    previous = snapshot;
    if (i >= WARMUP) {
      out.probe.push(t1 - t0);
      out.decide.push(t3 - t2);
    }
  }
  return out;
}

const hot = await run(0);
const cold = await run(gapMs);
const row = (name: string, r: { probe: number[]; decide: number[] }) => [name, fixed(median(r.decide), 3), fixed(mean(r.decide), 3), fixed(median(r.probe), 3)];
console.log(`decide on ${connectors.length} connectors, ${tasks} tasks, ${sim.failedTasks} FAILED; ${CALLS} calls after ${WARMUP} warm-up calls, wall ms per call\n`);
console.log(table(['calls', 'decide median', 'decide mean', 'endpointsToProbe median'], [row('back to back', hot), row(`${gapMs} ms apart`, cold)]));
console.log(`\ncold ÷ back to back (decide medians): ${fixed(median(cold.decide) / median(hot.decide), 2)}×`);
