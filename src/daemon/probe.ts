import { connect } from 'node:net';
import type { Endpoint } from '../connect/types.js';
import { endpointKey } from '../heal/policy.js';

/** Does the endpoint accept a TCP connection within the timeout? Never throws. */
export function probeTcp(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const done = (accepting: boolean) => {
      socket.destroy();
      resolve(accepting);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Probes distinct endpoints in parallel; the answer is an input to the policy. */
export async function probeAll(
  endpoints: readonly Endpoint[],
  timeoutMs: number,
  probe: (e: Endpoint, timeoutMs: number) => Promise<boolean> = probeTcp,
): Promise<Map<string, boolean>> {
  const unique = new Map(endpoints.map((e) => [endpointKey(e), e]));
  const answers = await Promise.all([...unique].map(async ([key, e]) => [key, await probe(e, timeoutMs)] as const));
  return new Map(answers);
}
