/** Typed failures of the Connect REST client. Messages name the request by path only: never a credential. */

export const CONNECT_ERROR_CODES = ['HTTP', 'TIMEOUT', 'NETWORK', 'BAD_BODY', 'ABORTED'] as const;
export type ConnectErrorCode = (typeof CONNECT_ERROR_CODES)[number];

export interface ConnectErrorInit {
  readonly code: ConnectErrorCode;
  readonly cluster: string;
  readonly method: string;
  /** Request path (and query), without origin or credentials. */
  readonly path: string;
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  /** `error_code` of Connect's `{error_code, message}` body. */
  readonly errorCode?: number;
  /** `message` of Connect's `{error_code, message}` body. */
  readonly connectMessage?: string;
  /** For BAD_BODY from a wrongly shaped body: where it went wrong, e.g. `connectors["x"].status.tasks[0].state`. */
  readonly field?: string;
  /** What went wrong, without the request line (added here). */
  readonly detail: string;
  readonly cause?: unknown;
}

export class ConnectError extends Error {
  readonly code: ConnectErrorCode;
  readonly cluster: string;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly errorCode?: number;
  readonly connectMessage?: string;
  readonly field?: string;

  constructor(init: ConnectErrorInit) {
    super(`${init.method} ${init.path} on cluster ${init.cluster}: ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ConnectError';
    this.code = init.code;
    this.cluster = init.cluster;
    this.method = init.method;
    this.path = init.path;
    if (init.status !== undefined) this.status = init.status;
    if (init.errorCode !== undefined) this.errorCode = init.errorCode;
    if (init.connectMessage !== undefined) this.connectMessage = init.connectMessage;
    if (init.field !== undefined) this.field = init.field;
  }
}

/**
 * A body that does not have the shape Connect documents. Raised by the pure parsers in shapes.ts, which
 * know nothing of the request; the client wraps it into a ConnectError with code BAD_BODY.
 */
export class ShapeError extends Error {
  readonly code = 'BAD_BODY';
  constructor(
    /** Where in the body, e.g. `connectors["x"].status.tasks[0].state`. */
    readonly field: string,
    /** What was expected there; never echoes a config value. */
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'ShapeError';
  }
}

export function isConnectError(err: unknown): err is ConnectError {
  return err instanceof ConnectError;
}

// "Request timed out. The worker is currently ensuring membership in the cluster, which began at …" (or
// "… stopping 3 and 3 tasks …"): the worker held the request 90 s for a herder cut off from Kafka (a broker
// outage); it runs the request once the broker is back.
const HERDER_TIMED_OUT = /^Request timed out\b/i;

// The real 4.3.1 worker answers these as 500s while a rebalance forwards or blocks the request
// (see real-bodies: get-config-500-rebalance-expected, restart-500-forward-to-departed-worker).
const REBALANCE_500 = [/rebalanc/i, /IO Error trying to forward REST request/i, HERDER_TIMED_OUT];

/** A 409, or a 500 that means "a rebalance is in the way": retry later, the target is not at fault. */
export function isRebalance(err: unknown): boolean {
  if (!isConnectError(err) || err.code !== 'HTTP') return false;
  if (err.status === 409) return true;
  if (err.status !== 500) return false;
  const text = err.connectMessage ?? '';
  return REBALANCE_500.some((re) => re.test(text));
}

/** No answer within the request timeout. */
export function isTimeout(err: unknown): boolean {
  return isConnectError(err) && err.code === 'TIMEOUT';
}

/** The worker's own 500 after holding a request for a herder cut off from Kafka (also a rebalance: isRebalance). */
export function isHerderTimedOut(err: unknown): boolean {
  return isConnectError(err) && err.code === 'HTTP' && err.status === 500 && HERDER_TIMED_OUT.test(err.connectMessage ?? '');
}

/**
 * Connect's own 404 (unknown connector or task). Only code HTTP qualifies: a starting worker answers
 * 404 with a Jetty HTML page (code BAD_BODY), which must not read as "connector deleted".
 */
export function isNotFound(err: unknown): boolean {
  return isConnectError(err) && err.code === 'HTTP' && err.status === 404;
}

/**
 * Why Kafka Connect cannot be asked anything about this connector by path, or undefined. Kafka Connect 4.x
 * serves REST with Jetty 12, which refuses some names whatever their encoding (seen on the real 4.3.1
 * worker): 400 "Ambiguous URI path separator/encoding" for `/` and `%`, "Ambiguous URI path segment" for a
 * name `.` or `..`, "Suspicious Path Character" for `\`; and 414 "URI Too Long" for a name that makes the
 * request line longer than its 8 KB header limit. Such a connector can be listed, but not read, restarted
 * or deleted one by one. A person has to act; retrying cannot help.
 */
export function unaddressableName(err: unknown, connector: string): string | undefined {
  if (!isConnectError(err)) return undefined;
  if (err.status === 414) return 'its name is too long for a request URI (HTTP 414 URI Too Long)';
  if (err.status !== 400) return undefined;
  if (/[/%\\]/.test(connector) || connector === '.' || connector === '..') {
    return "Kafka Connect (Jetty 12) refuses '/', '%' and '\\' in a connector name, and a name '.' or '..', in REST paths (HTTP 400 Ambiguous URI / Suspicious Path Character)";
  }
  return undefined;
}
