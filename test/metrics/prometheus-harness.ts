/**
 * Starts a real Prometheus (the Debian `prometheus` binary) on loopback, scraping given targets, with
 * helpers to query it. For tests: the metrics tests use it against a WatchdogMetrics server, and the
 * e2e tests can point it at the real daemon.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The absolute path of an executable on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port free right now on 127.0.0.1 (another process could take it before it is used; rare on loopback). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface PrometheusOptions {
  /** `host:port` of each scrape target. */
  readonly targets: readonly string[];
  /** Scrape job name; the alert rules expect `connect-watchdog`. */
  readonly job?: string;
  /** Scrape and rule evaluation interval, Prometheus duration syntax (default `1s`). */
  readonly interval?: string;
  /** Absolute paths of rule files to load. */
  readonly ruleFiles?: readonly string[];
  /** Default: `prometheus` found on PATH. */
  readonly binary?: string;
  /** How long to wait for /-/ready (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  /** [unix seconds, value as a string], as the query API returns it. */
  readonly value: readonly [number, string];
}

export interface PrometheusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly value: string;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: ReadonlyArray<{ readonly name: string; readonly health: string; readonly lastError?: string; readonly type: string }>;
}

export interface PrometheusHandle {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The temporary directory holding prometheus.yml and the TSDB; removed by stop(). */
  readonly dir: string;
  /** An instant query; throws on an API error. */
  query(promql: string): Promise<readonly VectorSample[]>;
  /** Polls `query` until `accept` returns true for its result; throws with the last result after the timeout. */
  waitForQuery(promql: string, accept: (r: readonly VectorSample[]) => boolean, timeoutMs?: number): Promise<readonly VectorSample[]>;
  alerts(): Promise<readonly PrometheusAlert[]>;
  rules(): Promise<readonly RuleGroup[]>;
  /** Polls `probe` until it returns something other than undefined. */
  waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs?: number, what?: string): Promise<T>;
  /** Prometheus' own stdout/stderr so far, for failure messages. */
  logs(): string;
  /** Stops Prometheus (SIGTERM, SIGKILL after 10 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

const POLL_MS = 250;

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle> {
  const binary = opts.binary ?? findOnPath('prometheus');
  if (binary === undefined) throw new Error('prometheus is not on PATH (Debian/Ubuntu: apt-get install prometheus)');
  const interval = opts.interval ?? '1s';
  const dir = await mkdtemp(join(tmpdir(), 'cw-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: [...(opts.ruleFiles ?? [])],
    scrape_configs: [{ job_name: opts.job ?? 'connect-watchdog', static_configs: [{ targets: [...opts.targets] }] }],
  };
  // JSON is YAML: no YAML library needed.
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));

  let output = '';
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const append = (chunk: Buffer): void => {
    // Bounded: a chatty Prometheus must not grow the test's memory without limit.
    output = (output + chunk.toString()).slice(-64_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      append(Buffer.from(String(err)));
      resolve(-1);
    });
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    })());

  async function getJson<T>(path: string): Promise<T> {
    const res = await fetch(url + path);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`prometheus exited (${exitCode}) while waiting for ${what}:\n${output}`);
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}\n${output}`);
      }
      await sleep(POLL_MS);
    }
  }

  const handle: PrometheusHandle = {
    url,
    dir,
    query: async (promql) => (await getJson<{ resultType: string; result: VectorSample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    async waitForQuery(promql, accept, timeoutMs) {
      let last: readonly VectorSample[] = [];
      try {
        return await waitFor(
          async () => {
            last = await handle.query(promql);
            return accept(last) ? last : undefined;
          },
          timeoutMs,
          `query ${promql}`,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast result: ${JSON.stringify(last)}`);
      }
    },
    alerts: async () => (await getJson<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts,
    rules: async () => (await getJson<{ groups: RuleGroup[] }>('/api/v1/rules')).groups,
    waitFor,
    logs: () => output,
    stop,
  };

  try {
    await waitFor(
      async () => {
        const res = await fetch(`${url}/-/ready`);
        return res.ok ? true : undefined;
      },
      opts.startTimeoutMs ?? 30_000,
      'prometheus /-/ready',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return handle;
}
