import type { FailureClass } from '../classify/types.js';
import type { WorkerHealth } from '../connect/types.js';
import type { Incident } from '../escalate/types.js';

/** A connector (task null) or one of its tasks. */
export interface SubjectRef {
  readonly cluster: string;
  readonly connector: string;
  readonly task: number | null;
}

export type RestartTarget = 'connector' | 'task';

/**
 * Why a restart was not sent although the subject is FAILED. A skip is emitted when the reason changes
 * (at most once per reason and failure streak, and once per wait after a restart), not on every poll.
 */
export type SkipReason = 'backoff' | 'budget' | 'maintenance' | 'dependency-down' | 'not-owner' | 'escalate-only' | 'worker-unhealthy';

/** Why an incident was resolved. */
export type ResolveReason =
  | 'recovered' // the subject has been RUNNING for heal.stablePeriod
  | 'assigned' // an UNASSIGNED subject was assigned to a worker
  | 'settled' // no worker change for heal.stablePeriod
  | 'outage-over' // no connector of the cluster is failing with connection any more
  | 'flowing' // a stalled source's offsets moved again
  | 'not-running' // a stalled source (or a connector paged no-tasks) is no longer RUNNING (paused, stopped, failed: no stall to speak of)
  | 'unwatched' // heal.stall.connectors no longer names a stalled source or (sidecar) it moved to another worker, or heal.health is off (worker-unhealthy), or heal.noTasksAfter is 0 (no-tasks)
  | 'healthy' // the worker said it is healthy again (GET /health)
  | 'has-tasks' // a RUNNING connector paged for listing no task lists one now
  | 'superseded-by-failure' // a condition page (no status, RESTARTING too long) whose subject then failed with another class: that failure's page speaks for it now
  | 'deleted' // the connector (or task) no longer exists
  | 'cluster-removed'; // the cluster was removed from the configuration

export type Action =
  | {
      readonly kind: 'restart-connector';
      readonly cluster: string;
      readonly connector: string;
      /** The FAILED tasks to restart with the connector; each counts as an attempt of that task. */
      readonly failedTasks: readonly number[];
      /**
       * true: failedTasks are all of the connector's FAILED tasks, so
       * `POST /connectors/{name}/restart?includeTasks=true&onlyFailed=true` does exactly this (KIP-745).
       * false: some FAILED task must not be restarted (its class escalates only): restart the connector
       * alone, then each of failedTasks.
       */
      readonly includeTasks: boolean;
      readonly connectorFailed: boolean;
      readonly class: FailureClass;
      readonly attempt: number;
    }
  | {
      readonly kind: 'restart-task';
      readonly cluster: string;
      readonly connector: string;
      readonly task: number;
      readonly class: FailureClass;
      readonly attempt: number;
    }
  | {
      readonly kind: 'escalate';
      readonly incident: Incident;
      /**
       * A trigger that replaces the open incident of the same key (its dedup key at the pager) rather than opening
       * one: a failure page due while a condition page (no status, RESTARTING too long) holds its key. No new escalation.
       */
      readonly update?: true;
    }
  | { readonly kind: 'resolve'; readonly incident: Incident; readonly resolution?: ResolveReason }
  | {
      readonly kind: 'skip';
      readonly subject: SubjectRef;
      readonly target: RestartTarget;
      readonly class: FailureClass;
      readonly reason: SkipReason;
      /** Epoch ms of the earliest next restart, when known. */
      readonly nextAt?: number;
    };

export type RestartAction = Extract<Action, { kind: 'restart-connector' | 'restart-task' }>;

/**
 * What the executor got back from one restart action.
 * - ok / failed: the attempt stands (decide() committed it when it emitted the action).
 * - rebalance: a 409, or a 500 "rebalance is expected"/forwarding error: the attempt is rolled back and
 *   the restart is due again on the next poll.
 * - not-found: a 404. The attempt stands, as for failed: the listing, not the 404, tells whether the
 *   subject is gone (a proxy that answers every POST with 404 must not reset the backoff at every poll).
 */
export type RestartResult = 'ok' | 'rebalance' | 'not-found' | 'failed';

export interface RestartOutcome {
  /** The action's subject: task null for restart-connector (its tasks restarted with it follow). */
  readonly subject: SubjectRef;
  readonly result: RestartResult;
  /** Connect's answer to a restart refused as a rebalance (status and message, scrubbed and cut), for the page. */
  readonly refusal?: string;
}

/** Per-subject memory of the policy. Plain data, persisted. */
export interface SubjectState {
  readonly cluster: string;
  readonly connector: string;
  readonly task: number | null;
  /** Last state seen. */
  readonly state: string;
  readonly workerId: string;
  /** The failure class of the current or last failure; undefined once the subject is stable again. */
  readonly class?: FailureClass;
  /** Epoch ms the current FAILED streak was first seen (a RESTARTING in between does not end it). */
  readonly failedSince?: number;
  /** Restarts since the last reset. */
  readonly attempts: number;
  /** Epoch ms of each restart within the escalation window. */
  readonly restartTimes: readonly number[];
  /** Epoch ms before which no restart is sent. */
  readonly nextRestartAt?: number;
  /** Epoch ms the subject was first seen RUNNING again after a failure (counters reset stablePeriod later). */
  readonly recoveredAt?: number;
  readonly unassignedSince?: number;
  /** Epoch ms the subject was first seen RESTARTING in a row (its start() has not returned). */
  readonly restartingSince?: number;
  /** Epoch ms a connector was first reported with no status at all (state NO_STATUS: created, its start() not returned). */
  readonly noStatusSince?: number;
  /** Epoch ms a task was first left unlisted by its RUNNING connector listing no task (forgotten after heal.unassignedAfter). */
  readonly unlistedSince?: number;
  /**
   * Epoch ms a RUNNING connector was first seen listing no task, in a row; kept only while heal.noTasksAfter > 0
   * (paged no-tasks after that long).
   */
  readonly noTasksSince?: number;
  /** Epoch ms of each worker change within max(rebalance.window, stablePeriod). */
  readonly moves: readonly number[];
  /** The last skip reason emitted in this FAILED streak (skips are emitted when it changes). */
  readonly lastSkip?: SkipReason;
  /** Epoch ms the dependency probe first refused in this FAILED streak (connection class only). */
  readonly dependencyDownSince?: number;
  /** Epoch ms of the last restart committed by decide(); applyOutcome rolls it back on a rebalance. */
  readonly lastRestartAt?: number;
  /** Restarts refused in a row as a rebalance (409, or 500 while forwarding) in this FAILED streak. */
  readonly refusals?: number;
  /** Epoch ms of the first of those refusals. */
  readonly refusedSince?: number;
  /** Connect's answer to the last of those refusals: the page quotes it (a 500 names why forwarding failed). */
  readonly lastRefusal?: string;
}

/**
 * The epoch-ms fields of SubjectState that mark when something began, never later than now (a clock stepped
 * back is undone in observe.ts), and with the restart times every optional time the state file may hold.
 */
export const SUBJECT_SINCE_FIELDS = ['failedSince', 'recoveredAt', 'unassignedSince', 'restartingSince', 'noStatusSince', 'unlistedSince', 'noTasksSince', 'dependencyDownSince', 'refusedSince'] as const;
export const SUBJECT_TIME_FIELDS = [...SUBJECT_SINCE_FIELDS, 'nextRestartAt', 'lastRestartAt'] as const;

type OptionalNumberField = { [K in keyof SubjectState]-?: undefined extends SubjectState[K] ? (NonNullable<SubjectState[K]> extends number ? K : never) : never }[keyof SubjectState];
/** Fails to compile when SubjectState gains an optional time missing from the lists above (refusals is a count). */
export type EveryTimeListed = [Exclude<OptionalNumberField, (typeof SUBJECT_TIME_FIELDS)[number] | 'refusals'>] extends [never] ? true : never;
const everyTimeListed: EveryTimeListed = true;
void everyTimeListed;

/** What the stall check remembers of a watched source connector (stall.ts). Plain data, persisted. */
export interface OffsetsMemory {
  readonly cluster: string;
  readonly connector: string;
  /** A digest of the committed offsets last read (ConnectClient.offsets). */
  readonly digest: string;
  /** Epoch ms of the first read that found these offsets: when they last moved, as far as the watchdog saw. */
  readonly movedAt: number;
  /**
   * A read failed since (the worker could not serve it: a lost Kafka broker). The next read that finds the
   * offsets unmoved only confirms them: the source may have resumed and not yet committed.
   */
  readonly readFailed?: true;
}

/** What the health check remembers of a cluster's worker (health.ts): its last answer. Plain data, persisted. */
export interface HealthMemory extends WorkerHealth {
  readonly cluster: string;
  /** Epoch ms of the first answer of the current run of healthy, or of not healthy, answers. */
  readonly since: number;
}

export interface BudgetState {
  readonly tokens: number;
  readonly updatedAt: number;
}

export interface HealState {
  /** Keyed by `${cluster}/${connector}/${task ?? 'connector'}`. */
  readonly subjects: Readonly<Record<string, SubjectState>>;
  /** Open incidents keyed by incident key. */
  readonly incidents: Readonly<Record<string, Incident>>;
  /** Per-cluster restart budget. */
  readonly budgets: Readonly<Record<string, BudgetState>>;
  /** Watched source connectors' offsets, keyed by `${cluster}/${connector}`; absent when none are watched. */
  readonly offsets?: Readonly<Record<string, OffsetsMemory>>;
  /** Each cluster's worker health, keyed by cluster; absent when none is known. */
  readonly health?: Readonly<Record<string, HealthMemory>>;
}

export const EMPTY_HEAL_STATE: HealState = { subjects: {}, incidents: {}, budgets: {} };

export function subjectKey(ref: SubjectRef): string {
  return `${ref.cluster}/${ref.connector}/${ref.task ?? 'connector'}`;
}
