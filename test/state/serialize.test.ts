import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/escalate/types.js';
import { touchIncident } from '../../src/heal/incidents.js';
import type { HealState, SubjectState } from '../../src/heal/types.js';
import { StateEncoder } from '../../src/state/serialize.js';
import { STATE_VERSION, parseState, writeAll, type PersistedState } from '../../src/state/store.js';
import { incident } from '../escalate/fixtures.js';
import { seeded } from '../../bench/lib/stats.js';

const doc = (heal: HealState, outbox: unknown = []): PersistedState => ({ version: STATE_VERSION, savedAt: '2026-11-25T10:00:00.000Z', heal, outbox });
const text = (buffers: readonly Buffer[]) => Buffer.concat(buffers).toString('utf8');

function subject(connector: string, task: number | null, over: Partial<SubjectState> = {}): SubjectState {
  return { cluster: 'prod', connector, task, state: 'FAILED', workerId: 'w1:8083', attempts: 0, restartTimes: [], moves: [], class: 'serialization', failedSince: 1, ...over };
}

describe('StateEncoder', () => {
  it('writes what JSON.stringify writes, odd keys and characters included', () => {
    const trace = 'org.example.BadException: "quoted" \\ back\tslash\nCaused by: ünïcødé ☃ \u0001 \u2028';
    const heal: HealState = {
      subjects: {
        'prod/a "b"/0': subject('a "b"', 0, { lastSkip: 'escalate-only', restartTimes: [5, 6] }),
        'prod/é/connector': subject('é', null, { class: undefined }),
      },
      incidents: {
        k1: incident({ connector: 'a "b"', traceExcerpt: trace, rootCause: trace }),
        k2: incident({ connector: 'x', task: null, resolvedAt: 9 }),
      },
      budgets: { prod: { tokens: 2.5, updatedAt: 7 } },
      offsets: { 'prod/a "b"': { cluster: 'prod', connector: 'a "b"', digest: 'Zm9v-YmFy_0123456789ab', movedAt: 11 } },
      health: { prod: { cluster: 'prod', status: 'unhealthy', message: 'The worker is currently "ensuring membership" in the cluster', since: 13 } },
    };
    const outbox = [{ sink: 'pager', event: { id: 'e1', note: trace } }];
    const encoded = text(new StateEncoder().encode(doc(heal, outbox)));
    expect(JSON.parse(encoded)).toEqual(JSON.parse(JSON.stringify(doc(heal, outbox))));
    expect(parseState(encoded)).toEqual(parseState(JSON.stringify(doc(heal, outbox))));
  });

  it('writes empty records and an entry made of volatile fields only', () => {
    const encoder = new StateEncoder();
    const empty: HealState = { subjects: {}, incidents: {}, budgets: {} };
    expect(JSON.parse(text(encoder.encode(doc(empty))))).toEqual(JSON.parse(JSON.stringify(doc(empty))));
    const odd = { subjects: {}, incidents: { only: { lastSeen: 3, attempts: 1 }, none: {} }, budgets: {} } as unknown as HealState;
    expect(JSON.parse(text(encoder.encode(doc(odd))))).toEqual({ ...doc(odd), heal: odd });
  });

  it('reuses the bytes of an unchanged entry and of a touched incident, and encodes a changed one anew', () => {
    const encoder = new StateEncoder();
    const s = subject('a', 0);
    const open = incident({ lastSeen: 100, attempts: 1 });
    const first = encoder.encode(doc({ subjects: { 'prod/a/0': s }, incidents: { [open.key]: open }, budgets: {} }));
    const touched = touchIncident(open, 200, 2, 'w2:8083');
    const second = encoder.encode(doc({ subjects: { 'prod/a/0': s }, incidents: { [open.key]: touched }, budgets: {} }));
    // Same buffer objects: the subject and the incident's stable fields were not encoded again.
    expect(second[1]).toBe(first[1]);
    const headOf = (buffers: Buffer[]) => buffers.find((b) => b.toString().startsWith(JSON.stringify(open.key)));
    expect(headOf(second)).toBe(headOf(first));
    const back = JSON.parse(text(second)) as { heal: { incidents: Record<string, Incident> } };
    expect(back.heal.incidents[open.key]).toEqual(touched);

    const changed = { ...s, attempts: 1 };
    const third = encoder.encode(doc({ subjects: { 'prod/a/0': changed }, incidents: {}, budgets: {} }));
    expect(third[1]).not.toBe(first[1]);
    expect((JSON.parse(text(third)) as { heal: HealState }).heal).toEqual({ subjects: { 'prod/a/0': changed }, incidents: {}, budgets: {} });
  });

  it('never writes a stale entry over a run of random changes (seeded)', () => {
    const random = seeded(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const encoder = new StateEncoder();
    let subjects: Record<string, SubjectState> = {};
    let incidents: Record<string, Incident> = {};
    for (let step = 0; step < 400; step += 1) {
      const name = `c${Math.floor(random() * 12)}`;
      const key = `prod/${name}/0`;
      switch (pick(['add', 'touch', 'edit', 'drop', 'incident', 'resolve'] as const)) {
        case 'add':
          subjects = { ...subjects, [key]: subject(name, 0, { attempts: Math.floor(random() * 3) }) };
          break;
        case 'touch':
          incidents = Object.fromEntries(Object.entries(incidents).map(([k, i]) => [k, touchIncident(i, step, i.attempts + (random() < 0.3 ? 1 : 0), pick(['', 'w1', 'w2']))]));
          break;
        case 'edit': {
          const s = subjects[key];
          if (s !== undefined) subjects = { ...subjects, [key]: { ...s, lastSkip: pick(['backoff', 'budget', undefined] as const), restartTimes: [...s.restartTimes, step] } };
          const i = Object.values(incidents)[0];
          if (i !== undefined) incidents = { ...incidents, [i.key]: { ...i, reason: `reason ${step}` } };
          break;
        }
        case 'drop': {
          const { [key]: _, ...rest } = subjects;
          subjects = rest;
          break;
        }
        case 'incident': {
          const i = incident({ connector: name, firstSeen: step, lastSeen: step, traceExcerpt: `trace of ${name} at ${step}` });
          incidents = { ...incidents, [i.key]: i };
          break;
        }
        case 'resolve': {
          const i = pick(Object.values(incidents));
          if (i !== undefined) incidents = Object.fromEntries(Object.entries(incidents).filter(([k]) => k !== i.key));
          break;
        }
      }
      const state = doc({ subjects, incidents, budgets: { prod: { tokens: step, updatedAt: step } } });
      expect(JSON.parse(text(encoder.encode(state)))).toEqual(JSON.parse(JSON.stringify(state)));
    }
  });
});

describe('writeAll', () => {
  it('goes on after a short vectored write until every byte is written', async () => {
    const written: Buffer[] = [];
    // A file that takes at most 5 bytes per call, splitting buffers.
    const file = {
      writev: async (buffers: Buffer[]) => {
        const all = Buffer.concat(buffers).subarray(0, 5);
        written.push(Buffer.from(all));
        return { bytesWritten: all.length, buffers };
      },
    };
    const parts = ['{"a":', '1234567', ',"b":"xyz"', '}'].map((p) => Buffer.from(p));
    await writeAll(file as never, parts);
    expect(Buffer.concat(written).toString()).toBe('{"a":1234567,"b":"xyz"}');
    expect(written.length).toBe(5);
  });
});
