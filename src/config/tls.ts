/**
 * The TLS files of a cluster, checked when the config loads. Node skips a CA certificate it cannot parse
 * without a word, and reads a client key only at the first handshake: a wrong file would otherwise show
 * up as a certificate error on every poll, far from its cause.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** What went wrong with one key of the cluster ('ca', 'cert' or 'key'); the reason never quotes the file. */
export interface TlsProblem {
  readonly key: 'ca' | 'cert' | 'key';
  readonly reason: string;
}

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unreadable';
};

function certificates(pem: string, key: 'ca' | 'cert'): TlsProblem | undefined {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return { key, reason: 'no PEM certificate (-----BEGIN CERTIFICATE-----) in the file' };
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return { key, reason: `certificate ${i + 1} of the file does not parse (${codeOf(err)})` };
    }
  }
  return undefined;
}

/** The first problem of a cluster's PEM contents, or undefined when they would load. */
export function tlsProblem(files: { readonly ca?: string; readonly cert?: string; readonly key?: string }): TlsProblem | undefined {
  if (files.ca !== undefined) {
    const problem = certificates(files.ca, 'ca');
    if (problem !== undefined) return problem;
  }
  if (files.cert === undefined || files.key === undefined) return undefined;
  const problem = certificates(files.cert, 'cert');
  if (problem !== undefined) return problem;
  // Checked from the text: asked to decrypt without a passphrase, OpenSSL may try to prompt for one.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(files.key)) {
    return { key: 'key', reason: 'an encrypted private key is not supported: give it unencrypted, in a file only the watchdog can read' };
  }
  try {
    createPrivateKey(files.key);
  } catch (err) {
    return { key: 'key', reason: `not a usable PEM private key (${codeOf(err)})` };
  }
  try {
    createSecureContext({ cert: files.cert, key: files.key });
  } catch (err) {
    return { key: 'key', reason: `does not go with the certificate in cert (${codeOf(err)})` };
  }
  return undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A client certificate this close to its end is warned about: the worker refuses it the moment it expires. */
const EXPIRY_WARNING_MS = 14 * DAY_MS;
/** A day as YYYY-MM-DD (UTC), from epoch ms. */
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const HOUR_MS = 60 * 60 * 1000;
/** Days left, rounded up; under a day in hours (4 minutes left is no "1 day"). */
const timeLeft = (ms: number): string => (ms < DAY_MS ? `${Math.ceil(ms / HOUR_MS)} hour(s)` : `${Math.ceil(ms / DAY_MS)} day(s)`);
const subjectOf = (c: X509Certificate): string => c.subject.replaceAll('\n', ', ');

function parsed(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
}

/** A certificate's validity, epoch ms. */
export interface CertificateValidity {
  readonly validFrom: number;
  readonly validTo: number;
}

/**
 * The validity of the first certificate of a PEM file (the client certificate of `cert`; the rest is its
 * chain), or undefined when there is none that parses (tlsProblem says why).
 */
export function leafValidity(pem: string): CertificateValidity | undefined {
  const block = pem.match(PEM_CERTIFICATE)?.[0];
  if (block === undefined) return undefined;
  try {
    const leaf = new X509Certificate(block);
    return { validFrom: leaf.validFromDate.getTime(), validTo: leaf.validToDate.getTime() };
  } catch {
    return undefined;
  }
}

/**
 * Certificates that are or will soon be refused for their dates, as warnings (the files themselves were
 * checked by tlsProblem): an expired client certificate reads on the worker's side as "certificate unknown",
 * a `ca` file of expired CAs only as a verification failure, on every poll.
 */
export function tlsDateWarnings(files: { readonly ca?: string; readonly cert?: string }, now: number): TlsProblem[] {
  const warnings: TlsProblem[] = [];
  const leaf = files.cert === undefined ? undefined : leafValidity(files.cert);
  if (leaf !== undefined) {
    const { validFrom: from, validTo: to } = leaf;
    if (to <= now) warnings.push({ key: 'cert', reason: `the client certificate expired on ${isoDay(to)}: the worker refuses it` });
    else if (from > now) warnings.push({ key: 'cert', reason: `the client certificate is valid only from ${isoDay(from)}: the worker refuses it until then` });
    else if (to - now < EXPIRY_WARNING_MS) warnings.push({ key: 'cert', reason: `the client certificate expires on ${isoDay(to)}, in ${timeLeft(to - now)}` });
  }
  // Only a file of expired CAs alone: a bundle holds CAs that sign nothing the watchdog talks to (Debian's
  // system bundle, 144 of them, held 5 expired ones on 2026-12-04), and the chain the worker does present is
  // watched at each handshake (connect_watchdog_tls_certificate_expiry_timestamp_seconds{certificate="worker"}).
  const cas = files.ca === undefined ? [] : parsed(files.ca);
  const ends = cas.map((c) => c.validToDate.getTime());
  if (cas.length > 0 && ends.every((end) => end <= now)) {
    const last = isoDay(Math.max(...ends));
    const reason = cas.length === 1 ? `the CA certificate ${subjectOf(cas[0] as X509Certificate)} expired on ${last}` : `all ${cas.length} CA certificates of the file have expired, the last on ${last}`;
    warnings.push({ key: 'ca', reason: `${reason}: the watchdog refuses every worker certificate` });
  }
  return warnings;
}

/** A PEM file's certificates for display (check-config): subjects and end dates, not kilobytes of base64. */
export function describeCertificates(pem: string): string {
  return `[PEM: ${parsed(pem).map((c) => `${subjectOf(c)} until ${isoDay(c.validToDate.getTime())}`).join('; ')}]`;
}
