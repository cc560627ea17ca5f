import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it as base } from 'vitest';
import { FakeConnect } from '../helpers/fake-connect.js';

const ROOT = new URL('../../', import.meta.url).pathname;
// The sources, compiled once as `npm run build` does (without its type check) rather than by tsx in each of the
// ~80 CLIs spawned here: tsx's loader about doubled what a spawn costs. Under node_modules/.cache, so that the
// dependencies resolve; with a copy of package.json, which gives the module type and the version.
mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
const BUILT = mkdtempSync(join(ROOT, 'node_modules/.cache/cw-cli-test-'));
const MAIN = join(BUILT, 'src/cli/main.js');
beforeAll(() => {
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  // File by file, the NodeNext module kind cannot see package.json's "type": ESNext emits the same ES module.
  const compilerOptions = { ...options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, sourceMap: false };
  for (const file of readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const dest = join(BUILT, 'src', file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, ts.transpileModule(readFileSync(join(ROOT, 'src', file), 'utf8'), { compilerOptions, fileName: join(ROOT, 'src', file) }).outputText);
  }
  copyFileSync(join(ROOT, 'package.json'), join(BUILT, 'package.json'));
});
afterAll(() => rmSync(BUILT, { recursive: true, force: true }));
const dir = mkdtempSync(join(tmpdir(), 'cw-cli-'));
const SERIALIZATION_TRACE = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/connect/status-failed-serialization-not-json-filestream-sink.json'), 'utf8'),
).tasks[0].trace as string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { env?: Record<string, string>; stdin?: string; onSpawn?: (p: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', CONNECT_WATCHDOG_STATE_FILE: join(dir, `state-${Math.random()}.json`), CONNECT_WATCHDOG_METRICS_PORT: '0', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.stdin ?? '');
    opts.onSpawn?.(child);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each test spawns the CLI (about half a second of loading before it does anything) and most wait on it:
// the suites and their tests run concurrently, and so each test that needs a worker gets its own.
const it = base.extend<{ fake: FakeConnect }>({
  fake: async ({}, use) => {
    const fake = await new FakeConnect().start();
    await use(fake);
    await fake.stop();
  },
});

function configFile(content: unknown): string {
  const p = join(dir, `config-${Math.random()}.json`);
  writeFileSync(p, JSON.stringify(content));
  return p;
}

// First: it mostly waits on timeouts, alongside the others.
describe.concurrent('one-shot commands against a cluster that never answers', () => {
  it('status and run --once answer within 30 s with the default timeouts and retries', { timeout: 30_000 }, async () => {
    const { createServer } = await import('node:net');
    // Accepts connections and never says a word.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const [status, once] = await Promise.all([cli(['status'], { env: { CONNECT_URL: url } }), cli(['run', '--once'], { env: { CONNECT_URL: url } })]);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain('UNREACHABLE');
      expect(once.code).toBe(1);
    } finally {
      silent.close();
    }
  });
});

describe.concurrent('check-config', () => {
  it('exits 78 with one line naming the key', async () => {
    const r = await cli(['check-config', '--config', configFile({ clusters: [{ name: 'a', url: 'http://a' }, { name: 'a', url: 'http://b' }] })]);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('clusters[1].name');
  });

  it('exits 78 for a bad variable too, and for run', async () => {
    const r = await cli(['run', '--once'], { env: { CONNECT_WATCHDOG_POLL_INTERVAL: '0' } });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('pollInterval');
  });

  it('prints the effective config with --log-level applied (the command line wins), and refuses a bad level', async () => {
    const file = configFile({ clusters: [{ name: 'a', url: 'http://a:8083' }], logLevel: 'warn' });
    const r = await cli(['check-config', '--config', file, '--log-level', 'debug']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ logLevel: 'debug' });
    const bad = await cli(['check-config', '--config', file, '--log-level', 'loud']);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain('logLevel');
  });

  it('names --log-level when its value is bad, not the variable it wins over', async () => {
    const r = await cli(['check-config', '--log-level', 'loud'], { env: { CONNECT_WATCHDOG_LOG_LEVEL: 'debug' } });
    expect(r.code).toBe(78);
    expect(r.stderr.trim()).toMatch(/^connect-watchdog: invalid config: logLevel: .*value was "loud" \(set by --log-level\)$/);
  });

  it('warns on stderr of a CONNECT_WATCHDOG_ variable that is no setting, naming the one it likely meant', async () => {
    const r = await cli(['check-config'], {
      env: { CONNECT_WATCHDOG_POLL_INTERVALL: '5000', CONNECT_WATCHDOG_SERVICE_HOST: '10.0.0.7', CONNECT_WATCHDOG_PORT_9847_TCP_ADDR: '10.0.0.7' },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ pollInterval: 10_000 });
    // Kubernetes' service-link variables are not typos.
    expect(r.stderr.trim().split('\n')).toEqual([
      'connect-watchdog: warning: CONNECT_WATCHDOG_POLL_INTERVALL is not a setting and is ignored (did you mean CONNECT_WATCHDOG_POLL_INTERVAL?)',
    ]);
  });

  it('warns on stderr of durations that contradict each other or Kafka Connect, still printing only the JSON on stdout (exit 0)', async () => {
    const file = configFile({ heal: { unassignedAfter: 900, noTasksAfter: 900 } });
    const r = await cli(['check-config', '--config', file], { env: { CONNECT_WATCHDOG_POLL_JITTER: '10000' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ pollJitter: 10_000, heal: { unassignedAfter: 900, noTasksAfter: 900 } });
    expect(r.stderr.trim().split('\n')).toEqual([
      'connect-watchdog: warning: pollJitter: 10000 ms is not below pollInterval (10000 ms): polls come up to 20000 ms apart; it is meant as a small part of the interval',
      "connect-watchdog: warning: heal.unassignedAfter: 900 ms is below Connect's scheduled.rebalance.max.delay.ms (300000 ms by default): every worker restart pages the tasks it ran as unassigned (durations are milliseconds)",
      'connect-watchdog: warning: heal.noTasksAfter: 900 ms is below 60000 ms: a new or resumed connector whose first task configs take longer is paged as no-tasks (durations are milliseconds)',
    ]);
  });

  it('warns on stderr of a sink filtering on a cluster that is not configured (renamed, a typo)', async () => {
    const file = configFile({
      clusters: [{ name: 'prod', url: 'http://127.0.0.1:8083' }],
      sinks: [{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/h', filter: { clusters: ['prod', 'prd'] } }],
    });
    const r = await cli(['check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual(['connect-watchdog: warning: sink "hook" filters on cluster "prd", which is not configured: it gets nothing from it']);
  });

  it('warns on stderr of a secret or routing key given to a sink type that never uses it (a Slack sink signs nothing)', async () => {
    const file = configFile({
      sinks: [
        { type: 'slack', name: 'chat', url: 'https://hooks.slack.com/services/T/B/X', secret: 'Sl4ckSigningKey' },
        { type: 'webhook', url: 'http://127.0.0.1:9/h', secret: 's1', routingKey: 'Rk0123456789' },
        { type: 'pagerduty', routingKey: 'Rk0123456789', secret: 's2' },
        { type: 'alertmanager', url: 'http://127.0.0.1:9093' },
      ],
    });
    const r = await cli(['check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      'connect-watchdog: warning: sinks[0].secret: a slack sink does not use it (only webhook sinks sign their payloads): it is ignored',
      'connect-watchdog: warning: sinks[1].routingKey: a webhook sink does not use it (only pagerduty sinks send a routing key): it is ignored',
      'connect-watchdog: warning: sinks[2].secret: a pagerduty sink does not use it (only webhook sinks sign their payloads): it is ignored',
    ]);
    expect(r.stderr).not.toMatch(/Sl4ck|Rk0123/);
  });

  it('warns on stderr of a webhook secret given without the webhook URL it signs for, never echoing it', async () => {
    const r = await cli(['check-config'], { env: { CONNECT_WATCHDOG_WEBHOOK_SECRET: 'Wh00kS3cret' } });
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      'connect-watchdog: warning: webhookSecret: signs the webhookUrl sink, and no webhookUrl is set (CONNECT_WATCHDOG_WEBHOOK_URL; a sink in sinks takes its own secret): it is ignored (set by CONNECT_WATCHDOG_WEBHOOK_SECRET)',
    ]);
    expect(r.stderr).not.toContain('Wh00kS3cret');
    const withUrl = await cli(['check-config'], { env: { CONNECT_WATCHDOG_WEBHOOK_SECRET: 'Wh00kS3cret', CONNECT_WATCHDOG_WEBHOOK_URL: 'https://127.0.0.1:9/h' } });
    expect(withUrl.stderr).toBe('');
  });

  it('warns on stderr of credentials sent over http:// to another machine, not over https:// or to loopback', async () => {
    const file = configFile({
      clusters: [
        { name: 'prod', url: 'http://connect.internal:8083', username: 'ops', password: 'hunter2' },
        { name: 'url', url: 'http://ops:hunter2@10.0.0.7:8083' },
        { name: 'tls', url: 'https://connect.internal:8443', token: 't0ken' },
        { name: 'sidecar', url: 'http://localhost:8083', username: 'ops', password: 'hunter2' },
        { name: 'open', url: 'http://connect.internal:8084' },
      ],
    });
    const r = await cli(['check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      'connect-watchdog: warning: cluster "prod" sends its credentials to http://connect.internal:8083 in clear text (basic auth and tokens are not encrypted): use https://',
      'connect-watchdog: warning: cluster "url" sends its credentials to http://10.0.0.7:8083 in clear text (basic auth and tokens are not encrypted): use https://',
    ]);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('shows ca and cert as their certificates\' subjects and end dates, not the PEM text, and the key redacted', async () => {
    const tls = join(import.meta.dirname, '..', 'fixtures', 'tls');
    const file = configFile({ clusters: [{ name: 'a', url: 'https://a:8443', ca: join(tls, 'ca.pem'), cert: join(tls, 'client.pem'), key: join(tls, 'client.key') }] });
    const r = await cli(['check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).clusters[0]).toMatchObject({
      ca: expect.stringMatching(/^\[PEM: CN=connect-watchdog test CA until \d{4}-\d\d-\d\d\]$/),
      cert: expect.stringMatching(/^\[PEM: CN=connect-watchdog until /),
      key: '[redacted]',
    });
    expect(r.stdout).not.toContain('BEGIN');
  });

  it('warns on stderr of an expired client certificate, and still prints the config (exit 0)', async () => {
    const tls = join(import.meta.dirname, '..', 'fixtures', 'tls');
    const file = configFile({ clusters: [{ name: 'a', url: 'https://a:8443', cert: join(tls, 'expired-client.pem'), key: join(tls, 'expired-client.key') }] });
    const r = await cli(['check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('connect-watchdog: warning: clusters[0].cert: the client certificate expired on 2021-01-01: the worker refuses it');
    expect(JSON.parse(r.stdout).clusters[0].cert).toBe('[PEM: CN=connect-watchdog expired until 2021-01-01]');
  });

  it('prints the effective config with secrets redacted', async () => {
    const r = await cli(['check-config', '--config', configFile({ clusters: [{ name: 'a', url: 'http://a:8083', username: 'u', password: 'hunter2' }] })]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { clusters: { name: string; password: string }[] };
    expect(printed.clusters[0]).toMatchObject({ name: 'a', password: '[redacted]' });
    expect(r.stdout).not.toContain('hunter2');
  });
});

describe.concurrent('classify', () => {
  const trace = 'org.apache.kafka.connect.errors.ConnectException: boom\nCaused by: java.net.ConnectException: Connection refused\n';
  it('reads a file', async () => {
    const f = join(dir, 'trace.txt');
    writeFileSync(f, trace);
    const r = await cli(['classify', f]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ class: 'connection' });
  });
  it('reads stdin, with - or no argument', async () => {
    for (const args of [['classify', '-'], ['classify']]) {
      const r = await cli(args, { stdin: SERIALIZATION_TRACE });
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      expect(JSON.parse(r.stdout).class).toBe('serialization');
    }
  });
  it('reads a status body as curl prints it: one line per FAILED subject, its trace decoded', async () => {
    const body = readFileSync(join(ROOT, 'test/fixtures/connect/real-e2e-status-failed-config-missing-publication-debezium-postgres.json'), 'utf8');
    const r = await cli(['classify'], { stdin: body });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    // Read as text, the root cause would run on with a literal "\n\tat io.debezium…".
    expect(lines[0]).toMatchObject({
      connector: 'e2e-cfg-pub-48gv8',
      task: 0,
      class: 'config',
      rootCause: 'org.apache.kafka.connect.errors.ConnectException: Publication autocreation is disabled, please create one and restart the connector.',
    });
  });
  it('says on stderr, not stdout, that nothing is FAILED', async () => {
    const r = await cli(['classify'], { stdin: JSON.stringify({ name: 'a', connector: { state: 'RUNNING', worker_id: 'w' }, tasks: [] }) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('nothing is FAILED');
  });
  it('masks credentials of the trace in what it prints', async () => {
    const r = await cli(['classify'], { stdin: 'org.apache.kafka.connect.errors.ConnectException: cannot open jdbc:postgresql://app:hunter2@db:5432/orders?password=hunter2\n' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).rootCause).toContain('app:***@db');
    expect(r.stdout).not.toContain('hunter2');
  });
  it('exits 64 on JSON it cannot read, naming why', async () => {
    const r = await cli(['classify'], { stdin: '{"tasks": [' });
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('starts like JSON but is not JSON');
  });
  it('exits 64 on empty input (a curl that failed), rather than answering "unknown"', async () => {
    const r = await cli(['classify'], { stdin: ' \n' });
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the input is empty');
  });
});

describe.concurrent('status', () => {
  it('exits 0 when everything is RUNNING', async ({ fake }) => {
    fake.add('pg-orders', {});
    const r = await cli(['status'], { env: { CONNECT_URL: fake.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pg-orders');
    expect(r.stdout).toContain('1/1 RUNNING');
    // It shows no config: it does not fetch every connector's config (passwords included) either.
    expect(fake.requests.map((q) => q.url).filter((u) => u.includes('expand=info'))).toEqual([]);
  });

  it('status and classify do not read the proxy variables (they send nothing through a proxy); run still refuses one it cannot use', async ({ fake }) => {
    // A SOCKS proxy set in the shell for other tools: b579549 ran these with it, and they never page.
    fake.add('pg-orders', {});
    const env = { CONNECT_URL: fake.url, HTTPS_PROXY: 'socks5h://127.0.0.1:1080' };
    const status = await cli(['status'], { env });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const classify = await cli(['classify'], { env, stdin: 'java.net.ConnectException: Connection refused' });
    expect(classify.code).toBe(0);
    expect(JSON.parse(classify.stdout)).toMatchObject({ class: 'connection' });
    const run = await cli(['run', '--once'], { env });
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/^connect-watchdog: invalid config: HTTPS_PROXY: must be a proxy URL/);
  });

  it('exits 2 and shows the root cause when something is FAILED', async ({ fake }) => {
    fake.add('sink a/b', { type: 'sink', tasks: [{ id: 0, state: 'RUNNING', worker_id: 'w1:8083' }, { id: 1, state: 'RUNNING', worker_id: 'w2:8083' }] });
    fake.failTask('sink a/b', 1, SERIALIZATION_TRACE);
    const r = await cli(['status'], { env: { CONNECT_URL: fake.url } });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('1/2 RUNNING, 1 FAILED');
    expect(r.stdout).toMatch(/FAILED sink a\/b task 1 on w2:8083 \[serialization\]: com.fasterxml.jackson.core.JsonParseException: Unrecognized token/);
    const json = await cli(['status', '--json'], { env: { CONNECT_URL: fake.url } });
    expect(json.code).toBe(2);
    const view = JSON.parse(json.stdout) as { clusters: { connectors: { name: string; failures: { task: number; class: string }[] }[] }[] };
    expect(view.clusters[0]!.connectors[0]).toMatchObject({ name: 'sink a/b', failures: [{ task: 1, class: 'serialization' }] });
  });

  it('shows the connectors it can read and names the one it cannot (a state from a newer Connect), exit 2', async ({ fake }) => {
    fake.add('pg-orders', {});
    fake.add('pg-new', { tasks: [{ id: 0, state: 'DRAINING', worker_id: 'w1:8083' }] });
    const r = await cli(['status'], { env: { CONNECT_URL: fake.url } });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('pg-orders');
    expect(r.stdout).toContain('UNREADABLE pg-new: connectors["pg-new"].status.tasks[0].state: unknown state "DRAINING"');
    expect(r.stdout).toContain('2 connector(s), 0 with failures, 1 unreadable, 0 cluster(s) unreachable');
    const json = await cli(['status', '--json'], { env: { CONNECT_URL: fake.url } });
    expect(json.code).toBe(2);
    const view = JSON.parse(json.stdout) as { clusters: { reachable: boolean; unreadable: { name: string }[] }[]; summary: { unreadable: number } };
    expect(view.clusters[0]).toMatchObject({ reachable: true, unreadable: [{ name: 'pg-new' }] });
    expect(view.summary.unreadable).toBe(1);
  });

  it('names a connector that has no status (created while its start() blocks), exit 2, without reading any config', async ({ fake }) => {
    fake.add('pg-orders', {});
    fake.add('jdbc-blocked', { noStatus: true, config: { 'connector.class': 'x', 'tasks.max': '1', 'connection.password': 'hunter2' } });
    const r = await cli(['status'], { env: { CONNECT_URL: fake.url } });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('pg-orders');
    expect(r.stdout).toMatch(/UNREADABLE jdbc-blocked: no status: .*start\(\)/);
    expect(r.stdout).toContain('2 connector(s), 0 with failures, 1 unreadable, 0 cluster(s) unreachable');
    expect(r.stdout + r.stderr).not.toContain('hunter2');
    const gets = fake.requests.map((q) => q.url);
    expect(gets.filter((u) => u.includes('expand=info'))).toEqual([]);
    expect(gets).toContain('/connectors');
    expect(gets).toContain('/connectors/jdbc-blocked/status');
    expect(gets).not.toContain('/connectors/pg-orders/status');
  });

  it('keeps its exit code, without a stack trace, when the reader stops early (| head -1)', async ({ fake }) => {
    for (let i = 0; i < 300; i++) {
      fake.add(`sink-${i}`, { type: 'sink' });
      fake.failTask(`sink-${i}`, 0, SERIALIZATION_TRACE);
    }
    // More than a pipe holds (64 KiB): the rest is written after the reader has gone.
    const r = await cli(['status', '--json'], { env: { CONNECT_URL: fake.url }, onSpawn: (p) => p.stdout!.once('data', () => p.stdout!.destroy()) });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.code).toBe(2);
  });

  it('says when the worker is unhealthy (a broker outage: every state still reads RUNNING), keeping the exit code of the connectors', async ({ fake }) => {
    fake.add('pg-orders', {});
    fake.health = { code: 500, body: JSON.parse(readFileSync(join(ROOT, 'test/fixtures/connect/real-broker-health-500-stopping-tasks.json'), 'utf8')) as unknown };
    const r = await cli(['status'], { env: { CONNECT_URL: fake.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}WORKER UNHEALTHY: Worker was unable to handle this request .* The worker is currently stopping 3 and 3 tasks, which began at 2026-12-05T01:55:27.164Z\. \(the states below may be stale\)$/m);
    expect(r.stdout).toContain('1 connector(s), 0 with failures, 0 cluster(s) unreachable, 1 with an unhealthy worker');
    const json = await cli(['status', '--json'], { env: { CONNECT_URL: fake.url } });
    const view = JSON.parse(json.stdout) as { clusters: { health: { status: string } }[]; summary: { unhealthy: number } };
    expect(view.clusters[0]!.health.status).toBe('unhealthy');
    expect(view.summary.unhealthy).toBe(1);
  });

  it('prints nothing more for a healthy worker, or one without GET /health (before 3.9)', async ({ fake }) => {
    fake.add('pg-orders', {});
    const healthy = await cli(['status', '--json'], { env: { CONNECT_URL: fake.url } });
    expect(JSON.parse(healthy.stdout)).toMatchObject({ clusters: [{ health: { status: 'healthy' } }], summary: { unhealthy: 0 } });
    expect(fake.requests.map((q) => q.url)).toContain('/health');
    const text = await cli(['status'], { env: { CONNECT_URL: fake.url } });
    expect(text.stdout).not.toMatch(/^  WORKER /m);
    expect(text.stdout).toContain('1 connector(s), 0 with failures, 0 cluster(s) unreachable\n');
    fake.health = undefined;
    const old = await cli(['status', '--json'], { env: { CONNECT_URL: fake.url } });
    expect(old.code).toBe(0);
    expect(JSON.parse(old.stdout).clusters[0]).not.toHaveProperty('health');
  });

  it('exits 1 when a cluster cannot be reached', async () => {
    const r = await cli(['status', '--json'], { env: { CONNECT_URL: 'http://127.0.0.1:1', CONNECT_WATCHDOG_REQUEST_RETRIES: '0' } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).clusters[0].reachable).toBe(false);
  });
});

describe.concurrent('run', () => {
  it('--once exits 0 when every cluster answered, 1 otherwise', async ({ fake }) => {
    fake.add('a', {});
    expect((await cli(['run', '--once'], { env: { CONNECT_URL: fake.url } })).code).toBe(0);
    expect((await cli(['run', '--once'], { env: { CONNECT_URL: 'http://127.0.0.1:1', CONNECT_WATCHDOG_REQUEST_RETRIES: '0' } })).code).toBe(1);
  });

  it('--once after a restart waits out the confirmation, writes the state file and exits 0 (it ended mid-run before)', async ({ fake }) => {
    fake.add('a', {});
    fake.failTask('a', 0, 'org.apache.kafka.connect.errors.ConnectException: x\nCaused by: java.net.ConnectException: Connection refused');
    const stateFile = join(dir, `state-${Math.random()}.json`);
    const r = await cli(['run', '--once'], { env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_HEAL_PROBE_ENABLED: 'false', CONNECT_WATCHDOG_STATE_FILE: stateFile } });
    expect(r.code).toBe(0);
    expect(fake.posts).toEqual(['POST /connectors/a/tasks/0/restart']);
    expect(r.stdout).toContain('"msg":"restart confirmed"');
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { heal: { subjects: Record<string, { attempts: number }> } };
    expect(saved.heal.subjects['default/a/0']?.attempts).toBe(1);
  });

  it('a metrics port already taken is one line on stderr and exit 1 (systemd restarts it), not a stack trace', async ({ fake }) => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const r = await cli(['run'], { env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_METRICS_HOST: '127.0.0.1', CONNECT_WATCHDOG_METRICS_PORT: String(port) } });
    taken.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`connect-watchdog: cannot serve metrics on 127.0.0.1:${port} (metrics.host, metrics.port): EADDRINUSE\n`);
  });

  it('--dry-run sends no restart', async ({ fake }) => {
    fake.add('a', {});
    fake.failTask('a', 0, 'org.apache.kafka.connect.errors.ConnectException: x\nCaused by: java.net.ConnectException: Connection refused');
    const r = await cli(['run', '--once', '--dry-run'], { env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_HEAL_PROBE_ENABLED: 'false' } });
    expect(r.code).toBe(0);
    expect(fake.posts).toEqual([]);
    expect(r.stdout).toContain('"dryRun":true');
  });

  it('a second watchdog on a state file in use exits 1 naming it, and resolves none of the first one\'s incidents', async ({ fake }) => {
    fake.add('a', { type: 'sink' });
    fake.failTask('a', 0, SERIALIZATION_TRACE);
    const stateFile = join(dir, `shared-${Math.random()}.json`);
    let stopFirst: (() => void) | undefined;
    let second: Run | undefined;
    const first = cli(['run'], {
      env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_STATE_FILE: stateFile, CONNECT_WATCHDOG_POLL_JITTER: '0' },
      onSpawn: (child) => {
        stopFirst = () => child.kill('SIGTERM');
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          // Once the first has opened its incident, a second instance (another cluster name) starts on its file.
          if (out.includes('incident opened') && second === undefined) {
            second = { code: null, stdout: '', stderr: '' };
            void cli(['run', '--once', '--config', configFile({ clusters: [{ name: 'other', url: fake.url }] })], { env: { CONNECT_WATCHDOG_STATE_FILE: stateFile } }).then((r) => {
              second = r;
              stopFirst?.();
            });
          }
        });
      },
    });
    const r = await first;
    expect(r.code).toBe(0);
    expect(second?.code).toBe(1);
    expect(second?.stderr).toContain('is in use by another watchdog');
    expect(second?.stdout).not.toContain('cluster no longer configured');
  });

  it.for(['SIGTERM', 'SIGHUP'] as const)('stops on %s with a poll in flight, letting it finish, and exits 0', async (signal, { fake }) => {
    fake.add('a', {});
    let held = 0;
    fake.interceptors.push((req, res) => {
      if (!req.url?.startsWith('/connectors?')) return false;
      held++;
      // Answer late: the poll is in flight when SIGTERM arrives.
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 1500);
      return true;
    });
    const r = await cli(['run'], {
      env: { CONNECT_URL: fake.url, CONNECT_WATCHDOG_POLL_JITTER: '0' },
      onSpawn: (child) => {
        const timer = setInterval(() => {
          if (held > 0) {
            clearInterval(timer);
            child.kill(signal);
          }
        }, 20);
      },
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; signal?: string });
    const msgs = lines.map((l) => l.msg);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'signal received', signal }));
    expect(msgs.indexOf('stopped')).toBeGreaterThan(msgs.indexOf('signal received'));
    expect(msgs).not.toContain('poll failed');
  });
});

describe.concurrent('help and version', () => {
  it('prints the version', async () => {
    const r = await cli(['--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it.each(['run', 'status', 'classify', 'check-config'])('%s --help', async (verb) => {
    const r = await cli([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`connect-watchdog ${verb}`);
  });
  // Every option a verb's usage line offers is explained in its help, not only named.
  it.each(['run', 'status', 'classify', 'check-config'])('%s --help explains each option of its usage line', async (verb) => {
    const { stdout } = await cli([verb, '--help']);
    const usage = stdout.split('\n', 1)[0] ?? '';
    const body = stdout.slice(usage.length);
    for (const option of usage.match(/--[a-z-]+/g) ?? []) {
      if (option === '--config') continue; // the main help's, every verb takes it
      expect(body, `${verb} --help: ${option}`).toMatch(new RegExp(`(^|\\s)${option}\\b`));
    }
  });
  // The help is what an operator reads before a trial run: it must not leave them thinking pages go out.
  it('run --help says a dry run sends neither a restart nor a page', async () => {
    const r = await cli(['run', '--help']);
    expect(r.stdout).toMatch(/--dry-run .*no restart and no page/);
  });
  // status exits 0 with a PAUSED, STOPPED or UNASSIGNED connector: "0 everything RUNNING" sent operators looking.
  it('the help says what status exit 0 means: nothing FAILED or unreadable, not everything RUNNING', async () => {
    const [main, status] = await Promise.all([cli(['--help']), cli(['status', '--help'])]);
    for (const r of [main, status]) {
      expect(r.stdout).not.toMatch(/0 (all|everything) RUNNING/);
      expect(r.stdout).toMatch(/0 nothing FAILED/);
    }
  });
  // The main help lists --config among the options: written before the command it was "unknown command".
  it('takes --config before the command as after it', async () => {
    const file = configFile({ clusters: [{ name: 'before', url: 'http://127.0.0.1:1' }] });
    for (const args of [['--config', file, 'check-config'], [`--config=${file}`, 'check-config']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).clusters[0].name).toBe('before');
    }
    expect((await cli(['--config'])).code).toBe(64);
    expect((await cli(['--config', file])).stderr).toContain('a command is needed');
  });
  it('an unknown command is a usage error', async () => {
    const r = await cli(['restart-everything']);
    expect(r.code).toBe(64);
  });
  // A container whose CMD was overridden with nothing must not "complete" with 0 while watching nothing.
  it('no command is a usage error: the usage on stderr, nothing on stdout', async () => {
    const r = await cli([]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Usage: connect-watchdog <command>');
    expect(r.stdout).toBe('');
  });
  it('help with no command is not an error', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: connect-watchdog <command>');
  });
  it.each([['run', 'once'], ['status', 'prod'], ['check-config', 'config.json'], ['classify', 'a.txt', 'b.txt']])('a stray argument is a usage error: %s %s', async (...args) => {
    const r = await cli(args, { env: { CONNECT_URL: 'http://127.0.0.1:1' } });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unexpected argument');
    expect(r.stdout).toBe('');
  });
  it.each([['--version', 'extra'], ['version', 'extra'], ['-V', 'extra'], ['help', 'run', 'extra'], ['--help', 'status', 'extra']])('a stray argument is a usage error: %s %s', async (...args) => {
    const r = await cli(args);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unexpected argument "extra"');
    expect(r.stdout).toBe('');
  });
  // Every verb parses the common options; those it has no use for were accepted without a word.
  it('warns of an option the command has no use for, and still does its work', async () => {
    const [check, classify] = await Promise.all([
      cli(['check-config', '--pretty']),
      cli(['classify', '--pretty', '--log-level', 'debug'], { stdin: 'java.net.ConnectException: Connection refused\n' }),
    ]);
    expect(check.code).toBe(0);
    expect(check.stderr.trim().split('\n')).toEqual(['connect-watchdog: warning: --pretty: check-config writes no log to format: it is ignored']);
    expect(classify.code).toBe(0);
    expect(JSON.parse(classify.stdout)).toMatchObject({ class: 'connection' });
    expect(classify.stderr.trim().split('\n')).toEqual([
      'connect-watchdog: warning: --pretty: classify writes no log to format: it is ignored',
      'connect-watchdog: warning: --log-level: classify writes no log: it is ignored',
    ]);
  });
  it.each(['help', '--help', '-h'])('%s with an unknown command is a usage error', async (flag) => {
    const r = await cli([flag, 'restart-everything']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown command "restart-everything"');
    expect(r.stdout).toBe('');
  });
  it.each(['help', '--help'])('%s VERB prints the help of that command, as VERB --help does', async (flag) => {
    const [r, own] = await Promise.all([cli([flag, 'check-config']), cli(['check-config', '--help'])]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(own.stdout);
  });
  // An alias that carries --config (cw='connect-watchdog --config /etc/…') still answers --version.
  it('--version after a leading --config is still the version', async () => {
    const r = await cli(['--config', configFile({}), '--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
