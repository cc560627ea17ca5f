import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseRetryAfter, statusVerdict } from '../../src/escalate/response.js';
import { T0 } from './fixtures.js';

describe('statusVerdict', () => {
  it.each([
    [200, 'ok'],
    [202, 'ok'],
    [204, 'ok'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [301, 'reject'],
    [400, 'reject'],
    [401, 'reject'],
    [404, 'reject'],
    [413, 'reject'],
  ] as const)('%i → %s', (status, verdict) => {
    expect(statusVerdict(status)).toBe(verdict);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates relative to now', () => {
    expect(parseRetryAfter('7', T0)).toBe(7_000);
    expect(parseRetryAfter(' 0 ', T0)).toBe(0);
    expect(parseRetryAfter(new Date(T0 + 42_000).toUTCString(), T0)).toBe(42_000);
    expect(parseRetryAfter(['3', '9'], T0)).toBe(3_000);
  });

  it('caps long waits and floors dates in the past at zero', () => {
    expect(parseRetryAfter('86400', T0)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter(new Date(T0 - 60_000).toUTCString(), T0)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, T0)).toBeUndefined();
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter('-5', T0)).toBeUndefined();
  });
});
