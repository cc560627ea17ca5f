/**
 * The status listing read connector by connector from its bytes, reusing what the last listing parsed.
 *
 * `GET /connectors?expand=status` is one JSON object with one member per connector. When it changes
 * between two polls (a task fails, a crash-looping task restarts), nearly every member is the same bytes
 * as before: those keep the connector parsed last time (the very object), and only the members that
 * changed are decoded and parsed. Parsing the whole 1.5 MB body of 10k tasks again, and collecting it,
 * was most of the cost of such a poll (bench/scale, watchdog-churn).
 *
 * Why reuse is sound: JSON is read left to right, so from the same point of the grammar (here: where a
 * member's name starts) the same bytes read the same way. The walk reaches each member start having
 * checked everything before it, and compares the member's bytes with the last body's member of the same
 * position or name (a native memcmp); equal, they are the same member. A member that differs is scanned to
 * its end and parsed alone (JSON.parse, then parseListingEntry). The result is what parseListing gives for
 * the whole body, order included (JSON.parse lists array-index names first, ascending); anything the walk
 * does not handle (not an object, a name twice, bytes that do not parse, members all `{}`) answers undefined,
 * and the caller parses the whole body the usual way, which gives the canonical result or error.
 *
 * The walk itself (indexMembers) takes the parser of one member: the client reads the `expand=info`
 * listing with it too, so that one connector's config is materialized at a time, not the whole body's.
 */
import { ignoredExpand, parseListingEntry, splitListed, type ListedConnectors } from './shapes.js';
import type { ConnectorSnapshot, UnreadableConnector } from './types.js';

/** A listing body and where each of its members lies, for the next body to reuse. */
export interface MemberIndex<T> {
  readonly bytes: Buffer;
  /** Per member, in body order: its name, its bytes [start, end) (`"name":{…}`), and what it parsed to. */
  readonly names: readonly string[];
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** undefined: a member that parsed to nothing (a connector listed without a status or an info). */
  readonly entries: readonly (T | undefined)[];
}

/** The status listing, walked: its connectors (and unreadable ones) in the order parseListing gives them. */
export interface ListingIndex extends MemberIndex<ConnectorSnapshot | UnreadableConnector>, ListedConnectors {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** JSON's whitespace: space, line feed, carriage return, tab. */
const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i])) i += 1;
  return i;
}

/** Just past the closing quote of the string opening at `i`, or -1 when it does not close. */
function skipString(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j += 1) {
    const c = b[j];
    if (c === BACKSLASH) j += 1;
    else if (c === QUOTE) return j + 1;
  }
  return -1;
}

/**
 * Just past the JSON value starting at `i`, or -1 when the bytes end first. Only brackets and strings are
 * tracked: JSON.parse checks the value itself.
 */
function skipValue(b: Buffer, i: number): number {
  const first = b[i];
  if (first === QUOTE) return skipString(b, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number, true, false or null: up to the next delimiter.
    let j = i;
    while (j < b.length) {
      const c = b[j];
      if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isSpace(c)) break;
      j += 1;
    }
    return j;
  }
  let depth = 0;
  for (let j = i; j < b.length; j += 1) {
    const c = b[j];
    if (c === QUOTE) {
      j = skipString(b, j);
      if (j === -1) return -1;
      j -= 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth += 1;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth -= 1;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

/** A name JSON.parse's object lists before all others, in ascending order (an array index). */
function isArrayIndex(name: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(name) && Number(name) < 2 ** 32 - 1;
}

/** JSON.parse of b[start, end), or undefined when it is not JSON. */
function parseJson(b: Buffer, start: number, end: number): { readonly value: unknown } | undefined {
  try {
    return { value: JSON.parse(b.toString('utf8', start, end)) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * The members of the JSON object in `bytes` (a 2xx body), each parsed alone by `parseEntry` (which throws
 * on a shape error), reusing what `previous` parsed of the members whose bytes did not change; undefined
 * when the body is not one the walk handles (see the module comment): parse it whole then.
 */
export function indexMembers<T>(bytes: Buffer, parseEntry: (name: string, value: unknown) => T | undefined, previous?: MemberIndex<T>): MemberIndex<T> | undefined {
  const b = bytes;
  let i = skipSpace(b, 0);
  if (b[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(b, i + 1);

  // The last body's members by name, built only when a member is not where it was.
  let previousByName: Map<string, number> | undefined;
  const byName = (last: MemberIndex<T>): Map<string, number> => (previousByName ??= new Map(last.names.map((n, k) => [n, k])));
  /** The last body's member k, when b holds its very bytes at i (the walk then checks what follows them). */
  const sameAs = (k: number | undefined): boolean => {
    if (previous === undefined || k === undefined || k >= previous.names.length) return false;
    const start = previous.starts[k] as number;
    const end = previous.ends[k] as number;
    return i + (end - start) <= b.length && b.compare(previous.bytes, start, end, i, i + (end - start)) === 0;
  };

  const names: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const entries: (T | undefined)[] = [];
  const seen = new Set<string>();

  if (b[i] !== CLOSE_OBJECT) {
    for (;;) {
      if (b[i] !== QUOTE) return undefined;
      const start = i;
      // The name, read only when the member is not the very bytes of the last body's member at this position.
      let key: { readonly name: string; readonly end: number } | undefined;
      let reused = sameAs(names.length) ? names.length : undefined;
      if (reused === undefined) {
        const end = skipString(b, i);
        const parsed = end === -1 ? undefined : parseJson(b, i, end);
        if (parsed === undefined || typeof parsed.value !== 'string') return undefined;
        key = { name: parsed.value, end };
        // The connector at this position changed, or it moved (one was added or deleted before it), or it is new.
        const k = previous === undefined || previous.names[names.length] === key.name ? undefined : byName(previous).get(key.name);
        if (sameAs(k)) reused = k;
      }
      let name: string;
      let entry: T | undefined;
      if (reused !== undefined && previous !== undefined) {
        name = previous.names[reused] as string;
        entry = previous.entries[reused];
        i += (previous.ends[reused] as number) - (previous.starts[reused] as number);
      } else if (key !== undefined) {
        name = key.name;
        i = skipSpace(b, key.end);
        if (b[i] !== COLON) return undefined;
        const valueStart = skipSpace(b, i + 1);
        const valueEnd = skipValue(b, valueStart);
        const value = valueEnd === -1 ? undefined : parseJson(b, valueStart, valueEnd);
        if (value === undefined) return undefined;
        try {
          entry = parseEntry(name, value.value);
        } catch {
          return undefined; // the whole-body parse reports it, as it always has
        }
        i = valueEnd;
      } else return undefined;
      // JSON.parse keeps the last of two equal names, where the first was: not worth copying.
      if (seen.has(name)) return undefined;
      seen.add(name);
      names.push(name);
      starts.push(start);
      ends.push(i);
      entries.push(entry);
      i = skipSpace(b, i);
      if (b[i] === COMMA) {
        i = skipSpace(b, i + 1);
        continue;
      }
      if (b[i] === CLOSE_OBJECT) break;
      return undefined;
    }
  }
  if (skipSpace(b, i + 1) !== b.length) return undefined;
  return { bytes, names, starts, ends, entries };
}

/**
 * The status listing in `bytes` (a 2xx body), reusing the members `previous` parsed; undefined when the
 * body is not one the walk handles (see the module comment): parse it whole then.
 */
export function indexListing(bytes: Buffer, previous?: ListingIndex): ListingIndex | undefined {
  const walked = indexMembers(bytes, parseListingEntry, previous);
  if (walked === undefined || ignoredExpand(walked.entries)) return undefined;
  let entries = walked.entries.filter((c) => c !== undefined);
  if (walked.names.some(isArrayIndex)) {
    const index = entries.filter((c) => isArrayIndex(c.name)).sort((x, y) => Number(x.name) - Number(y.name));
    entries = [...index, ...entries.filter((c) => !isArrayIndex(c.name))];
  }
  return { ...walked, ...splitListed(entries) };
}
