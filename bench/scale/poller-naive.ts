/**
 * The naive poller, as runbook loops and peer scripts do it: `GET /connectors`, then one
 * `GET /connectors/{name}/status` per connector, 8 in flight, each body parsed as JSON and its FAILED
 * tasks picked out. No classification, no policy, no metrics: a lower bound of the naive approach's
 * cost. argv[3] = 'no-keepalive' opens a new connection per request (a `curl` in a loop does).
 */
import { Agent, get } from 'node:http';
import { finish, MB, measure, parseArgs } from './protocol.js';

const args = parseArgs();
const keepAlive = process.argv[3] !== 'no-keepalive';
const CONCURRENCY = 8;
const agent = new Agent({ keepAlive, maxSockets: CONCURRENCY });

interface Status {
  name: string;
  connector: { state: string };
  tasks: { id: number; state: string; trace?: string }[];
}

function getJson<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    get(`${args.url}${path}`, { agent, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function poll(): Promise<void> {
  const names = await getJson<string[]>('/connectors');
  const failed: { connector: string; task: number; trace: string }[] = [];
  let next = 0;
  const lane = async () => {
    while (next < names.length) {
      const name = names[next++] as string;
      const status = await getJson<Status>(`/connectors/${encodeURIComponent(name)}/status`);
      for (const t of status.tasks) if (t.state === 'FAILED') failed.push({ connector: name, task: t.id, trace: t.trace ?? '' });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  if (failed.length === 0 && names.length > 0) throw new Error('the sim should have FAILED tasks');
}

const baselineRssMb = process.memoryUsage().rss / MB;
const samples = await measure(args, poll);
finish({ poller: keepAlive ? 'naive' : 'naive-no-keepalive', baselineRssMb, samples });
