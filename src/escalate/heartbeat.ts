import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/types.js';
import { within } from '../util/clock.js';
import { createSend, hostOf, type Send } from './http.js';

export interface HeartbeatOptions {
  /** The dead man's switch URL (a secret: only its host is ever logged). Empty: beat() does nothing. */
  readonly url: string;
  /** At most one ping per this many ms while pings succeed. */
  readonly interval: number;
  readonly logger: Logger;
  readonly send?: Send;
  readonly proxy?: ProxyConfig;
  readonly now?: () => number;
  /** Bound of one ping (ms). Default 10 s. */
  readonly timeout?: number;
}

/** After a failed ping, try again this soon (or after interval, if shorter): one blip should not trip the switch. */
const RETRY_AFTER_FAILURE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The dead man's switch: the daemon calls beat() after each successful poll cycle, and the URL is pinged
 * (GET) at most once per interval. So the pings stop when the watchdog dies, hangs or cannot reach Connect,
 * and the service behind the URL pages. Failures are logged, never thrown.
 */
export class Heartbeat {
  /** The last ping and how long to wait after it: a span, so that a clock stepped back does not silence the pings. */
  private last: { readonly from: number; readonly wait: number } | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly send: Send;
  private readonly now: () => number;
  private readonly timeout: number;
  private readonly host: string;
  private readonly log: Logger;

  constructor(private readonly opts: HeartbeatOptions) {
    this.timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;
    this.send = opts.send ?? createSend({ timeout: this.timeout, ...(opts.proxy && { proxy: opts.proxy }) });
    this.now = opts.now ?? Date.now;
    this.host = hostOf(opts.url);
    this.log = opts.logger.child({ component: 'heartbeat' });
  }

  /** Pings if due and none is in flight. The promise (which never rejects) settles when that ping is done. */
  beat(): Promise<void> {
    if (this.opts.url === '') return Promise.resolve();
    if (this.inFlight) return this.inFlight;
    const started = this.now();
    if (this.last !== undefined && within(started, this.last.from, this.last.wait)) return Promise.resolve();
    // Claimed before the request, so that beats during a slow ping do not send another.
    this.last = { from: started, wait: this.opts.interval };
    this.inFlight = this.ping(started).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async ping(started: number): Promise<void> {
    let failure: { status?: number; error?: string } | undefined;
    try {
      const res = await this.send({ method: 'GET', url: this.opts.url, headers: {}, signal: AbortSignal.timeout(this.timeout) });
      if (res.status < 200 || res.status >= 300) failure = { status: res.status };
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      failure = { error: typeof code === 'string' ? code : err instanceof Error ? err.name : 'Error' };
    }
    if (!failure) {
      this.log.debug({ host: this.host }, 'heartbeat sent');
      return;
    }
    this.last = { from: started, wait: Math.min(this.opts.interval, RETRY_AFTER_FAILURE_MS) };
    this.log.warn({ host: this.host, ...failure }, 'heartbeat ping failed');
  }
}
