import { describe, expect, it } from 'vitest';
import { refill, take } from '../../src/heal/budget.js';

describe('restart budget (token bucket)', () => {
  it('starts full', () => {
    expect(refill(undefined, 10, 5000)).toEqual({ tokens: 10, updatedAt: 5000 });
  });

  it('refills at perMinute per minute, up to perMinute', () => {
    expect(refill({ tokens: 0, updatedAt: 0 }, 10, 6000).tokens).toBeCloseTo(1);
    expect(refill({ tokens: 0, updatedAt: 0 }, 10, 30_000).tokens).toBeCloseTo(5);
    expect(refill({ tokens: 4, updatedAt: 0 }, 10, 3_600_000).tokens).toBe(10);
  });

  it('does not refill when the clock goes backwards', () => {
    expect(refill({ tokens: 2, updatedAt: 10_000 }, 10, 5000)).toEqual({ tokens: 2, updatedAt: 5000 });
  });

  it('takes whole tokens only', () => {
    expect(take({ tokens: 1.5, updatedAt: 0 })).toEqual({ tokens: 0.5, updatedAt: 0 });
    expect(take({ tokens: 0.99, updatedAt: 0 })).toBeUndefined();
  });

  it('allows a burst of perMinute then one more per 60/perMinute seconds', () => {
    let b = refill(undefined, 10, 0);
    let granted = 0;
    for (let i = 0; i < 15; i++) {
      const next = take(b);
      if (next) {
        b = next;
        granted++;
      }
    }
    expect(granted).toBe(10);
    b = refill(b, 10, 6000);
    expect(take(b)).toBeDefined();
    expect(take(take(b) ?? b)).toBeUndefined();
  });
});
