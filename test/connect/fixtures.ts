import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConnectError } from '../../src/connect/errors.js';

/** The real Connect 4.3.1 bodies in test/fixtures/connect (see its README). */
export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/connect/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(`${FIXTURE_DIR}${name}`, 'utf8');
}

export function fixture(name: string): unknown {
  return JSON.parse(fixtureText(name)) as unknown;
}

/** The first task trace of a status fixture. */
export function fixtureTrace(name: string): string {
  return (fixture(name) as { tasks: { trace?: string }[] }).tasks.find((t) => t.trace)!.trace!;
}

/** A real trace of each class a restart is decided on, from the worker's status bodies. */
export const REAL_TRACES = {
  connection: fixtureTrace('status-failed-connection-terminated-backend-debezium-postgres.json'),
  serialization: fixtureTrace('status-failed-serialization-not-json-filestream-sink.json'),
  config: fixtureTrace('status-failed-config-missing-publication-debezium-postgres.json'),
} as const;

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));
}

/** Every `database.password` value in the expand fixture: none may survive into a snapshot. */
export function expandPasswords(): string[] {
  const body = fixture('connectors-expand-status-info-mixed.json') as Record<string, { info: { config: Record<string, string> } }>;
  return Object.values(body)
    .map((e) => e.info.config['database.password'])
    .filter((p): p is string => p !== undefined);
}

/**
 * The real `?expand=status&expand=info` body split into what the worker answers to `?expand=status` alone
 * and to `?expand=info` alone (Connect builds each expansion independently: the same entries, one key each).
 */
export function expandOnly(expansion: 'status' | 'info'): Record<string, unknown> {
  const body = fixture('connectors-expand-status-info-mixed.json') as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(body).map(([name, entry]) => [name, { [expansion]: entry[expansion] }]));
}

/** The ConnectError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error('expected a ConnectError');
}
