/**
 * The per-cluster restart budget: a token bucket holding at most perMinute tokens, refilled at perMinute
 * per minute. One restart request costs one token. Pure: the bucket lives in HealState.budgets.
 */
import type { BudgetState } from './types.js';

const MINUTE = 60_000;

/** The bucket at `now`: full when never used, refilled for the time elapsed since its last update. */
export function refill(bucket: BudgetState | undefined, perMinute: number, now: number): BudgetState {
  if (bucket === undefined) return { tokens: perMinute, updatedAt: now };
  // A clock that went backwards (state file from another host) refills nothing rather than draining.
  const elapsed = Math.max(0, now - bucket.updatedAt);
  return { tokens: Math.min(perMinute, bucket.tokens + (elapsed * perMinute) / MINUTE), updatedAt: now };
}

/** Takes one token, or undefined when the bucket holds less than one. */
export function take(bucket: BudgetState): BudgetState | undefined {
  return bucket.tokens >= 1 ? { tokens: bucket.tokens - 1, updatedAt: bucket.updatedAt } : undefined;
}
