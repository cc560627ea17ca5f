/** Static checks of deploy/grafana/dashboard.json and deploy/prometheus/*.yml against the real exposition. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleMetrics } from './sample-data.js';
import { typesOf } from './exposition.js';
import { dashboard, dashboardExprs } from './dashboard.js';
import { schema } from '../../src/config/schema.js';
import { OMITTED_DEFAULT_METRICS } from '../../src/metrics/metrics.js';

const read = (p: string): string => readFileSync(resolve(import.meta.dirname, '../..', p), 'utf8');

/** Metric names a PromQL text refers to, histogram series mapped to their family. */
function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/connect_watchdog_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
}

async function exposedFamilies(): Promise<Map<string, string>> {
  return typesOf(await sampleMetrics().metrics());
}

describe('deploy/grafana/dashboard.json', () => {
  it('is a Grafana dashboard with a cluster variable and unique panel ids', () => {
    const d = dashboard();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toBe('connect-watchdog');
    const cluster = d.templating.list.find((v) => v.name === 'cluster');
    expect(cluster?.type).toBe('query');
    expect(cluster?.definition).toContain('connect_watchdog_');
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it('has the panels the brief asks for', () => {
    const titles = dashboard().panels.map((p) => p.title);
    for (const t of ['Connectors by state', 'Tasks by state', 'Restarts by outcome', 'Open incidents by class', 'Escalations', 'Poll duration', 'Cluster up']) {
      expect(titles).toContain(t);
    }
  });

  it('filters every per-cluster query by $cluster', () => {
    for (const expr of dashboardExprs()) {
      const perCluster = /connect_watchdog_(connectors|tasks|task_failed|restarts|escalations|incidents_open|polls|poll_duration|cluster_up|worker_healthy|last_successful|tls_certificate|source_offsets)/.test(expr);
      if (perCluster) expect(expr).toContain('cluster=~"$cluster"');
    }
  });

  it('queries only metrics the watchdog exposes', async () => {
    const families = await exposedFamilies();
    const used = metricNames(dashboardExprs().join('\n'));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(families.has(name), name).toBe(true);
  });
});

describe('deploy/prometheus', () => {
  it('alerts.yml refers only to metrics the watchdog exposes', async () => {
    const families = await exposedFamilies();
    const used = metricNames(read('deploy/prometheus/alerts.yml'));
    expect([...used].sort()).toEqual([
      'connect_watchdog_cluster_up',
      'connect_watchdog_connectors_unreadable',
      'connect_watchdog_deliveries_total',
      'connect_watchdog_incidents_open',
      'connect_watchdog_last_successful_poll_timestamp_seconds',
      'connect_watchdog_restarts_total',
      'connect_watchdog_state_writes_total',
      'connect_watchdog_task_failed',
      'connect_watchdog_tls_certificate_expiry_timestamp_seconds',
    ]);
    for (const name of used) expect(families.has(name), name).toBe(true);
  });

  it('scrape.yml scrapes job connect-watchdog on the default metrics port', () => {
    const text = read('deploy/prometheus/scrape.yml');
    expect(text).toMatch(/job_name: connect-watchdog\b/);
    expect(text).toContain(`'localhost:${schema.metrics.port.default}'`);
  });
});

describe('docs/metrics.md', () => {
  it('documents every watchdog metric and includes alerts.yml as it is', async () => {
    const doc = read('docs/metrics.md');
    expect(doc).toContain(read('deploy/prometheus/alerts.yml'));
    const own = typesOf(await sampleMetrics({ defaultMetrics: false }).metrics());
    expect(own.size).toBe(17);
    for (const name of own.keys()) expect(doc, name).toContain(`\`${name}\``);
    for (const name of OMITTED_DEFAULT_METRICS) expect(doc).toContain(name);
  });
});

