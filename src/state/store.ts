import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { EMPTY_HEAL_STATE, SUBJECT_TIME_FIELDS, type HealState } from '../heal/types.js';
import { isJsonObject } from '../util/json.js';
import { FAILURE_CLASSES, type FailureClass } from '../classify/types.js';
import { HEALTH_STATUSES, type WorkerHealth } from '../connect/types.js';
import { isCount, isStr, isTime, parseIncident } from '../escalate/pending.js';
import { onlyTimestampsMoved } from './compare.js';
import { within } from '../util/clock.js';
import { StateEncoder } from './serialize.js';

export const STATE_VERSION = 1;

/** What survives a daemon restart. Plain JSON. */
export interface PersistedState {
  readonly version: typeof STATE_VERSION;
  readonly savedAt: string;
  readonly heal: HealState;
  /** The escalation outbox (validated by escalate/outbox.ts when restored). */
  readonly outbox: unknown;
  /** Which sinks each open incident's trigger went to (escalate/outbox.ts); absent in older files. */
  readonly routes?: unknown;
  /** The sinks the outbox and routes name, by name: what each sends to, as a digest (Outbox.sinkIdentities); absent in older files. */
  readonly sinks?: unknown;
}

const isTimes = (v: unknown): boolean => Array.isArray(v) && v.every(isTime);

/** Every field decide() reads, of the type it reads it as: a hand-edited or foreign entry must not crash a poll. */
function isSubject(e: Record<string, unknown>): boolean {
  return (
    isStr(e['cluster']) &&
    isStr(e['connector']) &&
    (e['task'] === null || isCount(e['task'])) &&
    isStr(e['state']) &&
    isStr(e['workerId']) &&
    isCount(e['attempts']) &&
    isTimes(e['restartTimes']) &&
    isTimes(e['moves']) &&
    (e['class'] === undefined || FAILURE_CLASSES.includes(e['class'] as FailureClass)) &&
    (e['lastSkip'] === undefined || isStr(e['lastSkip'])) &&
    (e['refusals'] === undefined || isCount(e['refusals'])) &&
    (e['lastRefusal'] === undefined || isStr(e['lastRefusal'])) &&
    SUBJECT_TIME_FIELDS.every((k) => e[k] === undefined || isTime(e[k]))
  );
}

/** Keeps only well-formed entries; a state file is input like any other. */
function parseHealState(v: unknown): HealState {
  if (!isJsonObject(v)) return EMPTY_HEAL_STATE;
  const pick = (x: unknown, ok: (e: Record<string, unknown>) => boolean) =>
    isJsonObject(x) ? Object.fromEntries(Object.entries(x).filter(([, e]) => isJsonObject(e) && ok(e))) : {};
  const incidents = isJsonObject(v['incidents'])
    ? Object.fromEntries(Object.entries(v['incidents']).flatMap(([k, e]) => {
        const incident = parseIncident(e);
        return incident === undefined ? [] : [[k, incident]];
      }))
    : {};
  const offsets = pick(v['offsets'], (e) => isStr(e['cluster']) && isStr(e['connector']) && isStr(e['digest']) && isTime(e['movedAt']) && (e['readFailed'] === undefined || e['readFailed'] === true)) as NonNullable<HealState['offsets']>;
  const health = pick(v['health'], (e) => isStr(e['cluster']) && HEALTH_STATUSES.includes(e['status'] as WorkerHealth['status']) && isStr(e['message']) && isTime(e['since'])) as NonNullable<HealState['health']>;
  return {
    subjects: pick(v['subjects'], isSubject) as HealState['subjects'],
    incidents,
    budgets: pick(v['budgets'], (e) => isTime(e['tokens']) && isTime(e['updatedAt'])) as HealState['budgets'],
    ...(Object.keys(offsets).length > 0 && { offsets }),
    ...(Object.keys(health).length > 0 && { health }),
  };
}

/** What a state file holds; savedAt (wall ms) is undefined when it holds no valid one. */
export interface LoadedState {
  readonly heal: HealState;
  readonly outbox: unknown;
  readonly routes: unknown;
  readonly sinks?: unknown;
  readonly savedAt?: number;
}

export function parseState(text: string): LoadedState {
  const data: unknown = JSON.parse(text);
  if (!isJsonObject(data)) throw new Error('not a JSON object');
  if (data['version'] !== STATE_VERSION) throw new Error(`unsupported state version ${String(data['version'])}`);
  const savedAt = isStr(data['savedAt']) ? Date.parse(data['savedAt']) : NaN;
  return { heal: parseHealState(data['heal']), outbox: data['outbox'] ?? [], routes: data['routes'] ?? {}, sinks: data['sinks'], ...(isTime(savedAt) && { savedAt }) };
}

/** Without a restart, an escalation or a delivery to record, the state file is rewritten at most this often. */
export const ROUTINE_WRITE_INTERVAL_MS = 30_000;

/** What a save writes: the policy state and the escalation outbox, read when the write starts. */
export interface StateContent {
  readonly heal: HealState;
  readonly outbox: unknown;
  readonly routes?: unknown;
  readonly sinks?: unknown;
}

export interface StateStoreOptions {
  readonly routineInterval?: number;
  readonly now?: () => number;
  /** Called once per write attempt (metrics): a disk that is full or read-only must show, not only log. */
  readonly onWrite?: (outcome: 'ok' | 'failed') => void;
}

/** Writes every buffer, whatever the kernel took per call. */
export async function writeAll(file: Pick<FileHandle, 'writev'>, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest);
    let i = 0;
    while (i < rest.length && bytesWritten >= (rest[i] as Buffer).length) bytesWritten -= (rest[i++] as Buffer).length;
    rest = rest.slice(i);
    if (bytesWritten > 0) rest[0] = (rest[0] as Buffer).subarray(bytesWritten);
  }
}

/** Makes a rename in `dir` durable: until its directory is synced, a power loss can undo it. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: some file systems refuse to sync a directory, and the rename itself is done.
  }
}

/** Another live watchdog holds the state file: two writers would overwrite each other's incidents. */
export class StateFileLockedError extends Error {
  constructor(path: string, pid: number) {
    super(`state file ${path} is in use by another watchdog (pid ${pid}); every instance needs its own state file (stateFile, CONNECT_WATCHDOG_STATE_FILE)`);
    this.name = 'StateFileLockedError';
  }
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The process's start time in clock ticks since boot (/proc/PID/stat), when readable: tells a reused pid apart. */
  readonly started?: string;
}

function startTimeOf(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The lock's owner is this very watchdog, gone, or a process that merely reuses its pid: the lock is stale. */
function isLive(owner: LockOwner): boolean {
  if (owner.host !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch {
    // Gone, or another user's process (EPERM): better a missed second watchdog than one that never starts.
    return false;
  }
  const started = startTimeOf(owner.pid);
  return owner.started === undefined || started === undefined || started === owner.started;
}

/**
 * The state file: read tolerantly at start, written atomically and durably (temp file, fsync, rename, fsync
 * of the directory) in the background.
 * Saves are coalesced: a save schedules a write of the state as it is when the write starts, so a slow
 * disk never blocks polling and never reorders writes, and a burst of saves costs one write. A routine
 * save (timestamps moved, nothing paged) is written at most every routineInterval: losing it in a crash
 * costs nothing that matters, while rewriting hundreds of KB of incidents every poll costs CPU and disk.
 * A routine write is skipped altogether when only timestamps that nothing reads back moved since the last
 * write (compare.ts): a connector left FAILED for a human over a weekend costs no disk writes. Entries
 * unchanged since the last write are not encoded again (serialize.ts).
 */
export class StateStore {
  /** A write is due: the content is read when it starts. */
  private due: (() => StateContent) | undefined;
  /** Every save coalesced into the due write was routine. */
  private dueRoutine = true;
  /** What the last successful write put on disk. */
  private written: StateContent | undefined;
  /** A routine save waiting for routineInterval to pass since the last write. */
  private deferred: (() => StateContent) | undefined;
  /** The write loop runs; cleared by the loop itself as it ends (a save in between starts the next one). */
  private writing = false;
  /** Writes scheduled so far (write() calls), and how many of them a finished write covered. */
  private scheduled = 0;
  private covered = 0;
  private waiters: { readonly upTo: number; readonly resolve: () => void }[] = [];
  /** The file load() could not read or parse: moved aside by the first write rather than replaced (never by a dry run, which writes nothing). */
  private unreadable = false;
  private lastWriteAt: number | undefined;
  private readonly routineInterval: number;
  private readonly now: () => number;
  private readonly onWrite: ((outcome: 'ok' | 'failed') => void) | undefined;
  private readonly encoder = new StateEncoder();

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    options: StateStoreOptions = {},
  ) {
    this.routineInterval = options.routineInterval ?? ROUTINE_WRITE_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.onWrite = options.onWrite;
  }

  private get lockPath(): string {
    return `${this.path}.lock`;
  }

  /**
   * Takes `<stateFile>.lock` for this process, or throws StateFileLockedError when a live watchdog on this host
   * holds it. Two watchdogs on one state file overwrite each other's incidents, and each resolves the other's
   * as `cluster-removed` at start. A lock that cannot be written (read-only directory) is only warned about:
   * the writes will fail and say so anyway.
   */
  async lock(): Promise<void> {
    const started = startTimeOf('self');
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), ...(started !== undefined && { started }) });
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(this.lockPath, mine, { flag: 'wx', mode: 0o600 });
      await this.removeLeftoverTemps();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        this.logger.warn({ stateFile: this.path, code: (err as NodeJS.ErrnoException).code }, 'state file lock not taken: a second watchdog on this state file would go unnoticed');
        return;
      }
    }
    let owner: unknown;
    try {
      owner = JSON.parse(await readFile(this.lockPath, 'utf8'));
    } catch {
      owner = undefined; // half-written by a watchdog that died: stale
    }
    if (isJsonObject(owner) && isCount(owner['pid']) && isStr(owner['host']) && isLive(owner as unknown as LockOwner)) {
      throw new StateFileLockedError(this.path, owner['pid'] as number);
    }
    try {
      await writeFile(this.lockPath, mine, { mode: 0o600 });
    } catch (err) {
      // A stale lock on a file system remounted read-only (ext4 errors=remount-ro): as for a lock that cannot be
      // created, the watchdog still runs and pages; the writes will fail and say so (metrics, alert).
      this.logger.warn({ stateFile: this.path, code: (err as NodeJS.ErrnoException).code }, 'state file lock not taken: a second watchdog on this state file would go unnoticed');
      return;
    }
    await this.removeLeftoverTemps();
  }

  /** Gives the lock back (shutdown): only when it is still this process's. */
  async unlock(): Promise<void> {
    try {
      const owner: unknown = JSON.parse(await readFile(this.lockPath, 'utf8'));
      if (isJsonObject(owner) && owner['pid'] === process.pid && owner['host'] === hostname()) await unlink(this.lockPath);
    } catch {
      // no lock, or not ours: nothing to give back
    }
  }

  async load(): Promise<LoadedState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        // Not allowed to read it (written by a run as root, say) is no reason to replace it: kept aside too.
        this.logger.warn({ stateFile: this.path, code }, 'state file unreadable; starting fresh');
        this.unreadable = true;
      }
      return { heal: EMPTY_HEAL_STATE, outbox: [], routes: {} };
    }
    try {
      const state = parseState(text);
      this.logger.info(
        { stateFile: this.path, subjects: Object.keys(state.heal.subjects).length, incidents: Object.keys(state.heal.incidents).length },
        'state loaded',
      );
      return state;
    } catch (err) {
      this.logger.warn({ stateFile: this.path, reason: (err as Error).message }, 'state file corrupt; starting fresh');
      this.unreadable = true;
      return { heal: EMPTY_HEAL_STATE, outbox: [], routes: {} };
    }
  }

  /**
   * Schedules a write and returns at once; `read` gives the content when the write starts (the newest
   * state then, not the one of this call). `routine`: only observations moved (no page or delivery to
   * record), so it may wait until routineInterval has passed since the last write.
   */
  save(read: () => StateContent, options: { routine?: boolean } = {}): void {
    const routine = options.routine === true;
    if (routine && this.lastWriteAt !== undefined && within(this.now(), this.lastWriteAt, this.routineInterval)) {
      this.deferred = read;
      return;
    }
    this.write(read, routine);
  }

  /** Writes what a routine save deferred, and resolves when every scheduled write is on disk (shutdown). */
  async flush(): Promise<void> {
    if (this.deferred) this.write(this.deferred, true);
    await this.settled();
  }

  /**
   * Resolves when the writes scheduled so far are on disk (or failed). Saves made meanwhile are not waited for:
   * a disk kept busy by them (a backlog delivered to one sink, each delivery recorded) must not hold back
   * what waits for this write (another sink's page).
   */
  settled(): Promise<void> {
    if (this.covered >= this.scheduled) return Promise.resolve();
    const upTo = this.scheduled;
    return new Promise((resolve) => this.waiters.push({ upTo, resolve }));
  }

  private write(read: () => StateContent, routine: boolean): void {
    this.deferred = undefined;
    this.dueRoutine = (this.due === undefined || this.dueRoutine) && routine;
    this.due = read;
    this.scheduled += 1;
    this.lastWriteAt = this.now();
    if (this.writing) return;
    this.writing = true;
    void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    // A settled() waiter is resolved only by an iteration of this loop: a save after its last check and before
    // `writing` was cleared (in a .finally, a microtask later) stayed due, unwritten, with nothing to write it.
    for (;;) {
      if (!this.due) {
        this.writing = false;
        return;
      }
      const read = this.due;
      const routine = this.dueRoutine;
      const covers = this.scheduled;
      this.due = undefined;
      const tmp = `${this.path}.${process.pid}.tmp`;
      try {
        const content = read();
        if (routine && this.written !== undefined && onlyTimestampsMoved(content, this.written)) continue;
        const { heal, outbox, routes, sinks } = content;
        const buffers = this.encoder.encode({ version: STATE_VERSION, savedAt: new Date(this.now()).toISOString(), heal, outbox, routes, sinks });
        const file = await this.openTemp(tmp);
        try {
          await writeAll(file, buffers);
          // On disk before the rename: else a power loss after it can leave an empty or partial state file.
          await file.datasync();
        } finally {
          await file.close();
        }
        if (this.unreadable) await this.keepAside();
        await rename(tmp, this.path);
        await syncDir(dirname(this.path));
        this.written = content;
        this.onWrite?.('ok');
      } catch (err) {
        this.logger.error({ stateFile: this.path, code: (err as NodeJS.ErrnoException).code }, 'state file write failed');
        this.onWrite?.('failed');
        // A partial temp file on a full disk would hold on to the space the next write needs.
        await unlink(tmp).catch(() => undefined);
      } finally {
        this.covered = covers;
        const ready = this.waiters.filter((w) => w.upTo <= covers);
        this.waiters = this.waiters.filter((w) => w.upTo > covers);
        for (const w of ready) w.resolve();
      }
    }
  }

  /**
   * Keeps the file load() could not read as `<stateFile>.unreadable-<time>`: replaced, it would take with it
   * the open incidents and undelivered pages an operator can still read, or a newer version (rolled back
   * from) can still load.
   */
  private async keepAside(): Promise<void> {
    this.unreadable = false;
    const aside = `${this.path}.unreadable-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      await rename(this.path, aside);
      this.logger.warn({ stateFile: this.path, keptAs: aside }, 'unreadable state file kept aside');
    } catch (err) {
      this.logger.warn({ stateFile: this.path, code: (err as NodeJS.ErrnoException).code }, 'unreadable state file not kept aside; replaced');
    }
  }

  /**
   * Temp files of watchdogs that died mid-write: each has its pid in its name, so no later write replaces
   * it, and a crash loop would pile them up. Called once the lock is ours: no other watchdog writes here.
   */
  private async removeLeftoverTemps(): Promise<void> {
    const prefix = `${basename(this.path)}.`;
    let names: string[];
    try {
      names = await readdir(dirname(this.path));
    } catch {
      return;
    }
    for (const name of names) {
      const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? name.slice(prefix.length, -'.tmp'.length) : '';
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      try {
        await unlink(join(dirname(this.path), name));
        this.logger.info({ stateFile: this.path, temp: name }, 'temp file of an interrupted state write removed');
      } catch {
        // gone already: harmless
      }
    }
  }

  /** The temp file, truncated; its directory is created when missing (checked only then: one call less per write). */
  private async openTemp(tmp: string): Promise<FileHandle> {
    try {
      return await open(tmp, 'w', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(this.path), { recursive: true });
      return await open(tmp, 'w', 0o600);
    }
  }
}
