import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, credentialsInClear, loadConfig, loadConfigWithWarnings, redactConfig, type LoadOptions } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'cw-config-'));
let n = 0;
function file(content: unknown): string {
  const p = join(dir, `c${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('watches one local worker with no config at all', () => {
    const c = loadConfig({ env: {} });
    expect(c.clusters).toEqual([{ name: 'default', url: 'http://localhost:8083', rejectUnauthorized: true, timeout: 5000, probe: true }]);
    expect(c.pollInterval).toBe(10_000);
    expect(c.heal.unassignedAfter).toBe(600_000);
    expect(c.metrics).toEqual({ enabled: true, host: '127.0.0.1', port: 9847 });
  });

  it('takes CONNECT_URL and CONNECT_WATCHDOG_* variables, over the file', () => {
    const configFile = file({ pollInterval: 30000, metrics: { port: 1234 } });
    const c = loadConfig({
      configFile,
      env: { CONNECT_URL: 'http://10.0.0.5:8083', CONNECT_WATCHDOG_POLL_INTERVAL: '2500', CONNECT_WATCHDOG_STATE_FILE: '/tmp/x.json', CONNECT_WATCHDOG_HEAL_ACTIONS_UNKNOWN: 'escalate' },
    });
    expect(c.clusters[0]!.url).toBe('http://10.0.0.5:8083');
    expect(c.pollInterval).toBe(2500);
    expect(c.metrics.port).toBe(1234);
    expect(c.stateFile).toBe('/tmp/x.json');
    expect(c.heal.actions.unknown).toBe('escalate');
  });

  it('names the CONNECT_URL cluster from CONNECT_WATCHDOG_CLUSTER_NAME', () => {
    const c = loadConfig({ env: { CONNECT_URL: 'http://10.0.0.5:8083', CONNECT_WATCHDOG_CLUSTER_NAME: 'eu-prod' } });
    expect(c.clusters.map((x) => x.name)).toEqual(['eu-prod']);
  });

  it('refreshes the connector configs every 5 min unless infoRefresh says otherwise', () => {
    expect(loadConfig({ env: {} }).infoRefresh).toBe(300_000);
    expect(loadConfig({ env: { CONNECT_WATCHDOG_INFO_REFRESH: '60000' } }).infoRefresh).toBe(60_000);
    expect(errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_INFO_REFRESH: '0' } })).message).toMatch(/^infoRefresh: /);
  });

  it('watches no source for stalls unless heal.stall.connectors names some, and fails naming the key on a bad pattern or interval', () => {
    expect(loadConfig({ env: {} }).heal.stall).toEqual({ connectors: '', after: 900_000, checkInterval: 60_000 });
    expect(loadConfig({ env: { CONNECT_WATCHDOG_HEAL_STALL_CONNECTORS: '^pg-', CONNECT_WATCHDOG_HEAL_STALL_AFTER: '600000' } }).heal.stall).toEqual({ connectors: '^pg-', after: 600_000, checkInterval: 60_000 });
    const bad = errorOf(() => loadConfig({ configFile: file({ heal: { stall: { connectors: '^pg-(' } } }), env: {} }));
    expect(bad.key).toBe('heal.stall.connectors');
    expect(bad.message).toMatch(/invalid regular expression/);
    expect(errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_STALL_CONNECTORS: '[' } })).message).toMatch(/^heal\.stall\.connectors: .*\(set by CONNECT_WATCHDOG_HEAL_STALL_CONNECTORS\)/);
    expect(errorOf(() => loadConfig({ configFile: file({ heal: { stall: { after: 30_000 } } }), env: {} })).key).toBe('heal.stall.after');
  });

  it('pages no connector for listing no task unless heal.noTasksAfter (CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER) is set, and fails naming the key on a bad value', () => {
    expect(loadConfig({ env: {} }).heal.noTasksAfter).toBe(0);
    expect(loadConfig({ env: { CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER: '1800000' } }).heal.noTasksAfter).toBe(1_800_000);
    expect(loadConfig({ configFile: file({ heal: { noTasksAfter: 900_000 } }), env: {} }).heal.noTasksAfter).toBe(900_000);
    expect(loadConfig({ configFile: file({ heal: { noTasksAfter: 900_000 } }), env: { CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER: '0' } }).heal.noTasksAfter).toBe(0);
    expect(errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER: '-1' } })).message).toMatch(/^heal\.noTasksAfter: .*\(set by CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER\)/);
    expect(errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_NO_TASKS_AFTER: '15min' } })).key).toBe('heal.noTasksAfter');
    expect(errorOf(() => loadConfig({ configFile: file({ heal: { noTasksAfter: 1.5 } }), env: {} })).key).toBe('heal.noTasksAfter');
  });

  it('reads the file named by CONNECT_WATCHDOG_CONFIG', () => {
    const configFile = file({ clusters: [{ name: 'prod', url: 'https://connect.example:8083/' }] });
    const c = loadConfig({ env: { CONNECT_WATCHDOG_CONFIG: configFile } });
    expect(c.clusters.map((x) => [x.name, x.url])).toEqual([['prod', 'https://connect.example:8083']]);
  });

  it('reads secrets from files', () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 's3cret\n');
    const c = loadConfig({ configFile: file({ clusters: [{ name: 'a', url: 'http://a:8083', username: 'admin', passwordFile: pw }] }), env: {} });
    expect(c.clusters[0]!.password).toBe('s3cret');
    expect(JSON.stringify(redactConfig(c))).not.toContain('s3cret');
  });

  it('adds a webhook sink from CONNECT_WATCHDOG_WEBHOOK_URL and never prints its URL', () => {
    const c = loadConfig({ env: { CONNECT_WATCHDOG_WEBHOOK_URL: 'https://hooks.example/T000/B000/XXXSECRET' } });
    expect(c.sinks).toEqual([{ type: 'webhook', name: 'env-webhook', url: 'https://hooks.example/T000/B000/XXXSECRET', filter: {} }]);
    expect(JSON.stringify(redactConfig(c))).not.toContain('XXXSECRET');
  });

  it('shows the user of a URL\'s user info with its password redacted, alike for clusters, sinks, heartbeat and proxy', () => {
    const c = loadConfig({
      configFile: file({
        clusters: [
          { name: 'a', url: 'http://admin:pw1@connect-a:8083' },
          { name: 'b', url: 'https://TOKEN2@connect-b:8083/base' },
        ],
        sinks: [{ type: 'alertmanager', url: 'http://am:pw3@alertmanager:9093/path-secret' }],
        heartbeat: { url: 'https://hb:pw4@hc.example/ping/uuid-secret' },
      }),
      env: { HTTPS_PROXY: 'http://proxyuser:pw5@proxy:3128' },
    });
    const shown = redactConfig(c) as { clusters: { url: string }[]; sinks: { url: string }[]; heartbeat: { url: string }; proxy: { https: string } };
    expect(shown.clusters.map((x) => x.url)).toEqual(['http://admin:[redacted]@connect-a:8083', 'https://[redacted]@connect-b:8083/base']);
    expect(shown.sinks[0]!.url).toBe('http://am:[redacted]@alertmanager:9093/[redacted]');
    expect(shown.heartbeat.url).toBe('https://hb:[redacted]@hc.example/[redacted]');
    expect(shown.proxy.https).toBe('http://proxyuser:[redacted]@proxy:3128');
    // A user without a password may be a token (https://TOKEN@host): hidden whole.
    expect(JSON.stringify(shown)).not.toMatch(/pw\d|TOKEN2|secret/);
  });

  const invalid: [string, Record<string, unknown> | string, Record<string, string>, string, RegExp][] = [
    ['unknown top-level key', { pollIntervall: 5 }, {}, 'pollIntervall', /unknown key/],
    ['unknown nested key', { heal: { backof: {} } }, {}, 'heal.backof', /unknown key/],
    ['unknown cluster key', { clusters: [{ name: 'a', url: 'http://a', pasword: 'x' }] }, {}, 'clusters[0].pasword', /unknown key/],
    ['bad cluster URL', { clusters: [{ name: 'a', url: 'ftp://a' }] }, {}, 'clusters[0].url', /http\(s\) URL/],
    ['missing cluster URL', { clusters: [{ name: 'a' }] }, {}, 'clusters[0].url', /required/],
    ['duplicate cluster name', { clusters: [{ name: 'a', url: 'http://a' }, { name: 'a', url: 'http://b' }] }, {}, 'clusters[1].name', /duplicate/],
    ['zero interval', { pollInterval: 0 }, {}, 'pollInterval', /positive/],
    ['negative interval from env', {}, { CONNECT_WATCHDOG_POLL_INTERVAL: '-5' }, 'pollInterval', /positive/],
    ['bad CONNECT_URL', {}, { CONNECT_URL: 'not a url' }, 'connectUrl', /http\(s\) URL/],
    ['cluster URL with a query (lost from every REST path)', { clusters: [{ name: 'a', url: 'http://a:8083/?token=QueryTok' }] }, {}, 'clusters[0].url', /without a query/],
    ['CONNECT_URL with a fragment', {}, { CONNECT_URL: 'http://a:8083/#x' }, 'connectUrl', /without a query or fragment/],
    ['invalid rule regex', { rules: [{ name: 'mine', pattern: '([', class: 'config' }] }, {}, 'rules[0].pattern', /invalid regular expression/],
    ['bad rule class', { rules: [{ pattern: 'x', class: 'network' }] }, {}, 'rules[0].class', /one of/],
    ['bad time zone', { maintenance: [{ cron: '0 2 * * 6', duration: 3600000, timezone: 'Mars/Olympus' }] }, {}, 'maintenance[0].timezone', /time zone/],
    ['bad cron', { maintenance: [{ cron: 'every day', duration: 1000 }] }, {}, 'maintenance[0].cron', /cron/],
    ['pagerduty without key', { sinks: [{ type: 'pagerduty' }] }, {}, 'sinks[0].routingKey', /required/],
    ['bad sink type', { sinks: [{ type: 'email', url: 'http://x' }] }, {}, 'sinks[0].type', /one of/],
    ['sidecar without worker id', { ownership: { mode: 'worker' } }, {}, 'ownership.workerId', /required/],
    // Connect's worker_id is host:port: a sidecar given anything else matched nothing and silently restarted nothing
    ['sidecar worker id given as the advertised URL', { ownership: { mode: 'worker', workerId: 'http://10.0.0.5:8083' } }, {}, 'ownership.workerId', /host:port/],
    ['sidecar worker id without its port', { ownership: { mode: 'worker' } }, { CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: '10.0.0.5' }, 'ownership.workerId', /host:port.*\(set by CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID\)$/],
    ['sidecar worker id with a trailing newline', { ownership: { mode: 'worker', workerId: '10.0.0.5:8083\n' } }, {}, 'ownership.workerId', /host:port/],
    ['bad heal action', { heal: { actions: { config: 'reboot' } } }, {}, 'heal.actions.config', /must be one of/],
    ['not JSON', '{ "pollInterval": ', {}, 'config', /not valid JSON/],
    ['missing secret file', { clusters: [{ name: 'a', url: 'http://a', token: undefined, tokenFile: '/nonexistent/token' }] }, {}, 'clusters[0].tokenFile', /cannot read/],
  ];
  it.each(invalid)('rejects %s naming the key', (_what, content, env, key, reason) => {
    const err = errorOf(() => loadConfig({ configFile: file(content), env }));
    expect(err.key).toBe(key);
    expect(err.reason).toMatch(reason);
    expect(err.message).not.toContain('\n');
  });

  it('names the file it cannot read, not only the key (config/example.json as shipped exits 78 on one)', () => {
    const err = errorOf(() => loadConfig({ configFile: file({ clusters: [{ name: 'a', url: 'http://a', passwordFile: '/nonexistent/prod-password' }] }), env: {} }));
    expect(err.key).toBe('clusters[0].passwordFile');
    expect(err.message).toContain('"/nonexistent/prod-password"');
    expect(err.message).toMatch(/ENOENT$/);
  });

  it('does not echo the value of a *File key or a PEM key that is the secret itself given by mistake', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
    const cases = [
      [{ clusters: [{ name: 'a', url: 'https://a:8443', username: 'watchdog', passwordFile: 'Hunter2Secret' }] }, 'clusters[0].passwordFile', 'Hunter2Secret'],
      [{ sinks: [{ type: 'pagerduty', routingKeyFile: 'e93facc04764012d7bfb002500d5d1a6' }] }, 'sinks[0].routingKeyFile', 'e93facc04764012d7bfb002500d5d1a6'],
      [{ clusters: [{ name: 'a', url: 'https://a:8443', cert: '/etc/hosts', key: pem }] }, 'clusters[0].key', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7'],
    ] as const;
    for (const [config, key, secret] of cases) {
      const err = errorOf(() => loadConfig({ configFile: file(config), env: {} }));
      expect(err.key).toBe(key);
      expect(err.message).toMatch(/ENOENT/);
      expect(err.message).not.toContain(secret);
    }
  });

  it('rejects an empty secret file naming the key, instead of sending an empty password (the worker answered 401)', () => {
    const empty = join(dir, 'empty-password');
    writeFileSync(empty, '\n');
    const err = errorOf(() => loadConfig({ configFile: file({ clusters: [{ name: 'a', url: 'https://a:8443', username: 'watchdog', passwordFile: empty }] }), env: {} }));
    expect(err.key).toBe('clusters[0].passwordFile');
    expect(err.message).toContain(JSON.stringify(empty));
    expect(err.reason).toMatch(/is empty/);
    const sink = errorOf(() => loadConfig({ configFile: file({ sinks: [{ type: 'pagerduty', routingKeyFile: empty }] }), env: {} }));
    expect(sink.key).toBe('sinks[0].routingKeyFile');
  });

  it('names the environment variable when the bad value came from it, and only then', () => {
    const fromEnv = errorOf(() => loadConfig({ configFile: file({ heal: { backoff: { initial: 1000 } } }), env: { CONNECT_WATCHDOG_POLL_INTERVAL: 'abc' } }));
    expect(fromEnv.key).toBe('pollInterval');
    expect(fromEnv.message).toMatch(/\(set by CONNECT_WATCHDOG_POLL_INTERVAL\)$/);
    const fromFile = errorOf(() => loadConfig({ configFile: file({ pollInterval: 'abc' }), env: {} }));
    expect(fromFile.key).toBe('pollInterval');
    expect(fromFile.message).not.toContain('CONNECT_WATCHDOG_');
  });

  it('reads a boolean or an integer only from a string that means one, and rejects the rest', () => {
    const c = loadConfig({
      env: { CONNECT_WATCHDOG_DRY_RUN: 'TRUE', CONNECT_WATCHDOG_METRICS_ENABLED: 'false', CONNECT_WATCHDOG_METRICS_PORT: '9000', CONNECT_WATCHDOG_REQUEST_RETRIES: ' 0 ' },
    });
    expect([c.dryRun, c.metrics.enabled, c.metrics.port, c.requestRetries]).toEqual([true, false, 9000, 0]);
    // convict alone reads "0", "no" and "off" as true (anything but "false"), and "80x" as 80.
    for (const [variable, value, key] of [
      ['CONNECT_WATCHDOG_DRY_RUN', '0', 'dryRun'],
      ['CONNECT_WATCHDOG_METRICS_ENABLED', 'no', 'metrics.enabled'],
      ['CONNECT_WATCHDOG_HEAL_PROBE_ENABLED', 'off', 'heal.probe.enabled'],
      ['CONNECT_WATCHDOG_METRICS_PORT', '80x', 'metrics.port'],
      ['CONNECT_WATCHDOG_REQUEST_RETRIES', '2abc', 'requestRetries'],
      ['CONNECT_WATCHDOG_HEAL_MAX_ATTEMPTS', '1.5', 'heal.maxAttempts'],
      ['CONNECT_WATCHDOG_DELIVERY_RETRIES', '0x10', 'delivery.retries'],
      ['CONNECT_WATCHDOG_POLL_INTERVAL', '0x10', 'pollInterval'],
      ['CONNECT_WATCHDOG_HEAL_CONFIRM_DELAY', '1e3', 'heal.confirmDelay'],
      ['CONNECT_WATCHDOG_HEAL_CLUSTER_OUTAGE_THRESHOLD', '+5', 'heal.clusterOutageThreshold'],
    ] as const) {
      const err = errorOf(() => loadConfig({ env: { [variable]: value } }));
      expect(err.key, variable).toBe(key);
      expect(err.message).toMatch(new RegExp(`\\(set by ${variable}\\)$`));
    }
    expect(errorOf(() => loadConfig({ configFile: file({ dryRun: 'no' }), env: {} })).key).toBe('dryRun');
    expect(errorOf(() => loadConfig({ configFile: file({ metrics: { port: '80x' } }), env: {} })).key).toBe('metrics.port');
  });

  it('rejects a list key written as one object (convict would drop it for the default: no sink, no window)', () => {
    const sink = { type: 'slack', name: 'ops', url: 'https://hooks.slack.com/services/T/B/x' };
    for (const [key, value] of [
      ['clusters', { name: 'prod', url: 'http://connect.prod:8083' }],
      ['sinks', sink],
      ['maintenance', { cron: '0 2 * * *', duration: 3_600_000 }],
      ['rules', { pattern: 'x', class: 'config' }],
    ] as const) {
      const err = errorOf(() => loadConfig({ configFile: file({ [key]: value }), env: {} }));
      expect(err.key).toBe(key);
      expect(err.message).toMatch(/must be a list/);
    }
    expect(loadConfig({ configFile: file({ sinks: [sink] }), env: {} }).sinks).toHaveLength(1);
  });

  it('takes durations only as whole milliseconds a timer holds: a fraction fails every request, a month polls non-stop', () => {
    for (const [variable, value, key] of [
      ['CONNECT_WATCHDOG_REQUEST_TIMEOUT', '2500.5', 'requestTimeout'],
      ['CONNECT_WATCHDOG_DELIVERY_TIMEOUT', '1000.5', 'delivery.timeout'],
      ['CONNECT_WATCHDOG_HEAL_CONFIRM_DELAY', '0.5', 'heal.confirmDelay'],
      ['CONNECT_WATCHDOG_POLL_INTERVAL', String(31 * 86_400_000), 'pollInterval'],
      ['CONNECT_WATCHDOG_STATUS_CONCURRENCY', '2.5', 'statusConcurrency'],
      ['CONNECT_WATCHDOG_HEAL_CLUSTER_OUTAGE_THRESHOLD', '4.5', 'heal.clusterOutageThreshold'],
    ] as const) {
      const err = errorOf(() => loadConfig({ env: { [variable]: value } }));
      expect(err.key, variable).toBe(key);
    }
    expect(loadConfig({ env: { CONNECT_WATCHDOG_POLL_INTERVAL: String(2 ** 31 - 1) } }).pollInterval).toBe(2 ** 31 - 1);
    // Durations only compared with the clock, never waited on, take more than a timer holds.
    const month = 30 * 86_400_000;
    const long = loadConfig({ configFile: file({ delivery: { maxAge: month }, heal: { escalateAfter: { window: month }, stall: { connectors: '^cdc-', after: month } } }), env: {} });
    expect([long.delivery.maxAge, long.heal.escalateAfter.window, long.heal.stall.after]).toEqual([month, month, month]);
    const cluster = (timeout: number) => file({ clusters: [{ name: 'prod', url: 'http://connect.prod:8083', timeout }] });
    expect(errorOf(() => loadConfig({ configFile: cluster(2500.5), env: {} })).key).toBe('clusters[0].timeout');
    expect(errorOf(() => loadConfig({ configFile: cluster(2 ** 31), env: {} })).key).toBe('clusters[0].timeout');
    // A window is compared, never a timer: a long one is taken (it counts as 7 days).
    expect(loadConfig({ configFile: file({ maintenance: [{ cron: '0 2 * * *', duration: 30 * 86_400_000 }] }), env: {} }).maintenance).toHaveLength(1);
  });

  it('rejects an empty state file, metrics host or cluster name, naming the variable that emptied it', () => {
    for (const [variable, key] of [
      ['CONNECT_WATCHDOG_STATE_FILE', 'stateFile'],
      ['CONNECT_WATCHDOG_METRICS_HOST', 'metrics.host'],
      ['CONNECT_WATCHDOG_CLUSTER_NAME', 'clusterName'],
    ] as const) {
      const err = errorOf(() => loadConfig({ env: { [variable]: '' } }));
      expect(err.key, variable).toBe(key);
      expect(err.message).toBe(`${key}: must not be empty (set by ${variable})`);
    }
    expect(errorOf(() => loadConfig({ configFile: file({ stateFile: ' ' }), env: {} })).message).toBe('stateFile: must not be empty');
    expect(errorOf(() => loadConfig({ configFile: file({ metrics: { host: '' } }), env: {} })).key).toBe('metrics.host');
  });

  it('rejects a state file that is a directory (its own directory, by mistake), naming a file to use', () => {
    const err = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_STATE_FILE: dir } }));
    expect(err.key).toBe('stateFile');
    expect(err.message).toBe(`stateFile: is a directory: name a file in it, e.g. ${JSON.stringify(join(dir, 'state.json'))} (set by CONNECT_WATCHDOG_STATE_FILE)`);
    expect(loadConfig({ env: { CONNECT_WATCHDOG_STATE_FILE: join(dir, 'state.json') } }).stateFile).toBe(join(dir, 'state.json'));
  });

  it('names the values and the variables that set them when a pair contradicts itself (a seconds-for-ms slip in an env file)', () => {
    const max = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_BACKOFF_MAX: '5' } }));
    expect(max.key).toBe('heal.backoff.max');
    expect(max.message).toBe('heal.backoff.max: must not be below heal.backoff.initial (10000 ms): value was 5 (set by CONNECT_WATCHDOG_HEAL_BACKOFF_MAX)');
    const initial = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_BACKOFF_INITIAL: '900000' } }));
    expect(initial.message).toBe('heal.backoff.max: must not be below heal.backoff.initial (900000 ms, set by CONNECT_WATCHDOG_HEAL_BACKOFF_INITIAL): value was 600000');
    const stall = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_STALL_AFTER: '30' } }));
    expect(stall.message).toBe('heal.stall.after: must not be below heal.stall.checkInterval (60000 ms): value was 30 (set by CONNECT_WATCHDOG_HEAL_STALL_AFTER)');
    const health = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_HEAL_HEALTH_AFTER: '300' } }));
    expect(health.message).toBe('heal.health.after: must not be below heal.health.checkInterval (60000 ms): value was 300 (set by CONNECT_WATCHDOG_HEAL_HEALTH_AFTER)');
    // From the file alone: the values, no variable.
    expect(errorOf(() => loadConfig({ configFile: file({ heal: { backoff: { max: 5 } } }), env: {} })).message).toBe(
      'heal.backoff.max: must not be below heal.backoff.initial (10000 ms): value was 5',
    );
  });

  it('loads a config whose state file cannot be looked at (status, classify and check-config need no state file)', () => {
    // The real case is EACCES: an operator's user that may not search the service's state directory (systemd's
    // StateDirectoryMode=0700) running `status --config /etc/connect-watchdog/config.json`. It ran before the
    // directory check; that check threw the stat error raw (a stack trace, exit 1). Root searches every
    // directory, so a symlink loop (ELOOP) stands in for it here.
    const loop = join(dir, 'loop.json');
    symlinkSync(loop, loop);
    expect(loadConfig({ env: { CONNECT_WATCHDOG_STATE_FILE: loop } }).stateFile).toBe(loop);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      mkdirSync(locked, { mode: 0o000 });
      expect(loadConfig({ env: { CONNECT_WATCHDOG_STATE_FILE: join(locked, 'state.json') } }).stateFile).toBe(join(locked, 'state.json'));
    }
  });

  it('never echoes a secret in an error', () => {
    const err = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_WEBHOOK_URL: 'ftp://user:hunter2@x' } }));
    expect(err.key).toBe('webhookUrl');
    expect(err.message).not.toContain('hunter2');
  });

  it('never echoes the credentials of a Connect URL, nor the text around a JSON syntax error', () => {
    const url = errorOf(() => loadConfig({ env: { CONNECT_URL: 'http://admin:S3cretPw@connect:8083/?x=1' } }));
    expect(url.key).toBe('connectUrl');
    expect(url.message).toMatch(/without a query or fragment.*\(set by CONNECT_URL\)$/);
    expect(url.message).not.toContain('S3cretPw');
    const unquoted = errorOf(() => loadConfig({ configFile: file('{"clusters": [{"name": "p", "url": "http://c:8083", "username": "u", "password": Hunter2Secret}]}'), env: {} }));
    expect(unquoted.key).toBe('config');
    expect(unquoted.message).toMatch(/is not valid JSON: Unexpected token/);
    expect(unquoted.message).not.toMatch(/Hunter2|assword/);
    // A secret file given as the config: the whole of a short one would be quoted.
    const secretFile = errorOf(() => loadConfig({ configFile: file('r0utingKeyHunter2'), env: {} }));
    expect(secretFile.message).not.toContain('Hunter2');
  });

  it('never echoes the credentials of a Connect URL the scrubber does not read as a URL (no scheme, a space in the password)', () => {
    // "http://" forgotten: the WHATWG parser reads "admin:" as the scheme, so the value is echoed as not http(s).
    const noScheme = errorOf(() => loadConfig({ env: { CONNECT_URL: 'admin:S3cretPw@connect:8083' } }));
    expect(noScheme.key).toBe('connectUrl');
    expect(noScheme.message).toBe('connectUrl: must be an http(s) URL: value was "admin:***@connect:8083" (set by CONNECT_URL)');
    const inFile = errorOf(() => loadConfig({ configFile: file({ connectUrl: 'admin:S3cretPw@connect:8083' }), env: {} }));
    expect(inFile.message).not.toContain('S3cretPw');
    const space = errorOf(() => loadConfig({ env: { CONNECT_URL: 'http://admin:S3cret Pw@connect:80830' } }));
    expect(space.message).toBe('connectUrl: must be an http(s) URL: value was "http://admin:***@connect:80830" (set by CONNECT_URL)');
    // The Connect URL copied into the worker id instead of host:port.
    const workerId = errorOf(() => loadConfig({ env: { CONNECT_WATCHDOG_OWNERSHIP_MODE: 'worker', CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: 'http://admin:S3cretPw@10.0.0.5:8083' } }));
    expect(workerId.key).toBe('ownership.workerId');
    expect(workerId.message).toContain('value was "http://admin:***@10.0.0.5:8083"');
  });
});

describe('environmentOverrides', () => {
  const environmentOverrides = (options: LoadOptions) => loadConfigWithWarnings(options).overridden;
  it('names each key of the config file that a variable overrides with another value (the image and the unit set some)', () => {
    const configFile = file({ stateFile: '/data/state.json', metrics: { port: 9100, host: '0.0.0.0' }, pollInterval: 10000, clusters: [] });
    const env = { CONNECT_WATCHDOG_STATE_FILE: '/var/lib/connect-watchdog/state.json', CONNECT_WATCHDOG_METRICS_PORT: '9847', CONNECT_WATCHDOG_METRICS_HOST: '0.0.0.0', CONNECT_WATCHDOG_POLL_INTERVAL: '10000' };
    expect(environmentOverrides({ configFile, env })).toEqual([
      { key: 'stateFile', variable: 'CONNECT_WATCHDOG_STATE_FILE' },
      { key: 'metrics.port', variable: 'CONNECT_WATCHDOG_METRICS_PORT' },
    ]);
    expect(loadConfig({ configFile, env }).stateFile).toBe('/var/lib/connect-watchdog/state.json');
    expect(environmentOverrides({ env })).toEqual([]);
    // The same value spelled otherwise is no override.
    const same = file({ dryRun: true, heal: { backoff: { jitter: 0.2 }, probe: { enabled: false } } });
    expect(environmentOverrides({ configFile: same, env: { CONNECT_WATCHDOG_DRY_RUN: 'TRUE', CONNECT_WATCHDOG_HEAL_BACKOFF_JITTER: '0.20', CONNECT_WATCHDOG_HEAL_PROBE_ENABLED: 'False' } })).toEqual([]);
    expect(() => environmentOverrides({ configFile: join(dir, 'missing.json'), env })).toThrow(ConfigError);
  });
});

describe('ignoredSettings', () => {
  const ignoredSettings = (options: LoadOptions) => loadConfigWithWarnings(options).ignored;
  const clusters = [{ name: 'prod', url: 'https://connect.prod:8083' }];

  it('names the one-cluster shortcut given beside a clusters list, which it is not used with', () => {
    const configFile = file({ clusters, clusterName: 'prod-eu' });
    expect(ignoredSettings({ configFile, env: { CONNECT_URL: 'http://connect.eu:8083' } })).toEqual([
      { key: 'connectUrl', reason: 'the one-cluster shortcut is used only when clusters is empty (it lists 1): it is ignored (set by CONNECT_URL)' },
      { key: 'clusterName', reason: 'names the connectUrl cluster, used only when clusters is empty (it lists 1): it is ignored' },
    ]);
    // Without a clusters list the shortcut is what is watched.
    expect(ignoredSettings({ env: { CONNECT_URL: 'http://connect.eu:8083', CONNECT_WATCHDOG_CLUSTER_NAME: 'eu' } })).toEqual([]);
    expect(ignoredSettings({ configFile: file({ clusters }), env: {} })).toEqual([]);
  });

  it('names ownership.workerId given while ownership.mode is all, which acts on every worker', () => {
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: '10.0.0.5:8083' } })).toEqual([
      {
        key: 'ownership.workerId',
        reason: 'is used only with ownership.mode worker, and the mode is all (every connector and task is acted on): it is ignored (set by CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID)',
      },
    ]);
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: '10.0.0.5:8083', CONNECT_WATCHDOG_OWNERSHIP_MODE: 'worker' } })).toEqual([]);
  });

  it('names metrics.host and metrics.port written in the file while metrics.enabled is false, not the variables the image sets', () => {
    const off = { enabled: false, host: '0.0.0.0', port: 9100 };
    const reason = 'is used only while metrics.enabled is true, and it is false (no metrics server runs): it is ignored';
    expect(ignoredSettings({ configFile: file({ metrics: off }), env: {} })).toEqual([
      { key: 'metrics.host', reason },
      { key: 'metrics.port', reason },
    ]);
    // The image sets CONNECT_WATCHDOG_METRICS_HOST and _PORT for every container: no sign the operator expects a server.
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_METRICS_ENABLED: 'false', CONNECT_WATCHDOG_METRICS_HOST: '0.0.0.0', CONNECT_WATCHDOG_METRICS_PORT: '9847' } })).toEqual([]);
    expect(ignoredSettings({ configFile: file({ metrics: { ...off, enabled: true } }), env: {} })).toEqual([]);
    expect(ignoredSettings({ configFile: file({ metrics: off }), env: { CONNECT_WATCHDOG_METRICS_ENABLED: 'true' } })).toEqual([]);
  });

  it('names heartbeat.interval given without a heartbeat.url to ping', () => {
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEARTBEAT_INTERVAL: '60000' } })).toEqual([
      {
        key: 'heartbeat.interval',
        reason: 'paces the pings of heartbeat.url, and no heartbeat.url is set (CONNECT_WATCHDOG_HEARTBEAT_URL): it is ignored (set by CONNECT_WATCHDOG_HEARTBEAT_INTERVAL)',
      },
    ]);
    expect(ignoredSettings({ configFile: file({ heartbeat: { interval: 60000, url: '' } }), env: {} })).toHaveLength(1);
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEARTBEAT_INTERVAL: '60000', CONNECT_WATCHDOG_HEARTBEAT_URL: 'https://127.0.0.1:9/ping' } })).toEqual([]);
  });

  it('names heal.stall.after and checkInterval given while heal.stall.connectors watches no source', () => {
    const reason = 'is used only for the sources heal.stall.connectors names, and it is empty (no source is watched for stalls): it is ignored';
    expect(ignoredSettings({ configFile: file({ heal: { stall: { after: 1_800_000, checkInterval: 120_000 } } }), env: {} })).toEqual([
      { key: 'heal.stall.after', reason },
      { key: 'heal.stall.checkInterval', reason },
    ]);
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEAL_STALL_AFTER: '1800000' } })).toEqual([{ key: 'heal.stall.after', reason: `${reason} (set by CONNECT_WATCHDOG_HEAL_STALL_AFTER)` }]);
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEAL_STALL_AFTER: '1800000', CONNECT_WATCHDOG_HEAL_STALL_CONNECTORS: '^pg-' } })).toEqual([]);
  });

  it('names heal.health.after given while heal.health.checkInterval is 0 (health never read)', () => {
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEAL_HEALTH_AFTER: '120000', CONNECT_WATCHDOG_HEAL_HEALTH_CHECK_INTERVAL: '0' } })).toEqual([
      {
        key: 'heal.health.after',
        reason: "is used only while heal.health.checkInterval is above 0, and it is 0 (the worker's health is never read): it is ignored (set by CONNECT_WATCHDOG_HEAL_HEALTH_AFTER)",
      },
    ]);
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEAL_HEALTH_CHECK_INTERVAL: '0' } })).toEqual([]);
    expect(ignoredSettings({ env: { CONNECT_WATCHDOG_HEAL_HEALTH_AFTER: '120000' } })).toEqual([]);
  });

  it('names a sink secret its type never sends in the same list, in the order of the schema', () => {
    const configFile = file({ sinks: [{ type: 'slack', url: 'https://127.0.0.1:9/s', secret: 'x' }], heartbeat: { interval: 60000 } });
    expect(ignoredSettings({ configFile, env: { CONNECT_WATCHDOG_WEBHOOK_SECRET: 'y' } }).map((w) => w.key)).toEqual(['sinks[0].secret', 'webhookSecret', 'heartbeat.interval']);
  });

  it('says nothing of the defaults, nor of the documented examples', () => {
    expect(ignoredSettings({ env: {} })).toEqual([]);
    expect(ignoredSettings({ configFile: file({ heal: { stall: { connectors: '.*', after: 900_000 } }, heartbeat: { url: 'https://127.0.0.1:9/p', interval: 60_000 } }), env: {} })).toEqual([]);
  });
});

describe('credentialsInClear', () => {
  const at = (url: string, auth: { username?: string; token?: string } = { username: 'ops' }) => credentialsInClear({ clusters: [{ name: 'c', url, rejectUnauthorized: true, timeout: 1000, probe: false, ...auth }] });
  it('names a cluster sending credentials over http:// off the machine, with its origin only', () => {
    expect(at('http://connect.internal:8083/base')).toEqual([{ cluster: 'c', origin: 'http://connect.internal:8083' }]);
    expect(at('http://connect.internal:8083', { token: 't' })).toHaveLength(1);
    expect(at('http://ops:pw@connect.internal:8083', {})).toEqual([{ cluster: 'c', origin: 'http://connect.internal:8083' }]);
  });
  it('leaves out https://, loopback and a cluster without credentials', () => {
    for (const url of ['https://connect.internal:8443', 'http://localhost:8083', 'http://127.0.0.1:8083', 'http://127.1.2.3:8083', 'http://[::1]:8083']) expect(at(url), url).toEqual([]);
    expect(at('http://connect.internal:8083', {})).toEqual([]);
  });
});
