import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WorkerHealth } from '../../src/connect/types.js';
import { judgeHealth } from '../../src/heal/health.js';
import { decide } from '../../src/heal/policy.js';
import { EMPTY_HEAL_STATE, type Action, type HealState } from '../../src/heal/types.js';
import { CLUSTER, DEFAULTS, MINUTE, SECOND, T0, connector, snapshot, stubClassifier, task } from './helpers.js';

const WORKER = 'connect-1.internal:8083';
// What the real 4.3.1 worker answered in a broker outage (test/fixtures/connect/real-broker-health-500-stopping-tasks.json).
const UNHEALTHY = JSON.parse(readFileSync(new URL('../fixtures/connect/real-broker-health-500-stopping-tasks.json', import.meta.url), 'utf8')) as WorkerHealth;
const MEMBERSHIP: WorkerHealth = {
  status: 'unhealthy',
  message: 'Worker was unable to handle this request and may be unable to handle other requests. The worker is currently ensuring membership in the cluster, which began at 2026-11-25T11:35:33.247Z.',
};
const HEALTHY: WorkerHealth = { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' };
const CONFIG = DEFAULTS.health; // every 1 min, page after 5 min

/** judgeHealth on a fake clock, its state carried from one poll to the next through JSON, as the state file does. */
class Worker {
  state: HealState = EMPTY_HEAL_STATE;
  now = T0;

  judge(answer: WorkerHealth | 'unsupported' | undefined, o: { inMaintenance?: boolean; cluster?: string; config?: typeof CONFIG } = {}): readonly Action[] {
    const { state, actions } = judgeHealth({ state: this.state, cluster: o.cluster ?? CLUSTER, answer, workerId: WORKER, config: o.config ?? CONFIG, now: this.now, inMaintenance: o.inMaintenance ?? false });
    this.state = JSON.parse(JSON.stringify(state)) as HealState;
    return actions;
  }

  /** Answers `answer` every minute for `minutes`, then returns every action. */
  minutes(minutes: number, answer: WorkerHealth): Action[] {
    const out: Action[] = [];
    for (let m = 0; m < minutes; m++) {
      out.push(...this.judge(answer));
      this.now += MINUTE;
    }
    return out;
  }
}

describe('judgeHealth', () => {
  it('pages a worker that has answered unhealthy at every read for heal.health.after, once, critical, with its own words', () => {
    const w = new Worker();
    w.minutes(2, HEALTHY);
    const since = w.now;
    expect(w.minutes(5, UNHEALTHY)).toEqual([]); // reads at 0..4 min: not yet 5 min
    const actions = w.judge(MEMBERSHIP); // 5 min after the first unhealthy answer; another stage of the same outage
    expect(actions).toHaveLength(1);
    const page = actions[0] as Extract<Action, { kind: 'escalate' }>;
    expect(page.kind).toBe('escalate');
    expect(page.incident).toMatchObject({
      key: 'prod/*/connector/worker-unhealthy',
      connector: '*',
      task: null,
      class: 'worker-unhealthy',
      severity: 'critical',
      workerId: WORKER,
      firstSeen: since,
      rootCause: MEMBERSHIP.message,
      traceExcerpt: '',
    });
    expect(page.incident.reason).toBe(`the worker at ${WORKER} has answered GET /health unhealthy at every read for 5 min: its connectors and tasks may be stopped while their status reads RUNNING`);
    expect(page.incident.hint).toMatch(/cannot reach the Kafka brokers/);
    // Later answers keep it fresh, and page nothing more.
    w.now += MINUTE;
    expect(w.minutes(30, UNHEALTHY)).toEqual([]);
    expect(w.state.incidents['prod/*/connector/worker-unhealthy']?.lastSeen).toBe(w.now - MINUTE);
  });

  it('resolves it at the first healthy answer, and counts afresh from the next unhealthy one', () => {
    const w = new Worker();
    expect(w.minutes(6, UNHEALTHY).map((a) => a.kind)).toEqual(['escalate']);
    const resolved = w.judge(HEALTHY);
    expect(resolved).toMatchObject([{ kind: 'resolve', resolution: 'healthy', incident: { class: 'worker-unhealthy', resolvedAt: w.now } }]);
    expect(w.state.incidents).toEqual({});
    w.now += MINUTE;
    expect(w.minutes(5, UNHEALTHY)).toEqual([]);
    expect(w.judge(UNHEALTHY).map((a) => a.kind)).toEqual(['escalate']);
  });

  it('pages nothing for a rebalance or a start: unhealthy for less than heal.health.after, healthy in between', () => {
    const w = new Worker();
    const starting: WorkerHealth = { status: 'starting', message: 'Worker is still starting up.' };
    const actions = [...w.minutes(4, starting), ...w.minutes(1, HEALTHY), ...w.minutes(4, UNHEALTHY), ...w.minutes(1, HEALTHY), ...w.minutes(4, UNHEALTHY)];
    expect(actions).toEqual([]);
  });

  it('counts starting, unhealthy and no answer alike: the time runs from the first answer that was not healthy', () => {
    const w = new Worker();
    const noAnswer: WorkerHealth = { status: 'no-answer', message: 'no answer to GET /health within 15 s' };
    w.minutes(2, { status: 'starting', message: 'Worker is still starting up.' });
    w.minutes(2, UNHEALTHY);
    w.minutes(1, noAnswer);
    const actions = w.judge(noAnswer);
    expect(actions).toHaveLength(1);
    expect((actions[0] as Extract<Action, { kind: 'escalate' }>).incident).toMatchObject({ firstSeen: T0, rootCause: noAnswer.message });
    expect((actions[0] as Extract<Action, { kind: 'escalate' }>).incident.reason).toContain('has not answered GET /health at every read for 5 min');
  });

  it('a poll without a read judges what is remembered (the state carries it: run --once from cron, a restart)', () => {
    const w = new Worker();
    w.judge(UNHEALTHY);
    expect(w.state.health).toEqual({ [CLUSTER]: { cluster: CLUSTER, ...UNHEALTHY, since: T0 } });
    w.now += 5 * MINUTE;
    expect(w.judge(undefined).map((a) => a.kind)).toEqual(['escalate']);
  });

  it('forgets a worker that no longer has GET /health (a downgrade), keeping its incident open; knows nothing before the first answer', () => {
    const w = new Worker();
    expect(w.judge(undefined)).toEqual([]);
    expect(w.state).toEqual(EMPTY_HEAL_STATE);
    w.minutes(6, UNHEALTHY);
    expect(w.judge('unsupported')).toEqual([]);
    expect(w.state.health).toEqual({});
    expect(Object.keys(w.state.incidents)).toEqual(['prod/*/connector/worker-unhealthy']);
  });

  it('once heal.health is off (checkInterval 0) forgets what it remembered: pages nothing from it, and resolves its open incident as unwatched', () => {
    const off = { ...CONFIG, checkInterval: 0 };
    const early = new Worker();
    early.minutes(4, UNHEALTHY);
    early.now += 2 * MINUTE;
    expect(early.judge(undefined, { config: off })).toEqual([]);
    expect(early.state.health).toEqual({});
    const paged = new Worker();
    paged.minutes(6, UNHEALTHY);
    expect(paged.judge(undefined, { config: off, inMaintenance: true })).toEqual([]);
    expect(paged.judge(undefined, { config: off })).toMatchObject([{ kind: 'resolve', resolution: 'unwatched', incident: { class: 'worker-unhealthy' } }]);
    expect(paged.state.incidents).toEqual({});
    expect(paged.judge(undefined, { config: off })).toEqual([]);
  });

  it('inside a cluster-wide maintenance window neither pages nor resolves, but remembers', () => {
    const w = new Worker();
    for (let m = 0; m < 10; m++, w.now += MINUTE) expect(w.judge(UNHEALTHY, { inMaintenance: true })).toEqual([]);
    expect(w.state.health?.[CLUSTER]?.since).toBe(T0);
    expect(w.judge(UNHEALTHY).map((a) => a.kind)).toEqual(['escalate']); // out of the window: it has lasted 10 min
    w.now += MINUTE;
    expect(w.judge(HEALTHY, { inMaintenance: true })).toEqual([]);
    expect(w.judge(HEALTHY).map((a) => a.kind)).toEqual(['resolve']);
  });

  it('a clock stepped back before since restarts the count rather than stretching it', () => {
    const w = new Worker();
    w.judge(UNHEALTHY);
    w.now -= 10 * MINUTE;
    w.judge(UNHEALTHY);
    w.now += 4 * MINUTE + 59 * SECOND;
    expect(w.judge(UNHEALTHY)).toEqual([]);
  });

  it('keeps each cluster to its own memory and incident', () => {
    const w = new Worker();
    for (let m = 0; m < 6; m++, w.now += MINUTE) {
      w.judge(UNHEALTHY, { cluster: 'stage' });
      w.judge(HEALTHY);
    }
    expect(Object.keys(w.state.incidents)).toEqual(['stage/*/connector/worker-unhealthy']);
    expect(w.judge(HEALTHY)).toEqual([]);
  });

  it('returns the state it was given while nothing changes (no state write for a healthy worker)', () => {
    const w = new Worker();
    w.judge(HEALTHY);
    const before = w.state;
    const { state } = judgeHealth({ state: before, cluster: CLUSTER, answer: HEALTHY, workerId: WORKER, config: CONFIG, now: w.now + MINUTE, inMaintenance: false });
    expect(state).toBe(before);
  });
});

describe('decide() and the worker-unhealthy incident', () => {
  it('keeps it and the health memory as they are, even while many connectors fail with connection (a cluster outage of its own)', () => {
    const w = new Worker();
    w.minutes(6, UNHEALTHY);
    const open = w.state.incidents['prod/*/connector/worker-unhealthy'];
    const failing = Array.from({ length: 6 }, (_, i) => connector(`pg-${i}`, 'RUNNING', [task(0, 'FAILED', { cls: 'connection' })]));
    let state = w.state;
    for (let poll = 0; poll < 3; poll++) {
      state = decide({ state, snapshot: snapshot(failing, w.now), config: DEFAULTS, classify: stubClassifier(), now: w.now, random: () => 0.5, probes: new Map(), inMaintenance: () => false, owns: () => true }).state;
      w.now += 10 * SECOND;
    }
    expect(state.incidents['prod/*/connector/worker-unhealthy']).toBe(open);
    expect(state.health).toBe(w.state.health);
  });
});
