import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../src/classify/index.js';
import type { Action } from '../../src/heal/types.js';
import { connector, DEFAULTS, kinds, MINUTE, oneTask, SECOND, Sim, T0, task, TRACES, W1, W2, withConfig } from './helpers.js';

const POLL = 10 * SECOND;

describe('a serialization failure', () => {
  it('is never restarted and pages exactly once, with a scrubbed, bounded trace excerpt', () => {
    const sim = new Sim();
    const failing = [oneTask('sink-json', 'FAILED', 'serialization')];
    expect(kinds(sim.poll(failing))).toEqual(['escalate', 'skip:escalate-only']);
    sim.advance(POLL).run(2 * 60 * MINUTE, POLL, failing);
    expect(sim.actionsOf('restart-task')).toEqual([]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.actionsOf('skip')).toHaveLength(1);
    const incident = sim.actionsOf('escalate')[0]!.action.incident;
    expect(incident).toMatchObject({
      key: 'prod/sink-json/0/serialization',
      severity: 'error',
      attempts: 0,
      reason: 'serialization failures (bad records) are not fixed by a restart',
      workerId: W1,
      hint: 'check the serialization',
    });
    expect(incident.traceExcerpt).toContain('Tolerance exceeded in error handler');
    expect(incident.traceExcerpt).toContain("Unrecognized token 'this'");
    // while it lasts, the open incident is refreshed in state, not re-sent
    expect(sim.state.incidents[incident.key]).toMatchObject({ firstSeen: incident.firstSeen, lastSeen: sim.now - POLL });
  });

  it('keeps secrets out of the incident', () => {
    const sim = new Sim();
    const trace =
      'org.apache.kafka.connect.errors.DataException: bad record from jdbc:postgresql://app:hunter2@db:5432/shop\nCaused by: org.apache.kafka.common.errors.SerializationException: password=hunter2\n';
    sim.poll([connector('c', 'RUNNING', [task(0, 'FAILED', { trace })])]);
    const incident = sim.actionsOf('escalate')[0]!.action.incident;
    expect(JSON.stringify(incident)).not.toContain('hunter2');
  });

  it('resolves once fixed and RUNNING for the stable period', () => {
    const sim = new Sim();
    sim.poll([oneTask('sink-json', 'FAILED', 'serialization')]);
    sim.advance(MINUTE).run(10 * MINUTE, POLL, [oneTask('sink-json', 'RUNNING')]);
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(kinds(sim.poll([oneTask('sink-json', 'RUNNING')]))).toEqual(['resolve']);
  });
});

describe('a config failure', () => {
  it('of a FAILED connector pages at once and is not restarted', () => {
    const sim = new Sim();
    const c = connector('pg-nopub', 'FAILED', [], { cls: 'config' });
    expect(kinds(sim.poll([c]))).toEqual(['escalate', 'skip:escalate-only']);
    expect(sim.actionsOf('escalate')[0]!.action.incident).toMatchObject({ key: 'prod/pg-nopub/connector/config', task: null, severity: 'error' });
  });
});

describe('a task UNASSIGNED too long', () => {
  it('pages a warning after heal.unassignedAfter (10 min), and resolves when it is assigned', () => {
    const sim = new Sim();
    const unassigned = [connector('pg', 'RUNNING', [task(0, 'UNASSIGNED')])];
    sim.run(10 * MINUTE, POLL, unassigned);
    expect(sim.log).toEqual([]);
    const page = sim.poll(unassigned);
    expect(page).toEqual([
      expect.objectContaining({
        kind: 'escalate',
        incident: expect.objectContaining({ key: 'prod/pg/0/unassigned', severity: 'warning', firstSeen: sim.now - 10 * MINUTE, reason: 'UNASSIGNED for 10 min (heal.unassignedAfter 10 min)' }),
      }),
    ]);
    sim.advance(POLL).run(5 * MINUTE, POLL, unassigned);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.poll([connector('pg', 'RUNNING', [task(0, 'RUNNING', { workerId: W2 })])])).toEqual([
      expect.objectContaining({ kind: 'resolve', resolution: 'assigned' }),
    ]);
  });

  it('an UNASSIGNED connector (worker left) pages for the connector, never restarts its stale FAILED task', () => {
    const sim = new Sim();
    const c = connector('pg-nopub', 'UNASSIGNED', [task(0, 'FAILED', { cls: 'connection', workerId: W2 })], { workerId: W2 });
    sim.run(11 * MINUTE, POLL, [c]);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate']);
    expect(sim.actionsOf('escalate')[0]!.action.incident.key).toBe('prod/pg-nopub/connector/unassigned');
  });

  it("names a start() blocked since its worker restarted: Kafka 4.3.1 reads that connector UNASSIGNED on a live worker, its task RUNNING", () => {
    // Real worker, 2026-12-06: a connector whose start() blocks, its worker restarted (SIGTERM, started again):
    // {"connector":{"state":"UNASSIGNED","worker_id":"127.0.0.1:38083","version":null},"tasks":[{"id":0,"state":"RUNNING",…}]}
    // for as long as start() blocks. Not RESTARTING (that is after a restart request), so only this page tells of it.
    const sim = new Sim();
    const stuck = [connector('jdbc', 'UNASSIGNED', [task(0, 'RUNNING')])];
    sim.run(11 * MINUTE, POLL, stuck);
    const incident = sim.actionsOf('escalate')[0]!.action.incident;
    expect(incident.key).toBe('prod/jdbc/connector/unassigned');
    expect(incident.hint).toMatch(/start\(\) may not have returned since its worker restarted/);
  });
});

describe('a connector or task stuck RESTARTING', () => {
  // Kafka 4.3.1: after POST /connectors/NAME/restart?includeTasks=true&onlyFailed=true (202) the connector reads
  // RESTARTING ("version":null) until its start() returns; one whose start() blocks reads RESTARTING for good.
  it("pages a FAILED connector whose restart never finished, under its failure class, after heal.unassignedAfter; resolves once it runs", () => {
    const sim = new Sim();
    sim.poll([connector('jdbc', 'FAILED', [], { cls: 'connection' })]);
    expect(sim.actionsOf('restart-connector')).toHaveLength(1);
    const restarting = [connector('jdbc', 'RESTARTING', [])];
    sim.advance(POLL).run(9 * MINUTE, POLL, restarting);
    expect(sim.actionsOf('escalate')).toEqual([]);
    sim.run(2 * MINUTE, POLL, restarting);
    expect(sim.actionsOf('escalate')).toEqual([
      expect.objectContaining({
        action: expect.objectContaining({
          incident: expect.objectContaining({ key: 'prod/jdbc/connector/connection', severity: 'error', firstSeen: T0, reason: expect.stringMatching(/^RESTARTING for 10 min/) }),
        }),
      }),
    ]);
    expect(sim.actionsOf('restart-connector')).toHaveLength(1);
    sim.run(15 * MINUTE, POLL, [connector('jdbc', 'RUNNING', [task(0, 'RUNNING')])]);
    expect(sim.actionsOf('resolve')).toEqual([expect.objectContaining({ action: expect.objectContaining({ resolution: 'recovered' }) })]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
  });

  it('pages a task an operator restarted that never started (class unknown), and not one that starts within the delay', () => {
    const sim = new Sim();
    sim.poll([connector('s3', 'RUNNING', [task(0, 'RUNNING'), task(1, 'RUNNING')])]);
    sim.advance(POLL).run(11 * MINUTE, POLL, [connector('s3', 'RUNNING', [task(0, 'RESTARTING'), task(1, 'RUNNING')])]);
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/s3/0/unknown']);
    sim.run(MINUTE, POLL, [connector('s3', 'RUNNING', [task(0, 'RUNNING'), task(1, 'RUNNING')])]);
    expect(sim.actionsOf('resolve').map((e) => e.action.incident.key)).toEqual(['prod/s3/0/unknown']);
    sim.run(5 * MINUTE, POLL, [connector('s3', 'RUNNING', [task(0, 'RUNNING'), task(1, 'RESTARTING')])]);
    sim.run(MINUTE, POLL, [connector('s3', 'RUNNING', [task(0, 'RUNNING'), task(1, 'RUNNING')])]);
    expect(sim.actionsOf('escalate')).toHaveLength(1);
  });

  // The stuck-RESTARTING page is under its failure's key: once the subject reads FAILED and that failure's page is
  // due, the page must say so (its reason, hint, root cause and trace), not go on saying RESTARTING.
  it('a FAILED connector paged for a restart that never finished, FAILED again: its failure page replaces the RESTARTING page once due', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'restart-then-escalate' } }), { roundTrip: true });
    const failed = [connector('jdbc', 'FAILED', [], { cls: 'connection' })];
    sim.poll(failed);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, [connector('jdbc', 'RESTARTING', [])]);
    expect(sim.actionsOf('escalate').map((e) => [e.action.incident.key, e.action.incident.reason])).toEqual([['prod/jdbc/connector/connection', expect.stringMatching(/^RESTARTING for 10 min/)]]);
    const actions = sim.poll(failed);
    expect(actions.filter((a) => a.kind === 'escalate')).toEqual([
      {
        kind: 'escalate',
        update: true,
        incident: expect.objectContaining({
          key: 'prod/jdbc/connector/connection',
          reason: expect.stringMatching(/^still failing after a restart; it was paged before: RESTARTING for 10 min .*its start\(\) has not returned$/),
          rootCause: expect.stringContaining('PSQLException'),
          hint: 'check the connection',
          traceExcerpt: expect.stringContaining('PSQLException'),
          firstSeen: T0,
        }),
      },
    ]);
    // Replaced once, not at every poll; resolved once when it runs.
    sim.advance(POLL).run(30 * MINUTE, POLL, failed);
    expect(sim.actionsOf('escalate')).toHaveLength(2);
    sim.run(DEFAULTS.stablePeriod + POLL, POLL, [connector('jdbc', 'RUNNING', [])]);
    expect(sim.actionsOf('resolve').map((e) => [e.action.incident.key, e.action.incident.hint, e.action.resolution])).toEqual([['prod/jdbc/connector/connection', 'check the connection', 'recovered']]);
    expect(sim.actionsOf('escalate')).toHaveLength(2);
  });

  it('a task an operator restarted that never started, then FAILED unknown (heal.actions.unknown escalate): its failure page replaces the RESTARTING page at once', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.poll([oneTask('s3', 'RUNNING')]);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, [oneTask('s3', 'RESTARTING')]);
    expect(sim.actionsOf('escalate').map((e) => [e.action.incident.key, e.action.incident.rootCause])).toEqual([['prod/s3/0/unknown', '']]);
    const failedAt = sim.now;
    expect(sim.poll([oneTask('s3', 'FAILED', 'unknown')]).filter((a) => a.kind === 'escalate')).toEqual([
      {
        kind: 'escalate',
        update: true,
        incident: expect.objectContaining({ key: 'prod/s3/0/unknown', reason: expect.stringMatching(/^heal\.actions\.unknown is escalate: .*; it was paged before: RESTARTING for /), hint: 'check the unknown', firstSeen: failedAt }),
      },
    ]);
    expect(sim.state.incidents['prod/s3/0/unknown']?.hint).toBe('check the unknown');
  });

  it('a RESTARTING page whose subject then fails with another class: that failure pages under its own key, and the RESTARTING page is resolved in that poll', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, serialization: 'escalate' } }));
    sim.poll([oneTask('s3', 'RUNNING')]);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, [oneTask('s3', 'RESTARTING')]);
    const pages = sim.poll([oneTask('s3', 'FAILED', 'serialization')]).filter((a) => a.kind === 'escalate' || a.kind === 'resolve');
    expect(pages.map((a) => [a.kind, a.incident.key, a.kind === 'escalate' ? a.update : a.resolution])).toEqual([
      ['escalate', 'prod/s3/0/serialization', undefined],
      ['resolve', 'prod/s3/0/unknown', 'superseded-by-failure'],
    ]);
  });
});

// A condition page (no status, RESTARTING too long) whose subject then fails with another class: that failure pages
// under its own key, and the condition page, which went on saying "no status" or "RESTARTING" beside it until the
// subject had run for heal.stablePeriod, is resolved in the poll its failure page is sent (superseded-by-failure).
describe('a condition page whose subject fails with another class', () => {
  const pages = (actions: readonly Action[]): string[] =>
    actions.flatMap((a) => (a.kind === 'escalate' ? [`escalate${a.update === true ? ' (update)' : ''} ${a.incident.key}`] : a.kind === 'resolve' ? [`resolve ${a.incident.key} ${a.resolution ?? ''}`] : []));
  const all = (sim: Sim): string[] => pages(sim.log.map((e) => e.action));
  const failedJdbc = [connector('jdbc', 'FAILED', [], { cls: 'connection' })];

  // Kafka 4.3.1: a connector created while its start() blocks has no status (paged unknown); the start() that ends in
  // "Connection refused" reads FAILED with class connection.
  it('no status (unknown), then FAILED connection with the default restart: the no-status page stays while restarts run, and is resolved when the connection page is sent', () => {
    const sim = new Sim();
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    expect(all(sim)).toEqual(['escalate prod/jdbc/connector/unknown']);
    // Restarts under way: its page is not due, the no-status page stays as it was sent.
    sim.poll(failedJdbc);
    expect(sim.actionsOf('restart-connector')).toHaveLength(1);
    expect(all(sim)).toEqual(['escalate prod/jdbc/connector/unknown']);
    let paged: Action[] = [];
    for (let i = 0; i < 400 && paged.length === 0; i++) paged = sim.advance(POLL).poll(failedJdbc).filter((a) => a.kind === 'escalate' || a.kind === 'resolve');
    // One decision: the failure's page, then the stale page resolved.
    expect(pages(paged)).toEqual(['escalate prod/jdbc/connector/connection', 'resolve prod/jdbc/connector/unknown superseded-by-failure']);
    expect(Object.keys(sim.state.incidents)).toEqual(['prod/jdbc/connector/connection']);
    // Once, not again; the failure page resolves as one.
    sim.advance(POLL).run(30 * MINUTE, POLL, failedJdbc);
    sim.run(DEFAULTS.stablePeriod + POLL, POLL, [connector('jdbc', 'RUNNING', [])]);
    expect(all(sim)).toEqual([
      'escalate prod/jdbc/connector/unknown',
      'escalate prod/jdbc/connector/connection',
      'resolve prod/jdbc/connector/unknown superseded-by-failure',
      'resolve prod/jdbc/connector/connection recovered',
    ]);
  });

  it('through the state file too', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'escalate' } }), { roundTrip: true });
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    sim.restart();
    expect(pages(sim.poll(failedJdbc))).toEqual(['escalate prod/jdbc/connector/connection', 'resolve prod/jdbc/connector/unknown superseded-by-failure']);
  });

  it('inside a maintenance window: neither paged nor resolved; both at the first poll after it', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'escalate' } }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    sim.run(30 * MINUTE, POLL, failedJdbc, { inMaintenance: () => true });
    expect(all(sim)).toEqual(['escalate prod/jdbc/connector/unknown']);
    expect(pages(sim.poll(failedJdbc))).toEqual(['escalate prod/jdbc/connector/connection', 'resolve prod/jdbc/connector/unknown superseded-by-failure']);
  });

  it('a sidecar that does not own it sends no failure page, and keeps its copy of the no-status page as sent', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'escalate' } }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'], owns: () => false });
    sim.run(30 * MINUTE, POLL, failedJdbc, { owns: () => false });
    expect(all(sim)).toEqual(['escalate prod/jdbc/connector/unknown']);
  });

  it('its connection failure spoken for by a cluster outage: no page of its own, and the condition page stays', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'escalate' }, clusterOutageThreshold: 2 }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [oneTask('pg', 'RUNNING')], { noStatus: ['jdbc'] });
    sim.poll([oneTask('pg', 'FAILED', 'connection'), ...failedJdbc]);
    expect(all(sim)).toEqual(['escalate prod/jdbc/connector/unknown', 'escalate prod/*/connector/cluster-outage']);
  });

  it("spoken for by its connector's failure page of that class (one page per connector and class): resolved as well", () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, serialization: 'escalate' } }));
    const sink = (t0: 'RUNNING' | 'RESTARTING' | 'FAILED', t1: 'RUNNING' | 'FAILED') =>
      [connector('sink', 'RUNNING', [task(0, t0, t0 === 'FAILED' ? { cls: 'serialization' } : {}), task(1, t1, t1 === 'FAILED' ? { cls: 'serialization' } : {})])];
    sim.poll(sink('RUNNING', 'RUNNING'));
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, sink('RESTARTING', 'RUNNING'));
    sim.poll(sink('RESTARTING', 'FAILED'));
    expect(all(sim)).toEqual(['escalate prod/sink/0/unknown', 'escalate prod/sink/1/serialization']);
    // Task 0's failure is task 1's page's (no page of its own): its RESTARTING page is over all the same.
    expect(pages(sim.advance(POLL).poll(sink('FAILED', 'FAILED')))).toEqual(['resolve prod/sink/0/unknown superseded-by-failure']);
    expect(Object.keys(sim.state.incidents)).toEqual(['prod/sink/1/serialization']);
  });

  it('a stale condition page left open beside its failure page (a state file of an earlier version) is resolved at the next poll', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'escalate' } }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['jdbc'] });
    const stale = sim.state.incidents['prod/jdbc/connector/unknown']!;
    sim.poll(failedJdbc);
    sim.state = { ...sim.state, incidents: { ...sim.state.incidents, [stale.key]: stale } };
    expect(pages(sim.advance(POLL).poll(failedJdbc))).toEqual(['resolve prod/jdbc/connector/unknown superseded-by-failure']);
  });
});

describe('repeated rebalancing', () => {
  it("pages a warning when a task's worker changes more than maxMoves times in the window, then settles", () => {
    const sim = new Sim(withConfig({ rebalance: { maxMoves: 3, window: 30 * MINUTE } }));
    const on = (w: string) => [connector('pg', 'RUNNING', [task(0, 'RUNNING', { workerId: w })])];
    sim.poll(on(W1));
    for (let i = 1; i <= 3; i++) sim.advance(2 * MINUTE).poll(on(i % 2 ? W2 : W1));
    expect(sim.log).toEqual([]); // 3 moves: not more than maxMoves
    expect(sim.advance(2 * MINUTE).poll(on(W1))).toEqual([
      expect.objectContaining({ kind: 'escalate', incident: expect.objectContaining({ key: 'prod/pg/0/rebalancing', severity: 'warning' }) }),
    ]);
    sim.advance(POLL).run(10 * MINUTE, POLL, on(W1));
    expect(sim.actionsOf('resolve')).toEqual([expect.objectContaining({ action: expect.objectContaining({ resolution: 'settled' }) })]);
  });
});

describe('one page per connector and class', () => {
  it('a sink of 32 tasks failing on one bad record, or on its database, pages once, not 32 times', () => {
    for (const cls of ['serialization', 'connection'] as const) {
      const sim = new Sim();
      const tasks = Array.from({ length: 32 }, (_, i) => task(i, 'FAILED', { cls }));
      sim.run(40 * MINUTE, POLL, [connector('sink', 'RUNNING', tasks)]);
      expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual([`prod/sink/0/${cls}`]);
      expect(sim.actionsOf('escalate')[0]!.action.incident.reason).toMatch(/; also failing the same way: 31 other tasks of this connector$/);
    }
  });

  it('a FAILED connector and its FAILED tasks, one cause: one page (the connector\'s); another class still pages', () => {
    const sim = new Sim();
    const c = connector('pg', 'FAILED', [0, 1, 2, 3].map((i) => task(i, 'FAILED', { cls: 'connection' })).concat(task(4, 'FAILED', { cls: 'config' })), { cls: 'connection' });
    sim.run(60 * MINUTE, POLL, [c]);
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key).sort()).toEqual(['prod/pg/4/config', 'prod/pg/connector/connection']);
    const reasons = sim.actionsOf('escalate').map((e) => e.action.incident.reason);
    expect(reasons).toContain('still failing after 3 restarts within 30 min; also failing the same way: 4 other tasks of this connector');
    expect(reasons).toContain('configuration failures are not fixed by a restart');
  });

  it('when the speaking subject recovers and others still fail, one of them pages', () => {
    const sim = new Sim();
    const failing = (ids: number[]) => [connector('sink', 'RUNNING', [0, 1, 2].map((i) => task(i, ids.includes(i) ? 'FAILED' : 'RUNNING', ids.includes(i) ? { cls: 'serialization' } : {})))];
    sim.run(5 * MINUTE, POLL, failing([0, 1, 2]));
    sim.run(15 * MINUTE, POLL, failing([1, 2]));
    expect(sim.log.filter((e) => e.action.kind === 'escalate' || e.action.kind === 'resolve').map((e) => `${e.action.kind} ${(e.action as { incident: { key: string } }).incident.key}`)).toEqual([
      'escalate prod/sink/0/serialization',
      'resolve prod/sink/0/serialization',
      'escalate prod/sink/1/serialization',
    ]);
  });
});

// A page no failure opened (a subject RESTARTING too long, a connector with no status: no root cause) tells of that
// subject alone: it speaks for a sibling's condition page of its class, never for a sibling's failure page, or the
// sibling's failure went unpaged while the open page went on saying RESTARTING (or "no status").
describe('one page per connector and class: a condition page speaks for no sibling failure', () => {
  const pages = (actions: readonly Action[]): string[] => actions.flatMap((a) => (a.kind === 'escalate' || a.kind === 'resolve' ? [`${a.kind}${a.kind === 'escalate' && a.update === true ? ' (update)' : ''} ${a.incident.key}`] : []));
  const sink = (t0: 'RUNNING' | 'RESTARTING' | 'FAILED', t1: 'RUNNING' | 'RESTARTING' | 'FAILED', cls?: 'connection' | 'unknown') =>
    [connector('sink', 'RUNNING', [task(0, t0, t0 === 'FAILED' && cls !== undefined ? { cls } : {}), task(1, t1, t1 === 'FAILED' && cls !== undefined ? { cls } : {})])];

  it('task 0 RESTARTING too long (paged), task 1 FAILED unknown under heal.actions.unknown escalate: task 1 pages on its own', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.poll(sink('RUNNING', 'RUNNING'));
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, sink('RESTARTING', 'RUNNING'));
    expect(sim.actionsOf('escalate').map((e) => [e.action.incident.key, e.action.incident.rootCause])).toEqual([['prod/sink/0/unknown', '']]);
    expect(pages(sim.poll(sink('RESTARTING', 'FAILED', 'unknown')))).toEqual(['escalate prod/sink/1/unknown']);
    expect(sim.state.incidents['prod/sink/1/unknown']).toMatchObject({ rootCause: expect.stringContaining('IllegalStateException'), hint: 'check the unknown' });
    // The RESTARTING page stays as it was: it is task 0's, which is still RESTARTING.
    expect(sim.state.incidents['prod/sink/0/unknown']).toMatchObject({ reason: expect.stringMatching(/^RESTARTING for /), rootCause: '' });
  });

  it('its database down: task 0 blocked in start() (paged), task 1 FAILED again after its restart: task 1 pages on its own', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, connection: 'restart-then-escalate' } }), { roundTrip: true });
    sim.poll(sink('FAILED', 'RUNNING', 'connection'));
    expect(sim.actionsOf('restart-task')).toHaveLength(1);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, sink('RESTARTING', 'RUNNING'));
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/0/connection']);
    // Restarted once, FAILED again: its page is due (restarts go on at the backoff).
    sim.run(5 * MINUTE, POLL, sink('RESTARTING', 'FAILED', 'connection'));
    expect(sim.actionsOf('restart-task').filter((r) => r.action.task === 1).length).toBeGreaterThan(1);
    expect(sim.actionsOf('escalate').map((e) => [e.action.incident.key, e.action.incident.reason])).toEqual([
      ['prod/sink/0/connection', expect.stringMatching(/^RESTARTING for 10 min/)],
      ['prod/sink/1/connection', 'still failing after a restart'],
    ]);
  });

  it('a second task RESTARTING too long is spoken for by the first one\'s page: one page', () => {
    const sim = new Sim();
    sim.poll(sink('RUNNING', 'RUNNING'));
    sim.advance(POLL).run(5 * MINUTE, POLL, sink('RESTARTING', 'RUNNING'));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, sink('RESTARTING', 'RESTARTING'));
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/0/unknown']);
  });

  it('a failure page still speaks for a sibling RESTARTING too long: one page', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.poll(sink('RUNNING', 'FAILED', 'unknown'));
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, sink('RESTARTING', 'FAILED', 'unknown'));
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/1/unknown']);
  });

  it('a connector paged for no status, restarted once FAILED: a task then FAILED unknown pages while the no-status page waits out heal.stablePeriod', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'restart-then-escalate' } }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['sink'] });
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/connector/unknown']);
    // Its start() returns by throwing: FAILED unknown, restarted (its page not due yet); it then runs, its task fails.
    sim.poll([connector('sink', 'FAILED', [], { cls: 'unknown' })]);
    expect(sim.actionsOf('restart-connector')).toHaveLength(1);
    sim.advance(POLL).run(2 * MINUTE, POLL, [oneTask('sink', 'FAILED', 'unknown')]);
    expect(sim.actionsOf('restart-task').length).toBeGreaterThan(1);
    // Its page was due after the first restart; the no-status page is still open (the connector has not yet run
    // for heal.stablePeriod), and tells of the connector only.
    expect(sim.state.incidents['prod/sink/connector/unknown']).toMatchObject({ rootCause: '' });
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/connector/unknown', 'prod/sink/0/unknown']);
  });
});

describe('a page resolved in the poll where another of its connector and class is due', () => {
  // "One page per connector and class" holds while a page is open; one that resolves in this very poll speaks
  // for nobody, so the one due pages in that poll (the benchmark's target: serialization and config within one poll).
  const pages = (actions: readonly Action[]): string[] => actions.flatMap((a) => (a.kind === 'escalate' || a.kind === 'resolve' ? [`${a.kind} ${a.incident.key}`] : []));
  const SERIALIZATION = (() => {
    const line = readFileSync(join(import.meta.dirname, '../fixtures/traces/real-worker.jsonl'), 'utf8')
      .split('\n')
      .find((l) => l.includes('"real-serialization-not-json-filestream-sink"'));
    return (JSON.parse(line ?? '{}') as { trace: string }).trace;
  })();

  it('a connector paged for having no status that then reads with a task FAILED on a real serialization trace: paged in that poll', () => {
    const sim = new Sim();
    // The stub classifier of these tests reads the real trace as the real classifier does.
    expect([createClassifier()(SERIALIZATION).class, sim.classify(SERIALIZATION).class]).toEqual(['serialization', 'serialization']);
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['sink'] });
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/connector/unknown']);
    // Not late before either: the no-status page is unknown, and speaks for no serialization failure.
    const actions = sim.poll([connector('sink', 'RUNNING', [task(0, 'FAILED', { trace: SERIALIZATION })])]);
    expect(pages(actions).sort()).toEqual(['escalate prod/sink/0/serialization', 'resolve prod/sink/connector/unknown']);
  });

  it('heal.actions.unknown escalate: a task FAILED unknown pages in the poll its connector\'s no-status page (unknown) resolves', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.run(DEFAULTS.unassignedAfter + POLL, POLL, [], { noStatus: ['sink'] });
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/connector/unknown']);
    expect(pages(sim.poll([oneTask('sink', 'FAILED', 'unknown')]))).toEqual(['resolve prod/sink/connector/unknown', 'escalate prod/sink/0/unknown']);
  });

  it('heal.actions.unknown escalate: a task FAILED unknown pages in the poll its connector\'s stuck-RESTARTING page (unknown) resolves', () => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, unknown: 'escalate' } }));
    sim.poll([oneTask('sink', 'RUNNING')]);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, [connector('sink', 'RESTARTING', [task(0, 'RUNNING')])]);
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/connector/unknown']);
    expect(pages(sim.poll([oneTask('sink', 'FAILED', 'unknown')]))).toEqual(['resolve prod/sink/connector/unknown', 'escalate prod/sink/0/unknown']);
  });

  it('a task FAILED on serialization pages in the poll its sibling\'s serialization page resolves (RUNNING for heal.stablePeriod)', () => {
    const sim = new Sim();
    const sink = (failed: number[]) => [connector('sink', 'RUNNING', [0, 1].map((i) => task(i, failed.includes(i) ? 'FAILED' : 'RUNNING', failed.includes(i) ? { cls: 'serialization' } : {})))];
    sim.poll(sink([0]));
    sim.advance(POLL).run(DEFAULTS.stablePeriod, POLL, sink([]));
    expect(pages(sim.poll(sink([1])))).toEqual(['resolve prod/sink/0/serialization', 'escalate prod/sink/1/serialization']);
    // One page per connector and class still holds while a page is open: task 0 failing again is spoken for.
    sim.advance(POLL).run(5 * MINUTE, POLL, sink([0, 1]));
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/0/serialization', 'prod/sink/1/serialization']);
  });

  it('heal.noTasksAfter: a connector whose no-tasks page resolves as its tasks appear, one FAILED on serialization, pages it in that poll', () => {
    const sim = new Sim(withConfig({ noTasksAfter: 5 * MINUTE }));
    sim.run(5 * MINUTE + POLL, POLL, [connector('sink', 'RUNNING', [])]);
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/sink/connector/no-tasks']);
    expect(pages(sim.poll([oneTask('sink', 'FAILED', 'serialization')])).sort()).toEqual(['escalate prod/sink/0/serialization', 'resolve prod/sink/connector/no-tasks']);
  });
});

describe('a cluster-wide outage', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const all = (state: 'FAILED' | 'RUNNING' | 'UNASSIGNED') => names.map((n) => oneTask(n, state, state === 'FAILED' ? 'connection' : undefined));

  it('pages one critical incident instead of one per connector; restarts go on', () => {
    const sim = new Sim();
    sim.advance(POLL).poll(all('RUNNING'));
    const first = sim.advance(POLL).poll(all('FAILED'));
    expect(kinds(first)).toEqual(['escalate', ...names.map(() => 'restart-task')]);
    expect(first[0]).toMatchObject({
      kind: 'escalate',
      incident: { key: 'prod/*/connector/cluster-outage', connector: '*', task: null, class: 'cluster-outage', severity: 'critical' },
    });
    expect((first[0] as { incident: { reason: string } }).incident.reason).toBe('6 connectors failed with connection errors in the same poll (a, b, c, d, e, …)');
    sim.advance(POLL).run(30 * MINUTE, POLL, all('FAILED'));
    // no per-connector page although each is past escalateAfter
    expect(sim.actionsOf('escalate')).toHaveLength(1);
    expect(sim.actionsOf('restart-task').length).toBeGreaterThan(names.length * 3);
  });

  it('failing a few connectors a poll (each noticing the database in its own time): one page, once restarts have not healed them', () => {
    const sim = new Sim();
    const start = sim.now;
    // two more connectors fail each poll, below the threshold of newly failing ones in one poll
    const rolling = (now: number) => names.map((n, i) => oneTask(n, now - start >= (Math.floor(i / 2) + 1) * POLL ? 'FAILED' : 'RUNNING', now - start >= (Math.floor(i / 2) + 1) * POLL ? 'connection' : undefined));
    sim.run(60 * MINUTE, POLL, rolling);
    const pages = sim.actionsOf('escalate');
    expect(pages.map((p) => p.action.incident.class)).toEqual(['cluster-outage']);
    expect(pages[0]!.action.incident.reason).toMatch(/^6 connectors are failing with connection errors that restarts have not healed \(a, b, c, d, e, …\)$/);
    // paged when the first connector's own page was due, not before its restarts
    expect(sim.actionsOf('restart-task').filter((r) => r.at <= pages[0]!.at).length).toBeGreaterThanOrEqual(3);
  });

  it('begun inside a maintenance window, still on when it ends: restarted first, then one page, not one per connector', () => {
    const sim = new Sim();
    const inside = { inMaintenance: () => true };
    sim.run(20 * MINUTE, POLL, all('RUNNING'), inside);
    sim.run(40 * MINUTE, POLL, all('FAILED'), inside);
    expect(sim.actionsOf('escalate')).toEqual([]);
    // the window closes; the database stays down for an hour
    const ended = sim.now;
    sim.run(60 * MINUTE, POLL, all('FAILED'));
    const pages = sim.actionsOf('escalate');
    expect(pages.map((p) => p.action.incident.class)).toEqual(['cluster-outage']);
    expect(pages[0]!.at).toBeGreaterThan(ended); // not at the first poll: its restarts may heal what the window broke
  });

  it('is not declared for failures paged one by one over hours: the next connector still pages on its own', () => {
    const sim = new Sim();
    const failing: string[] = [];
    const snap = () => names.map((n) => oneTask(n, failing.includes(n) ? 'FAILED' : 'RUNNING', failing.includes(n) ? 'connection' : undefined));
    // unrelated connectors fail two hours apart, each paged by the restart rule before the next one fails
    for (const n of names) {
      failing.push(n);
      sim.run(120 * MINUTE, POLL, snap());
    }
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(names.map((n) => `prod/${n}/0/connection`));
  });

  it('ended by a maintenance window whose restarts heal it: no page', () => {
    const sim = new Sim();
    sim.run(20 * MINUTE, POLL, all('FAILED'), { inMaintenance: () => true });
    sim.poll(all('FAILED'));
    sim.advance(POLL).run(30 * MINUTE, POLL, all('RUNNING'));
    expect(sim.actionsOf('escalate')).toEqual([]);
    expect(sim.actionsOf('restart-task')).toHaveLength(names.length);
  });

  it("at the watchdog's first poll, groups the failures it finds without claiming they began together", () => {
    const sim = new Sim();
    const first = sim.poll(all('FAILED'));
    expect(kinds(first)).toEqual(['escalate', ...names.map(() => 'restart-task')]);
    expect((first[0] as { incident: { reason: string } }).incident.reason).toBe(
      "6 connectors are failing with connection errors at the watchdog's first poll of this cluster (a, b, c, d, e, …)",
    );
  });

  it('resolves when no connector has failed with connection for the stable period', () => {
    const sim = new Sim();
    sim.run(5 * MINUTE, POLL, all('FAILED'));
    sim.run(10 * MINUTE, POLL, all('RUNNING'));
    expect(sim.actionsOf('resolve')).toEqual([]);
    expect(sim.poll(all('RUNNING'))).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'outage-over' })]);
  });

  // A rolling restart of the workers during the outage leaves every task UNASSIGNED for a poll or two: not
  // RUNNING for the stable period, so not over; resolved there, the outage paged again when they failed anew.
  it('stays open, one page, while a rolling restart of the workers leaves the failing tasks UNASSIGNED', () => {
    const sim = new Sim();
    sim.run(5 * MINUTE, POLL, all('FAILED'));
    sim.run(2 * POLL, POLL, all('UNASSIGNED'));
    sim.run(10 * MINUTE, POLL, all('FAILED'));
    const outage = (e: { action: { incident: { class: string } } }) => e.action.incident.class === 'cluster-outage';
    expect(sim.actionsOf('resolve').filter(outage)).toEqual([]);
    expect(sim.actionsOf('escalate').filter(outage)).toHaveLength(1);
    sim.run(10 * MINUTE, POLL, all('RUNNING'));
    sim.poll(all('RUNNING'));
    expect(sim.actionsOf('resolve').filter(outage)).toEqual([expect.objectContaining({ action: expect.objectContaining({ resolution: 'outage-over' }) })]);
  });

  it('resolves though a connector parked (PAUSED, STOPPED) with a connection failure long before still sits in state', () => {
    for (const parked of ['PAUSED', 'STOPPED'] as const) {
      const sim = new Sim();
      const x = (state: 'RUNNING' | typeof parked) => connector('x', state, state === 'RUNNING' ? [task(0, 'FAILED', { cls: 'connection' })] : []);
      sim.run(2 * MINUTE, POLL, [x('RUNNING'), ...all('RUNNING')]);
      sim.run(60 * MINUTE, POLL, [x(parked), ...all('RUNNING')]);
      sim.restart();
      sim.run(2 * MINUTE, POLL, [x(parked), ...all('FAILED')]);
      sim.run(15 * MINUTE, POLL, [x(parked), ...all('RUNNING')]);
      const outage = (e: { action: { incident: { class: string } } }) => e.action.incident.class === 'cluster-outage';
      expect(sim.actionsOf('escalate').filter(outage)).toHaveLength(1);
      expect(sim.actionsOf('resolve').filter(outage)).toEqual([expect.objectContaining({ action: expect.objectContaining({ resolution: 'outage-over' }) })]);
    }
  });

  it('does not count a connector paged for a task RESTARTING too long after a connection failure: its other task pages on its own', () => {
    // That connector is on the pager already, as one page: as for failures paged one by one, no outage of it.
    const sim = new Sim(withConfig({ clusterOutageThreshold: 2, actions: { ...DEFAULTS.actions, connection: 'restart-then-escalate' } }));
    const a = (t1: 'RUNNING' | 'FAILED') => connector('a', 'RUNNING', [task(0, 'RESTARTING'), task(1, t1, t1 === 'FAILED' ? { cls: 'connection' } : {})]);
    sim.poll([connector('a', 'RUNNING', [task(0, 'FAILED', { cls: 'connection' }), task(1, 'RUNNING')]), oneTask('b', 'RUNNING')]);
    sim.advance(POLL).run(DEFAULTS.unassignedAfter + POLL, POLL, [a('RUNNING'), oneTask('b', 'RUNNING')]);
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key)).toEqual(['prod/a/0/connection']);
    // In two polls, not newly failing together: counted when the first own page is due.
    sim.poll([a('RUNNING'), oneTask('b', 'FAILED', 'connection')]);
    sim.advance(POLL).run(5 * MINUTE, POLL, [a('FAILED'), oneTask('b', 'FAILED', 'connection')]);
    expect(sim.actionsOf('escalate').map((e) => e.action.incident.key).sort()).toEqual(['prod/a/0/connection', 'prod/a/1/connection', 'prod/b/0/connection']);
  });

  it('is not declared below the threshold: each connector pages on its own', () => {
    const few = new Sim(withConfig({ clusterOutageThreshold: 7 }));
    few.run(60 * MINUTE, POLL, all('FAILED'));
    expect(few.actionsOf('escalate').map((e) => e.action.incident.class)).toEqual(names.map(() => 'connection'));
  });

  it('counts neither connectors in maintenance nor connectors failing with another class', () => {
    const sim = new Sim(withConfig({ clusterOutageThreshold: 3 }));
    sim.poll([oneTask('a', 'FAILED', 'connection'), oneTask('b', 'FAILED', 'connection'), oneTask('c', 'FAILED', 'unknown'), oneTask('d', 'FAILED', 'connection')], {
      inMaintenance: (c) => c === 'd',
    });
    expect(sim.actionsOf('escalate')).toEqual([]);
  });
});

describe('defaults', () => {
  it('are the schema defaults the issue asks for', () => {
    expect(DEFAULTS).toMatchObject({
      actions: { connection: 'restart', unknown: 'restart', serialization: 'escalate', config: 'escalate' },
      backoff: { initial: 10_000, factor: 2, max: 600_000 },
      maxAttempts: 0,
      stablePeriod: 600_000,
      escalateAfter: { restarts: 3, window: 1_800_000 },
      unassignedAfter: 600_000,
      budget: { perMinute: 10 },
    });
  });
});

describe('a failure page written with the real classifier', () => {
  // The hint comes from the classifier, which does not know heal.actions; only the reason (the policy's) may say
  // what the watchdog did. A hint saying "the watchdog restarts the task" is false under escalate.
  const realSim = (actions: Partial<typeof DEFAULTS.actions>) => {
    const sim = new Sim(withConfig({ actions: { ...DEFAULTS.actions, ...actions } }));
    Object.assign(sim, { classify: createClassifier() });
    return sim;
  };
  const EOF =
    'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.\n' +
    'Caused by: org.postgresql.util.PSQLException: Database connection failed when reading from copy\n' +
    'Caused by: java.io.EOFException\n';
  const traces = [
    ['connection', 'a PostgreSQL session ended (postgres-connection)', TRACES.connection],
    ['connection', 'a connection dropped with no specific rule (the class hint)', EOF],
    ['unknown', 'no rule matched (the class hint)', TRACES.unknown],
  ] as const;

  it.each(traces)('heal.actions.%s escalate, %s: nothing is restarted, and neither reason nor hint says it is', (cls, _what, trace) => {
    const sim = realSim({ [cls]: 'escalate' });
    const failing = [connector('c', 'RUNNING', [task(0, 'FAILED', { trace })])];
    sim.run(60 * MINUTE, POLL, failing);
    expect(sim.actionsOf('restart-task')).toEqual([]);
    const pages = sim.actionsOf('escalate').map((e) => e.action.incident);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ class: cls, attempts: 0, reason: `heal.actions.${cls} is escalate: ${cls === 'connection' ? 'connection' : 'unclassified'} failures are paged, not restarted` });
    expect(pages[0]!.hint).not.toMatch(/restart|backoff|watchdog/i);
  });

  it.each(traces)('heal.actions.%s restart, %s: the reason counts the restarts spent, the hint only what to check', (cls, _what, trace) => {
    const sim = realSim({ [cls]: 'restart' });
    sim.run(60 * MINUTE, POLL, [connector('c', 'RUNNING', [task(0, 'FAILED', { trace })])]);
    const restarts = sim.actionsOf('restart-task');
    const [page] = sim.actionsOf('escalate');
    expect(page!.action.incident.reason).toBe(`still failing after ${DEFAULTS.escalateAfter.restarts} restarts within 30 min`);
    expect(restarts.filter((r) => r.at < page!.at)).toHaveLength(DEFAULTS.escalateAfter.restarts);
    expect(page!.action.incident.hint).not.toMatch(/restart|backoff|watchdog/i);
  });

  it.each(traces)('heal.actions.%s restart-then-escalate, %s: paged after the one restart, and says so', (cls, _what, trace) => {
    const sim = realSim({ [cls]: 'restart-then-escalate' });
    sim.run(60 * MINUTE, POLL, [connector('c', 'RUNNING', [task(0, 'FAILED', { trace })])]);
    const [page] = sim.actionsOf('escalate');
    expect(page!.action.incident.reason).toBe('still failing after a restart');
    expect(sim.actionsOf('restart-task').filter((r) => r.at < page!.at)).toHaveLength(1);
    expect(page!.action.incident.hint).not.toMatch(/restart|backoff|watchdog/i);
  });
});
