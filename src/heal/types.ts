import type { FailureClass } from '../classify/types.js';
import type { Incident } from '../escalate/types.js';

/** A connector (task null) or one of its tasks. */
export interface SubjectRef {
  readonly cluster: string;
  readonly connector: string;
  readonly task: number | null;
}

export type RestartTarget = 'connector' | 'task';

/** Why a restart was not sent although the subject is FAILED. */
export type SkipReason = 'backoff' | 'budget' | 'maintenance' | 'dependency-down' | 'not-owner' | 'escalate-only';

export type Action =
  | {
      readonly kind: 'restart-connector';
      readonly cluster: string;
      readonly connector: string;
      /** Restart the connector's FAILED tasks with it (KIP-745); older workers: one call per task. */
      readonly failedTasks: readonly number[];
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
  | { readonly kind: 'escalate'; readonly incident: Incident }
  | { readonly kind: 'resolve'; readonly incident: Incident }
  | {
      readonly kind: 'skip';
      readonly subject: SubjectRef;
      readonly target: RestartTarget;
      readonly class: FailureClass;
      readonly reason: SkipReason;
      /** Epoch ms of the earliest next restart, when known. */
      readonly nextAt?: number;
    };

/** Per-subject memory of the policy. Plain data, persisted. */
export interface SubjectState {
  readonly cluster: string;
  readonly connector: string;
  readonly task: number | null;
  /** Last state seen. */
  readonly state: string;
  readonly workerId: string;
  /** The failure class of the current or last failure. */
  readonly class?: FailureClass;
  /** Epoch ms the current FAILED streak was first seen. */
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
  /** Epoch ms of each worker change within the rebalance window. */
  readonly moves: readonly number[];
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
}

export const EMPTY_HEAL_STATE: HealState = { subjects: {}, incidents: {}, budgets: {} };

/** The executor's answer to a restart action, given back to the policy (applyOutcome). */
export interface RestartOutcome {
  readonly subject: SubjectRef;
  /** rebalance: a 409 or a rebalance 500; does not count as an attempt, retried next poll. not-found: the connector was deleted. */
  readonly result: 'ok' | 'rebalance' | 'not-found' | 'failed';
}
