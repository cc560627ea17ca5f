/** What a sink's HTTP status means for the delivery. */
export type StatusVerdict = 'ok' | 'retry' | 'reject';

/**
 * 2xx delivered; 408, 429 and 5xx are the sink's or the network's trouble and are retried; any other status
 * (400 malformed, 401/403 bad key, 404/410 revoked webhook, a 3xx we do not follow) will not change on retry.
 */
export function statusVerdict(status: number): StatusVerdict {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}

/** Retry-After is honoured up to this: a sink asking for more is tried again after this long. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Retry-After as milliseconds from `now`, capped at MAX_RETRY_AFTER_MS: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value) as string | undefined;
  if (v === undefined) return undefined;
  const text = v.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    // An HTTP-date names a weekday and month; Date.parse alone would read "-5" as a year.
    if (!/[a-z]{3}/i.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
