import { describe, expect, it } from 'vitest';
import { ConnectError, isNotFound, isRebalance } from '../../src/connect/errors.js';
import { isRetryable } from '../../src/connect/client.js';
import { interpretResponse } from '../../src/connect/response.js';
import { fixtureText } from './fixtures.js';

const req = { cluster: 'c1', method: 'POST', path: '/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true' };

function answer(status: number, text: string, contentType?: string): ConnectError {
  try {
    interpretResponse(req, status, contentType, text);
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error('expected a ConnectError');
}

describe('isRebalance', () => {
  it.each([
    [409, 'restart-409-stale-config-during-rebalance.json'],
    [409, 'restart-409-no-known-leader-during-rebalance.json'],
    [500, 'restart-500-forward-to-departed-worker.json'],
    [500, 'real-tls-restart-500-forward-client-cert-refused-by-leader.json'],
    [500, 'get-config-500-rebalance-expected.json'],
  ])('is true for the real %i body %s', (status, file) => {
    const err = answer(status, fixtureText(file));
    expect(isRebalance(err)).toBe(true);
    expect(isRetryable(err)).toBe(true);
  });

  it('is false for other 500s, 404s and non-Connect errors', () => {
    expect(isRebalance(answer(500, '{"error_code":500,"message":"Failed to start connector"}'))).toBe(false);
    expect(isRebalance(answer(404, fixtureText('restart-404-unknown-connector.json')))).toBe(false);
    expect(isRebalance(new Error('409'))).toBe(false);
    expect(isRebalance(undefined)).toBe(false);
  });

  it('is false for a 500 HTML page even if it mentions a rebalance', () => {
    expect(isRebalance(answer(500, '<html>rebalance</html>', 'text/html'))).toBe(false);
  });
});

describe('isNotFound', () => {
  it.each(['restart-404-unknown-connector.json', 'status-404-unknown-connector.json', 'task-restart-404-unknown-task.json', 'delete-404-unknown-connector.json'])(
    'is true for the real 404 body %s',
    (file) => {
      const err = answer(404, fixtureText(file));
      expect(isNotFound(err)).toBe(true);
      expect(err.errorCode).toBe(404);
      expect(isRetryable(err)).toBe(false);
    },
  );

  it('is false for an HTML 404 (a worker still starting)', () => {
    const err = answer(404, '<html><title>Error 404 Not Found</title></html>', 'text/html');
    expect(err.code).toBe('BAD_BODY');
    expect(isNotFound(err)).toBe(false);
  });

  it('is true for a 404 with an empty body', () => {
    expect(isNotFound(answer(404, ''))).toBe(true);
  });
});

describe('ConnectError', () => {
  it('keeps status, error_code and message, and names the request by path', () => {
    const err = answer(409, fixtureText('create-409-connector-already-exists.json'));
    expect(err).toMatchObject({ name: 'ConnectError', code: 'HTTP', status: 409, errorCode: 409, cluster: 'c1', method: 'POST', path: req.path });
    expect(err.connectMessage).toContain('already exists');
    expect(err.message).toBe(`POST ${req.path} on cluster c1: HTTP 409: ${err.connectMessage}`);
  });

  it('clips a long Connect message in the error message but keeps it whole in connectMessage', () => {
    const long = 'x'.repeat(1000);
    const err = answer(500, JSON.stringify({ error_code: 500, message: long }));
    expect(err.connectMessage).toBe(long);
    expect(err.message.length).toBeLessThan(400);
  });

  it('retryable: network, timeout, 5xx, 409; not 4xx, not aborts, not a bad 200 body', () => {
    const mk = (code: ConnectError['code'], status?: number): ConnectError =>
      new ConnectError({ code, cluster: 'c', method: 'GET', path: '/', detail: 'x', ...(status !== undefined && { status }) });
    expect(isRetryable(mk('NETWORK'))).toBe(true);
    expect(isRetryable(mk('TIMEOUT'))).toBe(true);
    expect(isRetryable(mk('HTTP', 503))).toBe(true);
    expect(isRetryable(mk('HTTP', 409))).toBe(true);
    expect(isRetryable(mk('HTTP', 429))).toBe(false);
    expect(isRetryable(mk('HTTP', 404))).toBe(false);
    expect(isRetryable(mk('ABORTED'))).toBe(false);
    expect(isRetryable(mk('BAD_BODY', 200))).toBe(false);
    expect(isRetryable(mk('BAD_BODY', 502))).toBe(true);
    expect(isRetryable(new Error('x'))).toBe(false);
  });

  it('does not retry a TLS set-up that is wrong (a certificate either side refuses, http:// on a TLS port), but does a reset connection', () => {
    const network = (cause: unknown): ConnectError => new ConnectError({ code: 'NETWORK', cluster: 'c', method: 'GET', path: '/', detail: 'x', cause });
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(isRetryable(network(coded('ECONNRESET')))).toBe(true);
    expect(isRetryable(network(coded('ECONNREFUSED')))).toBe(true);
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']) {
      expect(isRetryable(network(coded(code))), code).toBe(false);
    }
    const tlsAnswer = Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), { name: 'HTTPParserError', data: '\x15\x03\x03\x00\x02\x02\x46' });
    expect(isRetryable(network(tlsAnswer))).toBe(false);
  });
});
