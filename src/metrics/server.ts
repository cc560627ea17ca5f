/**
 * The metrics/health HTTP server: GET|HEAD /metrics, /healthz, /readyz on node:http. Thin on purpose:
 * what "healthy" means lives in healthOf (pure) and in the daemon that supplies `health`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { WatchdogMetrics } from './metrics.js';

export interface Health {
  readonly alive: boolean;
  readonly ready: boolean;
  /** Small, secret-free facts for a human reading /healthz (e.g. last tick, clusters polled). */
  readonly detail?: object;
}

export interface MetricsServerOptions {
  readonly host: string;
  /** 0 picks a free port; the bound one is returned. */
  readonly port: number;
  readonly metrics: WatchdogMetrics;
  readonly health: () => Health;
  readonly logger: Pick<Logger, 'error'>;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthInput {
  /** Epoch ms. */
  readonly now: number;
  /** Milliseconds between ticks of the poll loop. */
  readonly pollInterval: number;
  /** Epoch ms of the poll loop's last tick; undefined before the first one. */
  readonly lastTickAt?: number;
  readonly clustersPolledOnce: number;
  readonly clusters: number;
  /** Epoch ms the oldest poll still in flight began; undefined when none is. */
  readonly pollInFlightSince?: number;
  /** How long a poll may take when every request runs to its deadline (ms). */
  readonly pollBound?: number;
}

/** A loop that missed this many ticks in a row is considered hung. */
export const STALE_TICKS = 3;

/** The metrics port is taken or not allowed: one line for the operator, not a stack trace. */
export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}

/**
 * The watchdog's own health, never the connectors' (a FAILED connector must not get the watchdog
 * restarted). Alive while the poll loop ticked within the last STALE_TICKS intervals, or a poll in flight
 * is within its bound (pollBound: slow, not hung); before the first tick it counts as alive (it is
 * starting; readiness says it is not useful yet). Ready once alive and every cluster has been polled at
 * least once.
 */
export function healthOf(input: HealthInput): { alive: boolean; ready: boolean } {
  // A poll of a cluster that answers slowly (a body dribbling in, each request running to its deadline) may
  // outlast the ticks: within its bound it is slow, not hung.
  const slowPoll = input.pollInFlightSince !== undefined && input.now - input.pollInFlightSince < (input.pollBound ?? 0);
  // With several clusters the others' ticks keep it alive past one poll's bound: restarting the watchdog
  // would stop their healing too, and a cluster that stays unread pages as ConnectWatchdogStale.
  const alive = input.lastTickAt === undefined || input.now - input.lastTickAt < STALE_TICKS * input.pollInterval || slowPoll;
  const ready = alive && input.clustersPolledOnce >= input.clusters;
  return { alive, ready };
}

const ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics, health, logger } = opts;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, path: pathOf(req) }, 'metrics server: request failed');
      if (!res.headersSent) send(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    if (!ROUTES.has(path)) return send(res, req, 404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (path === '/metrics') return send(res, req, 200, metrics.contentType, await metrics.metrics());
    const h = health();
    const ok = path === '/healthz' ? h.alive : h.ready;
    const body = { status: ok ? 'ok' : 'unavailable', alive: h.alive, ready: h.ready, ...(h.detail === undefined ? {} : { detail: h.detail }) };
    return send(res, req, ok ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new MetricsListenError(`cannot serve metrics on ${opts.host}:${opts.port} (metrics.host, metrics.port): ${err.code ?? err.message}`)));
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After a successful listen, errors are per-connection; log rather than crash the daemon.
  server.on('error', (err) => logger.error({ err }, 'metrics server error'));

  // The caller logs the bound address; it knows whether this is the daemon or a one-off.
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // server.close() only stops accepting; a scraper's keep-alive socket would hold shutdown open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(req.method === 'HEAD' ? undefined : body);
}
