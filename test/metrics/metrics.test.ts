import { describe, expect, it } from 'vitest';
import { register as globalRegister } from 'prom-client';
import { STATES } from '../../src/connect/types.js';
import type { ClusterSnapshot, ConnectorSnapshot, State } from '../../src/connect/types.js';
import type { FailureClass } from '../../src/classify/types.js';
import type { Incident, IncidentClass } from '../../src/escalate/types.js';
import { INCIDENT_CLASSES } from '../../src/escalate/types.js';
import { OMITTED_DEFAULT_METRICS, POLL_DURATION_BUCKETS, WatchdogMetrics } from '../../src/metrics/metrics.js';
import { find, parseExposition, typesOf } from './exposition.js';
import type { Sample } from './exposition.js';
import { incident as sharedIncident } from '../escalate/fixtures.js';

const P = 'connect_watchdog_';

function connector(name: string, state: State, tasks: readonly State[], trace?: string): ConnectorSnapshot {
  return {
    name,
    type: 'source',
    state,
    workerId: 'w1:8083',
    tasks: tasks.map((s, id) => ({ id, state: s, workerId: 'w1:8083', ...(s === 'FAILED' && trace !== undefined ? { trace } : {}) })),
  };
}

function snap(cluster: string, connectors: readonly ConnectorSnapshot[]): ClusterSnapshot {
  return { cluster, at: 1_700_000_000_000, connectors };
}

function incident(cluster: string, connector: string, cls: IncidentClass, resolvedAt?: number): Incident {
  return sharedIncident({ cluster, connector, task: null, class: cls, ...(resolvedAt !== undefined && { resolvedAt }) });
}

async function samples(m: WatchdogMetrics): Promise<Sample[]> {
  return parseExposition(await m.metrics());
}

function labelKeys(s: Sample): string[] {
  return Object.keys(s.labels).sort();
}

const noClasses = new Map<string, FailureClass>();

describe('WatchdogMetrics exposition', () => {
  it('exposes every public metric with exactly its documented labels and type', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.observePoll('prod', 'ok', 0.2, 1_700_000_000_000);
    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', ['FAILED'])]), new Map([['orders/0', 'connection']]));
    m.countRestart({ cluster: 'prod', connector: 'orders', target: 'task', class: 'connection', outcome: 'ok' });
    m.countEscalation('prod', 'orders', 'serialization');
    m.setIncidentsOpen([incident('prod', 'orders', 'serialization')]);
    m.countDelivery('pager', 'ok');
    m.setCertificateExpiry('prod', 'client', 1_800_000_000_000);
    m.observeOffsets('prod', [{ cluster: 'prod', connector: 'pg', digest: 'd', movedAt: 1_700_000_000_000 }]);
    m.countOffsetReads('prod', 1, 0);

    const text = await m.metrics();
    const all = parseExposition(text);
    const types = typesOf(text);
    const expected: ReadonlyArray<readonly [string, string, readonly string[]]> = [
      ['restarts_total', 'counter', ['class', 'cluster', 'connector', 'outcome', 'target']],
      ['escalations_total', 'counter', ['class', 'cluster', 'connector']],
      ['incidents_open', 'gauge', ['class', 'cluster']],
      ['deliveries_total', 'counter', ['outcome', 'sink']],
      ['connectors', 'gauge', ['cluster', 'state']],
      ['tasks', 'gauge', ['cluster', 'state']],
      ['connectors_unreadable', 'gauge', ['cluster']],
      ['task_failed', 'gauge', ['class', 'cluster', 'connector', 'task']],
      ['polls_total', 'counter', ['cluster', 'outcome']],
      ['cluster_up', 'gauge', ['cluster']],
      ['last_successful_poll_timestamp_seconds', 'gauge', ['cluster']],
      ['tls_certificate_expiry_timestamp_seconds', 'gauge', ['certificate', 'cluster']],
      ['source_offsets_last_moved_timestamp_seconds', 'gauge', ['cluster', 'connector']],
      ['offset_reads_total', 'counter', ['cluster', 'outcome']],
    ];
    for (const [name, type, labels] of expected) {
      expect(types.get(P + name), name).toBe(type);
      const series = find(all, P + name);
      expect(series.length, name).toBeGreaterThan(0);
      for (const s of series) expect(labelKeys(s), name).toEqual(labels);
    }
    expect(types.get(`${P}poll_duration_seconds`)).toBe('histogram');
    expect(find(all, `${P}poll_duration_seconds_count`, { cluster: 'prod' })[0]?.value).toBe(1);
    expect(find(all, `${P}poll_duration_seconds_bucket`).map((s) => labelKeys(s))).toContainEqual(['cluster', 'le']);

    expect(find(all, `${P}restarts_total`)).toEqual([
      { name: `${P}restarts_total`, labels: { cluster: 'prod', connector: 'orders', target: 'task', class: 'connection', outcome: 'ok' }, value: 1 },
    ]);
    expect(find(all, `${P}escalations_total`)).toEqual([
      { name: `${P}escalations_total`, labels: { cluster: 'prod', connector: 'orders', class: 'serialization' }, value: 1 },
    ]);
    expect(find(all, `${P}task_failed`)).toEqual([
      { name: `${P}task_failed`, labels: { cluster: 'prod', connector: 'orders', task: '0', class: 'connection' }, value: 1 },
    ]);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('owns its registry: two instances coexist and nothing lands in the global registry', async () => {
    const a = new WatchdogMetrics();
    const b = new WatchdogMetrics();
    a.countDelivery('s', 'ok');
    expect(find(await samples(b), `${P}deliveries_total`)).toEqual([]);
    expect(a.registry).not.toBe(globalRegister);
    expect(globalRegister.getMetricsAsArray().filter((x) => x.name.startsWith(P))).toEqual([]);
  });

  it('includes prefixed default metrics minus the three *_total gauges promtool rejects', async () => {
    const text = await new WatchdogMetrics().metrics();
    const types = typesOf(text);
    expect(types.get(`${P}process_cpu_seconds_total`)).toBe('counter');
    expect(types.get(`${P}nodejs_heap_size_used_bytes`)).toBe('gauge');
    // The per-type gauges stay; their sum is what the omitted totals said.
    expect(types.get(`${P}nodejs_active_handles`)).toBe('gauge');
    for (const name of OMITTED_DEFAULT_METRICS) {
      expect(types.has(P + name), name).toBe(false);
      expect(types.has(name), name).toBe(false);
    }
    for (const [name, type] of types) {
      expect(name.startsWith(P), name).toBe(true);
      if (name.endsWith('_total')) expect(type, name).toBe('counter');
    }
  });

  it('never puts trace text, URLs or worker ids in labels', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    const trace = 'org.apache.kafka.connect.errors.ConnectException: jdbc:postgresql://db.internal:5432/shop?password=hunter2';
    m.observeSnapshot(snap('prod', [connector('orders', 'FAILED', ['FAILED'], trace)]), noClasses);
    const values = (await samples(m)).flatMap((s) => Object.values(s.labels));
    for (const v of values) {
      expect(v).not.toMatch(/postgresql|hunter2|w1:8083|Exception/);
    }
  });
});

describe('state gauges', () => {
  it('sets every state for connectors and tasks, zeros included, and replaces counts on each snapshot', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.observeSnapshot(
      snap('prod', [connector('a', 'RUNNING', ['RUNNING', 'FAILED']), connector('b', 'FAILED', ['FAILED', 'UNASSIGNED']), connector('c', 'PAUSED', [])]),
      noClasses,
    );
    let all = await samples(m);
    const byState = (name: string): Record<string, number> =>
      Object.fromEntries(find(all, P + name, { cluster: 'prod' }).map((s) => [s.labels.state, s.value]));
    expect(byState('connectors')).toEqual({ UNASSIGNED: 0, RUNNING: 1, PAUSED: 1, FAILED: 1, RESTARTING: 0, STOPPED: 0 });
    expect(byState('tasks')).toEqual({ UNASSIGNED: 1, RUNNING: 1, PAUSED: 0, FAILED: 2, RESTARTING: 0, STOPPED: 0 });
    expect(Object.keys(byState('tasks')).sort()).toEqual([...STATES].sort());

    m.observeSnapshot(snap('prod', [connector('a', 'RUNNING', ['RUNNING', 'RUNNING'])]), noClasses);
    all = await samples(m);
    expect(byState('connectors')).toEqual({ UNASSIGNED: 0, RUNNING: 1, PAUSED: 0, FAILED: 0, RESTARTING: 0, STOPPED: 0 });
    expect(byState('tasks')).toEqual({ UNASSIGNED: 0, RUNNING: 2, PAUSED: 0, FAILED: 0, RESTARTING: 0, STOPPED: 0 });
  });

  it('keeps clusters apart', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.observeSnapshot(snap('a', [connector('x', 'FAILED', [])]), noClasses);
    m.observeSnapshot(snap('b', [connector('x', 'RUNNING', [])]), noClasses);
    const all = await samples(m);
    expect(find(all, `${P}connectors`, { cluster: 'a', state: 'FAILED' })[0]?.value).toBe(1);
    expect(find(all, `${P}connectors`, { cluster: 'b', state: 'FAILED' })[0]?.value).toBe(0);
  });
});

describe('task_failed', () => {
  it('is 1 with the class of the trace while FAILED and removed on recovery', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', ['FAILED', 'FAILED', 'RUNNING'])]), new Map([['orders/1', 'config']]));
    let tf = find(await samples(m), `${P}task_failed`);
    expect(tf.map((s) => [s.labels.task, s.labels.class, s.value])).toEqual([
      ['0', 'unknown', 1],
      ['1', 'config', 1],
    ]);

    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', ['RUNNING', 'FAILED', 'RUNNING'])]), new Map([['orders/1', 'config']]));
    tf = find(await samples(m), `${P}task_failed`);
    expect(tf.map((s) => [s.labels.task, s.labels.class])).toEqual([['1', 'config']]);

    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', ['RUNNING', 'RUNNING', 'RUNNING'])]), noClasses);
    expect(find(await samples(m), `${P}task_failed`)).toEqual([]);
  });

  it('replaces the series when the failure class of a still-FAILED task changes', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', ['FAILED'])]), new Map([['orders/0', 'connection']]));
    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', ['FAILED'])]), new Map([['orders/0', 'serialization']]));
    const tf = find(await samples(m), `${P}task_failed`);
    expect(tf.map((s) => s.labels.class)).toEqual(['serialization']);
  });
});

describe('task_failed across polls', () => {
  it('a task FAILED poll after poll keeps one series at 1, and gets it back after its connector was forgotten', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    const classes = new Map<string, FailureClass>([['orders/0', 'connection']]);
    const failing = snap('prod', [connector('orders', 'RUNNING', ['FAILED']), connector('users', 'RUNNING', ['RUNNING'])]);
    for (let poll = 0; poll < 3; poll += 1) m.observeSnapshot(failing, classes);
    expect(find(await samples(m), `${P}task_failed`).map((s) => [s.labels.connector, s.labels.class, s.value])).toEqual([['orders', 'connection', 1]]);
    m.forgetConnector('prod', 'orders');
    expect(find(await samples(m), `${P}task_failed`)).toEqual([]);
    m.observeSnapshot(failing, classes);
    expect(find(await samples(m), `${P}task_failed`).map((s) => [s.labels.connector, s.value])).toEqual([['orders', 1]]);
    // Its connector counts as seen again: the cluster dropped from the config, its series go.
    m.forgetCluster('prod');
    expect(find(await samples(m), `${P}task_failed`)).toEqual([]);
  });
});

describe('per-connector series lifecycle', () => {
  function seeded(): WatchdogMetrics {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    for (const cluster of ['prod', 'stage']) {
      m.observeSnapshot(snap(cluster, [connector('orders', 'RUNNING', ['FAILED']), connector('users', 'RUNNING', ['FAILED'])]), noClasses);
      for (const c of ['orders', 'users']) {
        m.countRestart({ cluster, connector: c, target: 'connector', class: 'unknown', outcome: 'ok' });
        m.countRestart({ cluster, connector: c, target: 'task', class: 'connection', outcome: 'failed' });
        m.countEscalation(cluster, c, 'unknown');
      }
      m.countEscalation(cluster, '*', 'cluster-outage');
    }
    return m;
  }

  const perConnector = [`${P}restarts_total`, `${P}escalations_total`, `${P}task_failed`];

  it('removes every series of a connector that disappears from the snapshot, and only those', async () => {
    const m = seeded();
    m.observeSnapshot(snap('prod', [connector('users', 'RUNNING', ['FAILED'])]), noClasses);
    const all = await samples(m);
    for (const name of perConnector) {
      expect(find(all, name, { cluster: 'prod', connector: 'orders' }), name).toEqual([]);
      expect(find(all, name, { cluster: 'prod', connector: 'users' }).length, name).toBeGreaterThan(0);
      expect(find(all, name, { cluster: 'stage', connector: 'orders' }).length, name).toBeGreaterThan(0);
    }
    // Cluster-wide incidents are not a connector a snapshot could list.
    expect(find(all, `${P}escalations_total`, { cluster: 'prod', connector: '*' })).toHaveLength(1);
  });

  it('keeps the series of a connector listed as unreadable, and counts how many are', async () => {
    const m = seeded();
    // users recovers meanwhile: its task_failed goes, orders' stays.
    m.observeSnapshot({ ...snap('prod', [connector('users', 'RUNNING', ['RUNNING'])]), unreadable: [{ name: 'orders', problem: 'p' }] }, noClasses);
    let all = await samples(m);
    for (const name of perConnector) expect(find(all, name, { cluster: 'prod', connector: 'orders' }).length, name).toBeGreaterThan(0);
    expect(find(all, `${P}task_failed`, { cluster: 'prod', connector: 'users' })).toEqual([]);
    expect(find(all, `${P}connectors_unreadable`, { cluster: 'prod' })[0]?.value).toBe(1);
    expect(find(all, `${P}connectors`, { cluster: 'prod', state: 'RUNNING' })[0]?.value).toBe(1);
    m.observeSnapshot(snap('prod', [connector('users', 'RUNNING', ['FAILED'])]), noClasses);
    all = await samples(m);
    expect(find(all, `${P}connectors_unreadable`, { cluster: 'prod' })[0]?.value).toBe(0);
    expect(find(all, `${P}restarts_total`, { cluster: 'prod', connector: 'orders' })).toEqual([]);
  });

  it('counts again from zero when a deleted connector comes back', async () => {
    const m = seeded();
    m.observeSnapshot(snap('prod', []), noClasses);
    m.observeSnapshot(snap('prod', [connector('orders', 'RUNNING', [])]), noClasses);
    m.countRestart({ cluster: 'prod', connector: 'orders', target: 'connector', class: 'unknown', outcome: 'ok' });
    const r = find(await samples(m), `${P}restarts_total`, { cluster: 'prod', connector: 'orders' });
    expect(r.map((s) => s.value)).toEqual([1]);
  });

  it('forgetConnector removes the same series', async () => {
    const m = seeded();
    m.forgetConnector('prod', 'users');
    const all = await samples(m);
    for (const name of perConnector) {
      expect(find(all, name, { cluster: 'prod', connector: 'users' }), name).toEqual([]);
      expect(find(all, name, { cluster: 'prod', connector: 'orders' }).length, name).toBeGreaterThan(0);
    }
  });

  it('forgetCluster removes every series labelled with the cluster', async () => {
    const m = seeded();
    m.observePoll('prod', 'ok', 0.1);
    m.observePoll('stage', 'error', 0.1);
    m.setIncidentsOpen([incident('prod', 'orders', 'config')]);
    m.setCertificateExpiry('prod', 'worker', 1_800_000_000_000);
    m.observeOffsets('prod', [{ cluster: 'prod', connector: 'pg', digest: 'd', movedAt: 1 }]);
    m.countOffsetReads('prod', 1, 1);
    m.forgetCluster('prod');
    const all = await samples(m);
    expect(all.filter((s) => s.labels.cluster === 'prod')).toEqual([]);
    expect(all.filter((s) => s.labels.cluster === 'stage').length).toBeGreaterThan(20);
  });
});

describe('source_offsets_last_moved_timestamp_seconds', () => {
  it('follows the offsets remembered after each poll: moved, kept, and removed once no longer remembered', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    const moved = (connector: string, movedAt: number) => ({ cluster: 'prod', connector, digest: 'd', movedAt });
    const values = async () => find(await samples(m), `${P}source_offsets_last_moved_timestamp_seconds`).map((s) => [s.labels.cluster, s.labels.connector, s.value]);
    m.observeOffsets('prod', [moved('a', 10_000), moved('b', 20_000)]);
    m.observeOffsets('stage', [moved('a', 5_000)].map((x) => ({ ...x, cluster: 'stage' })));
    expect(await values()).toEqual([['prod', 'a', 10], ['prod', 'b', 20], ['stage', 'a', 5]]);
    m.observeOffsets('prod', [moved('a', 30_000)]);
    expect(await values()).toEqual([['prod', 'a', 30], ['stage', 'a', 5]]);
    m.observeOffsets('prod', []);
    expect(await values()).toEqual([['stage', 'a', 5]]);
  });
});

describe('incidents_open', () => {
  it('counts open incidents by cluster and class, ignores resolved ones, and zeroes stale label sets', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.setIncidentsOpen([
      incident('prod', 'a', 'serialization'),
      incident('prod', 'b', 'serialization'),
      incident('prod', '*', 'cluster-outage'),
      incident('stage', 'c', 'config', 123),
    ]);
    let io = find(await samples(m), `${P}incidents_open`);
    const value = (cluster: string, cls: string): number | undefined =>
      io.find((s) => s.labels.cluster === cluster && s.labels.class === cls)?.value;
    expect(value('prod', 'serialization')).toBe(2);
    expect(value('prod', 'cluster-outage')).toBe(1);
    expect(value('prod', 'config')).toBe(0);
    expect(value('stage', 'config')).toBe(0);
    // Every class of a known cluster is present.
    expect(io.filter((s) => s.labels.cluster === 'prod').map((s) => s.labels.class).sort()).toEqual([...INCIDENT_CLASSES].sort());

    m.setIncidentsOpen([incident('prod', 'a', 'serialization')]);
    io = find(await samples(m), `${P}incidents_open`);
    expect(value('prod', 'serialization')).toBe(1);
    expect(value('prod', 'cluster-outage')).toBe(0);

    m.setIncidentsOpen([]);
    io = find(await samples(m), `${P}incidents_open`);
    expect(io.every((s) => s.value === 0)).toBe(true);
    expect(io.length).toBe(2 * INCIDENT_CLASSES.length);
  });

  it('starts at 0 for clusters declared up front or seen in a snapshot', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false, clusters: ['prod'] });
    m.observeSnapshot(snap('stage', []), noClasses);
    const io = find(await samples(m), `${P}incidents_open`);
    expect(io).toHaveLength(2 * INCIDENT_CLASSES.length);
    expect(io.every((s) => s.value === 0)).toBe(true);
  });
});

describe('polls', () => {
  it('counts polls by outcome, tracks cluster_up and the last successful poll time', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false });
    m.observePoll('prod', 'ok', 0.03, 1_700_000_000_500);
    let all = await samples(m);
    expect(find(all, `${P}polls_total`, { cluster: 'prod' }).map((s) => [s.labels.outcome, s.value])).toEqual([
      ['ok', 1],
      ['error', 0],
    ]);
    expect(find(all, `${P}cluster_up`, { cluster: 'prod' })[0]?.value).toBe(1);
    expect(find(all, `${P}last_successful_poll_timestamp_seconds`, { cluster: 'prod' })[0]?.value).toBe(1_700_000_000.5);

    m.observePoll('prod', 'error', 7, 1_700_000_060_000);
    all = await samples(m);
    expect(find(all, `${P}polls_total`, { cluster: 'prod', outcome: 'error' })[0]?.value).toBe(1);
    expect(find(all, `${P}cluster_up`, { cluster: 'prod' })[0]?.value).toBe(0);
    // A failed poll does not move the last success.
    expect(find(all, `${P}last_successful_poll_timestamp_seconds`, { cluster: 'prod' })[0]?.value).toBe(1_700_000_000.5);

    const buckets = find(all, `${P}poll_duration_seconds_bucket`, { cluster: 'prod' });
    expect(buckets.map((b) => b.labels.le)).toEqual([...POLL_DURATION_BUCKETS.map(String), '+Inf']);
    expect(buckets.find((b) => b.labels.le === '0.05')?.value).toBe(1);
    expect(buckets.find((b) => b.labels.le === '10')?.value).toBe(2);
    expect(find(all, `${P}poll_duration_seconds_sum`, { cluster: 'prod' })[0]?.value).toBeCloseTo(7.03);
  });

  it('declares both poll outcomes of a configured cluster at 0 before its first poll', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false, clusters: ['prod'] });
    const all = await samples(m);
    expect(find(all, `${P}polls_total`, { cluster: 'prod' }).map((s) => s.value)).toEqual([0, 0]);
    // No success yet: no timestamp (a 0 would make every staleness alert fire).
    expect(find(all, `${P}last_successful_poll_timestamp_seconds`)).toEqual([]);
  });
});

describe('deliveries', () => {
  it('counts by sink and outcome, with every outcome of a seen sink present', async () => {
    const m = new WatchdogMetrics({ defaultMetrics: false, sinks: ['slack'] });
    m.countDelivery('pager', 'rejected');
    m.countDelivery('pager', 'rejected');
    const d = find(await samples(m), `${P}deliveries_total`);
    expect(d.map((s) => [s.labels.sink, s.labels.outcome, s.value])).toEqual([
      ['slack', 'ok', 0],
      ['slack', 'failed', 0],
      ['slack', 'rejected', 0],
      ['slack', 'expired', 0],
      ['slack', 'superseded', 0],
      ['pager', 'ok', 0],
      ['pager', 'failed', 0],
      ['pager', 'rejected', 2],
      ['pager', 'expired', 0],
      ['pager', 'superseded', 0],
    ]);
  });
});
