import { describe, expect, it } from 'vitest';
import { backoffWait, restartDueAt } from '../../src/heal/backoff.js';
import { DEFAULTS, withConfig } from './helpers.js';

const noJitter = () => 0;

describe('backoffWait', () => {
  it('grows from the initial wait by the factor up to the cap (defaults 10 s, ×2, 10 min)', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffWait(n, DEFAULTS, noJitter));
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000]);
  });

  it('jitter only shortens the wait, by at most the jitter fraction', () => {
    expect(backoffWait(3, DEFAULTS, () => 0.999999)).toBe(Math.round(40_000 * (1 - 0.2 * 0.999999)));
    expect(backoffWait(3, DEFAULTS, () => 0.5)).toBe(36_000);
    expect(backoffWait(30, DEFAULTS, () => 0.5)).toBe(540_000);
  });

  it('waits the cap once maxAttempts restarts are spent', () => {
    const config = withConfig({ maxAttempts: 2 });
    expect(backoffWait(1, config, noJitter)).toBe(10_000);
    expect(backoffWait(2, config, noJitter)).toBe(600_000);
    expect(backoffWait(3, config, noJitter)).toBe(600_000);
  });

  it('stays finite after a very long streak', () => {
    expect(backoffWait(10_000, DEFAULTS, noJitter)).toBe(600_000);
  });
});

describe('restartDueAt', () => {
  it('makes the first restart due firstRestartDelay after the streak began', () => {
    expect(restartDueAt({ attempts: 0, failedSince: 1000 }, 0, 5000)).toBe(1000);
    expect(restartDueAt({ attempts: 0, failedSince: 1000 }, 30_000, 5000)).toBe(31_000);
  });

  it('makes later restarts due at nextRestartAt, even across a new streak', () => {
    expect(restartDueAt({ attempts: 2, failedSince: 1000, nextRestartAt: 90_000 }, 30_000, 5000)).toBe(90_000);
  });

  it('makes a restart due now when a clock stepped back left its time further off than any wait', () => {
    const cap = 600_000;
    expect(restartDueAt({ attempts: 2, nextRestartAt: 5000 + cap }, 0, 5000, cap)).toBe(5000 + cap);
    expect(restartDueAt({ attempts: 2, nextRestartAt: 5000 + cap + 1 }, 0, 5000, cap)).toBe(5000);
  });
});
