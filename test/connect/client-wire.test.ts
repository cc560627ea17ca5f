/**
 * The client against a real HTTP server on 127.0.0.1: what arrives on the wire, timeouts, cut
 * connections, refused connections and cancellation (things nock cannot imitate faithfully).
 */
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient, type ConnectClientOptions } from '../../src/connect/client.js';
import { failure } from './fixtures.js';
import type { ClusterConfig } from '../../src/config/types.js';
import { LocalServer, closedPort } from './local-server.js';

const resources: { stop(): Promise<void> }[] = [];

function client(url: string, over: Partial<ClusterConfig> = {}, options: Partial<ConnectClientOptions> = {}): ConnectClient {
  const c = new ConnectClient({ name: 'wire', url, rejectUnauthorized: true, timeout: 300, probe: false, ...over }, { retries: 0, statusConcurrency: 4, ...options });
  resources.push({ stop: () => c.close() });
  return c;
}

async function server(handler: Parameters<typeof LocalServer.start>[0]): Promise<LocalServer> {
  const s = await LocalServer.start(handler);
  resources.push(s);
  return s;
}

function status(name: string): string {
  return JSON.stringify({ name, connector: { state: 'RUNNING', worker_id: 'w:8083' }, tasks: [], type: 'source' });
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterEach(async () => {
  // Clients first (they close their sockets), then servers.
  for (const r of resources.splice(0).reverse()) await r.stop();
});

describe('on the wire', () => {
  it('percent-encodes odd connector names in every path', async () => {
    const names = ['with space', 'a/b', '50%', 'what?', 'hash#tag', 'café', '..'];
    const s = await server((req, res) => {
      if (req.url?.startsWith('/connectors?')) return void res.end(JSON.stringify(names));
      if (req.method === 'GET') {
        const seg = decodeURIComponent(req.url?.split('/')[2] ?? '');
        return void res.end(status(seg));
      }
      res.statusCode = 204;
      res.end();
    });
    const c = client(s.url);
    const snap = await c.snapshot();
    expect(snap.connectors.map((x) => x.name)).toEqual(names);
    await c.restartConnector('a/b', { includeTasks: true, onlyFailed: false });
    await c.restartTask('café', 2);
    const urls = s.seen.map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        'GET /connectors?expand=status',
        'GET /connectors/with%20space/status',
        'GET /connectors/a%2Fb/status',
        'GET /connectors/50%25/status',
        'GET /connectors/what%3F/status',
        'GET /connectors/hash%23tag/status',
        'GET /connectors/caf%C3%A9/status',
        'GET /connectors/%2E%2E/status',
        'POST /connectors/a%2Fb/restart?includeTasks=true&onlyFailed=false',
        'POST /connectors/caf%C3%A9/tasks/2/restart',
      ]),
    );
    // A worker that ignores expand has no info to read.
    expect(urls.filter((u) => u.includes('expand=info'))).toEqual([]);
  });

  it('sends basic auth from URL user info, never the user info itself', async () => {
    const s = await server((_req, res) => res.end(status('a')));
    const url = s.url.replace('http://', 'http://ops:pw%2Fx@');
    await client(url).status('a');
    expect(s.seen[0]?.authorization).toBe(`Basic ${Buffer.from('ops:pw/x').toString('base64')}`);
    expect(s.seen[0]?.url).toBe('/connectors/a/status');
  });
});

describe('timeouts', () => {
  it('a server that never answers is TIMEOUT', async () => {
    const s = await server(() => {
      /* never answers */
    });
    const err = await failure(client(s.url).status('a'));
    expect(err.code).toBe('TIMEOUT');
    expect(err.path).toBe('/connectors/a/status');
    expect(err.cluster).toBe('wire');
  });

  it('a body that stalls after the headers is TIMEOUT', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"name":"a",');
    });
    expect((await failure(client(s.url).status('a'))).code).toBe('TIMEOUT');
  });

  it('a timed-out GET is retried', async () => {
    let calls = 0;
    const s = await server((_req, res) => {
      calls++;
      if (calls > 1) res.end(status('a'));
    });
    expect((await client(s.url, {}, { retries: 1 }).status('a'))?.name).toBe('a');
    expect(calls).toBe(2);
  });

  it('an offsets read that timed out is not retried (the worker\'s herder is held: a lost broker, a rebalance)', async () => {
    let calls = 0;
    const s = await server((_req, res) => {
      calls++;
      if (calls > 1) res.end(JSON.stringify({ offsets: [] }));
    });
    expect((await failure(client(s.url, {}, { retries: 2 }).offsets('a'))).code).toBe('TIMEOUT');
    expect(calls).toBe(1);
    expect(s.seen.map((r) => r.url)).toEqual(['/connectors/a/offsets']);
  });

  it('the caller aborting a hanging request is ABORTED, not TIMEOUT', async () => {
    const controller = new AbortController();
    const s = await server(() => controller.abort());
    const err = await failure(client(s.url, { timeout: 10_000 }).snapshot(controller.signal));
    expect(err.code).toBe('ABORTED');
  });
});

describe('cancellation of requests still queued', () => {
  it('the caller aborting fails a request waiting for a connection at once', async () => {
    const controller = new AbortController();
    const s = await server(() => {
      /* never answers: every connection stays busy */
    });
    // statusConcurrency 1 gives a pool of 3 connections: three requests hold them, two more wait.
    const c = client(s.url, { timeout: 10_000 }, { statusConcurrency: 1 });
    const holding = ['a', 'b', 'c'].map((name) => c.status(name).catch((err: unknown) => err));
    await new Promise((r) => setTimeout(r, 100));
    const queued = ['d', 'e'].map((name) => failure(c.status(name, controller.signal)));
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    // ABORTED now, not once a connection frees up (the three holding them time out after 10 s).
    expect((await Promise.all(queued)).map((e) => e.code)).toEqual(['ABORTED', 'ABORTED']);
    expect(s.seen.map((r) => r.url)).toEqual(['/connectors/a/status', '/connectors/b/status', '/connectors/c/status']);
    // Cut the three that hold their connections, or closing the client would wait for their timeout.
    await s.stop();
    await Promise.all(holding);
  }, 5_000); // below the 10 s request timeout: a queued request left to wait for a free connection fails this
});

describe('network failures', () => {
  it('a refused connection is NETWORK', async () => {
    const err = await failure(client(`http://127.0.0.1:${await closedPort()}`).status('a'));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('a connection cut mid-body is NETWORK, and a GET is retried after it', async () => {
    let calls = 0;
    const s = await server((req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"name":"a","conn');
        setImmediate(() => req.socket.destroy());
        return;
      }
      res.end(status('a'));
    });
    const c = client(s.url, {}, { retries: 1 });
    expect((await c.status('a'))?.name).toBe('a');
    expect(calls).toBe(2);
  });

  it('a restart cut by the network is NETWORK and is not retried', async () => {
    const s = await server((req) => req.socket.destroy());
    const err = await failure(client(s.url, {}, { retries: 3 }).restartTask('a', 0));
    expect(err.code).toBe('NETWORK');
    expect(err.method).toBe('POST');
    expect(s.seen).toHaveLength(1);
  });
});

describe('GET /health on the wire', () => {
  it('waits longer than the cluster\'s timeout (a worker whose herder is stuck holds it 10 s, then answers 500), and no answer in time is an answer', async () => {
    let delay = 0;
    const s = await server((_req, res) => {
      setTimeout(() => {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json');
        res.end('{"status":"unhealthy","message":"The worker is currently ensuring membership in the cluster."}');
      }, delay);
    });
    const c = client(s.url, { timeout: 100 });
    delay = 1_500; // well beyond the cluster's 100 ms (undici's timers are coarse): the health read's own timeout applies
    expect(await c.health(undefined, 3_000)).toEqual({ status: 'unhealthy', message: 'The worker is currently ensuring membership in the cluster.' });
    delay = 2_000;
    expect(await c.health(undefined, 200)).toEqual({ status: 'no-answer', message: 'no answer to GET /health within 0.2 s' });
  });

  it('a caller\'s abort is an abort, not a health', async () => {
    const s = await server(() => undefined); // never answers
    const err = await failure(client(s.url).health(AbortSignal.timeout(50), 5_000));
    expect(err.code).toBe('ABORTED');
  });
});
