/**
 * Pure validation of Connect response bodies into snapshots. Bodies are never trusted: a wrong shape is a
 * ShapeError naming the field path (e.g. `connectors["x"].status.tasks[0].state`). Error messages never
 * echo config values (they hold clear-text passwords); `info.config` is reduced to what the watchdog
 * needs (tasks.max, connector.class, the derived endpoint) and then dropped.
 */
import { createHash } from 'node:crypto';
import { ShapeError } from './errors.js';
import { deriveEndpoint } from './endpoint.js';
import { STATES, type ConnectorSnapshot, type ConnectorType, type Endpoint, type State, type TaskStatus, type UnreadableConnector, type WorkerHealth } from './types.js';
import { scrubSecrets } from '../secrets/scrub.js';
import { isJsonObject } from '../util/json.js';
import { cut } from '../util/text.js';

type Json = Readonly<Record<string, unknown>>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function expectObject(v: unknown, at: string): Json {
  if (!isJsonObject(v)) throw new ShapeError(at, `expected an object, got ${describe(v)}`);
  return v;
}

/** Short, quoted excerpt of a value we are about to reject (states and types, never config values). */
function excerpt(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

function parseState(v: unknown, at: string): State {
  if (typeof v !== 'string') throw new ShapeError(at, `expected a state string, got ${describe(v)}`);
  if (!(STATES as readonly string[]).includes(v)) throw new ShapeError(at, `unknown state ${excerpt(v)} (expected one of ${STATES.join(', ')})`);
  return v as State;
}

/** `worker_id`: a string; null or missing is tolerated as '' (nothing to act on, but not a reason to fail a poll). */
function parseWorkerId(v: unknown, at: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ShapeError(at, `expected a string, got ${describe(v)}`);
  return v;
}

function parseTrace(v: unknown, at: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ShapeError(at, `expected a string, got ${describe(v)}`);
  return v;
}

function parseType(v: unknown, at: string): ConnectorType {
  // Missing on very old workers; an unknown value is not worth failing a poll over.
  if (v === undefined || v === null) return 'unknown';
  if (typeof v !== 'string') throw new ShapeError(at, `expected a string, got ${describe(v)}`);
  return v === 'source' || v === 'sink' ? v : 'unknown';
}

/** The highest task id: Connect's are Java ints (ConnectorTaskId.task), from 0. */
export const MAX_TASK_ID = 2 ** 31 - 1;

/** A task id Connect can give, i.e. one a restart may put in `/tasks/{id}/restart`. */
export function isTaskId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TASK_ID;
}

function parseTask(v: unknown, at: string): TaskStatus {
  const task = expectObject(v, at);
  const id = task['id'];
  if (!isTaskId(id)) {
    const got = typeof id === 'number' ? String(id) : describe(id);
    throw new ShapeError(`${at}.id`, `expected a task id (an integer 0..${MAX_TASK_ID}), got ${got}`);
  }
  const trace = parseTrace(task['trace'], `${at}.trace`);
  return {
    id,
    state: parseState(task['state'], `${at}.state`),
    workerId: parseWorkerId(task['worker_id'], `${at}.worker_id`),
    ...(trace !== undefined && { trace }),
  };
}

/** A task status body (`GET /connectors/{name}/tasks/{id}/status`). */
export function parseTaskStatus(body: unknown, at = 'task status'): TaskStatus {
  return parseTask(body, at);
}

/**
 * A status body (`GET /connectors/{name}/status`, the restart 202 body, `status` of the expand body)
 * into a snapshot without the info parts. `at` is the path of the body for error messages.
 */
export function parseStatus(body: unknown, at = 'status'): ConnectorSnapshot {
  const status = expectObject(body, at);
  const name = status['name'];
  if (typeof name !== 'string' || name === '') throw new ShapeError(`${at}.name`, `expected a connector name, got ${describe(name)}`);
  const connector = expectObject(status['connector'], `${at}.connector`);
  const tasks = status['tasks'];
  if (!Array.isArray(tasks)) throw new ShapeError(`${at}.tasks`, `expected an array, got ${describe(tasks)}`);
  const trace = parseTrace(connector['trace'], `${at}.connector.trace`);
  return {
    name,
    type: parseType(status['type'], `${at}.type`),
    state: parseState(connector['state'], `${at}.connector.state`),
    workerId: parseWorkerId(connector['worker_id'], `${at}.connector.worker_id`),
    ...(trace !== undefined && { trace }),
    tasks: parseTasks(tasks, `${at}.tasks`),
  };
}

/**
 * A status's tasks, each id once: Connect keeps one status per task id, and the policy and the metrics key
 * tasks by it, so a task listed twice (which state is it in?) makes the whole status one we cannot trust.
 */
function parseTasks(tasks: readonly unknown[], at: string): TaskStatus[] {
  const seen = new Set<number>();
  return tasks.map((t: unknown, i) => {
    const task = parseTask(t, `${at}[${i}]`);
    if (seen.has(task.id)) throw new ShapeError(`${at}[${i}].id`, `task ${task.id} listed twice`);
    seen.add(task.id);
    return task;
  });
}

export interface InfoParts {
  readonly tasksMax?: number;
  readonly connectorClass?: string;
  readonly endpoint?: Endpoint;
}

/** `info` of the expand body: keeps tasks.max, connector.class and the endpoint; the config itself is dropped. */
export function parseInfo(body: unknown, at = 'info'): InfoParts {
  const info = expectObject(body, at);
  // Connect's configs are string → string; a key read here with any other value is ignored rather than
  // echoed. Only the keys needed are read: no copy of a config (thousands of them on a big cluster).
  const config = expectObject(info['config'], `${at}.config`);
  const text = (key: string): string | undefined => {
    const v = config[key];
    return typeof v === 'string' ? v.trim() : undefined;
  };
  const tasksMaxText = text('tasks.max');
  const tasksMax = tasksMaxText !== undefined && /^\d+$/.test(tasksMaxText) ? Number(tasksMaxText) : undefined;
  const connectorClass = text('connector.class');
  const endpoint = deriveEndpoint(config);
  return {
    ...(tasksMax !== undefined && tasksMax > 0 && { tasksMax }),
    ...(connectorClass !== undefined && connectorClass !== '' && { connectorClass }),
    ...(endpoint !== undefined && { endpoint }),
  };
}

/** What `GET /connectors?expand=status` answered. */
export type Listing =
  /**
   * KIP-465 workers (2.3+): every status in one request (with the info parts when `info` was expanded
   * too), and the connectors listed with a status that could not be read.
   */
  | ({ readonly kind: 'expanded' } & ListedConnectors)
  /** Older workers ignore `expand` and list names only: statuses must be fetched one by one. */
  | { readonly kind: 'names'; readonly names: readonly string[] };

function key(name: string): string {
  return `connectors[${JSON.stringify(name)}]`;
}

function isUnreadable(entry: ConnectorSnapshot | UnreadableConnector): entry is UnreadableConnector {
  return 'problem' in entry;
}

/** The connectors of a listing read, and those it listed with a status that could not be read. */
export interface ListedConnectors {
  readonly connectors: readonly ConnectorSnapshot[];
  readonly unreadable: readonly UnreadableConnector[];
}

/** Listing entries (undefined: listed without a status) split into ListedConnectors, in their order. */
export function splitListed(entries: Iterable<ConnectorSnapshot | UnreadableConnector | undefined>): ListedConnectors {
  const connectors: ConnectorSnapshot[] = [];
  const unreadable: UnreadableConnector[] = [];
  for (const entry of entries) {
    if (entry === undefined) continue;
    if (isUnreadable(entry)) unreadable.push(entry);
    else connectors.push(entry);
  }
  return { connectors, unreadable };
}

/** The problem of a `{}` member, and the unreadable connectors made of one (see ignoredExpand). */
const IGNORED_EXPAND = 'missing (the worker ignored expand=status)';
const emptyMembers = new WeakSet<UnreadableConnector>();

/**
 * One member of an expanded listing: the connector `name` lists; an UnreadableConnector when the member
 * or its status has a wrong shape or a state this watchdog does not know (one such connector must not
 * blind the watchdog to the whole cluster); undefined when it was listed without a status (deleted
 * during the listing).
 */
export function parseListingEntry(name: string, value: unknown): ConnectorSnapshot | UnreadableConnector | undefined {
  const at = key(name);
  try {
    const entry = expectObject(value, at);
    if (Object.keys(entry).length === 0) {
      const empty = { name, problem: new ShapeError(`${at}.status`, IGNORED_EXPAND).message };
      emptyMembers.add(empty);
      return empty;
    }
    const rawStatus = entry['status'];
    if (rawStatus === undefined || rawStatus === null) return undefined;
    const status = parseStatus(rawStatus, `${at}.status`);
    const info = entry['info'] === undefined || entry['info'] === null ? {} : parseInfo(entry['info'], `${at}.info`);
    // The key is what the worker listed; a status naming another connector is a body we cannot trust.
    if (status.name !== name) throw new ShapeError(`${at}.status.name`, 'does not match the connector it is listed under');
    return { ...status, ...info };
  } catch (err) {
    if (err instanceof ShapeError) return { name, problem: err.message };
    throw err;
  }
}

/**
 * Whether the listing's members (parseListingEntry's, in body order) were all `{}`: what a worker answers
 * when it ignored our expand values (as `?expand=bogus` shows). Such a body has no status at all and cannot
 * be used: the poll fails (BAD_BODY), rather than report every connector unreadable. One `{}` beside
 * members with a status (no worker writes that: it expands every connector alike) is that connector
 * unreadable.
 */
export function ignoredExpand(entries: readonly (ConnectorSnapshot | UnreadableConnector | undefined)[]): boolean {
  return entries.length > 0 && entries.every((e) => e !== undefined && isUnreadable(e) && emptyMembers.has(e));
}

/**
 * The body of `GET /connectors?expand=status` (an `info` beside a status, as `&expand=info` adds, is
 * reduced by parseInfo), or the plain array of an old worker.
 */
export function parseListing(body: unknown): Listing {
  if (Array.isArray(body)) return { kind: 'names', names: parseNames(body) };
  const listing = expectObject(body, 'connectors');
  const entries = Object.entries(listing).map(([name, value]) => parseListingEntry(name, value));
  if (ignoredExpand(entries)) throw new ShapeError(`${key(Object.keys(listing)[0] as string)}.status`, IGNORED_EXPAND);
  return { kind: 'expanded', ...splitListed(entries) };
}

/**
 * The body of `GET /connectors` (no expand): the connectors' names, each once. A name listed twice is one
 * connector (as a name twice in the expand object is to JSON.parse): a snapshot must name each connector
 * once, since the policy and the metrics key connectors by name.
 */
export function parseNames(body: unknown): readonly string[] {
  if (!Array.isArray(body)) throw new ShapeError('connectors', `expected an array of connector names, got ${describe(body)}`);
  const names = body.map((n: unknown, i) => {
    if (typeof n !== 'string' || n === '') throw new ShapeError(`connectors[${i}]`, `expected a connector name, got ${describe(n)}`);
    return n;
  });
  return [...new Set(names)];
}

/**
 * How deep an offsets entry may nest. Connect allows only primitive values in a source partition or offset
 * (OffsetUtils.validateFormat): `{partition:{…},offset:{…}}` is 2 levels; deeper is no Connect body, and
 * thousands of levels would overflow canonical()'s stack.
 */
const OFFSETS_MAX_DEPTH = 32;

/**
 * JSON with every object's keys sorted: the same offsets give the same text whatever order the worker wrote
 * them in. undefined when `v` nests deeper than `depth` levels.
 */
function canonical(v: unknown, depth: number): string | undefined {
  if (!Array.isArray(v) && !isJsonObject(v)) return JSON.stringify(v) ?? 'null';
  if (depth === 0) return undefined;
  const parts: string[] = [];
  if (Array.isArray(v)) {
    for (const x of v as unknown[]) {
      const inner = canonical(x, depth - 1);
      if (inner === undefined) return undefined;
      parts.push(inner);
    }
    return `[${parts.join(',')}]`;
  }
  for (const k of Object.keys(v).sort()) {
    const inner = canonical(v[k], depth - 1);
    if (inner === undefined) return undefined;
    parts.push(`${JSON.stringify(k)}:${inner}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The body of `GET /connectors/{name}/offsets` (KIP-875: `{"offsets":[{"partition":{…},"offset":{…}}]}`) as a
 * digest that changes when, and only when, an offset does: partitions in any order, keys in any order. The
 * offsets themselves are not kept (they name tables, files, log positions).
 */
export function parseOffsetsDigest(body: unknown): string {
  const offsets = expectObject(body, 'body')['offsets'];
  if (!Array.isArray(offsets)) throw new ShapeError('offsets', `expected an array, got ${describe(offsets)}`);
  const entries = offsets.map((entry: unknown, i) => {
    const e = expectObject(entry, `offsets[${i}]`);
    if (!isJsonObject(e['partition'])) throw new ShapeError(`offsets[${i}].partition`, `expected an object, got ${describe(e['partition'])}`);
    const text = canonical({ partition: e['partition'], offset: e['offset'] ?? null }, OFFSETS_MAX_DEPTH);
    if (text === undefined) throw new ShapeError(`offsets[${i}]`, `nested more than ${OFFSETS_MAX_DEPTH} levels deep`);
    return text;
  });
  return createHash('sha256').update(entries.sort().join('\n')).digest('base64url').slice(0, 22);
}

/**
 * A member of the `GET /connectors?expand=info` listing with a wrong shape (not an object, an info or a config
 * that is not one): that connector's info is unknown. `problem` names the field and the shape, never a value.
 */
export interface UnreadableInfo {
  readonly problem: string;
}

export function isUnreadableInfo(entry: InfoParts | UnreadableInfo): entry is UnreadableInfo {
  return 'problem' in entry;
}

/**
 * One member of the `GET /connectors?expand=info` listing: its info parts, an UnreadableInfo when the member
 * has a wrong shape (one such connector must not hold back the others' info), or undefined when it was listed
 * without an info.
 */
export function parseInfoEntry(name: string, value: unknown): InfoParts | UnreadableInfo | undefined {
  const at = key(name);
  try {
    const raw = expectObject(value, at)['info'];
    return raw === undefined || raw === null ? undefined : parseInfo(raw, `${at}.info`);
  } catch (err) {
    if (err instanceof ShapeError) return { problem: err.message };
    throw err;
  }
}

/** What `GET /connectors?expand=info` gave. */
export interface InfoListing {
  /** Every connector listed with an info, readable or not, in body order. */
  readonly names: readonly string[];
  /** The info parts of every connector listed with an info that reads. */
  readonly infos: ReadonlyMap<string, InfoParts>;
  /** The connectors listed with an info of a wrong shape, and the problem (UnreadableInfo). */
  readonly unreadable: ReadonlyMap<string, string>;
}

/** Info listing members (name, parseInfoEntry's result), in body order, into an InfoListing. */
export function splitInfo(entries: Iterable<readonly [string, InfoParts | UnreadableInfo | undefined]>): InfoListing {
  const names: string[] = [];
  const infos = new Map<string, InfoParts>();
  const unreadable = new Map<string, string>();
  for (const [name, entry] of entries) {
    if (entry === undefined) continue;
    names.push(name);
    if (isUnreadableInfo(entry)) unreadable.set(name, entry.problem);
    else infos.set(name, entry);
  }
  return { names, infos, unreadable };
}

/**
 * The body of `GET /connectors?expand=info`: the info parts of every connector listed with an info, and
 * those listed with one of a wrong shape. A connector listed without one (deleted during the listing) is
 * left out. Only a body that is no object of members fails whole.
 */
export function parseInfoListing(body: unknown): InfoListing {
  const listing = expectObject(body, 'connectors');
  return splitInfo(Object.entries(listing).map(([name, value]) => [name, parseInfoEntry(name, value)] as const));
}

/** `GET /` → the Connect version, or undefined when the body carries none. */
export function parseVersion(body: unknown): string | undefined {
  const root = expectObject(body, 'root');
  const version = root['version'];
  if (version === undefined || version === null) return undefined;
  if (typeof version !== 'string') throw new ShapeError('root.version', `expected a string, got ${describe(version)}`);
  return version.trim() === '' ? undefined : version;
}

/** The longest worker message a health keeps: Connect's are one or two sentences. */
const HEALTH_MESSAGE_MAX = 500;

/**
 * A `GET /health` answer (200, 500 or 503) → the worker's health. The status is the body's when it is one
 * Connect uses, else the HTTP status's: a body that is not Connect's still says healthy (200) or not.
 */
export function parseHealth(httpStatus: number, body: unknown): WorkerHealth {
  const said = isJsonObject(body) ? body : {};
  const status = said['status'] === 'healthy' || said['status'] === 'starting' || said['status'] === 'unhealthy' ? said['status'] : httpStatus === 200 ? 'healthy' : httpStatus === 503 ? 'starting' : 'unhealthy';
  // Kept in logs, the state file and `status`: scrubbed like Connect's other messages (a proxy or an
  // exception's text may quote a URL with credentials).
  const message = typeof said['message'] === 'string' ? scrubSecrets(said['message'].trim()) : `HTTP ${httpStatus}`;
  return { status, message: cut(message, HEALTH_MESSAGE_MAX) };
}

/** The 202 body of `POST /connectors/{name}/restart?includeTasks=..&onlyFailed=..`: a status body. */
export function parseRestartBody(body: unknown): ConnectorSnapshot {
  return parseStatus(body, 'restart');
}
