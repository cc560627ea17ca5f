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

/** The same fields with the same values, those in `ignored` aside (whatever their values, and whether present or not). */
export function sameFields(a: Entry, b: Entry, ignored: readonly string[]): boolean {
  let count = 0;
  for (const k in a) {
    if (ignored.includes(k)) continue;
    count += 1;
    if (!sameValue(a[k], b[k])) return false;
  }
  for (const k in b) if (!ignored.includes(k)) count -= 1;
  return count === 0;
}

function sameRecord(a: Readonly<Record<string, Entry>>, b: Readonly<Record<string, Entry>>, ignored: readonly string[]): boolean {
  let count = 0;
  for (const key in a) {
    count += 1;
    const other = b[key];
    if (other === undefined || !sameFields(a[key] as Entry, other, ignored)) return false;
  }
  for (const _ in b) count -= 1;
  return count === 0;
}

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
    sameValue(next.outbox, last.outbox)
  );
}
