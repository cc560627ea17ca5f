import nock from 'nock';
import { pino, type Logger } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { seeded } from '../../bench/lib/stats.js';
import { ConnectClient, DEFAULT_INFO_REFRESH_MS, INFO_LISTING_PATH, LISTING_PATH, NO_STATUS_PROBLEM, type ConnectClientOptions } from '../../src/connect/client.js';
import { ConnectError, isNotFound, isRebalance } from '../../src/connect/errors.js';
import { parseListing } from '../../src/connect/shapes.js';
import type { ClusterConfig } from '../../src/config/types.js';
import type { ClusterSnapshot } from '../../src/connect/types.js';
import { BodyBuffers } from '../../src/connect/transport.js';
import { expandOnly, expandPasswords, failure, fixture, fixtureText } from './fixtures.js';

const URL_ = 'http://connect.test:8083';
const LISTING = '/connectors?expand=status';
const INFO = '/connectors?expand=info';
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

function status(name: string, taskState = 'RUNNING'): Record<string, unknown> {
  return {
    name,
    connector: { state: 'RUNNING', worker_id: '127.0.0.1:8083', version: '4.3.1' },
    tasks: [{ id: 0, state: taskState, worker_id: '127.0.0.1:8083', version: '4.3.1' }],
    type: 'sink',
  };
}

/** A pino logger at trace level whose lines land in `lines`. */
function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) }), lines };
}

interface WorldConnector {
  tasks: number;
  tasksMax: number;
  host: string;
}

/**
 * A cluster that changes between polls, behind nock: `GET /`, the status listing and the info listing are
 * answered from `connectors` on every call, and every GET is recorded in `gets`.
 */
class World {
  readonly connectors = new Map<string, WorldConnector>();
  readonly gets: string[] = [];
  /** How many of the next info requests answer 503. */
  infoFailures = 0;
  /** Connectors the info listing leaves out (deleted between the two listings). */
  readonly infoMissing = new Set<string>();
  /** Connectors the status listing leaves out (no status: created while their start() blocks). */
  readonly statusless = new Set<string>();
  /** Connectors whose info listing member is this instead of `{"info":…}` (a wrong shape), given its well-formed member. */
  readonly infoBroken = new Map<string, (member: Record<string, unknown>) => unknown>();

  constructor(base = URL_, prefix = '') {
    nock(base)
      .persist()
      .get(`${prefix}/`)
      .reply(() => {
        this.gets.push('/');
        return [200, ROOT];
      })
      .get(`${prefix}${LISTING}`)
      .reply(() => {
        this.gets.push(LISTING);
        const listed = [...this.connectors].filter(([name]) => !this.statusless.has(name));
        return [200, Object.fromEntries(listed.map(([name, c]) => [name, { status: this.status(name, c) }]))];
      })
      .get(`${prefix}${INFO}`)
      .reply(() => {
        this.gets.push(INFO);
        if (this.infoFailures > 0) {
          this.infoFailures--;
          return [503, { error_code: 503, message: 'Service Unavailable' }];
        }
        const listed = [...this.connectors].filter(([name]) => !this.infoMissing.has(name));
        const member = (name: string, c: WorldConnector): unknown => {
          const good = { info: this.info(name, c) };
          const broken = this.infoBroken.get(name);
          return broken === undefined ? good : broken(good);
        };
        return [200, Object.fromEntries(listed.map(([name, c]) => [name, member(name, c)]))];
      });
  }

  add(name: string, c: Partial<WorldConnector> = {}): this {
    this.connectors.set(name, { tasks: 1, tasksMax: 1, host: `${name}.db.internal`, ...c });
    return this;
  }

  /** The GETs since the last call. */
  take(): string[] {
    return this.gets.splice(0);
  }

  private status(name: string, c: WorldConnector): Record<string, unknown> {
    return { ...status(name), tasks: Array.from({ length: c.tasks }, (_, id) => ({ id, state: 'RUNNING', worker_id: '127.0.0.1:8083' })) };
  }

  private info(name: string, c: WorldConnector): Record<string, unknown> {
    const config = {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': String(c.tasksMax),
      'database.hostname': c.host,
      'database.port': '5432',
      'database.user': 'cdc',
      'database.password': `secret-of-${name}`,
      name,
    };
    return { name, config, tasks: Array.from({ length: c.tasks }, (_, task) => ({ connector: name, task })), type: 'source' };
  }
}

beforeAll(() => {
  nock.disableNetConnect();
});

/** The clock of the tests that move time (info refresh, reuse of a listing); reset before each test. */
const T0 = 1_700_000_000_000;
let clock = T0;
const now = (): number => clock;

beforeEach(() => {
  nock.cleanAll();
  clock = T0;
});

afterEach(async () => {
  nock.cleanAll();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('snapshot with expand (Connect >= 2.3)', () => {
  it('polls the statuses and the info paths it documents', () => {
    expect(LISTING_PATH).toBe(LISTING);
    expect(INFO_LISTING_PATH).toBe(INFO);
    expect(DEFAULT_INFO_REFRESH_MS).toBe(5 * 60_000);
  });

  it('reads the whole cluster, with the version, from the real bodies: statuses and info on the first poll', async () => {
    const scope = nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, expandOnly('status')).get(INFO).reply(200, expandOnly('info'));
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

  it('reads with the longest timeout the config takes (2^31 − 1 ms): its deadline is held to what a timer keeps', async () => {
    const scope = nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, expandOnly('status')).get(INFO).reply(200, expandOnly('info'));
    const snap = await client({ timeout: 2 ** 31 - 1 }).snapshot();
    expect(scope.isDone()).toBe(true);
    expect(snap.version).toBe('4.3.1');
  });

  it('gives the same snapshots, keys in the same order, as one body with both expansions', async () => {
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).twice().reply(200, expandOnly('status')).get(INFO).reply(200, expandOnly('info'));
    const listing = parseListing(fixture('connectors-expand-status-info-mixed.json'));
    if (listing.kind !== 'expanded') throw new Error('expected an expanded listing');
    const c = client();
    expect(JSON.stringify((await c.snapshot()).connectors)).toBe(JSON.stringify(listing.connectors));
    expect(JSON.stringify((await c.snapshot()).connectors)).toBe(JSON.stringify(listing.connectors));
  });

  it('keeps no password anywhere in the snapshot or the log', async () => {
    const { logger, lines } = capture();
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).twice().reply(200, expandOnly('status')).get(INFO).reply(200, expandOnly('info'));
    const c = client({}, { logger });
    const text = [JSON.stringify(await c.snapshot()), JSON.stringify(await c.snapshot()), ...lines].join('\n');
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

  it('still polls when GET / fails; then reads it in the background, without holding a poll back for it', async () => {
    nock(URL_)
      .get('/')
      .reply(500, { error_code: 500, message: 'boom' })
      .get(LISTING)
      .reply(200, {})
      .get('/')
      .delay(300) // a root that answers slowly (or hangs until the deadline)
      .reply(200, ROOT)
      .get(LISTING)
      .times(2)
      .reply(200, {});
    const c = client();
    const first = await c.snapshot();
    expect(first.version).toBeUndefined();
    expect('version' in first).toBe(false);
    // Waited for, the slow root would have given this snapshot its version.
    expect((await c.snapshot()).version).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
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
    ['state "BOGUS"', { status: { ...status('x'), tasks: [{ id: 0, state: 'BOGUS', worker_id: 'w' }] } }, 'connectors["x"].status.tasks[0].state'],
    ['tasks not an array', { status: { ...status('x'), tasks: 'none' } }, 'connectors["x"].status.tasks'],
    ['connector state missing', { status: { ...status('x'), connector: { worker_id: 'w' } } }, 'connectors["x"].status.connector.state'],
  ])('a connector whose status has a wrong shape (%s) is unreadable, naming the path; the others are read', async (_what, entry, field) => {
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, { x: entry, y: { status: status('y') } }).get(INFO).reply(200, {});
    const snap = await client().snapshot();
    expect(snap.connectors.map((c) => c.name)).toEqual(['y']);
    expect(snap.unreadable).toHaveLength(1);
    expect(snap.unreadable?.[0]).toMatchObject({ name: 'x' });
    expect(snap.unreadable?.[0]?.problem.startsWith(`${field}: `)).toBe(true);
  });

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['{} (the others have a status)', '{}'],
  ])('a listing member that is %s makes that connector unreadable, not the poll fail', async (_what, member) => {
    const body = `{"x":${member},"y":${JSON.stringify({ status: status('y') })}}`;
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).times(2).reply(200, body, { 'content-type': 'application/json' }).get(INFO).reply(200, {});
    const c = client();
    for (let poll = 0; poll < 2; poll++) {
      const snap = await c.snapshot();
      expect(snap.connectors.map((x) => x.name)).toEqual(['y']);
      expect(snap.unreadable).toEqual([{ name: 'x', problem: expect.stringMatching(/^connectors\["x"\]/) }]);
    }
  });

  it('a snapshot where every status reads has no unreadable field', async () => {
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, { y: { status: status('y') } }).get(INFO).reply(200, {});
    expect(await client().snapshot()).not.toHaveProperty('unreadable');
  });

  it('prefixes the path of a cluster URL behind a proxy', async () => {
    const world = new World(URL_, '/kc').add('a');
    const snap = await client({ url: `${URL_}/kc` }).snapshot();
    expect(snap.connectors).toMatchObject([{ name: 'a', tasksMax: 1, endpoint: { host: 'a.db.internal', port: 5432 } }]);
    expect(world.take().sort()).toEqual(['/', INFO, LISTING]);
  });
});

describe('connector info, cached between polls', () => {
  it('in steady state a poll is one request (the statuses); the info is read on the first poll only', async () => {
    const world = new World().add('a').add('b', { tasks: 3, tasksMax: 3 }).add('c');
    const c = client({}, { now });
    const first = await c.snapshot();
    expect(world.take().sort()).toEqual(['/', INFO, LISTING]);
    for (let i = 0; i < 5; i++) {
      clock += 10_000;
      const next = await c.snapshot();
      expect(world.take()).toEqual([LISTING]);
      expect(next.connectors).toEqual(first.connectors);
    }
    expect(first.connectors.find((x) => x.name === 'b')).toEqual({
      name: 'b',
      type: 'sink',
      state: 'RUNNING',
      workerId: '127.0.0.1:8083',
      tasks: [0, 1, 2].map((id) => ({ id, state: 'RUNNING', workerId: '127.0.0.1:8083' })),
      tasksMax: 3,
      connectorClass: 'io.debezium.connector.postgresql.PostgresConnector',
      endpoint: { host: 'b.db.internal', port: 5432 },
    });
  });

  it('an empty cluster reads the info on the first poll and every infoRefresh, as any other (a connector without a status is listed there only)', async () => {
    const world = new World();
    const c = client({}, { now });
    expect((await c.snapshot()).connectors).toEqual([]);
    expect(world.take().sort()).toEqual(['/', INFO, LISTING]);
    clock += DEFAULT_INFO_REFRESH_MS - 1;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING]);
    clock += 1;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
  });

  it('a new connector costs one expand=info request, on the poll that first lists it', async () => {
    const world = new World().add('a');
    const c = client({}, { now });
    await c.snapshot();
    world.take();
    world.add('new', { host: 'new.db.internal' });
    const snap = await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
    expect(snap.connectors.find((x) => x.name === 'new')).toMatchObject({ tasksMax: 1, endpoint: { host: 'new.db.internal', port: 5432 } });
    await c.snapshot();
    expect(world.take()).toEqual([LISTING]);
  });

  it('reads the info again every infoRefresh (5 min by default): a changed config shows then', async () => {
    const world = new World().add('a', { host: 'old.db.internal' });
    const c = client({}, { now });
    await c.snapshot();
    world.take();
    world.connectors.get('a')!.host = 'new.db.internal';
    clock += DEFAULT_INFO_REFRESH_MS - 1;
    expect((await c.snapshot()).connectors[0]?.endpoint?.host).toBe('old.db.internal');
    expect(world.take()).toEqual([LISTING]);
    clock += 1;
    expect((await c.snapshot()).connectors[0]?.endpoint?.host).toBe('new.db.internal');
    expect(world.take()).toEqual([LISTING, INFO]);
    // The interval starts again from that read.
    clock += DEFAULT_INFO_REFRESH_MS - 1;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING]);
  });

  it('takes infoRefresh as an option, and reads again when the clock went back', async () => {
    const world = new World().add('a');
    const c = client({}, { now, infoRefresh: 60_000 });
    await c.snapshot();
    world.take();
    clock += 59_999;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING]);
    clock += 1;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
    clock -= 1;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
  });

  it('a status with a task beyond the cached tasks.max reads the info again, once', async () => {
    const world = new World().add('a', { tasks: 2, tasksMax: 2 });
    const c = client({}, { now });
    await c.snapshot();
    world.take();
    // tasks.max raised to 4: the worker runs 4 tasks.
    Object.assign(world.connectors.get('a')!, { tasks: 4, tasksMax: 4 });
    expect((await c.snapshot()).connectors[0]).toMatchObject({ tasksMax: 4, tasks: [{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }] });
    expect(world.take()).toEqual([LISTING, INFO]);
    // tasks.max lowered to 2, but the status still lists 4 tasks: the info says 2 once read, and is not read again every poll.
    world.connectors.get('a')!.tasksMax = 2;
    clock += DEFAULT_INFO_REFRESH_MS;
    expect((await c.snapshot()).connectors[0]?.tasksMax).toBe(2);
    expect(world.take()).toEqual([LISTING, INFO]);
    clock += 10_000;
    expect((await c.snapshot()).connectors[0]?.tasksMax).toBe(2);
    expect(world.take()).toEqual([LISTING]);
    // One more task than ever seen: read again.
    world.connectors.get('a')!.tasks = 5;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
  });

  it('forgets a deleted connector: re-created under its name, its info is read again', async () => {
    const world = new World().add('a').add('b', { host: 'first.db.internal' });
    const c = client({}, { now });
    await c.snapshot();
    world.take();
    world.connectors.delete('b');
    expect((await c.snapshot()).connectors.map((x) => x.name)).toEqual(['a']);
    expect(world.take()).toEqual([LISTING]);
    world.add('b', { host: 'second.db.internal' });
    expect((await c.snapshot()).connectors.find((x) => x.name === 'b')?.endpoint?.host).toBe('second.db.internal');
    expect(world.take()).toEqual([LISTING, INFO]);
  });

  it('a connector the info listing leaves out (deleted in between) gets no info and no read every poll', async () => {
    const world = new World().add('a').add('b');
    world.infoMissing.add('b');
    const c = client({}, { now });
    const snap = await c.snapshot();
    expect(snap.connectors.find((x) => x.name === 'a')).toHaveProperty('tasksMax', 1);
    expect(snap.connectors.find((x) => x.name === 'b')).not.toHaveProperty('tasksMax');
    world.take();
    await c.snapshot();
    expect(world.take()).toEqual([LISTING]);
  });

  it('a failed info read does not fail the poll: no info yet, warned without secrets, read again next poll', async () => {
    const { logger, lines } = capture();
    const world = new World().add('a').add('b');
    world.infoFailures = 1;
    const c = client({}, { now, logger });
    const first = await c.snapshot();
    expect(first.version).toBe('4.3.1');
    expect(first.connectors.map((x) => x.name)).toEqual(['a', 'b']);
    for (const x of first.connectors) {
      expect(x).not.toHaveProperty('tasksMax');
      expect(x).not.toHaveProperty('endpoint');
    }
    expect(world.take().sort()).toEqual(['/', INFO, LISTING]);
    const warns = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ cluster: 'c1', code: 'HTTP', status: 503 });
    expect(lines.join('\n')).not.toContain('secret-of-');
    clock += 10_000;
    const second = await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
    expect(second.connectors[0]).toMatchObject({ tasksMax: 1, endpoint: { host: 'a.db.internal', port: 5432 } });
  });

  /** A poll of one connector whose info read gets `answer`: its snapshot and the first warning logged. */
  async function pollWithInfo(answer: (info: nock.Interceptor) => nock.Scope): Promise<{ snap: ClusterSnapshot; warn: Record<string, unknown> | undefined }> {
    const { logger, lines } = capture();
    answer(nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, { a: { status: status('a') } }).get(INFO));
    const snap = await client({}, { logger }).snapshot();
    return { snap, warn: lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 40) };
  }

  it('a failed info read of the socket (not of a response) is logged with its message: the only place that says why (e.g. a TLS alert)', async () => {
    const { snap, warn } = await pollWithInfo((info) => info.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    expect(snap.connectors).toMatchObject([{ name: 'a' }]);
    expect(warn).toMatchObject({ code: 'NETWORK', err: `GET ${INFO} on cluster c1: ECONNRESET: socket hang up` });
  });

  it('a failed refresh keeps the info last read, and the next poll reads it again', async () => {
    const world = new World().add('a', { host: 'old.db.internal' });
    const c = client({}, { now });
    await c.snapshot();
    world.take();
    world.connectors.get('a')!.host = 'new.db.internal';
    world.infoFailures = 1;
    clock += DEFAULT_INFO_REFRESH_MS;
    expect((await c.snapshot()).connectors[0]).toMatchObject({ tasksMax: 1, endpoint: { host: 'old.db.internal' } });
    expect(world.take()).toEqual([LISTING, INFO]);
    clock += 10_000;
    expect((await c.snapshot()).connectors[0]?.endpoint?.host).toBe('new.db.internal');
    expect(world.take()).toEqual([LISTING, INFO]);
  });

  it('a truncated info body does not fail the poll, and nothing of the config reaches the log', async () => {
    const { logger, lines } = capture();
    const full = JSON.stringify(expandOnly('info'));
    const cut = full.slice(0, full.indexOf('"database.password":"e2e_cdc"') + '"database.password":"e2e_c'.length);
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, expandOnly('status')).get(INFO).reply(200, cut);
    const snap = await client({}, { logger }).snapshot();
    expect(snap.connectors).toHaveLength(6);
    expect(snap.connectors[0]).not.toHaveProperty('tasksMax');
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 40);
    expect(warn).toMatchObject({ code: 'BAD_BODY', status: 200 });
    expect(lines.join('\n')).not.toContain('e2e_c');
  });

  it('an info body that is no object of members does not fail the poll either', async () => {
    const { snap, warn } = await pollWithInfo((info) => info.reply(200, ['a']));
    expect(snap.connectors).toMatchObject([{ name: 'a' }]);
    expect(warn).toMatchObject({ code: 'BAD_BODY', field: 'connectors' });
  });

  /** Ways one member of the info listing can be wrongly shaped, each quoting the connector's password where it can. */
  const BROKEN_MEMBERS: readonly (readonly [string, (good: Record<string, unknown>) => unknown])[] = [
    ['null', () => null],
    ['an array', (good) => [good]],
    ['a number', () => 7],
    ['an info that is a string', (good) => ({ info: JSON.stringify(good['info']) })],
    ['a config that is not an object', (good) => ({ info: { ...(good['info'] as object), config: Object.entries((good['info'] as { config: object }).config).map(([k, v]) => `${k}=${String(v)}`) } })],
    ['an info without a config', (good) => ({ info: { ...(good['info'] as object), config: undefined } })],
  ];

  for (const [what, broken] of BROKEN_MEMBERS) {
    it(`one member that is ${what} leaves the others' info to update: that connector keeps the info last read`, async () => {
      const { logger, lines } = capture();
      const world = new World().add('a', { host: 'old-a.db.internal' }).add('b', { host: 'old-b.db.internal' }).add('c', { host: 'old-c.db.internal' });
      const c = client({}, { now, logger });
      await c.snapshot();
      world.take();
      for (const name of ['a', 'b', 'c']) Object.assign(world.connectors.get(name)!, { host: `new-${name}.db.internal`, tasksMax: 2 });
      world.infoBroken.set('b', broken);
      clock += DEFAULT_INFO_REFRESH_MS;
      const snap = await c.snapshot();
      expect(world.take()).toEqual([LISTING, INFO]);
      expect(snap.connectors.map((x) => [x.name, x.tasksMax, x.endpoint?.host])).toEqual([
        ['a', 2, 'new-a.db.internal'],
        ['b', 1, 'old-b.db.internal'],
        ['c', 2, 'new-c.db.internal'],
      ]);
      // Not read again every poll for it: at the next refresh, as the others.
      clock += 10_000;
      await c.snapshot();
      expect(world.take()).toEqual([LISTING]);
      const warns = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 40);
      expect(warns).toEqual([expect.objectContaining({ unreadable: [{ connector: 'b', problem: expect.stringMatching(/^connectors\["b"\]/) }] })]);
      expect(lines.join('\n')).not.toMatch(/secret-of-|db\.internal/);
    });
  }

  it('a new connector whose info member is wrongly shaped gets no info, is not read every poll, and is warned once, until it reads', async () => {
    const { logger, lines } = capture();
    const world = new World().add('a');
    const c = client({}, { now, logger });
    await c.snapshot();
    world.take();
    world.add('new', { host: 'new.db.internal', tasksMax: 3 });
    world.infoBroken.set('new', () => null);
    const snap = await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
    expect(snap.connectors.find((x) => x.name === 'new')).not.toHaveProperty('tasksMax');
    expect(snap.connectors.find((x) => x.name === 'a')).toHaveProperty('tasksMax', 1);
    clock += 10_000;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING]);
    // The same body at the next refresh (parsed no more: same SHA-256) keeps it so, and does not warn again.
    clock += DEFAULT_INFO_REFRESH_MS;
    await c.snapshot();
    expect(world.take()).toEqual([LISTING, INFO]);
    const warns = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 40);
    expect(warns()).toHaveLength(1);
    // A refresh that finds it another way wrong warns again; one that reads it says so.
    world.infoBroken.set('new', () => [1]);
    clock += DEFAULT_INFO_REFRESH_MS;
    await c.snapshot();
    expect(warns()).toHaveLength(2);
    world.infoBroken.clear();
    clock += DEFAULT_INFO_REFRESH_MS;
    expect((await c.snapshot()).connectors.find((x) => x.name === 'new')).toMatchObject({ tasksMax: 3, endpoint: { host: 'new.db.internal' } });
    expect(warns()).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 30 && l['connectors'] !== undefined)).toEqual([
      expect.objectContaining({ connectors: ['new'] }),
    ]);
    expect(lines.join('\n')).not.toMatch(/secret-of-|db\.internal/);
  });

  it('a connector with no status whose info member is wrongly shaped is still found without a status', async () => {
    const world = new World().add('a').add('blocked');
    world.statusless.add('blocked');
    world.infoBroken.set('blocked', () => null);
    const c = client({}, { now });
    await c.snapshot();
    const snap = await c.snapshot();
    expect(snap.unreadable).toEqual([{ name: 'blocked', problem: NO_STATUS_PROBLEM, noStatus: true }]);
    expect(snap.connectors.find((x) => x.name === 'a')).toHaveProperty('tasksMax', 1);
  });

  it('a body that is no object of members still fails the info read whole: the info last read is kept', async () => {
    const world = new World().add('a', { host: 'old.db.internal' });
    const c = client({}, { now });
    await c.snapshot();
    nock.cleanAll();
    nock(URL_).get(LISTING).reply(200, { a: { status: status('a') } }).get(INFO).reply(200, ['a']);
    clock += DEFAULT_INFO_REFRESH_MS;
    expect((await c.snapshot()).connectors[0]).toMatchObject({ tasksMax: 1, endpoint: { host: 'old.db.internal' } });
    expect(world.take()).toEqual(['/', LISTING, INFO]);
  });

  it('the caller aborting during the info read fails the poll as ABORTED', async () => {
    const controller = new AbortController();
    nock(URL_)
      .get('/')
      .reply(200, ROOT)
      .get(LISTING)
      .reply(200, { a: { status: status('a') } })
      .get(INFO)
      .reply(() => {
        controller.abort();
        return [503, { error_code: 503, message: 'unavailable' }];
      });
    const err = await failure(client({}, { retries: 2 }).snapshot(controller.signal));
    expect(err.code).toBe('ABORTED');
  });
});

describe('connectors without a status (created while their start() blocks)', () => {
  const statusless = (snap: { unreadable?: readonly { name: string; problem: string }[] }) => (snap.unreadable ?? []).map((u) => u.name);

  it('are unreadable from the second poll that finds them in the info listing only, on a byte-identical listing, with no request more', async () => {
    const world = new World().add('a').add('blocked');
    world.statusless.add('blocked');
    const c = client({}, { now });
    const first = await c.snapshot();
    expect(first.connectors.map((x) => x.name)).toEqual(['a']);
    expect(first).not.toHaveProperty('unreadable');
    expect(world.take().sort()).toEqual(['/', INFO, LISTING]);
    clock += 10_000;
    const second = await c.snapshot();
    expect(second.connectors).toBe(first.connectors);
    expect(second.unreadable).toEqual([{ name: 'blocked', problem: NO_STATUS_PROBLEM, noStatus: true }]);
    expect(world.take()).toEqual([LISTING]);
    // Still so on the next polls, with the very same array (ClusterLoop compares it by identity).
    for (let i = 0; i < 3; i++) {
      clock += 10_000;
      const next = await c.snapshot();
      expect(next.unreadable).toBe(second.unreadable);
      expect(next.connectors).toBe(first.connectors);
    }
    expect(world.take()).toEqual([LISTING, LISTING, LISTING]);
    // An info refresh that still lists it keeps it reported, without a gap.
    clock += DEFAULT_INFO_REFRESH_MS;
    expect(statusless(await c.snapshot())).toEqual(['blocked']);
    expect(world.take()).toEqual([LISTING, INFO]);
    // Its start() returns: it is a connector like the others, its info already cached.
    world.statusless.delete('blocked');
    clock += 10_000;
    const started = await c.snapshot();
    expect(started).not.toHaveProperty('unreadable');
    expect(started.connectors.find((x) => x.name === 'blocked')).toMatchObject({ tasksMax: 1, endpoint: { host: 'blocked.db.internal', port: 5432 } });
    expect(world.take()).toEqual([LISTING]);
  });

  it('keep no config value: the problem says what to look at, and no password is anywhere in the snapshot', async () => {
    const world = new World().add('blocked');
    world.statusless.add('blocked');
    const c = client({}, { now });
    await c.snapshot();
    const snap = await c.snapshot();
    expect(snap).toMatchObject({ connectors: [], unreadable: [{ name: 'blocked', problem: expect.stringMatching(/^no status: .*start\(\).*worker log/) }] });
    expect(JSON.stringify(snap)).not.toMatch(/secret-of-|db\.internal/);
    expect(world.take().filter((g) => g === INFO)).toHaveLength(1);
  });

  it('one that has a status by the next poll (created a moment ago, or between the status and the info read) is never reported', async () => {
    const world = new World().add('a').add('new');
    world.statusless.add('new');
    const c = client({}, { now });
    expect(await c.snapshot()).not.toHaveProperty('unreadable');
    world.statusless.delete('new');
    clock += 10_000;
    const next = await c.snapshot();
    expect(next).not.toHaveProperty('unreadable');
    expect(next.connectors.map((x) => x.name)).toEqual(['a', 'new']);
    // Deleted later: it left the status listing, which makes it deleted, not statusless.
    world.connectors.delete('new');
    for (let i = 0; i < 3; i++) {
      clock += 10_000;
      expect(await c.snapshot()).not.toHaveProperty('unreadable');
    }
  });

  it('a connector that leaves the status listing but not yet the info (deleted, or deleted and re-created) is not reported before an info read lists it alone', async () => {
    const world = new World().add('a').add('b');
    const c = client({}, { now });
    await c.snapshot();
    // Re-created under its name while its start() blocks: no status any more, config again.
    world.statusless.add('b');
    for (let i = 0; i < 3; i++) {
      clock += 10_000;
      const snap = await c.snapshot();
      expect(snap).not.toHaveProperty('unreadable');
      expect(snap.connectors.map((x) => x.name)).toEqual(['a']);
    }
    expect(world.take().filter((g) => g === INFO)).toHaveLength(1);
    clock += DEFAULT_INFO_REFRESH_MS;
    expect(await c.snapshot()).not.toHaveProperty('unreadable');
    clock += 10_000;
    expect(statusless(await c.snapshot())).toEqual(['b']);
  });

  it('a statusless connector deleted is reported until the next info read, not after', async () => {
    const world = new World().add('a').add('blocked');
    world.statusless.add('blocked');
    const c = client({}, { now });
    await c.snapshot();
    clock += 10_000;
    expect(statusless(await c.snapshot())).toEqual(['blocked']);
    world.connectors.delete('blocked');
    clock += DEFAULT_INFO_REFRESH_MS - 20_000;
    expect(statusless(await c.snapshot())).toEqual(['blocked']);
    clock += 10_000;
    expect(await c.snapshot()).not.toHaveProperty('unreadable');
    expect(world.take().filter((g) => g === INFO)).toHaveLength(2);
    clock += 10_000;
    expect(await c.snapshot()).not.toHaveProperty('unreadable');
  });

  it('is found in a cluster whose only connector has no status, and kept through a failed info refresh', async () => {
    const world = new World().add('blocked');
    world.statusless.add('blocked');
    const c = client({}, { now });
    expect(await c.snapshot()).toMatchObject({ connectors: [] });
    expect(statusless(await c.snapshot())).toEqual(['blocked']);
    world.infoFailures = 1;
    clock += DEFAULT_INFO_REFRESH_MS;
    expect(statusless(await c.snapshot())).toEqual(['blocked']);
    expect(world.take().filter((g) => g === INFO)).toHaveLength(2);
  });

  it('is added after the unreadable ones of the listing, and a client that reads no info finds none', async () => {
    nock(URL_)
      .persist()
      .get('/')
      .reply(200, ROOT)
      .get(LISTING)
      .reply(200, { a: { status: status('a', 'DRAINING') } })
      .get(INFO)
      .reply(200, { a: { info: { config: { 'tasks.max': '1' } } }, blocked: { info: { config: { 'tasks.max': '1' } } } });
    const c = client({}, { now });
    await c.snapshot();
    expect((await c.snapshot()).unreadable).toEqual([
      { name: 'a', problem: expect.stringContaining('unknown state "DRAINING"') },
      { name: 'blocked', problem: NO_STATUS_PROBLEM, noStatus: true },
    ]);
    const noInfo = client({}, { now, readInfo: false });
    await noInfo.snapshot();
    expect((await noInfo.snapshot()).unreadable?.map((u) => u.name)).toEqual(['a']);
  });
});

describe('withUnlisted (a one-shot look without the info)', () => {
  it('adds what GET /connectors names and the listing left out: 404 as no status, a status read meanwhile as a connector', async () => {
    nock(URL_)
      .get('/')
      .reply(200, ROOT)
      .get(LISTING)
      .reply(200, { a: { status: status('a') } })
      .get('/connectors')
      .reply(200, ['a', 'blocked', 'started now'])
      .get('/connectors/blocked/status')
      .reply(404, { error_code: 404, message: 'No status found for connector blocked' })
      .get('/connectors/started%20now/status')
      .reply(200, status('started now'));
    const c = client({}, { readInfo: false });
    const snap = await c.withUnlisted(await c.snapshot());
    expect(snap.connectors.map((x) => x.name)).toEqual(['a', 'started now']);
    expect(snap.unreadable).toEqual([{ name: 'blocked', problem: NO_STATUS_PROBLEM, noStatus: true }]);
    expect(nock.isDone()).toBe(true);
  });

  it('answers the very snapshot when nothing is left out, and when the names cannot be read (warned)', async () => {
    const { logger, lines } = capture();
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, { a: { status: status('a') } }).get('/connectors').reply(200, ['a']);
    const c = client({}, { readInfo: false, logger });
    const snap = await c.snapshot();
    expect(await c.withUnlisted(snap)).toBe(snap);
    nock(URL_).get('/connectors').reply(503, { error_code: 503, message: 'unavailable' });
    expect(await c.withUnlisted(snap)).toBe(snap);
    nock(URL_).get('/connectors').reply(200, ['a', 'b']).get('/connectors/b/status').reply(500, { error_code: 500, message: 'boom' });
    expect(await c.withUnlisted(snap)).toBe(snap);
    const warns = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 40);
    expect(warns.map((w) => [w['code'], w['status']])).toEqual([
      ['HTTP', 503],
      ['HTTP', 500],
    ]);
  });
});

describe('a listing identical to the last one', () => {
  it('is not parsed again: the snapshot reuses the same connectors array until a byte changes', async () => {
    const world = new World().add('a').add('b', { tasks: 3, tasksMax: 3 });
    const c = client({}, { now });
    const first = (await c.snapshot()).connectors;
    clock += 10_000;
    const second = await c.snapshot();
    expect(second.connectors).toBe(first);
    expect(second.at).toBe(clock); // the snapshot itself is new
    world.connectors.get('b')!.tasks = 2;
    clock += 10_000;
    const changed = (await c.snapshot()).connectors;
    expect(changed).not.toBe(first);
    expect(changed.find((x) => x.name === 'b')?.tasks.map((t) => t.id)).toEqual([0, 1]);
    clock += 10_000;
    expect((await c.snapshot()).connectors).toBe(changed);
    expect(world.take().filter((g) => g === INFO)).toHaveLength(1);
  });

  it('is parsed again when the info is due for a refresh, and after a failed poll', async () => {
    const world = new World().add('a', { host: 'old.db.internal' });
    const c = client({}, { now });
    const first = (await c.snapshot()).connectors;
    world.connectors.get('a')!.host = 'new.db.internal';
    clock += DEFAULT_INFO_REFRESH_MS;
    const refreshed = (await c.snapshot()).connectors;
    expect(refreshed).not.toBe(first);
    expect(refreshed[0]?.endpoint?.host).toBe('new.db.internal');
    nock.cleanAll();
    nock(URL_).get(LISTING).reply(503, { error_code: 503, message: 'unavailable' });
    await failure(c.snapshot());
    const again = new World().add('a', { host: 'new.db.internal' });
    const afterFailure = (await c.snapshot()).connectors;
    expect(afterFailure).not.toBe(refreshed);
    expect(afterFailure).toEqual(refreshed);
    expect(again.take()).toContain(LISTING);
  });

  it('an info refresh that finds the same configs (same SHA-256) parses nothing and keeps the connectors array', async () => {
    const { logger, lines } = capture();
    const world = new World().add('a').add('b');
    const c = client({}, { now, logger });
    const first = (await c.snapshot()).connectors;
    clock += DEFAULT_INFO_REFRESH_MS;
    expect((await c.snapshot()).connectors).toBe(first);
    expect(world.take().filter((g) => g === INFO)).toHaveLength(2);
    const reads = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'read the connector info');
    expect(reads.map((l) => [l['reason'], l['unchanged']])).toEqual([
      ['first read', false],
      ['refresh', true],
    ]);
    // A config change after that refresh shows at the next one, on the same listing.
    world.connectors.get('b')!.host = 'moved.db.internal';
    clock += DEFAULT_INFO_REFRESH_MS;
    const moved = (await c.snapshot()).connectors;
    expect(moved).not.toBe(first);
    expect(moved.find((x) => x.name === 'b')?.endpoint?.host).toBe('moved.db.internal');
  });

  it('is not reused while a new connector still lacks its info (the info read failed)', async () => {
    const world = new World().add('a');
    world.infoFailures = 2;
    const c = client({}, { now });
    const first = (await c.snapshot()).connectors;
    const second = (await c.snapshot()).connectors;
    expect(second).not.toBe(first);
    expect(second[0]).not.toHaveProperty('tasksMax');
    const third = (await c.snapshot()).connectors;
    expect(third[0]).toHaveProperty('tasksMax', 1);
    expect((await c.snapshot()).connectors).toBe(third);
    expect(world.take().filter((g) => g === INFO)).toHaveLength(3);
  });

  it('an error answer with the same bytes as the last listing is still an error', async () => {
    const body = JSON.stringify({ a: { status: status('a') } });
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, body).get(INFO).reply(200, { a: { info: { config: { 'tasks.max': '1' } } } });
    const c = client({}, { now });
    await c.snapshot();
    nock(URL_).get(LISTING).reply(500, body);
    const err = await failure(c.snapshot());
    expect(err).toMatchObject({ code: 'HTTP', status: 500 });
  });
});

describe('a listing that changed', () => {
  it('keeps the connectors whose statuses did not change, info included, as the very same objects', async () => {
    const world = new World().add('a').add('b', { tasks: 3, tasksMax: 3 }).add('c');
    const c = client({}, { now });
    const first = (await c.snapshot()).connectors;
    world.connectors.get('b')!.tasks = 2;
    clock += 10_000;
    const second = (await c.snapshot()).connectors;
    expect(second).not.toBe(first);
    expect(second[0]).toBe(first[0]);
    expect(second[2]).toBe(first[2]);
    expect(second[1]).not.toBe(first[1]);
    expect(second[1]).toMatchObject({ name: 'b', tasksMax: 3, endpoint: { host: 'b.db.internal', port: 5432 } });
    expect(second[1]?.tasks.map((t) => t.id)).toEqual([0, 1]);
    // The info read for a new connector parses every config again: a changed one shows on its unchanged status.
    world.connectors.get('a')!.host = 'moved.db.internal';
    world.add('d');
    clock += 10_000;
    const third = (await c.snapshot()).connectors;
    expect(third[0]).not.toBe(second[0]);
    expect(third[0]?.endpoint?.host).toBe('moved.db.internal');
    expect(third.map((x) => x.name)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('writes each changed listing over the memory of the one before the last, and reads every one right', async () => {
    const take = vi.spyOn(BodyBuffers.prototype, 'take');
    const world = new World().add('a').add('b', { tasks: 2, tasksMax: 4 }).add('c');
    const c = client({}, { now });
    const random = seeded(9);
    for (let poll = 0; poll < 24; poll += 1) {
      const r = random();
      const names = [...world.connectors.keys()];
      const name = names[Math.floor(random() * names.length)] as string;
      if (r < 0.4) world.connectors.get(name)!.tasks = 1 + Math.floor(random() * 4);
      else if (r < 0.55 && names.length > 1) world.connectors.delete(name);
      else if (r < 0.7) world.add(`n${poll}`);
      clock += 10_000;
      const got = (await c.snapshot()).connectors;
      const fresh = (await client({}, { now }).snapshot()).connectors;
      expect(got, `poll ${poll}`).toEqual(fresh);
    }
    const memories = take.mock.results.map((t) => (t.value as Buffer).buffer);
    expect(new Set(memories).size).toBeLessThan(memories.length - 5);
    take.mockRestore();
  });

  it('a changed connector with a wrong shape is unreadable as on a first read, keeps its cached info, and reads again', async () => {
    const good = { a: { status: status('a') }, b: { status: status('b') } };
    const bad = { a: { status: status('a') }, b: { status: { ...status('b'), name: 'x' } } };
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, good).get(INFO).reply(200, { a: { info: { config: {} } }, b: { info: { config: { 'tasks.max': '3' } } } });
    const c = client({}, { now });
    await c.snapshot();
    nock(URL_).get(LISTING).reply(200, bad);
    const changed = await c.snapshot();
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, bad).get(INFO).reply(200, {});
    const fresh = await client({}, { now }).snapshot();
    expect(changed.unreadable).toEqual([{ name: 'b', problem: 'connectors["b"].status.name: does not match the connector it is listed under' }]);
    expect(changed.unreadable).toEqual(fresh.unreadable);
    expect(changed.connectors.map((x) => x.name)).toEqual(['a']);
    // Unchanged bytes: the same snapshot parts, unreadable included.
    nock(URL_).get(LISTING).reply(200, bad);
    const again = await c.snapshot();
    expect(again.connectors).toBe(changed.connectors);
    expect(again.unreadable).toBe(changed.unreadable);
    // Read again: its info was kept, so no info request is needed.
    nock(URL_).get(LISTING).reply(200, good);
    const healed = await c.snapshot();
    expect(healed).not.toHaveProperty('unreadable');
    expect(healed.connectors.find((x) => x.name === 'b')?.tasksMax).toBe(3);
  });
});

describe('snapshot fallback for workers that ignore expand (< 2.3)', () => {
  it('reads the answer of a real 2.2.2 worker to ?expand=status as a names-only listing', async () => {
    const body = fixture('connectors-expand-ignored-names-only-connect-2.2.2.json');
    expect(parseListing(body)).toEqual({ kind: 'names', names: ['sink-serial', 'sink-nodir', 'src-text', 'src-badtopic', 'src-connfail', 'src-both'] });
    const both = fixture('status-failed-connector-and-task-filestream-source-connect-2.8.2.json');
    const scope = nock(URL_).get('/').reply(200, { version: '2.2.2' }).get(LISTING).reply(200, body as nock.Body);
    for (const name of body as string[]) scope.get(`/connectors/${name}/status`).reply(200, name === 'src-both' ? (both as nock.Body) : status(name));
    const snap = await client({}, { statusConcurrency: 2 }).snapshot();
    expect(scope.isDone()).toBe(true);
    const c = snap.connectors.find((x) => x.name === 'src-both');
    expect(c).toMatchObject({ state: 'FAILED', tasks: [{ id: 0, state: 'FAILED' }] });
    expect(c?.trace).toMatch(/^org\.apache\.kafka\.common\.config\.ConfigException: 'topic' in FileStreamSourceConnector/);
  });

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

  it('reads a name the plain array lists twice once: a snapshot names each connector once', async () => {
    // Found by test/connect/shapes-properties.test.ts: the policy and the metrics key connectors by name.
    const scope = nock(URL_).get('/').reply(200, { version: '2.2.2' }).get(LISTING).reply(200, ['a', 'b', 'a']);
    scope.get('/connectors/a/status').reply(200, status('a')).get('/connectors/b/status').reply(200, status('b'));
    const snap = await client().snapshot();
    expect(snap.connectors.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('reads a status that names another connector than the one asked for as unreadable, as the expand listing does', async () => {
    const scope = nock(URL_).get('/').reply(200, { version: '2.2.2' }).get(LISTING).reply(200, ['a', 'b']);
    scope.get('/connectors/a/status').reply(200, status('b')).get('/connectors/b/status').reply(200, status('b'));
    const snap = await client().snapshot();
    expect(snap.connectors.map((c) => c.name)).toEqual(['b']);
    expect(snap.unreadable).toEqual([{ name: 'a', problem: expect.stringContaining('status.name') }]);
  });

  it('reads a status of the wrong shape as unreadable and the others as connectors', async () => {
    nock(URL_)
      .get('/')
      .reply(200, { version: '2.2.2' })
      .get(LISTING)
      .reply(200, ['a', 'b'])
      .get('/connectors/a/status')
      .reply(200, { ...status('a'), connector: { state: 'DRAINING', worker_id: 'w' } })
      .get('/connectors/b/status')
      .reply(200, status('b'));
    const snap = await client({}, { statusConcurrency: 1 }).snapshot();
    expect(snap.connectors.map((c) => c.name)).toEqual(['b']);
    expect(snap.unreadable).toEqual([{ name: 'a', problem: expect.stringMatching(/^status\.connector\.state: unknown state "DRAINING"/) as unknown }]);
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
      .get('/connectors/pg-pwrot/status')
      .reply(200, fixtureText('status-failed-auth-password-rotated-debezium-postgres.json'))
      .get('/connectors/pg-badpw/status')
      .reply(404, fixtureText('status-404-unknown-connector.json'));
    const c = client();
    const s = await c.status('pg-pwrot');
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

describe('offsets (GET /connectors/{name}/offsets, Connect >= 3.5)', () => {
  const body = (lsn: number, extra: Record<string, unknown> = {}) => ({
    offsets: [{ partition: { server: 'shop' }, offset: { lsn_proc: lsn, lsn_commit: lsn, lsn, txId: 812, ts_usec: 1_764_880_000_000_000, ...extra } }],
  });

  it('answers a digest that is the same while the offsets are, whatever the order of keys and partitions', async () => {
    const twoPartitions = (a: number, b: number, reversed = false) => {
      const entries = [
        { partition: { filename: '/in/a.txt' }, offset: { position: a } },
        { partition: { filename: '/in/b.txt' }, offset: { position: b } },
      ];
      return { offsets: reversed ? entries.reverse() : entries };
    };
    nock(URL_)
      .get('/connectors/pg/offsets').reply(200, body(100))
      .get('/connectors/pg/offsets').reply(200, { offsets: [{ offset: { ts_usec: 1_764_880_000_000_000, txId: 812, lsn: 100, lsn_commit: 100, lsn_proc: 100 }, partition: { server: 'shop' } }] })
      .get('/connectors/pg/offsets').reply(200, body(101))
      .get('/connectors/files/offsets').reply(200, twoPartitions(1, 2))
      .get('/connectors/files/offsets').reply(200, twoPartitions(1, 2, true))
      .get('/connectors/files/offsets').reply(200, twoPartitions(2, 1));
    const c = client();
    const [a, sameReordered, moved] = [await c.offsets('pg'), await c.offsets('pg'), await c.offsets('pg')];
    expect(a).toEqual({ digest: expect.stringMatching(/^[\w-]{22}$/) });
    expect(sameReordered).toEqual(a);
    expect(moved).not.toEqual(a);
    const [f1, f2, f3] = [await c.offsets('files'), await c.offsets('files'), await c.offsets('files')];
    expect(f2).toEqual(f1);
    expect(f3).not.toEqual(f1);
  });

  it('answers gone on a 404 that names the connector, unsupported on Jersey\'s own 404 (a worker before 3.5)', async () => {
    nock(URL_)
      .get('/connectors/pg/offsets').reply(404, { error_code: 404, message: 'Connector pg not found' })
      .get('/connectors/pg/offsets').reply(404, { error_code: 404, message: 'HTTP 404 Not Found' });
    const c = client();
    expect(await c.offsets('pg')).toBe('gone');
    expect(await c.offsets('pg')).toBe('unsupported');
  });

  it('a body without the offsets list is BAD_BODY naming the field, never the offsets', async () => {
    nock(URL_)
      .get('/connectors/pg/offsets').reply(200, { offset: [] })
      .get('/connectors/pg/offsets').reply(200, { offsets: [{ offset: { lsn: 1 } }] });
    const c = client();
    expect(await failure(c.offsets('pg'))).toMatchObject({ code: 'BAD_BODY', field: 'offsets' });
    expect(await failure(c.offsets('pg'))).toMatchObject({ code: 'BAD_BODY', field: 'offsets[0].partition' });
  });

  it('an offset nested deeper than any Connect writes is BAD_BODY, not a RangeError', async () => {
    // Found by fuzzing (shapes-properties): the digest's canonical form recursed once per level.
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    nock(URL_).get('/connectors/pg/offsets').reply(200, `{"offsets":[{"partition":{"server":"shop"},"offset":{"lsn":${deep}}}]}`, { 'content-type': 'application/json' });
    expect(await failure(client().offsets('pg'))).toMatchObject({ code: 'BAD_BODY', field: 'offsets[0]' });
  });

  it('retries a 5xx like any read', async () => {
    nock(URL_)
      .get('/connectors/pg/offsets').reply(500, { error_code: 500, message: 'Request timed out' })
      .get('/connectors/pg/offsets').reply(200, body(7));
    expect(await client({}, { retries: 1 }).offsets('pg')).toEqual({ digest: expect.any(String) });
  });
});

describe('truncated bodies', () => {
  it('a truncated status listing is BAD_BODY with an excerpt that masks values', async () => {
    const full = JSON.stringify(expandOnly('status'));
    const cut = full.slice(0, full.indexOf('Publication autocreation is disabled') + 'Publication auto'.length);
    nock(URL_).get('/').reply(200, ROOT).get(LISTING).reply(200, cut);
    const err = await failure(client().snapshot());
    expect(err.code).toBe('BAD_BODY');
    expect(err.message).toMatch(/truncated JSON/);
    expect(err.message).toContain('{"pg-nopub":{"status":');
    expect(err.message).not.toContain('Publication auto');
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

  it('a 202 whose body does not read is accepted all the same: what was wrong with it, none of it (another 2xx is an error)', async () => {
    const path = '/connectors/pg-orders/restart?includeTasks=true&onlyFailed=true';
    const good = fixtureText('restart-includeTasks-onlyFailed-202-response.json');
    nock(URL_)
      .post(path)
      .reply(202, good.slice(0, 100), { 'content-type': 'application/json' })
      .post(path)
      .reply(202, 'Accepted', { 'content-type': 'text/plain' })
      .post(path)
      .reply(202, { name: 'pg-orders', connector: { state: 'DRAINING' }, tasks: [] })
      .post(path)
      .reply(200, good.slice(0, 100), { 'content-type': 'application/json' });
    const c = client();
    const flags = { includeTasks: true, onlyFailed: true };
    expect(await c.restartConnector('pg-orders', flags)).toEqual({ status: 202, unreadable: { problem: 'invalid or truncated JSON', bodyChars: 100 } });
    expect(await c.restartConnector('pg-orders', flags)).toEqual({ status: 202, unreadable: { problem: 'not JSON', bodyChars: 8 } });
    expect(await c.restartConnector('pg-orders', flags)).toEqual({ status: 202, unreadable: { problem: 'unexpected shape', bodyChars: expect.any(Number), field: 'restart.connector.state', name: 'pg-orders' } });
    expect(await failure(c.restartConnector('pg-orders', flags))).toMatchObject({ code: 'BAD_BODY', status: 200 });
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
    // Connect's task ids are Java ints: `/tasks/1e+308/restart` is no request to send.
    await expect(client().restartTask('a', 1e308)).rejects.toBeInstanceOf(RangeError);
    await expect(client().restartTask('a', 2 ** 31)).rejects.toBeInstanceOf(RangeError);
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

  it('reads the real worker\'s 401 (BasicAuthSecurityRestExtension: plain text sent as application/json) as HTTP 401, not retried', async () => {
    const real = fixture('real-tls-401-basic-auth-rejected-exchange.json') as { status: number; headers: Record<string, string>; body: string };
    const scope = nock(URL_)
      .get('/connectors/a/status')
      .reply(real.status, real.body, real.headers)
      .post('/connectors/a/tasks/0/restart')
      .reply(real.status, real.body, real.headers);
    const c = client({ username: 'watchdog', password: 'wrong' }, { retries: 2 });
    for (const err of [await failure(c.status('a')), await failure(c.restartTask('a', 0))]) {
      expect(err).toMatchObject({ code: 'HTTP', status: 401 });
      expect(err.message).toMatch(/: HTTP 401: User cannot access the resource\. \(the worker refused the user name and password: check username and password\)$/);
    }
    expect(scope.isDone()).toBe(true); // one request each: a 401 is not retried
  });

  it('says which credentials a 401 refused: a token, or none configured', async () => {
    nock(URL_).get('/connectors/a/status').twice().reply(401, 'User cannot access the resource.');
    expect((await failure(client({ token: 't0ken' }).status('a'))).message).toMatch(/\(the worker refused the token: check token\)$/);
    expect((await failure(client({}).status('a'))).message).toMatch(/\(the worker requires credentials: none are configured \(username and password, or token\)\)$/);
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

  it('masks its own password or token when an answer echoes it (an auth proxy\'s error page, a gateway\'s 401)', async () => {
    nock(URL_)
      .get('/connectors/a/status')
      .reply(401, { error_code: 401, message: 'Invalid credentials ops:Zq8pLmN4x (Zq8pLmN4x)' })
      .get('/connectors/a/status')
      .reply(502, '<html><body>upstream refused ops using Zq8pLmN4x</body></html>', { 'content-type': 'text/html' })
      .get('/connectors/a/status')
      .reply(403, 'token AbCd0123tokenvalue not allowed')
      .get('/connectors/a/status')
      .reply(200, 'rejected p%40ss word and p@ss word', { 'content-type': 'text/plain' });
    const basic = client({ username: 'ops', password: 'Zq8pLmN4x' });
    const json = await failure(basic.status('a'));
    expect(json.message).toMatch(/: HTTP 401: Invalid credentials ops:\*\*\* \(\*\*\*\) \(the worker refused/);
    expect(json.connectMessage).toBe('Invalid credentials ops:*** (***)');
    expect((await failure(basic.status('a'))).message).toMatch(/upstream refused ops using \*\*\*</);
    expect((await failure(client({ token: 'AbCd0123tokenvalue' }).status('a'))).message).toMatch(/: HTTP 403: token \*\*\* not allowed$/);
    // User info in the URL: the password as written (percent-encoded) and as sent.
    const fromUrl = await failure(client({ url: 'http://ops:p%40ss@connect.test:8083' }).status('a'));
    expect(fromUrl.message).toMatch(/expected JSON, got: rejected \*\*\* word and \*\*\* word$/);
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

describe('health (GET /health, Connect >= 3.9)', () => {
  it('reads what the worker says of itself: healthy, and unhealthy with the herder\'s stage (a real 4.3.1 worker in a broker outage)', async () => {
    nock(URL_)
      .get('/health').reply(200, fixtureText('health-200.json'), { 'content-type': 'application/json' })
      .get('/health').reply(500, fixtureText('real-broker-health-500-stopping-tasks.json'), { 'content-type': 'application/json' });
    const c = client();
    expect(await c.health()).toEqual({ status: 'healthy', message: 'Worker has completed startup and is ready to handle requests.' });
    expect(await c.health()).toEqual({ status: 'unhealthy', message: expect.stringContaining('The worker is currently stopping 3 and 3 tasks') });
  });

  it('a 503 is starting, a body that is not Connect\'s goes by the HTTP status, a 404 (before 3.9) is no answer at all', async () => {
    nock(URL_)
      .get('/health').reply(503, { status: 'starting', message: 'Worker is still starting up.' })
      .get('/health').reply(500, '<html>proxy error</html>', { 'content-type': 'text/html' })
      .get('/health').reply(200, '')
      .get('/health').reply(404, { error_code: 404, message: 'HTTP 404 Not Found' });
    const c = client();
    expect(await c.health()).toEqual({ status: 'starting', message: 'Worker is still starting up.' });
    expect(await c.health()).toEqual({ status: 'unhealthy', message: 'HTTP 500' });
    expect(await c.health()).toEqual({ status: 'healthy', message: 'HTTP 200' });
    expect(await c.health()).toBeUndefined();
  });

  it('a 404 that is not Jersey\'s (Jetty\'s HTML page, as a starting 3.9+ worker answers every path) is no "before 3.9": it throws like any read', async () => {
    const jetty = '<html>\n<head>\n<title>Error 404 Not Found</title>\n</head>\n<body><h2>HTTP ERROR 404 Not Found</h2></body>\n</html>\n';
    nock(URL_).get('/health').reply(404, jetty, { 'content-type': 'text/html;charset=iso-8859-1' });
    expect(await failure(client().health())).toMatchObject({ code: 'BAD_BODY', status: 404 });
  });

  it('is not retried, and an error status other than 500 and 503 throws like any read', async () => {
    nock(URL_).get('/health').reply(401, { error_code: 401, message: 'Unauthorized' });
    expect(await failure(client({}, { retries: 2 }).health())).toMatchObject({ code: 'HTTP', status: 401 });
    expect(nock.isDone()).toBe(true);
  });
});
