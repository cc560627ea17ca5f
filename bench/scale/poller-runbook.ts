/**
 * The runbook poller: what a shell loop in a runbook or a cron job does, one `curl` per connector status
 * piped to `jq`, 8 at a time with `xargs -P 8`. CPU counts this process and every process it waited for
 * (curl, jq, sh, xargs, bash: cutime + cstime from /proc/self/stat); RSS is this process's only (the
 * shell processes come and go), so it is not comparable and not reported.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { finish, MB, measure, parseArgs } from './protocol.js';

const args = parseArgs();
const TICK_MS = 10; // getconf CLK_TCK = 100 on Linux

const SCRIPT = String.raw`
curl -s "$URL/connectors" | jq -r '.[]' |
  xargs -P 8 -I{} sh -c 'curl -s "$URL/connectors/$1/status" | jq -c "select([.tasks[] | select(.state == \"FAILED\")] | length > 0) | {name, failed: [.tasks[] | select(.state == \"FAILED\") | .id]}"' _ {}
`;

/** CPU of reaped children (and theirs), ms. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": field 3 (state) is index 0, so cutime (16) is index 13 and cstime (17) index 14.
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

function poll(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', SCRIPT], { env: { ...process.env, URL: args.url }, stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0;
    child.stdout.on('data', (c: Buffer) => (lines += c.toString('utf8').split('\n').length - 1));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && lines > 0 ? resolve() : reject(new Error(`runbook loop exited ${code}, ${lines} lines`))));
  });
}

const baselineRssMb = process.memoryUsage().rss / MB;
let before = 0;
const samples = await measure(args, async () => {
  before = childrenCpuMs();
  await poll();
  return { phases: { childrenCpuMs: childrenCpuMs() - before } };
});
// Fold the children's CPU into the sample: it is the poll's cost.
finish({
  poller: 'runbook',
  baselineRssMb,
  samples: samples.map((s) => ({ ...s, cpuMs: s.cpuMs + (s.phases?.['childrenCpuMs'] ?? 0) })),
});
