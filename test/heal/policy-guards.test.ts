import { describe, expect, it } from 'vitest';
import type { FailureClass } from '../../src/classify/types.js';
import type { State } from '../../src/connect/types.js';
import { isQuiet, observe } from '../../src/heal/observe.js';
import { endpointsToProbe, forgetCluster } from '../../src/heal/policy.js';
import { SUBJECT_SINCE_FIELDS, SUBJECT_TIME_FIELDS, type SubjectState } from '../../src/heal/types.js';
import { CLUSTER, connector, DEFAULTS, kinds, MINUTE, oneTask, PG, SECOND, Sim, snapshot, stubClassifier, T0, task, TRACES, W1, W2, withConfig } from './helpers.js';

const POLL = 10 * SECOND;

describe('subjects the watchdog must not touch', () => {
  it('a PAUSED connector with a FAILED task, and a STOPPED connector: no action, ever', () => {
    const sim = new Sim();
    const paused = connector('sink-paused', 'PAUSED', [task(0, 'FAILED', { cls: 'connection' })]);
    const stopped = connector('pg-stopped', 'STOPPED', []);
    sim.run(2 * 60 * MINUTE, POLL, [paused, stopped]);
    expect(sim.log).toEqual([]);
  });

  it('a connector that is resumed while its task is still FAILED is restarted then', () => {
    const sim = new Sim();
    sim.run(MINUTE, POLL, [connector('s', 'PAUSED', [task(0, 'FAILED', { cls: 'connection' })])]);
    expect(kinds(sim.poll([connector('s', 'RUNNING', [task(0, 'FAILED', { cls: 'connection' })])]))).toEqual(['restart-task']);
  });

  it('a RESTARTING connector or task is not failed; an UNASSIGNED connector keeps its stale tasks untouched', () => {
    const sim = new Sim();
    sim.run(5 * MINUTE, POLL, [
      connector('a', 'RESTARTING', [task(0, 'FAILED', { cls: 'connection' })]),
      connector('b', 'RUNNING', [task(0, 'RESTARTING', { trace: 'old trace' })]),
      connector('c', 'UNASSIGNED', [task(0, 'FAILED', { cls: 'connection', workerId: W2 })], { workerId: W2 }),
    ]);
    expect(sim.log).toEqual([]);
  });

  it('a connector right after delete (UNASSIGNED, type unknown, stale FAILED task) is not restarted, then forgotten', () => {
    const sim = new Sim();
    sim.poll([oneTask('sink-noenvelope', 'FAILED', 'serialization')]);
    const ghost = connector('sink-noenvelope', 'UNASSIGNED', [task(0, 'FAILED', { cls: 'serialization' })], { type: 'unknown' });
    expect(sim.advance(POLL).poll([ghost])).toEqual([]);
    expect(sim.advance(POLL).poll([])).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'deleted' })]);
    expect(Object.keys(sim.state.subjects)).toEqual([]);
  });
});

describe('a clock stepped back 3 h (NTP, a VM restored)', () => {
  it('restarts within the backoff cap and resolves a recovered subject after the stable period, not hours later', () => {
    const sim = new Sim();
    let recovered = false;
    const world = () => [
      connector('a', 'RUNNING', [task(0, 'FAILED', { cls: 'connection' })]),
      connector('b', 'RUNNING', [task(0, recovered ? 'RUNNING' : 'FAILED', { cls: 'serialization' })]),
    ];
    sim.run(30 * MINUTE, POLL, world);
    recovered = true;
    sim.run(2 * MINUTE, POLL, world);
    sim.now -= 3 * 60 * MINUTE;
    const jump = sim.now;
    const before = sim.log.length;
    sim.run(30 * MINUTE, POLL, world);
    const after = (kind: 'restart-task' | 'resolve') =>
      sim.log.slice(before).filter((e) => e.action.kind === kind).map((e) => (e.at - jump) / MINUTE);
    expect(after('restart-task')[0]).toBeLessThanOrEqual(10);
    expect(after('resolve')).toHaveLength(1);
    expect(after('resolve')[0]).toBeLessThanOrEqual(10);
  });
});

describe('a clock stepped back 3 h while a condition is timed', () => {
  const jumpBack = (sim: Sim) => {
    sim.now -= 3 * 60 * MINUTE;
    return { jump: sim.now, before: sim.log.length };
  };
  const pagesAfter = (sim: Sim, at: { jump: number; before: number }) =>
    sim.log.slice(at.before).filter((e) => e.action.kind === 'escalate').map((e) => (e.at - at.jump) / MINUTE);

  it('pages an UNASSIGNED task heal.unassignedAfter from the step, not 3 h later', () => {
    const sim = new Sim();
    const c = [oneTask('a', 'UNASSIGNED')];
    sim.run(MINUTE, POLL, c);
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, c);
    expect(pagesAfter(sim, at)).toEqual([10]);
  });

  it('pages a refusing dependency escalateAfter.window from the step, not 3 h later', () => {
    const sim = new Sim();
    const c = [oneTask('pg', 'FAILED', 'connection', { endpoint: PG })];
    const down = { probes: new Map([['db.internal:5432', false]]) };
    sim.run(MINUTE, POLL, c, down);
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, c, down);
    expect(pagesAfter(sim, at)).toEqual([30]);
  });

  it('pages restarts refused as a rebalance about escalateAfter.window from the step, not 3 h later', () => {
    const sim = new Sim();
    const c = [oneTask('pg', 'FAILED', 'connection')];
    const refused = { outcome: () => 'rebalance' as const };
    sim.run(MINUTE, POLL, c, refused);
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, c, refused);
    expect(pagesAfter(sim, at)).toHaveLength(1);
    expect(pagesAfter(sim, at)[0]).toBeLessThan(45);
  });

  it('pages a connector Connect has no status for heal.unassignedAfter from the step, not 3 h later', () => {
    const sim = new Sim();
    sim.run(2 * MINUTE, POLL, [], { noStatus: ['jdbc'] });
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, [], { noStatus: ['jdbc'] });
    expect(pagesAfter(sim, at)).toEqual([10]);
  });

  it('forgets the tasks of a connector that lists none heal.unassignedAfter from the step (its page resolved deleted), not 3 h later', () => {
    const sim = new Sim();
    sim.poll([connector('pg', 'RUNNING', [task(0, 'FAILED', { cls: 'serialization' })])]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    sim.advance(POLL).run(MINUTE, POLL, [connector('pg', 'RUNNING', [])]);
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, [connector('pg', 'RUNNING', [])]);
    const resolves = sim.log.slice(at.before).filter((e) => e.action.kind === 'resolve');
    expect(resolves.map((e) => [e.action.kind === 'resolve' && e.action.resolution, (e.at - at.jump) / MINUTE])).toEqual([['deleted', 10]]);
    expect(sim.state.subjects['prod/pg/0']).toBeUndefined();
  });

  it('does not page again a task whose moves had settled (and been resolved) before the step', () => {
    const sim = new Sim();
    const hopping = (now: number) => [oneTask('a', 'RUNNING', undefined, { workerId: Math.floor((now - T0) / (3 * MINUTE)) % 2 === 1 ? W2 : W1 })];
    sim.run(20 * MINUTE, POLL, hopping);
    sim.run(12 * MINUTE, POLL, [oneTask('a', 'RUNNING', undefined, { workerId: W1 })]);
    expect(sim.log.filter((e) => e.action.kind !== 'skip').map((e) => e.action.kind)).toEqual(['escalate', 'resolve']);
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, [oneTask('a', 'RUNNING', undefined, { workerId: W1 })]);
    expect(sim.log.slice(at.before).map((e) => e.action.kind)).toEqual([]);
  });

  it('settles a task that stopped moving after the stable period, without paging it again', () => {
    const sim = new Sim();
    const hopping = (now: number) => [oneTask('a', 'RUNNING', undefined, { workerId: Math.floor((now - T0) / (3 * MINUTE)) % 2 === 1 ? W2 : W1 })];
    sim.run(30 * MINUTE, POLL, hopping);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    const at = jumpBack(sim);
    sim.run(60 * MINUTE, POLL, [oneTask('a', 'RUNNING', undefined, { workerId: W1 })]);
    expect(pagesAfter(sim, at)).toEqual([]);
    const resolves = sim.log.slice(at.before).filter((e) => e.action.kind === 'resolve');
    expect(resolves.map((e) => (e.at - at.jump) / MINUTE)).toEqual([10]);
  });
});

describe('a clock stepped back during heal.firstRestartDelay', () => {
  it('still waits the delay before the first restart, counted from the step', () => {
    const sim = new Sim(withConfig({ firstRestartDelay: 60 * SECOND }));
    const c = [oneTask('pg', 'FAILED', 'connection')];
    expect(kinds(sim.poll(c))).toEqual(['skip:backoff']);
    sim.now -= 30 * SECOND;
    const jump = sim.now;
    const before = sim.log.length;
    sim.run(2 * MINUTE, POLL, c);
    const first = sim.log.slice(before).find((e) => e.action.kind === 'restart-task');
    expect((first!.at - jump) / SECOND).toBe(60);
  });
});

describe('a 409 during a rebalance', () => {
  it('is retried on the next poll, then backing off, and does not count as an attempt', () => {
    const sim = new Sim(DEFAULTS, { random: () => 0 });
    const failing = [oneTask('pg', 'FAILED', 'connection')];
    const t0 = sim.now;
    for (let i = 0; i < 10; i++) sim.poll(failing, { outcome: () => 'rebalance' }) && sim.advance(POLL);
    const restarts = sim.actionsOf('restart-task');
    expect(restarts.map((e) => e.action.attempt)).toEqual([1, 1, 1, 1]); // always attempt 1
    expect(restarts.map((e) => (e.at - t0) / SECOND)).toEqual([0, 10, 30, 70]); // the restart backoff, for refusals
    expect(sim.actionsOf('escalate')).toEqual([]);
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ attempts: 0, restartTimes: [], refusals: 4 });
    // once the rebalance is over, the backoff starts from the first attempt
    sim.advance(60 * SECOND);
    expect(sim.poll(failing)).toEqual([expect.objectContaining({ attempt: 1 })]);
    expect(sim.state.subjects['prod/pg/0']).not.toHaveProperty('refusals');
    expect(kinds(sim.advance(5 * SECOND).poll(failing))).toEqual(['skip:backoff']);
  });

  it('a task Connect restarted by itself after the refusals is forgotten after the stable period, its last refusal with it', () => {
    const sim = new Sim();
    sim.poll([oneTask('pg', 'RUNNING')]);
    sim.advance(POLL).poll([oneTask('pg', 'FAILED', 'connection')], { outcome: () => ({ result: 'rebalance', refusal: 'HTTP 409 rebalance in progress' }) });
    expect(sim.state.subjects['prod/pg/0']?.lastRefusal).toBe('HTTP 409 rebalance in progress');
    sim.advance(POLL).run(DEFAULTS.stablePeriod + 2 * MINUTE, POLL, [oneTask('pg', 'RUNNING')]);
    expect(sim.state.subjects['prod/pg/0']).toBeUndefined();
  });

  it('is not paged as refused once restarts were withheld meanwhile (maintenance, a refusing dependency): that run is over', () => {
    const failing = [connector('pg', 'RUNNING', [task(0, 'FAILED', { cls: 'connection' })], { endpoint: PG })];
    const reasons = (sim: Sim) => sim.actionsOf('escalate').map((e) => e.action.incident.reason);
    const windowed = new Sim();
    windowed.run(2 * MINUTE, POLL, failing, { outcome: () => 'rebalance' });
    windowed.run(60 * MINUTE, POLL, failing, { outcome: () => 'rebalance', inMaintenance: () => true });
    windowed.run(MINUTE, POLL, failing);
    expect(reasons(windowed).filter((r) => /as a rebalance/.test(r))).toEqual([]);
    const dependency = new Sim();
    dependency.run(2 * MINUTE, POLL, failing, { outcome: () => 'rebalance', probes: new Map([['db.internal:5432', true]]) });
    dependency.run(40 * MINUTE, POLL, failing, { probes: new Map([['db.internal:5432', false]]) });
    expect(reasons(dependency)).toEqual([expect.stringMatching(/^db\.internal:5432 has refused connections for 30 min/)]);
  });

  it('refused for escalateAfter.window (a leader the workers cannot reach), is paged once, and retried at the backoff cap', () => {
    const sim = new Sim();
    sim.run(6 * 60 * MINUTE, POLL, [oneTask('pg', 'FAILED', 'connection')], { outcome: () => 'rebalance' });
    const pages = sim.actionsOf('escalate');
    expect(pages).toHaveLength(1);
    expect(pages[0]!.action.incident.reason).toMatch(/^Connect refused the last \d+ restarts as a rebalance for 3\d min/);
    // every poll before: 2160 requests in 6 h; at the 10 min cap: about 40
    expect(sim.actionsOf('restart-task').length).toBeLessThan(50);
  });

  it('quotes Connect\'s answer to the last refusal in the page: a 500 names why forwarding to the leader failed', () => {
    const sim = new Sim(undefined, { roundTrip: true });
    const forward = (n: number) => `HTTP 500 IO Error trying to forward REST request: javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown (${n})`;
    let n = 0;
    sim.run(40 * MINUTE, POLL, [oneTask('pg', 'FAILED', 'connection')], { outcome: () => ({ result: 'rebalance', refusal: forward((n += 1)) }) });
    const pages = sim.actionsOf('escalate');
    expect(pages).toHaveLength(1);
    // The last refusal before the page, through the state file (roundTrip).
    const before = sim.actionsOf('restart-task').filter((r) => r.at <= pages[0]!.at).length;
    expect(pages[0]!.action.incident.reason).toMatch(/cannot forward to the leader \(its advertised URL unreachable, or TLS between workers refused\), or a worker cut off from the Kafka brokers; the last answer: HTTP 500 IO Error/);
    expect(pages[0]!.action.incident.reason.endsWith(`certificate_unknown (${before})`)).toBe(true);
    // A restart that reaches the worker ends the run, and its answer with it.
    sim.poll([oneTask('pg', 'FAILED', 'connection')], { outcome: () => 'ok' });
    sim.advance(60 * MINUTE).poll([oneTask('pg', 'FAILED', 'connection')], { outcome: () => 'ok' });
    expect(sim.state.subjects['prod/pg/0']).not.toHaveProperty('lastRefusal');
  });

  it('rolls back the tasks restarted with a connector too', () => {
    const sim = new Sim();
    const c = connector('pg', 'FAILED', [task(0, 'FAILED', { cls: 'connection' })], { cls: 'connection' });
    sim.poll([c], { outcome: () => 'rebalance' });
    expect(sim.state.subjects['prod/pg/connector']).toMatchObject({ attempts: 0, restartTimes: [] });
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ attempts: 0, restartTimes: [] });
  });

  it('a failed request (500, timeout) counts as an attempt', () => {
    const sim = new Sim();
    sim.poll([oneTask('pg', 'FAILED', 'connection')], { outcome: () => 'failed' });
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ attempts: 1 });
  });
});

describe('a connector deleted meanwhile', () => {
  it('is forgotten, and its incident resolved, when the listing no longer has it; a 404 to its restart counts as an attempt', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'restart-then-escalate' } }));
    sim.poll([oneTask('pg', 'FAILED', 'connection')]);
    sim.advance(POLL).poll([oneTask('pg', 'FAILED', 'connection')], { outcome: () => 'not-found' });
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ attempts: 2 });
    expect(sim.advance(POLL).poll([])).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'deleted' })]);
    expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
  });

  it('a task still listed whose restarts are all answered 404 (a proxy refusing POSTs) is restarted under the backoff and paged', () => {
    const sim = new Sim();
    sim.run(10 * MINUTE, POLL, [oneTask('pg', 'FAILED', 'connection')], { outcome: () => 'not-found' });
    // 0, 10, 30, 70, 150, 310 s (jitter shortens them a little), not one restart per poll
    expect(sim.actionsOf('restart-task').length).toBeLessThanOrEqual(7);
    expect(sim.actionsOf('escalate')).toEqual([expect.objectContaining({ action: expect.objectContaining({ incident: expect.objectContaining({ key: 'prod/pg/0/connection' }) }) })]);
  });

  it('tasks beyond a lowered tasks.max are forgotten', () => {
    const sim = new Sim();
    sim.poll([connector('pg', 'RUNNING', [task(0, 'RUNNING'), task(1, 'FAILED', { cls: 'serialization' })], { tasksMax: 2 })]);
    expect(kinds(sim.advance(POLL).poll([connector('pg', 'RUNNING', [task(0, 'RUNNING')], { tasksMax: 1 })]))).toEqual(['resolve']);
    expect(sim.state.subjects['prod/pg/1']).toBeUndefined();
  });

  it('a task a RUNNING connector no longer runs is forgotten, tasks.max unchanged or unknown (its incident stayed open for good)', () => {
    for (const tasksMax of [4, undefined]) {
      const sim = new Sim();
      const three = [task(0, 'RUNNING'), task(1, 'RUNNING'), task(2, 'FAILED', { cls: 'serialization' })];
      sim.poll([connector('jdbc', 'RUNNING', three, { tasksMax })]);
      expect(sim.actionsOf('escalate')).toHaveLength(1);
      // reconfigured to 2 tasks (fewer tables): Connect deletes task 2's status
      expect(sim.advance(POLL).poll([connector('jdbc', 'RUNNING', three.slice(0, 2), { tasksMax })])).toEqual([
        expect.objectContaining({ kind: 'resolve', resolution: 'deleted' }),
      ]);
      expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
    }
  });

  it('a connector resumed from STOPPED lists no task until its task configs are written: its paged task is not resolved as deleted and paged again', () => {
    // Kafka 4.3.1, PUT /stop then PUT /resume: STOPPED with "tasks":[], then RUNNING with "tasks":[] for
    // 0.1-0.3 s (as long as the connector's taskConfigs() takes), then the task, FAILED again.
    const sim = new Sim();
    const failing = [connector('pg', 'RUNNING', [task(0, 'FAILED', { cls: 'connection' })])];
    sim.run(30 * MINUTE, POLL, failing);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    const attempts = sim.state.subjects['prod/pg/0']?.attempts ?? 0;
    sim.run(2 * MINUTE, POLL, [connector('pg', 'STOPPED', [])]);
    sim.poll([connector('pg', 'RUNNING', [])]);
    sim.advance(POLL).poll(failing);
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.state.incidents['prod/pg/0/connection']).toBeDefined();
    expect(sim.state.subjects['prod/pg/0']?.attempts ?? 0).toBeGreaterThanOrEqual(attempts);
  });

  it('a connector whose task configs take longer than a poll: its paged task, unlisted for several polls, is neither resolved nor paged again', () => {
    // A connector whose taskConfigs() takes 5 s, polled every 2 s: RUNNING with "tasks":[] at three polls in a row.
    const sim = new Sim();
    const failing = [connector('pg', 'RUNNING', [task(0, 'FAILED', { cls: 'connection' })])];
    sim.run(30 * MINUTE, POLL, failing);
    const before = sim.state.subjects['prod/pg/0'];
    sim.run(2 * MINUTE, POLL, [connector('pg', 'STOPPED', [])]);
    sim.run(3 * POLL, POLL, [connector('pg', 'RUNNING', [])]);
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ attempts: before?.attempts, unlistedSince: expect.any(Number) });
    sim.poll(failing);
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.state.subjects['prod/pg/0']?.unlistedSince).toBeUndefined();
  });

  it('a RUNNING connector that lists no task for heal.unassignedAfter has none: its tasks are forgotten, their incidents resolved', () => {
    for (const restarted of [false, true]) {
      const sim = new Sim();
      sim.poll([connector('jdbc', 'RUNNING', [task(0, 'FAILED', { cls: 'serialization' }), task(1, 'RUNNING')])]);
      if (restarted) sim.restart(); // no previous snapshot: nothing changes
      const none = [connector('jdbc', 'RUNNING', [])];
      expect(sim.advance(POLL).run(DEFAULTS.unassignedAfter - POLL, POLL, none)).toEqual([]);
      expect(sim.state.incidents['prod/jdbc/0/serialization']).toBeDefined();
      expect(sim.advance(POLL).poll(none)).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'deleted' })]);
      expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
    }
  });

  it('a task listed again starts its unlisted time afresh: a later short gap does not forget it', () => {
    const sim = new Sim();
    const failing = [connector('jdbc', 'RUNNING', [task(0, 'FAILED', { cls: 'serialization' })])];
    sim.poll(failing);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter - 2 * POLL, POLL, [connector('jdbc', 'RUNNING', [])]);
    sim.run(5 * MINUTE, POLL, failing);
    sim.run(2 * POLL, POLL, [connector('jdbc', 'RUNNING', [])]);
    sim.poll(failing);
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
  });

  it('a task missing between listed ones, or under a FAILED connector, is not taken for deleted', () => {
    const sim = new Sim();
    const failing = task(1, 'FAILED', { cls: 'serialization' });
    sim.poll([connector('pg', 'RUNNING', [task(0, 'RUNNING'), failing, task(2, 'RUNNING')])]);
    sim.advance(POLL).poll([connector('pg', 'RUNNING', [task(0, 'RUNNING'), task(2, 'RUNNING')])]);
    sim.advance(POLL).poll([connector('pg', 'FAILED', [], { cls: 'serialization' })]);
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(sim.state.incidents['prod/pg/1/serialization']).toBeDefined();
  });

  it('a task listed beyond tasks.max is still there: paged once, not resolved and paged again at every poll', () => {
    // Connect before 3.8 does not enforce tasks.max (KIP-1004): a connector may run more tasks than it says.
    const sim = new Sim();
    const listing = [connector('pg', 'RUNNING', [task(0, 'RUNNING'), task(1, 'FAILED', { cls: 'serialization' })], { tasksMax: 1 })];
    sim.poll(listing);
    sim.advance(POLL).run(10 * MINUTE, POLL, listing);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate', 'skip:escalate-only']);
    expect(sim.state.subjects['prod/pg/1']).toMatchObject({ state: 'FAILED', class: 'serialization' });
  });
});

describe('a connector whose status cannot be read (an unknown state, a wrong shape)', () => {
  it('is neither forgotten nor resolved as deleted nor acted on while unreadable, and is healed once it reads again', () => {
    const sim = new Sim();
    sim.poll([oneTask('ser', 'FAILED', 'serialization'), oneTask('pg', 'FAILED', 'connection')]);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate', 'skip:escalate-only', 'restart-task']);
    const remembered = sim.state;
    // pg's next restart falls due meanwhile: nothing is restarted on a status that was not read.
    expect(sim.advance(POLL).run(10 * MINUTE, POLL, [], { unreadable: ['ser', 'pg'] })).toEqual([]);
    expect(sim.state.subjects).toEqual(remembered.subjects);
    expect(sim.state.incidents).toEqual(remembered.incidents);
    sim.advance(POLL).poll([oneTask('ser', 'FAILED', 'serialization'), oneTask('pg', 'FAILED', 'connection')]);
    expect(sim.actionsOf('restart-task')).toHaveLength(2);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    sim.advance(POLL).run(15 * MINUTE, POLL, [oneTask('ser', 'RUNNING'), oneTask('pg', 'RUNNING')]);
    expect(sim.actionsOf('resolve')).toEqual([expect.objectContaining({ action: expect.objectContaining({ resolution: 'recovered' }) })]);
  });

  it('keeps a page open while unreadable, though what it pages for ended inside a maintenance window, and resolves it once it reads again', () => {
    // Found by policy-properties.test.ts. Inside the window the task is assigned (its page may not resolve
    // there), then its connector paused: the task is kept in state with its last worker, RUNNING.
    const sim = new Sim();
    let window = false;
    const o = { inMaintenance: () => window };
    sim.run(10 * MINUTE + POLL, POLL, [oneTask('pg', 'UNASSIGNED')], o);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate']);
    window = true;
    sim.poll([oneTask('pg', 'RUNNING')], o);
    sim.advance(POLL).poll([connector('pg', 'PAUSED', [task(0, 'RUNNING')])], o);
    window = false;
    expect(sim.advance(POLL).poll([], { ...o, unreadable: ['pg'] })).toEqual([]);
    expect(sim.advance(POLL).poll([connector('pg', 'PAUSED', [task(0, 'RUNNING')])], o)).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'assigned' })]);
  });

  it('a connector left out of the listing while another is unreadable is still deleted', () => {
    const sim = new Sim();
    sim.poll([oneTask('ser', 'FAILED', 'serialization')]);
    expect(sim.advance(POLL).poll([], { unreadable: ['other'] })).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'deleted' })]);
  });
});

describe('a connector Connect has no status for (created while its start() blocks)', () => {
  const KEY = 'prod/jdbc/connector/unknown';

  it('is paged once as unknown after heal.unassignedAfter, not before, and resolved once it reads RUNNING', () => {
    const sim = new Sim();
    const others = [oneTask('pg', 'RUNNING')];
    expect(sim.run(DEFAULTS.unassignedAfter - POLL, POLL, others, { noStatus: ['jdbc'] })).toEqual([]);
    expect(sim.advance(POLL).poll(others, { noStatus: ['jdbc'] })).toEqual([
      expect.objectContaining({ kind: 'escalate', incident: expect.objectContaining({ key: KEY, class: 'unknown', severity: 'error', task: null, firstSeen: T0 }) }),
    ]);
    expect(sim.state.incidents[KEY]?.reason).toMatch(/^no status for 10 min .*its start\(\) has not returned since it was created$/);
    expect(sim.advance(POLL).run(30 * MINUTE, POLL, others, { noStatus: ['jdbc'] })).toEqual([]);
    expect(sim.advance(POLL).poll([...others, oneTask('jdbc', 'RUNNING')])).toEqual([
      expect.objectContaining({ kind: 'resolve', resolution: 'recovered', incident: expect.objectContaining({ key: KEY }) }),
    ]);
    expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
  });

  it('deleted while it has no status: its page is resolved as deleted', () => {
    const sim = new Sim();
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.advance(POLL).poll([])).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'deleted' })]);
    expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
  });

  it('is not paged inside a maintenance window, and is paged by a sidecar although no worker of its owns it', () => {
    const quiet = new Sim();
    quiet.run(30 * MINUTE, POLL, [], { noStatus: ['jdbc'], inMaintenance: () => true });
    expect(quiet.log).toEqual([]);
    const sidecar = new Sim();
    sidecar.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'], owns: () => false });
    expect(sidecar.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual([KEY]);
  });

  // The no-status page and the failure page of class unknown share the key: the failure, once its page is due,
  // takes the open incident over (a trigger under the same dedup key), or the pager would go on showing
  // "no status" with no trace for a connector that has failed.
  const failedJdbc = [connector('jdbc', 'FAILED', [], { cls: 'unknown' })];

  it('FAILED unknown with heal.actions.unknown escalate: its no-status page is updated at once with the failure, paged once', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    const failedAt = sim.now;
    expect(sim.poll(failedJdbc)).toEqual([
      {
        kind: 'escalate',
        update: true,
        incident: expect.objectContaining({
          key: KEY,
          class: 'unknown',
          reason: expect.stringMatching(/^heal\.actions\.unknown is escalate: .*; it was paged before: no status for 10 min .*since it was created$/),
          rootCause: expect.stringContaining('IllegalStateException: something nobody has seen before'),
          hint: 'check the unknown',
          traceExcerpt: expect.stringContaining('IllegalStateException'),
          firstSeen: failedAt,
        }),
      },
      expect.objectContaining({ kind: 'skip', reason: 'escalate-only' }),
    ]);
    expect(sim.state.incidents[KEY]?.hint).toBe('check the unknown');
    // Updated once, not at every poll; resolved once when it runs.
    expect(sim.advance(POLL).run(30 * MINUTE, POLL, failedJdbc)).toEqual([]);
    sim.run(DEFAULTS.stablePeriod + POLL, POLL, [connector('jdbc', 'RUNNING', [])]);
    expect(sim.actionsOf('resolve').map((e) => [e.action.incident.key, e.action.incident.firstSeen, e.action.resolution])).toEqual([[KEY, failedAt, 'recovered']]);
    expect(sim.actionsOf('escalate')).toHaveLength(2);
  });

  it('FAILED unknown with the default restart: its no-status page stays open while restarts run, and is updated once restarts did not fix it', () => {
    const sim = new Sim();
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    const before = sim.log.length;
    sim.run(60 * MINUTE, POLL, failedJdbc);
    const after = sim.log.slice(before).map((e) => e.action);
    expect(after.filter((a) => a.kind === 'restart-connector').length).toBeGreaterThan(DEFAULTS.escalateAfter.restarts);
    const updates = after.filter((a) => a.kind === 'escalate');
    expect(updates).toEqual([
      expect.objectContaining({ update: true, incident: expect.objectContaining({ key: KEY, reason: expect.stringMatching(/^still failing after 3 restarts within 30 min; it was paged before: no status for/), hint: 'check the unknown' }) }),
    ]);
    expect(after.filter((a) => a.kind === 'resolve')).toEqual([]);
  });

  it('a page of class unknown opened for a failure is not updated again by that failure', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.run(30 * MINUTE, POLL, failedJdbc);
    expect(sim.actionsOf('escalate').map((e) => e.action.update)).toEqual([undefined]);
  });
});

describe('the restart budget', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => oneTask(`c${String(i).padStart(2, '0')}`, 'FAILED', 'connection'));

  it('sends at most perMinute restarts at once; the rest wait their turn, oldest first', () => {
    const sim = new Sim(withConfig({ clusterOutageThreshold: 100 }));
    const first = sim.poll(many(15));
    expect(first.filter((a) => a.kind === 'restart-task')).toHaveLength(10);
    expect(first.filter((a) => a.kind === 'skip' && a.reason === 'budget').map((a) => (a.kind === 'skip' ? a.subject.connector : ''))).toEqual(['c10', 'c11', 'c12', 'c13', 'c14']);
    // one token every 6 s: the held-back ones go first, before any second attempt
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      sim.advance(6 * SECOND);
      for (const a of sim.poll(many(15))) if (a.kind === 'restart-task') order.push(`${a.connector}#${a.attempt}`);
    }
    expect(order).toEqual(['c10#1', 'c11#1', 'c12#1', 'c13#1', 'c14#1']);
    // a held-back restart is skipped once, not on every poll
    const firstRestart = (c: string) => sim.actionsOf('restart-task').find((e) => e.action.connector === c)!.at;
    const heldBack = sim.actionsOf('skip').filter((e) => e.action.reason === 'budget' && e.at < firstRestart(e.action.subject.connector));
    expect(heldBack.map((e) => e.action.subject.connector)).toEqual(['c10', 'c11', 'c12', 'c13', 'c14']);
  });

  it('is per cluster', () => {
    const sim = new Sim(withConfig({ budget: { perMinute: 1 }, clusterOutageThreshold: 100 }));
    expect(kinds(sim.poll(many(2)))).toEqual(['restart-task', 'skip:budget']);
    expect(kinds(sim.poll(many(2), { cluster: 'staging' }))).toEqual(['restart-task', 'skip:budget']);
  });
});

describe('a maintenance window', () => {
  it('observes and records but neither restarts nor pages; after it, decides from the recorded state', () => {
    const sim = new Sim();
    const failing = [oneTask('pg', 'FAILED', 'connection'), oneTask('sink', 'FAILED', 'serialization')];
    const inside = { inMaintenance: () => true };
    expect(kinds(sim.poll(failing, inside))).toEqual(['skip:maintenance', 'skip:maintenance']);
    sim.advance(POLL).run(59 * MINUTE, POLL, failing, inside);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['skip:maintenance', 'skip:maintenance']);
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ state: 'FAILED', class: 'connection', failedSince: sim.log[0]!.at, attempts: 0 });
    // the window closes
    expect(kinds(sim.poll(failing)).sort()).toEqual(['escalate', 'restart-task', 'skip:escalate-only']);
  });

  it('holds back a resolve until it ends', () => {
    const sim = new Sim();
    sim.poll([oneTask('sink', 'FAILED', 'serialization')]);
    sim.advance(POLL).run(11 * MINUTE, POLL, [oneTask('sink', 'RUNNING')], { inMaintenance: () => true });
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(kinds(sim.poll([oneTask('sink', 'RUNNING')]))).toEqual(['resolve']);
  });

  it('only covers the connectors it names', () => {
    const sim = new Sim();
    const actions = sim.poll([oneTask('pg', 'FAILED', 'connection'), oneTask('es', 'FAILED', 'connection')], { inMaintenance: (c) => c === 'pg' });
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'skip', reason: 'maintenance', subject: expect.objectContaining({ connector: 'pg' }) }),
      expect.objectContaining({ kind: 'restart-task', connector: 'es' }),
    ]);
  });
});

describe('a worker that says it is not healthy (GET /health)', () => {
  const unhealthy = { workerUnhealthy: true };

  it('gets no restart while it says so (it would hold them, then run them all at once); the first poll after its healthy answer restarts', () => {
    const sim = new Sim(DEFAULTS, { random: () => 0 });
    const failing = [oneTask('pg', 'FAILED', 'connection'), connector('jdbc', 'FAILED', [task(0, 'FAILED', { cls: 'connection' })])];
    expect(kinds(sim.poll(failing, unhealthy))).toEqual(['skip:worker-unhealthy', 'skip:worker-unhealthy']);
    sim.advance(POLL).run(30 * MINUTE, POLL, failing, unhealthy);
    expect(sim.actionsOf('restart-task')).toEqual([]);
    expect(sim.actionsOf('restart-connector')).toEqual([]);
    expect(sim.actionsOf('skip')).toHaveLength(2); // once per reason, not every poll
    expect(sim.actionsOf('escalate')).toEqual([]); // no restart spent, none failed: the worker-unhealthy page speaks
    expect(kinds(sim.poll(failing))).toEqual(['restart-connector', 'restart-task']);
  });

  it('still pages what no restart heals, and says escalate-only for it', () => {
    const sim = new Sim();
    expect(kinds(sim.poll([oneTask('sink', 'FAILED', 'serialization')], unhealthy))).toEqual(['escalate', 'skip:escalate-only']);
  });

  it('ends a run of refusals: the restarts it held are not a rebalance to page', () => {
    const sim = new Sim();
    const failing = [oneTask('pg', 'FAILED', 'connection')];
    sim.poll(failing, { outcome: () => ({ result: 'rebalance', refusal: 'Request timed out' }) });
    expect(sim.state.subjects['prod/pg/0']!.refusals).toBe(1);
    sim.advance(POLL).poll(failing, unhealthy);
    expect(sim.state.subjects['prod/pg/0']!.refusals).toBeUndefined();
  });
});

describe('a dependency that refuses connections', () => {
  const failing = [oneTask('pg', 'FAILED', 'connection', { endpoint: PG })];
  const down = { probes: new Map([['db.internal:5432', false]]) };
  const up = { probes: new Map([['db.internal:5432', true]]) };

  it('spends no restart while it is down, and restarts on the first poll after it accepts', () => {
    const sim = new Sim();
    expect(sim.poll(failing, down)).toEqual([expect.objectContaining({ kind: 'skip', reason: 'dependency-down' })]);
    sim.advance(POLL).run(10 * MINUTE, POLL, failing, down);
    expect(sim.actionsOf('restart-task')).toEqual([]);
    expect(sim.actionsOf('skip')).toHaveLength(1);
    expect(sim.poll(failing, up)).toEqual([expect.objectContaining({ kind: 'restart-task', attempt: 1 })]);
  });

  it('restarts as soon as it accepts again even if the backoff would wait longer', () => {
    const sim = new Sim(DEFAULTS, { random: () => 0 });
    // three restarts: the next would wait 40 s
    sim.run(31 * SECOND, POLL, failing, up);
    expect(sim.state.subjects['prod/pg/0']!.attempts).toBe(3);
    expect(sim.poll(failing, down)).toContainEqual(expect.objectContaining({ kind: 'skip', reason: 'dependency-down' }));
    expect(sim.advance(POLL).poll(failing, up)).toEqual([expect.objectContaining({ kind: 'restart-task', attempt: 4 })]);
    expect(sim.now).toBeLessThan(sim.state.subjects['prod/pg/0']!.restartTimes[2]! + 40 * SECOND);
  });

  it('after a partition, each endpoint that accepts again gets one restart outside the budget; a shared endpoint is still paced', () => {
    const sim = new Sim(withConfig({ clusterOutageThreshold: 1000 }));
    const own = Array.from({ length: 20 }, (_, i) => oneTask(`own-${i}`, 'FAILED', 'connection', { endpoint: { host: `db-${i}`, port: 5432 } }));
    const shared = Array.from({ length: 15 }, (_, i) => oneTask(`shared-${i}`, 'FAILED', 'connection', { endpoint: PG }));
    const probes = (accepting: boolean) => ({ probes: new Map([...own.map((_, i) => [`db-${i}:5432`, accepting] as const), ['db.internal:5432', accepting]]) });
    sim.run(5 * MINUTE, POLL, [...own, ...shared], probes(false));
    expect(sim.actionsOf('restart-task')).toEqual([]);
    const back = sim.advance(POLL).poll([...own, ...shared], probes(true));
    const restarted = back.filter((a) => a.kind === 'restart-task').map((a) => (a.kind === 'restart-task' ? a.connector : ''));
    // all 20 own endpoints (free), one shared (free), then 10 more shared from the budget of 10
    expect(restarted.filter((c) => c.startsWith('own-'))).toHaveLength(20);
    expect(restarted.filter((c) => c.startsWith('shared-'))).toHaveLength(11);
    expect(back.filter((a) => a.kind === 'skip' && a.reason === 'budget')).toHaveLength(4);
  });

  it('pages when it has refused for the escalation window', () => {
    const sim = new Sim();
    sim.run(30 * MINUTE, POLL, failing, down);
    expect(sim.actionsOf('escalate')).toEqual([]);
    expect(sim.poll(failing, down)).toEqual([
      expect.objectContaining({
        kind: 'escalate',
        incident: expect.objectContaining({ reason: 'db.internal:5432 has refused connections for 30 min; restarts are held back until it accepts' }),
      }),
    ]);
  });

  it('is probed only for connection failures that would be restarted now (or are held back by it)', () => {
    const sim = new Sim(DEFAULTS, { random: () => 0 });
    const snap = (cs: Parameters<Sim['poll']>[0]) => snapshot(cs, sim.now);
    const mixed = [oneTask('pg', 'FAILED', 'connection', { endpoint: PG }), oneTask('es', 'FAILED', 'serialization', { endpoint: { host: 'es', port: 9200 } })];
    const filter = () => ({ config: DEFAULTS, now: sim.now });
    expect(endpointsToProbe(sim.state, snap(mixed), sim.classify, filter())).toEqual([PG]);
    sim.poll(mixed, up); // restarted: backoff 10 s
    expect(endpointsToProbe(sim.state, snap(mixed), sim.classify, filter())).toEqual([]);
    expect(endpointsToProbe(sim.state, snap(mixed), sim.classify)).toEqual([PG]); // unfiltered: every connection failure's
    sim.advance(POLL).poll(mixed, down);
    sim.advance(POLL);
    expect(endpointsToProbe(sim.state, snap(mixed), sim.classify, filter())).toEqual([PG]); // held back: keep probing
    expect(endpointsToProbe(sim.state, snap(mixed), sim.classify, { ...filter(), owns: () => false })).toEqual([]);
    expect(endpointsToProbe(sim.state, snap(mixed), sim.classify, { ...filter(), inMaintenance: () => true })).toEqual([]);
  });
});

describe('sidecar ownership', () => {
  it('observes what another worker runs: no restart, no page, one not-owner skip', () => {
    const sim = new Sim();
    const mine = (w: string) => w === W1;
    sim.run(60 * MINUTE, POLL, [oneTask('theirs', 'FAILED', 'serialization', { workerId: W2 }), oneTask('other', 'FAILED', 'connection', { workerId: W2 })], { owns: mine });
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['skip:not-owner', 'skip:not-owner']);
  });

  describe('a cluster-wide outage whose connectors run on three workers, one sidecar each', () => {
    const W3 = '127.0.0.1:8085';
    const workers = [W1, W2, W3];
    // 9 connectors, 3 per worker: each sidecar owns fewer than the threshold (5) of them
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    const fleet = () => workers.map((w) => ({ sim: new Sim(), owns: (x: string) => x === w }));
    const run = (f: ReturnType<typeof fleet>, duration: number, world: (now: number) => Parameters<Sim['poll']>[0]) => {
      for (const end = f[0]!.sim.now + duration; f[0]!.sim.now < end; ) {
        const connectors = world(f[0]!.sim.now);
        for (const { sim, owns } of f) sim.poll(connectors, { owns });
        for (const { sim } of f) sim.advance(POLL);
      }
    };
    const pages = (f: ReturnType<typeof fleet>) => f.flatMap(({ sim }) => sim.actionsOf('escalate').map((e) => e.action.incident.key));

    it('failing in one poll: the one cluster-outage key, as without sidecars, not a connection page per connector', () => {
      const f = fleet();
      const start = f[0]!.sim.now;
      run(f, 40 * MINUTE, (now) => names.map((n, i) => (now === start ? oneTask(n, 'RUNNING', undefined, { workerId: workers[i % 3]! }) : oneTask(n, 'FAILED', 'connection', { workerId: workers[i % 3]! }))));
      // every sidecar sees the whole cluster and declares it: the key deduplicates at the pager, as for unassigned
      expect(pages(f)).toEqual(workers.map(() => 'prod/*/connector/cluster-outage'));
      // each sidecar still restarts only its own
      for (const [k, { sim }] of f.entries()) {
        expect(new Set(sim.actionsOf('restart-task').map((r) => r.action.connector))).toEqual(new Set(names.filter((_, i) => i % 3 === k)));
      }
    });

    it('a sidecar starting with no state (a pod rescheduled) does not take the failures it finds on other workers for an outage', () => {
      const fresh = new Sim();
      fresh.run(5 * MINUTE, POLL, names.map((n, i) => oneTask(n, 'FAILED', 'connection', { workerId: workers[i % 3]! })), { owns: (x) => x === W1 });
      expect(fresh.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/a/0/connection', 'prod/d/0/connection', 'prod/g/0/connection']);
    });

    it('failing a few a poll: each sidecar counts only its own, since it cannot tell which of the others have paged', () => {
      const f = fleet();
      const start = f[0]!.sim.now;
      const down = (now: number, i: number) => now - start >= (Math.floor(i / 2) + 1) * POLL;
      run(f, 60 * MINUTE, (now) => names.map((n, i) => oneTask(n, down(now, i) ? 'FAILED' : 'RUNNING', down(now, i) ? 'connection' : undefined, { workerId: workers[i % 3]! })));
      expect(pages(f).filter((k) => k.includes('cluster-outage'))).toEqual([]);
      expect(pages(f)).toHaveLength(names.length);
    });
  });
});

describe('several clusters', () => {
  it("decide leaves other clusters' subjects, incidents and budgets as they are", () => {
    const sim = new Sim();
    sim.poll([oneTask('pg', 'FAILED', 'serialization')], { cluster: 'staging' });
    const staging = sim.state;
    expect(Object.keys(staging.incidents)).toEqual(['staging/pg/0/serialization']);
    sim.advance(POLL).poll([], { cluster: 'prod' });
    expect(sim.log.map((e) => e.action.kind)).toEqual(['escalate', 'skip']);
    expect(sim.state.subjects).toEqual(staging.subjects);
    expect(sim.state.incidents).toEqual(staging.incidents);
    expect(sim.state.budgets['staging']).toEqual(staging.budgets['staging']);
  });

  it('forgetCluster drops a removed cluster and resolves its incidents', () => {
    const sim = new Sim();
    sim.poll([oneTask('pg', 'FAILED', 'serialization')]);
    const { actions, state } = forgetCluster(sim.state, 'prod', sim.now);
    expect(actions).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'cluster-removed' })]);
    expect(state).toEqual({ subjects: {}, incidents: {}, budgets: {} });
  });
});

describe('every remembered time of a subject is known to the code that walks them', () => {
  const quiet: SubjectState = { cluster: CLUSTER, connector: 'pg', task: 0, state: 'RUNNING', workerId: W1, attempts: 0, restartTimes: [], moves: [] };

  it.each(SUBJECT_TIME_FIELDS)('a subject remembering %s is not quiet, so it stays in state', (field) => {
    expect(isQuiet(quiet)).toBe(true);
    expect(isQuiet({ ...quiet, [field]: T0 })).toBe(false);
  });

  // Each time, in a subject seen in the state that keeps it: a clock stepped back brings it back to now.
  const keptWhile = {
    failedSince: { state: 'FAILED', class: 'connection' },
    dependencyDownSince: { state: 'FAILED', class: 'connection' },
    refusedSince: { state: 'FAILED', class: 'connection' },
    recoveredAt: { state: 'RUNNING', class: 'connection' },
    unassignedSince: { state: 'UNASSIGNED' },
    restartingSince: { state: 'RESTARTING' },
    noTasksSince: { state: 'RUNNING' },
  } as const satisfies Partial<Record<(typeof SUBJECT_SINCE_FIELDS)[number], { state: State; class?: FailureClass }>>;
  it.each(Object.entries(keptWhile))('%s left ahead of the clock is brought back to now', (field, { state, ...cls }) => {
    const now = T0 + 60 * MINUTE;
    const before: SubjectState = { ...quiet, ...cls, state, attempts: 1, failedSince: T0, [field]: now + 3 * 60 * MINUTE };
    // noTasksSince is kept while a RUNNING connector lists no task (heal.noTasksAfter on).
    const seen = { state, workerId: W1, ...(state === 'FAILED' && { trace: TRACES.connection }), ...(field === 'noTasksSince' && { noTasks: true }) };
    const { subject } = observe(before, { cluster: CLUSTER, connector: 'pg', task: 0 }, seen, stubClassifier(), DEFAULTS, now);
    expect(subject[field as keyof typeof keptWhile]).toBe(now);
  });
});
