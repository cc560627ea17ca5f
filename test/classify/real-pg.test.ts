/**
 * The Debezium PostgreSQL 3.7.0 failures captured on the real Kafka Connect 4.3.1 worker
 * (test/fixtures/connect/README.md, "real-pg-*"): each FAILED status body's task trace, its class and the
 * rule that decides it.
 */
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/classify/classify.js';
import { fixture } from '../connect/fixtures.js';

interface StatusBody {
  readonly tasks: readonly { readonly state: string; readonly trace?: string }[];
}

function taskTrace(name: string): string {
  const body = fixture(name) as StatusBody;
  expect(body.tasks[0]?.state, name).toBe('FAILED');
  return body.tasks[0]?.trace ?? '';
}

describe('real Debezium PostgreSQL failures (Kafka Connect 4.3.1, Debezium 3.7.0.Final, PostgreSQL 15)', () => {
  const cases: [file: string, cls: string, rule: string][] = [
    ['real-pg-status-failed-config-no-replication-attribute-debezium-postgres.json', 'config', 'postgres-authentication'],
    ['real-pg-status-failed-config-no-select-grant-debezium-postgres.json', 'config', 'permission-denied'],
    ['real-pg-status-failed-config-slot-dropped-while-streaming-debezium-postgres.json', 'config', 'debezium-offset-no-longer-available'],
    ['real-pg-status-failed-config-publication-dropped-while-streaming-debezium-postgres.json', 'config', 'pgoutput-publication-missing'],
    ['real-pg-status-failed-config-publication-dropped-autocreate-disabled-debezium-postgres.json', 'config', 'debezium-publication'],
    ['real-pg-status-failed-config-all-replication-slots-in-use-debezium-postgres.json', 'config', 'postgres-replication-slots-exhausted'],
    ['real-pg-status-failed-connection-walsender-terminated-debezium-postgres.json', 'connection', 'connection-dropped'],
    ['real-pg-status-failed-config-output-plugin-not-allowed-debezium-postgres.json', 'config', 'postgres-plugin-file-missing'],
  ];
  it.each(cases)('%s is %s by %s', (file, cls, rule) => {
    expect(classify(taskTrace(file))).toMatchObject({ class: cls, rule: expect.stringMatching(new RegExp(`^${rule}: `)) });
  });

  it('names a dropped replication slot among the causes of an offset the server no longer has', () => {
    const c = classify(taskTrace('real-pg-status-failed-config-slot-dropped-while-streaming-debezium-postgres.json'));
    expect(c.rule).toContain('replication slot dropped');
    expect(c.hint).toContain('snapshot.mode=when_needed');
  });

  it('tells a dropped publication under a live slot from a missing object: re-creating it does not heal the slot', () => {
    const c = classify(taskTrace('real-pg-status-failed-config-publication-dropped-while-streaming-debezium-postgres.json'));
    expect(c.rootCause).toMatch(/^org\.postgresql\.util\.PSQLException: ERROR: publication "e2e_hpg_pub4a" does not exist/);
    expect(c.rule).toContain('re-creating the publication does not heal');
    expect(c.hint).toContain('new slot.name');
    expect(c.hint).toContain('snapshot.mode=when_needed');
  });

  it('says to free slots or raise max_replication_slots when none is free, not that the name is taken', () => {
    const c = classify(taskTrace('real-pg-status-failed-config-all-replication-slots-in-use-debezium-postgres.json'));
    expect(c.hint).toContain('max_replication_slots');
    expect(c.rule).not.toContain('already taken');
  });

  it('says to change plugin.name when the server refuses the output plugin, not that the slot name is taken', () => {
    // plugin.name=decoderbufs on a PostgreSQL 15.20 whose output_plugin_libraries is 'pgoutput, test_decoding':
    // only Debezium's wrapper "Creation of replication slot failed" matched, with the slot-clash advice.
    const c = classify(taskTrace('real-pg-status-failed-config-output-plugin-not-allowed-debezium-postgres.json'));
    expect(c.rootCause).toContain('library "decoderbufs" may not be used as an output plugin');
    expect(c.hint).toContain('plugin.name');
    expect(c.hint).toContain('output_plugin_libraries');
    expect(c.hint).not.toContain('slot.name');
  });
});
