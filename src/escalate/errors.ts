/** Why a delivery did not succeed. `code` says what the outbox does next. */
export type DeliveryErrorCode =
  /** 408, 429, 5xx: retried, honouring Retry-After. */
  | 'HTTP_RETRIABLE'
  /** Any other non-2xx: the sink refuses this payload; retrying cannot help. */
  | 'HTTP_REJECTED'
  /** Connection refused/reset, DNS, TLS: retried. */
  | 'NETWORK'
  /** The attempt exceeded delivery.timeout: retried. */
  | 'TIMEOUT'
  /** The sink's config cannot produce a request (e.g. a pagerduty sink without routing key): not retried. */
  | 'SINK_MISCONFIGURED'
  /** An unexpected exception while building or sending (a bug): not retried, so it cannot wedge the outbox. */
  | 'INTERNAL';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly code: DeliveryErrorCode,
    message: string,
    readonly status?: number,
    /** From Retry-After, already parsed and capped. */
    readonly retryAfterMs?: number,
    /** The start of the sink's answer, scrubbed, for the log line of a rejection. */
    readonly detail?: string,
  ) {
    super(message);
  }

  get retriable(): boolean {
    return this.code === 'HTTP_RETRIABLE' || this.code === 'NETWORK' || this.code === 'TIMEOUT';
  }
}
