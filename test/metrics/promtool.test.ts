/**
 * promtool lints: the exposition, the alert rules (syntax and unit tests) and the example scrape
 * config. Skipped when promtool is absent (CI installs it: apt-get install prometheus).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { findOnPath } from './prometheus-harness.js';
import { sampleMetrics } from './sample-data.js';

const promtool = findOnPath('promtool');
const title = promtool ? 'promtool' : 'promtool (SKIPPED: promtool not on PATH; CI installs it with apt-get install prometheus)';
if (!promtool) console.warn(`[test/metrics/promtool.test.ts] ${title}`);

const deploy = resolve(import.meta.dirname, '../../deploy/prometheus');

function run(args: readonly string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(promtool!, args, { input, encoding: 'utf8', cwd: deploy });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!promtool)(title, () => {
  it('check metrics accepts the exposition without a single lint problem', async () => {
    const text = await sampleMetrics().metrics();
    // promtool also says nothing, and exits 0, on empty input: make sure it is given something.
    expect(text).toContain('connect_watchdog_task_failed{');
    const r = run(['check', 'metrics'], text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('check metrics rejects prom-client default metrics as they come (why three are left out)', async () => {
    const raw = new Registry();
    collectDefaultMetrics({ register: raw });
    const r = run(['check', 'metrics'], await raw.metrics());
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/nodejs_active_handles_total.*non-counter metrics should not have "_total" suffix/);
  });

  it('check rules accepts deploy/prometheus/alerts.yml', () => {
    const r = run(['check', 'rules', 'alerts.yml']);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: 10 rules found/);
  });

  it('the alert rules pass their unit tests (deploy/prometheus/alerts.test.yml)', () => {
    const r = run(['test', 'rules', 'alerts.test.yml']);
    expect(r.status, r.output).toBe(0);
  });

  it('check config accepts the example scrape config', () => {
    const r = run(['check', 'config', 'scrape.yml']);
    expect(r.status, r.output).toBe(0);
  });
});
