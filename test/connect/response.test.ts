import { afterEach, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/connect/client.js';
import { ConnectError, ShapeError } from '../../src/connect/errors.js';
import { bodyExcerpt, interpretResponse, parseWith, transportError } from '../../src/connect/response.js';
import { FakeConnect } from '../helpers/fake-connect.js';

const req = { cluster: 'c1', method: 'GET', path: '/connectors?expand=info' };
const ctx = { callerAborted: false, deadlineExceeded: false, timeoutMs: 5000 };

function thrown(fn: () => unknown): ConnectError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error('expected a ConnectError');
}

describe('bodyExcerpt', () => {
  it('masks every string value of JSON-looking text, keeps keys, and cuts at 200 chars', () => {
    const text = JSON.stringify({ a: { info: { config: { 'database.password': 'hunter2', 'connection.url': 'jdbc:mysql://u:pw@h/db' } } }, pad: 'y'.repeat(500) });
    const ex = bodyExcerpt(text);
    expect(ex).not.toMatch(/hunter2|u:pw/);
    expect(ex).toContain('"database.password":"…"');
    expect(ex.length).toBeLessThanOrEqual(200);
  });

  it('masks a string value cut off by truncation', () => {
    expect(bodyExcerpt('{"database.password":"hunt')).toBe('{"database.password":"…"');
  });

  it('masks values holding escaped quotes', () => {
    expect(bodyExcerpt('{"k":"a\\"b secret","n":1}')).toBe('{"k":"…","n":1}');
  });

  it('keeps HTML as is, whitespace collapsed', () => {
    expect(bodyExcerpt('<html>\n  <title>Error 404</title>\n</html>')).toBe('<html> <title>Error 404</title> </html>');
  });
});

describe('interpretResponse', () => {
  it('parses JSON, and an empty 2xx body is undefined', () => {
    expect(interpretResponse(req, 200, 'application/json', '{"a":1}')).toEqual({ a: 1 });
    expect(interpretResponse(req, 204, undefined, '')).toBeUndefined();
  });

  it('a non-JSON 2xx body is BAD_BODY', () => {
    expect(thrown(() => interpretResponse(req, 200, 'text/plain', 'ok'))).toMatchObject({ code: 'BAD_BODY', status: 200 });
  });

  it('invalid JSON does not quote the body through JSON.parse', () => {
    const err = thrown(() => interpretResponse(req, 200, 'application/json', '{"x":{"config":{"database.password":"hunter2"}'));
    expect(err.code).toBe('BAD_BODY');
    expect(err.message).not.toContain('hunter2');
  });

  it('plain-text errors are HTTP with an excerpt', () => {
    const err = thrown(() => interpretResponse(req, 401, 'text/plain', 'User cannot access the resource.'));
    expect(err).toMatchObject({ code: 'HTTP', status: 401 });
    expect(err.connectMessage).toBeUndefined();
    expect(err.message).toContain('User cannot access the resource.');
  });

  it('a 401 says what to check of the credentials configured (Connect\'s message does not)', () => {
    const of = (credentials?: 'basic' | 'bearer') => thrown(() => interpretResponse(req, 401, 'application/json', 'User cannot access the resource.', credentials)).message;
    expect(of('basic')).toMatch(/: HTTP 401: User cannot access the resource\. \(the worker refused the user name and password: check username and password\)$/);
    expect(of('bearer')).toMatch(/\(the worker refused the token: check token\)$/);
    expect(of()).toMatch(/\(the worker requires credentials: none are configured \(username and password, or token\)\)$/);
    // Connect's own error body, and an empty one, get the hint too; other statuses do not.
    expect(thrown(() => interpretResponse(req, 401, 'application/json', '{"error_code":401,"message":"Unauthorized"}', 'basic')).message).toMatch(/: HTTP 401: Unauthorized \(the worker refused/);
    expect(thrown(() => interpretResponse(req, 401, undefined, '', 'basic')).message).toMatch(/: HTTP 401 \(the worker refused/);
    expect(thrown(() => interpretResponse(req, 403, undefined, '', 'basic')).message).toMatch(/: HTTP 403$/);
  });

  it('a JSON error body of another shape is HTTP without a Connect message', () => {
    const err = thrown(() => interpretResponse(req, 503, 'application/json', '{"status":"unhealthy"}'));
    expect(err).toMatchObject({ code: 'HTTP', status: 503 });
    expect(err.errorCode).toBeUndefined();
  });
});

describe('parseWith', () => {
  it('turns a ShapeError into BAD_BODY with the field', () => {
    const err = thrown(() =>
      parseWith(req, () => {
        throw new ShapeError('connectors["x"].status.tasks[0].state', 'unknown state "BOGUS"');
      }),
    );
    expect(err).toMatchObject({ code: 'BAD_BODY', field: 'connectors["x"].status.tasks[0].state', path: req.path });
    expect(err.message).toContain('connectors["x"].status.tasks[0].state');
    expect(err.cause).toBeInstanceOf(ShapeError);
  });

  it('lets other errors through', () => {
    expect(() =>
      parseWith(req, () => {
        throw new TypeError('bug');
      }),
    ).toThrow(TypeError);
  });
});

describe('transportError', () => {
  const undiciError = (code: string, message = code): Error => Object.assign(new Error(message), { code });

  it.each(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])('%s is TIMEOUT', (code) => {
    expect(transportError(req, undiciError(code), ctx).code).toBe('TIMEOUT');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'ENOTFOUND', 'CERT_HAS_EXPIRED'])('%s is NETWORK', (code) => {
    expect(transportError(req, undiciError(code), ctx).code).toBe('NETWORK');
  });

  it('the caller aborting wins over everything', () => {
    expect(transportError(req, undiciError('UND_ERR_HEADERS_TIMEOUT'), { ...ctx, callerAborted: true, deadlineExceeded: true }).code).toBe('ABORTED');
  });

  it('our own deadline is TIMEOUT', () => {
    expect(transportError(req, new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { ...ctx, deadlineExceeded: true }).code).toBe('TIMEOUT');
  });

  // What Node reports for the alerts a real Kafka Connect 4.3.1 worker (Jetty, listeners.https.ssl.client.auth=required) sent.
  it.each([
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', false, 'TLS alert "bad certificate" from the worker: it requires a client certificate: none is configured (cert, key)'],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN', true, 'TLS alert "certificate unknown" from the worker: it did not accept the client certificate (cert, key): is it signed by a CA the worker trusts, and valid?'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', true, 'TLS alert "unknown ca" from the worker: it did not accept the client certificate (cert, key): is it signed by a CA the worker trusts, and valid?'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', true, 'TLS alert "protocol version" from the worker'],
  ])('a TLS alert %s (client certificate configured: %s) says what it is about', (code, clientCert, detail) => {
    const openssl = '40FDA21C617F0000:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 42\n';
    const e = transportError(req, undiciError(code, openssl), { ...ctx, clientCert });
    expect(e.code).toBe('NETWORK');
    expect(e.message).toBe(`${req.method} ${req.path} on cluster ${req.cluster}: ${detail}`);
  });

  it('a certificate alert after the client certificate\'s end (or before its start) names that date as the cause', () => {
    const alert = undiciError('ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN');
    const clientCert = { validFrom: Date.parse('2026-01-01T00:00:00Z'), validTo: Date.parse('2026-12-01T00:00:00Z') };
    const refused = 'TLS alert "certificate unknown" from the worker: it did not accept the client certificate (cert, key)';
    const at = (iso: string) => transportError(req, alert, { ...ctx, clientCert, at: Date.parse(iso) }).message;
    expect(at('2026-12-04T21:00:00Z')).toBe(`${req.method} ${req.path} on cluster ${req.cluster}: ${refused}, which expired on 2026-12-01`);
    expect(at('2025-12-31T23:00:00Z')).toBe(`${req.method} ${req.path} on cluster ${req.cluster}: ${refused}, which is valid only from 2026-01-01`);
    expect(at('2026-06-01T00:00:00Z')).toMatch(/: is it signed by a CA the worker trusts, and valid\?$/);
    // An alert about something else is not blamed on the date.
    expect(transportError(req, undiciError('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), { ...ctx, clientCert, at: Date.parse('2027-01-01T00:00:00Z') }).message).toMatch(/"protocol version" from the worker$/);
  });

  it('a caller that gave up at its deadline reads as no answer in time, a cancellation as a cancellation', () => {
    expect(transportError(req, undiciError('UND_ERR_ABORTED'), { ...ctx, callerAborted: true, callerTimedOut: true }).message).toMatch(/: no answer before the deadline: gave up waiting$/);
    expect(transportError(req, undiciError('UND_ERR_ABORTED'), { ...ctx, callerAborted: true }).message).toMatch(/: aborted by the caller$/);
  });

  it('an oversized body is BAD_BODY', () => {
    expect(transportError(req, undiciError('UND_ERR_RES_EXCEEDED_MAX_SIZE'), ctx).code).toBe('BAD_BODY');
  });

  it('keeps a ConnectError as it is', () => {
    const e = new ConnectError({ ...req, code: 'HTTP', status: 500, detail: 'x' });
    expect(transportError(req, e, ctx)).toBe(e);
  });
});

describe('Connect error bodies are scrubbed', () => {
  const messageOf = (fn: () => unknown) => {
    const e = thrown(fn);
    return `${e.message} ${e.connectMessage ?? ''}`;
  };

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
