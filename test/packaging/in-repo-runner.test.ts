/**
 * The README's in-repository runner, `npm run -s watchdog -- <command>`, on a clone where nothing was built
 * yet (`npm ci` only): it must build first, then print only the command's own output on stdout.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const clone = mkdtempSync(join(tmpdir(), 'cw-in-repo-'));
afterAll(() => rmSync(clone, { recursive: true, force: true }));

function npmRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('npm', ['run', '-s', ...args], { cwd: clone, env: { ...process.env, npm_config_update_notifier: 'false' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('npm run -s watchdog on a fresh clone', () => {
  beforeAll(() => {
    for (const entry of ['package.json', 'tsconfig.json', 'src']) cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  });

  it('builds before it runs, and stdout holds only the answer', async () => {
    const r = await npmRun(['watchdog', '--', '--version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  }, 60_000);

  // `npm start` and `npm run build` compile into the same dist without the runner's incremental bookkeeping:
  // sources put back to what the runner last built then looked unchanged to it, and it ran the other build.
  it('runs what the sources say after a full build of other sources (npm run build, npm start) and the sources put back', async () => {
    const file = join(clone, 'src/cli/commands.ts');
    const original = readFileSync(file, 'utf8');
    expect(original).toContain('a command is needed');
    expect((await npmRun(['watchdog'])).stderr).toContain('a command is needed');
    writeFileSync(file, original.replace('a command is needed', 'another build is needed'));
    expect((await npmRun(['build'])).code).toBe(0);
    writeFileSync(file, original); // git checkout back, say
    const r = await npmRun(['watchdog']);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('a command is needed');
  }, 120_000);

  // tsc prints its errors on stdout and exits 2: `status --json` then printed them where its JSON goes, and
  // exited with status's "something FAILED".
  it('keeps stdout clean and exits 70, not a code of the command, when the sources do not compile', async () => {
    const bad = join(clone, 'src/zz-does-not-compile.ts');
    writeFileSync(bad, "export const n: number = 'not a number';\n");
    try {
      const r = await npmRun(['watchdog', '--', 'status', '--json']);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('TS2322');
      expect(r.code).toBe(70);
    } finally {
      unlinkSync(bad);
    }
  }, 60_000);

  // npm signals only its own child. With `VAR=1 node …` as the script, that child is sh, which died and left
  // the watchdog running as an orphan, holding its state-file lock and metrics port: a process manager (or
  // `timeout`, `kill $(pidof npm)`) that stops `npm start` must stop the watchdog.
  it.each([[['start']], [['watchdog', '--', 'run']]])('a SIGTERM to npm %j stops the watchdog cleanly', async (script) => {
    const stateFile = join(clone, `state-${script[0]}.json`);
    const child = spawn('npm', ['run', '-s', ...script], {
      cwd: clone,
      env: { ...process.env, npm_config_update_notifier: 'false', CONNECT_URL: 'http://127.0.0.1:1', CONNECT_WATCHDOG_METRICS_PORT: '0', CONNECT_WATCHDOG_STATE_FILE: stateFile },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const until = async (what: () => boolean, ms: number): Promise<boolean> => {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (what()) return true;
      return what();
    };
    try {
      expect(await until(() => stdout.includes('"watchdog started"'), 60_000)).toBe(true);
      child.kill('SIGTERM');
      expect(await until(() => stdout.includes('"msg":"stopped"'), 10_000)).toBe(true);
      expect(await until(() => !existsSync(`${stateFile}.lock`), 5_000)).toBe(true);
    } finally {
      // An orphan left by a failure here must not outlive the test: the lock names its pid.
      try {
        process.kill((JSON.parse(readFileSync(`${stateFile}.lock`, 'utf8')) as { pid: number }).pid, 'SIGKILL');
      } catch {
        // no lock, or the process is gone
      }
    }
  }, 90_000);
});

