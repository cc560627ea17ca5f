import { BlockList, isIP } from 'node:net';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import type { ProxyConfig } from '../config/types.js';
import { userInfoAuthorization } from '../util/url.js';

export interface SendRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Aborts the attempt: delivery.timeout and shutdown. */
  readonly signal: AbortSignal;
}

export interface SendResponse {
  readonly status: number;
  /** Lower-case names, as undici gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The start of a non-2xx response body, for a log line (scrubbed before it is logged). */
  readonly body?: string;
}

/** One HTTP exchange; injectable so tests and other transports can stand in. */
export type Send = (req: SendRequest) => Promise<SendResponse>;

const MAX_ERROR_BODY = 1024;

/**
 * `https://user:password@host/…` as the request goes out: the credentials as a Basic Authorization header
 * (undici ignores a URL's user-info, so an Alertmanager behind basic auth answered every page 401).
 */
export function withUrlCredentials(url: string, headers: Readonly<Record<string, string>>): { url: string; headers: Readonly<Record<string, string>> } {
  const u = URL.canParse(url) ? new URL(url) : undefined;
  const authorization = u === undefined ? undefined : userInfoAuthorization(u);
  if (u === undefined || authorization === undefined) return { url, headers };
  u.username = '';
  u.password = '';
  return { url: u.toString(), headers: { authorization, ...headers } };
}

/**
 * Never through a proxy, as Go's http.ProxyFromEnvironment: the proxy's loopback is not this host's. By name
 * for undici's agent; by address in the ranges createSend sends direct (all of 127/8, ::1, IPv4-mapped too).
 */
const LOOPBACK_NAME = 'localhost';
const LOOPBACK_RANGES = '127.0.0.0/8,::1/128';

/**
 * Through the proxy for its scheme unless NO_PROXY names the host or it is loopback; undefined (undici's global
 * dispatcher, no proxy) when none is set. The options are always given: undici would read process.env itself.
 */
function proxyDispatcher(proxy: ProxyConfig = {}): Dispatcher | undefined {
  if (proxy.http === undefined && proxy.https === undefined) return undefined;
  const noProxy = [...(proxy.noProxy === undefined ? [] : [proxy.noProxy]), LOOPBACK_NAME].join(',');
  return new EnvHttpProxyAgent({ httpProxy: proxy.http ?? '', httpsProxy: proxy.https ?? proxy.http ?? '', noProxy });
}

/**
 * The address ranges NO_PROXY lists (10.0.0.0/8, fd00::/8), as Go and curl (7.86+) read them: a Kubernetes NO_PROXY
 * lists the pod and service networks so. undici's agent matches names and single addresses only; undefined when
 * there are none.
 */
export function noProxyRanges(noProxy: string | undefined): BlockList | undefined {
  let ranges: BlockList | undefined;
  for (const entry of (noProxy ?? '').split(/[,\s]/)) {
    const m = /^\[?([0-9a-f.:]+)\]?\/(\d{1,3})$/i.exec(entry);
    const type = m ? isIP(m[1]!) : 0;
    if (type === 0 || Number(m![2]) > (type === 4 ? 32 : 128)) continue;
    (ranges ??= new BlockList()).addSubnet(m![1]!, Number(m![2]), type === 4 ? 'ipv4' : 'ipv6');
  }
  return ranges;
}

/** Whether the URL's host is an address in `ranges` (an IPv4-mapped IPv6 address is matched as IPv4). */
export function inRanges(url: string, ranges: BlockList): boolean {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  const type = isIP(host);
  return type !== 0 && ranges.check(host, type === 4 ? 'ipv4' : 'ipv6');
}

/** The default transport: undici `request` with headers and body timeouts of `timeout` ms each, through `proxy`. */
export function createSend(opts: { readonly timeout: number; readonly proxy?: ProxyConfig }): Send {
  const dispatcher = proxyDispatcher(opts.proxy);
  const direct = dispatcher === undefined ? undefined : noProxyRanges(`${opts.proxy?.noProxy ?? ''},${LOOPBACK_RANGES}`);
  return async (req) => {
    const { url, headers } = withUrlCredentials(req.url, req.headers);
    const res = await request(url, {
      ...(dispatcher !== undefined && !(direct !== undefined && inRanges(url, direct)) && { dispatcher }),
      method: req.method,
      headers: { ...headers },
      ...(req.body !== undefined && { body: req.body }),
      signal: req.signal,
      headersTimeout: opts.timeout,
      bodyTimeout: opts.timeout,
    });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      // The body must be consumed or the connection is not reused.
      await res.body.dump();
      return { status: res.statusCode, headers: res.headers };
    }
    let body = '';
    for await (const chunk of res.body) {
      body += (chunk as Buffer).toString('utf8');
      if (body.length >= MAX_ERROR_BODY) break;
    }
    return { status: res.statusCode, headers: res.headers, body: body.slice(0, MAX_ERROR_BODY) };
  };
}

/** The part of a URL that may be logged: sink URLs (Slack, tokens in paths and queries) are secrets. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}
