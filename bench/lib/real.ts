/**
 * Real failure traces captured from Kafka Connect 4.3.1 + Debezium 3.7.0 (test/fixtures/connect, copied
 * from /work/shared/reference/real-bodies), grouped by the kind of connector that produced them.
 */
import { readFileSync } from 'node:fs';
import { repoPath } from './paths.js';

const FIXTURES = repoPath('test', 'fixtures', 'connect') + '/';

function taskTrace(file: string): string {
  const body = JSON.parse(readFileSync(FIXTURES + file, 'utf8')) as { tasks: { trace?: string }[] };
  const trace = body.tasks[0]?.trace;
  if (trace === undefined) throw new Error(`${file}: no task trace`);
  return trace;
}

export interface RealTrace {
  /** The class the project's classifier is expected to give it (checked by the benches at start). */
  readonly expected: 'connection' | 'serialization' | 'config';
  readonly file: string;
  readonly text: string;
}

const load = (expected: RealTrace['expected'], file: string): RealTrace => ({ expected, file, text: taskTrace(file) });

/** Traces a Debezium PostgreSQL source task fails with. */
export const SOURCE_TRACES: readonly RealTrace[] = [
  load('connection', 'status-failed-connection-postgres-stopped-debezium-postgres.json'),
  load('connection', 'status-failed-connection-terminated-backend-debezium-postgres.json'),
  load('config', 'status-failed-auth-password-rotated-debezium-postgres.json'),
  load('config', 'status-failed-config-missing-publication-debezium-postgres.json'),
];

/** Traces a sink task fails with. */
export const SINK_TRACES: readonly RealTrace[] = [
  load('serialization', 'status-failed-serialization-not-json-filestream-sink.json'),
  load('serialization', 'status-failed-serialization-no-schema-envelope-filestream-sink.json'),
  load('config', 'status-failed-config-missing-directory-filestream-sink.json'),
];

export const TRACE = {
  connection: SOURCE_TRACES[0]!.text,
  connectionTerminated: SOURCE_TRACES[1]!.text,
  serialization: SINK_TRACES[0]!.text,
  config: SOURCE_TRACES[3]!.text,
} as const;

/** Makes a trace specific to one connector where the real one names its database, role or file. */
export function traceFor(trace: string, connector: string): string {
  return trace.replaceAll('e2e', connector);
}
