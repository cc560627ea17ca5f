/**
 * Restart timing: when the next restart of a FAILED subject is due. Pure; jitter comes from the
 * injected random source.
 */
import type { HealConfig } from '../config/types.js';

type BackoffConfig = Pick<HealConfig, 'backoff' | 'maxAttempts'>;

/**
 * The wait after the `attempt`-th restart (1-based) before the next one:
 *   base = min(max, initial × factor^(attempt−1)), or max once attempt ≥ maxAttempts (> 0);
 *   wait = base × (1 − jitter × random()).
 * Jitter only shortens the wait so that the cap stays a cap, and spreads connectors that failed together.
 */
export function backoffWait(attempt: number, config: BackoffConfig, random: () => number): number {
  const { initial, factor, max, jitter } = config.backoff;
  const capped = config.maxAttempts > 0 && attempt >= config.maxAttempts;
  // Exponent bounded so that a very long streak cannot overflow to Infinity × 0 = NaN.
  const base = capped ? max : Math.min(max, initial * Math.pow(factor, Math.min(Math.max(attempt - 1, 0), 64)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * (1 - jitter * r));
}

/**
 * When the next restart is due: the first one firstRestartDelay after the streak began, later ones at
 * nextRestartAt (set when the previous restart was committed). A clock stepped back leaves that time in
 * the future, further than any wait (`longestWait`, the backoff cap): due now then, rather than hours later
 * when the clock has caught up (observe() keeps failedSince from the future).
 */
export function restartDueAt(
  subject: { readonly attempts: number; readonly failedSince?: number; readonly nextRestartAt?: number },
  firstRestartDelay: number,
  now: number,
  longestWait = Infinity,
): number {
  if (subject.nextRestartAt !== undefined) return subject.nextRestartAt - now > Math.max(longestWait, firstRestartDelay) ? now : subject.nextRestartAt;
  if (subject.attempts === 0) return (subject.failedSince ?? now) + firstRestartDelay;
  return now; // attempts made but no wait recorded (a rolled-back restart): due now
}
