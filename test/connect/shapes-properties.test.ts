/**
 * Property-based fuzz of how the client turns Connect's answers into snapshots, through the real code path
 * (transport, listing walk, parsers) against a local HTTP server. The bodies are the real ones of
 * test/fixtures/connect, mutated: fields removed, nulls, wrong types, numbers as strings, huge strings,
 * unknown states, negative, huge or duplicate task ids, arrays for objects, listing members that are null,
 * an array or `{}`, prototype keys as connector names, truncated or non-JSON text, and Connect's 404/409/500. The promise (shapes.ts, docs/heal.md "listed,
 * status unreadable"): every such answer ends as a snapshot or a typed ConnectError, never another
 * exception or a hang; a connector whose status has a wrong shape is reported unreadable and the
 * well-formed connectors of the same answer are kept (only a listing whose every member is `{}`, what a worker
 * that ignored expand answers, fails the poll); an `expand=info` member of a wrong shape leaves that connector
 * without info and every well-formed member's info read.
 *
 * Fixed seed, so `npm test` is repeatable; PROPS_SEED and PROPS_RUNS explore further.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectClient, type RestartResult } from '../../src/connect/client.js';
import { ConnectError, ShapeError } from '../../src/connect/errors.js';
import { parseInfo, parseListing, parseStatus } from '../../src/connect/shapes.js';
import type { ClusterSnapshot, ConnectorSnapshot } from '../../src/connect/types.js';
import { expandOnly, fixture } from './fixtures.js';
import { LocalServer } from './local-server.js';

const SEED = Number(process.env['PROPS_SEED'] ?? 20261206);
const RUNS = Number(process.env['PROPS_RUNS'] ?? 150);
/** Longer than any answer of the local server: past it, the client hangs. */
const HANG_MS = 3_000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// ---------------------------------------------------------------------------------------------------------
// The real bodies.

/** A real `info` (config with a clear-text password, JDBC host and port). */
const REAL_INFO = Object.values(expandOnly('info'))[0] as { info: Json };

const REAL_STATUSES: readonly Json[] = [
  ...Object.values(expandOnly('status')).map((e) => (e as { status: Json }).status),
  fixture('status-paused-connector-with-failed-task-filestream-sink.json') as Json,
  fixture('status-connector-unassigned-task-stale-failed-worker-leaving.json') as Json,
  fixture('status-no-tasks-yet-right-after-create.json') as Json,
  fixture('status-stopped-debezium-postgres.json') as Json,
  fixture('real-life-restart-includeTasks-onlyFailed-202-connector-failed-in-start-no-tasks-lab-source.json') as Json,
];

/** Names a worker may list: ordinary, prototype keys, array indexes (JSON.parse lists those first), odd text. */
const NAMES = ['pg-orders', 'sink-a', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '7', '4294967294', '4294967295', '01', '-1', 'a/b', 'café', ' ', 'x"y'];

const clone = (v: Json): Json => JSON.parse(JSON.stringify(v)) as Json;

/** A real status renamed to `name`. */
function statusOf(k: number, name: string): Json {
  const s = clone(REAL_STATUSES[k % REAL_STATUSES.length] as Json) as { [k: string]: Json };
  s['name'] = name;
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Mutations.

type Path = readonly (string | number)[];

/** Every path inside `v` (the root included). */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

const WRONG: readonly Json[] = [null, 0, -1, -0, 1.5, 1e308, 2147483647, 2147483648, '', 'RUNNING', 'x'.repeat(200_000), true, [], {}, [1, 2], { a: 1 }, 'DRAINING', '0', '-1', 'pg-orders', 'sink-a'];

type Mutation =
  | { readonly kind: 'remove'; readonly at: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: Json }
  | { readonly kind: 'stringify'; readonly at: number }
  | { readonly kind: 'wrap'; readonly at: number }
  | { readonly kind: 'dupTask' }
  | { readonly kind: 'protoKey'; readonly at: number; readonly key: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...WRONG), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>) }),
  fc.record({ kind: fc.constant('stringify' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dupTask' as const) }),
  fc.record({ kind: fc.constant('protoKey' as const), at: fc.nat(), key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString') }),
);

function getAt(v: Json, p: Path): Json {
  return p.reduce<Json>((x, k) => (x as Record<string | number, Json>)[k] as Json, v);
}

/** `v` with one mutation applied (a copy). */
function mutate(v: Json, m: Mutation): Json {
  const root = clone(v);
  if (m.kind === 'dupTask') {
    const tasks = root !== null && typeof root === 'object' && !Array.isArray(root) ? root['tasks'] : undefined;
    if (Array.isArray(tasks) && tasks.length > 0) tasks.push(clone(tasks[0] as Json));
    return root;
  }
  const all = paths(root);
  const p = all[m.at % all.length] as Path;
  const target = getAt(root, p);
  const replace = (value: Json): Json => {
    if (p.length === 0) return value;
    const parent = getAt(root, p.slice(0, -1)) as Record<string | number, Json>;
    parent[p[p.length - 1] as string | number] = value;
    return root;
  };
  switch (m.kind) {
    case 'remove': {
      if (p.length === 0) return null;
      const parent = getAt(root, p.slice(0, -1));
      const last = p[p.length - 1] as string | number;
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, Json>)[last];
      return root;
    }
    case 'set':
      return replace(m.value);
    case 'stringify':
      return replace(typeof target === 'string' ? target : JSON.stringify(target));
    case 'wrap':
      return replace([target]);
    case 'protoKey':
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: 'x', enumerable: true, configurable: true, writable: true });
        return root;
      }
      return replace({ [m.key]: target } as Json);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The listing: members written by hand, so that "__proto__" is an own member and names may repeat.

interface Member {
  readonly name: string;
  readonly status: Json;
  /** A mutation of this member's status (undefined: the real status, well-formed). */
  readonly mutation?: Mutation;
  /** What the member is written as instead of `{"status":…}`: a wrong entry, not a wrong status. */
  readonly entry?: Json;
}

const memberArb = fc.record({
  name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ minLength: 1, maxLength: 6 })),
  base: fc.nat(),
  mutation: fc.option(mutationArb, { nil: undefined }),
});

const membersArb: fc.Arbitrary<Member[]> = fc.uniqueArray(memberArb, { minLength: 1, maxLength: 6, selector: (m) => m.name }).map((ms) =>
  ms.map(({ name, base, mutation }) => {
    const real = statusOf(base, name);
    return { name, status: mutation === undefined ? real : mutate(real, mutation), ...(mutation !== undefined && { mutation }) };
  }),
);

/** Members that are no `{"status":…}` object at all; `{}` is what a worker that ignored expand lists. */
const WRONG_ENTRIES: readonly Json[] = [null, [], [{ status: null }], 0, 'x', {}];

/** membersArb, some members written as a wrong entry (WRONG_ENTRIES). */
const listedArb: fc.Arbitrary<Member[]> = membersArb.chain((ms) =>
  fc
    .array(fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_ENTRIES) }), { minLength: ms.length, maxLength: ms.length })
    .map((entries) => ms.map((m, k) => (entries[k] === undefined ? m : { ...m, entry: entries[k] }))),
);

const isEmptyObject = (v: Json | undefined): boolean => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;

/**
 * A first listing and the next poll's: most members the very same bytes (the walk reuses what it parsed of
 * them), some mutated afresh, dropped, moved or added.
 */
const twoPollsArb: fc.Arbitrary<readonly [Member[], Member[]]> = listedArb.chain((first) =>
  fc
    .tuple(
      fc.array(fc.record({ keep: fc.constantFrom('same', 'same', 'mutated', 'dropped'), mutation: mutationArb }), { minLength: first.length, maxLength: first.length }),
      listedArb,
      fc.boolean(),
      fc.boolean(),
    )
    .map(([fates, added, reverse, twice]) => {
      const next: Member[] = [];
      first.forEach((m, k) => {
        const fate = fates[k]!;
        if (fate.keep === 'same') next.push(m);
        else if (fate.keep === 'mutated') next.push({ ...m, status: mutate(m.status, fate.mutation), mutation: fate.mutation });
      });
      const names = new Set(next.map((m) => m.name));
      next.push(...added.filter((m) => !names.has(m.name)));
      const second = reverse ? next.reverse() : next;
      // A name twice in the object (no worker writes it): JSON.parse keeps the last value, the walk gives way to it.
      const again = second.length > 1 ? { name: second[0]!.name, status: second[1]!.status, ...(second[1]!.entry !== undefined && { entry: second[1]!.entry }) } : undefined;
      return [first, twice && again !== undefined ? [...second, again] : second] as const;
    }),
);

/** How the listing is written: compact as Connect writes it, or spaced as a proxy may re-indent it. */
let spaced = false;

function listingText(members: readonly Member[]): string {
  const [sep, colon, indent] = spaced ? [',\n ', ' : ', 2] : [',', ':', undefined];
  return `{${members.map((m) => `${JSON.stringify(m.name)}${colon}${JSON.stringify(m.entry !== undefined ? m.entry : { status: m.status }, null, indent)}`).join(sep)}}`;
}

/** Names in a snapshot are unique: the policy keys everything it remembers by connector name. */
function expectUniqueNames(snap: ClusterSnapshot): void {
  const names = [...snap.connectors, ...(snap.unreadable ?? [])].map((c) => c.name);
  expect(names.length).toBe(new Set(names).size);
}

/**
 * Task ids as Connect gives them, whatever the parsers make of the rest: each once per connector (its
 * statuses are keyed by id), a Java int (a restart puts it in the path).
 */
function expectTaskIds(snap: ClusterSnapshot): void {
  for (const c of snap.connectors) {
    const ids = c.tasks.map((t) => t.id);
    expect(ids.length, c.name).toBe(new Set(ids).size);
    for (const id of ids) expect(Number.isInteger(id) && id >= 0 && id <= 2147483647, `${c.name}: task id ${id}`).toBe(true);
  }
}

/** A well-formed member: its status reads as it is. */
function wellFormed(m: Pick<Member, 'name' | 'status'>): boolean {
  try {
    return parseStatus(m.status).name === m.name;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Whole answers: a mutated listing, or text that is no listing at all, or an error of Connect's.

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
}

const json = (text: string, status = 200): Answer => ({ status, type: 'application/json', text });

const connectError = (code: number, message: string): Answer => json(JSON.stringify({ error_code: code, message }), code);

const brokenArb: fc.Arbitrary<(valid: string) => Answer> = fc.oneof(
  // Cut off anywhere (a connection closed mid-body, a proxy's limit).
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => (valid: string) => json(valid.slice(0, Math.floor(valid.length * f)))),
  fc.constantFrom(
    () => json('not json'),
    () => json('{"a":'),
    () => json('null'),
    () => json('42'),
    () => json('"text"'),
    () => json('[1,2]'),
    () => json('[null]'),
    () => json('{"a":null}'),
    () => json('{"a":[]}'),
    () => json('{"a":{}}'),
    () => json('{"__proto__":{"status":null}}'),
    () => json('{"a":{"status":{"name":"a","connector":{"state":"RUNNING"},"tasks":[]}},"a":{"status":null}}'),
    () => ({ status: 200, type: 'text/html', text: '<html><body>Proxy error</body></html>' }),
    () => ({ status: 404, type: 'text/html', text: '<html><body>Error 404 Not Found</body></html>' }),
    () => connectError(404, 'Connector a not found'),
    () => connectError(409, 'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)'),
    () => connectError(409, 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)'),
    () => connectError(500, 'Request timed out. The worker is currently ensuring membership in the cluster, which began at 2026-12-06T04:00:00Z'),
    () => connectError(500, 'IO Error trying to forward REST request: java.net.ConnectException: Connection refused'),
    () => json('', 500),
    () => json('{"error_code":"500","message":null}', 500),
    () => json('{"error_code":500,"message":{"nested":true}}', 500),
  ),
);

// ---------------------------------------------------------------------------------------------------------
// The server and the client.

let answers = new Map<string, Answer | (() => Answer)>();
let server: LocalServer;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const found = answers.get(req.url ?? '');
  const a = typeof found === 'function' ? found() : (found ?? connectError(404, 'HTTP 404 Not Found'));
  res.writeHead(a.status, { 'content-type': a.type });
  res.end(a.text);
}

function newClient(readInfo = false): ConnectClient {
  return new ConnectClient({ name: 'fuzz', url: server.url, rejectUnauthorized: true, timeout: 2_000, probe: false }, { retries: 0, statusConcurrency: 3, readInfo });
}

/** What the call gave or threw, or 'hang' when it did neither in time. */
async function settle<T>(p: Promise<T>): Promise<{ readonly ok: T } | { readonly err: unknown } | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
  try {
    return await Promise.race([p.then((ok) => ({ ok }), (err: unknown) => ({ err })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome must be a value or a ConnectError: anything else (TypeError, RangeError, a hang) fails the property. */
function typed<T>(outcome: { readonly ok: T } | { readonly err: unknown } | 'hang'): { readonly ok: T } | { readonly err: ConnectError } {
  if (outcome === 'hang') throw new Error(`no answer within ${HANG_MS} ms`);
  if ('err' in outcome && !(outcome.err instanceof ConnectError)) throw outcome.err;
  return outcome as { readonly ok: T } | { readonly err: ConnectError };
}

/** What parsing the whole body at once gives: the listing the walk must agree with. */
function wholeBody(text: string): { readonly connectors: unknown[]; readonly unreadable: unknown[] } | { readonly field: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { field: '' };
  }
  try {
    const listing = parseListing(body);
    if (listing.kind !== 'expanded') throw new Error('not an expanded listing');
    return { connectors: [...listing.connectors], unreadable: [...listing.unreadable] };
  } catch (err) {
    if (err instanceof ShapeError) return { field: err.field };
    throw err;
  }
}

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  server = await LocalServer.start(handler);
});

afterAll(async () => {
  await server.stop();
});

const params = { seed: SEED, numRuns: RUNS, endOnFailure: false } as const;

describe('Connect answers into snapshots (properties)', () => {
  it('a listing with mutated statuses: snapshot keeps every well-formed connector, the others unreadable; two polls in a row agree with the whole-body parse', async () => {
    await fc.assert(
      fc.asyncProperty(twoPollsArb, fc.boolean(), async ([first, second], pretty) => {
        spaced = pretty;
        const c = newClient();
        try {
          for (const members of [first, second]) {
            const text = listingText(members);
            answers = new Map([['/connectors?expand=status', json(text)], ['/', json('{"version":"4.3.1"}')]]);
            const got = typed(await settle(c.snapshot()));
            const want = wholeBody(text);
            // A name twice: the last value counts, as JSON.parse reads it.
            const last = [...new Map(members.map((x) => [x.name, x])).values()];
            // Every member {}: a worker that ignored expand=status, and the only body that fails the poll.
            if (last.every((m) => isEmptyObject(m.entry))) {
              expect(want).toHaveProperty('field');
              expect('err' in got && got.err.code).toBe('BAD_BODY');
              continue;
            }
            // No wrong status, no wrong member may make the whole body unusable.
            if ('field' in want) throw new Error(`the whole listing rejected at ${want.field}`);
            if ('err' in got) throw got.err;
            expect({ connectors: got.ok.connectors, unreadable: got.ok.unreadable ?? [] }).toEqual(want);
            expectUniqueNames(got.ok);
            expectTaskIds(got.ok);
            // The docs' promise, independent of the parsers: one wrong status blinds the watchdog to nothing else.
            const names = new Set(got.ok.connectors.map((x) => x.name));
            const unreadable = new Set((got.ok.unreadable ?? []).map((x) => x.name));
            for (const m of last) {
              if (m.entry !== undefined) expect(unreadable.has(m.name)).toBe(true);
              else if (wellFormed(m)) expect(names.has(m.name)).toBe(true);
              // Only a null status (deleted during the listing) is left out.
              else if (m.status !== null) expect(unreadable.has(m.name)).toBe(true);
            }
          }
        } finally {
          await c.close();
        }
      }),
      params,
    );
  });

  it('a body that is no listing, or an error of Connect: a typed ConnectError, never a crash or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(membersArb, brokenArb, async (members, broken) => {
        const answer = broken(listingText(members));
        answers = new Map([['/connectors?expand=status', answer]]);
        const c = newClient();
        try {
          const got = typed(await settle(c.snapshot()));
          if ('ok' in got) {
            // Only a 2xx listing may make a snapshot.
            expect(answer.status).toBe(200);
            expect(wholeBody(answer.text)).not.toHaveProperty('field');
          } else if (answer.status === 404) expect(got.err.code === 'HTTP' || got.err.code === 'BAD_BODY').toBe(true);
        } finally {
          await c.close();
        }
      }),
      params,
    );
  });

  it('a worker that ignores expand: per-connector statuses mutated, deleted meanwhile (404), 409, 500', async () => {
    const perConnector = fc.oneof(
      { weight: 3, arbitrary: fc.record({ base: fc.nat(), mutation: fc.option(mutationArb, { nil: undefined }) }) },
      { weight: 1, arbitrary: brokenArb },
    );
    const namesArb = fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(namesArb.chain((names) => fc.tuple(fc.constant(names), fc.array(perConnector, { minLength: names.length, maxLength: names.length }))), fc.boolean(), async ([names, plans], twice) => {
        answers = new Map([['/connectors?expand=status', json(JSON.stringify(twice ? [...names, names[0]] : names))]]);
        const expected = new Map<string, 'kept' | 'unreadable' | 'either' | 'gone' | 'error'>();
        names.forEach((name, k) => {
          const plan = plans[k]!;
          const path = `/connectors/${encodeURIComponent(name)}/status`;
          if (typeof plan === 'function') {
            const a = plan(JSON.stringify(statusOf(k, name)));
            answers.set(path, a);
            const ok = a.status === 200 && wholeBody(`{${JSON.stringify(name)}:{"status":${a.text}}}`);
            expected.set(name, a.status === 404 && a.type === 'application/json' ? 'gone' : a.status === 200 ? (ok && 'connectors' in ok && ok.connectors.length === 1 ? 'kept' : 'either') : 'error');
          } else {
            const real = statusOf(plan.base, name);
            const status = plan.mutation === undefined ? real : mutate(real, plan.mutation);
            answers.set(path, json(JSON.stringify(status)));
            expected.set(name, wellFormed({ name, status }) ? 'kept' : 'either');
          }
        });
        const c = newClient();
        try {
          const got = typed(await settle(c.snapshot()));
          const mustFail = [...expected.values()].includes('error');
          if ('err' in got) {
            // A status read that failed for the whole cluster (409, 500, an HTML page), or a body the parse cannot use.
            expect(mustFail || [...expected.values()].includes('either')).toBe(true);
            return;
          }
          expect(mustFail).toBe(false);
          expectUniqueNames(got.ok);
          expectTaskIds(got.ok);
          const kept = new Set(got.ok.connectors.map((x) => x.name));
          // Only what the worker listed, under the name it listed (a status naming another connector is unreadable).
          for (const x of [...got.ok.connectors, ...(got.ok.unreadable ?? [])]) expect(names).toContain(x.name);
          for (const [name, e] of expected) {
            if (e === 'kept') expect(kept.has(name)).toBe(true);
            if (e === 'gone') expect(kept.has(name) || (got.ok.unreadable ?? []).some((u) => u.name === name)).toBe(false);
          }
        } finally {
          await c.close();
        }
      }),
      params,
    );
  });

  it('one status, a restart 202 body: a snapshot, undefined for a 404, or a typed ConnectError', async () => {
    const bodyArb = fc.oneof(
      fc.record({ base: fc.nat(), mutation: fc.option(mutationArb, { nil: undefined }) }).map(({ base, mutation }) => {
        const real = statusOf(base, 'c');
        return json(JSON.stringify(mutation === undefined ? real : mutate(real, mutation)), 200);
      }),
      brokenArb.map((b) => b(JSON.stringify(statusOf(0, 'c')))),
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, fc.boolean(), async (answer, restart) => {
        const path = restart ? '/connectors/c/restart?includeTasks=true&onlyFailed=true' : '/connectors/c/status';
        answers = new Map([[path, restart && answer.status === 200 ? { ...answer, status: 202 } : answer]]);
        const c = newClient();
        try {
          const got = typed(await settle<unknown>(restart ? c.restartConnector('c', { includeTasks: true, onlyFailed: true }) : c.status('c')));
          if ('ok' in got && got.ok === undefined) expect(!restart && answer.status === 404).toBe(true);
          const read = 'ok' in got ? (restart ? (got.ok as RestartResult).body : (got.ok as ConnectorSnapshot | undefined)) : undefined;
          if (read !== undefined) expectTaskIds({ cluster: 'fuzz', at: 0, connectors: [read] });
        } finally {
          await c.close();
        }
      }),
      params,
    );
  });

  it('a mutated or broken expand=info answer never fails the poll: the statuses are the snapshot, and one bad member costs no other its info', async () => {
    /** One member of the info listing: the real one, its info mutated, or a wrong member (WRONG_ENTRIES). */
    type InfoMember = { readonly real: true } | { readonly mutation: Mutation } | { readonly entry: Json };
    const memberArb: fc.Arbitrary<InfoMember> = fc.oneof(
      { weight: 3, arbitrary: fc.constant({ real: true as const }) },
      { weight: 3, arbitrary: mutationArb.map((mutation) => ({ mutation })) },
      { weight: 1, arbitrary: fc.constantFrom(...WRONG_ENTRIES).map((entry) => ({ entry })) },
    );
    const write = (m: InfoMember): Json => ('real' in m ? REAL_INFO : 'mutation' in m ? { info: mutate(REAL_INFO.info, m.mutation) } : m.entry);
    /** Whether a member's info has a shape the watchdog cannot read, told apart without the parsers: then that connector has none. */
    const isObject = (v: Json | undefined): v is { [k: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);
    const unreadable = (v: Json): boolean => !isObject(v) || (v['info'] !== undefined && v['info'] !== null && !(isObject(v['info']) && isObject(v['info']['config'])));
    const infoArb = fc.oneof(
      fc.array(memberArb, { minLength: 1, maxLength: 6 }).map((ms) => ({ members: ms })),
      brokenArb.map((broken) => ({ broken })),
    );
    const real = parseInfo(REAL_INFO.info);
    expect(real).toMatchObject({ tasksMax: expect.any(Number), connectorClass: expect.any(String), endpoint: expect.anything() });
    await fc.assert(
      fc.asyncProperty(membersArb, infoArb, async (members, info) => {
        const text = listingText(members);
        const written = new Map(members.map((m, k) => [m.name, 'members' in info ? (info.members[k % info.members.length] as InfoMember) : undefined]));
        const infoText = 'members' in info ? json(`{${[...written].map(([n, m]) => `${JSON.stringify(n)}:${JSON.stringify(write(m as InfoMember))}`).join(',')}}`) : info.broken(JSON.stringify({ x: REAL_INFO }));
        answers = new Map([
          ['/connectors?expand=status', json(text)],
          ['/connectors?expand=info', infoText],
        ]);
        const want = wholeBody(text);
        const c = newClient(true);
        try {
          for (let poll = 0; poll < 2; poll += 1) {
            const got = typed(await settle(c.snapshot()));
            if ('err' in got) throw got.err;
            if ('field' in want) throw new Error(`the listing itself is wrong at ${want.field}`);
            const strip = ({ tasksMax: _t, connectorClass: _c, endpoint: _e, ...status }: Record<string, unknown>): unknown => status;
            expect(got.ok.connectors.map((x) => strip({ ...x }))).toEqual(want.connectors);
            for (const x of got.ok.connectors) {
              const m = written.get(x.name);
              if (m === undefined) continue;
              const parts = { tasksMax: x.tasksMax, connectorClass: x.connectorClass, endpoint: x.endpoint };
              if ('real' in m) expect(parts, x.name).toEqual(real);
              else if (unreadable(write(m))) expect(parts, x.name).toEqual({ tasksMax: undefined, connectorClass: undefined, endpoint: undefined });
            }
          }
        } finally {
          await c.close();
        }
      }),
      params,
    );
  });

  it('an offsets body: a digest, gone, unsupported, or a typed ConnectError (deep nesting included)', async () => {
    const real: Json = { offsets: [{ partition: { server: 'shop' }, offset: { lsn_proc: 100, lsn_commit: 100, lsn: 100, txId: 812, ts_usec: 1_764_880_000_000_000 } }] };
    const bodyArb = fc.oneof(
      fc.option(mutationArb, { nil: undefined }).map((m) => json(JSON.stringify(m === undefined ? real : mutate(real, m)))),
      fc.integer({ min: 1, max: 30_000 }).map((depth) => json(`{"offsets":[{"partition":{"server":"shop"},"offset":{"lsn":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`)),
      brokenArb.map((b) => b(JSON.stringify(real))),
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, async (answer) => {
        answers = new Map([['/connectors/c/offsets', answer]]);
        const c = newClient();
        try {
          typed(await settle(c.offsets('c')));
        } finally {
          await c.close();
        }
      }),
      params,
    );
  });
});
