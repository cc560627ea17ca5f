/**
 * The HTTP plumbing of one cluster: one keep-alive undici Pool, auth header, TLS, timeouts on every
 * phase plus an overall deadline, and the mapping of everything that can go wrong into ConnectError.
 * Credentials live only in the header map here: never in the origin, a path, a log line or an error.
 */
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { Pool, buildConnector, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { leafValidity, type CertificateValidity } from '../config/tls.js';
import type { ClusterConfig } from '../config/types.js';
import { interpretResponse, isDeadline, transportError, type Credentials, type RequestLine } from './response.js';
import { basicAuthorization, decodeUrlPart, userInfoAuthorization } from '../util/url.js';
import { timerMs } from '../util/clock.js';

/** A response body larger than this is refused (a few thousand connectors with traces fit easily). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Below Jetty's default 30 s idle timeout, so a socket kept between polls is not closed under a request. */
const KEEP_ALIVE_MS = 20_000;
/** Overall deadline of one request, in units of cluster.timeout: connect, headers and body each get one. */
export const DEADLINE_FACTOR = 3;

export type Method = 'GET' | 'POST';

/** A response as received: status and body bytes, before any interpretation. */
export interface RawResponse {
  readonly req: RequestLine;
  readonly status: number;
  readonly contentType?: string;
  readonly bytes: Buffer;
  /** The body equals the `previous` given to receive() (and `bytes` is that buffer). */
  readonly unchanged: boolean;
}

/**
 * Memory for the bodies of a request made poll after poll (the status listing). A changed body goes into
 * the memory of the body before the last, handed back with `recycle` once nothing reads it, instead of
 * into fresh memory each time: on a VM each fresh page costs about 10 µs, and a 7 MB listing (50k tasks)
 * is some 1800 pages, ~20 ms a poll (bench/scale, page faults).
 */
export class BodyBuffers {
  /** The buffers `take` made, by their memory: only those are recycled. */
  private readonly made = new WeakSet<ArrayBuffer>();
  private spare: Buffer | undefined;

  /** `length` bytes to write a body into: the spare when it is large enough, else new memory with room to grow. */
  take(length: number, keep: Buffer | undefined): Buffer {
    const spare = this.spare;
    this.spare = undefined;
    // Never the memory of the body being compared with (a recycle too early would be a wrong snapshot).
    if (spare !== undefined && spare.length >= length && spare.buffer !== keep?.buffer) return spare.subarray(0, length);
    const fresh = Buffer.allocUnsafeSlow(length + (length >> 3));
    this.made.add(fresh.buffer);
    return fresh.subarray(0, length);
  }

  /** A body `take` gave out that nothing reads any more: its memory takes the next body. */
  recycle(body: Buffer): void {
    if (!(body.buffer instanceof ArrayBuffer) || !this.made.has(body.buffer)) return;
    this.spare = Buffer.from(body.buffer, 0, body.buffer.byteLength);
  }
}

/**
 * Collects a body's chunks as they arrive, comparing them with `previous` while they match: a body equal
 * to it byte for byte is never copied, and `bytes` is then `previous` itself (see Transport.receive). A
 * changed body is copied into memory from `buffers` when given, else into new memory.
 */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  /** Bytes equal to previous so far, not copied. */
  private matched = 0;
  private matching: boolean;

  constructor(
    private readonly previous?: Buffer,
    private readonly buffers?: BodyBuffers,
  ) {
    this.matching = previous !== undefined;
  }

  push(chunk: Buffer): void {
    const previous = this.previous;
    if (this.matching && previous !== undefined) {
      const end = this.matched + chunk.length;
      if (end <= previous.length && previous.compare(chunk, 0, chunk.length, this.matched, end) === 0) {
        this.matched = end;
        return;
      }
      this.matching = false;
      if (this.matched > 0) this.chunks.push(previous.subarray(0, this.matched));
    }
    this.chunks.push(chunk);
  }

  finish(): { readonly bytes: Buffer; readonly unchanged: boolean } {
    const previous = this.previous;
    if (this.matching && previous !== undefined) {
      if (this.matched === previous.length) return { bytes: previous, unchanged: true };
      this.chunks.push(previous.subarray(0, this.matched)); // a body that is a prefix of the previous one
    }
    if (this.buffers === undefined) return { bytes: Buffer.concat(this.chunks), unchanged: false };
    let length = 0;
    for (const chunk of this.chunks) length += chunk.length;
    const bytes = this.buffers.take(length, previous);
    let at = 0;
    for (const chunk of this.chunks) at += chunk.copy(bytes, at);
    return { bytes, unchanged: false };
  }
}

export interface Target {
  /** scheme://host:port, without credentials. */
  readonly origin: string;
  /** Path prefix of the Connect REST API behind a proxy ('' when at the root). */
  readonly basePath: string;
  /** `Authorization` header value, if any. */
  readonly authorization?: string;
}

/**
 * Where and how to reach a cluster. User info in the URL (`https://user:pw@host`) is taken out of the
 * URL and sent as basic auth instead; explicit username/password or token win over it.
 */
export function resolveTarget(cluster: Pick<ClusterConfig, 'url' | 'username' | 'password' | 'token'>): Target {
  const url = new URL(cluster.url);
  const basePath = url.pathname.replace(/\/+$/, '');
  let authorization: string | undefined;
  if (cluster.token !== undefined) authorization = `Bearer ${cluster.token}`;
  else if (cluster.username !== undefined) authorization = basicAuthorization(cluster.username, cluster.password ?? '');
  else authorization = userInfoAuthorization(url);
  // URL.origin never includes user info.
  return { origin: url.origin, basePath, ...(authorization !== undefined && { authorization }) };
}

/**
 * Shorter credentials are left to scrubSecrets: masking every "abc" would garble the message, and a
 * credential that short is guessed anyway.
 */
const KNOWN_SECRET_MIN = 4;

/** A cluster's password or token, and the password of its URL's user info as written and as sent. */
function knownSecrets(cluster: Pick<ClusterConfig, 'url' | 'password' | 'token'>): string[] {
  const urlPassword = new URL(cluster.url).password;
  const values = [cluster.password, cluster.token, urlPassword, decodeUrlPart(urlPassword)];
  // Longest first: a secret that contains another is masked whole.
  return [...new Set(values.filter((v): v is string => v !== undefined && v.length >= KNOWN_SECRET_MIN))].sort((a, b) => b.length - a.length);
}

export interface TransportOptions {
  /** Upper bound of sockets to the cluster. */
  readonly connections: number;
  readonly logger?: Logger;
  /**
   * After each TLS handshake: when the certificate chain the worker presented first stops working (epoch
   * ms, the earliest end among its certificates, the trust anchor Node completed it with included).
   */
  readonly onWorkerCertificate?: (validTo: number) => void;
}

/** The earliest end (epoch ms) of a TLS peer's certificate chain, or undefined when it presented none. */
export function chainEnd(peer: DetailedPeerCertificate | undefined): number | undefined {
  let end: number | undefined;
  const seen = new Set<DetailedPeerCertificate>();
  // A self-signed root is its own issuer: the walk stops at a certificate already seen.
  for (let c = peer; c !== undefined && c.valid_to !== undefined && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    const to = Date.parse(c.valid_to);
    if (Number.isFinite(to)) end = end === undefined ? to : Math.min(end, to);
  }
  return end;
}

export class Transport {
  private readonly pool: Pool;
  private readonly target: Target;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly credentials: Credentials | undefined;
  /** The credentials' values, masked in any answer quoted in an error. */
  private readonly known: readonly string[];
  private readonly timeout: number;
  private readonly cluster: string;
  private readonly logger: Logger | undefined;
  /** The client certificate's validity (or true when it does not parse here): what a certificate alert is about. */
  private readonly clientCert: CertificateValidity | boolean;

  constructor(cluster: ClusterConfig, options: TransportOptions) {
    this.cluster = cluster.name;
    this.timeout = cluster.timeout;
    this.target = resolveTarget(cluster);
    this.logger = options.logger;
    const authorization = this.target.authorization;
    this.credentials = authorization === undefined ? undefined : authorization.startsWith('Bearer ') ? 'bearer' : 'basic';
    this.known = knownSecrets(cluster);
    this.headers = {
      accept: 'application/json',
      ...(authorization !== undefined && { authorization }),
    };
    const tls = this.target.origin.startsWith('https:')
      ? {
          rejectUnauthorized: cluster.rejectUnauthorized,
          ...(cluster.ca !== undefined && { ca: cluster.ca }),
          ...(cluster.cert !== undefined && { cert: cluster.cert }),
          ...(cluster.key !== undefined && { key: cluster.key }),
        }
      : {};
    this.clientCert = cluster.cert === undefined ? false : (leafValidity(cluster.cert) ?? true);
    // undici's own connector (its timeout is the connect timeout, TLS handshake included), with one change:
    // a fatal TLS alert after the handshake ends the socket at once. With TLS 1.3 a worker that refuses the
    // client certificate (Kafka Connect's listeners.https.ssl.client.auth=required) says so with an alert
    // on the first read, after the client's handshake is done; undici then took the end of the stream for
    // the failure and reported "other side closed", losing the alert.
    const connector = buildConnector({ ...tls, timeout: cluster.timeout });
    const onWorkerCertificate = options.onWorkerCertificate;
    this.pool = new Pool(this.target.origin, {
      connections: Math.max(1, options.connections),
      headersTimeout: cluster.timeout,
      bodyTimeout: cluster.timeout,
      keepAliveTimeout: KEEP_ALIVE_MS,
      maxResponseSize: MAX_RESPONSE_BYTES,
      connect: (opts, callback) =>
        connector(opts, (...args) => {
          const socket = args[1];
          socket?.on('error', (err: NodeJS.ErrnoException) => {
            if (err.code?.startsWith('ERR_SSL_') === true) socket.destroy();
          });
          if (onWorkerCertificate !== undefined && socket !== null && socket !== undefined && 'getPeerCertificate' in socket) {
            const end = chainEnd((socket as TLSSocket).getPeerCertificate(true));
            if (end !== undefined) onWorkerCertificate(end);
          }
          callback(...args);
        }),
    });
  }

  /** Path as sent on the wire (base path included), for errors and logs. */
  pathOf(path: string): string {
    return `${this.target.basePath}${path}`;
  }

  /** One request, no retry: the status and parsed JSON body (undefined when empty), or a ConnectError. */
  async send(method: Method, path: string, signal?: AbortSignal): Promise<{ readonly status: number; readonly body: unknown }> {
    const raw = await this.receive(method, path, signal);
    return { status: raw.status, body: this.interpret(raw) };
  }

  /**
   * One request, no retry, its body not yet decoded: a transport failure is a ConnectError, an HTTP error
   * status is not. With `previous`, the body is compared with it as it arrives: when equal to the byte,
   * `bytes` is `previous` itself and no copy of the body is made (a steady listing of thousands of tasks
   * would otherwise allocate megabytes every poll). With `buffers`, a changed body goes into their memory.
   * With `timeout`, that request's timeout instead of the cluster's.
   */
  async receive(method: Method, path: string, signal?: AbortSignal, options: { readonly previous?: Buffer | undefined; readonly buffers?: BodyBuffers | undefined; readonly timeout?: number } = {}): Promise<RawResponse> {
    const { previous, buffers } = options;
    const timeout = options.timeout ?? this.timeout;
    const req: RequestLine = { cluster: this.cluster, method, path: this.pathOf(path) };
    const deadline = AbortSignal.timeout(timerMs(timeout * DEADLINE_FACTOR));
    const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
    const context = () => ({
      callerAborted: signal?.aborted === true,
      callerTimedOut: signal?.aborted === true && isDeadline(signal.reason),
      deadlineExceeded: deadline.aborted,
      timeoutMs: timeout,
      clientCert: this.clientCert,
      at: Date.now(),
    });
    try {
      // undici's dispatch API rather than request(): the chunks come to a callback, with no stream in
      // between (a 1.5 MB listing costs ~0.8 ms less CPU: bench/scale).
      const raw = await new Promise<RawResponse>((resolve, reject) => {
        combined.throwIfAborted();
        const body = new BodyCollector(previous, buffers);
        let status = 0;
        let contentType: string | undefined;
        let controller: Dispatcher.DispatchController | undefined;
        // Aborted while still queued in the pool: fail now, and cancel the request when it starts.
        const onAbort = () => (controller === undefined ? reject(combined.reason) : controller.abort(combined.reason as Error));
        combined.addEventListener('abort', onAbort, { once: true });
        const settle = (outcome: () => void) => {
          combined.removeEventListener('abort', onAbort);
          outcome();
        };
        this.pool.dispatch(
          { method, path: req.path, headers: this.headers, origin: this.target.origin, ...(timeout !== this.timeout && { headersTimeout: timeout, bodyTimeout: timeout }) },
          {
            onRequestStart: (c) => {
              controller = c;
              if (combined.aborted) c.abort(combined.reason as Error);
            },
            onResponseStart: (_c, statusCode, headers) => {
              status = statusCode;
              const ct = headers['content-type'];
              contentType = Array.isArray(ct) ? ct[0] : ct;
            },
            onResponseData: (_c, chunk) => body.push(chunk),
            onResponseEnd: () =>
              settle(() => {
                const { bytes, unchanged } = body.finish();
                resolve({ req, status, ...(contentType !== undefined && { contentType }), bytes, unchanged });
              }),
            onResponseError: (_c, err) => settle(() => reject(err)),
          },
        );
      });
      this.logger?.debug({ method, path: req.path, status: raw.status }, 'connect response');
      return raw;
    } catch (err) {
      const error = transportError(req, err, context());
      this.logger?.debug({ method, path: req.path, code: error.code }, 'connect request failed');
      throw error;
    }
  }

  /** A received response into its JSON body (undefined when empty), or a ConnectError (see interpretResponse). */
  interpret(raw: RawResponse): unknown {
    return interpretResponse(raw.req, raw.status, raw.contentType, raw.bytes.toString('utf8'), this.credentials, this.known);
  }

  /**
   * Closes every socket now. Nothing of ours waits for a request still held by the pool when this is
   * called, only requests given up on (their caller's deadline passed while they waited for a connection):
   * pool.close() waited for those too, up to the connect timeout each (against a worker that never
   * completes the TLS handshake, `status` answered after 33 s instead of 25 s).
   */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
