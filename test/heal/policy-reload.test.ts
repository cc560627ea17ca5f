import { describe, expect, it } from 'vitest';
import type { ConnectorSnapshot } from '../../src/connect/types.js';
import { applyOutcome } from '../../src/heal/policy.js';
import type { RestartResult } from '../../src/heal/types.js';
import { connector, MINUTE, oneTask, PG, SECOND, Sim, task, W1, W2, withConfig } from './helpers.js';
import { seeded } from '../../bench/lib/stats.js';

const POLL = 10 * SECOND;

/** Two hours of a busy cluster: an outage, flapping, a bad record, a rebalance, a window, a probe. */
function world(now: number, start: number): ConnectorSnapshot[] {
  const m = (now - start) / MINUTE;
  const pgState = m < 60 ? 'FAILED' : 'RUNNING';
  const out: ConnectorSnapshot[] = [
    oneTask('pg-orders', pgState, pgState === 'FAILED' ? 'connection' : undefined, { endpoint: PG }),
    oneTask('flappy', Math.floor(m) % 4 === 0 ? 'FAILED' : 'RUNNING', Math.floor(m) % 4 === 0 ? 'unknown' : undefined),
    oneTask('sink-json', m > 20 && m < 70 ? 'FAILED' : 'RUNNING', m > 20 && m < 70 ? 'serialization' : undefined),
    connector('moving', m > 30 && m < 45 ? 'UNASSIGNED' : 'RUNNING', [task(0, 'RUNNING', { workerId: Math.floor(m / 3) % 2 ? W2 : W1 })]),
    connector('cfg', 'FAILED', [], { cls: 'config' }),
    m > 5 && m < 8
      ? connector('api', 'FAILED', [task(0, 'FAILED', { cls: 'unknown' })], { cls: 'connection' })
      : connector('api', 'RUNNING', [task(0, 'RUNNING')]),
    connector('paused', 'PAUSED', [task(0, 'FAILED', { cls: 'connection' })]),
  ];
  for (let i = 0; i < 6; i++) out.push(oneTask(`burst-${i}`, m >= 90 && m < 95 ? 'FAILED' : 'RUNNING', m >= 90 && m < 95 ? 'connection' : undefined));
  return m > 100 ? out.filter((c) => c.name !== 'cfg') : out; // cfg deleted
}

function scenario(roundTrip: boolean, freeze = false): Sim {
  const sim = new Sim(withConfig({ rebalance: { maxMoves: 2, window: 30 * MINUTE } }), { roundTrip, freeze, random: seeded(7) });
  const start = sim.now;
  let restarts = 0;
  const outcome = (): RestartResult => (++restarts % 5 === 0 ? 'rebalance' : restarts % 7 === 0 ? 'failed' : 'ok');
  while (sim.now < start + 2 * 60 * MINUTE) {
    const m = (sim.now - start) / MINUTE;
    sim.poll(world(sim.now, start), {
      outcome,
      probes: new Map([['db.internal:5432', !(m > 10 && m < 40)]]),
      inMaintenance: (c) => m >= 75 && m < 85 && c !== 'flappy',
    });
    sim.advance(POLL);
  }
  return sim;
}

describe('state reloaded from JSON', () => {
  it('gives the same decisions as state kept in memory', () => {
    const kept = scenario(false);
    const reloaded = scenario(true);
    expect(reloaded.log).toEqual(kept.log);
    expect(reloaded.state).toEqual(JSON.parse(JSON.stringify(kept.state)));
    // the scenario exercised every kind of action
    const seen = new Set(kept.log.map((e) => (e.action.kind === 'skip' ? `skip:${e.action.reason}` : e.action.kind)));
    expect([...seen].sort()).toEqual(
      [
        'escalate',
        'resolve',
        'restart-connector',
        'restart-task',
        'skip:backoff',
        'skip:budget',
        'skip:dependency-down',
        'skip:escalate-only',
        'skip:maintenance',
      ].sort(),
    );
    const classes = new Set(kept.actionsOf('escalate').map((e) => e.action.incident.class));
    expect([...classes].sort()).toEqual(['cluster-outage', 'config', 'connection', 'rebalancing', 'serialization', 'unassigned', 'unknown'].sort());
  });

  it('is never mutated: decide and applyOutcome return new state (the input is deep-frozen)', () => {
    expect(scenario(false, true).log).toEqual(scenario(false).log);
  });

  it('is plain data: no undefined values, no functions, survives JSON unchanged', () => {
    const sim = scenario(false);
    expect(JSON.parse(JSON.stringify(sim.state))).toStrictEqual(sim.state);
  });
});

describe('applyOutcome', () => {
  const restarted = () => {
    const sim = new Sim();
    sim.poll([oneTask('pg', 'FAILED', 'connection')]);
    return sim;
  };
  const subject = { cluster: 'prod', connector: 'pg', task: 0 };

  it('leaves ok and failed attempts standing', () => {
    const { state, now } = restarted();
    expect(applyOutcome(state, { subject, result: 'ok' }, now)).toBe(state);
    expect(applyOutcome(state, { subject, result: 'failed' }, now)).toBe(state);
  });

  it('rolls a rebalance back once, however often it is applied', () => {
    const { state, now } = restarted();
    const once = applyOutcome(state, { subject, result: 'rebalance' }, now);
    expect(once.subjects['prod/pg/0']).toMatchObject({ attempts: 0, restartTimes: [], nextRestartAt: now });
    expect(applyOutcome(once, { subject, result: 'rebalance' }, now)).toEqual(once);
  });

  it('keeps a connector and its tasks, attempts included, on a 404 to a connector restart: the listing tells whether it is gone', () => {
    const sim = new Sim();
    sim.poll([connector('pg', 'FAILED', [task(0, 'FAILED', { cls: 'connection' })], { cls: 'connection' })]);
    expect(applyOutcome(sim.state, { subject: { cluster: 'prod', connector: 'pg', task: null }, result: 'not-found' }, sim.now)).toBe(sim.state);
  });

  it('ignores an outcome for a subject it does not know', () => {
    const { state, now } = restarted();
    expect(applyOutcome(state, { subject: { cluster: 'prod', connector: 'nope', task: 3 }, result: 'rebalance' }, now)).toBe(state);
  });
});
