import type { CustomRule, FailureClass } from '../classify/types.js';
import type { HealAction, Severity, SinkType } from './schema.js';

export interface ClusterConfig {
  readonly name: string;
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  /** PEM contents (read from the files named in the config). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
  readonly timeout: number;
  readonly probe: boolean;
}

export interface SinkFilter {
  readonly classes?: readonly string[];
  readonly severities?: readonly Severity[];
  readonly clusters?: readonly string[];
  /** A regular expression on connector names. */
  readonly connector?: string;
}

export interface SinkConfig {
  readonly type: SinkType;
  readonly name: string;
  readonly url: string;
  /** HMAC key (webhook). */
  readonly secret?: string;
  /** PagerDuty integration key. */
  readonly routingKey?: string;
  readonly filter: SinkFilter;
}

export interface MaintenanceWindow {
  readonly cron: string;
  readonly duration: number;
  readonly cluster?: string;
  readonly connector?: string;
  readonly timezone?: string;
}

export interface HealConfig {
  readonly actions: Readonly<Record<FailureClass, HealAction>>;
  readonly firstRestartDelay: number;
  readonly backoff: { readonly initial: number; readonly factor: number; readonly max: number; readonly jitter: number; readonly heldAfter: number };
  readonly maxAttempts: number;
  readonly stablePeriod: number;
  readonly escalateAfter: { readonly restarts: number; readonly window: number };
  readonly unassignedAfter: number;
  /** A RUNNING connector with no task for this long is paged no-tasks; 0 = off (the default). */
  readonly noTasksAfter: number;
  readonly rebalance: { readonly maxMoves: number; readonly window: number };
  readonly budget: { readonly perMinute: number };
  readonly clusterOutageThreshold: number;
  readonly probe: { readonly enabled: boolean; readonly timeout: number };
  readonly confirmDelay: number;
  /** Stalled sources (heal/stall.ts): connectors is a regular expression on names, '' = none. */
  readonly stall: { readonly connectors: string; readonly after: number; readonly checkInterval: number };
  /** The workers' own health (heal/health.ts): checkInterval 0 = never read. */
  readonly health: { readonly checkInterval: number; readonly after: number };
}

export interface WatchdogConfig {
  readonly clusters: readonly ClusterConfig[];
  readonly pollInterval: number;
  readonly pollJitter: number;
  readonly requestTimeout: number;
  readonly requestRetries: number;
  readonly statusConcurrency: number;
  /** ms between two reads of the connector configs (GET /connectors?expand=info). */
  readonly infoRefresh: number;
  readonly logLevel: string;
  readonly stateFile: string;
  readonly dryRun: boolean;
  readonly shutdownTimeout: number;
  readonly ownership: { readonly mode: 'all' | 'worker'; readonly workerId: string };
  readonly metrics: { readonly enabled: boolean; readonly host: string; readonly port: number };
  readonly heal: HealConfig;
  readonly maintenance: readonly MaintenanceWindow[];
  readonly rules: readonly CustomRule[];
  readonly sinks: readonly SinkConfig[];
  readonly delivery: { readonly timeout: number; readonly retries: number; readonly interval: number; readonly maxAge: number };
  readonly alertmanager: { readonly resendInterval: number };
  readonly heartbeat: { readonly url: string; readonly interval: number };
  /** The outbound proxy of pages and heartbeat pings, from the standard variables (resolveProxy); {} when none. */
  readonly proxy: ProxyConfig;
}

/** What undici's EnvHttpProxyAgent takes: proxy URLs (credentials allowed) and a NO_PROXY list. */
export interface ProxyConfig {
  readonly http?: string;
  readonly https?: string;
  readonly noProxy?: string;
}
