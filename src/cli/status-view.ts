import type { Classifier, FailureClass } from '../classify/types.js';
import { failedSubjects } from '../connect/failed.js';
import type { ClusterSnapshot, ConnectorSnapshot, State, UnreadableConnector, WorkerHealth } from '../connect/types.js';
import { scrubSecrets } from '../secrets/scrub.js';

export interface FailureView {
  /** null for the connector itself. */
  readonly task: number | null;
  readonly workerId: string;
  readonly class: FailureClass;
  readonly rootCause: string;
}

export interface ConnectorView {
  readonly name: string;
  readonly type: string;
  readonly state: State;
  readonly workerId: string;
  readonly tasks: { readonly total: number; readonly byState: Partial<Record<State, number>> };
  /** e.g. "2/3 RUNNING, 1 FAILED" */
  readonly taskSummary: string;
  readonly failures: readonly FailureView[];
}

export type ClusterView =
  | {
      readonly cluster: string;
      readonly reachable: true;
      readonly version?: string;
      readonly connectors: readonly ConnectorView[];
      /** Listed connectors whose status could not be read (an unknown state, a wrong shape). */
      readonly unreadable: readonly UnreadableConnector[];
      /** What the worker at the cluster's URL says of itself (GET /health); absent before Kafka Connect 3.9. */
      readonly health?: WorkerHealth;
    }
  | { readonly cluster: string; readonly reachable: false; readonly error: string };

export interface StatusView {
  readonly clusters: readonly ClusterView[];
  readonly summary: {
    readonly connectors: number;
    readonly failed: number;
    readonly unreadable: number;
    readonly unreachable: number;
    /** Clusters whose worker says it is not healthy (or does not answer GET /health): their states may be stale. */
    readonly unhealthy: number;
  };
}

function summarizeTasks(c: ConnectorSnapshot): ConnectorView['tasks'] & { text: string } {
  const byState: Partial<Record<State, number>> = {};
  for (const t of c.tasks) byState[t.state] = (byState[t.state] ?? 0) + 1;
  const total = c.tasks.length;
  if (total === 0) return { total, byState, text: 'no tasks' };
  const running = byState.RUNNING ?? 0;
  const others = Object.entries(byState)
    .filter(([s]) => s !== 'RUNNING')
    .map(([s, n]) => `${n} ${s}`);
  return { total, byState, text: [`${running}/${total} RUNNING`, ...others].join(', ') };
}

export function connectorView(c: ConnectorSnapshot, classify: Classifier): ConnectorView {
  const failures = failedSubjects(c).map(({ task, workerId, trace }): FailureView => {
    const r = classify(trace);
    // Traces carry credentials (JDBC URLs, password=...); the view is pasted into tickets.
    return { task, workerId, class: r.class, rootCause: scrubSecrets(r.rootCause) };
  });
  const tasks = summarizeTasks(c);
  return {
    name: c.name,
    type: c.type,
    state: c.state,
    workerId: c.workerId,
    tasks: { total: tasks.total, byState: tasks.byState },
    taskSummary: tasks.text,
    failures,
  };
}

export type StatusResult = { readonly cluster: string; readonly snapshot: ClusterSnapshot; readonly health?: WorkerHealth } | { readonly cluster: string; readonly error: string };

export function buildStatusView(results: readonly StatusResult[], classify: Classifier): StatusView {
  const clusters: ClusterView[] = results.map((r) =>
    'snapshot' in r
      ? {
          cluster: r.cluster,
          reachable: true,
          ...(r.snapshot.version !== undefined && { version: r.snapshot.version }),
          connectors: [...r.snapshot.connectors].sort((a, b) => a.name.localeCompare(b.name)).map((c) => connectorView(c, classify)),
          unreadable: [...(r.snapshot.unreadable ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
          ...(r.health !== undefined && { health: r.health }),
        }
      : { cluster: r.cluster, reachable: false, error: r.error },
  );
  let connectors = 0;
  let failed = 0;
  let unreadable = 0;
  let unreachable = 0;
  let unhealthy = 0;
  for (const c of clusters) {
    if (!c.reachable) {
      unreachable++;
      continue;
    }
    if (c.health !== undefined && c.health.status !== 'healthy') unhealthy++;
    connectors += c.connectors.length;
    failed += c.connectors.filter((v) => v.failures.length > 0).length;
    unreadable += c.unreadable.length;
  }
  return { clusters, summary: { connectors, failed, unreadable, unreachable, unhealthy } };
}

const HEALTH_HEADLINE: Readonly<Record<Exclude<WorkerHealth['status'], 'healthy'>, string>> = {
  starting: 'STARTING',
  unhealthy: 'UNHEALTHY',
  'no-answer': 'NOT ANSWERING GET /health',
};

/** Wider cells overflow their column: one very long connector name must not pad every row to its width. */
const COLUMN_MAX = 64;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.min(COLUMN_MAX, Math.max(...rows.map((r) => r[i]!.length))));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const ESCAPES: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Control characters shown as escapes: a trace quotes record bytes (`Unrecognized token '…'`), and an ESC
 * in it would drive the operator's terminal (clear the screen, hide lines, set the title); a newline would
 * forge a line of the table. `--json` escapes them already.
 */
function shown(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => ESCAPES[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The human view: one table per cluster, and the root cause of everything FAILED. */
export function renderStatus(view: StatusView): string {
  const out: string[] = [];
  for (const c of view.clusters) {
    if (!c.reachable) {
      out.push(`cluster ${shown(c.cluster)}: UNREACHABLE (${shown(c.error)})`, '');
      continue;
    }
    const count = c.connectors.length + c.unreadable.length;
    out.push(`cluster ${shown(c.cluster)}${c.version ? ` (Kafka Connect ${shown(c.version)})` : ''}: ${count} connector(s)`);
    // A worker cut off from the Kafka brokers stops every task and still lists them RUNNING: say so first.
    if (c.health !== undefined && c.health.status !== 'healthy') out.push(`  WORKER ${HEALTH_HEADLINE[c.health.status]}: ${shown(c.health.message)} (the states below may be stale)`);
    if (c.connectors.length > 0) {
      const rows = [['CONNECTOR', 'TYPE', 'STATE', 'TASKS', 'WORKER']];
      for (const v of c.connectors) rows.push([v.name, v.type, v.state, v.taskSummary, v.workerId].map(shown));
      out.push(table(rows));
      for (const v of c.connectors) {
        for (const f of v.failures) {
          const subject = f.task === null ? `${shown(v.name)} (connector)` : `${shown(v.name)} task ${f.task}`;
          out.push(`  FAILED ${subject} on ${shown(f.workerId)} [${f.class}]: ${shown(f.rootCause)}`);
        }
      }
    }
    for (const u of c.unreadable) out.push(`  UNREADABLE ${shown(u.name)}: ${shown(u.problem)}`);
    out.push('');
  }
  const s = view.summary;
  const unreadable = s.unreadable > 0 ? `, ${s.unreadable} unreadable` : '';
  const unhealthy = s.unhealthy > 0 ? `, ${s.unhealthy} with an unhealthy worker` : '';
  out.push(`${s.connectors + s.unreadable} connector(s), ${s.failed} with failures${unreadable}, ${s.unreachable} cluster(s) unreachable${unhealthy}`);
  return out.join('\n');
}
