import nock from 'nock';
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectClient, type ConnectClientOptions } from '../../src/connect/client.js';
import { ConnectError, isNotFound, isRebalance } from '../../src/connect/errors.js';
import type { ClusterConfig } from '../../src/config/types.js';
import { expandPasswords, fixture, fixtureText } from './fixtures.js';

const URL_ = 'http://connect.test:8083';
const LISTING = '/connectors?expand=status&expand=info';
const ROOT = { version: '4.3.1', commit: 'e2b4d8a1', kafka_cluster_id: 'kc-1' };

function cluster(over: Partial<ClusterConfig> = {}): ClusterConfig {
  return { name: 'c1', url: URL_, rejectUnauthorized: true, timeout: 2_000, probe: false, ...over };
}

const clients: ConnectClient[] = [];
function client(over: Partial<ClusterConfig> = {}, options: Partial<ConnectClientOptions> = {}): ConnectClient {
  const c = new ConnectClient(cluster(over), { retries: 0, statusConcurrency: 4, now: () => 1_700_000_000_000, ...options });
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error('expected a ConnectError');
}

function status(name: string, taskState = 'RUNNING'): Record<string, unknown> {
  return {
    name,
    connector: { state: 'RUNNING', worker_id: '127.0.0.1:8083', version: '4.3.1' },
    tasks: [{ id: 0, state: taskState, worker_id: '127.0.0.1:8083', version: '4.3.1' }],
    type: 'sink',
  };
}

beforeAll(() => {
  nock.disableNetConnect();
});

beforeEach(() => {
  nock.cleanAll();
});

afterEach(async () => {
  nock.cleanAll();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('snapshot with expand (Connect >= 2.3)', () => {
  it('reads the whole cluster in one request, with the version, from the real expand body', async () => {
    const scope = nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, fixtureText('connectors-expand-status-info-mixed.json'), { 'content-type': 'application/json' });
    const snap = await client().snapshot();
    expect(scope.isDone()).toBe(true);
    expect(snap.cluster).toBe('c1');
    expect(snap.at).toBe(1_700_000_000_000);
    expect(snap.version).toBe('4.3.1');
    expect(snap.connectors).toHaveLength(6);
    const pg = snap.connectors.find((c) => c.name === 'pg-nopub');
    expect(pg).toMatchObject({ state: 'RUNNING', tasksMax: 1, connectorClass: 'io.debezium.connector.postgresql.PostgresConnector', endpoint: { host: '127.0.0.1', port: 5432 } });
    expect(pg?.tasks[0]?.state).toBe('FAILED');
    expect(pg?.tasks[0]?.trace).toContain('Publication autocreation is disabled');
  });

  it('keeps no password anywhere in the snapshot', async () => {
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, fixtureText('connectors-expand-status-info-mixed.json'));
    const text = JSON.stringify(await client().snapshot());
    const passwords = expandPasswords();
    expect(passwords.length).toBeGreaterThan(0);
    for (const p of passwords) expect(text).not.toContain(p);
    expect(text).not.toContain('database.password');
  });

  it('fetches GET / once per client, and again after a failed poll', async () => {
    let roots = 0;
    nock(URL_)
      .get('/')
      .times(5)
      .reply(() => {
        roots++;
        return [200, ROOT];
      })
      .get(LISTING)
      .reply(200, {})
      .get(LISTING)
      .reply(200, {})
      .get(LISTING)
      .reply(503, { error_code: 503, message: 'down' })
      .get(LISTING)
      .reply(200, {});
    const c = client();
    expect((await c.snapshot()).version).toBe('4.3.1');
    expect((await c.snapshot()).version).toBe('4.3.1');
    expect(roots).toBe(1);
    await expect(c.snapshot()).rejects.toBeInstanceOf(ConnectError);
    await c.snapshot();
    expect(roots).toBe(2);
  });

  it('still polls when GET / fails (version unknown, read again next time)', async () => {
    nock(URL_).get('/').reply(500, { error_code: 500, message: 'boom' }).get(LISTING).reply(200, {}).get('/').reply(200, ROOT).get(LISTING).reply(200, {});
    const c = client();
    const first = await c.snapshot();
    expect(first.version).toBeUndefined();
    expect('version' in first).toBe(false);
    expect((await c.snapshot()).version).toBe('4.3.1');
  });

  it('a worker that ignored expand ({} entries) is BAD_BODY naming the field', async () => {
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, fixtureText('connectors-expand-unknown-value.json'));
    const err = await failure(client().snapshot());
    expect(err.code).toBe('BAD_BODY');
    expect(err.field).toBe('connectors["pg-nopub"].status');
    expect(err.path).toBe(LISTING);
  });

  it.each([
    ['state "BOGUS"', { x: { status: { ...status('x'), tasks: [{ id: 0, state: 'BOGUS', worker_id: 'w' }] } } }, 'connectors["x"].status.tasks[0].state'],
    ['tasks not an array', { x: { status: { ...status('x'), tasks: 'none' } } }, 'connectors["x"].status.tasks'],
    ['connector state missing', { x: { status: { ...status('x'), connector: { worker_id: 'w' } } } }, 'connectors["x"].status.connector.state'],
  ])('a wrongly shaped body (%s) is BAD_BODY naming the path', async (_what, body, field) => {
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, body);
    const err = await failure(client().snapshot());
    expect(err.code).toBe('BAD_BODY');
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
  });

  it('prefixes the path of a cluster URL behind a proxy', async () => {
    const scope = nock(URL_).get('/kc/').reply(200, ROOT).get(`/kc${LISTING}`).reply(200, {});
    const snap = await client({ url: `${URL_}/kc` }).snapshot();
    expect(snap.connectors).toEqual([]);
    expect(scope.isDone()).toBe(true);
  });
});

describe('snapshot fallback for workers that ignore expand (< 2.3)', () => {
  it('reads each status with bounded concurrency and skips connectors deleted meanwhile (404)', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `c${i}`);
    let inFlight = 0;
    let maxInFlight = 0;
    const scope = nock(URL_).get('/').reply(200, { version: '2.2.2' }).get(LISTING).reply(200, names);
    for (const name of names) {
      scope.get(`/connectors/${name}/status`).reply(async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 15));
        inFlight--;
        return name === 'c5' ? [404, { error_code: 404, message: `No status found for connector ${name}` }] : [200, status(name)];
      });
    }
    const snap = await client({}, { statusConcurrency: 3 }).snapshot();
    expect(scope.isDone()).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(snap.version).toBe('2.2.2');
    expect(snap.connectors.map((c) => c.name)).toEqual(names.filter((n) => n !== 'c5'));
    expect(snap.connectors[0]).not.toHaveProperty('tasksMax');
  });

  it('fails the poll when a status fails for another reason than 404', async () => {
    nock(URL_)
      .get('/')
      .reply(200, ROOT)
      .get(LISTING)
      .reply(200, ['a', 'b'])
      .get('/connectors/a/status')
      .reply(200, status('a'))
      .get('/connectors/b/status')
      .reply(400, { error_code: 400, message: 'bad' });
    const err = await failure(client({}, { statusConcurrency: 1 }).snapshot());
    expect(err).toMatchObject({ code: 'HTTP', status: 400, path: '/connectors/b/status' });
  });

  it('encodes odd connector names in every path', async () => {
    const names = ['with space', 'a/b', '50%', 'what?', 'hash#tag', 'café'];
    const scope = nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, names);
    const encoded = ['with%20space', 'a%2Fb', '50%25', 'what%3F', 'hash%23tag', 'caf%C3%A9'];
    names.forEach((name, i) => scope.get(`/connectors/${encoded[i]}/status`).reply(200, status(name)));
    const snap = await client().snapshot();
    expect(scope.isDone()).toBe(true);
    expect(snap.connectors.map((c) => c.name)).toEqual(names);
  });
});

describe('status', () => {
  it('parses a status and answers undefined on 404', async () => {
    nock(URL_)
      .get('/connectors/pg-orders/status')
      .reply(200, fixtureText('status-failed-auth-password-rotated-debezium-postgres.json'))
      .get('/connectors/pg-badpw/status')
      .reply(404, fixtureText('status-404-unknown-connector.json'));
    const c = client();
    const s = await c.status('pg-orders');
    expect(s?.tasks[0]?.state).toBe('FAILED');
    expect(await c.status('pg-badpw')).toBeUndefined();
  });

  it('a Jetty HTML 404 (worker still starting) is BAD_BODY, not "connector deleted"', async () => {
    const page = `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n<title>Error 404 Not Found</title>\n</head>\n<body>\n<h2>HTTP ERROR 404 Not Found</h2>\n<table>\n<tr><th>URI:</th><td>/connectors/x/status</td></tr>\n<tr><th>STATUS:</th><td>404</td></tr>\n<tr><th>MESSAGE:</th><td>Not Found</td></tr>\n<tr><th>SERVLET:</th><td>-</td></tr>\n</table>\n<hr/><a href="https://jetty.org/">Powered by Jetty:// 12.0.22</a><hr/>\n\n</body>\n</html>\n`;
    nock(URL_).get('/connectors/x/status').reply(404, page, { 'content-type': 'text/html;charset=iso-8859-1' });
    const err = await failure(client().status('x'));
    expect(err.code).toBe('BAD_BODY');
    expect(err.status).toBe(404);
    expect(isNotFound(err)).toBe(false);
    expect(err.message).toContain('Error 404 Not Found');
    const excerpt = err.message.slice(err.message.indexOf('<html>'));
    expect(excerpt.length).toBeLessThanOrEqual(200);
  });

  it('a 200 with HTML is BAD_BODY', async () => {
    nock(URL_).get('/connectors/x/status').reply(200, '<!DOCTYPE html><html><body>login</body></html>', { 'content-type': 'text/html' });
    expect(await failure(client().status('x'))).toMatchObject({ code: 'BAD_BODY', status: 200 });
  });
});

describe('truncated bodies', () => {
  it('truncated JSON is BAD_BODY with an excerpt that masks values (no password)', async () => {
    const full = fixtureText('connectors-expand-status-info-mixed.json');
    const cut = full.slice(0, full.indexOf('"database.password":"e2e_cdc"') + '"database.password":"e2e_c'.length);
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, cut);
    const err = await failure(client().snapshot());
    expect(err.code).toBe('BAD_BODY');
    expect(err.message).toMatch(/truncated JSON/);
    expect(err.message).toContain('{"pg-nopub":{"status":');
    expect(err.message).not.toContain('e2e_c');
  });
});

describe('retries of GET', () => {
  it('retries a GET that fails twice, then succeeds', async () => {
    const scope = nock(URL_)
      .get('/connectors/a/status')
      .reply(503, { error_code: 503, message: 'unavailable' })
      .get('/connectors/a/status')
      .reply(504, '<html><body>Gateway Timeout</body></html>', { 'content-type': 'text/html' })
      .get('/connectors/a/status')
      .reply(200, status('a'));
    const s = await client({}, { retries: 2 }).status('a');
    expect(s?.name).toBe('a');
    expect(scope.isDone()).toBe(true);
  });

  it('retries a 409 and a rebalance 500', async () => {
    const scope = nock(URL_)
      .get('/connectors/a/status')
      .reply(409, fixtureText('restart-409-no-known-leader-during-rebalance.json'))
      .get('/connectors/a/status')
      .reply(500, fixtureText('get-config-500-rebalance-expected.json'))
      .get('/connectors/a/status')
      .reply(200, status('a'));
    expect((await client({}, { retries: 2 }).status('a'))?.name).toBe('a');
    expect(scope.isDone()).toBe(true);
  });

  it.each([400, 401, 403, 405])('does not retry a %i', async (code) => {
    let calls = 0;
    nock(URL_)
      .get('/connectors/a/status')
      .times(3)
      .reply(() => {
        calls++;
        return [code, { error_code: code, message: 'no' }];
      });
    const err = await failure(client({}, { retries: 2 }).status('a'));
    expect(err).toMatchObject({ code: 'HTTP', status: code, errorCode: code, connectMessage: 'no' });
    expect(calls).toBe(1);
  });

  it('gives up after the retries with the last error', async () => {
    let calls = 0;
    nock(URL_)
      .get('/connectors/a/status')
      .times(3)
      .reply(() => {
        calls++;
        return [502, 'Bad Gateway'];
      });
    const err = await failure(client({}, { retries: 1 }).status('a'));
    expect(err).toMatchObject({ code: 'HTTP', status: 502 });
    expect(calls).toBe(2);
  });

  it('stops retrying when the caller aborts, with ABORTED', async () => {
    const controller = new AbortController();
    nock(URL_)
      .get('/connectors/a/status')
      .times(5)
      .reply(() => {
        controller.abort();
        return [503, { error_code: 503, message: 'unavailable' }];
      });
    const err = await failure(client({}, { retries: 4 }).status('a', controller.signal));
    expect(err.code).toBe('ABORTED');
    expect(nock.pendingMocks()).toHaveLength(1); // 4 of the 5 allowed calls never happened
  });

  it('an already aborted signal sends nothing', async () => {
    const scope = nock(URL_).get('/connectors/a/status').reply(200, status('a')).post('/connectors/a/tasks/0/restart').reply(204);
    const c = client();
    expect((await failure(c.status('a', AbortSignal.abort()))).code).toBe('ABORTED');
    expect((await failure(c.restartTask('a', 0, AbortSignal.abort()))).code).toBe('ABORTED');
    expect(scope.isDone()).toBe(false);
    expect(nock.pendingMocks()).toHaveLength(2);
  });
});

describe('restarts', () => {
  it('parses the 202 body of includeTasks&onlyFailed', async () => {
    const scope = nock(URL_)
      .post('/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true')
      .reply(202, fixtureText('restart-includeTasks-onlyFailed-202-response.json'), { 'content-type': 'application/json' });
    const res = await client().restartConnector('pg-orders', { includeTasks: true, onlyFailed: true });
    expect(scope.isDone()).toBe(true);
    expect(res.status).toBe(202);
    expect(res.body?.state).toBe('RUNNING');
    expect(res.body?.tasks[0]?.state).toBe('RESTARTING');
  });

  it('handles 204 without a body (both flags false)', async () => {
    nock(URL_).post('/connectors/pg-orders/restart?includeTasks=false&onlyFailed=false').reply(204);
    const res = await client().restartConnector('pg-orders', { includeTasks: false, onlyFailed: false });
    expect(res).toEqual({ status: 204 });
  });

  it('restarts a task (204) with the name encoded', async () => {
    const scope = nock(URL_).post('/connectors/a%2Fb%20c/tasks/3/restart').reply(204);
    await client().restartTask('a/b c', 3);
    expect(scope.isDone()).toBe(true);
  });

  it('rejects a task id that is not one', async () => {
    await expect(client().restartTask('a', -1)).rejects.toBeInstanceOf(RangeError);
    await expect(client().restartTask('a', 1.5)).rejects.toBeInstanceOf(RangeError);
  });

  it.each(['restart-409-stale-config-during-rebalance.json', 'restart-409-no-known-leader-during-rebalance.json'])(
    '409 (%s) is a rebalance and is not retried',
    async (file) => {
      nock(URL_).post('/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true').reply(409, fixtureText(file)).post('/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true').reply(202, status('pg-orders'));
      const err = await failure(client({}, { retries: 3 }).restartConnector('pg-orders', { includeTasks: true, onlyFailed: true }));
      expect(err).toMatchObject({ code: 'HTTP', status: 409, errorCode: 409, method: 'POST' });
      expect(err.connectMessage).toMatch(/^Cannot complete request momentarily/);
      expect(isRebalance(err)).toBe(true);
      expect(isNotFound(err)).toBe(false);
      expect(nock.pendingMocks()).toHaveLength(1);
    },
  );

  it('the 500 of a restart forwarded to a departed worker is a rebalance', async () => {
    nock(URL_).post('/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true').reply(500, fixtureText('restart-500-forward-to-departed-worker.json'));
    const err = await failure(client().restartConnector('pg-orders', { includeTasks: true, onlyFailed: true }));
    expect(err).toMatchObject({ code: 'HTTP', status: 500, errorCode: 500 });
    expect(isRebalance(err)).toBe(true);
  });

  it('the 500 "rebalance is expected" on a GET is a rebalance', async () => {
    nock(URL_).get('/connectors/sink-ok/status').reply(500, fixtureText('get-config-500-rebalance-expected.json'));
    const err = await failure(client().status('sink-ok'));
    expect(isRebalance(err)).toBe(true);
  });

  it('404 bodies of unknown connector and task are not found', async () => {
    nock(URL_)
      .post('/connectors/nope/restart?includeTasks=true&onlyFailed=true')
      .reply(404, fixtureText('restart-404-unknown-connector.json'))
      .post('/connectors/sink-baddir/tasks/7/restart')
      .reply(404, fixtureText('task-restart-404-unknown-task.json'));
    const c = client();
    const e1 = await failure(c.restartConnector('nope', { includeTasks: true, onlyFailed: true }));
    expect(isNotFound(e1)).toBe(true);
    expect(e1.connectMessage).toBe('Unknown connector: nope');
    const e2 = await failure(c.restartTask('sink-baddir', 7));
    expect(isNotFound(e2)).toBe(true);
    expect(isRebalance(e2)).toBe(false);
  });
});

describe('auth', () => {
  const authOf = async (over: Partial<ClusterConfig>, url = URL_): Promise<string | null> => {
    let seen: string | null = null;
    nock(url)
      .get('/connectors/a/status')
      .reply((req: Request) => {
        seen = req.headers.get('authorization');
        return [200, status('a')];
      });
    await client({ url, ...over }).status('a');
    return seen;
  };

  it('sends basic auth', async () => {
    expect(await authOf({ username: 'watchdog', password: 'pa:ss' })).toBe(`Basic ${Buffer.from('watchdog:pa:ss').toString('base64')}`);
  });

  it('sends a bearer token', async () => {
    expect(await authOf({ token: 'tok-123' })).toBe('Bearer tok-123');
  });

  it('sends no Authorization header without credentials', async () => {
    expect(await authOf({})).toBeNull();
  });

  it('moves user info out of the URL into basic auth', async () => {
    const header = await authOf({ url: 'http://ops:s%40cret@connect.test:8083' });
    expect(header).toBe(`Basic ${Buffer.from('ops:s@cret').toString('base64')}`);
  });

  it('puts no credential in errors or logs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
    nock(URL_)
      .get('/connectors/a/status')
      .reply(503, { error_code: 503, message: 'unavailable' })
      .get('/connectors/a/status')
      .reply(401, 'User cannot access the resource.');
    const c = client({ url: 'http://ops:topsecret@connect.test:8083' }, { retries: 1, logger });
    const err = await failure(c.status('a'));
    expect(err).toMatchObject({ code: 'HTTP', status: 401 });
    const basic = Buffer.from('ops:topsecret').toString('base64');
    const everything = [...lines, err.message, JSON.stringify(err), String(err.stack)].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(everything).not.toContain('topsecret');
    expect(everything).not.toContain(basic);
  });
});

describe('version', () => {
  it('reads GET / and caches it', async () => {
    const scope = nock(URL_).get('/').once().reply(200, ROOT);
    const c = client();
    expect(await c.version()).toBe('4.3.1');
    expect(await c.version()).toBe('4.3.1');
    expect(scope.isDone()).toBe(true);
  });

  it('answers undefined when the body has no version', async () => {
    nock(URL_).get('/').reply(200, { commit: 'x' });
    expect(await client().version()).toBeUndefined();
  });

  it('a bad root body is BAD_BODY', async () => {
    nock(URL_).get('/').reply(200, fixture('connectors-expand-unknown-value.json') as object);
    expect(await client().version()).toBeUndefined();
    nock(URL_).get('/').reply(200, { version: 431 });
    expect(await failure(client().version())).toMatchObject({ code: 'BAD_BODY', field: 'root.version' });
  });
});
