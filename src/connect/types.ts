/** Plain, serialisable data describing one poll of one Connect cluster. */

export const STATES = ['UNASSIGNED', 'RUNNING', 'PAUSED', 'FAILED', 'RESTARTING', 'STOPPED'] as const;
export type State = (typeof STATES)[number];

export type ConnectorType = 'source' | 'sink' | 'unknown';

export interface TaskStatus {
  readonly id: number;
  readonly state: State;
  readonly workerId: string;
  /** Present only on FAILED entries (and on RESTARTING entries that were FAILED). */
  readonly trace?: string;
}

/** The host/port a connector talks to, derived from its config (never the config itself: it holds secrets). */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ConnectorSnapshot {
  readonly name: string;
  readonly type: ConnectorType;
  readonly state: State;
  readonly workerId: string;
  readonly trace?: string;
  readonly tasks: readonly TaskStatus[];
  /** From `info.config["tasks.max"]` when the worker answered `expand=info` (cached by the client between reads). */
  readonly tasksMax?: number;
  /** The connector class, when info is present. */
  readonly connectorClass?: string;
  /** The external system the connector depends on, when it can be derived from its config. */
  readonly endpoint?: Endpoint;
}

/**
 * A connector the listing named but whose status the watchdog cannot read (a state it does not know, a
 * wrong shape): nothing is decided about it this poll, and nothing remembered about it is forgotten.
 */
export interface UnreadableConnector {
  readonly name: string;
  /** The field and what is wrong with it (never a config value), e.g. `… .tasks[0].state: unknown state "DRAINING"`. */
  readonly problem: string;
  /** Connect has no status for it at all: created, and its start() has not returned since (policy: paged after heal.unassignedAfter). */
  readonly noStatus?: true;
}

export interface ClusterSnapshot {
  readonly cluster: string;
  /** Epoch milliseconds at which the poll completed. */
  readonly at: number;
  /** Kafka Connect version from `GET /`, when known. */
  readonly version?: string;
  readonly connectors: readonly ConnectorSnapshot[];
  /** Listed connectors left out of `connectors` because their status could not be read; absent when none. */
  readonly unreadable?: readonly UnreadableConnector[];
}

export const HEALTH_STATUSES = ['healthy', 'starting', 'unhealthy', 'no-answer'] as const;

/**
 * What a worker says of itself on `GET /health` (Kafka Connect 3.9 or later, KIP-1017): `healthy` (200),
 * `starting` (503), `unhealthy` (500: its herder thread did not finish a tick in time, e.g. while it cannot
 * reach the Kafka brokers), or `no-answer` when it did not answer in time at all. The worker's own words
 * in `message`.
 */
export interface WorkerHealth {
  readonly status: (typeof HEALTH_STATUSES)[number];
  readonly message: string;
}
