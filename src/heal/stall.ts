/**
 * Stalled sources: a watched source connector (heal.stall.connectors) that reads RUNNING, with every task
 * RUNNING, while its committed offsets have not moved for heal.stall.after. Connect's status cannot show
 * it: a Debezium task retrying a lost database on its own reads RUNNING while nothing streams. Pure: the
 * offsets are read by the shell (ClusterLoop) and handed in as digests.
 *
 * Paged, never restarted: a restart frees a task that hangs but not one whose database is down, and a
 * RUNNING task restarted in a loop hides the cause as a FAILED one would.
 */
import type { ClusterSnapshot, ConnectorSnapshot } from '../connect/types.js';
import { incidentKey, type Incident } from '../escalate/types.js';
import type { HealConfig } from '../config/types.js';
import { HINTS, openIncident, touchIncident } from './incidents.js';
import { connectorsByName } from './policy.js';
import type { Action, HealState, OffsetsMemory } from './types.js';
import { compiledRegExp } from '../util/regexp.js';

export type StallConfig = HealConfig['stall'];

export interface StallInput {
  /** The state decide() returned for this poll (its incidents and the offsets remembered). */
  readonly state: HealState;
  readonly snapshot: ClusterSnapshot;
  /** The offsets read this poll: connector name → digest. Absent: not read this poll (or the read failed). */
  readonly reads: ReadonlyMap<string, string>;
  /** The connectors whose offsets read failed this poll. */
  readonly failedReads?: ReadonlySet<string>;
  readonly config: StallConfig;
  readonly now: number;
  readonly owns: (workerId: string) => boolean;
  readonly inMaintenance: (connector: string) => boolean;
}

export interface StallDecision {
  readonly state: HealState;
  readonly actions: readonly Action[];
}

const offsetsKey = (cluster: string, connector: string): string => `${cluster}/${connector}`;

/** RUNNING with at least one task and every task RUNNING: a source that should be committing offsets. */
function streaming(c: ConnectorSnapshot): boolean {
  return c.state === 'RUNNING' && c.tasks.length > 0 && c.tasks.every((t) => t.state === 'RUNNING');
}

function watchedName(pattern: string): (name: string) => boolean {
  if (pattern === '') return () => false;
  const re = compiledRegExp(pattern);
  return (name) => re.test(name);
}

/**
 * The connectors whose offsets the shell should read: watched sources streaming on a worker this watchdog
 * owns (a sidecar reads only its own, so that N sidecars do not read every connector N times).
 */
export function stallCandidates(snapshot: ClusterSnapshot, config: StallConfig, owns: (workerId: string) => boolean): string[] {
  const watched = watchedName(config.connectors);
  return snapshot.connectors.filter((c) => c.type === 'source' && watched(c.name) && streaming(c) && owns(c.workerId)).map((c) => c.name);
}

function stalledFor(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes >= 120 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : minutes >= 1 ? `${minutes} min` : `${Math.floor(ms / 1000)} s`;
}

export function judgeStalls(input: StallInput): StallDecision {
  const { snapshot, config, now, reads } = input;
  const cluster = snapshot.cluster;
  const before = input.state.offsets ?? {};
  const isStall = (inc: Incident) => inc.cluster === cluster && inc.class === 'stalled';
  // Nothing read, remembered or open for this cluster: every poll of a cluster that watches nothing.
  if (reads.size === 0 && !Object.values(before).some((m) => m.cluster === cluster) && !Object.values(input.state.incidents).some(isStall)) {
    return { state: input.state, actions: [] };
  }
  const present = connectorsByName(snapshot.connectors);
  const unreadable = new Set((snapshot.unreadable ?? []).map((u) => u.name));
  const watched = watchedName(config.connectors);
  const watchedSource = (c: ConnectorSnapshot) => c.type === 'source' && watched(c.name);
  const incidents = new Map(Object.entries(input.state.incidents));
  const offsets: Record<string, OffsetsMemory> = {};
  const actions: Action[] = [];
  const resolve = (incident: Incident, resolution: 'flowing' | 'not-running' | 'unwatched') => {
    incidents.delete(incident.key);
    actions.push({ kind: 'resolve', incident: { ...incident, lastSeen: now, resolvedAt: now }, resolution });
  };

  // Ours to watch: a watched source on a worker this watchdog owns (a sidecar reads only its own worker's).
  const ours = (c: ConnectorSnapshot) => watchedSource(c) && input.owns(c.workerId);
  // Kept: what other clusters remember, and our sources still streaming (or unreadable this poll).
  // Forgotten: a source that stopped streaming, is no longer watched or moved to another worker (whose
  // sidecar reads it now) starts afresh when it streams here again.
  for (const key in before) {
    const m = before[key] as OffsetsMemory;
    const c = m.cluster === cluster ? present.get(m.connector) : undefined;
    if (m.cluster !== cluster || unreadable.has(m.connector) || (c !== undefined && ours(c) && streaming(c))) offsets[key] = m;
  }
  // A stalled source paused, stopped or failed is not stalled (a failure pages as its class); one deleted
  // was resolved by decide(). One moved to another worker is that worker's sidecar's to read, and page
  // afresh if it is still stalled there: this one would never see its offsets move again.
  for (const inc of incidents.values()) {
    const c = isStall(inc) ? present.get(inc.connector) : undefined;
    if (c === undefined || input.inMaintenance(inc.connector)) continue;
    if (!ours(c)) resolve(inc, 'unwatched');
    else if (!streaming(c)) resolve(inc, 'not-running');
  }

  for (const [name, digest] of reads) {
    const c = present.get(name);
    if (c === undefined || !ours(c) || !streaming(c)) continue;
    const key = offsetsKey(cluster, name);
    const m = offsets[key];
    const open = incidents.get(incidentKey(cluster, name, null, 'stalled'));
    // A clock stepped back before movedAt restarts the count rather than stretching it.
    if (m === undefined || m.digest !== digest || m.movedAt > now) {
      offsets[key] = { cluster, connector: name, digest, movedAt: now };
      if (open !== undefined && m !== undefined && m.digest !== digest && !input.inMaintenance(name)) resolve(open, 'flowing');
      continue;
    }
    const still = now - m.movedAt;
    // After reads that failed, the offsets are first read unmoved once more before they count as a stall: a
    // broker outage stops every source and leaves the offsets unreadable, and once the broker is back a source
    // commits its first offsets only at the worker's next flush (offset.flush.interval.ms, 60 s by default).
    if (m.readFailed === true) {
      offsets[key] = { cluster, connector: name, digest, movedAt: m.movedAt };
      continue;
    }
    if (still < config.after) continue;
    if (open !== undefined) incidents.set(open.key, touchIncident(open, now, 0, c.workerId));
    else if (!input.inMaintenance(name)) {
      const tasks = `${c.tasks.length} task${c.tasks.length === 1 ? '' : 's'}`;
      const incident = openIncident(
        'stalled',
        { cluster, connector: name, task: null, attempts: 0, workerId: c.workerId },
        { reason: `its committed source offsets have not moved for ${stalledFor(still)} while the connector and its ${tasks} read RUNNING`, rootCause: '', hint: HINTS.stalled, trace: '' },
        m.movedAt,
        now,
      );
      incidents.set(incident.key, incident);
      actions.push({ kind: 'escalate', incident });
    }
  }

  for (const name of input.failedReads ?? []) {
    const key = offsetsKey(cluster, name);
    const m = offsets[key];
    if (m !== undefined && m.readFailed !== true) offsets[key] = { ...m, readFailed: true };
  }

  // What judgeStalls does not own passes through; the offsets are left out when none is remembered.
  const { offsets: _before, ...rest } = input.state;
  return {
    actions,
    state: { ...rest, incidents: Object.fromEntries(incidents), ...(Object.keys(offsets).length > 0 && { offsets }) },
  };
}
