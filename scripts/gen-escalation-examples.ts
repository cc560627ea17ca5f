/**
 * Renders the request examples of docs/escalation.md (its eight ```http blocks: trigger and resolve for the
 * webhook, PagerDuty, Slack and Alertmanager, in that order) from the real builders, so that they cannot
 * drift from what the watchdog sends.
 *
 *   npx tsx scripts/gen-escalation-examples.ts          rewrite the blocks
 *   npx tsx scripts/gen-escalation-examples.ts --check  exit 1 when they are out of date (for CI)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classify } from '../src/classify/classify.js';
import { loadConfig } from '../src/config/load.js';
import type { SinkConfig } from '../src/config/types.js';
import { alertsUrl } from '../src/escalate/alertmanager.js';
import { buildRequest } from '../src/escalate/build.js';
import { traceExcerpt } from '../src/secrets/scrub.js';
import type { EscalationEvent } from '../src/escalate/types.js';
import { announce } from '../src/daemon/announce.js';
import { detailsOf, openIncident } from '../src/heal/incidents.js';
import { failureEscalation } from '../src/heal/rules.js';
import { silentLogger } from '../src/log/logger.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const DOC = resolve(ROOT, 'docs/escalation.md');
const FIXTURE = 'test/fixtures/connect/status-failed-auth-password-rotated-debezium-postgres.json';
/** The webhook example is signed with this secret, so that a reader can check the signature snippet on it. */
export const EXAMPLE_SECRET = 'example-secret';

const FIRST_SEEN = Date.parse('2026-11-25T09:28:00Z');
const TRIGGERED = Date.parse('2026-11-25T09:30:01Z');
const RESOLVED = Date.parse('2026-11-25T10:05:00Z');

const SINKS: readonly SinkConfig[] = [
  { type: 'webhook', name: 'ops-webhook', url: 'https://ops.example.com/hooks/connect', secret: EXAMPLE_SECRET, filter: {} },
  { type: 'pagerduty', name: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: '<routing key>', filter: {} },
  { type: 'slack', name: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXX', filter: {} },
  { type: 'alertmanager', name: 'alertmanager', url: 'http://alertmanager:9093', filter: {} },
] as SinkConfig[];

/** The events the watchdog builds for a Debezium task whose database password was rotated. */
function events(): { trigger: EscalationEvent; resolve: EscalationEvent } {
  const status = JSON.parse(readFileSync(resolve(ROOT, FIXTURE), 'utf8')) as { tasks: { trace?: string; worker_id: string }[] };
  const failed = status.tasks.find((t) => t.trace !== undefined)!;
  const trace = failed.trace!;
  const c = classify(trace);
  const config = loadConfig({ env: {} });
  const subject = { cluster: 'prod', connector: 'pg-pwrot', task: 0, attempts: 0, workerId: failed.worker_id, restartTimes: [] };
  const reason = failureEscalation(subject as never, c.class as 'config', config.heal.actions.config, config.heal, TRIGGERED, undefined)!;
  // A shorter excerpt than a page's 2048 bytes, to keep the examples readable.
  const incident = { ...openIncident(c.class, subject, detailsOf(c, trace, reason), FIRST_SEEN, TRIGGERED), traceExcerpt: traceExcerpt(trace, c.rootCause, 700) };
  const options = { clusterUrl: 'http://connect-1:8083', dryRun: false, log: silentLogger() };
  return {
    trigger: announce('trigger', incident, { ...options, now: TRIGGERED })!,
    resolve: announce('resolve', { ...incident, resolvedAt: RESOLVED }, { ...options, now: RESOLVED, resolution: 'recovered' })!,
  };
}

/** The eight blocks' contents, in document order. */
export function renderExamples(): string[] {
  const { trigger, resolve: resolved } = events();
  return SINKS.flatMap((sink) =>
    [trigger, resolved].map((event) => {
      const now = event.event === 'trigger' ? TRIGGERED : RESOLVED + 1000;
      const req = buildRequest(event, sink, now);
      const url = sink.type === 'alertmanager' ? alertsUrl(sink.url) : req.url;
      const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`);
      return [`${req.method} ${url}`, ...headers, '', JSON.stringify(JSON.parse(req.body), null, 2)].join('\n');
    }),
  );
}

const BLOCK = /```http\n([\s\S]*?)\n```/g;

export function rewrite(doc: string, blocks: readonly string[]): string {
  let i = 0;
  const out = doc.replace(BLOCK, (whole) => (i < blocks.length ? `\`\`\`http\n${blocks[i++]}\n\`\`\`` : whole));
  if (i !== blocks.length) throw new Error(`docs/escalation.md has ${i} \`\`\`http blocks, expected ${blocks.length}`);
  return out;
}

function main(argv: readonly string[]): number {
  const current = readFileSync(DOC, 'utf8');
  let next: string;
  try {
    next = rewrite(current, renderExamples());
  } catch (err) {
    process.stderr.write(`gen-escalation-examples: ${(err as Error).message}\n`);
    return 1;
  }
  if (argv.includes('--check')) {
    if (next === current) {
      process.stdout.write('gen-escalation-examples: docs/escalation.md examples are up to date\n');
      return 0;
    }
    process.stderr.write('gen-escalation-examples: the request examples in docs/escalation.md are out of date with the builders; run: npx tsx scripts/gen-escalation-examples.ts\n');
    return 1;
  }
  if (next !== current) writeFileSync(DOC, next);
  process.stdout.write(`gen-escalation-examples: ${next === current ? 'already up to date' : 'updated docs/escalation.md'}\n`);
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = main(process.argv.slice(2));
