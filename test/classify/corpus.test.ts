/**
 * The classifier against labeled real traces: /work/shared/traces/dev.jsonl (beside the project
 * root) and test/fixtures/traces/*.jsonl. Prints accuracy and a confusion matrix; fails below
 * 95% overall, and fails if any serialization or config trace is classified connection (that
 * mistake makes the watchdog restart-loop on something a restart cannot fix).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/classify/classify.js';
import { FAILURE_CLASSES, type FailureClass } from '../../src/classify/types.js';

interface LabeledTrace {
  readonly id: string;
  readonly class: string;
  readonly ambiguous: boolean;
  readonly connector: string;
  readonly source: string;
  readonly trace: string;
}

interface Case extends LabeledTrace {
  readonly file: string;
  readonly expected: FailureClass;
}

const DEV_URL = new URL('../../../shared/traces/dev.jsonl', import.meta.url);
const FIXTURES_URL = new URL('../fixtures/traces/', import.meta.url);
const MIN_ACCURACY = 0.95;

function readJsonl(url: URL, file: string): Case[] {
  return readFileSync(url, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let entry: LabeledTrace;
      try {
        entry = JSON.parse(line) as LabeledTrace;
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not JSON (${String(err)})`);
      }
      // The shared corpus says `other` where the watchdog says `unknown`.
      const expected = (entry.class === 'other' ? 'unknown' : entry.class) as FailureClass;
      return { ...entry, file, expected };
    });
}

const devPresent = existsSync(DEV_URL);
const fixtureFiles = readdirSync(FIXTURES_URL).filter((f) => f.endsWith('.jsonl')).sort();
const cases: Case[] = [
  ...(devPresent ? readJsonl(DEV_URL, 'shared/traces/dev.jsonl') : []),
  ...fixtureFiles.flatMap((f) => readJsonl(new URL(f, FIXTURES_URL), `test/fixtures/traces/${f}`)),
];

const results = cases.map((c) => ({ c, got: classify(c.trace) }));

function pct(n: number, d: number): string {
  return d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}%`;
}

function confusionMatrix(rows: readonly { c: Case; got: { class: FailureClass } }[]): string {
  const width = 14;
  const pad = (s: string) => s.padStart(width);
  const lines = [`${'expected \\ got'.padEnd(width)}${FAILURE_CLASSES.map(pad).join('')}`];
  for (const exp of FAILURE_CLASSES) {
    const counts = FAILURE_CLASSES.map((got) => rows.filter((r) => r.c.expected === exp && r.got.class === got).length);
    lines.push(`${exp.padEnd(width)}${counts.map((n) => pad(String(n))).join('')}`);
  }
  return lines.join('\n');
}

describe('classifier corpus', () => {
  it('has well-formed, uniquely named, cited fixtures', () => {
    expect(fixtureFiles.length).toBeGreaterThan(0);
    const ids = new Set<string>();
    for (const c of cases) {
      expect(FAILURE_CLASSES, `${c.file} ${c.id}: class`).toContain(c.expected);
      expect(typeof c.trace, `${c.file} ${c.id}: trace`).toBe('string');
      expect(c.trace.trim().length, `${c.file} ${c.id}: empty trace`).toBeGreaterThan(0);
      expect(typeof c.ambiguous, `${c.file} ${c.id}: ambiguous`).toBe('boolean');
      expect(ids.has(c.id), `duplicate id ${c.id}`).toBe(false);
      ids.add(c.id);
      if (c.file.startsWith('test/fixtures')) {
        // Every fixture cites where it came from: owner/repo#number, or the real worker's file.
        expect(c.source, `${c.id}: source`).toMatch(
          /^(?:[\w.-]+\/[\w.-]+#\d+|real-worker:kafka-[\d.]+\+debezium-[\d.]+:[\w.-]+\.json)$/,
        );
      }
    }
  });

  it(`classifies at least ${MIN_ACCURACY * 100}% of the labeled traces right, and never calls serialization/config "connection"`, () => {
    const right = results.filter((r) => r.got.class === r.c.expected);
    const groups = new Map<string, typeof results>();
    for (const r of results) groups.set(r.c.file, [...(groups.get(r.c.file) ?? []), r]);

    const report: string[] = [];
    if (!devPresent) report.push(`NOTE: ${DEV_URL.pathname} not found; running on the fixtures only.`);
    report.push(`classifier corpus: ${right.length}/${results.length} right = ${pct(right.length, results.length)}`);
    for (const [file, rows] of groups) {
      const ok = rows.filter((r) => r.got.class === r.c.expected).length;
      report.push(`  ${file}: ${ok}/${rows.length} = ${pct(ok, rows.length)}`);
    }
    const unambiguous = results.filter((r) => !r.c.ambiguous);
    const unambiguousRight = unambiguous.filter((r) => r.got.class === r.c.expected).length;
    report.push(`  unambiguous only: ${unambiguousRight}/${unambiguous.length} = ${pct(unambiguousRight, unambiguous.length)}`);
    report.push('', confusionMatrix(results), '');
    const misses = results.filter((r) => r.got.class !== r.c.expected);
    if (misses.length > 0) {
      report.push('misclassified:');
      for (const r of misses) {
        report.push(`  ${r.c.id} [${r.c.source}${r.c.ambiguous ? ', ambiguous' : ''}] expected ${r.c.expected}, got ${r.got.class}: ${r.got.rule}`);
      }
    }
    console.log(report.join('\n'));

    const dangerous = results.filter(
      (r) => (r.c.expected === 'serialization' || r.c.expected === 'config') && r.got.class === 'connection',
    );
    expect(
      dangerous.map((r) => `${r.c.id} (${r.c.expected} classified connection by ${r.got.rule})`),
      'serialization/config traces classified as connection: the watchdog would restart-loop on these',
    ).toEqual([]);

    const accuracy = right.length / results.length;
    expect(
      accuracy,
      `accuracy ${pct(right.length, results.length)} is below ${MIN_ACCURACY * 100}%; misclassified: ${misses.map((r) => r.c.id).join(', ')}`,
    ).toBeGreaterThanOrEqual(MIN_ACCURACY);
  });

  it('gives every corpus trace a root cause, a named rule with its matched line, and a hint', () => {
    for (const { c, got } of results) {
      expect(got.rootCause.length, c.id).toBeGreaterThan(0);
      expect(got.rootCause.length, c.id).toBeLessThanOrEqual(300);
      expect(got.rule, c.id).toMatch(/^[\w.-]+: .+ \(matched: ".*"\)$/s);
      expect(got.hint.length, c.id).toBeGreaterThan(20);
    }
  });
});
