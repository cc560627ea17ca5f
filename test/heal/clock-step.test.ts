import { describe, expect, it } from 'vitest';
import { clockStep, shiftTimes } from '../../src/heal/clock-step.js';
import type { HealState } from '../../src/heal/types.js';

describe('a wall clock stepped', () => {
  it('is a step only beyond a second and NTP slewing, forward or back', () => {
    expect(clockStep(3_610_000, 10_000)).toBe(3_600_000);
    expect(clockStep(10_500, 10_000)).toBe(0);
    expect(clockStep(-3_590_000, 10_000)).toBe(-3_600_000); // stepped back: moved back, not clamped to now
    expect(clockStep(9_500, 10_000)).toBe(0);
    expect(clockStep(86_400_000 - 60_000, 86_400_000)).toBe(0);
    expect(clockStep(86_400_000 + 60_000, 86_400_000)).toBe(0); // a day slewed at 500 ppm is 43 s: not a step
  });

  it('moves every remembered time but an incident\'s firstSeen (in its events\' ids)', () => {
    const state: HealState = {
      subjects: {
        s: { cluster: 'c', connector: 'a', task: 0, state: 'FAILED', workerId: 'w', attempts: 1, restartTimes: [100], moves: [50], failedSince: 10, nextRestartAt: 200, lastRestartAt: 100 },
      },
      incidents: {
        k: { key: 'k', cluster: 'c', connector: 'a', task: 0, class: 'unassigned', severity: 'warning', reason: '', rootCause: '', hint: '', attempts: 0, firstSeen: 10, lastSeen: 100, workerId: '', traceExcerpt: '' },
      },
      budgets: { c: { tokens: 1, updatedAt: 100 } },
      offsets: { 'c/a': { cluster: 'c', connector: 'a', digest: 'd', movedAt: 100 } },
      health: { c: { cluster: 'c', status: 'unhealthy', message: 'm', since: 100 } },
    };
    const shifted = shiftTimes(state, 1_000);
    expect(shifted.subjects['s']).toMatchObject({ restartTimes: [1_100], moves: [1_050], failedSince: 1_010, nextRestartAt: 1_200, lastRestartAt: 1_100, attempts: 1 });
    expect(shifted.incidents['k']).toMatchObject({ firstSeen: 10, lastSeen: 1_100 });
    expect(shifted.budgets['c']).toEqual({ tokens: 1, updatedAt: 1_100 });
    expect(shifted.offsets?.['c/a']?.movedAt).toBe(1_100);
    expect(shifted.health?.['c']?.since).toBe(1_100);
  });
});
