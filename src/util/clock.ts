/**
 * Whether `now` lies within `span` after `from`. A wall clock stepped back before `from` (NTP, a VM resumed)
 * ends the span rather than stretching it by the size of the step (an hour without re-sends for an hour's step).
 */
export function within(now: number, from: number, span: number): boolean {
  return now >= from && now - from < span;
}

/** The longest delay a Node timer keeps (2^31 − 1 ms, 24.8 days): a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A computed delay for a timer or AbortSignal.timeout(), held to what a timer keeps (a longer wait is no bound anyway). */
export const timerMs = (ms: number): number => Math.min(ms, MAX_TIMER_MS);

/**
 * The monotonic clock of a component: the one given, else `now` when only that is given (a fake clock in
 * tests, on which every advance is time that passed), else performance.now.
 */
export function monotonicOf(o: { readonly monotonic?: () => number; readonly now?: () => number }): () => number {
  return o.monotonic ?? o.now ?? (() => performance.now());
}
