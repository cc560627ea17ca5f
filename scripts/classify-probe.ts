/**
 * Runs the classifier over labeled trace files (the corpus's JSONL format) and prints accuracy,
 * a confusion matrix and every miss. For held-out probes: `npx tsx scripts/classify-probe.ts FILE…`.
 * Not part of the corpus gate (test/classify/corpus.test.ts); this only reports.
 */
import { readFileSync } from 'node:fs';
import { classify } from '../src/classify/classify.js';
import { FAILURE_CLASSES, type FailureClass } from '../src/classify/types.js';

interface Labeled {
  readonly id: string;
  readonly class: string;
  readonly ambiguous: boolean;
  readonly source: string;
  readonly trace: string;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: tsx scripts/classify-probe.ts FILE.jsonl…\n');
  process.exit(2);
}
const rows = files.flatMap((file) =>
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const e = JSON.parse(l) as Labeled;
      const expected = (e.class === 'other' ? 'unknown' : e.class) as FailureClass;
      const got = classify(e.trace);
      return { e, expected, got };
    }),
);
const right = rows.filter((r) => r.got.class === r.expected).length;
const lines = [`${right}/${rows.length} right = ${((100 * right) / rows.length).toFixed(1)}%`, ''];
const w = 14;
lines.push(`${'expected \\ got'.padEnd(w)}${FAILURE_CLASSES.map((c) => c.padStart(w)).join('')}`);
for (const exp of FAILURE_CLASSES) {
  const n = FAILURE_CLASSES.map((got) => rows.filter((r) => r.expected === exp && r.got.class === got).length);
  lines.push(`${exp.padEnd(w)}${n.map((x) => String(x).padStart(w)).join('')}`);
}
lines.push('');
for (const r of rows.filter((x) => x.got.class !== x.expected)) {
  lines.push(`MISS ${r.e.id} (${r.e.source}${r.e.ambiguous ? ', ambiguous' : ''}): expected ${r.expected}, got ${r.got.class} via ${r.got.rule ?? '(no rule)'}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
