/** Pages and pings through an outbound proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/config/load.js';
import { createSend, inRanges, noProxyRanges } from '../../src/escalate/http.js';
import { recordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';

describe('the outbound proxy of pages and pings', () => {
  let pager: Server;
  let pagerPort: number;
  let received: string[];
  let proxy: RecordingProxy;

  beforeEach(async () => {
    received = [];
    pager = createServer((req, res) => {
      received.push(`${req.method} ${req.headers.host} ${req.url}`);
      req.resume().on('end', () => res.writeHead(202).end());
    });
    await new Promise<void>((done) => pager.listen(0, '127.0.0.1', done));
    pagerPort = (pager.address() as AddressInfo).port;
    proxy = await recordingProxy();
  });
  afterEach(() => {
    pager.closeAllConnections();
    pager.close();
    proxy.close();
  });

  const post = (url: string, proxyConfig: Parameters<typeof createSend>[0]['proxy']) =>
    createSend({ timeout: 5_000, ...(proxyConfig && { proxy: proxyConfig }) })({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(5_000) });

  it('a page to a host outside goes through the proxy, with the proxy credentials of its URL', async () => {
    const res = await post('http://alertmanager.example:9093/api/v2/alerts', { http: `http://ops:pr0xy@${proxy.url.slice('http://'.length)}` });
    expect(res.status).toBe(202);
    expect(proxy.asked).toEqual([{ request: 'POST http://alertmanager.example:9093/api/v2/alerts', authorization: `Basic ${Buffer.from('ops:pr0xy').toString('base64')}` }]);
    expect(received).toEqual([]);
  });

  it('an https:// page (PagerDuty, Slack) is tunnelled: CONNECT to its host, through HTTPS_PROXY, else HTTP_PROXY', async () => {
    await expect(post('https://events.pagerduty.com/v2/enqueue', { https: proxy.url })).rejects.toThrow();
    await expect(post('https://hooks.slack.com/services/T0/B0/x', { http: proxy.url })).rejects.toThrow();
    expect(proxy.asked.map((a) => a.request)).toEqual(['CONNECT events.pagerduty.com:443', 'CONNECT hooks.slack.com:443']);
  });

  it('a host NO_PROXY names is reached directly', async () => {
    const res = await post(`http://127.0.0.1:${pagerPort}/hook`, { http: proxy.url, noProxy: '.svc,127.0.0.1' });
    expect(res.status).toBe(202);
    expect(proxy.asked).toEqual([]);
    expect(received).toEqual([`POST 127.0.0.1:${pagerPort} /hook`]);
    await post('http://alertmanager.monitoring.svc:9093/api/v2/alerts', { http: proxy.url, noProxy: '.svc' }).catch(() => undefined);
    expect(proxy.asked).toEqual([]);
  });

  it('an address in a range NO_PROXY lists (10.0.0.0/8, as Go and curl read it) is reached directly', async () => {
    // A Kubernetes NO_PROXY lists the pod and service networks as ranges: an in-cluster receiver addressed by its
    // IP went through the proxy. 127.0.0.1 written as an IPv4-mapped IPv6 address is outside the loopback names
    // that are always direct, so the range alone decides here.
    const res = await post(`http://[::ffff:127.0.0.1]:${pagerPort}/hook`, { http: proxy.url, noProxy: '.svc,127.0.0.0/8' });
    expect(res.status).toBe(202);
    expect(proxy.asked).toEqual([]);
    expect(received).toHaveLength(1);
    const ranges = noProxyRanges('.svc, 10.0.0.0/8 ,fd00::/8,[fe80::]/10,10.0.0.7,999.0.0.0/8,10.0.0.0/33')!;
    expect(['http://10.1.2.3:9093/', 'http://[fd00::7]:9093/', 'http://[fe80::1]/'].map((u) => inRanges(u, ranges))).toEqual([true, true, true]);
    expect(['http://11.0.0.1:9093/', 'http://alertmanager.monitoring.svc:9093/', 'https://events.pagerduty.com/v2/enqueue'].map((u) => inRanges(u, ranges))).toEqual([false, false, false]);
    expect(noProxyRanges('.svc,10.0.0.7')).toBeUndefined();
  });

  it('loopback is always reached directly (the proxy’s loopback is not this host’s), NO_PROXY or not', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const res = await post(`http://${host}:${pagerPort}/hook`, { http: proxy.url, noProxy: '.svc' });
      expect(res.status).toBe(202);
    }
    // 127.0.0.1 written IPv4-mapped reaches the pager directly too.
    expect((await post(`http://[::ffff:127.0.0.1]:${pagerPort}/hook`, { http: proxy.url })).status).toBe(202);
    // IPv6 loopback and the rest of 127/8 too (nothing listens there: refused directly, never asked of the proxy).
    await expect(post(`http://[::1]:${pagerPort}/hook`, { http: proxy.url })).rejects.toThrow();
    await expect(post(`http://127.0.0.2:${pagerPort}/hook`, { http: proxy.url })).rejects.toThrow();
    expect(proxy.asked).toEqual([]);
    expect(received).toHaveLength(3);
  });

  it('without a proxy set nothing goes through one', async () => {
    const res = await post(`http://127.0.0.1:${pagerPort}/hook`, undefined);
    expect(res.status).toBe(202);
    expect(proxy.asked).toEqual([]);
  });
});

describe('the proxy settings (curl’s variables)', () => {
  const config = (env: Record<string, string>) => loadConfig({ env });

  it('reads the lower-case variable first, as curl does, and takes a proxy without a scheme as http://', () => {
    expect(config({ https_proxy: 'proxy.corp:3128', HTTPS_PROXY: 'http://other:1', NO_PROXY: '.svc,10.0.0.0/8' }).proxy).toEqual({ https: 'http://proxy.corp:3128', noProxy: '.svc,10.0.0.0/8' });
    expect(config({ HTTP_PROXY: 'http://proxy.corp:3128' }).proxy).toEqual({ http: 'http://proxy.corp:3128' });
    expect(config({}).proxy).toEqual({});
  });

  it('fails naming the variable for a proxy that is no http(s) URL, without echoing its password', () => {
    expect(() => config({ HTTPS_PROXY: 'socks5://ops:s3cret@proxy:1080' })).toThrow(/HTTPS_PROXY.*must be a proxy URL/);
    expect(() => config({ HTTPS_PROXY: 'socks5://ops:s3cret@proxy:1080' })).not.toThrow(/s3cret/);
  });

  it('check-config shows the proxy without its credentials', () => {
    const shown = JSON.stringify(redactConfig(config({ https_proxy: 'http://ops:s3cret@proxy.corp:3128' })));
    expect(shown).toContain('proxy.corp:3128');
    expect(shown).not.toContain('s3cret');
  });
});
