/**
 * The restart policies compared on the same timelines. Each runs its own schedule of checks against a
 * World on the simulated clock and reports the pages it sent (restarts are counted by the World).
 */
import type { Classification, Classifier } from '../../src/classify/types.js';
import { createClassifier } from '../../src/classify/classify.js';
import { loadConfig } from '../../src/config/load.js';
import type { WatchdogConfig } from '../../src/config/types.js';
import { applyOutcome, decide, endpointKey, endpointsToProbe } from '../../src/heal/policy.js';
import { EMPTY_HEAL_STATE, type HealState } from '../../src/heal/types.js';
import type { World } from './world.js';

export interface Page {
  readonly at: number;
  readonly class: string;
}

export interface Policy {
  readonly name: string;
  readonly description: string;
  /** Checks from `from` (plus a random phase) to `to`; returns the pages sent. */
  run(world: World, from: number, to: number, random: () => number): Page[];
}

/** The real classifier, memoised (it is pure): the replay calls it on the same few traces millions of times. */
function memoised(): Classifier {
  const real = createClassifier();
  const cache = new Map<string, Classification>();
  return (trace) => {
    let c = cache.get(trace);
    if (c === undefined) cache.set(trace, (c = real(trace)));
    return c;
  };
}

/** The defaults, as `loadConfig` gives them with no file and no environment. */
export const DEFAULT_CONFIG: WatchdogConfig = loadConfig({ env: {} });

/**
 * Ours: decide() every pollInterval (+ up to pollJitter, as Daemon.loopForever sleeps), restarts applied
 * to the World and reported back with applyOutcome('ok'), as ClusterLoop does. With the probe, the
 * endpoints ClusterLoop would probe (endpointsToProbe, no filter) are answered by the World; without
 * it (heal.probe.enabled false, or clusters[].probe false), ClusterLoop passes an empty map, which
 * decide() reads as "not probed": backoff alone decides.
 */
export function ours(probe: boolean, config: WatchdogConfig = DEFAULT_CONFIG): Policy {
  return {
    name: probe ? 'ours (probe)' : 'ours (no probe)',
    description: probe
      ? `connect-watchdog defaults, poll every ${config.pollInterval / 1000} s (+ up to ${config.pollJitter} ms jitter), dependency probe on`
      : 'the same with heal.probe.enabled=false (an empty probes map: backoff alone decides)',
    run(world, from, to, random) {
      const classify = memoised();
      const pages: Page[] = [];
      let state: HealState = EMPTY_HEAL_STATE;
      for (let t = from + random() * config.pollJitter; t <= to; t += config.pollInterval + random() * config.pollJitter) {
        const snapshot = world.snapshot(t);
        const probes = new Map<string, boolean>();
        if (probe) for (const e of endpointsToProbe(state, snapshot, classify)) probes.set(endpointKey(e), world.accepting(endpointKey(e), t));
        const decision = decide({
          state,
          snapshot,
          config: config.heal,
          classify,
          now: t,
          random,
          probes,
          inMaintenance: () => false,
          owns: () => true,
        });
        state = decision.state;
        for (const a of decision.actions) {
          if (a.kind === 'restart-task' || a.kind === 'restart-connector') {
            world.restart(a.connector, t);
            const subject = { cluster: a.cluster, connector: a.connector, task: a.kind === 'restart-task' ? a.task : null };
            state = applyOutcome(state, { subject, result: 'ok' }, t);
          } else if (a.kind === 'escalate') {
            pages.push({ at: t, class: a.incident.class });
          }
        }
      }
      return pages;
    },
  };
}

const MINUTE = 60_000;

/**
 * Strimzi's KafkaConnector autoRestart: at each reconciliation (every 120 s), a connector with the
 * connector or a task FAILED is restarted (includeTasks, onlyFailed) if it never was, or if
 * min(n² + n, 60) minutes have passed since the n-th restart; the count is reset when nothing is FAILED
 * and that interval has passed. No look at the cause; no notification.
 */
export function strimzi(reconcileMs = 120_000): Policy {
  const interval = (n: number) => Math.min(n * n + n, 60) * MINUTE;
  return {
    name: 'Strimzi autoRestart',
    description: `reconcile every ${reconcileMs / 1000} s; n-th restart min(n²+n, 60) min after the last; reset when healthy past the interval; never pages`,
    run(world, from, to, random) {
      const memory = new Map<string, { count: number; last?: number }>();
      for (let t = from + random() * reconcileMs; t <= to; t += reconcileMs) {
        const failed = new Set(world.failedConnectors(t));
        for (const name of world.connectors()) {
          const m = memory.get(name) ?? { count: 0 };
          memory.set(name, m);
          if (failed.has(name)) {
            if (m.last === undefined || t - m.last >= interval(m.count)) {
              world.restart(name, t);
              m.count += 1;
              m.last = t;
            }
          } else if (m.last !== undefined && t - m.last > interval(m.count)) {
            m.count = 0;
            m.last = undefined;
          }
        }
      }
      return [];
    },
  };
}

/** A cron job restarting every FAILED task every minute. */
export function cron(everyMs = 60_000): Policy {
  return {
    name: 'cron restart-all',
    description: `every ${everyMs / 1000} s, restart every FAILED task; never pages`,
    run(world, from, to, random) {
      for (let t = from + random() * everyMs; t <= to; t += everyMs) for (const name of world.failedConnectors(t)) world.restart(name, t);
      return [];
    },
  };
}

export function none(): Policy {
  return {
    name: 'none',
    description: 'no watchdog: nothing restarts, nobody is paged',
    run(world, _from, to) {
      world.advance(to);
      return [];
    },
  };
}

export const POLICIES: readonly Policy[] = [ours(true), ours(false), strimzi(), cron(), none()];
