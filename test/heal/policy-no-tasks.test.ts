/**
 * heal.noTasksAfter: a connector RUNNING with no task at all (its task configs never written: a follower that
 * cannot forward them to the leader) is paged no-tasks once it has listed none for that long. Opt-in.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ConnectorSnapshot, State } from '../../src/connect/types.js';
import { shiftTimes } from '../../src/heal/clock-step.js';
import type { HealState } from '../../src/heal/types.js';
import { StateStore } from '../../src/state/store.js';
import { connector, DEFAULTS, kinds, MINUTE, SECOND, Sim, T0, task, W1, W2, withConfig } from './helpers.js';

const POLL = 10 * SECOND;
const AFTER = 15 * MINUTE;
const ON = withConfig({ noTasksAfter: AFTER });
const KEY = 'prod/mm2-checkpoint/connector/no-tasks';

const taskless = (state: State = 'RUNNING', workerId = W1): ConnectorSnapshot => connector('mm2-checkpoint', state, [], { workerId });
const withTask = (state: State = 'RUNNING'): ConnectorSnapshot => connector('mm2-checkpoint', state, [task(0, 'RUNNING')]);
const others = [connector('pg', 'RUNNING', [task(0, 'RUNNING'), task(1, 'RUNNING')])];
const pagedAt = (sim: Sim, from = T0) => sim.actionsOf('escalate').map((e) => (e.at - from) / MINUTE);
const resolutions = (sim: Sim) => sim.actionsOf('resolve').map((e) => e.action.resolution);

describe('a connector RUNNING with no task (heal.noTasksAfter)', () => {
  it('is never paged by default (0: off), and leaves nothing in state', () => {
    expect(DEFAULTS.noTasksAfter).toBe(0);
    const sim = new Sim();
    sim.run(6 * 60 * MINUTE, POLL, [taskless(), ...others]);
    expect(sim.log).toEqual([]);
    expect(sim.state.subjects).toEqual({});
  });

  it('pages nothing before heal.noTasksAfter, then one no-tasks incident (error) that stays open without a second page', () => {
    const sim = new Sim(ON);
    expect(sim.run(AFTER, POLL, [taskless(), ...others])).toEqual([]);
    expect(sim.state.subjects['prod/mm2-checkpoint/connector']).toMatchObject({ state: 'RUNNING', noTasksSince: T0 });
    expect(sim.poll([taskless(), ...others])).toEqual([
      {
        kind: 'escalate',
        incident: expect.objectContaining({
          key: KEY,
          class: 'no-tasks',
          severity: 'error',
          connector: 'mm2-checkpoint',
          task: null,
          firstSeen: T0,
          lastSeen: T0 + AFTER,
          workerId: W1,
          attempts: 0,
          rootCause: '',
          traceExcerpt: '',
        }),
      },
    ]);
    const incident = sim.state.incidents[KEY]!;
    expect(incident.reason).toMatch(/^RUNNING with no task for 15 min \(heal.noTasksAfter 15 min\): its task configs were never written\. /);
    // The likely causes, in the page itself: the forwarding to the leader, and a connector that makes no task.
    expect(incident.reason).toContain('rest.advertised.host.name');
    expect(incident.reason).toContain("Failed to reconfigure connector's tasks");
    expect(incident.reason).toContain('makes no task');
    expect(incident.hint).toContain('MirrorCheckpointConnector');
    expect(incident.hint).toContain('heal.noTasksAfter to 0');
    // Open for hours: refreshed, never paged again, never restarted.
    sim.advance(POLL).run(3 * 60 * MINUTE, POLL, [taskless(), ...others]);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate']);
    expect(sim.state.incidents[KEY]?.lastSeen).toBe(sim.now - POLL);
  });

  it('resolves has-tasks when its tasks appear, and leaves state', () => {
    const sim = new Sim(ON);
    sim.run(AFTER + MINUTE, POLL, [taskless()]);
    expect(sim.poll([withTask()])).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'has-tasks', incident: expect.objectContaining({ key: KEY, resolvedAt: sim.now }) })]);
    expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
  });

  it('counts only a run of polls that list no task: a task listed in between starts the count afresh', () => {
    const sim = new Sim(ON);
    sim.run(10 * MINUTE, POLL, [taskless()]);
    sim.poll([withTask()]);
    expect(sim.state.subjects).toEqual({});
    sim.advance(POLL);
    const again = sim.now;
    sim.run(AFTER + MINUTE, POLL, [taskless()]);
    expect(pagedAt(sim, again)).toEqual([15]);
    expect(sim.state.incidents[KEY]?.firstSeen).toBe(again);
  });

  it.each([
    ['paused', taskless('PAUSED'), 'not-running'],
    ['stopped', taskless('STOPPED'), 'not-running'],
    ['FAILED', connector('mm2-checkpoint', 'FAILED', [], { cls: 'config' }), 'not-running'],
  ] as const)('resolves not-running once %s, and counts afresh once RUNNING with no task again', (_, seen, resolution) => {
    const sim = new Sim(ON);
    sim.run(AFTER + MINUTE, POLL, [taskless()]);
    sim.poll([seen]);
    expect(resolutions(sim)).toEqual([resolution]);
    expect(sim.state.subjects['prod/mm2-checkpoint/connector']?.noTasksSince).toBeUndefined();
    sim.advance(POLL);
    const resumed = sim.now;
    sim.run(AFTER + MINUTE, POLL, [taskless()]);
    expect(pagedAt(sim, resumed).at(-1)).toBe(15);
  });

  // A rolling restart of the workers (each writes its connectors UNASSIGNED as it stops) or a worker leaving
  // moves the connector: that fixes nothing unless it lands on the leader, where its tasks then appear.
  it('keeps counting, and keeps its page open, across a rebalance (UNASSIGNED) that puts it back on a worker with no task', () => {
    const sim = new Sim(ON);
    sim.run(10 * MINUTE, POLL, [taskless()]);
    sim.run(MINUTE, POLL, [taskless('UNASSIGNED')]);
    sim.run(10 * MINUTE, POLL, [taskless('RUNNING', W2)]);
    expect(pagedAt(sim)).toEqual([15]);
    sim.run(2 * MINUTE, POLL, [taskless('UNASSIGNED')]);
    sim.run(MINUTE, POLL, [taskless()]);
    expect(resolutions(sim)).toEqual([]);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate']);
    // Moved to the leader, say: its tasks appear.
    sim.poll([withTask()]);
    expect(resolutions(sim)).toEqual(['has-tasks']);
  });

  it('resolves deleted once the listing no longer has it', () => {
    const sim = new Sim(ON);
    sim.run(AFTER + MINUTE, POLL, [taskless(), ...others]);
    sim.poll(others);
    expect(resolutions(sim)).toEqual(['deleted']);
    expect(sim.state).toMatchObject({ subjects: {}, incidents: {} });
  });

  it('keeps counting across a restart in flight (RESTARTING): a restart does not give it tasks, and pages nothing else', () => {
    const sim = new Sim(ON);
    sim.run(10 * MINUTE, POLL, [taskless()]);
    sim.run(2 * MINUTE, POLL, [taskless('RESTARTING')]);
    sim.run(10 * MINUTE, POLL, [taskless()]);
    expect(pagedAt(sim)).toEqual([15]);
    sim.run(MINUTE, POLL, [taskless('RESTARTING')]);
    expect(resolutions(sim)).toEqual([]);
  });

  it('is resolved unwatched when heal.noTasksAfter is set back to 0, and forgotten', () => {
    const sim = new Sim(ON);
    sim.run(AFTER + MINUTE, POLL, [taskless()]);
    const off = new Sim(DEFAULTS);
    off.state = sim.state;
    off.now = sim.now;
    off.poll([taskless()]);
    expect(resolutions(off)).toEqual(['unwatched']);
    expect(off.state).toMatchObject({ subjects: {}, incidents: {} });
  });

  it('is seen in a listing that does not change (the very same array poll after poll), also when turned on mid-run', () => {
    const listing = [taskless(), ...others];
    const sim = new Sim(DEFAULTS);
    sim.run(30 * MINUTE, POLL, listing); // run() hands in the same array each poll: decide's fast path
    expect(sim.log).toEqual([]);
    const on = new Sim(ON);
    on.state = sim.state;
    on.now = sim.now;
    on.previous.set('prod', sim.previous.get('prod')!);
    const from = on.now;
    on.run(AFTER + MINUTE, POLL, listing);
    expect(pagedAt(on, from)).toEqual([15]);
  });

  it('is never restarted, whoever owns it', () => {
    const sim = new Sim(ON);
    sim.run(2 * 60 * MINUTE, POLL, [taskless(), ...others]);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate']);
  });

  it('is not paged inside a maintenance window, nor resolved there; paged at the first poll after it', () => {
    const sim = new Sim(ON);
    const inWindow = { inMaintenance: () => true };
    sim.run(AFTER + 10 * MINUTE, POLL, [taskless()], inWindow);
    expect(sim.log).toEqual([]);
    expect(sim.poll([taskless()])).toEqual([expect.objectContaining({ kind: 'escalate', incident: expect.objectContaining({ key: KEY, firstSeen: T0 }) })]);
    sim.advance(POLL).run(5 * MINUTE, POLL, [withTask()], inWindow);
    expect(resolutions(sim)).toEqual([]);
    sim.poll([withTask()]);
    expect(resolutions(sim)).toEqual(['has-tasks']);
  });

  it('sidecar mode: paged by the watchdog of the worker it runs on only; resolved by whoever sees it over', () => {
    const mine = (w: string) => w === W2;
    const other = new Sim(ON);
    other.run(AFTER + 10 * MINUTE, POLL, [taskless('RUNNING', W2)], { owns: (w) => !mine(w) });
    expect(other.log).toEqual([]);
    const owner = new Sim(ON);
    owner.run(AFTER + MINUTE, POLL, [taskless('RUNNING', W2)], { owns: mine });
    expect(pagedAt(owner)).toEqual([15]);
    // Moved to another worker with still no task: the page stays open (its firstSeen too) and is resolved when tasks appear.
    owner.run(5 * MINUTE, POLL, [taskless('RUNNING', W1)], { owns: mine });
    expect(kinds(owner.log.map((e) => e.action))).toEqual(['escalate']);
    owner.poll([withTask()], { owns: mine });
    expect(resolutions(owner)).toEqual(['has-tasks']);
  });

  it('decides the same with the state through JSON at every poll, and across a watchdog restart', () => {
    const world = (now: number): ConnectorSnapshot[] => {
      const m = (now - T0) / MINUTE;
      return [m < 40 || m >= 50 ? taskless() : withTask(), ...others];
    };
    const plain = new Sim(ON);
    plain.run(2 * 60 * MINUTE, POLL, world);
    const json = new Sim(ON, { roundTrip: true });
    json.run(2 * 60 * MINUTE, POLL, world);
    expect(json.log).toEqual(plain.log);
    const restarted = new Sim(ON);
    restarted.run(10 * MINUTE, POLL, world);
    restarted.restart();
    restarted.run(110 * MINUTE, POLL, world);
    expect(restarted.log).toEqual(plain.log);
    expect(pagedAt(plain)).toEqual([15, 65]);
    expect(resolutions(plain)).toEqual(['has-tasks']);
  });

  it('pages heal.noTasksAfter after its first sighting across a state file written and read back (run --once from cron)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-notasks-')), 'state.json');
    const logger = pino({ level: 'silent' });
    const sim = new Sim(ON);
    sim.run(10 * MINUTE, POLL, [taskless(), ...others]);
    const store = new StateStore(file, logger);
    store.save(() => ({ heal: sim.state, outbox: [], routes: {} }));
    await store.flush();
    const read = (await new StateStore(file, logger).load()).heal;
    expect(read.subjects['prod/mm2-checkpoint/connector']).toEqual(sim.state.subjects['prod/mm2-checkpoint/connector']);
    const next = new Sim(ON);
    next.state = read;
    next.now = sim.now;
    next.run(5 * MINUTE + MINUTE, POLL, [taskless(), ...others]);
    expect(pagedAt(next)).toEqual([15]);
    // and the open incident survives the file too: no second page after another write and read
    store.save(() => ({ heal: next.state, outbox: [], routes: {} }));
    await store.flush();
    const again = new Sim(ON);
    again.state = (await new StateStore(file, logger).load()).heal;
    again.now = next.now;
    again.run(10 * MINUTE, POLL, [taskless(), ...others]);
    expect(again.log).toEqual([]);
    expect(again.state.incidents[KEY]?.firstSeen).toBe(T0);
  });

  it('counts a clock stepped forward an hour as no time (ClusterLoop shifts the state), and one stepped back 3 h does not delay the page', () => {
    const forward = new Sim(ON);
    forward.run(5 * MINUTE, POLL, [taskless()]);
    forward.state = shiftTimes(forward.state, 60 * MINUTE) as HealState;
    forward.now += 60 * MINUTE;
    const stepped = forward.now;
    forward.run(20 * MINUTE, POLL, [taskless()]);
    expect(pagedAt(forward, stepped)).toEqual([10]); // 5 min before the step + 10 after: 15, not at once
    const back = new Sim(ON);
    back.run(MINUTE, POLL, [taskless()]);
    back.now -= 3 * 60 * MINUTE; // a state file written on a clock since stepped back: brought back to now
    const jump = back.now;
    back.run(60 * MINUTE, POLL, [taskless()]);
    expect(pagedAt(back, jump)).toEqual([15]);
  });
});
