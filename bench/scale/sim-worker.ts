/**
 * A simulated Kafka Connect worker, run as a child process (its CPU is not the watchdog's): serves the
 * bodies of bench/scale/cluster.ts on 127.0.0.1 with keep-alive, counts requests and body bytes sent.
 * Restarts are accepted and ignored (the cluster does not change). `GET /health` answers healthy, as a
 * 4.3.1 worker does, counted apart (`health`): the watchdog reads it beside its polls (heal.health), once
 * a minute of its clock, and a poll does not wait for it. `GET /__bench/stats` (not counted)
 * answers the counters. `GET /__bench/churn?on=1` (not counted) makes every status listing differ from
 * the one before: each fails one more RUNNING task (a real connection trace) and lets the one failed by
 * the listing before recover, the worst case for a poller that skips unchanged listings. Started by bench/scale/run.ts: `fork(sim-worker.js, [tasks])`, then
 * sends `{ type: 'ready', port, ... }` over IPC.
 */
import { createServer, type ServerResponse } from 'node:http';
import { SOURCE_TRACES, traceFor, type RealTrace } from '../lib/real.js';
import { buildCluster } from './cluster.js';

const tasks = Number(process.argv[2] ?? '10000');
const cluster = buildCluster(tasks);
const bufs = {
  expand: Buffer.from(cluster.expandBody),
  expandStatus: Buffer.from(cluster.statusExpandBody),
  expandInfo: Buffer.from(cluster.infoExpandBody),
  names: Buffer.from(cluster.namesBody),
  root: Buffer.from(cluster.rootBody),
  health: Buffer.from(JSON.stringify({ status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' })),
  status: new Map([...cluster.statusBodies].map(([k, v]) => [k, Buffer.from(v)])),
};
const notFound = (name: string) => Buffer.from(JSON.stringify({ error_code: 404, message: `Connector ${name} not found` }));

type Listing = Record<string, { status: { tasks: { id: number; state: string; trace?: string }[] } }>;
const statusListing = JSON.parse(cluster.statusExpandBody) as Listing;
/** Every RUNNING task, as [connector, index]: churn walks through them. */
const runningTasks = Object.entries(statusListing).flatMap(([name, c]) =>
  c.status.tasks.flatMap((t, i) => (t.state === 'RUNNING' ? [[name, i] as const] : [])),
);
const CHURN_TRACE = SOURCE_TRACES.find((t) => t.expected === 'connection') as RealTrace;
let churn = false;
let churned = 0;

/** The listing with the next RUNNING task FAILED (and the one before it back to RUNNING). */
function churnedListing(): Buffer {
  const [name, index] = runningTasks[churned % runningTasks.length] as readonly [string, number];
  churned += 1;
  const task = statusListing[name]?.status.tasks[index];
  if (task === undefined) throw new Error('churn: no such task');
  task.state = 'FAILED';
  task.trace = traceFor(CHURN_TRACE.text, name);
  const body = Buffer.from(JSON.stringify(statusListing));
  task.state = 'RUNNING';
  delete task.trace;
  return body;
}

let requests = 0;
let bytes = 0;
let health = 0;

function send(res: ServerResponse, status: number, body?: Buffer): void {
  requests += 1;
  if (body === undefined) {
    res.writeHead(status, { 'content-length': 0 });
    res.end();
    return;
  }
  bytes += body.length;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sim');
  const path = url.pathname;
  if (path === '/__bench/churn') {
    churn = url.searchParams.get('on') === '1';
    res.writeHead(204);
    res.end();
    return;
  }
  if (path === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, bytes, health }));
    return;
  }
  if (path === '/health') {
    health += 1;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bufs.health.length });
    res.end(bufs.health);
    return;
  }
  if (req.method === 'POST') {
    // Restarts: accepted, ignored (KIP-745 connector restarts answer 202 with a body on a real worker).
    send(res, 204);
    return;
  }
  if (path === '/') return send(res, 200, bufs.root);
  if (path === '/connectors') {
    const expand = url.searchParams.getAll('expand');
    const status = expand.includes('status');
    const info = expand.includes('info');
    if (status && !info && churn) return send(res, 200, churnedListing());
    return send(res, 200, status && info ? bufs.expand : status ? bufs.expandStatus : info ? bufs.expandInfo : bufs.names);
  }
  const m = /^\/connectors\/([^/]+)\/status$/.exec(path);
  if (m !== null) {
    const name = decodeURIComponent(m[1] as string);
    const body = bufs.status.get(name);
    return body === undefined ? send(res, 404, notFound(name)) : send(res, 200, body);
  }
  send(res, 404, notFound(path));
});
// Jetty's default idle timeout.
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.send?.({
    type: 'ready',
    port,
    connectors: cluster.connectors,
    tasks: cluster.tasks,
    failedTasks: cluster.failedTasks,
    failedByClass: cluster.failedByClass,
    expandBytes: bufs.expand.length,
    statusBytes: [...bufs.status.values()].reduce((n, b) => n + b.length, 0),
  });
});
process.on('disconnect', () => process.exit(0));
