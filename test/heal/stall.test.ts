import { describe, expect, it } from 'vitest';
import type { ConnectorSnapshot } from '../../src/connect/types.js';
import { decide } from '../../src/heal/policy.js';
import { judgeStalls, stallCandidates, type StallConfig } from '../../src/heal/stall.js';
import { EMPTY_HEAL_STATE, type Action, type HealState } from '../../src/heal/types.js';
import { CLUSTER, DEFAULTS, MINUTE, SECOND, T0, W1, W2, connector, oneTask, snapshot, stubClassifier, task } from './helpers.js';

const WATCH_PG: StallConfig = { connectors: '^pg-', after: 15 * MINUTE, checkInterval: MINUTE };

/** judgeStalls on a fake clock, its state carried from one poll to the next (through JSON, as the state file does). */
class Watch {
  state: HealState = EMPTY_HEAL_STATE;
  now = T0;

  constructor(readonly config: StallConfig = WATCH_PG) {}

  poll(
    connectors: readonly ConnectorSnapshot[],
    reads: Record<string, string>,
    o: { owns?: (w: string) => boolean; inMaintenance?: (c: string) => boolean; cluster?: string; unreadable?: readonly string[]; failed?: readonly string[] } = {},
  ): readonly Action[] {
    const { state, actions } = judgeStalls({
      state: this.state,
      snapshot: snapshot(connectors, this.now, o.cluster ?? CLUSTER, o.unreadable),
      reads: new Map(Object.entries(reads)),
      ...(o.failed !== undefined && { failedReads: new Set(o.failed) }),
      config: this.config,
      now: this.now,
      owns: o.owns ?? (() => true),
      inMaintenance: o.inMaintenance ?? (() => false),
    });
    this.state = JSON.parse(JSON.stringify(state)) as HealState;
    return actions;
  }

  /** Reads `digest` every checkInterval until `until` (ms after T0's poll), returning every action. */
  readEvery(c: ConnectorSnapshot, digest: string, until: number): Action[] {
    const out: Action[] = [];
    const end = this.now + until;
    while (this.now < end) {
      this.now += this.config.checkInterval;
      out.push(...this.poll([c], { [c.name]: digest }));
    }
    return out;
  }
}

const pg = (state: ConnectorSnapshot['state'] = 'RUNNING', taskState: ConnectorSnapshot['state'] = 'RUNNING', workerId = W1): ConnectorSnapshot =>
  connector('pg-orders', state, [task(0, taskState, { workerId })], { workerId });

describe('judgeStalls', () => {
  it('pages a watched source once when its offsets have not moved for heal.stall.after, from when they last moved', () => {
    const w = new Watch();
    expect(w.poll([pg()], { 'pg-orders': 'a' })).toEqual([]);
    const movedAt = w.now;
    // 14 reads of the same offsets: 14 min, under the 15.
    expect(w.readEvery(pg(), 'a', 14 * MINUTE)).toEqual([]);
    const paged = w.readEvery(pg(), 'a', MINUTE);
    expect(paged).toHaveLength(1);
    const action = paged[0];
    if (action?.kind !== 'escalate') throw new Error(`expected an escalation, got ${JSON.stringify(action)}`);
    expect(action.incident).toMatchObject({
      key: `${CLUSTER}/pg-orders/connector/stalled`,
      class: 'stalled',
      severity: 'error',
      task: null,
      attempts: 0,
      firstSeen: movedAt,
      lastSeen: w.now,
      workerId: W1,
      traceExcerpt: '',
    });
    expect(action.incident.reason).toBe('its committed source offsets have not moved for 15 min while the connector and its 1 task read RUNNING');
    expect(action.incident.hint).toMatch(/errors\.max\.retries/);
    // Still stalled an hour later: no second page, the incident is kept fresh.
    expect(w.readEvery(pg(), 'a', 60 * MINUTE)).toEqual([]);
    expect(w.state.incidents[`${CLUSTER}/pg-orders/connector/stalled`]?.lastSeen).toBe(w.now);
  });

  it('says hours past two hours (a watchdog started on a source stalled long ago still counts from its first read)', () => {
    const w = new Watch({ ...WATCH_PG, after: 150 * MINUTE });
    w.poll([pg()], { 'pg-orders': 'a' });
    const paged = w.readEvery(pg(), 'a', 150 * MINUTE);
    expect(paged.map((a) => (a.kind === 'escalate' ? a.incident.reason : a.kind))).toEqual([
      'its committed source offsets have not moved for 2 h 30 min while the connector and its 1 task read RUNNING',
    ]);
  });

  it('resolves the page as flowing at the first read whose offsets moved, and counts afresh from there', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    expect(w.readEvery(pg(), 'a', 15 * MINUTE).map((a) => a.kind)).toEqual(['escalate']);
    w.now += MINUTE;
    const resolved = w.poll([pg()], { 'pg-orders': 'b' });
    expect(resolved).toMatchObject([{ kind: 'resolve', resolution: 'flowing', incident: { class: 'stalled', resolvedAt: w.now } }]);
    expect(w.state.incidents).toEqual({});
    expect(w.state.offsets?.[`${CLUSTER}/pg-orders`]).toEqual({ cluster: CLUSTER, connector: 'pg-orders', digest: 'b', movedAt: w.now });
    expect(w.readEvery(pg(), 'b', 14 * MINUTE)).toEqual([]);
  });

  it('judges nothing between reads: a poll without a read neither pages nor resolves', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    w.now += 20 * MINUTE;
    expect(w.poll([pg()], {})).toEqual([]);
    expect(w.poll([pg()], { 'pg-orders': 'a' }).map((a) => a.kind)).toEqual(['escalate']);
    w.now += 10 * SECOND;
    expect(w.poll([pg()], {})).toEqual([]);
    expect(Object.keys(w.state.incidents)).toHaveLength(1);
  });

  it('after reads that failed (a Kafka broker outage), reads the offsets unmoved once more before it pages: the source may not have committed yet', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    // The broker is lost: 20 checks of failed reads, longer than heal.stall.after, page nothing.
    for (let check = 0; check < 20; check++) {
      w.now += MINUTE;
      expect(w.poll([pg()], {}, { failed: ['pg-orders'] })).toEqual([]);
    }
    expect(w.state.offsets?.[`${CLUSTER}/pg-orders`]?.readFailed).toBe(true);
    // Back: the first read finds the old offsets (not flushed yet) and only confirms them...
    w.now += MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'a' })).toEqual([]);
    expect(w.state.offsets?.[`${CLUSTER}/pg-orders`]).toEqual({ cluster: CLUSTER, connector: 'pg-orders', digest: 'a', movedAt: T0 });
    // ...a source that moves then is never paged; one still unmoved at the next read is, counted from T0.
    const stillStalled = new Watch();
    stillStalled.state = w.state;
    stillStalled.now = w.now;
    w.now += MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'b' })).toEqual([]);
    stillStalled.now += MINUTE;
    expect(stillStalled.poll([pg()], { 'pg-orders': 'a' })).toMatchObject([{ kind: 'escalate', incident: { class: 'stalled', firstSeen: T0 } }]);
  });

  it('a read that fails while a stalled page is open leaves it open, and a read that moved resolves it', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    expect(w.readEvery(pg(), 'a', 15 * MINUTE).map((a) => a.kind)).toEqual(['escalate']);
    w.now += MINUTE;
    expect(w.poll([pg()], {}, { failed: ['pg-orders'] })).toEqual([]);
    w.now += MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'a' })).toEqual([]);
    expect(Object.keys(w.state.incidents)).toEqual([`${CLUSTER}/pg-orders/connector/stalled`]);
    w.now += MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'b' })).toMatchObject([{ kind: 'resolve', resolution: 'flowing' }]);
  });

  it('watches only sources named by heal.stall.connectors that stream: a sink, another name, no pattern, a connector without a task', () => {
    const sink = connector('pg-sink', 'RUNNING', [task(0, 'RUNNING')], { type: 'sink' });
    const other = oneTask('mysql-orders', 'RUNNING');
    const taskless = connector('pg-empty', 'RUNNING', []);
    for (const config of [WATCH_PG, { ...WATCH_PG, connectors: '' }]) {
      const w = new Watch(config);
      const reads = { 'pg-sink': 'a', 'mysql-orders': 'a', 'pg-empty': 'a' };
      for (let i = 0; i < 20; i++, w.now += MINUTE) expect(w.poll([sink, other, taskless], reads)).toEqual([]);
      expect(w.state.offsets).toBeUndefined();
    }
    expect(stallCandidates(snapshot([sink, other, taskless, pg()], T0), WATCH_PG, () => true)).toEqual(['pg-orders']);
    expect(stallCandidates(snapshot([pg()], T0), { ...WATCH_PG, connectors: '' }, () => true)).toEqual([]);
  });

  it('reads only the sources that stream on a worker it owns (a sidecar reads its own)', () => {
    const mine = pg('RUNNING', 'RUNNING', W1);
    const theirs = connector('pg-other', 'RUNNING', [task(0, 'RUNNING', { workerId: W2 })], { workerId: W2 });
    const paused = pg('PAUSED', 'PAUSED');
    const failing = pg('RUNNING', 'FAILED');
    expect(stallCandidates(snapshot([mine, theirs], T0), WATCH_PG, (w) => w === W1)).toEqual(['pg-orders']);
    expect(stallCandidates(snapshot([paused], T0), WATCH_PG, () => true)).toEqual([]);
    expect(stallCandidates(snapshot([failing], T0), WATCH_PG, () => true)).toEqual([]);
  });

  for (const [what, now, resolution] of [
    ['paused', pg('PAUSED', 'PAUSED'), 'not-running'],
    ['whose task failed', pg('RUNNING', 'FAILED'), 'not-running'],
    ['whose task is unassigned', pg('RUNNING', 'UNASSIGNED'), 'not-running'],
  ] as const) {
    it(`resolves a stalled source ${what} as not-running and forgets its offsets (a failure pages as its class)`, () => {
      const w = new Watch();
      w.poll([pg()], { 'pg-orders': 'a' });
      w.readEvery(pg(), 'a', 15 * MINUTE);
      w.now += 10 * SECOND;
      expect(w.poll([now], {})).toMatchObject([{ kind: 'resolve', resolution, incident: { class: 'stalled' } }]);
      expect(w.state.offsets).toBeUndefined();
      // Streaming again: counted from its first read, not from before the pause.
      w.now += MINUTE;
      expect(w.poll([pg()], { 'pg-orders': 'a' })).toEqual([]);
      expect(w.state.offsets?.[`${CLUSTER}/pg-orders`]?.movedAt).toBe(w.now);
    });
  }

  it('resolves a stalled source that heal.stall.connectors no longer names as unwatched', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    w.readEvery(pg(), 'a', 15 * MINUTE);
    const unwatched = Object.assign(new Watch({ ...WATCH_PG, connectors: '^mysql-' }), { state: w.state, now: w.now + MINUTE });
    expect(unwatched.poll([pg()], {})).toMatchObject([{ kind: 'resolve', resolution: 'unwatched' }]);
    expect(unwatched.state.offsets).toBeUndefined();
  });

  it('neither pages nor resolves inside a maintenance window, and pages once it is over if still stalled', () => {
    const w = new Watch();
    const maintenance = { inMaintenance: (c: string) => c === 'pg-orders' };
    w.poll([pg()], { 'pg-orders': 'a' }, maintenance);
    for (let i = 0; i < 20; i++) {
      w.now += MINUTE;
      expect(w.poll([pg()], { 'pg-orders': 'a' }, maintenance)).toEqual([]);
    }
    w.now += MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'a' }).map((a) => a.kind)).toEqual(['escalate']);
    // Paused for the maintenance: the page stays open until the window ends.
    w.now += MINUTE;
    expect(w.poll([pg('PAUSED', 'PAUSED')], {}, maintenance)).toEqual([]);
    w.now += MINUTE;
    expect(w.poll([pg('PAUSED', 'PAUSED')], {}).map((a) => a.kind)).toEqual(['resolve']);
  });

  it('a sidecar pages no stall of a connector on another worker (its owner does)', () => {
    const pages = (owns: (worker: string) => boolean): number => {
      const w = new Watch();
      let n = 0;
      for (let i = 0; i <= 30; i++, w.now += MINUTE) n += w.poll([pg()], { 'pg-orders': 'a' }, { owns }).length;
      return n;
    };
    expect(pages((worker) => worker === W1)).toBe(1);
    expect(pages((worker) => worker === W2)).toBe(0);
  });

  it('a sidecar resolves its stalled page once the connector moves to another worker (unwatched), and forgets its offsets', () => {
    const w = new Watch();
    const onW1 = (worker: string) => worker === W1;
    let actions: Action[] = [];
    for (let i = 0; i <= 16; i++, w.now += MINUTE) actions.push(...w.poll([pg()], { 'pg-orders': 'a' }, { owns: onW1 }));
    expect(actions.map((a) => a.kind)).toEqual(['escalate']);
    // A rebalance moves it to W2, whose sidecar reads it now: this one never would see it move again.
    actions = [...w.poll([pg('RUNNING', 'RUNNING', W2)], {}, { owns: onW1 })];
    expect(actions.map((a) => [a.kind, a.kind === 'resolve' && a.resolution])).toEqual([['resolve', 'unwatched']]);
    expect(w.state.incidents).toEqual({});
    expect(w.state.offsets).toBeUndefined();
    // Back on W1 with the same offsets: counted afresh from its first read, not paged at once.
    w.now += MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'a' }, { owns: onW1 })).toEqual([]);
  });

  it('keeps what it remembers of a connector whose status cannot be read this poll, and of other clusters', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    w.poll([pg()], { 'pg-orders': 'x' }, { cluster: 'other' });
    const before = w.state.offsets;
    w.now += MINUTE;
    w.poll([], {}, { unreadable: ['pg-orders'] });
    expect(w.state.offsets).toEqual(before);
    // Gone from a readable listing: forgotten (decide() resolves its incidents as deleted); the other cluster's stays.
    w.now += MINUTE;
    w.poll([], {});
    expect(Object.keys(w.state.offsets ?? {})).toEqual(['other/pg-orders']);
  });

  it('counts afresh when the clock stepped back before the offsets last moved', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    w.now -= 60 * MINUTE;
    expect(w.poll([pg()], { 'pg-orders': 'a' })).toEqual([]);
    expect(w.state.offsets?.[`${CLUSTER}/pg-orders`]?.movedAt).toBe(w.now);
  });

  it('hands back the very state when nothing is watched, remembered or open (every poll of most clusters)', () => {
    const state = EMPTY_HEAL_STATE;
    const out = judgeStalls({ state, snapshot: snapshot([pg()], T0), reads: new Map(), config: WATCH_PG, now: T0, owns: () => true, inMaintenance: () => false });
    expect(out.state).toBe(state);
    expect(out.actions).toEqual([]);
  });

  it('after decide(): a deleted stalled source is resolved once, as deleted, and its offsets forgotten', () => {
    const config = { ...DEFAULTS, stall: WATCH_PG };
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    w.readEvery(pg(), 'a', 15 * MINUTE);
    w.now += MINUTE;
    const input = { snapshot: snapshot([], w.now), config, classify: stubClassifier(), now: w.now, random: () => 0.5, probes: new Map(), inMaintenance: () => false, owns: () => true };
    const decided = decide({ ...input, state: w.state });
    expect(decided.actions).toMatchObject([{ kind: 'resolve', resolution: 'deleted', incident: { class: 'stalled' } }]);
    // decide() carries the offsets through; judgeStalls forgets them and resolves nothing more.
    expect(decided.state.offsets).toEqual(w.state.offsets);
    const judged = judgeStalls({ state: decided.state, snapshot: input.snapshot, reads: new Map(), config: WATCH_PG, now: w.now, owns: () => true, inMaintenance: () => false });
    expect(judged.actions).toEqual([]);
    expect(judged.state.offsets).toBeUndefined();
  });

  it('decide() leaves an open stalled incident of a RUNNING source alone', () => {
    const w = new Watch();
    w.poll([pg()], { 'pg-orders': 'a' });
    w.readEvery(pg(), 'a', 15 * MINUTE);
    const decided = decide({
      state: w.state,
      snapshot: snapshot([pg()], w.now + 10 * SECOND),
      config: { ...DEFAULTS, stall: WATCH_PG },
      classify: stubClassifier(),
      now: w.now + 10 * SECOND,
      random: () => 0.5,
      probes: new Map(),
      inMaintenance: () => false,
      owns: () => true,
    });
    expect(decided.actions).toEqual([]);
    expect(Object.keys(decided.state.incidents)).toEqual([`${CLUSTER}/pg-orders/connector/stalled`]);
  });
});
