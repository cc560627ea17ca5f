/** The shipped example configurations load with the real loader (secret files: see load-example.ts). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../src/classify/classify.js';
import { credentialsInClear, loadConfig } from '../../src/config/load.js';
import { settingWarnings } from '../../src/config/warnings.js';
import { loadExample } from './load-example.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function read(rel: string): string {
  return readFileSync(join(ROOT, rel), 'utf8');
}

describe('config/example.json', () => {
  const text = read('config/example.json');

  it('loads with the real loader', () => {
    const { config, secrets } = loadExample(text);
    expect(config.clusters.map((c) => c.name)).toEqual(['prod-eu', 'prod-us']);
    const [eu, us] = config.clusters;
    expect(eu!.password).toBe(secrets.get('connect-eu-password'));
    expect(eu!.ca).toBe(secrets.get('connect-eu-ca.pem'));
    expect(eu!.timeout).toBe(8000);
    expect(us!.token).toBe(secrets.get('connect-us-token'));
    expect(us!.probe).toBe(false);
    expect(credentialsInClear(config)).toEqual([]); // the example does what the start-up warning asks
    expect(config.sinks.map((s) => s.type).sort()).toEqual(['alertmanager', 'pagerduty', 'slack', 'webhook']);
    const pd = config.sinks.find((s) => s.type === 'pagerduty')!;
    expect(pd.routingKey).toBe(secrets.get('pagerduty-routing-key'));
    expect(pd.url).toBe('https://events.pagerduty.com/v2/enqueue');
    expect(config.sinks.find((s) => s.type === 'webhook')!.secret).toBe(secrets.get('webhook-hmac-key'));
    expect(config.rules.length).toBeGreaterThanOrEqual(1);
    expect(config.maintenance.length).toBeGreaterThanOrEqual(1);
    expect(config.heal.actions.unknown).toBe('restart-then-escalate');
  });

  it('its custom rules classify what they are written for', () => {
    const { config } = loadExample(text);
    const classify = createClassifier(config.rules);
    const es = classify(
      'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n' +
        '\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:636)\n' +
        'Caused by: org.apache.kafka.connect.errors.ConnectException: Bulk request failed\n' +
        'Caused by: ElasticsearchStatusException[Elasticsearch exception [type=cluster_block_exception, reason=index [orders] blocked by: ' +
        '[TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];]]\n',
    );
    expect(es.class).toBe('connection');
    expect(es.rule).toContain('elasticsearch-flood-stage-block');
    const registry = classify(
      'org.apache.kafka.connect.errors.DataException: Failed to serialize Avro data from topic orders\n' +
        '\tat io.confluent.connect.avro.AvroConverter.fromConnectData(AvroConverter.java:93)\n' +
        "Caused by: io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException: Subject 'orders-value' not found.; error code: 40401\n",
    );
    expect(registry.class).toBe('serialization');
    expect(registry.rule).toContain('schema-registry-subject-missing');
  });

  it('keeps secrets out of the file itself, except the Slack URL that has no *File form', () => {
    const json = JSON.parse(text) as { clusters: Record<string, unknown>[]; sinks: Record<string, unknown>[] };
    for (const c of json.clusters) for (const k of ['password', 'token']) expect(c[k], `clusters.${k}`).toBeUndefined();
    for (const s of json.sinks) for (const k of ['secret', 'routingKey']) expect(s[k], `sinks.${k}`).toBeUndefined();
  });
});

describe('config/example-sidecar.json', () => {
  const text = read('config/example-sidecar.json');

  it('loads in worker mode', () => {
    const { config } = loadExample(text);
    expect(config.ownership).toEqual({ mode: 'worker', workerId: '10.42.0.17:8083' });
    expect(config.clusters).toEqual([expect.objectContaining({ name: 'connect-prod', url: 'http://127.0.0.1:8083' })]);
  });

  it('takes the worker id from the environment, as the Kubernetes sidecar does', () => {
    const { config } = loadExample(text, { CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: '10.1.2.3:8083' });
    expect(config.ownership.workerId).toBe('10.1.2.3:8083');
  });
});

describe('every config/*.json example', () => {
  it('is valid for the loader', () => {
    const files = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['example.json', 'example-sidecar.json']));
    for (const f of files) expect(() => loadExample(read(`config/${f}`)), f).not.toThrow();
  });

  it('starts without a warning about its durations', () => {
    const files = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.json'));
    for (const f of files) expect(settingWarnings(loadExample(read(`config/${f}`), { CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: '10.1.2.3:8083' }).config), f).toEqual([]);
  });

  it('starts without a warning about a setting with no effect, given what its deployment sets by env', () => {
    const files = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.json'));
    // deploy/kubernetes/standalone.yaml gives example.json its heartbeat.url as CONNECT_WATCHDOG_HEARTBEAT_URL.
    const env: Record<string, NodeJS.ProcessEnv> = { 'example.json': { CONNECT_WATCHDOG_HEARTBEAT_URL: 'https://127.0.0.1:9/ping' } };
    for (const f of files) expect(loadExample(read(`config/${f}`), env[f]).ignored, f).toEqual([]);
    expect(loadExample(read('config/example.json')).ignored.map((w) => w.key)).toEqual(['heartbeat.interval']);
  });
});

describe('the README', () => {
  it('runs, with --config, only files of the repository that load as they are on a fresh clone', () => {
    const files = [...read('README.md').matchAll(/--config ([\w./-]+)/g)].map((m) => m[1]!).filter((f) => existsSync(join(ROOT, f)));
    for (const f of files) expect(() => loadConfig({ configFile: join(ROOT, f), env: {} }), f).not.toThrow();
  });
});
