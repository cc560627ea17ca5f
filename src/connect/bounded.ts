/** Map over items with at most `limit` calls in flight; results keep the input order. */

/**
 * Runs `fn` on every item, never more than `limit` at once. On the first failure no further call is
 * started, the shared signal given to the calls still running is aborted, and that failure is thrown
 * (once every started call has settled, so nothing is left running behind the caller's back).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const width = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal?.reason);
  if (signal?.aborted === true) stop.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });

  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;

  const lane = async (): Promise<void> => {
    while (failure === undefined && !stop.signal.aborted && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, stop.signal);
      } catch (error) {
        if (failure === undefined) failure = { error };
        stop.abort(error);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: width }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure.error;
  // Aborted before any call failed (e.g. aborted up front): report the caller's reason.
  if (stop.signal.aborted) throw stop.signal.reason;
  return results;
}
