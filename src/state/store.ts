import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { EMPTY_HEAL_STATE, type HealState } from '../heal/types.js';

export const STATE_VERSION = 1;

/** What survives a daemon restart. Plain JSON. */
export interface PersistedState {
  readonly version: typeof STATE_VERSION;
  readonly savedAt: string;
  readonly heal: HealState;
  /** The escalation outbox (validated by escalate/outbox.ts when restored). */
  readonly outbox: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keeps only well-formed entries; a state file is input like any other. */
function parseHealState(v: unknown): HealState {
  if (!isRecord(v)) return EMPTY_HEAL_STATE;
  const pick = (x: unknown, ok: (e: Record<string, unknown>) => boolean) =>
    isRecord(x) ? Object.fromEntries(Object.entries(x).filter(([, e]) => isRecord(e) && ok(e))) : {};
  return {
    subjects: pick(v['subjects'], (e) => typeof e['cluster'] === 'string' && typeof e['connector'] === 'string' && typeof e['attempts'] === 'number') as HealState['subjects'],
    incidents: pick(v['incidents'], (e) => typeof e['key'] === 'string' && typeof e['cluster'] === 'string') as HealState['incidents'],
    budgets: pick(v['budgets'], (e) => typeof e['tokens'] === 'number' && typeof e['updatedAt'] === 'number') as HealState['budgets'],
  };
}

export function parseState(text: string): { heal: HealState; outbox: unknown } {
  const data: unknown = JSON.parse(text);
  if (!isRecord(data)) throw new Error('not a JSON object');
  if (data['version'] !== STATE_VERSION) throw new Error(`unsupported state version ${String(data['version'])}`);
  return { heal: parseHealState(data['heal']), outbox: data['outbox'] ?? [] };
}

/**
 * The state file: read tolerantly at start, written atomically (temp file + rename) in the background.
 * Saves are coalesced: while one write is in flight, later saves only mark the newest state to write next,
 * so a slow disk never blocks polling and never reorders writes.
 */
export class StateStore {
  private pending: PersistedState | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

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

  /** Schedules a write of this state; returns at once. */
  save(heal: HealState, outbox: unknown): void {
    this.pending = { version: STATE_VERSION, savedAt: new Date().toISOString(), heal, outbox };
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = undefined;
    });
  }

  /** Resolves when every scheduled write is on disk (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
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
