import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A stand-in Kafka Connect worker on 127.0.0.1 that serves the REST shapes of a real 4.3 worker. */

export interface FakeTask {
  id: number;
  state: string;
  worker_id: string;
  trace?: string;
}

export interface FakeConnector {
  type: 'source' | 'sink';
  state: string;
  worker_id: string;
  trace?: string;
  tasks: FakeTask[];
  config: Record<string, string>;
  /** No status yet (created while its start() blocks): left out of ?expand=status, 404 on its status; listed by name and info. */
  noStatus?: boolean;
  /** What `GET /connectors/{name}/offsets` lists (KIP-875 entries); none by default. */
  offsets?: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[];
}

export interface RecordedRequest {
  readonly method: string;
  /** Raw path and query as sent on the wire. */
  readonly url: string;
  readonly authorization?: string;
}

/** Lets a test answer a request itself (return true when handled). */
export type Interceptor = (req: IncomingMessage, res: ServerResponse) => boolean;

export class FakeConnect {
  readonly connectors = new Map<string, FakeConnector>();
  readonly requests: RecordedRequest[] = [];
  version = '4.3.1';
  /** Answer like a worker older than 2.3: ignore expand, list names only. */
  legacy = false;
  /** Answer like a worker older than 3.5: no offsets endpoint (Jersey's own 404). */
  noOffsetsEndpoint = false;
  /** The answer to GET /health (a 4.3.1 worker's healthy one by default); undefined: 404, a worker before 3.9. */
  health: { readonly code: number; readonly body?: unknown; readonly delayMs?: number } | undefined = {
    code: 200,
    body: { status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' },
  };
  /** What a restart does to FAILED entries: 'running' heals them, 'failed' leaves them FAILED. */
  restartEffect: 'running' | 'failed' = 'running';
  interceptors: Interceptor[] = [];
  private server: Server | undefined;
  private scheme = 'http';

  get url(): string {
    const addr = this.server?.address() as AddressInfo;
    return `${this.scheme}://127.0.0.1:${addr.port}`;
  }

  /** Requests that change something (restarts), as "METHOD url". */
  get posts(): string[] {
    return this.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);
  }

  add(name: string, c: Partial<FakeConnector> & { tasks?: FakeTask[] }): this {
    this.connectors.set(name, {
      type: c.type ?? 'source',
      state: c.state ?? 'RUNNING',
      worker_id: c.worker_id ?? '127.0.0.1:8083',
      ...(c.trace !== undefined && { trace: c.trace }),
      tasks: c.tasks ?? [{ id: 0, state: 'RUNNING', worker_id: '127.0.0.1:8083' }],
      config: c.config ?? { 'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector', 'tasks.max': '1' },
      ...(c.noStatus === true && { noStatus: true }),
    });
    return this;
  }

  failTask(name: string, id: number, trace: string): void {
    const t = this.connectors.get(name)?.tasks.find((x) => x.id === id);
    if (!t) throw new Error(`no task ${name}/${id}`);
    t.state = 'FAILED';
    t.trace = trace;
  }

  statusOf(name: string): unknown {
    const c = this.connectors.get(name)!;
    return {
      name,
      connector: { state: c.state, worker_id: c.worker_id, ...(c.trace !== undefined && { trace: c.trace }) },
      tasks: c.tasks.map((t) => ({ id: t.id, state: t.state, worker_id: t.worker_id, ...(t.trace !== undefined && { trace: t.trace }) })),
      type: c.type,
    };
  }

  /** Over HTTPS with `tls` (PEM key and certificate). */
  async start(tls?: { readonly key: string; readonly cert: string }): Promise<this> {
    const handle = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = tls === undefined ? createServer(handle) : createTlsServer(tls, handle);
    this.scheme = tls === undefined ? 'http' : 'https';
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private json(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  private heal(c: FakeConnector, onlyTask?: number): void {
    if (this.restartEffect !== 'running') return;
    if (onlyTask === undefined && c.state === 'FAILED') {
      c.state = 'RUNNING';
      delete c.trace;
    }
    for (const t of c.tasks) {
      if (t.state === 'FAILED' && (onlyTask === undefined || t.id === onlyTask)) {
        t.state = 'RUNNING';
        delete t.trace;
      }
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', ...(req.headers.authorization && { authorization: req.headers.authorization }) });
    for (const i of this.interceptors) if (i(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && parts.length === 0) return this.json(res, 200, { version: this.version, commit: 'fake', kafka_cluster_id: 'fake' });
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'health' && this.health !== undefined) {
      const { code, body, delayMs } = this.health;
      if (delayMs === undefined) return this.json(res, code, body);
      setTimeout(() => this.json(res, code, body), delayMs).unref();
      return;
    }
    if (parts[0] !== 'connectors') return this.json(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
    if (req.method === 'GET' && parts.length === 1) {
      const expand = url.searchParams.getAll('expand');
      if (this.legacy || expand.length === 0) return this.json(res, 200, [...this.connectors.keys()]);
      const body: Record<string, unknown> = {};
      for (const [name, c] of this.connectors) {
        // Kafka Connect leaves a connector with no status out of the listing when it expands the status.
        if (c.noStatus === true && expand.includes('status')) continue;
        body[name] = {
          ...(expand.includes('status') && { status: this.statusOf(name) }),
          ...(expand.includes('info') && {
            info: { name, config: { ...c.config, name }, tasks: c.tasks.map((t) => ({ connector: name, task: t.id })), type: c.type },
          }),
        };
      }
      return this.json(res, 200, body);
    }
    const name = parts[1]!;
    const c = this.connectors.get(name);
    if (!c) return this.json(res, 404, { error_code: 404, message: `Unknown connector: ${name}` });
    if (req.method === 'GET' && parts[2] === 'offsets' && parts.length === 3) {
      if (this.noOffsetsEndpoint) return this.json(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
      return this.json(res, 200, { offsets: c.offsets ?? [] });
    }
    if (req.method === 'GET' && parts[2] === 'status') {
      if (c.noStatus === true) return this.json(res, 404, { error_code: 404, message: `No status found for connector ${name}` });
      return this.json(res, 200, this.statusOf(name));
    }
    if (req.method === 'POST' && parts[2] === 'restart') {
      const includeTasks = url.searchParams.get('includeTasks') === 'true';
      const onlyFailed = url.searchParams.get('onlyFailed') === 'true';
      if (!includeTasks && !onlyFailed) {
        if (c.state === 'FAILED' && this.restartEffect === 'running') {
          c.state = 'RUNNING';
          delete c.trace;
        }
        return this.json(res, 204);
      }
      const before = this.statusOf(name) as { tasks: { state: string }[]; connector: { state: string } };
      before.tasks.forEach((t) => {
        if (!onlyFailed || t.state === 'FAILED') t.state = 'RESTARTING';
      });
      if (!onlyFailed || before.connector.state === 'FAILED') before.connector.state = 'RESTARTING';
      this.heal(c);
      return this.json(res, 202, before);
    }
    if (req.method === 'POST' && parts[2] === 'tasks' && parts[4] === 'restart') {
      const id = Number(parts[3]);
      if (!c.tasks.some((t) => t.id === id)) return this.json(res, 404, { error_code: 404, message: `Unknown task: ${name}-${id}` });
      this.heal(c, id);
      return this.json(res, 204);
    }
    return this.json(res, 405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
  }
}
