/**
 * ClusterLoop with a stand-in client that hands back the same connectors array while "the worker's
 * listing" does not change, as ConnectClient does: the work that depends on the listing alone is done
 * once per listing, and a change shows at once.
 */
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { ConnectClient, clientOptions } from '../../src/connect/client.js';
import type { ClusterSnapshot, ConnectorSnapshot, UnreadableConnector, WorkerHealth } from '../../src/connect/types.js';
import { loadConfig } from '../../src/config/load.js';
import { ClusterLoop } from '../../src/daemon/cluster-loop.js';
import type { EscalationEvent } from '../../src/escalate/types.js';
import type { Classifier } from '../../src/classify/types.js';
import { EMPTY_HEAL_STATE, type HealState } from '../../src/heal/types.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { WatchdogMetrics } from '../../src/metrics/metrics.js';
import { stubClassifier, TRACES, W1 } from '../heal/helpers.js';
import { FakeConnect } from '../helpers/fake-connect.js';

function listing(taskState: 'RUNNING' | 'FAILED', trace: string = TRACES.serialization): readonly ConnectorSnapshot[] {
  return [
    { name: 'sink', type: 'sink', state: 'RUNNING', workerId: W1, tasks: [{ id: 0, state: taskState, workerId: W1, ...(taskState === 'FAILED' && { trace }) }] },
    { name: 'quiet', type: 'source', state: 'RUNNING', workerId: W1, tasks: [{ id: 0, state: 'RUNNING', workerId: W1 }] },
  ];
}

async function gauge(metrics: WatchdogMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

function loopOver(
  connectors: () => readonly ConnectorSnapshot[],
  onState: (routine: boolean) => void = () => {},
  {
    dryRun = true,
    escalate = () => {},
    classify = stubClassifier(),
    logger = silentLogger(),
    unreadable = () => [],
    env = {},
    health = async () => ({ status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' }),
    state = EMPTY_HEAL_STATE,
    probe,
  }: {
    dryRun?: boolean;
    escalate?: (events: readonly EscalationEvent[]) => void;
    classify?: Classifier;
    logger?: Logger;
    unreadable?: () => readonly UnreadableConnector[];
    env?: Record<string, string>;
    health?: () => Promise<WorkerHealth | undefined>;
    state?: HealState;
    probe?: ConstructorParameters<typeof ClusterLoop>[0]['probe'];
  } = {},
) {
  const config = loadConfig({ env: { CONNECT_URL: 'http://127.0.0.1:1', ...env }, overrides: { dryRun } });
  const cluster = config.clusters[0]!;
  let clock = Date.parse('2026-11-25T10:00:00Z');
  const client = {
    snapshot: async (): Promise<ClusterSnapshot> => ({ cluster: cluster.name, at: clock, connectors: connectors(), ...(unreadable().length > 0 && { unreadable: unreadable() }) }),
    health,
  } as unknown as ConnectClient;
  const metrics = new WatchdogMetrics({ defaultMetrics: false, clusters: [cluster.name] });
  const loop = new ClusterLoop(
    {
      cluster,
      config,
      client,
      classify,
      metrics,
      logger,
      now: () => clock,
      random: () => 0.5,
      escalate,
      onState: (_state, routine) => onState(routine),
      ...(probe !== undefined && { probe }),
    },
    state,
  );
  return { loop, metrics, advance: (ms: number) => (clock += ms) };
}

describe('ClusterLoop probing a dependency', () => {
  it('gives up the probe of a database that drops SYNs when the poll\'s deadline passes (run --once within 30 s, SIGTERM within shutdownTimeout)', async () => {
    const failing = listing('FAILED', TRACES.connection).map((c) => (c.name === 'sink' ? { ...c, endpoint: { host: '127.0.0.1', port: 15432 } } : c));
    let probes = 0;
    // A firewalled database: the TCP connect is never answered; heal.probe.timeout may be long.
    const probe = (_e: unknown, _timeoutMs: number, signal?: AbortSignal) => {
      probes++;
      return new Promise<boolean>((resolve) => signal?.addEventListener('abort', () => resolve(false), { once: true }));
    };
    const { loop } = loopOver(() => failing, undefined, { probe, env: { CONNECT_WATCHDOG_HEAL_PROBE_TIMEOUT: '600000' } });
    const started = performance.now();
    const settled = await Promise.race([loop.poll(AbortSignal.timeout(200)).then(() => 'done'), new Promise((r) => setTimeout(() => r('hung'), 3_000))]);
    expect(probes).toBe(1);
    expect(settled).toBe('done');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('ClusterLoop reading the worker health (heal.health)', () => {
  const UNHEALTHY: WorkerHealth = { status: 'unhealthy', message: 'Worker was unable to handle this request and may be unable to handle other requests. The worker is currently ensuring membership in the cluster, which began at 2026-11-25T10:00:00.000Z.' };

  it('makes no poll but the first wait for the answer (the worker holds it 10 s): the next poll judges it; pages after heal.health.after, resolves when healthy', async () => {
    const lines: { level: number; msg: string; health?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const events: EscalationEvent[] = [];
    let answer: WorkerHealth = UNHEALTHY;
    let release: () => void = () => {};
    let reads = 0;
    // Each answer comes only when the test releases it.
    const health = () => {
      reads++;
      return new Promise<WorkerHealth>((resolve) => (release = () => resolve(answer)));
    };
    const { loop, metrics, advance } = loopOver(() => listing('RUNNING'), undefined, { logger, health, escalate: (e) => events.push(...e), dryRun: false });
    // The first poll waits for it (see the next test) and judges it.
    const first = loop.poll();
    await vi.waitFor(() => expect(reads).toBe(1));
    release();
    expect((await first).ok).toBe(true);
    expect(await gauge(metrics, 'connect_watchdog_worker_healthy', { cluster: 'default' })).toBe(0);
    // A later poll is answered while its read still waits.
    advance(10_000);
    expect((await loop.poll()).ok).toBe(true);
    expect(reads).toBe(2);
    release();
    await loop.healthReadSettled();
    expect(lines.map((l) => [l.msg, l.health])).toEqual([['the worker says it is not healthy: its connectors and tasks may be stopped while they read RUNNING', 'unhealthy']]);
    /** Polls every 10 s, each read answered at once. */
    const pollEvery10s = async (polls: number) => {
      for (let poll = 1; poll <= polls; poll++) {
        advance(10_000);
        await loop.poll();
        release();
        await loop.healthReadSettled();
      }
    };
    // While the worker says it is not healthy it is read at every poll (restarts wait for its first healthy
    // answer), not every heal.health.checkInterval (1 min).
    await pollEvery10s(30);
    expect(reads).toBe(32);
    expect(events.map((e) => [e.event, e.incident.class, e.incident.severity, e.incident.connector])).toEqual([['trigger', 'worker-unhealthy', 'critical', '*']]);
    expect(events[0]!.incident.rootCause).toBe(UNHEALTHY.message);
    expect(events[0]!.incident.workerId).toBe('127.0.0.1:1');
    answer = { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' };
    advance(60_000);
    await loop.poll(); // starts the read
    release();
    await loop.healthReadSettled();
    advance(10_000);
    await loop.poll(); // judges it
    expect(events.map((e) => [e.event, e.resolution])).toEqual([['trigger', undefined], ['resolve', 'healthy']]);
    expect(await gauge(metrics, 'connect_watchdog_worker_healthy', { cluster: 'default' })).toBe(1);
    const said = lines.map((l) => l.msg).filter((m) => m.startsWith('the worker'));
    expect(said).toEqual(['the worker says it is not healthy: its connectors and tasks may be stopped while they read RUNNING', 'the worker is healthy again']);
    // Healthy: back to a read every checkInterval.
    reads = 0;
    await pollEvery10s(12);
    expect(reads).toBe(2);
  });

  it("waits for the answer at a process's first poll: no restart goes to a worker that says it is not healthy (started during a broker outage)", async () => {
    const first = async (answer: WorkerHealth) => {
      const { loop } = loopOver(() => listing('FAILED', TRACES.connection), undefined, { health: async () => answer, dryRun: false });
      return (await loop.poll()).actions.map((a) => (a.kind === 'skip' ? `skip ${a.reason}` : a.kind));
    };
    expect(await first(UNHEALTHY)).toEqual(['skip worker-unhealthy']);
    expect(await first({ status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' })).toEqual(['restart-task']);
  });

  it('withholds and pages nothing on an unhealthy answer remembered from an earlier run once heal.health is off (checkInterval 0)', async () => {
    const remembered: HealState = { ...EMPTY_HEAL_STATE, health: { default: { cluster: 'default', ...UNHEALTHY, since: Date.parse('2026-11-25T09:00:00Z') } } };
    const first = async (env: Record<string, string>) => {
      const { loop } = loopOver(() => listing('FAILED', TRACES.connection), undefined, { health: async () => UNHEALTHY, dryRun: false, state: remembered, env });
      return (await loop.poll()).actions.map((a) => (a.kind === 'skip' ? `skip ${a.reason}` : a.kind));
    };
    expect(await first({ CONNECT_WATCHDOG_HEAL_HEALTH_CHECK_INTERVAL: '0' })).toEqual(['restart-task']);
    // On, the worker still says so: withheld, and paged (unhealthy for an hour by then).
    expect(await first({})).toEqual(['skip worker-unhealthy', 'escalate']);
  });

  it('asks a worker without GET /health (before 3.9) no more, says so once, and shows no gauge; reads nothing with checkInterval 0', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    let reads = 0;
    const health = async () => {
      reads++;
      return undefined;
    };
    const old = loopOver(() => listing('RUNNING'), undefined, { logger, health });
    for (let poll = 0; poll < 20; poll++, old.advance(10_000)) {
      await old.loop.poll();
      await old.loop.healthReadSettled();
    }
    expect(reads).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(['this worker has no GET /health (Kafka Connect 3.9 or later): heal.health cannot watch it']);
    expect(await gauge(old.metrics, 'connect_watchdog_worker_healthy', { cluster: 'default' })).toBeUndefined();
    reads = 0;
    const off = loopOver(() => listing('RUNNING'), undefined, { health, env: { CONNECT_WATCHDOG_HEAL_HEALTH_CHECK_INTERVAL: '0' } });
    for (let poll = 0; poll < 10; poll++, off.advance(60_000)) await off.loop.poll();
    expect(reads).toBe(0);
  });
});

describe('ClusterLoop state saves', () => {
  it('are routine (written at most every 30 s) unless the poll paged or resolved something', async () => {
    const routine: boolean[] = [];
    let connectors = listing('FAILED', TRACES.connection);
    const { loop, advance } = loopOver(() => connectors, (r) => routine.push(r));
    await loop.poll(); // a restart
    advance(10_000);
    connectors = listing('FAILED', TRACES.serialization);
    await loop.poll(); // a page
    advance(10_000);
    await loop.poll(); // nothing new
    expect(routine).toEqual([true, false, true]);
  });
});

describe('ClusterLoop with connectors whose status cannot be read', () => {
  it('logs each change of the unreadable set once, not every poll, and the day they all read again', async () => {
    const lines: { level: number; msg: string; unreadable?: unknown; connectors?: unknown }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    let unreadable: readonly UnreadableConnector[] = [];
    let connectors = listing('RUNNING');
    const { loop, metrics, advance } = loopOver(() => connectors, undefined, { logger, unreadable: () => unreadable });
    await loop.poll();
    const problem = 'connectors["x"].status.connector.state: unknown state "DRAINING" (expected one of …)';
    unreadable = [{ name: 'x', problem }];
    for (let i = 0; i < 3; i++) {
      connectors = [...listing('RUNNING')]; // a changed listing each poll
      advance(10_000);
      await loop.poll();
    }
    expect(await gauge(metrics, 'connect_watchdog_connectors_unreadable', { cluster: 'default' })).toBe(1);
    unreadable = [];
    connectors = [...listing('RUNNING'), { name: 'x', type: 'sink', state: 'RUNNING', workerId: W1, tasks: [] }];
    advance(10_000);
    await loop.poll();
    expect(lines.map((l) => [l.level, l.msg, l.unreadable ?? l.connectors])).toEqual([
      [40, 'cannot read the status of some connectors: nothing is decided about them until it reads again', [{ connector: 'x', problem }]],
      [30, 'the status of these connectors reads again', ['x']],
    ]);
    expect(await gauge(metrics, 'connect_watchdog_connectors_unreadable', { cluster: 'default' })).toBe(0);
  });
});

describe('ClusterLoop with connectors without a status', () => {
  it('logs and counts a change of the unreadable set on a listing that did not change (the same connectors array)', async () => {
    const lines: { level: number; msg: string; unreadable?: unknown }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const connectors = listing('RUNNING');
    const none: readonly UnreadableConnector[] = [];
    let unreadable = none;
    const { loop, metrics, advance } = loopOver(() => connectors, undefined, { logger, unreadable: () => unreadable });
    await loop.poll();
    // As ConnectClient does: the same arrays while nothing changes, a new unreadable one when it does.
    const found: readonly UnreadableConnector[] = [{ name: 'blocked', problem: 'no status: …' }];
    unreadable = found;
    for (let i = 0; i < 3; i++) {
      advance(10_000);
      await loop.poll();
    }
    expect(await gauge(metrics, 'connect_watchdog_connectors_unreadable', { cluster: 'default' })).toBe(1);
    unreadable = none;
    advance(10_000);
    await loop.poll();
    expect(await gauge(metrics, 'connect_watchdog_connectors_unreadable', { cluster: 'default' })).toBe(0);
    // deleted while it had no status: it never reached the listing, and is not said to read again
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'cannot read the status of some connectors: nothing is decided about them until it reads again'],
      [30, 'connectors whose status could not be read are no longer listed: deleted'],
    ]);
  });

  it('tells the ones that read again from the ones deleted, when both leave the set at once', async () => {
    const lines: { msg: string; connectors?: unknown }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    let connectors = listing('RUNNING');
    let unreadable: readonly UnreadableConnector[] = [{ name: 'started', problem: 'no status: …' }, { name: 'dropped', problem: 'no status: …' }];
    const { loop, advance } = loopOver(() => connectors, undefined, { logger, unreadable: () => unreadable });
    await loop.poll();
    unreadable = [];
    connectors = [...listing('RUNNING'), { name: 'started', type: 'source', state: 'RUNNING', workerId: W1, tasks: [] }];
    advance(10_000);
    await loop.poll();
    expect(lines.slice(1).map((l) => [l.msg, l.connectors])).toEqual([
      ['the status of these connectors reads again', ['started']],
      ['connectors whose status could not be read are no longer listed: deleted', ['dropped']],
    ]);
  });
});

describe('ClusterLoop that hits a bug', () => {
  it('counts a failed poll and goes on, rather than rejecting (the daemon died on an unhandled rejection)', async () => {
    let broken = true;
    const classify: Classifier = (trace) => {
      if (broken) throw new TypeError('a bug');
      return stubClassifier()(trace);
    };
    const { loop, metrics, advance } = loopOver(() => listing('FAILED'), undefined, { classify });
    await expect(loop.poll()).resolves.toEqual({ ok: false, actions: [] });
    expect(await gauge(metrics, 'connect_watchdog_polls_total', { outcome: 'error' })).toBe(1);
    broken = false;
    advance(10_000);
    expect((await loop.poll()).ok).toBe(true);
  });
});

describe('ClusterLoop escalations', () => {
  it("hands a poll's pages to the outbox in one call, so that they are persisted together", async () => {
    const calls: string[][] = [];
    const both = listing('FAILED').map((c) => ({ ...c, tasks: c.tasks.map((t) => ({ ...t, state: 'FAILED' as const, trace: TRACES.serialization })) }));
    const { loop } = loopOver(() => both, undefined, { dryRun: false, escalate: (events) => calls.push(events.map((e) => `${e.event} ${e.incident.key}`)) });
    await loop.poll();
    expect(calls).toEqual([['trigger default/sink/0/serialization', 'trigger default/quiet/0/serialization']]);
  });
});

describe('ClusterLoop with an unchanged listing', () => {
  it('observes a listing into the metrics once, and a changed one at once', async () => {
    let connectors = listing('FAILED');
    const { loop, metrics, advance } = loopOver(() => connectors);
    const observe = vi.spyOn(metrics, 'observeSnapshot');
    const escalations = [];
    for (let i = 0; i < 3; i++) {
      const r = await loop.poll();
      expect(r.ok).toBe(true);
      escalations.push(...r.actions.filter((a) => a.kind === 'escalate'));
      advance(10_000);
    }
    expect(observe).toHaveBeenCalledTimes(1);
    expect(escalations).toHaveLength(1);
    expect(await gauge(metrics, 'connect_watchdog_tasks', { state: 'FAILED' })).toBe(1);
    expect(await gauge(metrics, 'connect_watchdog_task_failed', { connector: 'sink', class: 'serialization' })).toBe(1);

    connectors = listing('RUNNING');
    await loop.poll();
    expect(observe).toHaveBeenCalledTimes(2);
    expect(await gauge(metrics, 'connect_watchdog_tasks', { state: 'FAILED' })).toBe(0);
    expect(await gauge(metrics, 'connect_watchdog_tasks', { state: 'RUNNING' })).toBe(2);
    expect(await gauge(metrics, 'connect_watchdog_task_failed', { connector: 'sink' })).toBeUndefined();
  });
});

describe('ClusterLoop of a sidecar', () => {
  const sidecar = (workerId: string) => {
    const lines: { level: number; msg: string; workerId?: string; seen?: string[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const { loop, advance } = loopOver(() => listing('FAILED', TRACES.connection), undefined, {
      env: { CONNECT_WATCHDOG_OWNERSHIP_MODE: 'worker', CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID: workerId },
      logger,
    });
    return { loop, advance, warnings: () => lines.filter((l) => l.level === 40) };
  };

  it('warns, once, when its worker id is no worker_id Connect reports (a DNS name for an IP): it would restart nothing, silently', async () => {
    const { loop, advance, warnings } = sidecar('connect-0.connect.kafka.svc:8083');
    for (let i = 0; i < 3; i++) {
      const { actions } = await loop.poll();
      expect(actions.map((a) => a.kind)).toEqual(i === 0 ? ['skip'] : []); // not-owner
      advance(10_000);
    }
    expect(warnings()).toEqual([expect.objectContaining({ workerId: 'connect-0.connect.kafka.svc:8083', seen: [W1] })]);
    expect(warnings()[0]!.msg).toMatch(/ownership\.workerId/);
  });

  it('says nothing when its worker runs something', async () => {
    const { loop, warnings } = sidecar(W1);
    const { actions } = await loop.poll();
    expect(actions.map((a) => a.kind)).toEqual(['restart-task']);
    expect(warnings()).toEqual([]);
  });
});

describe('ClusterLoop confirming a restart', () => {
  it('does not log a restart read back RESTARTING as confirmed (a start() that blocks reads RESTARTING for good)', async () => {
    const lines: { msg: string; connector?: string; state?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const config = loadConfig({ env: { CONNECT_URL: 'http://127.0.0.1:1', CONNECT_WATCHDOG_HEAL_CONFIRM_DELAY: '0' } });
    const cluster = config.clusters[0]!;
    const failed: ConnectorSnapshot = { name: 'jdbc', type: 'source', state: 'FAILED', workerId: W1, tasks: [], trace: TRACES.connection };
    // Kafka 4.3.1: test/fixtures/connect/real-life-status-connector-stuck-restarting-start-blocks-lab-source.json
    const restarting: ConnectorSnapshot = { name: 'jdbc', type: 'source', state: 'RESTARTING', workerId: W1, tasks: [] };
    const client = {
      snapshot: async (): Promise<ClusterSnapshot> => ({ cluster: cluster.name, at: 0, connectors: [failed] }),
      restartConnector: async () => ({ body: restarting }),
      status: async () => restarting,
      health: async () => ({ status: 'healthy', message: 'ok' }),
    } as unknown as ConnectClient;
    const loop = new ClusterLoop(
      {
        cluster,
        config,
        client,
        classify: stubClassifier(),
        metrics: new WatchdogMetrics({ defaultMetrics: false, clusters: [cluster.name] }),
        logger,
        now: () => Date.parse('2026-11-25T10:00:00Z'),
        random: () => 0.5,
        escalate: () => {},
        onState: () => {},
      },
      EMPTY_HEAL_STATE,
    );
    await loop.poll();
    expect(lines.map((l) => l.msg)).toContain('restart sent');
    expect(lines.filter((l) => l.connector === 'jdbc' && l.state === 'RESTARTING').map((l) => l.msg)).toEqual(['restart not yet effective']);
  });
});

describe('ClusterLoop against a cluster whose polls keep failing', () => {
  it('warns when polls start failing and when the error changes, then every 10 min with the count, and says when a poll succeeds again', async () => {
    const lines: { level: number; msg: string; err?: string; failedPolls?: number; failingForMs?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    let failure: Error | undefined;
    const { loop, metrics, advance } = loopOver(
      () => {
        if (failure !== undefined) throw failure;
        return listing('RUNNING');
      },
      undefined,
      { logger },
    );
    await loop.poll();
    failure = new Error('GET /connectors?expand=status on cluster default: HTTP 401: User cannot access the resource.');
    for (let i = 0; i < 90; i++) {
      // 15 min of 10 s polls with the same error
      await loop.poll();
      advance(10_000);
    }
    failure = new Error('GET /connectors?expand=status on cluster default: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8083');
    await loop.poll();
    advance(10_000);
    failure = undefined;
    await loop.poll();
    expect(lines.map((l) => [l.msg, l.err?.replace(/^.*: (HTTP 401|ECONNREFUSED).*$/, '$1'), l.failedPolls, l.failingForMs])).toEqual([
      ['poll failed', 'HTTP 401', undefined, undefined],
      ['poll still failing', 'HTTP 401', 61, 600_000],
      ['poll failed', 'ECONNREFUSED', undefined, undefined],
      ['poll succeeds again', undefined, 91, 910_000],
    ]);
    const polls = /connect_watchdog_polls_total\{cluster="default",outcome="error"\} (\d+)/.exec(await metrics.metrics())?.[1];
    expect(polls).toBe('91'); // the metric counts every one
  });
});

describe('ClusterLoop against a worker that is still starting (heal.health)', () => {
  it('keeps watching the health after Jetty\'s HTML 404 (a starting 3.9+ worker): it is no worker without GET /health', async () => {
    const fake = await new FakeConnect().start();
    const config = loadConfig({ env: { CONNECT_URL: fake.url } });
    const client = new ConnectClient(config.clusters[0]!, clientOptions(config));
    try {
      fake.add('src', {});
      let starting = true;
      fake.interceptors.push((req, res) => {
        if (req.url !== '/health' || !starting) return false;
        starting = false;
        res.writeHead(404, { 'content-type': 'text/html;charset=iso-8859-1' }).end('<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>');
        return true;
      });
      let clock = Date.parse('2026-11-25T10:00:00Z');
      const metrics = new WatchdogMetrics({ defaultMetrics: false });
      const loop = new ClusterLoop(
        { cluster: config.clusters[0]!, config, client, classify: stubClassifier(), metrics, logger: silentLogger(), now: () => clock, random: () => 0.5, escalate: () => {}, onState: () => {} },
        EMPTY_HEAL_STATE,
      );
      expect((await loop.poll()).ok).toBe(true);
      fake.health = { code: 500, body: { status: 'unhealthy', message: 'The worker is currently ensuring membership in the cluster' } };
      for (let i = 0; i < 3; i++) {
        clock += 60_000;
        expect((await loop.poll()).ok).toBe(true);
        await loop.healthReadSettled();
      }
      expect(fake.requests.filter((r) => r.url === '/health').length).toBeGreaterThan(1);
      expect(await gauge(metrics, 'connect_watchdog_worker_healthy', { cluster: 'default' })).toBe(0);
    } finally {
      await client.close();
      await fake.stop();
    }
  });
});
