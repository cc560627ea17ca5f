/**
 * Local HTTP recorders for the e2e scenarios, both on 127.0.0.1 with a free port:
 *
 * - startReceiver(): a webhook receiver that records every JSON payload the watchdog's generic webhook
 *   sink POSTs (answers 200), so that a scenario can assert on the escalations a person would get.
 * - startConnectProxy(target): a transparent recording proxy in front of the Connect REST API. The
 *   daemon is pointed at it, so that a scenario sees every request the watchdog really sent (a restart
 *   is a POST) and every body the real worker answered — "sent nothing" is then a fact, not an
 *   inference from counters.
 * - startTcpProxy(port): a TCP relay to 127.0.0.1:port that a scenario can cut and restore, so that a
 *   connector loses its database as in a network partition while the database itself stays up.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, connect as tcpConnect, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The generic webhook body (src/escalate/webhook.ts, schema connect-watchdog/incident/v1). */
export interface WebhookPayload {
  readonly schema: string;
  readonly event: 'trigger' | 'resolve';
  readonly id: string;
  readonly key: string;
  readonly cluster: string;
  readonly connector: string;
  readonly task: number | null;
  readonly class: string;
  readonly severity: string;
  readonly reason: string;
  readonly rootCause: string;
  readonly hint: string;
  readonly attempts: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly workerId: string;
  readonly traceExcerpt: string;
  readonly statusUrl: string;
}

export interface Received {
  readonly at: number;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly payload: WebhookPayload;
}

export interface Receiver {
  readonly url: string;
  /** Everything received, in order. */
  readonly received: readonly Received[];
  /** Payloads about one connector (all events, in order). */
  about(connector: string): WebhookPayload[];
  /** Resolves with the first payload matching `pred` (already received or to come); rejects after timeoutMs. */
  waitFor(pred: (p: WebhookPayload) => boolean, timeoutMs?: number, what?: string): Promise<WebhookPayload>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    readBody(req).then(
      (text) => {
        let payload: WebhookPayload;
        try {
          payload = JSON.parse(text) as WebhookPayload;
        } catch {
          res.statusCode = 400;
          res.end('not json\n');
          return;
        }
        received.push({ at: Date.now(), path: req.url ?? '/', headers: req.headers, payload });
        res.statusCode = 200;
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}\n');
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    about: (connector) => received.filter((r) => r.payload.connector === connector).map((r) => r.payload),
    async waitFor(pred, timeoutMs = 30_000, what = 'a webhook payload') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find((r) => pred(r.payload));
        if (hit) return hit.payload;
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(received.map((r) => [r.payload.event, r.payload.connector, r.payload.class]))}`);
        }
        await sleep(100);
      }
    },
    close: () => closeServer(server),
  };
}

export interface ProxiedExchange {
  readonly at: number;
  readonly method: string;
  /** Path and query as the watchdog sent them. */
  readonly path: string;
  readonly status: number;
  /** The worker's response body, parsed as JSON when it is JSON, raw text otherwise, null when empty. */
  readonly body: unknown;
}

export interface ConnectProxy {
  readonly url: string;
  readonly exchanges: readonly ProxiedExchange[];
  /** Requests other than GET (restarts are POSTs; the watchdog should never PUT or DELETE). */
  writes(connector?: string): ProxiedExchange[];
  /**
   * Holds every request that arrives from now on until the returned function is called (then they go
   * through in order). For a scenario that needs a few hundred milliseconds of the real world to pass
   * unseen by the watchdog, as if its next poll simply came a little later.
   */
  hold(): () => void;
  close(): Promise<void>;
}

/** A recording reverse proxy to the Connect REST API at `target` (e.g. http://127.0.0.1:8083). */
export async function startConnectProxy(target: string): Promise<ConnectProxy> {
  const exchanges: ProxiedExchange[] = [];
  const upstream = new URL(target);
  let gate: Promise<void> | undefined;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      while (gate !== undefined) await gate;
      const headers = { ...req.headers, host: upstream.host };
      const up = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (upRes) => {
          const chunks: Buffer[] = [];
          upRes.on('data', (c: Buffer) => chunks.push(c));
          upRes.on('end', () => {
            const raw = Buffer.concat(chunks);
            const text = raw.toString('utf8');
            let parsed: unknown = null;
            if (text.length > 0) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            exchanges.push({ at: Date.now(), method: req.method ?? 'GET', path: req.url ?? '/', status: upRes.statusCode ?? 0, body: parsed });
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(raw);
          });
          upRes.on('error', () => res.destroy());
        },
      );
      up.on('error', () => {
        // The worker is down or restarting: the watchdog sees a reset, as it would without us.
        res.destroy();
      });
      up.end(body);
    })();
  });
  const port = await listen(server);
  const connectorOf = (path: string) => decodeURIComponent(/^\/connectors\/([^/?]+)/.exec(path)?.[1] ?? '');
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    writes: (connector) => exchanges.filter((e) => e.method !== 'GET' && (connector === undefined || connectorOf(e.path) === connector)),
    hold() {
      let release!: () => void;
      const g = new Promise<void>((r) => (release = r));
      gate = g;
      return () => {
        if (gate === g) gate = undefined;
        release();
      };
    },
    close: () => closeServer(server),
  };
}

export interface TcpProxy {
  readonly port: number;
  /** Resets every relayed connection and refuses new ones (the port stops listening). */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 to 127.0.0.1:targetPort. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const relay = (client: Socket) => {
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort });
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  };
  let server: TcpServer = createTcpServer(relay);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.resetAndDestroy();
    });
  const port = await listen(0);
  return {
    port,
    cut: stop,
    async restore() {
      server = createTcpServer(relay);
      await listen(port);
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
