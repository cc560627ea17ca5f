/**
 * vitest globalSetup of the fast suite: every temporary file of the run (the tests' mkdtemp dirs, the
 * state files and configs of the daemons they spawn) goes under one directory, removed at the end, so that
 * `npm test` leaves nothing behind in /tmp. os.tmpdir() reads TMPDIR at each call, and the test forks and
 * the processes they spawn inherit it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'connect-watchdog-test-'));
  const before = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  return () => {
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
