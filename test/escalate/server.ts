import nock from 'nock';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What the fake sink answers to its n-th request (1-based). */
export type Script = (n: number, req: Received) => readonly [number, string?, Record<string, string>?];

/**
 * A fake sink on nock: records every request it receives exactly as received (raw body bytes, headers)
 * and answers from a script.
 */
export function fakeSink(origin: string, method: 'post' | 'get', path: string, script: Script): { readonly received: Received[] } {
  const received: Received[] = [];
  nock(origin)
    .persist()
    [method](path)
    .reply(async (req: Request) => {
      const r: Received = { method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() };
      received.push(r);
      const [status, body, headers] = script(received.length, r);
      return [status, body ?? '', headers ?? {}];
    });
  return { received };
}

export const always =
  (status: number, body?: string, headers?: Record<string, string>): Script =>
  () => [status, body, headers];

/** Answers from a list of statuses, then keeps answering the last one. */
export const sequence =
  (...statuses: number[]): Script =>
  (n) => [statuses[Math.min(n, statuses.length) - 1] ?? 200];
