import { describe, expect, it } from 'vitest';
import type { ConnectorSnapshot, State } from '../../src/connect/types.js';
import { isQuiet } from '../../src/heal/observe.js';
import type { RestartResult } from '../../src/heal/types.js';
import { connector, kinds, MINUTE, oneTask, PG, SECOND, Sim, task, TRACES, W1, W2, withConfig } from './helpers.js';
import { seeded } from '../../bench/lib/stats.js';

const POLL = 10 * SECOND;
const REBALANCE = withConfig({ rebalance: { maxMoves: 3, window: 30 * MINUTE } });

describe('state holds only subjects with something to remember', () => {
  it('a cluster of RUNNING tasks leaves state empty; only the failing ones are remembered', () => {
    const sim = new Sim();
    const failing = (i: number, t: number) => i % 25 === 0 && t === 1;
    const cs = Array.from({ length: 100 }, (_, i) => connector(`c${i}`, 'RUNNING', [0, 1, 2].map((t) => (failing(i, t) ? task(t, 'FAILED', { cls: 'serialization' }) : task(t, 'RUNNING')))));
    sim.run(5 * MINUTE, POLL, cs);
    expect(Object.keys(sim.state.subjects).sort()).toEqual(['prod/c0/1', 'prod/c25/1', 'prod/c50/1', 'prod/c75/1']);
  });

  it('a task moving between workers, RUNNING each time, is still paged as rebalancing, then settles and leaves state', () => {
    const run = (roundTrip: boolean) => {
      const sim = new Sim(REBALANCE, { roundTrip });
      const on = (w: string): ConnectorSnapshot[] => [connector('pg', 'RUNNING', [task(0, 'RUNNING', { workerId: w }), task(1, 'RUNNING')]), oneTask('steady', 'RUNNING')];
      expect(sim.poll(on(W1))).toEqual([]);
      expect(sim.state.subjects).toEqual({}); // all quiet: the snapshot carries their workers
      for (let i = 1; i <= 3; i++) {
        expect(sim.advance(2 * MINUTE).poll(on(i % 2 ? W2 : W1))).toEqual([]);
        // the moving task is remembered (its moves); the others are not
        expect(Object.keys(sim.state.subjects)).toEqual(['prod/pg/0']);
        expect(sim.state.subjects['prod/pg/0']).toMatchObject({ state: 'RUNNING', workerId: i % 2 ? W2 : W1, moves: expect.any(Array) });
        expect(sim.state.subjects['prod/pg/0']!.moves).toHaveLength(i);
      }
      expect(sim.advance(2 * MINUTE).poll(on(W1))).toEqual([
        expect.objectContaining({
          kind: 'escalate',
          incident: expect.objectContaining({ key: 'prod/pg/0/rebalancing', severity: 'warning', reason: 'moved between workers 4 times within 30 min (heal.rebalance.maxMoves 3)' }),
        }),
      ]);
      // stays on W1: settled after the stable period (10 min) ...
      sim.advance(POLL).run(10 * MINUTE, POLL, on(W1));
      expect(sim.actionsOf('resolve')).toEqual([expect.objectContaining({ action: expect.objectContaining({ resolution: 'settled' }) })]);
      expect(Object.keys(sim.state.subjects)).toEqual(['prod/pg/0']);
      // ... and out of state once its moves are older than max(rebalance.window, stablePeriod); its moves
      // still in the window meanwhile page nothing: it has settled
      sim.run(20 * MINUTE, POLL, on(W1));
      expect(sim.state.subjects).toEqual({});
      expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate', 'resolve']);
      return sim;
    };
    expect(run(true).log).toEqual(run(false).log);
  });

  it('a second episode of moves counts on its own, and opens an incident of its own, after the first has settled', () => {
    const sim = new Sim(REBALANCE);
    const on = (w: string): ConnectorSnapshot[] => [connector('pg', 'RUNNING', [task(0, 'RUNNING', { workerId: w })])];
    const bounce = (times: number) => {
      for (let i = 0; i < times; i++) sim.advance(MINUTE).poll(on(sim.state.subjects['prod/pg/0']?.workerId === W2 ? W1 : W2));
    };
    sim.poll(on(W1));
    bounce(4);
    const firstEpisode = sim.now - 3 * MINUTE;
    sim.advance(POLL).run(10 * MINUTE, POLL, on(sim.state.subjects['prod/pg/0']!.workerId));
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate', 'resolve']);
    // its 4 moves are still in the 30 min window: one more move is not a 5th
    bounce(1);
    expect(kinds(sim.log.map((e) => e.action))).toEqual(['escalate', 'resolve']);
    // 4 moves of the new episode page again, with the new episode's first move as firstSeen
    const secondEpisode = sim.now;
    bounce(3);
    const escalations = sim.actionsOf('escalate').map((e) => e.action.incident.firstSeen);
    expect(escalations).toEqual([firstEpisode, secondEpisode]);
  });

  it('a task whose connector is paused is remembered meanwhile: resumed on another worker, it has moved', () => {
    const sim = new Sim(REBALANCE);
    const pg = (state: State, w: string) => [connector('pg', state, [task(0, 'RUNNING', { workerId: w })])];
    sim.poll(pg('RUNNING', W1));
    expect(sim.state.subjects).toEqual({});
    // no snapshot carries the task's worker while its entries are not trusted: state keeps it
    sim.advance(POLL).run(5 * MINUTE, POLL, pg('PAUSED', W2));
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ state: 'RUNNING', workerId: W1, moves: [] });
    sim.poll(pg('RUNNING', W2));
    expect(sim.state.subjects['prod/pg/0']).toMatchObject({ workerId: W2, moves: [sim.now] });
    expect(sim.log).toEqual([]);
  });

  it('after a restart (state from the file, no previous snapshot) recorded moves count on; a quiet task is recorded afresh', () => {
    const sim = new Sim(REBALANCE);
    const on = (w: string, steady: string) => [connector('pg', 'RUNNING', [task(0, 'RUNNING', { workerId: w })]), oneTask('steady', 'RUNNING', undefined, { workerId: steady })];
    sim.poll(on(W1, W1));
    for (let i = 1; i <= 3; i++) sim.advance(2 * MINUTE).poll(on(i % 2 ? W2 : W1, W1));
    sim.restart();
    expect(Object.keys(sim.state.subjects)).toEqual(['prod/pg/0']);
    // the first poll after the restart: pg/0 moves a 4th time (its last worker is in state); steady
    // changed worker too, but nothing remembered it: recorded, not counted
    expect(sim.advance(2 * MINUTE).poll(on(W1, W2))).toEqual([expect.objectContaining({ kind: 'escalate', incident: expect.objectContaining({ key: 'prod/pg/0/rebalancing' }) })]);
    expect(Object.keys(sim.state.subjects)).toEqual(['prod/pg/0']);
    // from then on the snapshot carries steady's worker: its next change is a move
    sim.advance(POLL).poll(on(W1, W1));
    expect(sim.state.subjects['prod/steady/0']).toMatchObject({ workerId: W1, moves: [sim.now] });
  });

  it('a page whose subject recovered inside a maintenance window resolves after it, across a watchdog restart too, though its connector is paused by then', () => {
    // Found by policy-properties.test.ts: the task goes quiet (out of state) while the window holds its
    // resolve back; a restart loses the previous snapshot, and a paused connector's tasks are not read.
    const run = (restart: boolean) => {
      const sim = new Sim();
      let window = false;
      const o = { inMaintenance: () => window };
      expect(kinds(sim.poll([oneTask('pg', 'FAILED', 'serialization')], o))).toEqual(['escalate', 'skip:escalate-only']);
      window = true;
      sim.advance(POLL).run(11 * MINUTE, POLL, [oneTask('pg', 'RUNNING')], o);
      expect(sim.state.subjects).toEqual({}); // RUNNING for stablePeriod: nothing left to remember
      if (restart) sim.restart();
      window = false;
      return sim.poll([connector('pg', 'PAUSED', [task(0, 'RUNNING')])], o);
    };
    expect(run(false)).toEqual([expect.objectContaining({ kind: 'resolve', resolution: 'recovered', incident: expect.objectContaining({ key: 'prod/pg/0/serialization' }) })]);
    expect(run(true)).toEqual(run(false));
  });
});

/**
 * Per incident key, pages and resolutions alternate, a page first: none is sent twice, none resolved unopened. An
 * update replaces an open page (docs/heal.md, "A page taken over by its failure").
 */
function expectPagesAlternate(log: Sim['log'], seed: number): void {
  const open = new Set<string>();
  for (const { action } of log) {
    if (action.kind !== 'escalate' && action.kind !== 'resolve') continue;
    const update = action.kind === 'escalate' && action.update === true;
    expect(open.has(action.incident.key), `seed ${seed}: ${update ? 'update' : action.kind} ${action.incident.key}`).toBe(action.kind === 'resolve' || update);
    if (action.kind === 'escalate') open.add(action.incident.key);
    else open.delete(action.incident.key);
  }
}

/**
 * Two hours of a restless cluster, the same for every run of one seed: tasks moving between workers
 * (sometimes with no worker listed), connectors paused, restarting, UNASSIGNED, deleted and re-created,
 * tasks.max lowered and raised, failures of every class; restarts answered ok, failed, 409 or 404.
 */
function restless(
  seed: number,
  opts: { roundTrip?: boolean; freeze?: boolean; calm?: boolean; reuse?: boolean; stillAfter?: number; hours?: number; restartAt?: number; noTasks?: boolean },
) {
  const r = seeded(seed);
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const workers = [W1, W2, W1, W2, ''];
  type Task = { id: number; state: State; workerId: string; cls?: keyof typeof TRACES };
  const world = Array.from({ length: 8 }, (_, i) => ({
    name: `c${i}`,
    state: 'RUNNING' as State,
    workerId: pick(workers.slice(0, 2)),
    tasksMax: undefined as number | undefined,
    listed: true,
    /** Listing no task (heal.noTasksAfter): drawn only with opts.noTasks, so that the other runs stay as they were. */
    taskless: false,
    tasks: Array.from({ length: 1 + (i % 3) }, (_, id): Task => ({ id, state: 'RUNNING', workerId: pick(workers.slice(0, 2)) })),
  }));
  const sim = new Sim(withConfig({ rebalance: { maxMoves: 2, window: 20 * MINUTE }, stablePeriod: 5 * MINUTE, unassignedAfter: 3 * MINUTE, ...(opts.noTasks === true && { noTasksAfter: 4 * MINUTE }) }), {
    ...opts,
    random: seeded(seed + 1),
  });
  const start = sim.now;
  const outcomes: RestartResult[] = ['ok', 'ok', 'ok', 'failed', 'rebalance', 'not-found'];
  let snap: ConnectorSnapshot[] = [];
  let reused = 0;
  while (sim.now < start + (opts.hours ?? 2) * 60 * MINUTE) {
    const m = (sim.now - start) / MINUTE;
    const still = opts.stillAfter !== undefined && m >= opts.stillAfter;
    if (opts.restartAt !== undefined && m === opts.restartAt) sim.restart();
    // Calm: the world changes in one poll out of four (a listing identical to the last one is the common poll).
    if (!still && (opts.calm !== true || r() < 0.25)) for (const c of world) {
      if (r() < 0.04) c.state = pick<State>(['RUNNING', 'RUNNING', 'FAILED', 'PAUSED', 'RESTARTING', 'UNASSIGNED']);
      if (r() < 0.02) c.listed = !c.listed;
      if (r() < 0.02) c.tasksMax = pick([undefined, 1, 2, 3]);
      if (r() < 0.03) c.workerId = pick(workers);
      if (opts.noTasks === true && r() < 0.03) c.taskless = !c.taskless;
      for (const t of c.tasks) {
        if (r() < 0.08) t.workerId = pick(workers);
        if (r() < 0.05) {
          t.state = pick<State>(['RUNNING', 'RUNNING', 'FAILED', 'FAILED', 'UNASSIGNED', 'RESTARTING']);
          t.cls = pick(['connection', 'connection', 'unknown', 'serialization', 'config'] as const);
        }
      }
    }
    const next = world
      .filter((c) => c.listed)
      .map((c) =>
        connector(
          c.name,
          c.state,
          c.taskless ? [] : c.tasks.map((t) => task(t.id, t.state, { workerId: t.workerId, ...(t.state === 'FAILED' && { cls: t.cls ?? 'connection' }) })),
          { workerId: c.workerId, ...(c.state === 'FAILED' && { cls: 'connection' }), ...(c.tasksMax !== undefined && { tasksMax: c.tasksMax }), ...(c.name < 'c3' && { endpoint: PG }) },
        ),
      );
    // As the client does for a byte-identical listing: the very same array again.
    if (opts.reuse === true && JSON.stringify(next) === JSON.stringify(snap)) reused += 1;
    else snap = next;
    sim.poll(snap, {
      outcome: () => pick(outcomes),
      probes: new Map([['db.internal:5432', !(m > 20 && m < 30)]]),
      inMaintenance: (c) => m >= 60 && m < 70 && c !== 'c1',
    });
    sim.advance(POLL);
  }
  return { sim, last: snap, reused };
}

describe('decisions without quiet subjects in state', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];

  it('are identical with and without a JSON round trip of the state, never mutate it, and page and resolve each incident in turn', () => {
    const escalated = new Set<string>();
    for (const seed of seeds) {
      const kept = restless(seed, {});
      const reloaded = restless(seed, { roundTrip: true });
      expect(reloaded.sim.log).toEqual(kept.sim.log);
      expect(reloaded.sim.state).toEqual(JSON.parse(JSON.stringify(kept.sim.state)));
      expect(restless(seed, { freeze: true }).sim.log).toEqual(kept.sim.log);
      for (const e of kept.sim.actionsOf('escalate')) escalated.add(e.action.incident.class);
      expectPagesAlternate(kept.sim.log, seed);
    }
    // moves, UNASSIGNED and failures of each class were all exercised (no outage: its connectors fail and page
    // one by one, at random)
    expect([...escalated].sort()).toEqual(['config', 'connection', 'rebalancing', 'serialization', 'unassigned', 'unknown']);
  });

  it('with heal.noTasksAfter on, connectors listing no task now and then: the same, and no-tasks is paged and resolved in turn too', () => {
    const escalated = new Set<string>();
    const resolved = new Set<string>();
    let reusedPolls = 0;
    for (const seed of seeds) {
      const kept = restless(seed, { noTasks: true });
      expect(restless(seed, { noTasks: true, roundTrip: true }).sim.log).toEqual(kept.sim.log);
      expect(restless(seed, { noTasks: true, freeze: true }).sim.log).toEqual(kept.sim.log);
      const calm = restless(seed, { noTasks: true, calm: true });
      const reused = restless(seed, { noTasks: true, calm: true, reuse: true });
      expect(reused.sim.log).toEqual(calm.sim.log);
      expect(reused.sim.state).toEqual(calm.sim.state);
      reusedPolls += reused.reused;
      for (const { action } of [...kept.sim.log, ...calm.sim.log]) {
        if (action.kind === 'escalate' && action.incident.class === 'no-tasks') escalated.add(`${seed} ${action.incident.key}`);
        if (action.kind === 'resolve' && action.incident.class === 'no-tasks') resolved.add(action.resolution ?? '');
      }
      expectPagesAlternate(kept.sim.log, seed);
    }
    expect(escalated.size).toBeGreaterThan(0);
    expect(reusedPolls).toBeGreaterThan(seeds.length * 50);
    // Tasks listed again, and the connector paused, failed or restarted meanwhile, or deleted, each ended one.
    expect([...resolved].sort()).toEqual(expect.arrayContaining(['has-tasks', 'not-running']));
  });

  it('are identical when an unchanged listing comes back as the very same array (the fast path of decide)', () => {
    let reusedPolls = 0;
    for (const seed of seeds) {
      const fresh = restless(seed, { calm: true });
      const reused = restless(seed, { calm: true, reuse: true });
      expect(reused.sim.log).toEqual(fresh.sim.log);
      expect(reused.sim.state).toEqual(fresh.sim.state);
      reusedPolls += reused.reused;
    }
    // The fast path was taken, often: most calm polls list the same array as the poll before.
    expect(reusedPolls).toBeGreaterThan(seeds.length * 100);
  });

  it('page each condition of a cluster that stops changing at most once, never resolve it meanwhile, and restart under the backoff, across a watchdog restart too', () => {
    let paged = 0;
    let noTasksPaged = 0;
    // Still from 35 or 75 min (after the probe outage at 20-30 min, after the maintenance window at 60-70
    // min); the watchdog restarted from its state file 20 min into the still world, or not.
    const runs = [
      ...seeds.flatMap((seed) => [35, 75].flatMap((stillAfter) => [undefined, stillAfter + 20].map((restartAt) => ({ seed, stillAfter, restartAt, noTasks: false })))),
      // and with heal.noTasksAfter on: a connector left listing no task is paged once and stays paged
      ...seeds.slice(0, 4).flatMap((seed) => [undefined, 55].map((restartAt) => ({ seed, stillAfter: 35, restartAt, noTasks: true }))),
    ];
    for (const { seed, stillAfter, restartAt, noTasks } of runs) {
      const { sim } = restless(seed, { stillAfter, hours: 5, noTasks, ...(restartAt !== undefined && { restartAt }) });
      const from = sim.log[0]!.at + (stillAfter + 1) * MINUTE; // the first poll of the still world may still act on the last change
      const events = new Map<string, string[]>();
      const restarts = new Map<string, number>();
      for (const { at, action } of sim.log) {
        if (at >= from && (action.kind === 'restart-task' || action.kind === 'restart-connector')) {
          const subject = `${action.connector}/${action.kind === 'restart-task' ? action.task : 'connector'}`;
          restarts.set(subject, (restarts.get(subject) ?? 0) + 1);
        }
        if (at < from || (action.kind !== 'escalate' && action.kind !== 'resolve')) continue;
        const key = action.incident.key;
        events.set(key, [...(events.get(key) ?? []), action.kind]);
        if (action.kind === 'escalate') paged += 1;
        if (action.kind === 'escalate' && action.incident.class === 'no-tasks') noTasksPaged += 1;
      }
      const run = `seed ${seed} still ${stillAfter} restart ${restartAt}${noTasks ? ' noTasks' : ''}`;
      // A rebalancing incident may settle once (stablePeriod after the last move); nothing opens twice or flaps.
      for (const [key, seen] of events) expect([['escalate'], ['resolve'], ['escalate', 'resolve']], `${run}: ${key}`).toContainEqual(seen);
      // At the backoff cap (10 min, less up to 20 % jitter: 8 min at least), plus the ramp to the cap (7
      // restarts), plus the retries of those answered 409 (one answer in five).
      const bound = Math.ceil(((5 * 60 - stillAfter - 1) / 8 + 7) / 0.8);
      for (const [subject, n] of restarts) expect(n, `${run}: restarts of ${subject}`).toBeLessThanOrEqual(bound);
    }
    // Failures that outlast the restarts are paged in the still world: the check above is not vacuous.
    expect(paged).toBeGreaterThan(0);
    expect(noTasksPaged).toBeGreaterThan(0);
  });

  it('leave out of state every quiet subject the last snapshot lists with its worker', () => {
    for (const seed of seeds) {
      const { sim, last } = restless(seed, {});
      const carried = new Set<string>();
      for (const c of last) {
        if (c.workerId !== '') carried.add(`prod/${c.name}/connector`);
        if (c.state === 'RUNNING' || c.state === 'FAILED') for (const t of c.tasks) if (t.workerId !== '') carried.add(`prod/${c.name}/${t.id}`);
      }
      const quietCarried = Object.entries(sim.state.subjects).filter(([k, s]) => isQuiet(s) && carried.has(k));
      expect(quietCarried).toEqual([]);
    }
  });
});
