import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { EMPTY_HEAL_STATE } from '../../src/heal/types.js';
import { StateStore } from '../../src/state/store.js';

// Tests run as root here and there, and root reads any file: the read is refused by hand.
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  return { ...real, readFile: vi.fn(real.readFile) };
});

it('keeps a state file it is not allowed to read aside instead of replacing it (written by a run as root, say): its open incidents and undelivered pages stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-state-'));
  const file = join(dir, 'state.json');
  const held = '{"version":1,"savedAt":"2026-11-25T09:00:00.000Z","heal":{"subjects":{},"incidents":{},"budgets":{}},"outbox":[]}';
  writeFileSync(file, held, { mode: 0o600 });
  vi.mocked(fs.readFile).mockRejectedValueOnce(Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' }));
  const store = new StateStore(file, silentLogger(), { now: () => Date.parse('2026-11-25T10:00:00Z') });
  expect((await store.load()).heal).toEqual(EMPTY_HEAL_STATE);
  store.save(() => ({ heal: EMPTY_HEAL_STATE, outbox: [] }));
  await store.flush();
  expect(readdirSync(dir).sort()).toEqual(['state.json', 'state.json.unreadable-2026-11-25T10-00-00-000Z']);
  expect(readFileSync(join(dir, 'state.json.unreadable-2026-11-25T10-00-00-000Z'), 'utf8')).toBe(held);
});
