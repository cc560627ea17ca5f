import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { WatchdogMetrics } from '../../src/metrics/metrics.js';
import { healthOf, startMetricsServer } from '../../src/metrics/server.js';
import type { Health, MetricsServer } from '../../src/metrics/server.js';

const logger = pino({ level: 'silent' });

describe('healthOf', () => {
  const base = { now: 100_000, pollInterval: 10_000, clusters: 2 } as const;

  it('is alive while the last tick is younger than 3 poll intervals', () => {
    expect(healthOf({ ...base, lastTickAt: 100_000 - 29_999, clustersPolledOnce: 2 }).alive).toBe(true);
    expect(healthOf({ ...base, lastTickAt: 100_000 - 30_000, clustersPolledOnce: 2 }).alive).toBe(false);
    expect(healthOf({ ...base, lastTickAt: 0, clustersPolledOnce: 2 }).alive).toBe(false);
  });

  it('stays alive through a slow poll (a cluster dribbling its answer) within the poll bound, not beyond', () => {
    const slow = { ...base, lastTickAt: 100_000 - 46_000, clustersPolledOnce: 2, pollBound: 180_000 };
    expect(healthOf({ ...slow, pollInFlightSince: 100_000 - 45_000 }).alive).toBe(true);
    expect(healthOf({ ...slow, pollInFlightSince: 100_000 - 180_000 }).alive).toBe(false);
    expect(healthOf(slow).alive).toBe(false); // no poll in flight: the ticks alone decide
  });

  it('stays alive while another cluster\'s loop ticks, however long one cluster\'s poll takes (a restart would stop the others\' healing)', () => {
    const ticking = { ...base, lastTickAt: 100_000 - 1_000, clustersPolledOnce: 2, pollBound: 180_000 };
    expect(healthOf({ ...ticking, pollInFlightSince: 100_000 - 3_600_000 }).alive).toBe(true);
  });

  it('is alive but not ready before the first tick', () => {
    expect(healthOf({ ...base, clustersPolledOnce: 0 })).toEqual({ alive: true, ready: false });
  });

  it('is ready once every cluster has been polled once, and only while alive', () => {
    expect(healthOf({ ...base, lastTickAt: 99_000, clustersPolledOnce: 1 })).toEqual({ alive: true, ready: false });
    expect(healthOf({ ...base, lastTickAt: 99_000, clustersPolledOnce: 2 })).toEqual({ alive: true, ready: true });
    expect(healthOf({ ...base, lastTickAt: 0, clustersPolledOnce: 2 })).toEqual({ alive: false, ready: false });
  });

  it('does not depend on connector health: its input has none', () => {
    // A watchdog whose clusters are all FAILED is still healthy; only the loop's ticks count.
    expect(healthOf({ now: 5, pollInterval: 1, lastTickAt: 4, clustersPolledOnce: 1, clusters: 1 })).toEqual({ alive: true, ready: true });
  });
});

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  let health: Health = { alive: true, ready: true };
  let healthThrows = false;
  const metrics = new WatchdogMetrics();
  metrics.countRestart({ cluster: 'prod', connector: 'orders', target: 'task', class: 'connection', outcome: 'ok' });

  async function start(): Promise<string> {
    server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      logger,
      health: () => {
        if (healthThrows) throw new Error('boom');
        return health;
      },
    });
    expect(server.port).toBeGreaterThan(0);
    return `http://127.0.0.1:${server.port}`;
  }

  afterEach(async () => {
    await server?.close();
    server = undefined;
    health = { alive: true, ready: true };
    healthThrows = false;
  });

  it('serves /metrics with the registry content type', async () => {
    const base = await start();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    const body = await res.text();
    expect(body).toContain('connect_watchdog_restarts_total{cluster="prod",connector="orders",target="task",class="connection",outcome="ok"} 1');
    expect((await fetch(`${base}/metrics?debug=1`)).status).toBe(200);
  });

  it('answers HEAD with headers and no body', async () => {
    const base = await start();
    const res = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await res.text()).toBe('');
    const h = await fetch(`${base}/readyz`, { method: 'HEAD' });
    expect(h.status).toBe(200);
  });

  it('/healthz follows alive and /readyz follows ready, with a small JSON body', async () => {
    const base = await start();
    health = { alive: true, ready: false, detail: { clustersPolledOnce: 0 } };
    const hz = await fetch(`${base}/healthz`);
    expect(hz.status).toBe(200);
    expect(hz.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await hz.json()).toEqual({ status: 'ok', alive: true, ready: false, detail: { clustersPolledOnce: 0 } });
    const rz = await fetch(`${base}/readyz`);
    expect(rz.status).toBe(503);
    expect(await rz.json()).toEqual({ status: 'unavailable', alive: true, ready: false, detail: { clustersPolledOnce: 0 } });

    health = { alive: false, ready: false };
    const dead = await fetch(`${base}/healthz`);
    expect(dead.status).toBe(503);
    expect(await dead.json()).toEqual({ status: 'unavailable', alive: false, ready: false });

    health = { alive: true, ready: true };
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('answers 500 when the health callback throws, without leaking its message', async () => {
    const base = await start();
    healthThrows = true;
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('boom');
  });

  it('404s unknown paths and 405s other methods on known ones', async () => {
    const base = await start();
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metricsx`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${base}/healthz`, { method: 'DELETE' })).status).toBe(405);
  });

  it('rejects when the port is taken', async () => {
    await start();
    await expect(startMetricsServer({ host: '127.0.0.1', port: server!.port, metrics, logger, health: () => health })).rejects.toThrow(/EADDRINUSE/);
  });

  it('close() resolves despite an idle keep-alive connection and a half-sent request', async () => {
    await start();
    const port = server!.port;
    const sockets: Socket[] = [];
    const open = async (): Promise<Socket> => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
      await once(s, 'connect');
      return s;
    };
    // Idle keep-alive: one full request answered, socket left open.
    const idle = await open();
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await once(idle, 'data');
    // Active: headers never finished, which server.close() alone would wait on for headersTimeout.
    const active = await open();
    active.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');

    // Not events.once: it rejects on the ECONNRESET the client may see, and a reset is a close here.
    const closed = sockets.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    await server!.close();
    await Promise.all(closed);
    expect(sockets.every((s) => s.destroyed)).toBe(true);
    // Idempotent.
    await server!.close();
    server = undefined;
  });
});
