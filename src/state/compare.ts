/**
 * Comparing state documents without encoding them. State entries are immutable (the policy and the outbox
 * replace an entry to change it), so fields compare by identity, and arrays of times (a subject's moves
 * and restart times, rebuilt by each observation) element by element.
 */
import type { StateContent } from './store.js';

type Entry = Readonly<Record<string, unknown>>;

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The same fields with the same values (`same`: by identity, arrays element by element), those in
 * `ignored` aside (whatever their values, and whether present or not).
 */
export function sameFields<T>(a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>, ignored: readonly string[], same: (x: T, y: T) => boolean = sameValue): boolean {
  let count = 0;
  for (const k in a) {
    if (ignored.includes(k)) continue;
    count += 1;
    if (!Object.hasOwn(b, k) || !same(a[k] as T, b[k] as T)) return false;
  }
  for (const k in b) if (!ignored.includes(k)) count -= 1;
  return count === 0;
}

/** The same keys, each entry with the same fields, those in `ignored` aside. */
const sameRecord = (a: Readonly<Record<string, Entry>>, b: Readonly<Record<string, Entry>>, ignored: readonly string[]): boolean =>
  sameFields(a, b, [], (x, y) => sameFields(x, y, ignored));

/**
 * `next` differs from `last` only in timestamps that move at every poll and that nothing reads back: an
 * open incident's lastSeen (the next poll sets it again) and a budget's updatedAt while its tokens did not
 * change (a full bucket, which refills to full from any time). Such a document need not be written.
 */
export function onlyTimestampsMoved(next: StateContent, last: StateContent): boolean {
  const record = (r: object) => r as Readonly<Record<string, Entry>>;
  return (
    sameRecord(record(next.heal.subjects), record(last.heal.subjects), []) &&
    sameRecord(record(next.heal.incidents), record(last.heal.incidents), ['lastSeen']) &&
    sameRecord(record(next.heal.budgets), record(last.heal.budgets), ['updatedAt']) &&
    sameRecord(record(next.heal.health ?? {}), record(last.heal.health ?? {}), []) &&
    sameValue(next.outbox, last.outbox) &&
    next.routes === last.routes &&
    next.sinks === last.sinks
  );
}
