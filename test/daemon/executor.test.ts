import nock from 'nock';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectClient } from '../../src/connect/client.js';
import { executeRestart } from '../../src/daemon/executor.js';
import type { RestartAction } from '../../src/heal/types.js';
import { fixtureText } from '../connect/fixtures.js';

const URL_ = 'http://connect.test:8083';
const RESTART = '/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true';
const SECRET = 'hunter2-do-not-log';

const action: RestartAction = { kind: 'restart-connector', cluster: 'c1', connector: 'pg-orders', failedTasks: [0], includeTasks: true, connectorFailed: true, class: 'connection', attempt: 1 };

const clients: ConnectClient[] = [];
function client(): ConnectClient {
  const c = new ConnectClient({ name: 'c1', url: URL_, rejectUnauthorized: true, timeout: 2_000, probe: false }, { retries: 0, statusConcurrency: 4, now: () => 1_700_000_000_000 });
  clients.push(c);
  return c;
}

async function restart(): Promise<{ outcome: string; lines: Record<string, unknown>[]; raw: string }> {
  const out: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void out.push(s) });
  const done = await executeRestart(action, { client: client(), version: '4.3.1', dryRun: false, logger });
  return { outcome: done.outcome, lines: out.map((l) => JSON.parse(l) as Record<string, unknown>), raw: out.join('') };
}

beforeAll(() => nock.disableNetConnect());
beforeEach(() => nock.cleanAll());
afterEach(async () => {
  nock.cleanAll();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('a restart answered 202 whose body cannot be read', () => {
  const good = fixtureText('restart-includeTasks-onlyFailed-202-response.json');
  // Bodies of a 202 that do not parse; each quotes a secret, as a status trace or a proxy's page may.
  const bodies: Record<string, { body: string; contentType: string; problem: string }> = {
    truncated: { body: `${good.slice(0, -40)}"trace":"password=${SECRET}`, contentType: 'application/json', problem: 'invalid or truncated JSON' },
    'not JSON': { body: `<html><body>Accepted. connection.password=${SECRET}</body></html>`, contentType: 'text/html', problem: 'not JSON' },
    'of another shape': { body: JSON.stringify({ accepted: true, note: `password=${SECRET}` }), contentType: 'application/json', problem: 'unexpected shape' },
  };

  it.each(Object.keys(bodies))('%s: the restart was accepted, counted as sent; one warning with stable fields and nothing of the body', async (kind) => {
    const { body, contentType, problem } = bodies[kind]!;
    const scope = nock(URL_).post(RESTART).reply(202, body, { 'content-type': contentType });
    const { outcome, lines, raw } = await restart();
    expect(scope.isDone()).toBe(true);
    expect(outcome).toBe('ok');
    const warnings = lines.filter((l) => l['level'] === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'restart accepted (202) but its answer could not be read: counted as sent',
        connector: 'pg-orders',
        class: 'connection',
        attempt: 1,
        outcome: 'ok',
        status: 202,
        problem,
        bodyChars: body.length,
      }),
    ]);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain('password');
    // No task restart sent after it: the worker restarted the FAILED tasks with the connector (KIP-745).
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('a readable name of another connector in a body otherwise unreadable is still no restart of ours (MISROUTED)', async () => {
    nock(URL_).post(RESTART).reply(202, JSON.stringify({ name: 'pg', connector: { state: 'BOGUS' } }), { 'content-type': 'application/json' });
    const { outcome, lines } = await restart();
    expect(outcome).toBe('failed');
    expect(lines.filter((l) => l['level'] === 50)).toEqual([expect.objectContaining({ connector: 'pg-orders', answeredFor: 'pg', msg: expect.stringContaining("cut at ';'") })]);
  });

  it('a 202 that reads is unchanged: sent, no warning', async () => {
    nock(URL_).post(RESTART).reply(202, good, { 'content-type': 'application/json' });
    const { outcome, lines } = await restart();
    expect(outcome).toBe('ok');
    expect(lines.filter((l) => (l['level'] as number) >= 40)).toEqual([]);
  });

  it('a 200 whose body cannot be read is still a failed restart (only a 202 says the restart was accepted)', async () => {
    nock(URL_).post(RESTART).reply(200, '<html>proxy</html>', { 'content-type': 'text/html' });
    const { outcome } = await restart();
    expect(outcome).toBe('failed');
  });
});
