/**
 * Rehearses the Dockerfile where there is no Docker engine: its instructions are read from the
 * Dockerfile itself and carried out in a scratch root, so that what the image would hold is what runs.
 *
 *   1. the build context is what .dockerignore lets through;
 *   2. the build stage's COPY and RUN (npm ci, tsc, npm prune) run as written, with the repo's Node 24
 *      first on PATH standing in for the base image's;
 *   3. the runtime stage's COPY --from=build, RUN, ENV, USER, ENTRYPOINT, CMD and HEALTHCHECK are taken
 *      as written, absolute image paths (/app, /etc/..., /var/...) mapped into the scratch root;
 *   4. then: no devDependency is left in node_modules; `check-config` exits 0 with the image's
 *      environment; the default command, as the image's USER, polls a stand-in Connect worker (test/helpers/fake-connect.ts), writes its
 *      state file into the state volume, passes the HEALTHCHECK command, and exits 0 on STOPSIGNAL; the
 *      HEALTHCHECK also passes with the metrics port bound to one address (CONNECT_WATCHDOG_METRICS_HOST).
 *
 * Not rehearsed: the base image's own contents (its Node 24 and the `node` user are assumed).
 *
 *   npx tsx scripts/rehearse-image.ts [Dockerfile]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FakeConnect } from '../test/helpers/fake-connect.js';

const ROOT = resolve(import.meta.dirname, '..');
const DOCKERFILE = resolve(process.argv[2] ?? join(ROOT, 'Dockerfile'));
const NODE24 = process.execPath; // run by the repo's Node 24 (npx tsx), as the image's base would be

interface Instruction {
  readonly stage: string;
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** The Dockerfile's instructions (continuations joined, comments dropped), each with its stage's name. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = '';
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const [keyword = '', ...rest] = full.split(/\s+/);
    const args = full.slice(keyword.length).trim();
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(out.length);
    out.push({ stage, keyword: keyword.toUpperCase(), args: rest.length === 0 ? '' : args, line: start });
  });
  return out;
}

const scratch = mkdtempSync(join(tmpdir(), 'cw-image-'));
chmodSync(scratch, 0o755); // the image's USER must reach the files below
const fsRoot = join(scratch, 'fs');
/** An absolute path in the image, in the scratch root. */
const inImage = (p: string) => join(fsRoot, p);
/** Absolute image paths inside a command or a value, mapped into the scratch root. */
const mapPaths = (s: string) => s.replace(/(^|[\s='"])\/(app|etc|var|src)(?=[/\s'"]|$)/g, (_m, pre: string, top: string) => `${pre}${fsRoot}/${top}`);

let failed = false;
const ok = (what: string) => console.log(`ok   ${what}`);
const fail = (what: string) => {
  failed = true;
  console.error(`FAIL ${what}`);
};

/** The build context: .dockerignore as an allow-list ("*" then "!path" lines), as this project writes it. */
function context(): string {
  const dir = join(scratch, 'context');
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (rules[0] !== '*') throw new Error('.dockerignore is expected to start with "*" (an allow-list)');
  for (const rule of rules.slice(1)) {
    if (!rule.startsWith('!')) throw new Error(`.dockerignore: only "!path" lines are rehearsed, not ${rule}`);
    const path = rule.slice(1).replace(/\/$/, '');
    if (existsSync(join(ROOT, path))) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  }
  return dir;
}

/** COPY [--from=stage] [--chown=...] src... dest, relative to the workdir. */
function copy(args: string, contextDir: string, workdir: string): void {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  const dest = paths.pop() as string;
  const target = dest.startsWith('/') ? inImage(dest) : join(workdir, dest);
  // Stages share the scratch root: a COPY --from reads the other stage's absolute paths.
  const sourceOf = (p: string) => (from !== undefined ? inImage(p) : join(contextDir, p));
  for (const p of paths) {
    const src = sourceOf(p);
    const into = paths.length > 1 || dest.endsWith('/') || (existsSync(target) && statSync(target).isDirectory() && statSync(src).isFile());
    cpSync(src, into ? join(target, p.split('/').pop() as string) : target, { recursive: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const all = instructions(readFileSync(DOCKERFILE, 'utf8'));
  const stages = [...new Set(all.map((i) => i.stage))];
  const runtime = stages.at(-1) as string;
  const contextDir = context();
  // The base image's node: the repo's Node 24 first on PATH (npm's `#!/usr/bin/env node` finds it too).
  const binDir = join(scratch, 'bin');
  mkdirSync(binDir);
  symlinkSync(NODE24, join(binDir, 'node'));
  const basePath = `${binDir}:${process.env['PATH'] ?? ''}`;

  const env: Record<string, string> = {};
  let user: { uid: number; gid: number } | undefined;
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let healthcheck: string[] = [];
  let stopSignal: NodeJS.Signals = 'SIGTERM';
  for (const stage of stages) {
    let workdir = fsRoot;
    for (const ins of all.filter((i) => i.stage === stage)) {
      const where = `Dockerfile:${ins.line} ${ins.keyword}`;
      switch (ins.keyword) {
        case 'WORKDIR':
          workdir = inImage(ins.args);
          mkdirSync(workdir, { recursive: true });
          break;
        case 'COPY':
          copy(ins.args, contextDir, workdir);
          break;
        case 'RUN': {
          const r = spawnSync('bash', ['-euo', 'pipefail', '-c', mapPaths(ins.args)], {
            cwd: workdir,
            env: { ...process.env, ...env, PATH: basePath, npm_config_update_notifier: 'false' },
            stdio: ['ignore', 'pipe', 'pipe'],
            encoding: 'utf8',
          });
          if (r.status !== 0) throw new Error(`${where} (stage ${stage}) failed:\n${r.stdout}${r.stderr}`);
          ok(`${where} (stage ${stage})`);
          break;
        }
        case 'ENV':
          if (stage !== runtime) break;
          for (const [, k, v] of ins.args.matchAll(/(\w+)=(\S+)/g)) env[k as string] = mapPaths(v as string);
          break;
        case 'USER': {
          const [uid, gid] = ins.args.split(':').map(Number);
          user = { uid: uid as number, gid: (gid ?? uid) as number };
          break;
        }
        case 'ENTRYPOINT':
          entrypoint = (JSON.parse(ins.args) as string[]).map(mapPaths);
          break;
        case 'CMD':
          cmd = JSON.parse(ins.args) as string[];
          break;
        case 'HEALTHCHECK':
          healthcheck = JSON.parse(ins.args.slice(ins.args.indexOf('CMD') + 3).trim()) as string[];
          break;
        case 'STOPSIGNAL':
          stopSignal = ins.args as NodeJS.Signals;
          break;
      }
    }
  }
  const app = inImage('/app');

  // What the image ships: no devDependency.
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const shipped = new Set(readdirSync(join(app, 'node_modules')).flatMap((d) => (d.startsWith('@') ? readdirSync(join(app, 'node_modules', d)).map((s) => `${d}/${s}`) : [d])));
  const leaked = Object.keys(pkg.devDependencies ?? {}).filter((d) => shipped.has(d));
  if (leaked.length === 0) ok(`no devDependency in the image's node_modules (${shipped.size} packages)`);
  else fail(`devDependencies in the image: ${leaked.join(', ')}`);

  const [program, ...entryArgs] = entrypoint;
  if (program !== 'node') throw new Error(`ENTRYPOINT is expected to start with node, got ${String(program)}`);
  const imageEnv = (extra: Record<string, string>) => ({ PATH: basePath, HOME: '/nonexistent', ...env, ...extra });
  const asUser = user === undefined ? {} : { uid: user.uid, gid: user.gid };

  // check-config with the image's environment alone.
  const check = spawnSync(NODE24, [...entryArgs, 'check-config'], { env: imageEnv({}), ...asUser, encoding: 'utf8' });
  if (check.status === 0 && check.stdout.trim().startsWith('{')) ok('check-config: exit 0 with the image environment');
  else fail(`check-config: exit ${check.status}\n${check.stdout}${check.stderr}`);

  // The default command, as the image's user, against a stand-in worker; the HEALTHCHECK until it passes.
  const connect = await new FakeConnect().start();
  const metricsPort = String(await freePort());
  const daemonEnv = imageEnv({ CONNECT_URL: connect.url, CONNECT_WATCHDOG_METRICS_PORT: metricsPort, CONNECT_WATCHDOG_POLL_INTERVAL: '1000' });
  const daemon: ChildProcess = spawn(NODE24, [...entryArgs, ...cmd], { env: daemonEnv, ...asUser, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  daemon.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
  try {
    const [hcProgram, ...hcArgs] = healthcheck;
    if (hcProgram !== 'node') throw new Error(`HEALTHCHECK is expected to run node, got ${String(hcProgram)}`);
    let healthy = false;
    for (let i = 0; i < 40 && !healthy && daemon.exitCode === null; i++) {
      await sleep(250);
      healthy = spawnSync(NODE24, hcArgs, { env: daemonEnv, ...asUser, timeout: 5000 }).status === 0;
    }
    if (healthy) ok(`HEALTHCHECK passes against \`${[...entrypoint, ...cmd].join(' ')}\`${user ? ` run as ${user.uid}:${user.gid}` : ''}`);
    else fail(`HEALTHCHECK never passed\n${output}`);
    const stateFile = env['CONNECT_WATCHDOG_STATE_FILE'];
    for (let i = 0; i < 20 && stateFile !== undefined && !existsSync(stateFile); i++) await sleep(250);
    if (stateFile !== undefined && existsSync(stateFile)) ok(`the state file is written in the state volume (${stateFile.slice(fsRoot.length)})`);
    else fail('no state file in the state volume');
  } finally {
    daemon.kill(stopSignal);
    const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
    if (code === 0) ok(`exit 0 on ${stopSignal}`);
    else {
      daemon.kill('SIGKILL');
      fail(`on ${stopSignal}: ${String(code)}\n${output}`);
    }
    await connect.stop();
  }

  // The metrics port bound to one address (CONNECT_WATCHDOG_METRICS_HOST=10.0.0.7, say): the HEALTHCHECK must
  // ask that address, where 127.0.0.1 would be refused. Its own state file: the first daemon's lock is mine.
  const other = await new FakeConnect().start();
  const boundEnv = imageEnv({
    CONNECT_URL: other.url,
    CONNECT_WATCHDOG_METRICS_HOST: '127.0.0.2',
    CONNECT_WATCHDOG_METRICS_PORT: String(await freePort()),
    CONNECT_WATCHDOG_STATE_FILE: join(dirname(env['CONNECT_WATCHDOG_STATE_FILE'] ?? join(scratch, 'x')), 'bound-state.json'),
  });
  const bound = spawn(NODE24, [...entryArgs, ...cmd], { env: boundEnv, ...asUser, stdio: 'ignore' });
  try {
    let healthy = false;
    for (let i = 0; i < 40 && !healthy && bound.exitCode === null; i++) {
      await sleep(250);
      healthy = spawnSync(NODE24, healthcheck.slice(1), { env: boundEnv, ...asUser, timeout: 5000 }).status === 0;
    }
    if (healthy) ok('HEALTHCHECK passes with the metrics port bound to one address (CONNECT_WATCHDOG_METRICS_HOST=127.0.0.2)');
    else fail('HEALTHCHECK never passed with CONNECT_WATCHDOG_METRICS_HOST=127.0.0.2: it asks another address');
  } finally {
    bound.kill('SIGKILL');
    await other.stop();
  }
}

try {
  await main();
} catch (err) {
  fail((err as Error).message);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(failed ? 'rehearse-image: FAILED' : 'rehearse-image: OK');
process.exit(failed ? 1 : 0);
