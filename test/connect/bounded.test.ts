import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../src/connect/bounded.js';

/** A call whose completion the test controls, so concurrency is observed without any timing. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('mapBounded', () => {
  it('never runs more than the limit at once and keeps the input order', async () => {
    const gates = Array.from({ length: 7 }, gate);
    let running = 0;
    let max = 0;
    const started: number[] = [];
    const result = mapBounded([0, 1, 2, 3, 4, 5, 6], 3, async (i) => {
      started.push(i);
      running++;
      max = Math.max(max, running);
      await gates[i]!.promise;
      running--;
      return i * 10;
    });
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    expect(await result).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(max).toBe(3);
  });

  it('starts nothing more after a failure, aborts the running calls and throws the first error', async () => {
    const started: number[] = [];
    const aborted: number[] = [];
    const p = mapBounded([0, 1, 2, 3, 4], 2, async (i, signal) => {
      started.push(i);
      if (i === 1) throw new Error('boom');
      // Like a request: settles when its signal aborts.
      return new Promise<number>((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(i);
          reject(new Error('aborted'));
        }),
      );
    });
    await expect(p).rejects.toThrow('boom');
    expect(started).toEqual([0, 1]);
    expect(aborted).toEqual([0]);
  });

  it('handles an empty list and a limit of 0 or more than the items', async () => {
    expect(await mapBounded([], 3, async (x: number) => x)).toEqual([]);
    expect(await mapBounded([1, 2], 0, async (x) => x + 1)).toEqual([2, 3]);
    expect(await mapBounded([1, 2], 99, async (x) => x + 1)).toEqual([2, 3]);
  });

  it('throws the caller reason when aborted up front, calling nothing', async () => {
    let calls = 0;
    const reason = new Error('stop');
    await expect(
      mapBounded([1, 2], 2, async (x) => {
        calls++;
        return x;
      }, AbortSignal.abort(reason)),
    ).rejects.toBe(reason);
    expect(calls).toBe(0);
  });
});
