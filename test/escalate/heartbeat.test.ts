import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Heartbeat } from '../../src/escalate/heartbeat.js';
import type { Send } from '../../src/escalate/http.js';
import { clock, memoryLogger } from './fixtures.js';
import { always, fakeSink, sequence } from './server.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const URL_WITH_TOKEN = 'https://hc-ping.example.com/ping/0f3c-SECRET-UUID';
const INTERVAL = 300_000;

function setup(send?: Send) {
  const { logger, lines } = memoryLogger();
  const c = clock();
  const hb = new Heartbeat({ url: URL_WITH_TOKEN, interval: INTERVAL, logger, now: c.now, ...(send && { send }) });
  return { hb, lines, clock: c };
}

describe('heartbeat', () => {
  it('GETs the URL at most once per interval however often the daemon beats', async () => {
    const ping = fakeSink('https://hc-ping.example.com', 'get', '/ping/0f3c-SECRET-UUID', always(200, 'OK'));
    const { hb, clock: c } = setup();
    await hb.beat();
    await hb.beat();
    c.advance(INTERVAL - 1);
    await hb.beat();
    expect(ping.received).toHaveLength(1);
    expect(ping.received[0]!.method).toBe('GET');
    c.advance(1);
    await hb.beat();
    await hb.beat();
    expect(ping.received).toHaveLength(2);
  });

  it('beats during a ping in flight do not send another', async () => {
    let release!: () => void;
    let calls = 0;
    const slow: Send = () => {
      calls += 1;
      return new Promise((r) => (release = () => r({ status: 200, headers: {} })));
    };
    const { hb, clock: c } = setup(slow);
    const first = hb.beat();
    c.advance(INTERVAL * 2);
    const second = hb.beat();
    release();
    await Promise.all([first, second]);
    expect(calls).toBe(1);
  });

  it('a failed ping is logged with the host only, never thrown, and retried sooner than a full interval', async () => {
    const ping = fakeSink('https://hc-ping.example.com', 'get', '/ping/0f3c-SECRET-UUID', sequence(503, 200));
    const { hb, lines, clock: c } = setup();
    await expect(hb.beat()).resolves.toBeUndefined();
    expect(ping.received).toHaveLength(1);
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 40);
    expect(warn).toMatchObject({ host: 'hc-ping.example.com', status: 503 });
    expect(lines.join('')).not.toContain('SECRET');
    c.advance(29_999);
    await hb.beat();
    expect(ping.received).toHaveLength(1);
    c.advance(1);
    await hb.beat();
    expect(ping.received).toHaveLength(2);
  });

  it('a clock stepped back (NTP, a VM restored) does not silence the pings for the size of the step', async () => {
    let pings = 0;
    const ok: Send = async () => ((pings += 1), { status: 200, headers: {} });
    const { hb, clock: c } = setup(ok);
    await hb.beat();
    c.advance(-3_600_000);
    // Polls every 10 s for one interval after the step: the dead man's switch hears from the watchdog again.
    for (let t = 0; t < INTERVAL; t += 10_000) {
      c.advance(10_000);
      await hb.beat();
    }
    expect(pings).toBe(2);
  });

  it('a transport error is swallowed too', async () => {
    const boom: Send = () => Promise.reject(Object.assign(new Error(`connect ECONNREFUSED ${URL_WITH_TOKEN}`), { code: 'ECONNREFUSED' }));
    const { hb, lines } = setup(boom);
    await expect(hb.beat()).resolves.toBeUndefined();
    expect(lines.join('')).toContain('ECONNREFUSED');
    expect(lines.join('')).not.toContain('SECRET');
  });

  it('does nothing without a URL', async () => {
    let calls = 0;
    const { logger } = memoryLogger();
    const hb = new Heartbeat({ url: '', interval: INTERVAL, logger, send: async () => ((calls += 1), { status: 200, headers: {} }) });
    await hb.beat();
    expect(calls).toBe(0);
  });
});
