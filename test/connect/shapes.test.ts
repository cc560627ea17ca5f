import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/connect/errors.js';
import { parseInfo, parseInfoListing, parseListing, parseHealth, parseNames, parseRestartBody, parseStatus, parseVersion } from '../../src/connect/shapes.js';
import { expandOnly, expandPasswords, fixture, fixtureNames } from './fixtures.js';

function shapeError(fn: () => unknown): ShapeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShapeError) return err;
    throw err;
  }
  throw new Error('expected a ShapeError');
}

const running = (): Record<string, unknown> => fixture('status-running-debezium-postgres.json') as Record<string, unknown>;

describe('status bodies', () => {
  it('parses a FAILED task with its trace (real body)', () => {
    const s = parseStatus(fixture('status-failed-connection-terminated-backend-debezium-postgres.json'));
    expect(s.name).toBe('pg-orders');
    expect(s.type).toBe('source');
    expect(s.state).toBe('RUNNING');
    expect(s.workerId).toBe('127.0.0.1:8083');
    expect(s.trace).toBeUndefined();
    expect(s.tasks).toHaveLength(1);
    expect(s.tasks[0]).toMatchObject({ id: 0, state: 'FAILED', workerId: '127.0.0.1:8083' });
    expect(s.tasks[0]?.trace).toMatch(/^org\.apache\.kafka\.connect\.errors\.ConnectException/);
    expect(s.tasks[0]?.trace).toContain('Caused by: org.postgresql.util.PSQLException');
  });

  it('parses every real status body captured from the worker', () => {
    const statuses = fixtureNames().filter((f) => f.startsWith('status-') && !f.startsWith('status-404'));
    expect(statuses.length).toBeGreaterThan(10);
    for (const f of statuses) expect(() => parseStatus(fixture(f)), f).not.toThrow();
  });

  it('parses the status bodies of the Connect lifecycle tried on the real worker (real-life-*)', () => {
    const read = (f: string) => parseStatus(fixture(`real-life-${f}.json`));
    expect(read('status-running-no-tasks-right-after-resume-debezium-postgres')).toMatchObject({ state: 'RUNNING', tasks: [] });
    expect(read('status-stopped-task-still-listed-right-after-stop-debezium-postgres')).toMatchObject({ state: 'STOPPED', tasks: [{ id: 0, state: 'RUNNING' }] });
    expect(read('status-connector-stuck-restarting-start-blocks-lab-source')).toMatchObject({ state: 'RESTARTING', tasks: [] });
    expect(read('status-failed-too-many-tasks-lab-source')).toMatchObject({ state: 'FAILED', tasks: [], trace: expect.stringMatching(/^org\.apache\.kafka\.connect\.runtime\.TooManyTasksException/) });
    expect(read('status-connector-failed-after-put-config-old-tasks-running-lab-source')).toMatchObject({ state: 'FAILED', tasks: [{ state: 'RUNNING' }, { state: 'RUNNING' }] });
    for (const f of ['restart-includeTasks-onlyFailed-202-connector-failed-in-start-no-tasks-lab-source', 'restart-includeTasks-onlyFailed-202-stopped-connector-lab-source']) {
      expect(() => read(f), f).not.toThrow();
    }
    expect(read('restart-includeTasks-onlyFailed-202-connector-failed-in-start-no-tasks-lab-source')).toMatchObject({ state: 'RESTARTING', tasks: [], trace: expect.any(String) });
  });

  it('reads STOPPED with no tasks, UNASSIGNED with a null version, and type unknown', () => {
    expect(parseStatus(fixture('status-stopped-debezium-postgres.json'))).toMatchObject({ state: 'STOPPED', tasks: [] });
    const deleted = parseStatus(fixture('status-right-after-delete-unassigned-type-unknown.json'));
    expect(deleted).toMatchObject({ state: 'UNASSIGNED', type: 'unknown' });
    const joining = parseStatus(fixture('status-task-unassigned-during-join-rebalance.json'));
    expect(joining.tasks[0]).toEqual({ id: 0, state: 'UNASSIGNED', workerId: '127.0.0.1:8083' });
  });

  it('keeps no field beyond the snapshot (the worker-side version is dropped)', () => {
    expect(Object.keys(parseStatus(running())).sort()).toEqual(['name', 'state', 'tasks', 'type', 'workerId']);
  });

  it('rejects an unknown state, naming the field', () => {
    const body = running();
    (body['tasks'] as Record<string, unknown>[])[0]!['state'] = 'BOGUS';
    const err = shapeError(() => parseStatus(body));
    expect(err.code).toBe('BAD_BODY');
    expect(err.field).toBe('status.tasks[0].state');
    expect(err.message).toContain('"BOGUS"');
  });

  it('rejects tasks that are not an array', () => {
    const body = { ...running(), tasks: { 0: {} } };
    expect(shapeError(() => parseStatus(body)).field).toBe('status.tasks');
  });

  it.each([
    [{ ...running(), connector: null }, 'status.connector'],
    [{ ...running(), name: 7 }, 'status.name'],
    [{ ...running(), connector: { state: 1, worker_id: 'w' } }, 'status.connector.state'],
    [{ ...running(), connector: { state: 'FAILED', worker_id: 'w', trace: 42 } }, 'status.connector.trace'],
    [{ ...running(), tasks: [{ id: '0', state: 'RUNNING', worker_id: 'w' }] }, 'status.tasks[0].id'],
    [{ ...running(), tasks: [{ id: 0, state: 'RUNNING', worker_id: 5 }] }, 'status.tasks[0].worker_id'],
    [{ ...running(), tasks: ['RUNNING'] }, 'status.tasks[0]'],
    [{ ...running(), type: 3 }, 'status.type'],
    ['<html>', 'status'],
    [undefined, 'status'],
  ])('rejects a wrong shape at %#', (body, field) => {
    expect(shapeError(() => parseStatus(body)).field).toBe(field);
  });

  it.each([1e308, 2 ** 31, Number.MAX_SAFE_INTEGER, -1, 1.5])('rejects task id %s: Connect\'s task ids are Java ints (0..2147483647)', (id) => {
    const body = { ...running(), tasks: [{ id, state: 'FAILED', worker_id: 'w' }] };
    const err = shapeError(() => parseStatus(body));
    expect(err.field).toBe('status.tasks[0].id');
    expect(err.message).toContain(String(id));
  });

  it('reads the highest task id Connect can give', () => {
    expect(parseStatus({ ...running(), tasks: [{ id: 2 ** 31 - 1, state: 'RUNNING', worker_id: 'w' }] }).tasks[0]?.id).toBe(2147483647);
  });

  it('rejects a task listed twice (Connect keys task statuses by id: the body cannot be trusted)', () => {
    const body = running();
    const tasks = body['tasks'] as Record<string, unknown>[];
    const err = shapeError(() => parseStatus({ ...body, tasks: [...tasks, { ...tasks[0], state: 'FAILED' }] }));
    expect(err.field).toBe('status.tasks[1].id');
    expect(err.message).toContain('task 0 listed twice');
  });

  it('tolerates a missing type and a null worker id', () => {
    const { type: _type, ...rest } = running();
    const s = parseStatus({ ...rest, connector: { state: 'UNASSIGNED', worker_id: null } });
    expect(s.type).toBe('unknown');
    expect(s.workerId).toBe('');
  });

  it('parses the restart 202 bodies', () => {
    const onlyFailed = parseRestartBody(fixture('restart-includeTasks-onlyFailed-202-response.json'));
    expect(onlyFailed.state).toBe('RUNNING');
    expect(onlyFailed.tasks[0]?.state).toBe('RESTARTING');
    expect(onlyFailed.tasks[0]?.trace).toBeDefined();
    const all = parseRestartBody(fixture('restart-includeTasks-only-202-response.json'));
    expect(all).toMatchObject({ name: 'sink-baddir', type: 'sink', state: 'RESTARTING' });
    expect(shapeError(() => parseRestartBody({})).field).toBe('restart.name');
  });
});

describe('the expand listing', () => {
  it('parses the real expand body into snapshots with tasks.max, class and endpoint', () => {
    const listing = parseListing(fixture('connectors-expand-status-info-mixed.json'));
    if (listing.kind !== 'expanded') throw new Error('expected an expanded listing');
    expect(listing.connectors.map((c) => c.name)).toEqual(['pg-nopub', 'sink-baddir', 'pg-orders', 'pg-pwrot', 'sink-noenvelope', 'sink-garbage']);
    const pg = listing.connectors.find((c) => c.name === 'pg-pwrot');
    expect(pg).toMatchObject({
      type: 'source',
      tasksMax: 1,
      connectorClass: 'io.debezium.connector.postgresql.PostgresConnector',
      endpoint: { host: '127.0.0.1', port: 5432 },
    });
    expect(pg?.tasks[0]?.state).toBe('FAILED');
    const sink = listing.connectors.find((c) => c.name === 'sink-baddir');
    expect(sink).toMatchObject({ type: 'sink', connectorClass: 'org.apache.kafka.connect.file.FileStreamSinkConnector' });
    expect(sink?.endpoint).toBeUndefined();
  });

  it('parses the listings of a broker outage on the real worker (real-broker-*): RUNNING while down, connectors UNASSIGNED with tasks RUNNING right after', () => {
    const states = (f: string) => {
      const listing = parseListing(fixture(`real-broker-connectors-expand-status-info-${f}.json`));
      if (listing.kind !== 'expanded') throw new Error('expected an expanded listing');
      return Object.fromEntries(listing.connectors.map((c) => [c.name, [c.state, ...c.tasks.map((t) => t.state)]]));
    };
    expect(states('running-while-broker-down')).toEqual({ 'pg-brk': ['RUNNING', 'RUNNING'], fsink: ['RUNNING', 'RUNNING'], fsrc: ['RUNNING', 'RUNNING'] });
    expect(states('unassigned-right-after-broker-back')).toEqual({ 'pg-brk': ['UNASSIGNED', 'RUNNING'], fsink: ['UNASSIGNED', 'RUNNING'], fsrc: ['UNASSIGNED', 'RUNNING'] });
  });

  it('keeps no password and no config', () => {
    const text = JSON.stringify(parseListing(fixture('connectors-expand-status-info-mixed.json')));
    const passwords = expandPasswords();
    expect(passwords).toEqual(expect.arrayContaining(['e2e_cdc', 'right-password']));
    for (const p of passwords) expect(text).not.toContain(p);
    expect(text).not.toMatch(/database\.password|database\.user|"config"/);
  });

  it('reads the plain array of a worker that ignores expand', () => {
    expect(parseListing(['a', 'b c'])).toEqual({ kind: 'names', names: ['a', 'b c'] });
    expect(parseListing([])).toEqual({ kind: 'names', names: [] });
    expect(shapeError(() => parseListing(['a', 3])).field).toBe('connectors[1]');
  });

  it('reads the names of GET /connectors, and nothing else', () => {
    expect(parseNames(['a', 'b c'])).toEqual(['a', 'b c']);
    expect(shapeError(() => parseNames({ a: {} })).field).toBe('connectors');
    expect(shapeError(() => parseNames(['a', ''])).field).toBe('connectors[1]');
  });

  it('rejects the {} entries of an ignored expand (?expand=bogus)', () => {
    const err = shapeError(() => parseListing(fixture('connectors-expand-unknown-value.json')));
    expect(err.field).toBe('connectors["pg-nopub"].status');
  });

  it('skips a connector listed without a status (deleted during the listing)', () => {
    const listing = parseListing({ gone: { info: { name: 'gone', config: {}, tasks: [], type: 'source' } }, kept: { status: { ...running(), name: 'kept' } } });
    expect(listing).toMatchObject({ kind: 'expanded', connectors: [{ name: 'kept' }], unreadable: [] });
    // An empty object is an empty cluster, not an error.
    expect(parseListing({})).toEqual({ kind: 'expanded', connectors: [], unreadable: [] });
  });

  it('keeps the others when one status cannot be read, naming its connector and field', () => {
    const status = running();
    (status['tasks'] as Record<string, unknown>[])[0]!['state'] = 'BOGUS';
    const listing = parseListing({
      x: { status: { ...status, name: 'x' } },
      'a"b': { status: 'nope' },
      'pg-orders': { status: running(), info: { config: 'x' } },
      ok: { status: { ...running(), name: 'ok' } },
    });
    expect(listing).toMatchObject({ kind: 'expanded', connectors: [{ name: 'ok' }] });
    expect(listing.kind === 'expanded' && listing.unreadable).toEqual([
      { name: 'x', problem: 'connectors["x"].status.tasks[0].state: unknown state "BOGUS" (expected one of UNASSIGNED, RUNNING, PAUSED, FAILED, RESTARTING, STOPPED)' },
      { name: 'a"b', problem: 'connectors["a\\"b"].status: expected an object, got string' },
      { name: 'pg-orders', problem: 'connectors["pg-orders"].info.config: expected an object, got string' },
    ]);
  });

  it('rejects what makes the whole body unusable', () => {
    expect(shapeError(() => parseListing('nope')).field).toBe('connectors');
    // Every member {}: the worker answered no expansion at all (as ?expand=bogus does), whatever their number.
    expect(shapeError(() => parseListing({ a: {} })).field).toBe('connectors["a"].status');
    expect(shapeError(() => parseListing({ a: {}, b: {} })).field).toBe('connectors["a"].status');
  });

  it.each([
    ['null', null, 'connectors["x"]: expected an object, got null'],
    ['an array', [], 'connectors["x"]: expected an object, got an array'],
    ['an array holding the status', [{ status: running() }], 'connectors["x"]: expected an object, got an array'],
    ['a number', 5, 'connectors["x"]: expected an object, got number'],
    ['{} beside members with a status', {}, 'connectors["x"].status: missing (the worker ignored expand=status)'],
  ])('reads a member that is %s as one unreadable connector, the others as usual', (_what, value, problem) => {
    expect(parseListing({ x: value, ok: { status: { ...running(), name: 'ok' } }, gone: { status: null } })).toMatchObject({
      kind: 'expanded',
      connectors: [{ name: 'ok' }],
      unreadable: [{ name: 'x', problem }],
    });
  });

  it('reads a status that names another connector than its key as unreadable', () => {
    expect(parseListing({ other: { status: running() } })).toEqual({
      kind: 'expanded',
      connectors: [],
      unreadable: [{ name: 'other', problem: 'connectors["other"].status.name: does not match the connector it is listed under' }],
    });
  });
});

describe('the info listing (?expand=info)', () => {
  it('reduces each info of the real body to tasks.max, class and endpoint, keeping no config', () => {
    const { names, infos, unreadable } = parseInfoListing(expandOnly('info'));
    expect(names).toEqual(['pg-nopub', 'sink-baddir', 'pg-orders', 'pg-pwrot', 'sink-noenvelope', 'sink-garbage']);
    expect([...infos.keys()]).toEqual(names);
    expect(unreadable.size).toBe(0);
    expect(infos.get('pg-pwrot')).toEqual({ tasksMax: 1, connectorClass: 'io.debezium.connector.postgresql.PostgresConnector', endpoint: { host: '127.0.0.1', port: 5432 } });
    const text = JSON.stringify([...infos]);
    for (const p of expandPasswords()) expect(text).not.toContain(p);
    expect(text).not.toMatch(/database\.password|"config"/);
  });

  it('gives the info parts the combined body gives', () => {
    const listing = parseListing(fixture('connectors-expand-status-info-mixed.json'));
    if (listing.kind !== 'expanded') throw new Error('expected an expanded listing');
    const { infos } = parseInfoListing(expandOnly('info'));
    for (const c of listing.connectors) {
      const { tasksMax, connectorClass, endpoint } = c;
      expect(infos.get(c.name)).toEqual({ tasksMax, connectorClass, endpoint });
    }
  });

  it('leaves out a connector listed without info, and reads a status-only listing as one without info', () => {
    expect(parseInfoListing({ gone: {}, nulled: { info: null }, kept: { info: { config: { 'tasks.max': '2' } } } })).toEqual({
      names: ['kept'],
      infos: new Map([['kept', { tasksMax: 2 }]]),
      unreadable: new Map(),
    });
    expect(parseInfoListing({})).toEqual({ names: [], infos: new Map(), unreadable: new Map() });
  });

  it('a member of a wrong shape makes that connector\'s info unreadable, naming the field, and the others read', () => {
    const secret = { 'database.password': 'hunter2', 'tasks.max': '3' };
    const { names, infos, unreadable } = parseInfoListing({
      x: 5,
      n: null,
      arr: [{ info: { config: secret } }],
      s: { info: JSON.stringify({ config: secret }) },
      c: { info: { config: Object.entries(secret).map(([k, v]) => `${k}=${v}`) } },
      none: { info: {} },
      ok: { info: { config: { 'tasks.max': '2' } } },
    });
    expect(names).toEqual(['x', 'n', 'arr', 's', 'c', 'none', 'ok']);
    expect(infos).toEqual(new Map([['ok', { tasksMax: 2 }]]));
    expect(Object.fromEntries(unreadable)).toEqual({
      x: 'connectors["x"]: expected an object, got number',
      n: 'connectors["n"]: expected an object, got null',
      arr: 'connectors["arr"]: expected an object, got an array',
      s: 'connectors["s"].info: expected an object, got string',
      c: 'connectors["c"].info.config: expected an object, got an array',
      none: 'connectors["none"].info.config: expected an object, got undefined',
    });
    expect(JSON.stringify([...unreadable])).not.toContain('hunter2');
  });

  it('fails whole only on a body that is no object of members', () => {
    expect(shapeError(() => parseInfoListing(['a'])).field).toBe('connectors');
    expect(shapeError(() => parseInfoListing(null)).field).toBe('connectors');
  });
});

describe('the status listing (?expand=status)', () => {
  it('parses the real body split to the status expansion, without info parts', () => {
    const listing = parseListing(expandOnly('status'));
    if (listing.kind !== 'expanded') throw new Error('expected an expanded listing');
    expect(listing.connectors).toHaveLength(6);
    for (const c of listing.connectors) expect(Object.keys(c)).not.toEqual(expect.arrayContaining(['tasksMax']));
    expect(listing.connectors.some((c) => c.connectorClass !== undefined || c.endpoint !== undefined)).toBe(false);
  });
});

describe('info', () => {
  it('ignores a tasks.max that is not a positive integer and non-string config values', () => {
    expect(parseInfo({ config: { 'tasks.max': 'lots', 'connector.class': 5 } })).toEqual({});
    expect(parseInfo({ config: { 'tasks.max': '0' } })).toEqual({});
    expect(parseInfo({ config: { 'tasks.max': ' 4 ' } })).toEqual({ tasksMax: 4 });
  });

  it('never echoes a config value in an error', () => {
    const err = shapeError(() => parseInfo({ config: ['database.password=hunter2'] }));
    expect(err.message).not.toContain('hunter2');
  });
});

describe('GET /', () => {
  it('reads the version', () => {
    expect(parseVersion({ version: '4.3.1', commit: 'abc', kafka_cluster_id: 'id' })).toBe('4.3.1');
    expect(parseVersion({ commit: 'abc' })).toBeUndefined();
    expect(shapeError(() => parseVersion({ version: 4 })).field).toBe('root.version');
    expect(shapeError(() => parseVersion([])).field).toBe('root');
  });
});

describe('GET /health', () => {
  it("scrubs the worker's message, which is kept in logs, the state file and `status`", () => {
    const health = parseHealth(500, { status: 'unhealthy', message: 'Worker failed: jdbc:postgresql://cdc:S3cret!@db:5432/app unreachable' });
    expect(health.status).toBe('unhealthy');
    expect(health.message).toContain('db:5432/app unreachable');
    expect(health.message).not.toContain('S3cret');
  });
});
