/**
 * Helpers for e2e tests against the real stack started by scripts/stack.sh (Kafka broker,
 * Kafka Connect worker(s), Debezium PostgreSQL plugin, local PostgreSQL). See docs/real-stack.md.
 *
 * Typical suite:
 *   beforeAll(() => stackUp(), 600_000);
 *   afterAll(() => stackDown(), 120_000);
 *
 * Ports and the database follow the script's env overrides (CONNECT_PORT, KAFKA_PORT, WORKER2_PORT,
 * PG_DB).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request, type Dispatcher } from 'undici';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const STACK_SCRIPT = fileURLToPath(new URL('../../scripts/stack.sh', import.meta.url));

export const CONNECT_PORT = Number(process.env.CONNECT_PORT ?? 8083);
export const WORKER2_PORT = Number(process.env.WORKER2_PORT ?? CONNECT_PORT + 1);
export const KAFKA_PORT = Number(process.env.KAFKA_PORT ?? 9092);
export const CONNECT_URL = `http://127.0.0.1:${CONNECT_PORT}`;
export const WORKER2_URL = `http://127.0.0.1:${WORKER2_PORT}`;
export const KAFKA_BOOTSTRAP = `127.0.0.1:${KAFKA_PORT}`;
/** Where stack.sh keeps config, data, logs and pid files of this stack. */
export const STACK_DIR = (process.env.STACK_DIR ?? '/tmp/connect-watchdog-stack').replace(/\/+$/, '');
/** The database `stack.sh up` prepares (table public.orders, publication e2e_pub) and `down` drops. */
export const PG_DB = process.env.PG_DB ?? 'e2e_shop';

/** Connector config for the Debezium PostgreSQL connector on PG_DB's public.orders (from the recipe). */
export function debeziumOrdersConfig(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': '127.0.0.1',
    'database.port': '5432',
    'database.user': 'e2e_cdc',
    'database.password': 'e2e_cdc',
    'database.dbname': PG_DB,
    'topic.prefix': 'e2e',
    'table.include.list': 'public.orders',
    'plugin.name': 'pgoutput',
    'publication.name': 'e2e_pub',
    'publication.autocreate.mode': 'disabled',
    'slot.name': 'e2e_slot_orders',
    ...overrides,
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** SIGTERM the child after this long (default 10 min). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command, resolves when it has exited; throws (with its output) unless it exits 0. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const { input, timeoutMs = 600_000, env = process.env } = opts;
  const what = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: could not run: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (code === 0 && !timedOut) {
        resolve(res);
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
      reject(new Error(`${what}: ${why}\n--- stdout ---\n${res.stdout}\n--- stderr ---\n${res.stderr}`));
    });
    child.stdin.on('error', () => {
      /* child exited before reading stdin: reported through 'close' */
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * The workers' extra plugin.path entry, where global-setup.ts puts the suite's test connector (blocker.ts).
 * Every stack.sh call gets it: `up` records it, and `worker2 up` / `broker up` refuse another one.
 */
export const E2E_PLUGIN_PATH = join(STACK_DIR, 'e2e-plugins');

function stack(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('bash', [STACK_SCRIPT, ...args], { ...opts, env: { ...(opts.env ?? process.env), EXTRA_PLUGIN_PATH: E2E_PLUGIN_PATH } });
}

/** `scripts/stack.sh up`: builds if needed, prepares PostgreSQL, starts broker + worker 1 (idempotent). */
export async function stackUp(): Promise<string> {
  return (await stack(['up'], { timeoutMs: 600_000 })).stdout;
}

/** `scripts/stack.sh build`: the mvn build alone (skipped when up to date); returns the stack's lib dir. */
export async function stackBuild(): Promise<string> {
  const out = (await stack(['build'], { timeoutMs: 600_000 })).stdout;
  const lib = /^LIB=(.+)$/m.exec(out)?.[1];
  if (lib === undefined) throw new Error(`stack.sh build printed no LIB=: ${out}`);
  return lib;
}

/** `scripts/stack.sh down`: stops what `up` started, drops the PG_DB database and its inactive e2e_ slots. */
export async function stackDown(): Promise<string> {
  return (await stack(['down'], { timeoutMs: 120_000 })).stdout;
}

/** Starts a second worker (same group.id) on WORKER2_PORT; resolves once it lists the Debezium plugin. */
export async function worker2Up(): Promise<string> {
  return (await stack(['worker2', 'up'], { timeoutMs: 120_000 })).stdout;
}

/** Stops the second worker (SIGTERM, SIGKILL after 20 s). No-op when it is not running. */
export async function worker2Down(): Promise<string> {
  return (await stack(['worker2', 'down'], { timeoutMs: 60_000 })).stdout;
}

/**
 * Runs one SQL command with psql as postgres (trust auth on 127.0.0.1), ON_ERROR_STOP, unaligned
 * tuples only (`-At`: fields separated by `|`, one row a line). Returns stdout without its final
 * newline. Throws with psql's output on error.
 */
export async function psql(sql: string, db = PG_DB): Promise<string> {
  const res = await run(
    'psql',
    ['-X', '-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql],
    { timeoutMs: 60_000 },
  );
  return res.stdout.replace(/\n$/, '');
}

export interface ConnectResponse<T = unknown> {
  status: number;
  /** Parsed JSON when the body is JSON, the raw text otherwise, null when empty. */
  body: T;
}

/**
 * Tiny JSON client for the Connect REST API (default base http://127.0.0.1:8083; pass
 * `{ baseUrl: WORKER2_URL }` for worker 2). Never throws on HTTP status; throws on network errors
 * (e.g. connection refused while a worker is down).
 */
export async function connect<T = any>(
  method: string,
  path: string,
  body?: unknown,
  opts: { baseUrl?: string; timeoutMs?: number } = {},
): Promise<ConnectResponse<T>> {
  const { baseUrl = CONNECT_URL, timeoutMs = 30_000 } = opts;
  const res = await request(new URL(path, baseUrl), {
    method: method.toUpperCase() as Dispatcher.HttpMethod,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  let parsed: unknown = null;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text; // e.g. Jetty's 404 HTML page while the worker starts
    }
  }
  return { status: res.statusCode, body: parsed as T };
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Used in the timeout error: "timed out after 30000 ms waiting for <what>". */
  what?: string;
}

/**
 * Calls fn until it returns a truthy value (which is returned) or the timeout passes. An exception
 * from fn counts as "not yet"; the last value or exception is quoted in the timeout error.
 * Defaults: timeoutMs 30000, intervalMs 250.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 250, what = 'condition' }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: string = 'never called';
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = `last value: ${safeJson(v)}`;
    } catch (e) {
      last = `last error: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${last}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Writes each line as one record into topic (console producer; creates the topic if needed). */
export async function produce(topic: string, lines: readonly string[]): Promise<void> {
  for (const l of lines) {
    if (l.includes('\n')) throw new Error('produce: a record must not contain a newline');
  }
  await stack(['produce', topic], { input: lines.length ? `${lines.join('\n')}\n` : '', timeoutMs: 60_000 });
}

/**
 * Reads up to n records of topic from the beginning (console consumer, values only; gives up after
 * 30 s without a new record) and returns them, one string a record.
 */
export async function consume(topic: string, n: number): Promise<string[]> {
  const res = await stack(['consume', topic, String(n)], { timeoutMs: 120_000 });
  return res.stdout.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}

function pgCluster(): [version: string, cluster: string] {
  const version = process.env.PG_VERSION ?? readdirSync('/etc/postgresql').sort(byVersion).at(-1);
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  const cluster = process.env.PG_CLUSTER ?? readdirSync(`/etc/postgresql/${version}`).sort()[0];
  if (!cluster) throw new Error(`no PostgreSQL cluster under /etc/postgresql/${version}`);
  return [version, cluster];
}

function byVersion(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

async function pgRunning(version: string, cluster: string): Promise<boolean> {
  try {
    await run('pg_ctlcluster', [version, cluster, 'status'], { timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** Stops the local PostgreSQL cluster (fast shutdown: clients, Debezium included, are disconnected). */
export async function stopPostgres(): Promise<void> {
  const [v, c] = pgCluster();
  if (!(await pgRunning(v, c))) return;
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', v, c, 'stop'], { timeoutMs: 120_000 });
}

/** Starts the local PostgreSQL cluster if it is stopped; resolves once it accepts connections. */
export async function startPostgres(): Promise<void> {
  const [v, c] = pgCluster();
  if (!(await pgRunning(v, c))) {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', v, c, 'start'], { timeoutMs: 120_000 });
  }
  await waitFor(
    async () => {
      await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { timeoutMs: 10_000 });
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'PostgreSQL to accept connections' },
  );
}
