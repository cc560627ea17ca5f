/** The failure timelines every policy is replayed on. Times are ms from the failure's onset. */
import { TRACE } from '../lib/real.js';
import type { Cause, SubjectSpec } from './world.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

export interface Timeline {
  readonly name: string;
  readonly description: string;
  /** Independent runs, each with its own onset phase and jitter. */
  readonly trials: number;
  /** The subjects, with the cause starting at `onset`. */
  subjects(onset: number): SubjectSpec[];
  /** How long after the onset the run goes on (long enough for the slowest policy to heal). */
  readonly horizon: number;
  /** When the cause is over (for "restarts during the cause"); Infinity if never. */
  readonly causeLength: number;
}

const one = (trace: string, endpoint: { host: string; port: number }, cause: (onset: number) => Cause) => (onset: number): SubjectSpec[] => [
  { connector: 'cdc-orders', endpoint, trace, cause: cause(onset) },
];
const pg = { host: 'pg-orders.db.prod.internal', port: 5432 };

function outage(name: string, label: string, length: number, trials: number): Timeline {
  return {
    name,
    description: `one Debezium task FAILED with a real connection trace (PostgreSQL stopped); its database refuses connections for ${label}, then accepts`,
    trials,
    subjects: one(TRACE.connection, pg, (onset) => ({ kind: 'outage', start: onset, end: onset + length })),
    horizon: length + 3 * H,
    causeLength: length,
  };
}

export const TIMELINES: readonly Timeline[] = [
  outage('outage 30 s', '30 s', 30 * S, 20),
  outage('outage 10 min', '10 min', 10 * MIN, 20),
  outage('outage 1 h', '1 h', 1 * H, 20),
  outage('weekend outage 60 h', '60 h (a weekend)', 60 * H, 5),
  {
    name: 'flapping every 5 min for 2 h',
    description: 'one task FAILED (real connection trace, endpoint accepting); a restart heals it, it fails again 5 min after each heal, for 2 h',
    trials: 20,
    subjects: one(TRACE.connectionTerminated, pg, (onset) => ({ kind: 'flap', start: onset, every: 5 * MIN, until: onset + 2 * H })),
    horizon: 5 * H,
    causeLength: 2 * H,
  },
  {
    name: 'serialization failure',
    description: 'one sink task FAILED on a record that is not JSON (real trace); no restart heals it',
    trials: 20,
    subjects: one(TRACE.serialization, { host: 'dwh.db.prod.internal', port: 5432 }, (onset) => ({ kind: 'permanent', start: onset })),
    horizon: 4 * H,
    causeLength: Number.POSITIVE_INFINITY,
  },
  {
    name: 'config failure',
    description: 'one Debezium task FAILED because its publication does not exist (real trace); no restart heals it',
    trials: 20,
    subjects: one(TRACE.config, pg, (onset) => ({ kind: 'permanent', start: onset })),
    horizon: 4 * H,
    causeLength: Number.POSITIVE_INFINITY,
  },
  {
    name: 'cluster-wide outage, 50 connectors, 1 h',
    description: '50 Debezium connectors (one task each, each its own database host) FAILED in the same instant with the real connection trace; every endpoint refuses for 1 h',
    trials: 5,
    subjects: (onset) =>
      Array.from({ length: 50 }, (_, i) => ({
        connector: `cdc-${String(i).padStart(2, '0')}`,
        endpoint: { host: `pg-${String(i).padStart(2, '0')}.db.prod.internal`, port: 5432 },
        trace: TRACE.connection,
        cause: { kind: 'outage', start: onset, end: onset + H },
      })),
    horizon: 4 * H,
    causeLength: H,
  },
];
