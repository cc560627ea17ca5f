/**
 * The daemon's classifier lives as long as the process and remembers the traces it classified. A sink failing
 * record after record (a JDBC sink whose BatchUpdateException quotes each INSERT) brings a new trace at every
 * failure: over months, what is remembered must stay bounded in bytes, not only in count.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../src/classify/classify.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A JDBC sink's trace quoting the failed row: about `size` characters, different for each `n`. */
function jdbcTrace(n: number, size: number): string {
  const row = `(${n}, '${'x'.repeat(size)}')`;
  return [
    'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.',
    '\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:636)',
    'Caused by: org.apache.kafka.connect.errors.ConnectException: java.sql.SQLException: java.sql.BatchUpdateException: Batch entry 0 INSERT INTO "orders" ("id","payload") VALUES ' + row + ' was aborted: ERROR: value too long for type character varying(255)  Call getNextException to see other errors in the batch.',
    '\tat io.confluent.connect.jdbc.sink.JdbcSinkTask.put(JdbcSinkTask.java:122)',
    `Caused by: org.postgresql.util.PSQLException: ERROR: value too long for type character varying(255) (row ${n})`,
    '\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)',
  ].join('\n');
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('the classifier of a long-running daemon', () => {
  it('holds a bounded amount of memory however many different traces it has classified', () => {
    const classify = createClassifier();
    const before = heapUsed();
    // 3,000 distinct failures of 24 KB traces: 72 MB of text, which the daemon must not keep.
    for (let n = 0; n < 3000; n++) expect(classify(jdbcTrace(n, 24_000)).class).toBeDefined();
    const grown = heapUsed() - before;
    expect(grown).toBeLessThan(24 * 1024 * 1024);
    // What it remembers still spares a steady failure its classification: the same trace answers the same object.
    const trace = jdbcTrace(-1, 24_000);
    expect(classify(trace)).toBe(classify(trace));
  });
});
