/**
 * Pure interpretation of one HTTP exchange: a response into JSON or a typed ConnectError, and a
 * transport failure (undici error, abort, timeout) into a ConnectError. No I/O here.
 */
import { isoDay, type CertificateValidity } from '../config/tls.js';
import { maskKnownValues, scrubSecrets } from '../secrets/scrub.js';
import { cut } from '../util/text.js';
import { ConnectError, ShapeError } from './errors.js';

export interface RequestLine {
  readonly cluster: string;
  readonly method: string;
  /** Path and query as sent, never the origin or credentials. */
  readonly path: string;
}

const EXCERPT_MAX = 200;

export function looksLikeJson(text: string): boolean {
  return /^\s*[[{]/.test(text);
}

function looksLikeHtml(text: string, contentType: string | undefined): boolean {
  return /\bhtml\b/i.test(contentType ?? '') || /^\s*</.test(text);
}

/**
 * At most 200 characters of a body for an error message. In JSON-looking bodies every string value is
 * masked first: an expand body carries `info.config` with clear-text passwords and JDBC URLs. Any other body is
 * scrubbed: a proxy's or a debug endpoint's error page may echo the request, our Authorization included.
 */
export function bodyExcerpt(text: string): string {
  const masked = looksLikeJson(text)
    ? text.replace(/:\s*"(?:[^"\\]|\\.)*("|$)/gs, ':"…"') // closed or cut-off string values
    : scrubSecrets(text);
  const flat = masked.replace(/\s+/g, ' ').trim();
  return cut(flat, EXCERPT_MAX);
}

interface ConnectErrorBody {
  readonly errorCode?: number;
  readonly message?: string;
}

/** Connect's `{"error_code": 404, "message": "..."}`, or undefined for any other body. */
function connectErrorBody(text: string): ConnectErrorBody | undefined {
  if (!looksLikeJson(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const code: unknown = (parsed as Record<string, unknown>)['error_code'];
  const message: unknown = (parsed as Record<string, unknown>)['message'];
  if (typeof code !== 'number' && typeof message !== 'string') return undefined;
  return {
    ...(typeof code === 'number' && { errorCode: code }),
    ...(typeof message === 'string' && { message }),
  };
}

/** Scrubbed, then cut: a cut must not leave part of a secret unrecognised. */
function clip(text: string): string {
  const clean = scrubSecrets(text);
  return cut(clean, EXCERPT_MAX);
}

/** The credentials sent to the cluster (config: username and password, or token, or user info in the URL). */
export type Credentials = 'basic' | 'bearer';

/** What a 401 says about the credentials: Connect's own message ("User cannot access the resource.") does not. */
function unauthorizedHint(credentials: Credentials | undefined): string {
  if (credentials === 'basic') return 'the worker refused the user name and password: check username and password';
  if (credentials === 'bearer') return 'the worker refused the token: check token';
  return 'the worker requires credentials: none are configured (username and password, or token)';
}

/**
 * A response into its JSON body (undefined when empty), or a ConnectError:
 * - non-2xx with Connect's error body, an empty body or plain text: HTTP (status, error_code, message kept);
 * - non-2xx with an HTML page: BAD_BODY with the status (a starting worker's Jetty 404 is not Connect's
 *   404, so it must not read as "connector deleted");
 * - 2xx that is not JSON (HTML, truncated): BAD_BODY with an excerpt.
 */
export function interpretResponse(
  req: RequestLine,
  status: number,
  contentType: string | undefined,
  text: string,
  credentials?: Credentials,
  /** The credentials' values themselves, masked wherever the body is quoted. */
  known: readonly string[] = [],
): unknown {
  const empty = text.trim() === '';
  const excerpt = (): string => bodyExcerpt(maskKnownValues(text, known));
  if (status < 200 || status > 299) {
    const hint = status === 401 ? ` (${unauthorizedHint(credentials)})` : '';
    const body = connectErrorBody(text);
    if (body !== undefined) {
      const message = body.message === undefined ? undefined : maskKnownValues(body.message, known);
      throw new ConnectError({
        ...req,
        code: 'HTTP',
        status,
        ...(body.errorCode !== undefined && { errorCode: body.errorCode }),
        // Connect's messages quote exceptions, which quote configs and URLs: scrubbed like a trace.
        ...(message !== undefined && { connectMessage: scrubSecrets(message) }),
        detail: `HTTP ${status}${message !== undefined ? `: ${clip(message)}` : ''}${hint}`,
      });
    }
    if (!empty && looksLikeHtml(text, contentType)) {
      throw new ConnectError({ ...req, code: 'BAD_BODY', status, detail: `HTTP ${status} with a non-Connect body: ${excerpt()}` });
    }
    throw new ConnectError({ ...req, code: 'HTTP', status, detail: `HTTP ${status}${empty ? '' : `: ${excerpt()}`}${hint}` });
  }
  if (empty) return undefined;
  if (!looksLikeJson(text)) {
    throw new ConnectError({ ...req, code: 'BAD_BODY', status, detail: `expected JSON, got: ${excerpt()}` });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's own message quotes the body around the error: it could quote a password.
    throw new ConnectError({ ...req, code: 'BAD_BODY', status, detail: `invalid or truncated JSON (${text.length} chars): ${excerpt()}` });
  }
}

/** A ShapeError from the parsers into the request's BAD_BODY. */
export function shapeToConnectError(req: RequestLine, err: ShapeError, status?: number): ConnectError {
  return new ConnectError({
    ...req,
    code: 'BAD_BODY',
    ...(status !== undefined && { status }),
    field: err.field,
    detail: `unexpected body at ${err.field}: ${err.reason}`,
    cause: err,
  });
}

/** Runs a pure parser on a body, turning its ShapeError into the request's BAD_BODY. */
export function parseWith<T>(req: RequestLine, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ShapeError) throw shapeToConnectError(req, err);
    throw err;
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function errorCode(err: unknown): string | undefined {
  const code: unknown = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface FailureContext {
  /** The caller's own signal fired: a cancellation, not a failure of the cluster. */
  readonly callerAborted: boolean;
  /** The caller's signal fired because its deadline passed (`AbortSignal.timeout`): the cluster did not answer in time. */
  readonly callerTimedOut?: boolean;
  /**
   * The configured client certificate's validity (cert, key), epoch ms: what a certificate alert from the
   * worker is about. `true` when one is configured but its dates are not known.
   */
  readonly clientCert?: CertificateValidity | boolean;
  /** When the request failed (epoch ms): an alert after the client certificate's end is about its date. */
  readonly at?: number;
  /** Our overall per-request deadline fired. */
  readonly deadlineExceeded: boolean;
  /** The timeout used, for the message. */
  readonly timeoutMs: number;
}

/** A signal's abort reason is its deadline (`AbortSignal.timeout`), not a cancellation. */
export function isDeadline(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/** The detail of an ABORTED error: a command's deadline (status, run --once) is no cancellation by a person. */
export function abortDetail(deadline: boolean): string {
  return deadline ? 'no answer before the deadline: gave up waiting' : 'aborted by the caller';
}

/** OpenSSL's code for a fatal TLS alert from the peer, with the alert's name. */
const TLS_ALERT_CODE = /^ERR_SSL_.*_ALERT_(\w+)$/;

/**
 * A fatal TLS alert from the worker (OpenSSL's code, e.g. ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE), as a
 * message that says what a certificate alert is about: with TLS 1.3 it is the worker refusing the client
 * certificate (or its absence), which is all a client can learn of it. A certificate past its end (or
 * before its start) is named as the cause: a daemon running for months meets its expiry mid-run.
 */
function tlsAlertDetail(code: string, ctx: FailureContext): string | undefined {
  const m = TLS_ALERT_CODE.exec(code);
  if (m === null) return undefined;
  const alert = (m[1] as string).toLowerCase().replaceAll('_', ' ');
  const detail = `TLS alert "${alert}" from the worker`;
  if (!/certificate|unknown ca|access denied/.test(alert)) return detail;
  const cert = ctx.clientCert;
  if (cert === undefined || cert === false) return `${detail}: it requires a client certificate: none is configured (cert, key)`;
  const refused = `${detail}: it did not accept the client certificate (cert, key)`;
  if (cert !== true && ctx.at !== undefined) {
    if (ctx.at >= cert.validTo) return `${refused}, which expired on ${isoDay(cert.validTo)}`;
    if (ctx.at < cert.validFrom) return `${refused}, which is valid only from ${isoDay(cert.validFrom)}`;
  }
  return `${refused}: is it signed by a CA the worker trusts, and valid?`;
}

/**
 * undici's HTTP parser failing on a TLS record (content type 0x15 alert or 0x16 handshake, version 3.x):
 * an http:// URL on a TLS port. Kafka Connect's Jetty answers plain HTTP with a TLS alert and closes.
 */
function isTlsRecord(err: unknown): boolean {
  const data: unknown = err instanceof Error && err.name === 'HTTPParserError' ? (err as { data?: unknown }).data : undefined;
  return typeof data === 'string' && /^[\x15\x16]\x03/.test(data);
}

/** Node's codes for a server certificate it does not trust (a wrong `ca`, a name the certificate lacks, expired). */
const CERT_VERIFY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A network failure that a retry a moment later cannot fix: the TLS set-up itself is wrong (a certificate
 * either side refuses, http:// on a TLS port). Retrying it only delays the answer.
 */
export function isTlsMisconfigured(cause: unknown): boolean {
  const code = errorCode(cause);
  return isTlsRecord(cause) || (code !== undefined && (CERT_VERIFY_CODES.has(code) || TLS_ALERT_CODE.test(code)));
}

/** An exception from the HTTP layer (connect, headers, body) into a ConnectError. */
export function transportError(req: RequestLine, err: unknown, ctx: FailureContext): ConnectError {
  if (err instanceof ConnectError) return err;
  if (ctx.callerAborted) return new ConnectError({ ...req, code: 'ABORTED', detail: abortDetail(ctx.callerTimedOut === true), cause: err });
  const code = errorCode(err);
  if (ctx.deadlineExceeded || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new ConnectError({ ...req, code: 'TIMEOUT', detail: `timed out (${code ?? 'deadline'}, timeout ${ctx.timeoutMs} ms)`, cause: err });
  }
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new ConnectError({ ...req, code: 'BAD_BODY', detail: 'response body too large', cause: err });
  }
  if (isTlsRecord(err)) return new ConnectError({ ...req, code: 'NETWORK', detail: 'the worker answered in TLS, not plain HTTP: give the URL as https://', cause: err });
  const alert = code === undefined ? undefined : tlsAlertDetail(code, ctx);
  if (alert !== undefined) return new ConnectError({ ...req, code: 'NETWORK', detail: alert, cause: err });
  // Messages of network errors name host:port at most (the origin never holds credentials).
  return new ConnectError({ ...req, code: 'NETWORK', detail: clip(`${code ?? 'error'}: ${errorMessage(err)}`), cause: err });
}
