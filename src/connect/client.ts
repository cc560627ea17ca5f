/**
 * The Kafka Connect REST client of one cluster: turns HTTP into typed snapshots and typed errors.
 * Idempotent GETs are retried (bounded, jittered); restarts (POST) are never retried here: whether and
 * when to try again is the policy's decision.
 *
 * A poll reads the statuses only (`GET /connectors?expand=status`). The info parts of a snapshot
 * (tasks.max, connector class, endpoint) come from `info.config`, which is most of an `expand=info` body
 * and holds clear-text passwords; configs rarely change, so those parts are cached per connector and read
 * again (`GET /connectors?expand=info`, one request) only for a connector not seen yet, for a status
 * showing a task beyond the cached tasks.max, and every `infoRefresh`. A member of that listing with a wrong
 * shape leaves that one connector's info as last read (readInfo). The info listing also names the
 * connectors that have no status yet, which the status listing leaves out (withStatusless): of those,
 * only the names are kept.
 */
import { createHash } from 'node:crypto';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { ClusterConfig, WatchdogConfig } from '../config/types.js';
import { mapBounded } from './bounded.js';
import { ConnectError, isConnectError, isNotFound, isRebalance, isTimeout, ShapeError } from './errors.js';
import { indexListing, indexMembers, type ListingIndex } from './listing-index.js';
import { isTaskId, MAX_TASK_ID, parseHealth, parseInfoEntry, parseInfoListing, parseListing, parseNames, parseOffsetsDigest, parseRestartBody, parseStatus, parseVersion, splitInfo, splitListed, type InfoListing, type InfoParts, type ListedConnectors, type Listing } from './shapes.js';
import { BodyBuffers, Transport, type Method } from './transport.js';
import type { ClusterSnapshot, ConnectorSnapshot, UnreadableConnector, WorkerHealth } from './types.js';
import { abortDetail, isDeadline, isTlsMisconfigured, looksLikeJson, parseWith, shapeToConnectError, type RequestLine } from './response.js';
import { within } from '../util/clock.js';
import { isJsonObject } from '../util/json.js';

export { supportsRestartFlags } from './version.js';

export interface ConnectClientOptions {
  /** How many times an idempotent GET is retried after its first attempt. */
  readonly retries: number;
  /** Per-connector status requests in flight at once on workers that ignore `expand`. */
  readonly statusConcurrency: number;
  readonly logger?: Logger;
  /** Epoch-millisecond clock for `ClusterSnapshot.at` and the age of the cached connector info. */
  readonly now?: () => number;
  /**
   * How long (ms) the connector info (tasks.max, class, endpoint) read by `GET /connectors?expand=info`
   * is reused before it is read again: a config change (PUT config) shows after at most this long.
   * Default {@link DEFAULT_INFO_REFRESH_MS}.
   */
  readonly infoRefresh?: number;
  /**
   * false: never read the connector info (`status` shows none of it, and need not fetch every connector's
   * config, passwords included, to show the statuses). Default true.
   */
  readonly readInfo?: boolean;
  /** See TransportOptions.onWorkerCertificate. */
  readonly onWorkerCertificate?: (validTo: number) => void;
}

/** The options a watchdog config sets, the same for every client built from it (daemon, CLI, bench). */
export function clientOptions(config: Pick<WatchdogConfig, 'requestRetries' | 'statusConcurrency' | 'infoRefresh'>): Pick<ConnectClientOptions, 'retries' | 'statusConcurrency' | 'infoRefresh'> {
  return { retries: config.requestRetries, statusConcurrency: config.statusConcurrency, infoRefresh: config.infoRefresh };
}

export interface RestartFlags {
  readonly includeTasks: boolean;
  readonly onlyFailed: boolean;
}

/** The message of a 404 for a path the worker has no resource for (Jersey's NotFoundException). */
const JERSEY_NOT_FOUND = 'HTTP 404 Not Found';

/** Whether a 404's body is Jersey's own (no resource at that path), as a worker answers it in JSON. */
function jerseyNotFound(body: Buffer): boolean {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isJsonObject(parsed) && parsed['message'] === JERSEY_NOT_FOUND;
  } catch {
    return false;
  }
}

/** What `GET /connectors/{name}/offsets` told (ConnectClient.offsets). */
export type OffsetsAnswer = { readonly digest: string } | 'gone' | 'unsupported';

export interface RestartResult {
  /** 202: the worker accepted a KIP-745 restart and answered the new status; 204: restarted, no body. */
  readonly status: 202 | 204;
  /**
   * The status of the connector the worker restarted, which is not always the one asked for (a name with `;`
   * cut when a worker forwards the request): the caller compares the names (daemon/executor.ts, MISROUTED).
   */
  readonly body?: ConnectorSnapshot;
  /**
   * A 202 whose body is there but does not read (not JSON, cut short, another shape): the worker accepted the
   * restart all the same, and only the status it answered is unknown. What it was, never what it said (a status
   * body quotes traces, a proxy's page may quote anything): the name only when the body is an object naming one
   * (the caller still checks it, as a body's name).
   */
  readonly unreadable?: UnreadableRestartBody;
}

export interface UnreadableRestartBody {
  readonly problem: 'not JSON' | 'invalid or truncated JSON' | 'unexpected shape';
  /** The body's length in characters. */
  readonly bodyChars: number;
  /** Where the shape went wrong (a path such as `restart.tasks[0].state`; no value). */
  readonly field?: string;
  readonly name?: string;
}

/** The worker's own health (Kafka Connect 3.9 or later, KIP-1017). */
export const HEALTH_PATH = '/health';
/**
 * How long a health read waits. A worker whose herder thread is busy (cut off from the Kafka brokers,
 * rebalancing) holds `GET /health` 10 s before it answers 500 with what the herder is doing: the
 * cluster's request timeout (5 s by default) would lose that answer.
 */
export const HEALTH_TIMEOUT_MS = 15_000;

/** The request of every poll: every connector's status. */
export const LISTING_PATH = '/connectors?expand=status';
/** Every connector's config (reduced to InfoParts), read when the cached info is missing or old. */
export const INFO_LISTING_PATH = '/connectors?expand=info';
export const DEFAULT_INFO_REFRESH_MS = 5 * 60_000;
/** The connectors' names, no config: what a client that reads no info learns the statusless ones from (withUnlisted). */
export const NAMES_PATH = '/connectors';

/**
 * The problem of a connector that has a config but no status: Connect leaves it out of the status listing
 * (and answers 404 for its status) until its start() has returned once, which a start() blocked on an
 * unreachable system can put off indefinitely.
 */
export const NO_STATUS_PROBLEM =
  'no status: it has not finished starting since it was created (its start() may be blocked, e.g. on an unreachable system: see the worker log)';

/** Failures of the socket, not of a response: their messages hold no body, only the request line and what the socket said. */
const TRANSPORT_CODES: ReadonlySet<string> = new Set(['NETWORK', 'TIMEOUT']);
const noStatus = (name: string): UnreadableConnector => ({ name, problem: NO_STATUS_PROBLEM, noStatus: true });

/** The cached info parts of one connector. */
interface CachedInfo {
  readonly info: InfoParts;
  /**
   * The task extent (highest task id + 1) its status showed when the info was read. A status showing a
   * task beyond both this and the cached tasks.max hints that tasks.max was raised; remembering what was
   * already seen keeps tasks lingering beyond a lowered tasks.max from re-reading the info every poll.
   */
  readonly tasksSeen: number;
}

function taskExtent(c: ConnectorSnapshot): number {
  let extent = 0;
  for (const t of c.tasks) if (t.id >= extent) extent = t.id + 1;
  return extent;
}

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

/** Retry a GET on what a moment may fix: network (not a TLS set-up that is wrong), timeouts, 5xx (rebalance 500s included), 409. */
export function isRetryable(err: unknown): boolean {
  if (!isConnectError(err)) return false;
  switch (err.code) {
    case 'NETWORK':
      return !isTlsMisconfigured(err.cause);
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

const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();

/** The same info parts (the very objects: an unchanged info body reuses them), connector by connector. */
function sameInfo(a: ReadonlyMap<string, CachedInfo>, b: ReadonlyMap<string, CachedInfo>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, x] of a) if (b.get(name)?.info !== x.info) return false;
  return true;
}

/** getExchange's answer for a body identical to the one given. */
const UNCHANGED: unique symbol = Symbol('unchanged');

/**
 * The info listing read member by member: one connector's config parsed at a time, not the whole body's
 * (parsed whole, the 1.7 MB body of 10k tasks put the first poll's peak RSS about 4 MB higher: bench/scale).
 * Undefined: parse it whole.
 */
function walkInfo(bytes: Buffer): InfoListing | undefined {
  const walked = indexMembers(bytes, parseInfoEntry);
  return walked === undefined ? undefined : splitInfo(walked.names.map((name, k) => [name, walked.entries[k]] as const));
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
  private readonly infoRefresh: number;
  private readonly readsInfo: boolean;
  /** The info parts by connector name, from the last `expand=info` that succeeded. */
  private readonly info = new Map<string, CachedInfo>();
  /** When the last `expand=info` succeeded (`now()`), undefined before the first one. */
  private infoReadAt: number | undefined;
  /**
   * The last listing's body bytes and the connectors made of it (info merged in). In a steady cluster
   * the listing is byte-identical poll after poll: then it is neither decoded nor parsed again, and the
   * poll's snapshot reuses the same connectors array (ClusterLoop skips the work that depends on it
   * alone). Kept only while the info cache is fresh and complete for it.
   */
  private lastListing: ListedConnectors & { readonly bytes: Buffer; readonly statuses: readonly ConnectorSnapshot[] } | undefined;
  /** A status with its cached info merged in, by status (statuses are reused while their bytes do not change). */
  private readonly withInfo = new WeakMap<ConnectorSnapshot, { readonly info: InfoParts; readonly connector: ConnectorSnapshot }>();
  /** Where the connectors of the last changed listing lie in its bytes: the next change reuses those it leaves alone. */
  private listingIndex: ListingIndex | undefined;
  /** The memory of the listing bodies: a changed listing is written over the one before the last. */
  private readonly listingBuffers = new BodyBuffers();
  /** The SHA-256 of the last `expand=info` body parsed, and what it gave (the configs themselves are not kept). */
  private lastInfo: { readonly digest: Buffer; readonly listing: InfoListing } | undefined;
  /** The connectors whose info member last read with a wrong shape, and the problem: logged when this changes, not every read. */
  private unreadableInfo: ReadonlyMap<string, string> = new Map();
  /** The connector names the last info read listed (names only), until the poll that read them takes them. */
  private infoNames: readonly string[] | undefined;
  /**
   * The connectors the last info read listed but the status listing lacked, and lacks still (see
   * withStatusless); true once a poll has found it so, i.e. from the second poll on.
   */
  private statusless = new Map<string, boolean>();
  /** The last unreadable list made with statusless connectors, reused while it is the same (ClusterLoop compares it by identity). */
  private statuslessReport: { readonly base: readonly UnreadableConnector[]; readonly names: string; readonly unreadable: readonly UnreadableConnector[] } | undefined;
  /** The version from `GET /`, once known; forgotten when a poll fails (the worker may have been upgraded). */
  private knownVersion: { readonly value: string | undefined } | undefined;
  /** A `GET /` in flight, and whether one has failed (see versionFor). */
  private versionRead: Promise<string | undefined> | undefined;
  private versionFailed = false;

  constructor(cluster: ClusterConfig, options: ConnectClientOptions) {
    this.cluster = cluster.name;
    this.retries = Number.isFinite(options.retries) ? Math.max(0, Math.floor(options.retries)) : 0;
    this.statusConcurrency = Number.isFinite(options.statusConcurrency) ? Math.max(1, Math.floor(options.statusConcurrency)) : 1;
    this.logger = options.logger?.child({ cluster: cluster.name });
    this.now = options.now ?? Date.now;
    this.readsInfo = options.readInfo !== false;
    this.infoRefresh = options.infoRefresh !== undefined && Number.isFinite(options.infoRefresh) ? Math.max(0, options.infoRefresh) : DEFAULT_INFO_REFRESH_MS;
    // Room for the status fan-out plus the version and a restart running beside a poll.
    this.transport = new Transport(cluster, {
      connections: this.statusConcurrency + 2,
      ...(this.logger !== undefined && { logger: this.logger }),
      ...(options.onWorkerCertificate !== undefined && { onWorkerCertificate: options.onWorkerCertificate }),
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
   * Every connector and task of the cluster: one `GET /connectors?expand=status`, plus one
   * `GET /connectors?expand=info` when the cached info is missing or old (a failure of that one does not
   * fail the poll: the info last read is kept, and it is tried again next poll; a connector listed there with
   * a wrong shape keeps its own, the others are updated). On a worker that ignores
   * expand (< 2.3), one status request per connector with bounded concurrency, skipping the connectors
   * deleted in between (404), and no info.
   */
  async snapshot(signal?: AbortSignal): Promise<ClusterSnapshot> {
    try {
      const [version, { connectors, unreadable }] = await Promise.all([this.versionFor(signal), this.connectors(signal)]);
      return { cluster: this.cluster, at: this.now(), ...(version !== undefined && { version }), connectors, ...(unreadable.length > 0 && { unreadable }) };
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
    return parseWith(this.line('GET', path), () => {
      const status = parseStatus(body);
      // A status naming another connector is a body we cannot trust (as in the expand listing, shapes.parseListingEntry).
      if (status.name !== connector) throw new ShapeError('status.name', 'does not match the connector asked for');
      return status;
    });
  }

  /**
   * `GET /connectors/{name}/offsets` (Kafka Connect 3.5 or later, KIP-875): a digest of the committed offsets
   * that stays the same while they do not move (shapes.parseOffsetsDigest); `gone` when Connect does not know
   * the connector (deleted meanwhile), `unsupported` when the worker has no such endpoint (its 404 names no
   * connector). Retried like any read.
   */
  async offsets(connector: string, signal?: AbortSignal): Promise<OffsetsAnswer> {
    const path = connectorPath(connector, '/offsets');
    let body: unknown;
    try {
      // Not retried after a timeout: Connect answers it on its herder thread, which a lost Kafka broker or a
      // rebalance holds for minutes (measured: 90 s, then 500 "Request timed out"); the next check is the retry.
      body = (await this.getExchange(path, signal, { retryTimeouts: false })).body;
    } catch (err) {
      if (isNotFound(err)) {
        // Jersey's own 404 (no such route) before Connect's, which names the connector it does not know.
        const message = (err as ConnectError).connectMessage;
        return message !== JERSEY_NOT_FOUND && message?.includes(connector) === true ? 'gone' : 'unsupported';
      }
      throw err;
    }
    return { digest: parseWith(this.line('GET', path), () => parseOffsetsDigest(body)) };
  }

  /**
   * `GET /health`: what the worker says of itself, or undefined when it has no such endpoint (Jersey's 404:
   * Kafka Connect before 3.9). One request, not retried: a 500 or 503 is the answer, and a timeout is one too
   * (`no-answer`). A transport failure throws, as any read does, and so does any other 404: a starting 3.9+
   * worker answers every path with Jetty's HTML 404 for a second or two, and taking that for "no endpoint"
   * would stop watching its health for the life of the process.
   */
  async health(signal?: AbortSignal, timeout = HEALTH_TIMEOUT_MS): Promise<WorkerHealth | undefined> {
    let raw;
    try {
      raw = await this.transport.receive('GET', HEALTH_PATH, signal, { timeout });
    } catch (err) {
      if (isConnectError(err) && err.code === 'TIMEOUT' && signal?.aborted !== true) {
        return { status: 'no-answer', message: `no answer to GET ${HEALTH_PATH} within ${timeout / 1000} s` };
      }
      throw err;
    }
    if (raw.status === 404 && jerseyNotFound(raw.bytes)) return undefined;
    if (raw.status !== 200 && raw.status !== 500 && raw.status !== 503) {
      this.transport.interpret(raw); // throws the ConnectError of any other error status
      return undefined;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.bytes.toString('utf8'));
    } catch {
      body = undefined; // not Connect's JSON: the HTTP status still says healthy or not
    }
    return parseHealth(raw.status, body);
  }

  /**
   * For a one-shot look that reads no info (`status`), which withStatusless cannot help: the snapshot with
   * the connectors that `GET /connectors` (names only, no config) lists but the snapshot left out, each
   * read once more by `GET /connectors/{name}/status`: a 404 makes it unreadable (NO_STATUS_PROBLEM), a
   * status (it started, or was created, in between) joins the connectors. Read after the snapshot, so a
   * connector deleted in between is in neither listing. When these reads fail, the snapshot is answered
   * as it was (warned): one request more per look, and per connector left out.
   */
  async withUnlisted(snapshot: ClusterSnapshot, signal?: AbortSignal): Promise<ClusterSnapshot> {
    try {
      const body = await this.get(NAMES_PATH, signal);
      const names = parseWith(this.line('GET', NAMES_PATH), () => parseNames(body));
      const seen = new Set([...snapshot.connectors, ...(snapshot.unreadable ?? [])].map((c) => c.name));
      const unlisted = names.filter((name) => !seen.has(name));
      if (unlisted.length === 0) return snapshot;
      const read = await mapBounded(unlisted, this.statusConcurrency, (name, s) => this.readableStatus(name, s), signal);
      const { connectors, unreadable } = splitListed(read.map((entry, k) => entry ?? noStatus(unlisted[k] as string)));
      const allUnreadable = [...(snapshot.unreadable ?? []), ...unreadable];
      return { ...snapshot, connectors: [...snapshot.connectors, ...connectors], ...(allUnreadable.length > 0 && { unreadable: allUnreadable }) };
    } catch (err) {
      const error = this.asAbort(err, signal, NAMES_PATH);
      if (!isConnectError(error)) throw error;
      this.logger?.warn({ code: error.code, status: error.status, path: error.path }, 'could not look for connectors without a status: showing the listing as it is');
      return snapshot;
    }
  }

  /** `POST /connectors/{name}/restart?includeTasks=&onlyFailed=`. Not retried. */
  async restartConnector(connector: string, flags: RestartFlags, signal?: AbortSignal): Promise<RestartResult> {
    const path = connectorPath(connector, `/restart?includeTasks=${String(flags.includeTasks)}&onlyFailed=${String(flags.onlyFailed)}`);
    const raw = await this.transport.receive('POST', path, signal);
    // 202 Accepted is the worker saying it took the restart (KIP-745): a body that does not read after it changes
    // nothing about that, so it is reported, not thrown (thrown, the restart counted as failed). Any other 2xx
    // whose body does not read is an error, as before.
    const accepted = raw.status === 202;
    const unreadable = (problem: UnreadableRestartBody['problem'], more: Partial<UnreadableRestartBody> = {}): RestartResult => ({
      status: 202,
      unreadable: { problem, bodyChars: raw.bytes.toString('utf8').length, ...more },
    });
    let body: unknown;
    try {
      body = this.transport.interpret(raw);
    } catch (err) {
      if (accepted && isConnectError(err) && err.code === 'BAD_BODY') return unreadable(looksLikeJson(raw.bytes.toString('utf8')) ? 'invalid or truncated JSON' : 'not JSON');
      throw err;
    }
    // 202 carries the new status (KIP-745); an older worker, or both flags false, answers 204 and no body.
    if (body === undefined) return { status: accepted ? 202 : 204 };
    try {
      return { status: 202, body: parseRestartBody(body) };
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      if (!accepted) throw shapeToConnectError(this.line('POST', path), err);
      const name = isJsonObject(body) && typeof body['name'] === 'string' ? body['name'] : undefined;
      return unreadable('unexpected shape', { field: err.field, ...(name !== undefined && { name }) });
    }
  }

  /** `POST /connectors/{name}/tasks/{id}/restart` (204). Not retried. */
  async restartTask(connector: string, task: number, signal?: AbortSignal): Promise<void> {
    if (!isTaskId(task)) throw new RangeError(`task id must be an integer 0..${MAX_TASK_ID}, got ${task}`);
    await this.post(connectorPath(connector, `/tasks/${task}/restart`), signal);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async connectors(signal: AbortSignal | undefined): Promise<ListedConnectors> {
    return this.withStatusless(await this.listed(signal));
  }

  /**
   * The listing, with the connectors the last info read listed but the status listing left out: Connect
   * lists a connector's status only once its start() has returned, so one created while its start() blocks
   * is in the info listing only. Each is reported unreadable (NO_STATUS_PROBLEM) from the second poll in a
   * row that finds it so: a connector created a moment ago (its start not run yet), or between the status
   * read and the info read, is in the next listing and never reported. It is reported until the status
   * listing lists it, or until an info read no longer lists it (deleted). Only an info read adds one: a
   * connector that leaves the status listing was deleted, not made statusless.
   */
  private withStatusless(listed: ListedConnectors): ListedConnectors {
    const names = this.infoNames;
    this.infoNames = undefined;
    if (names === undefined && this.statusless.size === 0) return listed;
    const present = new Set<string>();
    for (const c of listed.connectors) present.add(c.name);
    for (const u of listed.unreadable) present.add(u.name);
    if (names !== undefined) {
      const next = new Map<string, boolean>();
      for (const name of names) if (!present.has(name)) next.set(name, this.statusless.get(name) ?? false);
      this.statusless = next;
    } else for (const name of this.statusless.keys()) if (present.has(name)) this.statusless.delete(name);
    const reported: string[] = [];
    for (const [name, seenBefore] of this.statusless) {
      if (seenBefore) reported.push(name);
      else this.statusless.set(name, true);
    }
    if (reported.length === 0) return listed;
    const key = JSON.stringify(reported);
    const last = this.statuslessReport;
    if (last !== undefined && last.base === listed.unreadable && last.names === key) return { connectors: listed.connectors, unreadable: last.unreadable };
    const unreadable = [...listed.unreadable, ...reported.map(noStatus)];
    this.statuslessReport = { base: listed.unreadable, names: key, unreadable };
    return { connectors: listed.connectors, unreadable };
  }

  private async listed(signal: AbortSignal | undefined): Promise<ListedConnectors> {
    const last = this.lastListing;
    const lastIndexed = this.listingIndex?.bytes;
    this.lastListing = undefined;
    const { body, read, bytes } = await this.getExchange(LISTING_PATH, signal, {
      ...(last !== undefined && { bytes: last.bytes }),
      buffers: this.listingBuffers,
      read: (changed) => indexListing(changed, this.listingIndex),
    });
    if (last !== undefined && body === UNCHANGED) {
      // The same statuses: the connectors made of them stand, unless an info refresh is due and finds a change.
      const infoChanged = !this.infoFresh() && (await this.readInfo(last.statuses, 'refresh', signal));
      this.lastListing = infoChanged ? { ...last, connectors: this.withCachedInfo(last.statuses) } : last;
      return this.lastListing;
    }
    let listing: Listing;
    if (read !== undefined) {
      this.listingIndex = read;
      listing = { kind: 'expanded', connectors: read.connectors, unreadable: read.unreadable };
    } else listing = parseWith(this.line('GET', LISTING_PATH), () => parseListing(body));
    if (listing.kind === 'expanded') {
      const { connectors: statuses, unreadable } = listing;
      // An unreadable or statusless connector is still there: its cached info is kept for when it reads again.
      const listed = new Set([...statuses, ...unreadable].map((c) => c.name));
      for (const name of this.statusless.keys()) listed.add(name);
      for (const name of this.info.keys()) if (!listed.has(name)) this.info.delete(name);
      const reason = this.infoReason(statuses);
      if (reason !== undefined) await this.readInfo(statuses, reason, signal);
      const connectors = this.withCachedInfo(statuses);
      // Reusable next poll only when the info cache had nothing left to read for these statuses.
      if (reason === undefined || this.infoReason(statuses) === undefined) this.lastListing = { bytes, statuses, connectors, unreadable };
      // The body this one replaces is read by nothing any more (neither compared with nor walked against): its memory takes the next.
      const retired = last?.bytes ?? lastIndexed;
      if (retired !== undefined && retired.buffer !== this.lastListing?.bytes.buffer && retired.buffer !== this.listingIndex?.bytes.buffer) {
        this.listingBuffers.recycle(retired);
      }
      return { connectors, unreadable };
    }
    this.logger?.debug({ connectors: listing.names.length }, 'worker ignored expand: reading statuses one by one');
    const statuses = await mapBounded(listing.names, this.statusConcurrency, (name, s) => this.readableStatus(name, s), signal).catch(
      (err: unknown) => {
        throw this.asAbort(err, signal, LISTING_PATH);
      },
    );
    return splitListed(statuses);
  }

  /** status(), with a 2xx body of the wrong shape as an UnreadableConnector (as in the expanded listing). */
  private async readableStatus(connector: string, signal: AbortSignal | undefined): Promise<ConnectorSnapshot | UnreadableConnector | undefined> {
    try {
      return await this.status(connector, signal);
    } catch (err) {
      if (isConnectError(err) && err.cause instanceof ShapeError) return { name: connector, problem: err.cause.message };
      throw err;
    }
  }

  /** The statuses with their cached info parts merged in. */
  private withCachedInfo(statuses: readonly ConnectorSnapshot[]): readonly ConnectorSnapshot[] {
    return statuses.map((c) => {
      const cached = this.info.get(c.name);
      if (cached === undefined) return c;
      // A status reused from the last listing, with the same info: the very connector made of them then.
      const made = this.withInfo.get(c);
      if (made !== undefined && made.info === cached.info) return made.connector;
      const connector = { ...c, ...cached.info };
      this.withInfo.set(c, { info: cached.info, connector });
      return connector;
    });
  }

  /** Why the info must be read before this poll's snapshot, or undefined when the cache will do. */
  private infoReason(connectors: readonly ConnectorSnapshot[]): string | undefined {
    // An empty listing reads it too: the info lists the connectors that have no status yet (withStatusless).
    if (!this.readsInfo) return undefined;
    if (this.infoReadAt === undefined) return 'first read';
    if (!this.infoFresh()) return 'refresh';
    for (const c of connectors) {
      const cached = this.info.get(c.name);
      if (cached === undefined) return 'new connector';
      const { tasksMax } = cached.info;
      if (tasksMax !== undefined && taskExtent(c) > Math.max(tasksMax, cached.tasksSeen)) return 'task beyond tasks.max';
    }
    return undefined;
  }

  /** Read, and younger than infoRefresh (a clock that went back is no reason to trust the cache for longer). */
  private infoFresh(): boolean {
    return this.infoReadAt !== undefined && within(this.now(), this.infoReadAt, this.infoRefresh);
  }

  /**
   * One `GET /connectors?expand=info` into the cache; true when the cache changed. A connector listed by
   * the status but not by the info (deleted in between) is cached without info. A connector whose member
   * has a wrong shape keeps the info last read (none when new), as on a failed read, but only it: the
   * others' info updates, and it is read again with them (not every poll: the body holds every config).
   * A body identical to the last one read (same SHA-256: configs rarely change) is not parsed again. On
   * failure (no answer, a body cut off or that is no object of members) the cache is left as it was and the
   * poll goes on: the next poll tries again (its new connectors are still missing, its refresh still due).
   */
  private async readInfo(connectors: readonly ConnectorSnapshot[], reason: string, signal: AbortSignal | undefined): Promise<boolean> {
    const last = this.lastInfo;
    let listing: InfoListing;
    let digest: Buffer;
    let same = false;
    try {
      const exchange = await this.getExchange(INFO_LISTING_PATH, signal, { ...(last !== undefined && { digest: last.digest }), read: walkInfo });
      digest = exchange.digest ?? sha256(exchange.bytes);
      if (last !== undefined && exchange.body === UNCHANGED) {
        same = true;
        listing = last.listing;
      } else if (exchange.read !== undefined) listing = exchange.read;
      else {
        listing = parseWith(this.line('GET', INFO_LISTING_PATH), () => parseInfoListing(exchange.body));
      }
    } catch (err) {
      if (!isConnectError(err) || err.code === 'ABORTED') throw err;
      // Code, status and field only: the messages of an expand=info failure are no place to risk a config value.
      // A transport failure's message holds only the request line and what the socket said (host:port at most): it
      // is the only place that says why, e.g. the worker refusing a client certificate that expired mid-run
      // while the polls go on over a connection opened before its end.
      this.logger?.warn(
        {
          reason,
          code: err.code,
          status: err.status,
          errorCode: err.errorCode,
          field: err.field,
          ...(TRANSPORT_CODES.has(err.code) && { err: err.message }),
          cached: this.info.size,
        },
        'could not read the connector info: keeping the info last read, trying again next poll',
      );
      return false;
    }
    const { infos, unreadable } = listing;
    const before = this.info.size === 0 ? undefined : new Map(this.info);
    const kept = (name: string): CachedInfo | undefined => (unreadable.has(name) ? before?.get(name) : undefined);
    this.info.clear();
    for (const name of listing.names) {
      const info = infos.get(name);
      const cached = info === undefined ? kept(name) : { info, tasksSeen: 0 };
      if (cached !== undefined) this.info.set(name, cached);
    }
    for (const c of connectors) this.info.set(c.name, { info: infos.get(c.name) ?? kept(c.name)?.info ?? {}, tasksSeen: taskExtent(c) });
    this.lastInfo = { digest, listing };
    this.infoNames = listing.names;
    this.infoReadAt = this.now();
    this.logger?.debug({ reason, connectors: listing.names.length, unchanged: same }, 'read the connector info');
    this.logUnreadableInfo(listing);
    return !same || before === undefined || !sameInfo(before, this.info);
  }

  /**
   * Warns of the connectors whose info member has a wrong shape when that set (or a problem) changes, not at
   * every read; says so when one reads again. The problems name fields and shapes only, never a config value.
   */
  private logUnreadableInfo({ infos, unreadable }: InfoListing): void {
    const last = this.unreadableInfo;
    this.unreadableInfo = unreadable;
    if (unreadable.size === last.size && [...unreadable].every(([name, problem]) => last.get(name) === problem)) return;
    if (unreadable.size > 0) {
      this.logger?.warn(
        { unreadable: [...unreadable].map(([connector, problem]) => ({ connector, problem })) },
        'cannot read the info of some connectors: each keeps the info last read (none if new) until it reads again; the others are updated',
      );
    }
    const reads = [...last.keys()].filter((name) => infos.has(name));
    if (reads.length > 0) this.logger?.info({ connectors: reads }, 'the info of these connectors reads again');
  }

  /** The version for a snapshot: a failure to read it does not fail the poll (it is tried again next time). */
  /**
   * The version for a snapshot: the cached one, else `GET /` alongside the listing. Waited for until a read
   * has failed once; from then on it is read in the background and used once known, so that a worker whose
   * root hangs does not hold every poll back for the request's whole deadline.
   */
  private versionFor(signal: AbortSignal | undefined): Promise<string | undefined> {
    if (this.knownVersion !== undefined) return Promise.resolve(this.knownVersion.value);
    this.versionRead ??= this.versionOrUndefined(signal)
      .catch(() => undefined) // aborted: the listing, aborted too, says so
      .finally(() => {
        this.versionRead = undefined;
        if (this.knownVersion === undefined) this.versionFailed = true;
      });
    return this.versionFailed ? Promise.resolve(undefined) : this.versionRead;
  }

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
    return new ConnectError({ ...this.line('GET', path), code: 'ABORTED', detail: abortDetail(isDeadline(signal.reason)), cause: err });
  }

  private async get(path: string, signal: AbortSignal | undefined): Promise<unknown> {
    return (await this.getExchange(path, signal)).body;
  }

  /**
   * A GET, retried, into its JSON body; or UNCHANGED, without decoding or parsing, when the 2xx body is
   * byte for byte `options.bytes` (compared as it arrives) or has the SHA-256 `options.digest` (then
   * returned as `digest`); or, as `read` (and no body), what `options.read` makes of a changed 2xx body,
   * when it makes something of it (the body is decoded and parsed as JSON otherwise).
   */
  private async getExchange<T = never>(
    path: string,
    signal: AbortSignal | undefined,
    options?: {
      readonly bytes?: Buffer;
      readonly digest?: Buffer;
      readonly read?: (bytes: Buffer) => T | undefined;
      readonly buffers?: BodyBuffers;
      readonly retryTimeouts?: false;
    },
  ): Promise<{ readonly body: unknown; readonly read?: T; readonly bytes: Buffer; readonly digest?: Buffer }> {
    const once = async () => {
      const raw = await this.transport.receive('GET', path, signal, { previous: options?.bytes, buffers: options?.buffers });
      const ok = raw.status >= 200 && raw.status <= 299;
      const digest = ok && options?.digest !== undefined ? sha256(raw.bytes) : undefined;
      const same = ok && (raw.unchanged || (digest !== undefined && options?.digest !== undefined && digest.equals(options.digest)));
      const read = ok && !same ? options?.read?.(raw.bytes) : undefined;
      const body = same ? UNCHANGED : read === undefined ? this.transport.interpret(raw) : undefined;
      return { body, ...(read !== undefined && { read }), bytes: raw.bytes, ...(digest !== undefined && { digest }) };
    };
    try {
      return await pRetry(once, {
        retries: this.retries,
        minTimeout: RETRY_MIN_MS,
        maxTimeout: RETRY_MAX_MS,
        factor: 2,
        randomize: true,
        ...(signal !== undefined && { signal }),
        shouldRetry: ({ error, attemptNumber, retryDelay }) => {
          const retry = isRetryable(error) && !(options?.retryTimeouts === false && isTimeout(error));
          if (retry) {
            this.logger?.debug({ path: this.transport.pathOf(path), attempt: attemptNumber, code: isConnectError(error) ? error.code : undefined, retryDelay }, 'retrying');
          }
          return retry;
        },
      });
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
