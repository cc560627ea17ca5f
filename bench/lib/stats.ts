/** Small helpers shared by the benches: a seeded random source, order statistics, Markdown tables. */

/** mulberry32: a seeded [0, 1) source, so that every run simulates the same clusters and jitter. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nearest-rank percentile (p in [0, 100]) of finite values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1] as number;
}

export const median = (values: readonly number[]): number => percentile(values, 50);
export const mean = (values: readonly number[]): number => {
  const v = values.filter((x) => !Number.isNaN(x));
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
};
export const max = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : Math.max(...values));

export function fixed(n: number, digits = 1): string {
  if (Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return 'never';
  return n.toFixed(digits);
}

/** A Markdown table; `align` per column: 'l' or 'r' (default r, except the first column). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const a = header.map((_, i) => align?.[i] ?? (i === 0 ? 'l' : 'r'));
  const sep = a.map((x) => (x === 'l' ? ':---' : '---:'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const escape = (cells: readonly string[]) => cells.map((c) => c.replaceAll('|', '\\|'));
  return [line(escape(header)), line(sep), ...rows.map((r) => line(escape(r)))].join('\n');
}

/** A duration in ms as "8.2 s", "4.5 min", "1.2 h", "never" (Infinity) or "—" (NaN). */
export function duration(ms: number): string {
  if (Number.isNaN(ms)) return '—';
  if (!Number.isFinite(ms)) return 'never';
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 90 * 60) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
