import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { EMPTY_HEAL_STATE, SUBJECT_TIME_FIELDS, type HealState } from '../../src/heal/types.js';
import { parseState, StateStore } from '../../src/state/store.js';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as { level: number; msg: string }) }) };
}

const heal = (attempts: number): HealState => ({
  subjects: { 'prod/a/0': { cluster: 'prod', connector: 'a', task: 0, state: 'FAILED', workerId: 'w', attempts, restartTimes: [], moves: [] } },
  incidents: {},
  budgets: {},
});

describe('the state file', () => {
  it('starts fresh when missing, and warns when corrupt or of another version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const { lines, logger } = capture();
    expect(await new StateStore(join(dir, 'none.json'), logger).load()).toEqual({ heal: EMPTY_HEAL_STATE, outbox: [], routes: {} });
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    writeFileSync(join(dir, 'bad.json'), '{"version":1,"heal":');
    expect((await new StateStore(join(dir, 'bad.json'), logger).load()).heal).toEqual(EMPTY_HEAL_STATE);
    writeFileSync(join(dir, 'v9.json'), '{"version":9}');
    expect((await new StateStore(join(dir, 'v9.json'), logger).load()).heal).toEqual(EMPTY_HEAL_STATE);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['state file corrupt; starting fresh', 'state file corrupt; starting fresh']);
  });

  it('writes atomically and reads back what it wrote, dropping malformed entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const file = join(dir, 'state.json');
    const savedAt = Date.parse('2026-11-25T10:00:00Z');
    const store = new StateStore(file, capture().logger, { now: () => savedAt });
    store.save(() => ({ heal: heal(2), outbox: [{ some: 'delivery' }], routes: { 'prod/a/0/config': ['pd'] } }));
    await store.flush();
    expect(readdirSync(dir)).toEqual(['state.json']);
    const back = await new StateStore(file, capture().logger).load();
    // savedAt too: the outbox ages what it restores up to then (Outbox.load).
    expect(back).toEqual({ heal: heal(2), outbox: [{ some: 'delivery' }], routes: { 'prod/a/0/config': ['pd'] }, savedAt });
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { heal: { subjects: Record<string, unknown> } };
    raw.heal.subjects['prod/b/0'] = { cluster: 'prod' };
    writeFileSync(file, JSON.stringify(raw));
    expect(Object.keys((await new StateStore(file, capture().logger).load()).heal.subjects)).toEqual(['prod/a/0']);
  });

  it('syncs the temp file before the rename and the directory after it (a power loss keeps a whole file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const file = join(dir, 'state.json');
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; sync: () => Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(proto, 'datasync');
    const sync = vi.spyOn(proto, 'sync');
    try {
      const store = new StateStore(file, capture().logger);
      store.save(() => ({ heal: heal(1), outbox: [] }));
      await store.flush();
      expect(datasync.mock.calls.length + sync.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(sync).toHaveBeenCalled(); // the directory: fsync, a datasync does not cover a rename
    } finally {
      datasync.mockRestore();
      sync.mockRestore();
    }
  });

  it('takes over the lock of a watchdog that died (kill -9) and gives its own back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const file = join(dir, 'state.json');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: dead, host: hostname() }));
    const store = new StateStore(file, capture().logger);
    await store.lock();
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await store.unlock();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('starts when a stale lock cannot be taken over (a file system remounted read-only), warning as for one it cannot create', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const file = join(dir, 'state.json');
    mkdirSync(`${file}.lock`); // neither readable nor writable as a file: what EROFS does to the takeover
    const { lines, logger } = capture();
    const store = new StateStore(file, logger);
    await expect(store.lock()).resolves.toBeUndefined();
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['state file lock not taken: a second watchdog on this state file would go unnoticed']);
    await store.unlock();
  });

  it('leaves no temp file behind: neither of a write that failed nor of a watchdog that died mid-write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    // A write that fails after its temp file was written (here the rename: the path is a directory).
    const blocked = join(dir, 'blocked.json');
    mkdirSync(blocked);
    const failing = new StateStore(blocked, capture().logger);
    failing.save(() => ({ heal: heal(1), outbox: [] }));
    await failing.flush();
    expect(readdirSync(dir).sort()).toEqual(['blocked.json']);
    // A watchdog killed mid-write left its temp file; the next one, another pid, removes it once it holds the lock.
    writeFileSync(join(dir, 'state.json.4242.tmp'), '{"version":1,"hea');
    writeFileSync(join(dir, `state.json.${process.pid}.tmp`), '');
    writeFileSync(join(dir, 'state.json.backup.tmp'), 'not ours');
    const store = new StateStore(join(dir, 'state.json'), capture().logger);
    await store.lock();
    expect(readdirSync(dir).sort()).toEqual(['blocked.json', 'state.json.backup.tmp', `state.json.${process.pid}.tmp`, 'state.json.lock'].sort());
    await store.unlock();
  });

  it('keeps a state file it cannot read aside instead of overwriting it (a newer version, rolled back from)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const file = join(dir, 'state.json');
    const newer = '{"version":2,"incidents":["still open"]}';
    writeFileSync(file, newer);
    const store = new StateStore(file, capture().logger, { now: () => Date.parse('2026-11-25T10:00:00Z') });
    expect((await store.load()).heal).toEqual(EMPTY_HEAL_STATE);
    store.save(() => ({ heal: heal(1), outbox: [] }));
    await store.flush();
    expect(readdirSync(dir).sort()).toEqual(['state.json', 'state.json.unreadable-2026-11-25T10-00-00-000Z']);
    expect(readFileSync(join(dir, 'state.json.unreadable-2026-11-25T10-00-00-000Z'), 'utf8')).toBe(newer);
    // A dry run (it never writes) leaves even an unreadable file where it is.
    writeFileSync(file, newer);
    await new StateStore(file, capture().logger).load();
    expect(readFileSync(file, 'utf8')).toBe(newer);
  });

  it('counts each write, the failed ones too (a full or read-only disk must show in metrics, not only in the log)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const outcomes: string[] = [];
    const good = new StateStore(join(dir, 'state.json'), capture().logger, { onWrite: (o) => outcomes.push(o) });
    good.save(() => ({ heal: heal(1), outbox: [] }));
    await good.flush();
    const blocked = join(dir, 'blocked.json');
    mkdirSync(blocked); // the rename fails: the path is a directory
    const bad = new StateStore(blocked, capture().logger, { onWrite: (o) => outcomes.push(o) });
    bad.save(() => ({ heal: heal(1), outbox: [] }));
    await bad.flush();
    expect(outcomes).toEqual(['ok', 'failed']);
  });

  it('settles once the writes scheduled so far are on disk, while later saves keep the disk busy (a page waits for its own write only)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
    const store = new StateStore(join(dir, 'state.json'), capture().logger);
    let busy = true;
    let writes = 0;
    // Every write is followed by another save (deliveries of a backlog to another sink, each recorded at once).
    const read = () => {
      writes += 1;
      if (busy) setImmediate(() => store.save(read));
      return { heal: heal(writes), outbox: [] };
    };
    store.save(read);
    const settled = store.settled().then(() => writes);
    const bound = new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 2_000));
    const outcome = await Promise.race([settled, bound]);
    busy = false;
    await store.flush();
    expect(outcome).toBeLessThanOrEqual(2);
  });

  it('drops entries that lack a field decide() reads, or hold it in the wrong type (they crashed every poll)', () => {
    const good = heal(1).subjects['prod/a/0']!;
    const incident = { key: 'prod/a/0/config', cluster: 'prod', connector: 'a', task: 0, class: 'config', severity: 'error', reason: 'r', rootCause: 'c', hint: 'h', attempts: 0, firstSeen: 1, lastSeen: 2, workerId: 'w', traceExcerpt: '' };
    const text = JSON.stringify({
      version: 1,
      heal: {
        subjects: {
          good,
          noMoves: { ...good, moves: undefined },
          badTimes: { ...good, restartTimes: ['soon'] },
          badClass: { ...good, class: 'network' },
          noState: { ...good, state: undefined },
          ...Object.fromEntries(SUBJECT_TIME_FIELDS.map((k) => [`bad-${k}`, { ...good, [k]: 'yesterday' }])),
        },
        incidents: { good: incident, noSeverity: { ...incident, severity: undefined }, badTask: { ...incident, task: -1 } },
        budgets: { prod: { tokens: 3, updatedAt: 1 }, bad: { tokens: '3', updatedAt: 1 } },
        offsets: {
          'prod/pg': { cluster: 'prod', connector: 'pg', digest: 'abc', movedAt: 5 },
          'prod/pg-after-a-failed-read': { cluster: 'prod', connector: 'pg-after-a-failed-read', digest: 'abc', movedAt: 5, readFailed: true },
          badReadFailed: { cluster: 'prod', connector: 'pg', digest: 'abc', movedAt: 5, readFailed: 'yes' },
          noDigest: { cluster: 'prod', connector: 'pg', movedAt: 5 },
          badTime: { cluster: 'prod', connector: 'pg', digest: 'abc', movedAt: 'an hour ago' },
        },
        health: {
          prod: { cluster: 'prod', status: 'unhealthy', message: '… ensuring membership in the cluster …', since: 5 },
          stage: { cluster: 'stage', status: 'no-answer', message: 'no answer to GET /health within 15 s', since: 6 },
          badStatus: { cluster: 'x', status: 'sick', message: '', since: 5 },
          noSince: { cluster: 'x', status: 'healthy', message: '' },
          badMessage: { cluster: 'x', status: 'healthy', message: 500, since: 5 },
        },
      },
    });
    const { heal: back } = parseState(text);
    expect(Object.keys(back.subjects)).toEqual(['good']);
    expect(Object.keys(back.incidents)).toEqual(['good']);
    expect(Object.keys(back.budgets)).toEqual(['prod']);
    expect(Object.keys(back.offsets ?? {})).toEqual(['prod/pg', 'prod/pg-after-a-failed-read']);
    expect(back.offsets?.['prod/pg-after-a-failed-read']?.readFailed).toBe(true);
    expect(Object.keys(back.health ?? {})).toEqual(['prod', 'stage']);
  });

  it('creates the directory of the state file when it is missing', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-state-')), 'not', 'yet', 'state.json');
    const store = new StateStore(file, capture().logger);
    store.save(() => ({ heal: heal(1), outbox: [] }));
    await store.flush();
    expect((await new StateStore(file, capture().logger).load()).heal).toEqual(heal(1));
  });

  it('writes the content as it is when the write starts, once for a burst of saves', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-state-')), 'state.json');
    const store = new StateStore(file, capture().logger);
    let current = heal(1);
    let reads = 0;
    const read = () => {
      reads += 1;
      return { heal: current, outbox: [] };
    };
    store.save(read); // starts a write at once
    current = heal(2);
    store.save(read);
    current = heal(3);
    store.save(read);
    await store.settled();
    expect(reads).toBe(2);
    expect((await new StateStore(file, capture().logger).load()).heal).toEqual(heal(3));
  });

  it('writes a routine save at most every routineInterval, an acting one at once, and the deferred one on flush', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-state-')), 'state.json');
    let now = 0;
    const store = new StateStore(file, capture().logger, { routineInterval: 30_000, now: () => now });
    const attemptsOnDisk = () => (JSON.parse(readFileSync(file, 'utf8')) as { heal: HealState }).heal.subjects['prod/a/0']!.attempts;
    /** Saves heal(attempts) at `at`, waits for any write, and answers the attempts the file then holds. */
    const saveAt = async (at: number, attempts: number, routine: boolean) => {
      now = at;
      store.save(() => ({ heal: heal(attempts), outbox: [] }), { routine });
      await store.settled();
      return attemptsOnDisk();
    };
    expect(await saveAt(0, 1, true)).toBe(1); // the first save is written, routine or not
    expect(await saveAt(10_000, 2, true)).toBe(1); // 10 s after the last write: deferred
    expect(await saveAt(20_000, 3, false)).toBe(3); // acting: at once
    expect(await saveAt(25_000, 4, true)).toBe(3); // 5 s after: deferred
    await store.flush();
    expect(attemptsOnDisk()).toBe(4);
    expect(await saveAt(60_000, 5, true)).toBe(5); // 35 s after the last write
  });

  it('writes routine saves again within routineInterval after the wall clock stepped back (not an hour later)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-state-')), 'state.json');
    let now = 3_600_000;
    const store = new StateStore(file, capture().logger, { routineInterval: 30_000, now: () => now });
    const attemptsOnDisk = () => (JSON.parse(readFileSync(file, 'utf8')) as { heal: HealState }).heal.subjects['prod/a/0']!.attempts;
    const saveAt = async (at: number, attempts: number) => {
      now = at;
      store.save(() => ({ heal: heal(attempts), outbox: [] }), { routine: true });
      await store.settled();
      return attemptsOnDisk();
    };
    expect(await saveAt(3_600_000, 1)).toBe(1);
    // NTP steps the clock back an hour; restarts go on being counted, and a crash must not lose an hour of them.
    expect(await saveAt(10_000, 2)).toBe(2);
    expect(await saveAt(20_000, 3)).toBe(2); // 10 s after that write: deferred
    expect(await saveAt(45_000, 4)).toBe(4);
  });

  it('skips a routine write when only timestamps moved, and writes an acting save of the same content', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cw-state-')), 'state.json');
    let now = 0;
    const store = new StateStore(file, capture().logger, { routineInterval: 30_000, now: () => now });
    const withIncident = (lastSeen: number, attempts = 0): HealState => ({
      ...heal(attempts),
      incidents: { 'prod/a/0/config': { key: 'prod/a/0/config', cluster: 'prod', connector: 'a', task: 0, class: 'config', severity: 'error', reason: 'r', rootCause: 'c', hint: 'h', attempts, firstSeen: 0, lastSeen, workerId: 'w', traceExcerpt: '' } },
      budgets: { prod: { tokens: 10, updatedAt: lastSeen } },
    });
    const savedAt = () => (JSON.parse(readFileSync(file, 'utf8')) as { savedAt: string }).savedAt;
    const saveAt = async (at: number, state: HealState, routine: boolean) => {
      now = at;
      store.save(() => ({ heal: state, outbox: [] }), { routine });
      await store.settled();
      return savedAt();
    };
    const first = await saveAt(0, withIncident(0), true);
    expect(await saveAt(40_000, withIncident(40_000), true)).toBe(first); // due, but only lastSeen and updatedAt moved
    expect(await saveAt(80_000, withIncident(80_000, 1), true)).toBe(new Date(80_000).toISOString()); // a restart was counted
    expect(await saveAt(90_000, withIncident(90_000, 1), false)).toBe(new Date(90_000).toISOString()); // acting: written whatever moved
    now = 100_000;
    store.save(() => ({ heal: withIncident(100_000, 1), outbox: [] }), { routine: true });
    await store.flush();
    expect(savedAt()).toBe(new Date(90_000).toISOString()); // the deferred routine save held nothing new
  });
});
