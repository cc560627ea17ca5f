/**
 * The Kafka Connect REST client of one cluster: turns HTTP into typed snapshots and typed errors.
 * Idempotent GETs are retried (bounded, jittered); restarts (POST) are never retried here: whether and
 * when to try again is the policy's decision.
 */
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/types.js';
import { mapBounded } from './bounded.js';
import { ConnectError, isConnectError, isNotFound, isRebalance } from './errors.js';
import { parseListing, parseRestartBody, parseStatus, parseVersion } from './shapes.js';
import { Transport, type Method } from './transport.js';
import type { ClusterSnapshot, ConnectorSnapshot } from './types.js';
import { parseWith, type RequestLine } from './response.js';

export { supportsRestartFlags } from './version.js';

export interface ConnectClientOptions {
  /** How many times an idempotent GET is retried after its first attempt. */
  readonly retries: number;
  /** Per-connector status requests in flight at once on workers that ignore `expand`. */
  readonly statusConcurrency: number;
  readonly logger?: Logger;
  /** Epoch-millisecond clock for `ClusterSnapshot.at`. */
  readonly now?: () => number;
}

export interface RestartFlags {
  readonly includeTasks: boolean;
  readonly onlyFailed: boolean;
}

export interface RestartResult {
  /** 202: the worker accepted a KIP-745 restart and answered the new status; 204: restarted, no body. */
  readonly status: 202 | 204;
  readonly body?: ConnectorSnapshot;
}

export const LISTING_PATH = '/connectors?expand=status&expand=info';

/**
 * One path segment for a connector name. Names may hold spaces, `/`, `%`, `?`, `#` and non-ASCII;
 * `.` and `..` are escaped too, or a proxy or the server would normalise them away.
 */
export function encodeSegment(name: string): string {
  const encoded = encodeURIComponent(name);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

export function connectorPath(connector: string, suffix = ''): string {
  return `/connectors/${encodeSegment(connector)}${suffix}`;
}

/** Retry a GET on what a moment may fix: network, timeouts, 5xx (rebalance 500s included), 409. */
export function isRetryable(err: unknown): boolean {
  if (!isConnectError(err)) return false;
  switch (err.code) {
    case 'NETWORK':
    case 'TIMEOUT':
      return true;
    case 'HTTP':
      return isRebalance(err) || (err.status !== undefined && err.status >= 500);
    case 'BAD_BODY':
      // An HTML error page from a proxy in front of a restarting worker.
      return err.status !== undefined && err.status >= 500;
    case 'ABORTED':
      return false;
  }
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 1_000;

export class ConnectClient {
  readonly cluster: string;
  private readonly transport: Transport;
  private readonly retries: number;
  private readonly statusConcurrency: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  /** The version from `GET /`, once known; forgotten when a poll fails (the worker may have been upgraded). */
  private knownVersion: { readonly value: string | undefined } | undefined;

  constructor(cluster: ClusterConfig, options: ConnectClientOptions) {
    this.cluster = cluster.name;
    this.retries = Number.isFinite(options.retries) ? Math.max(0, Math.floor(options.retries)) : 0;
    this.statusConcurrency = Number.isFinite(options.statusConcurrency) ? Math.max(1, Math.floor(options.statusConcurrency)) : 1;
    this.logger = options.logger?.child({ cluster: cluster.name });
    this.now = options.now ?? Date.now;
    // Room for the status fan-out plus the version and a restart running beside a poll.
    this.transport = new Transport(cluster, {
      connections: this.statusConcurrency + 2,
      ...(this.logger !== undefined && { logger: this.logger }),
    });
  }

  /** Kafka Connect version from `GET /` (cached once known), or undefined when the worker does not say. */
  async version(signal?: AbortSignal): Promise<string | undefined> {
    if (this.knownVersion !== undefined) return this.knownVersion.value;
    const body = await this.get('/', signal);
    const value = parseWith(this.line('GET', '/'), () => parseVersion(body));
    this.knownVersion = { value };
    return value;
  }

  /**
   * Every connector and task of the cluster: one `GET /connectors?expand=status&expand=info`; on a worker
   * that ignores expand (< 2.3), one status request per connector with bounded concurrency, skipping the
   * connectors deleted in between (404).
   */
  async snapshot(signal?: AbortSignal): Promise<ClusterSnapshot> {
    try {
      const [version, connectors] = await Promise.all([this.versionOrUndefined(signal), this.connectors(signal)]);
      return { cluster: this.cluster, at: this.now(), ...(version !== undefined && { version }), connectors };
    } catch (err) {
      this.knownVersion = undefined;
      throw err;
    }
  }

  /** One connector's status, or undefined when Connect does not know it (404). */
  async status(connector: string, signal?: AbortSignal): Promise<ConnectorSnapshot | undefined> {
    const path = connectorPath(connector, '/status');
    let body: unknown;
    try {
      body = await this.get(path, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return parseWith(this.line('GET', path), () => parseStatus(body));
  }

  /** `POST /connectors/{name}/restart?includeTasks=&onlyFailed=`. Not retried. */
  async restartConnector(connector: string, flags: RestartFlags, signal?: AbortSignal): Promise<RestartResult> {
    const path = connectorPath(connector, `/restart?includeTasks=${String(flags.includeTasks)}&onlyFailed=${String(flags.onlyFailed)}`);
    const { status, body } = await this.post(path, signal);
    // 202 carries the new status (KIP-745); an older worker, or both flags false, answers 204 and no body.
    if (body === undefined) return { status: status === 202 ? 202 : 204 };
    return { status: 202, body: parseWith(this.line('POST', path), () => parseRestartBody(body)) };
  }

  /** `POST /connectors/{name}/tasks/{id}/restart` (204). Not retried. */
  async restartTask(connector: string, task: number, signal?: AbortSignal): Promise<void> {
    if (!Number.isInteger(task) || task < 0) throw new RangeError(`task id must be a non-negative integer, got ${task}`);
    await this.post(connectorPath(connector, `/tasks/${task}/restart`), signal);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async connectors(signal: AbortSignal | undefined): Promise<ConnectorSnapshot[]> {
    const body = await this.get(LISTING_PATH, signal);
    const listing = parseWith(this.line('GET', LISTING_PATH), () => parseListing(body));
    if (listing.kind === 'expanded') return [...listing.connectors];
    this.logger?.debug({ connectors: listing.names.length }, 'worker ignored expand: reading statuses one by one');
    const statuses = await mapBounded(listing.names, this.statusConcurrency, (name, s) => this.status(name, s), signal).catch(
      (err: unknown) => {
        throw this.asAbort(err, signal, LISTING_PATH);
      },
    );
    return statuses.filter((s): s is ConnectorSnapshot => s !== undefined);
  }

  /** The version for a snapshot: a failure to read it does not fail the poll (it is tried again next time). */
  private async versionOrUndefined(signal: AbortSignal | undefined): Promise<string | undefined> {
    try {
      return await this.version(signal);
    } catch (err) {
      if (isConnectError(err) && err.code === 'ABORTED') throw err;
      this.logger?.debug({ code: isConnectError(err) ? err.code : undefined }, 'could not read the Connect version');
      return undefined;
    }
  }

  private line(method: Method, path: string): RequestLine {
    return { cluster: this.cluster, method, path: this.transport.pathOf(path) };
  }

  /** A cancellation by the caller, whatever shape it arrived in (p-retry and mapBounded throw the signal's reason), as ABORTED. */
  private asAbort(err: unknown, signal: AbortSignal | undefined, path: string): unknown {
    if (signal?.aborted !== true || (isConnectError(err) && err.code === 'ABORTED')) return err;
    return new ConnectError({ ...this.line('GET', path), code: 'ABORTED', detail: 'aborted by the caller', cause: err });
  }

  private async get(path: string, signal: AbortSignal | undefined): Promise<unknown> {
    try {
      const { body } = await pRetry(() => this.transport.send('GET', path, signal), {
        retries: this.retries,
        minTimeout: RETRY_MIN_MS,
        maxTimeout: RETRY_MAX_MS,
        factor: 2,
        randomize: true,
        ...(signal !== undefined && { signal }),
        shouldRetry: ({ error, attemptNumber, retryDelay }) => {
          const retry = isRetryable(error);
          if (retry) {
            this.logger?.debug({ path: this.transport.pathOf(path), attempt: attemptNumber, code: isConnectError(error) ? error.code : undefined, retryDelay }, 'retrying');
          }
          return retry;
        },
      });
      return body;
    } catch (err) {
      // p-retry rejects with the signal's reason when aborted between attempts.
      throw this.asAbort(err, signal, path);
    }
  }

  private async post(path: string, signal: AbortSignal | undefined): Promise<{ readonly status: number; readonly body: unknown }> {
    // undici sends nothing on an already aborted signal: that is an ABORTED error, not a restart.
    return this.transport.send('POST', path, signal);
  }
}
