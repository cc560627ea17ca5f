/**
 * The watchdog daemon as a subprocess for the e2e scenarios, and the few Connect/PostgreSQL helpers the
 * scenarios share.
 *
 *   const d = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url });
 *   ... await d.metrics() ... d.logs ...
 *   expect(await d.stop()).toBe(0);          // SIGTERM, awaits a clean exit
 *
 * The daemon runs from source (`node --import tsx src/cli/main.ts run --config <file>`) with the Node
 * that runs vitest, cwd the repository root (tsx is resolved from there). Its JSON log lines (stdout) are
 * collected; its metrics server listens on a free port (metrics.port 0, read from its log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { CONNECT_PORT, REPO_ROOT, STACK_SCRIPT, connect, debeziumOrdersConfig, psql, run, waitFor } from './stack.js';

// ------------------------------------------------------------------------------------------ config

/** Short intervals so that each scenario takes seconds (see docs/e2e.md). */
export const POLL_INTERVAL_MS = 1_000;

export interface E2eConfigOptions {
  readonly connectUrl: string;
  readonly webhookUrl: string;
  readonly stateFile: string;
  /** Deep-merged over the defaults below. */
  readonly overrides?: Record<string, unknown>;
}

export function e2eConfig(o: E2eConfigOptions): Record<string, unknown> {
  const base: Record<string, unknown> = {
    clusters: [{ name: 'e2e', url: o.connectUrl, timeout: 5_000 }],
    pollInterval: POLL_INTERVAL_MS,
    pollJitter: 100,
    requestRetries: 1,
    logLevel: 'debug',
    stateFile: o.stateFile,
    shutdownTimeout: 10_000,
    metrics: { enabled: true, host: '127.0.0.1', port: 0 },
    heal: {
      backoff: { initial: 2_000, factor: 2, max: 20_000, jitter: 0.1 },
      confirmDelay: 500,
      stablePeriod: 20_000,
      probe: { enabled: true, timeout: 500 },
    },
    sinks: [{ type: 'webhook', name: 'e2e', url: o.webhookUrl }],
    delivery: { interval: 500, timeout: 2_000, retries: 1 },
  };
  return deepMerge(base, o.overrides ?? {});
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

// ------------------------------------------------------------------------------------------ metrics

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function unescapeLabel(v: string): string {
  return v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses the Prometheus text exposition format (0.0.4): one Sample per series line. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let l = re.exec(m[2] ?? ''); l !== null; l = re.exec(m[2] ?? '')) labels[l[1] as string] = unescapeLabel(l[2] as string);
    const raw = m[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

export class Metrics {
  constructor(readonly samples: readonly Sample[]) {}

  /** Series of `name` whose labels include every label given. */
  series(name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** Sum of the matching series (0 when there is none). */
  sum(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.series(name, labels).reduce((a, s) => a + s.value, 0);
  }

  /** Every series (any metric) carrying connector=<name>. */
  ofConnector(connector: string): Sample[] {
    return this.samples.filter((s) => s.labels['connector'] === connector);
  }
}

export const M = {
  restarts: 'connect_watchdog_restarts_total',
  escalations: 'connect_watchdog_escalations_total',
  taskFailed: 'connect_watchdog_task_failed',
  incidentsOpen: 'connect_watchdog_incidents_open',
  polls: 'connect_watchdog_polls_total',
  deliveries: 'connect_watchdog_deliveries_total',
  tasks: 'connect_watchdog_tasks',
} as const;

// ------------------------------------------------------------------------------------------ daemon

export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly time?: string;
  readonly [k: string]: unknown;
}

export interface DaemonOptions {
  readonly connectUrl: string;
  readonly webhookUrl: string;
  readonly overrides?: Record<string, unknown>;
  /** Extra arguments after `run --config FILE`, e.g. ['--dry-run']. */
  readonly args?: readonly string[];
  /**
   * Folder for config and state file. Given: kept after exit, so that a second daemon started with the
   * same folder continues from the first one's state file. Default: a fresh temp folder, removed on exit.
   */
  readonly dir?: string;
}

export interface DaemonHandle {
  readonly pid: number;
  readonly metricsPort: number;
  readonly config: Record<string, unknown>;
  readonly stateFile: string;
  /** Parsed JSON log lines, in order. */
  readonly logs: readonly LogLine[];
  /** Lines that were not JSON (should stay empty) and stderr. */
  readonly stderr: () => string;
  metrics(): Promise<Metrics>;
  /** Log lines with this msg (optionally filtered). */
  logged(msg: string, pred?: (l: LogLine) => boolean): LogLine[];
  /** Resolves once `n` more successful polls have been counted (connect_watchdog_polls_total{outcome="ok"}). */
  polls(n: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code (SIGKILL and a thrown error if it does not exit within timeoutMs). */
  stop(timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
// Last resort: a crashing test process must not leave a daemon behind.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Each live daemon's pid is also a file here, so that the suite's global teardown can kill (by pid) a
 * daemon whose test process died without running its hooks (e.g. killed on a timeout). One folder per
 * stack (its CONNECT_PORT): the teardown of a suite on another stack must not kill this one's daemons.
 */
export const PID_DIR = join(tmpdir(), `connect-watchdog-e2e-daemons-${CONNECT_PORT}`);

/** For the global teardown: SIGKILLs every daemon recorded in PID_DIR that is still ours; returns their pids. */
export function reapStrayDaemons(): number[] {
  const killed: number[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(PID_DIR);
  } catch {
    return killed;
  }
  for (const f of files) {
    const pid = Number(f);
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone already
    }
    if (Number.isInteger(pid) && cmdline.includes('src/cli/main.ts') && cmdline.includes('cw-e2e-')) {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    }
    rmSync(join(PID_DIR, f), { force: true });
  }
  return killed;
}

/** Kills (SIGKILL) every daemon still running; for afterAll/afterEach after a failed test. */
export async function killAllDaemons(): Promise<void> {
  const waits = [...live].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
  for (const c of live) c.kill('SIGKILL');
  await Promise.all(waits);
}

export async function startDaemon(o: DaemonOptions): Promise<DaemonHandle> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'cw-e2e-'));
  const stateFile = join(dir, 'state.json');
  const config = e2eConfig({ connectUrl: o.connectUrl, webhookUrl: o.webhookUrl, stateFile, ...(o.overrides && { overrides: o.overrides }) });
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  // A clean environment: no CONNECT_WATCHDOG_* of the caller leaks into the scenario.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CONNECT_WATCHDOG_') && k !== 'CONNECT_URL') env[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', configFile, ...(o.args ?? [])], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  mkdirSync(PID_DIR, { recursive: true });
  const pidFile = join(PID_DIR, String(child.pid));
  writeFileSync(pidFile, configFile);
  const logs: LogLine[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    partial += b.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        stderr += `[stdout, not JSON] ${line}\n`;
      }
    }
  });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      rmSync(pidFile, { force: true });
      resolve({ code, signal });
    });
  });
  if (o.dir === undefined) void exited.then(() => rmSync(dir, { recursive: true, force: true }));

  // Ready: the metrics server logged its port and /readyz says every cluster was polled once.
  let metricsPort = 0;
  try {
    const line = await waitFor(() => logs.find((l) => l.msg === 'metrics server listening') ?? (child.exitCode !== null ? Promise.reject(new Error('exited')) : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the daemon to log "metrics server listening"',
    });
    metricsPort = Number(line['port']);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}`);
        const r = await request(`http://127.0.0.1:${metricsPort}/readyz`);
        await r.body.text();
        return r.statusCode === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the daemon /readyz to answer 200' },
    );
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`daemon did not start: ${(err as Error).message}\n--- stderr ---\n${stderr}\n--- log ---\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
  }

  const metrics = async (): Promise<Metrics> => {
    const r = await request(`http://127.0.0.1:${metricsPort}/metrics`);
    if (r.statusCode !== 200) throw new Error(`/metrics answered ${r.statusCode}`);
    return new Metrics(parseExposition(await r.body.text()));
  };

  return {
    pid: child.pid!,
    metricsPort,
    config,
    stateFile,
    logs,
    stderr: () => stderr,
    metrics,
    logged: (msg, pred) => logs.filter((l) => l.msg === msg && (pred === undefined || pred(l))),
    async polls(n, timeoutMs = 30_000) {
      const start = (await metrics()).sum(M.polls, { outcome: 'ok' });
      await waitFor(async () => (await metrics()).sum(M.polls, { outcome: 'ok' }) >= start + n, {
        timeoutMs,
        intervalMs: 200,
        what: `${n} more successful polls`,
      });
    },
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const r = await Promise.race([exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
      if (r === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`daemon did not exit within ${timeoutMs} ms of SIGTERM`);
      }
      return r.code;
    },
    exited,
  };
}

// ------------------------------------------------------------------------------------------ Connect / PostgreSQL

export interface TaskState {
  readonly id: number;
  readonly state: string;
  readonly worker_id: string;
  readonly trace?: string;
}

export interface ConnectorStatus {
  readonly name: string;
  readonly connector: { readonly state: string; readonly worker_id: string; readonly trace?: string };
  readonly tasks: readonly TaskState[];
  readonly type: string;
}

/** GET status; undefined on 404. */
export async function status(name: string): Promise<ConnectorStatus | undefined> {
  const r = await connect<ConnectorStatus>('GET', `/connectors/${encodeURIComponent(name)}/status`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET status of ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** POST /connectors; throws unless 201. */
export async function createConnector(name: string, config: Record<string, string>): Promise<void> {
  const r = await connect('POST', '/connectors', { name, config });
  if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Waits until task `task` of `name` is in `state`; returns the status. */
export async function waitForTask(name: string, state: string, opts: { task?: number; timeoutMs?: number } = {}): Promise<ConnectorStatus> {
  const task = opts.task ?? 0;
  return waitFor(
    async () => {
      const s = await status(name);
      return s?.tasks.find((t) => t.id === task)?.state === state ? s : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 100, what: `${name} task ${task} ${state}` },
  );
}

/** Deletes the connector (if it exists) and waits until its status is 404. */
export async function deleteConnector(name: string): Promise<void> {
  const r = await connect('DELETE', `/connectors/${encodeURIComponent(name)}`);
  if (r.status !== 204 && r.status !== 404) throw new Error(`delete ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  await waitFor(async () => (await connect('GET', `/connectors/${encodeURIComponent(name)}/status`)).status === 404, {
    timeoutMs: 30_000,
    what: `${name} gone`,
  });
}

/** Deletes every connector of the cluster: each scenario starts from an empty cluster. */
export async function deleteAllConnectors(): Promise<void> {
  const r = await connect<string[]>('GET', '/connectors');
  if (r.status !== 200 || !Array.isArray(r.body)) return;
  for (const name of r.body) await deleteConnector(name);
}

/** Drops a replication slot once it is inactive (Debezium slots outlive their connectors). */
export async function dropSlot(slot: string): Promise<void> {
  await waitFor(async () => (await psql(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${slot}' AND active`, 'postgres')) === '0', {
    timeoutMs: 30_000,
    what: `slot ${slot} inactive`,
  });
  await psql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'`, 'postgres');
}

/** Terminates the walsender of an active slot: what a network cut or a DBA's kill does to Debezium. */
export async function terminateSlotBackend(slot: string): Promise<void> {
  const r = await psql(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${slot}' AND active`, 'postgres');
  if (r !== 't') throw new Error(`no active backend for slot ${slot} (got ${JSON.stringify(r)})`);
}

export async function waitForSlotActive(slot: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await psql(`SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}'`, 'postgres')) === 't', {
    timeoutMs,
    what: `slot ${slot} active`,
  });
}

/**
 * A streaming Debezium source (`errors.max.retries=0`) whose task is then failed for real, by terminating
 * its replication backend: the FAILED-with-a-connection-trace starting point of several scenarios.
 */
export async function createFailedDebeziumTask(name: string, slot: string, topicPrefix: string): Promise<void> {
  await createConnector(name, debeziumOrdersConfig({ 'slot.name': slot, 'topic.prefix': topicPrefix, 'errors.max.retries': '0' }));
  await waitForTask(name, 'RUNNING');
  await waitForSlotActive(slot);
  await terminateSlotBackend(slot);
  await waitForTask(name, 'FAILED', { timeoutMs: 30_000 });
}

/** A unique suffix per suite run: Connect keeps a deleted connector's offsets, so names are never reused. */
export const RUN_ID = Date.now().toString(36).slice(-5);

/** Polls `fn` for `ms` and fails at the first value that breaks `check` (a condition that must HOLD). */
export async function holds<T>(ms: number, fn: () => Promise<T>, check: (v: T) => string | undefined, intervalMs = 250): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const problem = check(await fn());
    if (problem !== undefined) throw new Error(problem);
    await sleep(intervalMs);
  }
}

/**
 * With E2E_CAPTURE_DIR set, writes a real body seen during a scenario to that folder (how the
 * test/fixtures/connect/real-e2e-*.json files were captured); a no-op otherwise.
 */
export function capture(file: string, body: unknown): void {
  const dir = process.env['E2E_CAPTURE_DIR'];
  if (!dir) return;
  writeFileSync(join(dir, file), `${JSON.stringify(body, null, 2)}\n`);
}

/**
 * Reads every record of a topic from the beginning (values, one string each): the console consumer
 * stops after idleMs without a new record. Costs a JVM start (~1.5 s) plus idleMs.
 */
export async function consumeAll(topic: string, idleMs = 4_000): Promise<string[]> {
  const res = await run('bash', [STACK_SCRIPT, 'consume', topic, '100000'], {
    timeoutMs: 120_000,
    env: { ...process.env, CONSUME_TIMEOUT_MS: String(idleMs) },
  });
  return res.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** A fresh folder under the OS temp dir (the worker runs on this machine: FileStreamSink files go here). */
export function tempDir(prefix = 'cw-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
