import { describe, expect, it } from 'vitest';
import { connectorPath, encodeSegment } from '../../src/connect/client.js';
import type { DetailedPeerCertificate } from 'node:tls';
import { BodyBuffers, BodyCollector, chainEnd, resolveTarget } from '../../src/connect/transport.js';

describe('resolveTarget', () => {
  it('takes user info out of the URL and sends it as basic auth', () => {
    const t = resolveTarget({ url: 'https://ops:p%40ss@connect.example:8443/kc/' });
    expect(t).toEqual({ origin: 'https://connect.example:8443', basePath: '/kc', authorization: `Basic ${Buffer.from('ops:p@ss').toString('base64')}` });
  });

  it('explicit credentials win over URL user info', () => {
    expect(resolveTarget({ url: 'http://a:b@h:8083', username: 'u', password: 'p' }).authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(resolveTarget({ url: 'http://a:b@h:8083', token: 't' }).authorization).toBe('Bearer t');
  });

  it('has no authorization and no base path for a plain URL', () => {
    expect(resolveTarget({ url: 'http://h:8083' })).toEqual({ origin: 'http://h:8083', basePath: '' });
  });
});

describe('connector paths', () => {
  it.each([
    ['plain', '/connectors/plain'],
    ['with space', '/connectors/with%20space'],
    ['a/b', '/connectors/a%2Fb'],
    ['50%', '/connectors/50%25'],
    ['q?x=1#f', '/connectors/q%3Fx%3D1%23f'],
    ['é', '/connectors/%C3%A9'],
    ['.', '/connectors/%2E'],
    ['..', '/connectors/%2E%2E'],
    ['...', '/connectors/...'],
  ])('%s → %s', (name, path) => {
    expect(connectorPath(name)).toBe(path);
  });

  it('round-trips through decodeURIComponent', () => {
    for (const name of ['a b/c%d?e#f', 'é€😀', '..']) expect(decodeURIComponent(encodeSegment(name))).toBe(name);
  });
});

describe('BodyCollector', () => {
  function collect(text: string, size: number, previous?: Buffer) {
    const body = new BodyCollector(previous);
    for (let i = 0; i < text.length; i += size) body.push(Buffer.from(text.slice(i, i + size)));
    return body.finish();
  }
  const previous = Buffer.from('{"a":{"status":"RUNNING"},"b":{"status":"FAILED"}}');

  it('hands back the previous buffer itself when every chunk matches it', () => {
    const r = collect(previous.toString(), 7, previous);
    expect(r.unchanged).toBe(true);
    expect(r.bytes).toBe(previous);
  });

  it.each([
    ['a byte changed in a middle chunk', '{"a":{"status":"RUNNING"},"b":{"status":"PAUSED!"}}'],
    ['a byte changed in the first chunk', '{"x":{"status":"RUNNING"},"b":{"status":"FAILED"}}'],
    ['shorter: a prefix of the previous body', '{"a":{"status":"RUNNING"}'],
    ['longer: the previous body and more', '{"a":{"status":"RUNNING"},"b":{"status":"FAILED"}}   '],
    ['empty', ''],
  ])('%s: the new bytes, whole', (_, text) => {
    for (const size of [1, 5, 7, 64]) {
      const r = collect(text, size, previous);
      expect(r.unchanged).toBe(false);
      expect(r.bytes.toString()).toBe(text);
    }
  });

  it('without a previous body, concatenates the chunks', () => {
    expect(collect('{"a":1}', 3)).toEqual({ bytes: Buffer.from('{"a":1}'), unchanged: false });
  });

  it('does not write into the previous buffer', () => {
    const copy = Buffer.from(previous);
    collect('{"a":{"status":"RUNNING"},"b":{"status":"PAUSED!"}}', 9, previous);
    expect(previous.equals(copy)).toBe(true);
  });
});

describe('BodyBuffers', () => {
  it('writes a body into the memory of one recycled before, never into the body it is compared with', () => {
    const buffers = new BodyBuffers();
    const first = buffers.take(100, undefined);
    expect(first.length).toBe(100);
    buffers.recycle(first);
    const second = buffers.take(90, undefined);
    expect(second.buffer).toBe(first.buffer);
    buffers.recycle(second);
    // The recycled memory is the body being compared with: new memory instead.
    const third = buffers.take(50, second);
    expect(third.buffer).not.toBe(second.buffer);
    // Too small for the next body: new memory, with room to grow.
    buffers.recycle(third);
    const fourth = buffers.take(200, undefined);
    expect(fourth.buffer).not.toBe(third.buffer);
    expect(fourth.buffer.byteLength).toBeGreaterThan(200);
    // Taken once: not handed out twice.
    buffers.recycle(fourth);
    expect(buffers.take(10, undefined).buffer).toBe(fourth.buffer);
    expect(buffers.take(10, undefined).buffer).not.toBe(fourth.buffer);
  });

  it('recycles only memory it made (a pooled small Buffer is shared with others)', () => {
    const buffers = new BodyBuffers();
    const pooled = Buffer.from('{"a":1}');
    buffers.recycle(pooled);
    expect(buffers.take(4, undefined).buffer).not.toBe(pooled.buffer);
  });

  it('a changed body collected into recycled memory holds the new bytes, the previous one untouched', () => {
    const buffers = new BodyBuffers();
    const collect = (text: string, previous?: Buffer) => {
      const body = new BodyCollector(previous, buffers);
      for (let i = 0; i < text.length; i += 5) body.push(Buffer.from(text.slice(i, i + 5)));
      return body.finish();
    };
    const a = collect('{"a":{"status":"RUNNING"}}');
    const b = collect('{"a":{"status":"FAILED!"}}', a.bytes);
    buffers.recycle(a.bytes);
    const c = collect('{"a":{"status":"STOPPED"}}', b.bytes);
    expect(c.bytes.buffer).toBe(a.bytes.buffer);
    expect(c.bytes.toString()).toBe('{"a":{"status":"STOPPED"}}');
    expect(b.bytes.toString()).toBe('{"a":{"status":"FAILED!"}}');
    expect(collect(b.bytes.toString(), b.bytes)).toEqual({ bytes: b.bytes, unchanged: true });
  });
});

describe('chainEnd', () => {
  const cert = (validTo: string, issuer?: DetailedPeerCertificate) => ({ valid_to: validTo, ...(issuer !== undefined && { issuerCertificate: issuer }) }) as unknown as DetailedPeerCertificate;
  it('is the earliest end along the issuer links, and stops at a self-signed root', () => {
    const root = cert('Jan  1 00:00:00 2030 GMT');
    (root as { issuerCertificate: DetailedPeerCertificate }).issuerCertificate = root;
    const leaf = cert('Mar  1 00:00:00 2027 GMT', cert('Jun  1 00:00:00 2026 GMT', root));
    expect(chainEnd(leaf)).toBe(Date.parse('2026-06-01T00:00:00Z'));
    expect(chainEnd(root)).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });
  it('is undefined when the peer presented no certificate (Node gives an empty object)', () => {
    expect(chainEnd({} as DetailedPeerCertificate)).toBeUndefined();
    expect(chainEnd(undefined)).toBeUndefined();
  });
});
