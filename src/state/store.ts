import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { EMPTY_HEAL_STATE, type HealState } from '../heal/types.js';
import { isJsonObject } from '../util/json.js';

export const STATE_VERSION = 1;

/** What survives a daemon restart. Plain JSON. */
export interface PersistedState {
  readonly version: typeof STATE_VERSION;
  readonly savedAt: string;
  readonly heal: HealState;
  /** The escalation outbox (validated by escalate/outbox.ts when restored). */
  readonly outbox: unknown;
}

/** Keeps only well-formed entries; a state file is input like any other. */
function parseHealState(v: unknown): HealState {
  if (!isJsonObject(v)) return EMPTY_HEAL_STATE;
  const pick = (x: unknown, ok: (e: Record<string, unknown>) => boolean) =>
    isJsonObject(x) ? Object.fromEntries(Object.entries(x).filter(([, e]) => isJsonObject(e) && ok(e))) : {};
  return {
    subjects: pick(v['subjects'], (e) => typeof e['cluster'] === 'string' && typeof e['connector'] === 'string' && typeof e['attempts'] === 'number') as HealState['subjects'],
    incidents: pick(v['incidents'], (e) => typeof e['key'] === 'string' && typeof e['cluster'] === 'string') as HealState['incidents'],
    budgets: pick(v['budgets'], (e) => typeof e['tokens'] === 'number' && typeof e['updatedAt'] === 'number') as HealState['budgets'],
  };
}

export function parseState(text: string): { heal: HealState; outbox: unknown } {
  const data: unknown = JSON.parse(text);
  if (!isJsonObject(data)) throw new Error('not a JSON object');
  if (data['version'] !== STATE_VERSION) throw new Error(`unsupported state version ${String(data['version'])}`);
  return { heal: parseHealState(data['heal']), outbox: data['outbox'] ?? [] };
}

/** Without a restart, an escalation or a delivery to record, the state file is rewritten at most this often. */
export const ROUTINE_WRITE_INTERVAL_MS = 30_000;

export interface StateStoreOptions {
  readonly routineInterval?: number;
  readonly now?: () => number;
}

/**
 * The state file: read tolerantly at start, written atomically (temp file + rename) in the background.
 * Saves are coalesced: while one write is in flight, later saves only mark the newest state to write next,
 * so a slow disk never blocks polling and never reorders writes. A routine save (timestamps moved, nothing
 * acted on) is written at most every routineInterval: losing it in a crash costs nothing that matters,
 * while rewriting hundreds of KB of incidents every poll costs CPU and disk.
 */
export class StateStore {
  private pending: PersistedState | undefined;
  private deferred: PersistedState | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt: number | undefined;
  private readonly routineInterval: number;
  private readonly now: () => number;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    options: StateStoreOptions = {},
  ) {
    this.routineInterval = options.routineInterval ?? ROUTINE_WRITE_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  async load(): Promise<{ heal: HealState; outbox: unknown }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.logger.warn({ stateFile: this.path, code }, 'state file unreadable; starting fresh');
      return { heal: EMPTY_HEAL_STATE, outbox: [] };
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
      return { heal: EMPTY_HEAL_STATE, outbox: [] };
    }
  }

  /**
   * Schedules a write of this state and returns at once. `routine`: only observations moved (no restart,
   * page or delivery to record), so it may wait until routineInterval has passed since the last write.
   */
  save(heal: HealState, outbox: unknown, options: { routine?: boolean } = {}): void {
    const state: PersistedState = { version: STATE_VERSION, savedAt: new Date(this.now()).toISOString(), heal, outbox };
    const now = this.now();
    if (options.routine && this.lastWriteAt !== undefined && now - this.lastWriteAt < this.routineInterval) {
      this.deferred = state;
      return;
    }
    this.write(state);
  }

  /** Writes what a routine save deferred, and resolves when every scheduled write is on disk (shutdown). */
  async flush(): Promise<void> {
    if (this.deferred) this.write(this.deferred);
    await this.settled();
  }

  /** Resolves when the writes scheduled so far are on disk. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private write(state: PersistedState): void {
    this.deferred = undefined;
    this.pending = state;
    this.lastWriteAt = this.now();
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.pending) {
      const state = this.pending;
      this.pending = undefined;
      const tmp = `${this.path}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
        await rename(tmp, this.path);
      } catch (err) {
        this.logger.error({ stateFile: this.path, code: (err as NodeJS.ErrnoException).code }, 'state file write failed');
      }
    }
  }
}
