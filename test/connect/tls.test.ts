/**
 * HTTPS to Connect against a real TLS server on 127.0.0.1 (certificates from test/fixtures/tls/make.sh):
 * a private CA, a client certificate for a worker that requires one (mTLS), and what an operator sees
 * when the trust is wrong: a NETWORK error naming the TLS failure, never a credential.
 */
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/connect/client.js';
import { loadConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/types.js';
import { failure } from './fixtures.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tls');
const pem = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const CA = pem('ca.pem');

const LISTING = JSON.stringify({
  orders: { status: { name: 'orders', connector: { state: 'RUNNING', worker_id: 'w1:8083' }, tasks: [{ id: 0, state: 'RUNNING', worker_id: 'w1:8083' }], type: 'source' } },
});
const INFO = JSON.stringify({ orders: { info: { name: 'orders', config: { 'connector.class': 'x.Source', 'tasks.max': '1' }, tasks: [{ connector: 'orders', task: 0 }], type: 'source' } } });

interface Seen {
  readonly url: string;
  readonly authorization: string | undefined;
  /** The client certificate's subject CN, when one was presented and verified. */
  readonly clientCn: string | undefined;
}

const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const r of open.splice(0).reverse()) await r.close();
});

/** An HTTPS Connect worker; `requireClientCert` makes it refuse a handshake without a certificate signed by the test CA. */
async function worker(requireClientCert = false): Promise<{ url: string; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let connections = 0;
  const server: Server = createServer(
    { key: pem('server.key'), cert: pem('server.pem'), ...(requireClientCert && { ca: CA, requestCert: true, rejectUnauthorized: true }) },
    (req, res) => {
      const cn: unknown = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, clientCn: typeof cn === 'string' ? cn : undefined });
      res.setHeader('content-type', 'application/json');
      if (req.url === '/') return void res.end('{"version":"4.3.1","commit":"c","kafka_cluster_id":"k"}');
      if (req.url === '/connectors?expand=status') return void res.end(LISTING);
      if (req.url === '/connectors?expand=info') return void res.end(INFO);
      res.statusCode = 404;
      res.end('{"error_code":404,"message":"not found"}');
    },
  );
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => connections };
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** `openssl s_server` requiring a client certificate signed by the test CA; its URL once it accepts. */
async function opensslWorker(): Promise<string> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', join(FIXTURES, 'server.pem'), '-key', join(FIXTURES, 'server.key'), '-CAfile', join(FIXTURES, 'ca.pem'), '-Verify', '1', '-verify_return_error', '-www'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  open.push({ close: async () => void server.kill() });
  await new Promise<void>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`openssl s_server exited (${code})`)));
    server.stdout.on('data', (d: Buffer) => d.toString().includes('ACCEPT') && resolve());
  });
  return `https://127.0.0.1:${port}`;
}

function client(cluster: Partial<ClusterConfig> & { url: string }, retries = 0): ConnectClient {
  const c = new ConnectClient({ name: 'tls', rejectUnauthorized: true, timeout: 2000, probe: false, ...cluster }, { retries, statusConcurrency: 4 });
  open.push({ close: () => c.close() });
  return c;
}

describe('HTTPS to Connect', () => {
  it('trusts a worker whose certificate the configured CA signed, and sends basic auth inside TLS', async () => {
    const w = await worker();
    const snap = await client({ url: w.url, ca: CA, username: 'ops', password: 'hunter2' }).snapshot();
    expect(snap.connectors.map((c) => [c.name, c.state, c.tasksMax])).toEqual([['orders', 'RUNNING', 1]]);
    expect(w.seen.map((s) => s.authorization)).toContain(`Basic ${Buffer.from('ops:hunter2').toString('base64')}`);
  });

  it('reports the earliest end of the chain the worker presented, its CA included, at each new connection', async () => {
    const w = await worker();
    const ends: number[] = [];
    const c = new ConnectClient({ name: 'tls', url: w.url, ca: CA, rejectUnauthorized: true, timeout: 2000, probe: false }, { retries: 0, statusConcurrency: 1, onWorkerCertificate: (end) => ends.push(end) });
    open.push({ close: () => c.close() });
    await c.snapshot();
    await c.snapshot();
    const end = (p: string) => new X509Certificate(pem(p)).validToDate.getTime();
    expect(ends.length).toBe(w.connections()); // once per handshake, not per request
    expect(new Set(ends)).toEqual(new Set([Math.min(end('server.pem'), end('ca.pem'))]));
  });

  it('refuses a certificate no trusted CA signed: a NETWORK error that names the TLS failure and no credential', async () => {
    const w = await worker();
    for (const ca of [undefined, pem('other-ca.pem')]) {
      const err = await failure(client({ url: w.url, ...(ca !== undefined && { ca }), username: 'ops', password: 'hunter2' }).snapshot());
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(/certificate/i);
      expect(err.message).not.toContain('hunter2');
    }
    expect(w.seen).toEqual([]); // no request got through
  });

  it('does not retry a certificate it does not trust: a retry cannot fix it and only delays the answer', async () => {
    const handshakes = async (retries: number) => {
      const w = await worker();
      expect((await failure(client({ url: w.url, ca: pem('other-ca.pem') }, retries).snapshot())).code).toBe('NETWORK');
      return w.connections();
    };
    expect(await handshakes(2)).toBe(await handshakes(0));
  });

  it('skips verification only when rejectUnauthorized is false', async () => {
    const w = await worker();
    const snap = await client({ url: w.url, rejectUnauthorized: false }).snapshot();
    expect(snap.connectors).toHaveLength(1);
  });

  it('presents the client certificate to a worker that requires one (mTLS), and fails clearly without it', async () => {
    const w = await worker(true);
    const snap = await client({ url: w.url, ca: CA, cert: pem('client.pem'), key: pem('client.key') }).snapshot();
    expect(snap.connectors).toHaveLength(1);
    expect(new Set(w.seen.map((s) => s.clientCn))).toEqual(new Set(['connect-watchdog']));

    const before = w.seen.length;
    const err = await failure(client({ url: w.url, ca: CA }).snapshot());
    expect(err.code).toBe('NETWORK');
    expect(w.seen).toHaveLength(before);
  });

  it('names the TLS alert when the worker refuses the client certificate after a TLS 1.3 handshake, not "other side closed"', async () => {
    // TLS 1.3: the client's handshake is done before the worker has checked the client certificate; its
    // refusal is an alert on the first read, which undici reported as UND_ERR_SOCKET "other side closed"
    // (so did a real Kafka Connect worker with listeners.https.ssl.client.auth=required).
    // (A Node server closes without an alert when it does not trust the certificate given: Kafka Connect's
    // Jetty answers "certificate unknown", see response.test.ts.)
    const none = await failure(client({ url: (await worker(true)).url, ca: CA }).snapshot());
    expect(none.code).toBe('NETWORK');
    expect(none.message).toMatch(/TLS alert "certificate required" from the worker: it requires a client certificate: none is configured \(cert, key\)$/);
  });

  it.skipIf(!hasOpenssl)('names the client certificate\'s end date when a worker that checks it refuses it with an alert', async () => {
    // openssl s_server, like Kafka Connect's Jetty (and unlike a Node server), sends an alert when it refuses
    // the client certificate. A daemon running for months meets its certificate's end mid-run: the alert on
    // every poll should say so, not only the warning of the next start.
    const url = await opensslWorker();
    const err = await failure(client({ url, ca: CA, cert: pem('expired-client.pem'), key: pem('expired-client.key') }).snapshot());
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/: TLS alert "[a-z ]+" from the worker: it did not accept the client certificate \(cert, key\), which expired on 2021-01-01$/);
  });

  it('gives up on a worker that never completes the TLS handshake by the caller\'s deadline, and closes at once', async () => {
    const held: Socket[] = [];
    const blackHole = createNetServer((socket) => {
      held.push(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    open.push({
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of held) s.destroy();
          blackHole.close(() => resolve());
        }),
    });
    const c = new ConnectClient(
      { name: 'tls', url: `https://127.0.0.1:${(blackHole.address() as AddressInfo).port}`, ca: CA, rejectUnauthorized: true, timeout: 3000, probe: false },
      { retries: 0, statusConcurrency: 4 },
    );
    const err = await failure(c.snapshot(AbortSignal.timeout(300)));
    expect(err.code).toBe('ABORTED');
    expect(err.message).toMatch(/no answer before the deadline/);
    // `status` closes its client before it prints: close() waited for the abandoned request's connect
    // timeout (status answered after 33 s instead of 25 s on a real black hole).
    const closing = performance.now();
    await c.close();
    expect(performance.now() - closing).toBeLessThan(1000);
  });

  it('says to use https:// when an http:// URL reaches a TLS port', async () => {
    // What a real Kafka Connect 4.3.1 worker (Jetty 12.0.34, listeners=https://…) answers to plain HTTP: a
    // TLS alert record (fatal, internal_error), then it closes. undici said "Response does not match the
    // HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)".
    const tlsPort = createNetServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50])));
    });
    await new Promise<void>((resolve) => tlsPort.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => tlsPort.close(() => resolve())) });
    const err = await failure(client({ url: `http://127.0.0.1:${(tlsPort.address() as AddressInfo).port}`, username: 'ops', password: 'hunter2' }).snapshot());
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/: the worker answered in TLS, not plain HTTP: give the URL as https:\/\/$/);
  });

  it('reads ca, cert and key as PEM file paths from the config file', async () => {
    const w = await worker(true);
    const dir = mkdtempSync(join(tmpdir(), 'cw-tls-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ clusters: [{ name: 'secure', url: w.url, ca: join(FIXTURES, 'ca.pem'), cert: join(FIXTURES, 'client.pem'), key: join(FIXTURES, 'client.key') }] }),
    );
    const [cluster] = loadConfig({ env: { CONNECT_WATCHDOG_CONFIG: configFile } }).clusters;
    if (cluster === undefined) throw new Error('no cluster');
    expect(cluster.ca).toBe(CA.trim());
    const snap = await client(cluster).snapshot();
    expect(snap.connectors.map((c) => c.name)).toEqual(['orders']);
    expect(w.seen.every((s) => s.clientCn === 'connect-watchdog')).toBe(true);
  });
});
