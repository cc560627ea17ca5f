import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClassifyInputError, readClassifyInput } from '../../src/cli/classify-input.js';

const fixtureText = (name: string) => readFileSync(new URL(`../fixtures/connect/${name}`, import.meta.url), 'utf8');
const TRACE = 'org.apache.kafka.connect.errors.ConnectException: boom\n\tat a.b(C.java:1)\nCaused by: java.net.ConnectException: Connection refused\n';

describe('readClassifyInput', () => {
  it('takes text that is not JSON as the trace itself, untouched', () => {
    expect(readClassifyInput(TRACE)).toEqual({ kind: 'trace', trace: TRACE });
  });

  it('refuses an HTML page (a proxy\'s 502) and a JSON list (GET /connectors) instead of giving them a verdict', () => {
    expect(() => readClassifyInput('<html><body><h1>502 Bad Gateway</h1> connection refused</body></html>')).toThrow(ClassifyInputError);
    expect(() => readClassifyInput('["pg-orders","sink-es"]')).toThrow(/a JSON list/);
    expect(() => readClassifyInput('[{"id":{"connector":"a","task":0}}]\n')).toThrow(ClassifyInputError);
  });

  it('takes a worker\'s log excerpt, which starts with "[" too, as a trace', () => {
    const log = `[2026-11-25 10:00:00,123] ERROR WorkerSourceTask{id=pg-0} Task threw an uncaught and unrecoverable exception\n${TRACE}`;
    expect(readClassifyInput(log)).toEqual({ kind: 'trace', trace: log });
  });

  it('decodes a JSON string (jq without -r) into the trace, line breaks restored', () => {
    expect(readClassifyInput(`  ${JSON.stringify(TRACE)}\n`)).toEqual({ kind: 'trace', trace: TRACE });
  });

  it('reads JSON saved with a byte-order mark', () => {
    expect(readClassifyInput(`\uFEFF${JSON.stringify(TRACE)}`)).toEqual({ kind: 'trace', trace: TRACE });
  });

  it('lists the FAILED tasks of a status body with their decoded traces', () => {
    const text = fixtureText('real-e2e-status-failed-config-missing-publication-debezium-postgres.json');
    const input = readClassifyInput(text);
    expect(input.kind).toBe('failed');
    if (input.kind !== 'failed') return;
    expect(input.failed).toHaveLength(1);
    expect(input.failed[0]).toMatchObject({ connector: 'e2e-cfg-pub-48gv8', task: 0 });
    expect(input.failed[0]?.trace).toBe((JSON.parse(text) as { tasks: { trace: string }[] }).tasks[0]?.trace);
    expect(input.failed[0]?.trace).toContain('\n\tat ');
  });

  it('lists a FAILED connector (task null) before its FAILED tasks, and a FAILED entry without trace with an empty one', () => {
    const body = {
      name: 'jdbc-out',
      connector: { state: 'FAILED', worker_id: 'w1:8083', trace: TRACE },
      tasks: [
        { id: 0, state: 'RUNNING', worker_id: 'w1:8083' },
        { id: 1, state: 'FAILED', worker_id: 'w2:8083' },
      ],
    };
    expect(readClassifyInput(JSON.stringify(body))).toEqual({
      kind: 'failed',
      failed: [
        { connector: 'jdbc-out', task: null, trace: TRACE },
        { connector: 'jdbc-out', task: 1, trace: '' },
      ],
    });
  });

  it('lists every FAILED subject of an ?expand=status listing, with info or without', () => {
    const input = readClassifyInput(fixtureText('connectors-expand-status-info-mixed.json'));
    expect(input.kind).toBe('failed');
    if (input.kind !== 'failed') return;
    expect(input.failed.map((f) => `${f.connector}/${f.task}`)).toEqual(['pg-nopub/0', 'sink-baddir/0', 'pg-pwrot/0', 'sink-noenvelope/0', 'sink-garbage/0']);
    expect(input.failed.every((f) => f.trace.length > 0)).toBe(true);
  });

  it('reads a task status body (GET /connectors/NAME/tasks/ID/status), the status an operator curls for one task', () => {
    const body = fixtureText('task-status-failed-filestream-sink.json');
    const trace = (JSON.parse(body) as { trace: string }).trace;
    expect(readClassifyInput(body)).toEqual({ kind: 'trace', trace });
    expect(readClassifyInput('{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:8083","version":"4.3.1"}')).toEqual({ kind: 'failed', failed: [] });
    expect(() => readClassifyInput('{"id":0,"state":"BROKEN","worker_id":"w"}')).toThrow(/task status\.state: unknown state "BROKEN"/);
  });

  it('gives an empty list for a status or listing with nothing FAILED', () => {
    expect(readClassifyInput('{}')).toEqual({ kind: 'failed', failed: [] });
    const running = { name: 'a', connector: { state: 'RUNNING', worker_id: 'w' }, tasks: [{ id: 0, state: 'RUNNING', worker_id: 'w' }] };
    expect(readClassifyInput(JSON.stringify(running))).toEqual({ kind: 'failed', failed: [] });
  });

  it('rejects JSON that does not parse, or has another shape, naming what is wrong', () => {
    expect(() => readClassifyInput('\ufeff \n')).toThrow(/the input is empty/);
    expect(() => readClassifyInput('{"name": "a", ')).toThrow(ClassifyInputError);
    expect(() => readClassifyInput('{"name": "a", ')).toThrow(/starts like JSON but is not JSON/);
    expect(() => readClassifyInput('{"a": 1}')).toThrow(/not a Connect status or \?expand=status listing: connectors\["a"\]: expected an object/);
    // The daemon goes on without a connector it cannot read; classify would leave its FAILED tasks unsaid.
    const listing = { ok: { status: { name: 'ok', connector: { state: 'RUNNING', worker_id: 'w' }, tasks: [], type: 'sink' } }, x: { status: { name: 'x', connector: { state: 'DRAINING', worker_id: 'w' }, tasks: [], type: 'sink' } } };
    expect(() => readClassifyInput(JSON.stringify(listing))).toThrow(/listing: connectors\["x"\]\.status\.connector\.state: unknown state "DRAINING"/);
    expect(() => readClassifyInput('{"name": "a", "connector": {"state": "BROKEN"}, "tasks": []}')).toThrow(/status\.connector\.state: unknown state "BROKEN"/);
  });
});

describe('classify: input that is not JSON', () => {
  it('the error names the problem without quoting the input (it may hold a password)', () => {
    const input = '{"connector":{"state":"FAILED","trace":"x"},"tasks":[],"database.password": Hunt3rBare}';
    let err: unknown;
    try {
      readClassifyInput(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClassifyInputError);
    expect((err as Error).message).toContain('not JSON');
    expect((err as Error).message).not.toContain('Hunt3rBare');
  });
});
