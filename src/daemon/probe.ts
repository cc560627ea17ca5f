import { connect } from 'node:net';
import type { Endpoint } from '../connect/types.js';
import { endpointKey } from '../heal/policy.js';

/**
 * Does the endpoint accept a TCP connection within the timeout? Never throws. The poll's signal ends it
 * too, as "not accepting": a firewalled database drops the SYNs, and a long heal.probe.timeout would
 * otherwise hold run --once past its 30 s and a SIGTERM past shutdownTimeout.
 */
export function probeTcp(endpoint: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const done = (accepting: boolean) => {
      signal?.removeEventListener('abort', aborted);
      socket.destroy();
      resolve(accepting);
    };
    const aborted = () => done(false);
    signal?.addEventListener('abort', aborted, { once: true });
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Probes distinct endpoints in parallel; the answer is an input to the policy. */
export async function probeAll(
  endpoints: readonly Endpoint[],
  timeoutMs: number,
  probe: (e: Endpoint, timeoutMs: number, signal?: AbortSignal) => Promise<boolean> = probeTcp,
  signal?: AbortSignal,
): Promise<Map<string, boolean>> {
  const unique = new Map(endpoints.map((e) => [endpointKey(e), e]));
  const answers = await Promise.all([...unique].map(async ([key, e]) => [key, await probe(e, timeoutMs, signal)] as const));
  return new Map(answers);
}
