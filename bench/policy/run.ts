/**
 * Policy bench: every timeline replayed under every policy on a simulated clock (no HTTP, no real
 * time). `npx tsx bench/policy/run.ts` runs it alone; bench/run.ts runs it with the scale bench.
 */
import { pathToFileURL } from 'node:url';
import { createClassifier } from '../../src/classify/classify.js';
import { SINK_TRACES, SOURCE_TRACES } from '../lib/real.js';
import { duration, fixed, max, median, seeded, table } from '../lib/stats.js';
import { DEFAULT_CONFIG, POLICIES, type Policy } from './policies.js';
import { TIMELINES, type Timeline } from './timelines.js';
import { World } from './world.js';

/** Start of every run; the onset comes 10 min later plus a random phase of up to 2 min. */
const T0 = Date.UTC(2026, 10, 27, 17, 0, 0);
const LEAD_IN = 10 * 60_000;

export interface Cell {
  readonly timeline: Timeline;
  readonly policy: Policy;
  /** Recovery lag of every episode of every trial (Infinity: never healed within the horizon). */
  readonly lags: number[];
  /** Per subject and trial. */
  readonly restartsDuringCause: number[];
  readonly restartsTotal: number[];
  /** Per trial: all subjects together. */
  readonly restartsAllSubjects: number[];
  /** Per trial: first page after the onset (Infinity: none). */
  readonly firstPage: number[];
  /** Per trial. */
  readonly pages: number[];
  readonly pageClasses: Set<string>;
}

export function runCell(timeline: Timeline, policy: Policy, seed: number): Cell {
  const cell: Cell = { timeline, policy, lags: [], restartsDuringCause: [], restartsTotal: [], restartsAllSubjects: [], firstPage: [], pages: [], pageClasses: new Set() };
  for (let trial = 0; trial < timeline.trials; trial += 1) {
    const random = seeded(seed * 1000 + trial);
    const onset = T0 + LEAD_IN + Math.floor(random() * 120_000);
    const world = new World(timeline.subjects(onset));
    const pages = policy.run(world, T0, onset + timeline.horizon, random);
    for (const e of world.episodes) if (Number.isFinite(e.clearsAt)) cell.lags.push((e.healedAt ?? Number.POSITIVE_INFINITY) - e.clearsAt);
    let all = 0;
    for (const times of world.restarts.values()) {
      cell.restartsTotal.push(times.length);
      cell.restartsDuringCause.push(times.filter((t) => t >= onset && t < onset + timeline.causeLength).length);
      all += times.length;
    }
    cell.restartsAllSubjects.push(all);
    cell.firstPage.push(pages.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...pages.map((p) => p.at)) - onset);
    cell.pages.push(pages.length);
    for (const p of pages) cell.pageClasses.add(p.class);
  }
  return cell;
}

/** Checks that the real classifier still gives the traces the classes the timelines assume. */
export function checkTraces(): void {
  const classify = createClassifier();
  for (const t of [...SOURCE_TRACES, ...SINK_TRACES]) {
    const got = classify(t.text).class;
    if (got !== t.expected) throw new Error(`${t.file}: classified ${got}, the bench assumes ${t.expected}`);
  }
}

export function runPolicy(log: (line: string) => void = () => {}): Cell[] {
  checkTraces();
  const cells: Cell[] = [];
  TIMELINES.forEach((timeline, ti) => {
    const t0 = performance.now();
    POLICIES.forEach((policy) => cells.push(runCell(timeline, policy, ti + 1)));
    log(`${timeline.name}: ${timeline.trials} trials × ${POLICIES.length} policies in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
  return cells;
}

const lagText = (values: number[]) => (values.length === 0 ? '—' : duration(median(values)));
const maxText = (values: number[]) => (values.length === 0 ? '—' : duration(max(values)));

export function policyMarkdown(cells: readonly Cell[]): string {
  const poll = `${DEFAULT_CONFIG.pollInterval / 1000} s`;
  const parts: string[] = [
    'Policies:\n',
    table(['policy', 'what it does'], POLICIES.map((p) => [p.name, p.description]), ['l', 'l']),
    `\nColumns: *recovery lag* = from the moment the cause clears (the outage ends; for a flap, the failure itself) to the restart ` +
      `that brings the task back, median and max over every failure episode of every trial ("never" = not healed by the end of the run); ` +
      `*restarts* = restart requests per subject (median / max over subjects and trials), during the cause and in the whole run; ` +
      `*first page* = from the onset to the first page (median / max over trials); *pages* = escalations sent per run (median / max).\n`,
  ];
  for (const timeline of TIMELINES) {
    const rows = cells
      .filter((c) => c.timeline === timeline)
      .map((c) => {
        const multi = c.restartsAllSubjects.length > 0 && c.restartsTotal.length > c.restartsAllSubjects.length;
        return [
          c.policy.name,
          lagText(c.lags),
          maxText(c.lags),
          Number.isFinite(timeline.causeLength) ? `${fixed(median(c.restartsDuringCause), 0)} / ${fixed(max(c.restartsDuringCause), 0)}` : '—',
          `${fixed(median(c.restartsTotal), 0)} / ${fixed(max(c.restartsTotal), 0)}${multi ? ` (all ${timeline.subjects(0).length}: ${fixed(median(c.restartsAllSubjects), 0)})` : ''}`,
          `${duration(median(c.firstPage))} / ${duration(max(c.firstPage))}`,
          `${fixed(median(c.pages), 0)} / ${fixed(max(c.pages), 0)}${c.pageClasses.size > 0 ? ` (${[...c.pageClasses].join(', ')})` : ''}`,
        ];
      });
    parts.push(
      `\n#### ${timeline.name}\n\n${timeline.description}. ${timeline.trials} trials; poll interval of ours ${poll}.\n`,
      table(['policy', 'recovery lag med', 'lag max', 'restarts during cause (med / max)', 'restarts in all (med / max)', 'first page (med / max)', 'pages (med / max)'], rows, ['l']),
    );
  }
  return parts.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = performance.now();
  const cells = runPolicy((l) => console.log(l));
  console.log(policyMarkdown(cells));
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
