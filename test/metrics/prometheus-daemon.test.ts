/**
 * A real Prometheus scrapes the running daemon while it heals a FAILED task on a stand-in Connect
 * worker: its query API must return the restart counter. Skipped when prometheus is not on PATH
 * (CI installs it: apt-get install prometheus).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/log/logger.js';
import { FakeConnect } from '../helpers/fake-connect.js';
import { findOnPath, startPrometheus, type PrometheusHandle } from './prometheus-harness.js';

const binary = findOnPath('prometheus');
if (!binary) console.warn('[test/metrics/prometheus-daemon.test.ts] SKIPPED: prometheus not on PATH');

describe.skipIf(!binary)('a real Prometheus scraping the daemon', () => {
  let fake: FakeConnect;
  let daemon: Daemon;
  let prom: PrometheusHandle | undefined;

  beforeAll(async () => {
    fake = await new FakeConnect().start();
    fake.add('pg-orders', {});
    fake.failTask('pg-orders', 0, 'org.apache.kafka.connect.errors.ConnectException: boom\nCaused by: java.net.ConnectException: Connection refused');
    const dir = mkdtempSync(join(tmpdir(), 'cw-prom-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'prod', url: fake.url, probe: false }],
        pollInterval: 500,
        pollJitter: 0,
        stateFile: join(dir, 'state.json'),
        metrics: { host: '127.0.0.1', port: 0 },
        heal: { confirmDelay: 0 },
      }),
    );
    daemon = new Daemon({ config: loadConfig({ configFile: file, env: {} }), logger: silentLogger() });
    await daemon.init();
    await daemon.start();
    prom = await startPrometheus({ targets: [`127.0.0.1:${daemon.metricsPort!}`] });
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    await daemon?.shutdown();
    await fake?.stop();
  });

  it('returns the restart counter after a heal', async () => {
    const result = await prom!.waitForQuery('connect_watchdog_restarts_total{outcome="ok"}', (r) => r.length > 0, 40_000);
    expect(result[0]!.metric).toMatchObject({ cluster: 'prod', connector: 'pg-orders', target: 'task', class: 'connection', outcome: 'ok' });
    expect(result[0]!.value[1]).toBe('1');
    expect(fake.posts).toEqual(['POST /connectors/pg-orders/tasks/0/restart']);
    const tasks = await prom!.waitForQuery('connect_watchdog_tasks{state="RUNNING"}', (r) => r.length === 1 && r[0]!.value[1] === '1');
    expect(tasks[0]!.metric).toMatchObject({ cluster: 'prod' });
  }, 60_000);
});
