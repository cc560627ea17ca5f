import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { describeCertificates, leafValidity, tlsDateWarnings, tlsProblem } from '../../src/config/tls.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'tls');
const pem = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const CA = pem('ca.pem');
const CERT = pem('client.pem');
const KEY = pem('client.key');

describe('tlsProblem', () => {
  it('accepts a CA, a CA bundle and a client certificate with its key', () => {
    expect(tlsProblem({ ca: CA })).toBeUndefined();
    expect(tlsProblem({ ca: CA + pem('other-ca.pem') })).toBeUndefined();
    expect(tlsProblem({ ca: CA, cert: CERT, key: KEY })).toBeUndefined();
    expect(tlsProblem({})).toBeUndefined();
  });

  it('refuses a ca file without a certificate (Node would ignore it and fail every handshake)', () => {
    expect(tlsProblem({ ca: 'garbage' })).toEqual({ key: 'ca', reason: expect.stringContaining('no PEM certificate') });
    expect(tlsProblem({ ca: KEY })).toMatchObject({ key: 'ca' });
  });

  it('refuses a certificate whose base64 is damaged, saying which one of the bundle', () => {
    const damaged = CA.replace(/\n([A-Za-z0-9+/]{20})/, '\n!!!!$1');
    expect(tlsProblem({ ca: `${pem('other-ca.pem')}\n${damaged}` })).toEqual({ key: 'ca', reason: expect.stringMatching(/^certificate 2 of the file does not parse/) });
  });

  it('names cert or key for a client pair that would not load, without quoting the files', () => {
    expect(tlsProblem({ cert: 'garbage', key: KEY })).toMatchObject({ key: 'cert' });
    expect(tlsProblem({ cert: CERT, key: 'garbage' })).toMatchObject({ key: 'key', reason: expect.stringContaining('not a usable PEM private key') });
    const mismatch = tlsProblem({ cert: CERT, key: pem('server.key') });
    expect(mismatch).toEqual({ key: 'key', reason: expect.stringContaining('does not go with the certificate') });
    expect(JSON.stringify(mismatch)).not.toContain('PRIVATE KEY');
  });

  it('refuses an encrypted key: there is no passphrase setting', () => {
    const encrypted = createPrivateKey(KEY).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(tlsProblem({ cert: CERT, key: encrypted })).toEqual({ key: 'key', reason: expect.stringContaining('encrypted private key is not supported') });
  });
});

describe('loadConfig with TLS files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-tls-config-'));
  const file = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const load = (cluster: Record<string, unknown>) => {
    const config = file(`c-${Math.random().toString(36).slice(2)}.json`, JSON.stringify({ clusters: [{ name: 'secure', url: 'https://127.0.0.1:8443', ...cluster }] }));
    return loadConfig({ env: { CONNECT_WATCHDOG_CONFIG: config } });
  };
  it('fails at start naming the key of the wrong file', () => {
    const badCa = () => load({ ca: file('not-a-ca.pem', 'hello') });
    expect(badCa).toThrow(ConfigError);
    expect(badCa).toThrow(/^clusters\[0\]\.ca: no PEM certificate/);
    expect(() => load({ cert: file('c.pem', CERT), key: file('k.pem', pem('server.key')) })).toThrow(/^clusters\[0\]\.key: does not go with the certificate/);
  });

  it('loads good files as they are', () => {
    const [cluster] = load({ ca: file('ca.pem', CA), cert: file('c2.pem', CERT), key: file('k2.pem', KEY) }).clusters;
    expect(cluster).toMatchObject({ ca: CA.trim(), cert: CERT.trim(), key: KEY.trim() });
  });
});

describe('tlsDateWarnings', () => {
  const leaf = new X509Certificate(CERT);
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  const DAY = 24 * 60 * 60 * 1000;

  it('says nothing of certificates well within their dates', () => {
    expect(tlsDateWarnings({ ca: CA, cert: CERT }, from + DAY)).toEqual([]);
    expect(tlsDateWarnings({}, from)).toEqual([]);
  });

  it('warns of a client certificate expired, not yet valid, or expiring within 14 days (the worker refuses it then)', () => {
    expect(tlsDateWarnings({ cert: CERT }, to + DAY)).toEqual([{ key: 'cert', reason: expect.stringMatching(/^the client certificate expired on \d{4}-\d\d-\d\d: the worker refuses it$/) }]);
    expect(tlsDateWarnings({ cert: CERT }, from - DAY)).toEqual([{ key: 'cert', reason: expect.stringContaining('is valid only from') }]);
    expect(tlsDateWarnings({ cert: CERT }, to - 3 * DAY + 1)).toEqual([{ key: 'cert', reason: expect.stringMatching(/expires on .*, in 3 day\(s\)$/) }]);
    // Under a day, in hours: 4 minutes left read as "in 1 day(s)" on the real worker.
    expect(tlsDateWarnings({ cert: CERT }, to - 4 * 60_000)).toEqual([{ key: 'cert', reason: expect.stringMatching(/expires on .*, in 1 hour\(s\)$/) }]);
    expect(tlsDateWarnings({ cert: CERT }, to - DAY + 1)).toEqual([{ key: 'cert', reason: expect.stringMatching(/, in 24 hour\(s\)$/) }]);
    expect(tlsDateWarnings({ cert: CERT }, to - 15 * DAY)).toEqual([]);
  });

  it('warns of a ca file whose every CA has expired, not of the expired CAs of a bundle that has others', () => {
    const caEnd = new X509Certificate(CA).validToDate.getTime();
    expect(tlsDateWarnings({ ca: CA }, caEnd + DAY)).toEqual([{ key: 'ca', reason: `the CA certificate CN=connect-watchdog test CA expired on ${new Date(caEnd).toISOString().slice(0, 10)}: the watchdog refuses every worker certificate` }]);
    expect(tlsDateWarnings({ ca: CA + pem('other-ca.pem') }, Math.max(caEnd, new X509Certificate(pem('other-ca.pem')).validToDate.getTime()) + DAY)).toEqual([
      { key: 'ca', reason: expect.stringMatching(/^all 2 CA certificates of the file have expired, the last on \d{4}-\d\d-\d\d: the watchdog refuses every worker certificate$/) },
    ]);
    // A bundle with a CA still valid (the system's holds expired ones): the worker's chain is watched at the handshake instead.
    expect(tlsDateWarnings({ ca: CA + pem('expired-client.pem') }, Date.parse('2026-12-04T00:00:00Z'))).toEqual([]);
  });

  it('describes certificates by subject and end date for check-config', () => {
    expect(describeCertificates(CA + pem('other-ca.pem'))).toMatch(/^\[PEM: CN=connect-watchdog test CA until \d{4}-\d\d-\d\d; CN=.+ until \d{4}-\d\d-\d\d\]$/);
  });
});

describe('leafValidity', () => {
  it('gives the dates of the first certificate of the file (the client certificate; a chain may follow)', () => {
    const expired = pem('expired-client.pem');
    expect(leafValidity(expired)).toEqual({ validFrom: Date.parse('2020-01-01T00:00:00Z'), validTo: Date.parse('2021-01-01T00:00:00Z') });
    expect(leafValidity(expired + CA)).toEqual(leafValidity(expired));
  });

  it('has no validity for a file without a certificate that parses (tlsProblem says why)', () => {
    expect(leafValidity('garbage')).toBeUndefined();
    expect(leafValidity(CA.replace(/\n([A-Za-z0-9+/]{20})/, '\n!!!!$1'))).toBeUndefined();
  });
});
