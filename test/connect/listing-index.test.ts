import { describe, expect, it } from 'vitest';
import { indexListing, indexMembers, type ListingIndex } from '../../src/connect/listing-index.js';
import { parseInfoEntry, parseInfoListing, parseListing, splitInfo } from '../../src/connect/shapes.js';
import type { ConnectorSnapshot, UnreadableConnector } from '../../src/connect/types.js';
import { expandOnly, fixtureText } from './fixtures.js';
import { seeded } from '../../bench/lib/stats.js';

type Body = Record<string, unknown>;

/** What parseListing gives for the whole body: the oracle every walk must match. */
function whole(text: string): { readonly connectors: readonly ConnectorSnapshot[]; readonly unreadable: readonly UnreadableConnector[] } {
  const listing = parseListing(JSON.parse(text));
  if (listing.kind !== 'expanded') throw new Error('not an expanded listing');
  return listing;
}

function walk(text: string, previous?: ListingIndex): ListingIndex | undefined {
  return indexListing(Buffer.from(text), previous);
}

/** Walks `text` (after `previous`) and checks it against the whole-body parse. */
function same(text: string, previous?: ListingIndex): ListingIndex {
  const index = walk(text, previous);
  expect(index, 'the walk gave up').toBeDefined();
  const { connectors, unreadable } = whole(text);
  expect(index?.connectors).toEqual(connectors);
  expect(index?.unreadable).toEqual(unreadable);
  return index as ListingIndex;
}

function entry(name: string, tasks: { state: string; trace?: string }[], connector = 'RUNNING'): Body {
  return {
    status: {
      name,
      connector: { state: connector, worker_id: '10.0.0.1:8083' },
      tasks: tasks.map((t, id) => ({ id, worker_id: `10.0.0.${id % 3}:8083`, ...t })),
      type: 'sink',
    },
  };
}

/** The body with its members in this order (JSON.stringify of an object would list array-index names first). */
const serialize = (members: readonly (readonly [string, unknown])[], indent?: number): string =>
  `{${members.map(([n, v]) => `${JSON.stringify(n)}:${JSON.stringify(v, null, indent)}`).join(',')}}`;

const byName = (index: ListingIndex, name: string) => index.connectors.find((c) => c.name === name);

describe('indexListing on real bodies', () => {
  it('reads the real expand bodies (status alone, and status with info) as parseListing does', () => {
    same(fixtureText('connectors-expand-status-info-mixed.json'));
    same(JSON.stringify(expandOnly('status')));
  });

  it('reads an empty cluster, and a body with whitespace anywhere JSON allows it', () => {
    expect(walk('{}')?.connectors).toEqual([]);
    expect(walk(' \n{ }\r\n')?.connectors).toEqual([]);
    same(JSON.stringify({ a: entry('a', [{ state: 'RUNNING' }]), b: entry('b', []) }, null, 2));
  });
});

describe('a changed listing', () => {
  const body = (failing: string | undefined, names = ['a', 'b', 'c', 'd']): string =>
    JSON.stringify(Object.fromEntries(names.map((n) => [n, entry(n, [{ state: 'RUNNING' }, n === failing ? { state: 'FAILED', trace: 'boom' } : { state: 'RUNNING' }])])));

  it('reuses the very connectors whose bytes did not change, and parses the others', () => {
    const first = same(body(undefined));
    const second = same(body('b'), first);
    expect(byName(second, 'a')).toBe(byName(first, 'a'));
    expect(byName(second, 'c')).toBe(byName(first, 'c'));
    expect(byName(second, 'b')).not.toBe(byName(first, 'b'));
    expect(byName(second, 'b')?.tasks[1]).toEqual({ id: 1, state: 'FAILED', workerId: '10.0.0.1:8083', trace: 'boom' });
    const third = same(body('c'), second);
    expect(byName(third, 'b')).not.toBe(byName(second, 'b'));
    expect(byName(third, 'd')).toBe(byName(first, 'd'));
  });

  it('follows connectors that moved because one was added or deleted before them', () => {
    const first = same(body(undefined));
    const added = same(body(undefined, ['z', 'a', 'b', 'c', 'd']), first);
    for (const n of ['a', 'b', 'c', 'd']) expect(byName(added, n)).toBe(byName(first, n));
    const deleted = same(body(undefined, ['z', 'b', 'd']), added);
    expect(byName(deleted, 'd')).toBe(byName(first, 'd'));
    expect(deleted.connectors.map((c) => c.name)).toEqual(['z', 'b', 'd']);
    const reordered = same(body(undefined, ['d', 'b', 'z']), deleted);
    expect(byName(reordered, 'z')).toBe(byName(added, 'z'));
  });

  it('leaves out a connector listed without a status, as parseListing does', () => {
    const first = same(body(undefined));
    const text = JSON.stringify({ ...JSON.parse(body(undefined)), b: { status: null } });
    const index = same(text, first);
    expect(index.connectors.map((c) => c.name)).toEqual(['a', 'c', 'd']);
    expect(same(text, index).connectors.map((c) => c.name)).toEqual(['a', 'c', 'd']);
  });

  it('does not confuse a member with one whose bytes merely begin the same', () => {
    // `"a":1` is a prefix of `"a":12`: the walk must not take the old member; what follows its bytes (`2`,
    // no `,` or `}`) makes it give way to the whole-body parse.
    const one = walk('{"a":1}');
    expect(one?.unreadable).toEqual([{ name: 'a', problem: 'connectors["a"]: expected an object, got number' }]);
    expect(walk('{"a":12}', one)).toBeUndefined();
    const first = same(JSON.stringify({ a: entry('a', [{ state: 'RUNNING' }]) }));
    const longer = JSON.stringify({ a: entry('a', [{ state: 'RUNNING' }, { state: 'RUNNING' }]) });
    expect(same(longer, first).connectors[0]?.tasks).toHaveLength(2);
  });
});

describe('names and strings that look like JSON', () => {
  it('reads traces full of quotes, backslashes, braces and escapes', () => {
    const trace = 'Caused by: x "}},\\"y\\":{" \\ \\\\ \u0022 {"a":[1,2]} ] } \u00e9\u4e2d\ud83d\ude00 \t\n';
    const text = JSON.stringify({ 'n"}': entry('n"}', [{ state: 'FAILED', trace }]), 'b\\': entry('b\\', [{ state: 'RUNNING' }]) });
    const first = same(text);
    expect(first.connectors[0]?.tasks[0]?.trace).toBe(trace);
    // The same content with the escapes JSON allows for any character: read to the same values.
    const escaped = text.replace('Caused by', '\\u0043aused by');
    const second = same(escaped, first);
    expect(second.connectors[1]).toBe(first.connectors[1]);
  });

  it('lists array-index names first, ascending, as JSON.parse does', () => {
    const names = ['orders', '10', '2', '007', '4294967295', '0', 'x'];
    const index = same(serialize(names.map((n) => [n, entry(n, [])])));
    expect(index.connectors.map((c) => c.name)).toEqual(['0', '2', '10', 'orders', '007', '4294967295', 'x']);
    expect(index.names).toEqual(names); // the members themselves, in body order
  });
});

describe('what the walk leaves to the whole-body parse', () => {
  it('anything but an object of members, and a name given twice', () => {
    for (const text of ['', '[]', '["a"]', 'null', '\ufeff{}', '{} x', '{"a":{"status":null},}', '{"a" {}}', '{"a":{"status":null}', '{"a":{"status":"x}']) {
      expect(walk(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(walk('{"a":{"status":null},"a":{"status":null}}')).toBeUndefined();
  });

  it('a member that does not parse, or the {} members of an ignored expand (parseListing names the error)', () => {
    expect(walk('{"a":{}}')).toBeUndefined();
    expect(walk('{"a":{},"b":{}}')).toBeUndefined();
    // The same members after a listing that read: the walk reuses them, and still gives way.
    expect(walk('{"a":{},"b":{}}', same('{"a":{},"b":{"status":null}}'))).toBeUndefined();
    expect(walk('{"a":{"status":nul}}')).toBeUndefined();
  });
});

describe('a member with a status that cannot be read', () => {
  it('is walked as unreadable, the others as connectors, as parseListing reads them', () => {
    const first = same(JSON.stringify({ a: entry('a', []), b: entry('b', []) }));
    const renamed = same(JSON.stringify({ a: entry('a', []), b: entry('x', []) }), first);
    expect(renamed.connectors.map((c) => c.name)).toEqual(['a']);
    expect(renamed.unreadable).toEqual([{ name: 'b', problem: 'connectors["b"].status.name: does not match the connector it is listed under' }]);
    const unknownState = same(JSON.stringify({ a: entry('a', [{ state: 'DRAINING' }]), b: entry('b', []) }), renamed);
    expect(unknownState.connectors.map((c) => c.name)).toEqual(['b']);
    expect(unknownState.unreadable[0]?.problem).toMatch(/^connectors\["a"\]\.status\.tasks\[0\]\.state: unknown state "DRAINING"/);
    expect(same('{"a":{"status":{"name":"a"}}}').unreadable.map((u) => u.name)).toEqual(['a']);
  });

  it('is walked as unreadable when the member itself is null, an array, a number or a lone {}', () => {
    const ok = JSON.stringify(entry('ok', [{ state: 'RUNNING' }]));
    let previous: ListingIndex | undefined;
    for (const bad of ['null', '[]', '[{"status":null}]', '7', '"x"', '{}']) {
      previous = same(`{"bad":${bad},"ok":${ok}}`, previous);
      expect(previous.unreadable.map((u) => u.name)).toEqual(['bad']);
      expect(previous.connectors.map((c) => c.name)).toEqual(['ok']);
    }
  });

  it('reads again once its bytes are right, and its neighbours are reused meanwhile', () => {
    const good = same(JSON.stringify({ a: entry('a', []), b: entry('b', [{ state: 'RUNNING' }]) }));
    const bad = same(JSON.stringify({ a: entry('a', []), b: entry('b', [{ state: 'DRAINING' }]) }), good);
    expect(bad.connectors[0]).toBe(good.connectors[0]);
    const again = same(JSON.stringify({ a: entry('a', []), b: entry('b', [{ state: 'RUNNING' }]) }), bad);
    expect(again.unreadable).toEqual([]);
    expect(again.connectors.map((c) => c.name)).toEqual(['a', 'b']);
  });
});

describe('indexMembers with another entry parser: the info listing', () => {
  const infos = (text: string) => {
    const walked = indexMembers(Buffer.from(text), parseInfoEntry);
    return walked === undefined ? undefined : splitInfo(walked.names.map((name, k) => [name, walked.entries[k]] as const));
  };

  it('reads the real expand=info body member by member as parseInfoListing reads the whole', () => {
    const text = JSON.stringify(expandOnly('info'));
    const walked = infos(text);
    expect(walked?.infos.size).toBeGreaterThan(0);
    expect(walked).toEqual(parseInfoListing(JSON.parse(text)));
  });

  it('leaves out a connector listed without an info, reads a member of a wrong shape as parseInfoListing does, and gives up on a name twice', () => {
    expect(infos('{"gone":{"info":null},"a":{"info":{"config":{"tasks.max":"2"}}}}')?.infos).toEqual(new Map([['a', { tasksMax: 2 }]]));
    const bad = '{"a":{"info":{"config":"x"}},"n":null,"b":{"info":{"config":{"tasks.max":"2"}}}}';
    expect(infos(bad)).toEqual(parseInfoListing(JSON.parse(bad)));
    expect(infos(bad)?.unreadable).toEqual(new Map([['a', 'connectors["a"].info.config: expected an object, got string'], ['n', 'connectors["n"]: expected an object, got null']]));
    expect(infos('{"a":{"info":{}},"a":{"info":{}}}')).toBeUndefined();
  });
});

describe('random listings and random changes', () => {
  it('always read as parseListing reads the whole body, reusing every member left alone', () => {
    const random = seeded(20261204);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const pieces = ['a', 'Z', ' ', '"', '\\', '{', '}', '[', ']', ',', ':', '\n', '\t', '\u00e9', '\ud83d\ude00', '\\"', '"},"', '0'];
    const text = (n: number) => Array.from({ length: n }, () => pick(pieces)).join('');
    const names = ['a', 'b', 'pg-orders', '10', '2', '0', 'x"y', 'back\\slash', 'brace}', 'sp ace', '\u00e9t\u00e9', 'n:1'];
    const states = ['RUNNING', 'FAILED', 'PAUSED', 'UNASSIGNED', 'RESTARTING', 'STOPPED'];
    const task = () => {
      const state = pick(states);
      return state === 'FAILED' || random() < 0.1 ? { state, trace: text(Math.floor(random() * 40)) } : { state };
    };
    const connector = (name: string) => (random() < 0.05 ? { status: null } : entry(name, Array.from({ length: Math.floor(random() * 4) }, task), pick(states)));

    let reusedTotal = 0;
    for (let run = 0; run < 40; run += 1) {
      let cluster: [string, Body][] = names.filter(() => random() < 0.7).map((n) => [n, connector(n)]);
      let previous: ListingIndex | undefined;
      let previousBytes = Buffer.alloc(0);
      for (let poll = 0; poll < 15; poll += 1) {
        const edits = Math.floor(random() * 3);
        for (let e = 0; e < edits; e += 1) {
          const r = random();
          if (r < 0.4 && cluster.length > 0) {
            const i = Math.floor(random() * cluster.length);
            cluster[i] = [cluster[i]![0], connector(cluster[i]![0])];
          } else if (r < 0.6) {
            const name = pick(names);
            if (!cluster.some(([n]) => n === name)) cluster.splice(Math.floor(random() * (cluster.length + 1)), 0, [name, connector(name)]);
          } else if (r < 0.8 && cluster.length > 0) {
            cluster.splice(Math.floor(random() * cluster.length), 1);
          } else if (cluster.length > 1) {
            cluster = [...cluster.slice(1), cluster[0]!];
          }
        }
        const body = serialize(cluster, random() < 0.2 ? 1 : undefined);
        const index = same(body, previous);
        if (previous !== undefined) {
          // A member whose bytes were in the last body keeps its connector object.
          const bytes = Buffer.from(body);
          const last = previous;
          index.names.forEach((n, i) => {
            const k = last.names.indexOf(n);
            const was = last.entries[k];
            const unchanged = k !== -1 && previousBytes.subarray(last.starts[k], last.ends[k]).equals(bytes.subarray(index.starts[i], index.ends[i]));
            if (unchanged && was !== undefined) {
              expect(index.entries[i]).toBe(was);
              reusedTotal += 1;
            }
          });
        }
        previous = index;
        previousBytes = Buffer.from(body);
      }
    }
    expect(reusedTotal).toBeGreaterThan(1000);
  });
});
