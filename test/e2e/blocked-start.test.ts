/**
 * Scenario 9 — a connector whose start() blocks, then throws: the suite's own test connector
 * (blocker.ts: start() waits while a flag file exists, throws once another one does), on the real worker.
 *
 * (a) Created while its start() blocks, Connect has no status for it at all (404, left out of
 *     `?expand=status`): the watchdog, told of it by the info read, pages `no status` after
 *     heal.unassignedAfter. Made to throw, it reads FAILED, and its failure page (heal.actions.unknown
 *     escalate) replaces the no-status page: one `trigger` under the same key with an id ending `#update`,
 *     the failure's rootCause, and a reason ending `it was paged before: <the no-status reason>`.
 * (b) A person's KIP-745 restart of a RUNNING connector whose start() then blocks: RESTARTING for as long as
 *     it blocks, paged after heal.unassignedAfter, replaced the same way once it throws.
 * Each ends with a DELETE, which resolves the page (`deleted`). With escalate, the watchdog sends Connect
 * nothing but GETs throughout (checked on the wire, at its proxy). docs/real-stack.md has the hand-run
 * checks these automate.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKER_CLASS, BLOCKER_FAILURE, Flags, blockerConfig } from './blocker.js';
import { M, RUN_ID, createConnector, deleteConnector, killAllDaemons, startDaemon, status, tempDir, waitForTask, type DaemonHandle } from './daemon.js';
import { startConnectProxy, startReceiver, type ConnectProxy, type Receiver, type WebhookPayload } from './receiver.js';
import { CONNECT_URL, connect, waitFor } from './stack.js';

const CREATED = `e2e-blockcreate-${RUN_ID}`;
const RESTARTED = `e2e-blockrestart-${RUN_ID}`;
const UNASSIGNED_AFTER_MS = 5_000;
/** Short, so that the connector with no status is reported within a few seconds of its creation. */
const INFO_REFRESH_MS = 2_000;
const OVERRIDES = { infoRefresh: INFO_REFRESH_MS, heal: { unassignedAfter: UNASSIGNED_AFTER_MS, actions: { unknown: 'escalate' } } };

let receiver: Receiver;
let proxy: ConnectProxy;
const flags: Flags[] = [];

function newFlags(): Flags {
  const f = new Flags(tempDir('cw-flags-'));
  flags.push(f);
  return f;
}

beforeAll(async () => {
  const plugins = await connect<{ class: string }[]>('GET', '/connector-plugins');
  if (!plugins.body.some((p) => p.class === BLOCKER_CLASS)) {
    throw new Error(`${BLOCKER_CLASS} is not on the worker: global-setup.ts compiles it and stack.sh up puts it on plugin.path (EXTRA_PLUGIN_PATH)`);
  }
  receiver = await startReceiver();
  proxy = await startConnectProxy(CONNECT_URL);
});

afterEach(() => killAllDaemons());

afterAll(async () => {
  // A start() still waiting holds a worker thread until its flag goes, deleted or not.
  for (const f of flags) f.clearAll();
  await deleteConnector(CREATED).catch(() => undefined);
  await deleteConnector(RESTARTED).catch(() => undefined);
  await proxy?.close();
  await receiver?.close();
});

const triggers = (name: string) => receiver.about(name).filter((p) => p.event === 'trigger');
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * From a condition page open for `name` on: make start() throw, check the one update that replaces the page,
 * then DELETE and check the resolve; and that the watchdog asked Connect for nothing but GETs.
 */
async function failThenDelete(daemon: DaemonHandle, name: string, f: Flags, page: WebhookPayload, pagedAfter: number): Promise<void> {
  f.set('connector.fail');
  f.clear('connector.block');
  const failedAt = Date.now();
  const failed = await waitFor(async () => ((await status(name))?.connector.state === 'FAILED' ? status(name) : undefined), { timeoutMs: 30_000, what: `${name} FAILED` });
  expect(failed!.connector.trace).toContain(BLOCKER_FAILURE);
  const update = await receiver.waitFor((p) => p.connector === name && p.event === 'trigger' && p.id.endsWith('#update'), 30_000, 'the update');
  const updatedAfter = Date.now() - failedAt;
  // Polls after it: replaced once, not again.
  await daemon.polls(3);
  expect(triggers(name)).toEqual([page, update]);
  expect(update).toMatchObject({ key: page.key, class: 'unknown', severity: 'error', task: null, rootCause: BLOCKER_FAILURE, attempts: 0 });
  expect(update.id).toMatch(new RegExp(`^${escapeRe(page.key)}#\\d+#update$`));
  expect(update.reason).toMatch(/^heal\.actions\.unknown is escalate: /);
  expect(update.reason.endsWith(`; it was paged before: ${page.reason}`)).toBe(true);
  expect(update.traceExcerpt).toContain('BlockerConnector.start');
  expect(update.workerId).not.toBe('');
  const m = await daemon.metrics();
  expect(m.sum(M.escalations, { connector: name, class: 'unknown' })).toBe(1); // the update is no new page
  // restarts wanted are counted `skipped` (escalate-only); none made or tried
  expect(m.series(M.restarts, { connector: name }).filter((x) => x.labels['outcome'] !== 'skipped' && x.value > 0)).toEqual([]);

  await deleteConnector(name);
  const deletedAt = Date.now();
  const resolved = await receiver.waitFor((p) => p.connector === name && p.event === 'resolve', 30_000, 'the resolve');
  const resolvedAfter = Date.now() - deletedAt;
  expect(resolved.key).toBe(page.key);
  expect((resolved as WebhookPayload & { resolution?: string }).resolution).toBe('deleted');
  expect(receiver.about(name).map((p) => p.event)).toEqual(['trigger', 'trigger', 'resolve']);
  // escalate: no restart, nor anything else but GETs, ever reached Connect from the watchdog
  expect(proxy.writes()).toEqual([]);
  expect(daemon.stderr()).toMatch(/^connect-watchdog: warning: heal\.unassignedAfter: 5000 ms is below [^\n]*\n$/);
  expect(await daemon.stop()).toBe(0);
  console.log(
    `[e2e blocked-start] ${name}: paged ${page.reason.split(':')[0]} ${(pagedAfter / 1000).toFixed(1)} s after the block began` +
      `; update ${(updatedAfter / 1000).toFixed(1)} s after the fail flag; resolve ${(resolvedAfter / 1000).toFixed(1)} s after the DELETE`,
  );
}

describe('a connector whose start() blocks, then throws', () => {
  it('created while start() blocks: no status, paged; its failure replaces the page (#update); DELETE resolves; no restart sent', async () => {
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url, overrides: OVERRIDES });
    const f = newFlags();
    f.set('connector.block');
    const t0 = Date.now();
    await createConnector(CREATED, blockerConfig(f.dir));
    // Connect writes a connector's first status only once its start() returns.
    expect((await connect('GET', `/connectors/${CREATED}/status`)).status).toBe(404);

    const page = await receiver.waitFor((p) => p.connector === CREATED && p.event === 'trigger', INFO_REFRESH_MS + UNASSIGNED_AFTER_MS + 40_000, 'the no-status page');
    expect(page).toMatchObject({ key: `e2e/${CREATED}/connector/unknown`, class: 'unknown', severity: 'error', task: null, rootCause: '', traceExcerpt: '', workerId: '' });
    expect(page.id).toMatch(/#trigger$/);
    expect(page.reason).toMatch(/^no status for \d+ s \(heal\.unassignedAfter 5 s\): /);
    const pagedAfter = Date.now() - t0;
    expect(pagedAfter).toBeGreaterThanOrEqual(UNASSIGNED_AFTER_MS);
    expect(await status(CREATED)).toBeUndefined(); // still blocked, still no status
    expect(proxy.writes()).toEqual([]);

    await failThenDelete(daemon, CREATED, f, page, pagedAfter);
  });

  it('a KIP-745 restart whose start() then blocks: RESTARTING, paged; its failure replaces the page (#update); DELETE resolves; no restart sent', async () => {
    const daemon = await startDaemon({ connectUrl: proxy.url, webhookUrl: receiver.url, overrides: OVERRIDES });
    const f = newFlags();
    await createConnector(RESTARTED, blockerConfig(f.dir));
    await waitForTask(RESTARTED, 'RUNNING');
    await daemon.polls(1);

    // A person restarts it (directly, not through the watchdog's proxy); this time its start() blocks.
    f.set('connector.block');
    const t0 = Date.now();
    const r = await connect('POST', `/connectors/${RESTARTED}/restart?includeTasks=true`);
    expect(r.status).toBe(202);
    await waitFor(async () => (await status(RESTARTED))?.connector.state === 'RESTARTING', { timeoutMs: 10_000, what: `${RESTARTED} RESTARTING` });

    const page = await receiver.waitFor((p) => p.connector === RESTARTED && p.event === 'trigger', UNASSIGNED_AFTER_MS + 40_000, 'the RESTARTING page');
    expect(page).toMatchObject({ key: `e2e/${RESTARTED}/connector/unknown`, class: 'unknown', severity: 'error', task: null, rootCause: '', traceExcerpt: '' });
    expect(page.id).toMatch(/#trigger$/);
    expect(page.reason).toMatch(/^RESTARTING for \d+ s \(heal\.unassignedAfter 5 s\): /);
    const pagedAfter = Date.now() - t0;
    expect(pagedAfter).toBeGreaterThanOrEqual(UNASSIGNED_AFTER_MS);
    expect((await status(RESTARTED))?.connector.state).toBe('RESTARTING'); // still blocked
    expect(proxy.writes()).toEqual([]);

    await failThenDelete(daemon, RESTARTED, f, page, pagedAfter);
  });
});
