/**
 * A real Prometheus scrapes a WatchdogMetrics server and evaluates deploy/prometheus/alerts.yml:
 * proves the exposition is ingestible and the rules run against real series.
 * Skipped when the prometheus binary is absent (CI installs it: apt-get install prometheus).
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WatchdogMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import type { MetricsServer } from '../../src/metrics/server.js';
import { dashboardExprs } from './dashboard.js';
import { findOnPath, startPrometheus } from './prometheus-harness.js';
import type { PrometheusHandle } from './prometheus-harness.js';
import { incident as sharedIncident } from '../escalate/fixtures.js';

const binary = findOnPath('prometheus');
const title = binary
  ? 'real Prometheus scraping WatchdogMetrics'
  : 'real Prometheus scraping WatchdogMetrics (SKIPPED: prometheus not on PATH; CI installs it with apt-get install prometheus)';
if (!binary) console.warn(`[test/metrics/prometheus.test.ts] ${title}`);

const incident = sharedIncident({ connector: 'orders' });

describe.skipIf(!binary)(title, () => {
  const metrics = new WatchdogMetrics({ clusters: ['prod'], sinks: ['pager'] });
  let server: MetricsServer | undefined;
  let prom: PrometheusHandle | undefined;

  beforeAll(async () => {
    metrics.countRestart({ cluster: 'prod', connector: 'orders', target: 'task', class: 'connection', outcome: 'ok' });
    metrics.observePoll('prod', 'ok', 0.05);
    metrics.observeSnapshot(
      { cluster: 'prod', at: Date.now(), connectors: [{ name: 'orders', type: 'source', state: 'RUNNING', workerId: 'w1:8083', tasks: [] }] },
      new Map(),
    );
    server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      logger: pino({ level: 'silent' }),
      health: () => ({ alive: true, ready: true }),
    });
    prom = await startPrometheus({
      targets: [`127.0.0.1:${server.port}`],
      ruleFiles: [resolve(import.meta.dirname, '../../deploy/prometheus/alerts.yml')],
    });
  }, 40_000);

  afterAll(async () => {
    await prom?.stop();
    await server?.close();
  }, 20_000);

  it('ingests connect_watchdog_restarts_total with its labels and value 1', async () => {
    const result = await prom!.waitForQuery('connect_watchdog_restarts_total', (r) => r.length > 0);
    expect(result).toHaveLength(1);
    expect(result[0]!.metric).toEqual({
      __name__: 'connect_watchdog_restarts_total',
      job: 'connect-watchdog',
      instance: `127.0.0.1:${server!.port}`,
      cluster: 'prod',
      connector: 'orders',
      target: 'task',
      class: 'connection',
      outcome: 'ok',
    });
    expect(result[0]!.value[1]).toBe('1');
  }, 40_000);

  it('sees the target up', async () => {
    const up = await prom!.waitForQuery('up{job="connect-watchdog"}', (r) => r.length === 1);
    expect(up[0]!.value[1]).toBe('1');
  }, 40_000);

  it('loads every alert rule of alerts.yml and evaluates them without errors', async () => {
    const groups = await prom!.waitFor(
      async () => {
        const g = await prom!.rules();
        const rules = g.flatMap((x) => x.rules);
        return rules.length > 0 && rules.every((r) => r.health === 'ok') ? g : undefined;
      },
      30_000,
      'all rules evaluated with health ok',
    );
    expect(groups.map((g) => g.name)).toEqual(['connect-watchdog']);
    expect(groups[0]!.rules.map((r) => r.name).sort()).toEqual([
      'ConnectClusterUnreachable',
      'ConnectWatchdogAbsent',
      'ConnectWatchdogCertificateExpiring',
      'ConnectWatchdogConnectorUnreadable',
      'ConnectWatchdogDeliveryFailing',
      'ConnectWatchdogDown',
      'ConnectWatchdogIncidentOpen',
      'ConnectWatchdogStale',
      'ConnectWatchdogStateWriteFailing',
      'ConnectorRestartRateHigh',
    ]);
  }, 40_000);

  it('evaluates every query of the Grafana dashboard without error, and the state panels return data', async () => {
    await prom!.waitForQuery('connect_watchdog_connectors', (r) => r.length > 0);
    for (const expr of dashboardExprs()) {
      // Grafana's variables, as Grafana would expand them for "All" and a 1 s scrape interval.
      const q = expr.replaceAll('$cluster', '.*').replaceAll('$__rate_interval', '1m');
      await expect(prom!.query(q), expr).resolves.toBeDefined();
    }
    const states = await prom!.query('sum by (cluster, state) (connect_watchdog_connectors{cluster=~".*"})');
    expect(states.map((s) => s.metric.state).sort()).toEqual(['FAILED', 'PAUSED', 'RESTARTING', 'RUNNING', 'STOPPED', 'UNASSIGNED']);
  }, 40_000);

  it('fires ConnectWatchdogIncidentOpen once an incident is open', async () => {
    metrics.setIncidentsOpen([incident]);
    const alert = await prom!.waitFor(
      async () => (await prom!.alerts()).find((a) => a.labels.alertname === 'ConnectWatchdogIncidentOpen' && a.state === 'firing'),
      30_000,
      'ConnectWatchdogIncidentOpen firing',
    );
    expect(alert.labels).toMatchObject({ cluster: 'prod', class: 'serialization', severity: 'warning', job: 'connect-watchdog' });
    expect(alert.annotations.summary).toBe('1 open serialization incident(s) on Connect cluster prod');
  }, 40_000);

  it('fires ConnectWatchdogDeliveryFailing on a failed delivery to a sink declared up front', async () => {
    // The sink's series exist at 0 from the start, so increase() sees this first failure.
    metrics.countDelivery('pager', 'failed');
    const alert = await prom!.waitFor(
      async () => (await prom!.alerts()).find((a) => a.labels.alertname === 'ConnectWatchdogDeliveryFailing' && a.state === 'firing'),
      30_000,
      'ConnectWatchdogDeliveryFailing firing',
    );
    expect(alert.labels).toMatchObject({ sink: 'pager', outcome: 'failed', severity: 'critical' });
  }, 40_000);
});
