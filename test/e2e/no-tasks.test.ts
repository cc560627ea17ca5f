/**
 * Scenario 8 — a connector that makes no task by design: a MirrorMaker 2 MirrorSourceConnector whose
 * `topics` matches no topic. Its taskConfigs() returns no config while it knows no topic-partition to
 * mirror (Kafka's MirrorSourceConnector, checked in the 4.3.1 jar), so the real worker lists it RUNNING
 * with `"tasks":[]` for as long as that lasts. With heal.noTasksAfter set, the watchdog must page
 * `no-tasks` once and send nothing to Connect (a restart would make no task either); once a matching topic
 * appears, the connector asks for a task by itself and the page resolves as `has-tasks`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { M, RUN_ID, createConnector, deleteConnector, killAllDaemons, startDaemon, status, waitForTask } from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver, type WebhookPayload } from './receiver.js';
import { CONNECT_URL, KAFKA_BOOTSTRAP, connect, produce, waitFor } from './stack.js';

const NAME = `e2e-notasks-${RUN_ID}`;
/** The topics it mirrors: none exists until the test writes one. */
const TOPICS = `e2e-notasks-${RUN_ID}-.*`;
const NO_TASKS_AFTER_MS = 5_000;
const MIRROR_SOURCE = 'org.apache.kafka.connect.mirror.MirrorSourceConnector';

let receiver: Receiver;
let proxy: ConnectProxy;

beforeAll(async () => {
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  await deleteConnector(NAME).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
});

describe('a connector that makes no task by design', () => {
  it('reads RUNNING with no task: paged no-tasks once, nothing sent to Connect, resolved has-tasks once it makes one', async (ctx) => {
    // A stack built with CONNECT_MIRROR_VERSION=none (Kafka 4.4.0: no connect-mirror on Maven Central) has no such connector.
    const plugins = await connect<{ class: string }[]>('GET', '/connector-plugins');
    if (!plugins.body.some((p) => p.class === MIRROR_SOURCE)) ctx.skip(`${MIRROR_SOURCE} is not on the worker (CONNECT_MIRROR_VERSION=none)`);
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url, overrides: { heal: { noTasksAfter: NO_TASKS_AFTER_MS } } });
    // Source and target are the stack's one cluster. No topic matches yet; it looks again every second.
    const createdAt = Date.now();
    await createConnector(NAME, {
      'connector.class': MIRROR_SOURCE,
      'tasks.max': '1',
      'source.cluster.alias': 'src',
      'target.cluster.alias': 'dst',
      'source.cluster.bootstrap.servers': KAFKA_BOOTSTRAP,
      'target.cluster.bootstrap.servers': KAFKA_BOOTSTRAP,
      topics: TOPICS,
      'refresh.topics.interval.seconds': '1',
      'sync.topic.acls.enabled': 'false',
      'sync.topic.configs.enabled': 'false',
      'offset-syncs.topic.replication.factor': '1',
    });
    const running = await waitFor(async () => ((await status(NAME))?.connector.state === 'RUNNING' ? status(NAME) : undefined), { what: `${NAME} RUNNING` });
    expect(running!.tasks).toEqual([]);

    const states = new Set<string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const s = await status(NAME);
        if (s !== undefined) states.add(`${s.connector.state}/${s.tasks.length}`);
        await sleep(250);
      }
    })();
    let page: WebhookPayload;
    let pagedAfter: number;
    try {
      page = await receiver.waitFor((p) => p.connector === NAME && p.event === 'trigger', NO_TASKS_AFTER_MS + 30_000, 'the no-tasks page');
      pagedAfter = Date.now() - createdAt;
      // Polls after the page: it is sent once, and nothing is ever asked of Connect.
      await daemon.polls(4);
    } finally {
      watching = false;
      await watch;
    }
    console.log(`[e2e no-tasks] states seen: ${[...states].join(' ')}; paged ${pagedAfter} ms after the create (heal.noTasksAfter ${NO_TASKS_AFTER_MS} ms)`);
    expect([...states]).toEqual(['RUNNING/0']);
    expect(page).toMatchObject({ class: 'no-tasks', severity: 'error', task: null, rootCause: '', traceExcerpt: '', attempts: 0, key: `e2e/${NAME}/connector/no-tasks` });
    expect(page.reason).toMatch(/^RUNNING with no task for \d+ s \(heal\.noTasksAfter 5 s\): its task configs were never written\. /);
    expect(pagedAfter).toBeGreaterThanOrEqual(NO_TASKS_AFTER_MS);
    const during = await daemon.metrics();
    expect(during.sum(M.restarts, { connector: NAME })).toBe(0);
    expect(during.sum(M.escalations, { connector: NAME, class: 'no-tasks' })).toBe(1);
    expect(during.sum(M.incidentsOpen, { class: 'no-tasks' })).toBe(1);
    expect(receiver.about(NAME)).toHaveLength(1);
    expect(proxy.writes()).toEqual([]);

    // A topic it matches: the connector finds it at its next refresh and asks for a task (no restart from anyone).
    await produce(`e2e-notasks-${RUN_ID}-a`, ['x']);
    await waitForTask(NAME, 'RUNNING', { timeoutMs: 30_000 });
    const resolved = await receiver.waitFor((p) => p.connector === NAME && p.event === 'resolve', 15_000, 'the resolve');
    expect(resolved.key).toBe(page.key);
    expect((resolved as WebhookPayload & { resolution?: string }).resolution).toBe('has-tasks');
    expect((await daemon.metrics()).sum(M.incidentsOpen, { class: 'no-tasks' })).toBe(0);
    expect(proxy.writes()).toEqual([]);
    expect(receiver.about(NAME).map((p) => p.event)).toEqual(['trigger', 'resolve']);
    expect(daemon.stderr()).toBe(
      `connect-watchdog: warning: heal.noTasksAfter: ${NO_TASKS_AFTER_MS} ms is below 60000 ms: a new or resumed connector whose first task configs take longer is paged as no-tasks (durations are milliseconds)\n`,
    );
    expect(await daemon.stop()).toBe(0);
  });
});
