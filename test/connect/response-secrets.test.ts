/**
 * Error bodies from a Connect worker (or the proxy in front of it) end up in ConnectError messages, which are
 * logged ("poll failed", "restart not done") and printed by `status`. They must be scrubbed like traces.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/connect/client.js';
import { interpretResponse } from '../../src/connect/response.js';
import { FakeConnect } from '../helpers/fake-connect.js';

const req = { cluster: 'prod', method: 'GET', path: '/connectors?expand=status' };

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as Error).message} ${(err as { connectMessage?: string }).connectMessage ?? ''}`;
  }
  throw new Error('expected a ConnectError');
}

describe('Connect error bodies are scrubbed', () => {
  it("a Connect error message quoting a JDBC URL and a password", () => {
    const body = JSON.stringify({ error_code: 500, message: 'Failed: connection.url=jdbc:postgresql://u:Pg5ecretUrl@db/x password=Pg5ecretKv' });
    const msg = messageOf(() => interpretResponse(req, 500, 'application/json', body));
    expect(msg).toContain('HTTP 500');
    expect(msg).not.toMatch(/Pg5ecret/);
  });

  it.each([
    ['text/plain', 401, 'Unauthorized. Request was:\nGET / HTTP/1.1\nauthorization: Bearer T0kenEch0ed\n'],
    ['text/html', 500, '<html><pre>GET / HTTP/1.1\nAuthorization: Basic dTpUMGtlbkVjaDBlZA==</pre></html>'],
    ['text/html', 200, '<html><pre>authorization: Bearer T0kenEch0ed</pre></html>'],
    ['text/plain', 502, 'upstream error; password=T0kenEch0ed'],
  ])('a %s %i body echoing credentials', (type, status, body) => {
    const msg = messageOf(() => interpretResponse(req, status, type, body));
    expect(msg).not.toMatch(/T0kenEch0ed|dTpUMGtlbkVjaDBlZA/);
  });

  describe('through the client', () => {
    let fake: FakeConnect | undefined;
    afterEach(async () => fake?.stop());

    it('a 401 page that echoes the request does not put our bearer token in the poll error', async () => {
      fake = await new FakeConnect().start();
      fake.interceptors.push((r, res) => {
        res.writeHead(401, { 'content-type': 'text/plain' }).end(`Unauthorized: ${Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}`);
        return true;
      });
      const client = new ConnectClient({ name: 'prod', url: fake.url, token: 'Be4rerCanary', rejectUnauthorized: true, timeout: 1000, probe: false }, { retries: 0, statusConcurrency: 1 });
      try {
        const err = await client.snapshot().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err?.message).toContain('HTTP 401');
        expect(err?.message).not.toContain('Be4rerCanary');
      } finally {
        await client.close();
      }
    });
  });
});
