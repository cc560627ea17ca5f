import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/escalate/types.js';
import type { HealState, SubjectState } from '../../src/heal/types.js';
import { onlyTimestampsMoved, sameFields } from '../../src/state/compare.js';
import type { StateContent } from '../../src/state/store.js';

const subject: SubjectState = { cluster: 'prod', connector: 'a', task: 0, state: 'FAILED', workerId: 'w1', class: 'config', failedSince: 1_000, attempts: 0, restartTimes: [], moves: [], lastSkip: 'escalate-only' };
const incident: Incident = {
  key: 'prod/a/0/config',
  cluster: 'prod',
  connector: 'a',
  task: 0,
  class: 'config',
  severity: 'error',
  reason: 'config failures are not fixed by a restart',
  rootCause: 'ConfigException: bad',
  hint: 'fix the config',
  attempts: 0,
  firstSeen: 1_000,
  lastSeen: 1_000,
  workerId: 'w1',
  traceExcerpt: 'ConfigException: bad',
};
const delivery = { sink: 'pager', event: { id: 'e1' }, attempts: 0 };

const content = (heal: Partial<HealState> = {}, outbox: unknown = [delivery]): StateContent => ({
  heal: { subjects: { 'prod/a/0': subject }, incidents: { [incident.key]: incident }, budgets: { prod: { tokens: 10, updatedAt: 1_000 } }, ...heal },
  outbox,
});

describe('onlyTimestampsMoved', () => {
  const last = content();

  it('is true when only incidents\u2019 lastSeen and a full budget\u2019s updatedAt moved, entries rebuilt with equal values', () => {
    const next = content({
      subjects: { 'prod/a/0': { ...subject, restartTimes: [], moves: [] } },
      incidents: { [incident.key]: { ...incident, lastSeen: 31_000 } },
      budgets: { prod: { tokens: 10, updatedAt: 31_000 } },
    }, [delivery]);
    expect(onlyTimestampsMoved(next, last)).toBe(true);
  });

  it.each<[string, StateContent]>([
    ['a subject changed', content({ subjects: { 'prod/a/0': { ...subject, attempts: 1 } } })],
    ['a subject\u2019s restart times changed', content({ subjects: { 'prod/a/0': { ...subject, restartTimes: [5_000] } } })],
    ['a subject gained a field', content({ subjects: { 'prod/a/0': { ...subject, nextRestartAt: 9_000 } } })],
    ['a subject was added', content({ subjects: { 'prod/a/0': subject, 'prod/a/1': { ...subject, task: 1 } } })],
    ['a subject was forgotten', content({ subjects: {} })],
    ['a subject was replaced under another key', content({ subjects: { 'prod/b/0': subject } })],
    ['an incident\u2019s attempts moved', content({ incidents: { [incident.key]: { ...incident, attempts: 2 } } })],
    ['an incident moved worker', content({ incidents: { [incident.key]: { ...incident, workerId: 'w2' } } })],
    ['an incident was resolved', content({ incidents: {} })],
    ['the budget was spent', content({ budgets: { prod: { tokens: 9, updatedAt: 31_000 } } })],
    ['a cluster\u2019s budget appeared', content({ budgets: { prod: { tokens: 10, updatedAt: 1_000 }, dr: { tokens: 10, updatedAt: 1_000 } } })],
    ['a delivery was queued', content({}, [delivery, { ...delivery, event: { id: 'e2' } }])],
    ['a delivery failed once more', content({}, [{ ...delivery, attempts: 1 }])],
    ['the worker said it is not healthy', content({ health: { prod: { cluster: 'prod', status: 'unhealthy', message: 'ensuring membership', since: 31_000 } } })],
  ])('is false when %s', (_what, next) => {
    expect(onlyTimestampsMoved(next, last)).toBe(false);
  });
});

describe('sameFields', () => {
  it('ignores the named fields, present or not, and compares arrays element by element', () => {
    expect(sameFields({ a: 1, t: [1, 2] }, { a: 1, t: [1, 2], lastSeen: 5 }, ['lastSeen'])).toBe(true);
    expect(sameFields({ a: 1, t: [1, 2] }, { a: 1, t: [2, 1] }, [])).toBe(false);
    expect(sameFields({ a: 1 }, { a: 1, b: undefined }, [])).toBe(false);
    expect(sameFields({ o: { x: 1 } }, { o: { x: 1 } }, [])).toBe(false); // objects by identity: entries are immutable
  });
});
