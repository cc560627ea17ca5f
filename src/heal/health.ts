/**
 * A worker that says it is not healthy: `GET /health` (Kafka Connect 3.9 or later) answered 500 or 503, or
 * nothing within its timeout, at every read for heal.health.after. Connect's status cannot show it: a
 * worker cut off from the Kafka brokers stops every connector and task within seconds while its listing
 * still reads them all RUNNING (the status topic cannot be written), and it holds restarts and offset
 * reads until the brokers are back. Pure: the shell (ClusterLoop) reads the health and hands the answer in;
 * since when the worker has said what it says is remembered in state, so that a watchdog run from cron
 * or restarted keeps counting.
 *
 * Paged once per cluster, critical, and resolved at the first healthy answer (or as unwatched when heal.health
 * is turned off). The incident is never acted on; while the worker says it is not healthy, ClusterLoop
 * withholds restarts (decide's workerUnhealthy) and offsets reads, which it would hold and run together once
 * back.
 */
import type { HealConfig } from '../config/types.js';
import type { WorkerHealth } from '../connect/types.js';
import { incidentKey } from '../escalate/types.js';
import { HINTS, openIncident, touchIncident } from './incidents.js';
import { formatDuration } from './rules.js';
import type { Action, HealState, HealthMemory } from './types.js';

export interface HealthInput {
  /** The state of this poll so far (decide's and judgeStalls'). */
  readonly state: HealState;
  readonly cluster: string;
  /**
   * The answer of a health read made since the last judgement; `unsupported` when the worker has no GET
   * /health (what was remembered is forgotten); undefined when none was made (what is remembered stands).
   */
  readonly answer: WorkerHealth | 'unsupported' | undefined;
  /** The worker asked, host:port of the cluster's url. */
  readonly workerId: string;
  readonly config: HealConfig['health'];
  readonly now: number;
  /** Inside a cluster-wide maintenance window: nothing is paged or resolved. */
  readonly inMaintenance: boolean;
}

export interface HealthDecision {
  readonly state: HealState;
  readonly actions: readonly Action[];
}

const SAID: Readonly<Record<Exclude<WorkerHealth['status'], 'healthy'>, string>> = {
  unhealthy: 'answered GET /health unhealthy',
  starting: 'answered GET /health that it is still starting',
  'no-answer': 'not answered GET /health',
};

/** The memory after an answer: `since` moves only when the worker turns healthy or unhealthy. */
function remember(before: HealthMemory | undefined, answer: WorkerHealth, cluster: string, now: number): HealthMemory {
  const healthy = answer.status === 'healthy';
  // A clock stepped back before `since` restarts the count rather than stretching it.
  const keep = before !== undefined && (before.status === 'healthy') === healthy && before.since <= now;
  if (keep && before.status === answer.status && before.message === answer.message) return before;
  return { cluster, status: answer.status, message: answer.message, since: keep ? before.since : now };
}

export function judgeHealth(input: HealthInput): HealthDecision {
  const { cluster, answer, now } = input;
  const before = input.state.health?.[cluster];
  let state = input.state;
  const off = input.config.checkInterval === 0;
  // Health no longer read (heal.health off, or a worker without GET /health): what was remembered is forgotten.
  if (answer === 'unsupported' || off) {
    if (before !== undefined) {
      const { [cluster]: _forgotten, ...rest } = state.health ?? {};
      state = { ...state, health: rest };
    }
  } else if (answer !== undefined) {
    const memory = remember(before, answer, cluster, now);
    if (memory !== before) state = { ...state, health: { ...state.health, [cluster]: memory } };
  }
  const memory = state.health?.[cluster];
  // Nothing known: before the first answer, or a worker without GET /health, whose incident stays open (behind
  // one url, workers of mixed versions would otherwise resolve and page it again in turn). Off, nothing
  // would ever resolve it, so it is resolved as unwatched.
  if ((memory === undefined && !off) || input.inMaintenance) return { state, actions: [] };
  const key = incidentKey(cluster, '*', null, 'worker-unhealthy');
  const open = state.incidents[key];

  if (memory === undefined || memory.status === 'healthy') {
    if (open === undefined) return { state, actions: [] };
    const { [key]: _resolved, ...incidents } = state.incidents;
    const resolution = memory === undefined ? 'unwatched' : 'healthy';
    return { state: { ...state, incidents }, actions: [{ kind: 'resolve', incident: { ...open, lastSeen: now, resolvedAt: now }, resolution }] };
  }
  if (open !== undefined) {
    const touched = touchIncident(open, now, 0, input.workerId);
    return { state: touched === open ? state : { ...state, incidents: { ...state.incidents, [key]: touched } }, actions: [] };
  }
  const lasting = now - memory.since;
  if (lasting < input.config.after) return { state, actions: [] };
  const incident = openIncident(
    'worker-unhealthy',
    { cluster, connector: '*', task: null, attempts: 0, workerId: input.workerId },
    {
      reason: `the worker at ${input.workerId} has ${SAID[memory.status]} at every read for ${formatDuration(lasting)}: its connectors and tasks may be stopped while their status reads RUNNING`,
      rootCause: memory.message,
      hint: HINTS.workerUnhealthy,
      trace: '',
    },
    memory.since,
    now,
  );
  return { state: { ...state, incidents: { ...state.incidents, [key]: incident } }, actions: [{ kind: 'escalate', incident }] };
}
