import { describe, expect, it } from 'vitest';
import { renderStatus, type ConnectorView, type StatusView } from '../../src/cli/status-view.js';

function connector(name: string): ConnectorView {
  return { name, type: 'sink', state: 'RUNNING', workerId: '10.0.0.5:8083', tasks: { total: 1, byState: { RUNNING: 1 } }, taskSummary: '1/1 RUNNING', failures: [] };
}

function view(names: readonly string[]): StatusView {
  return {
    clusters: [{ cluster: 'prod', reachable: true, connectors: names.map(connector), unreadable: [] }],
    summary: { connectors: names.length, failed: 0, unreadable: 0, unreachable: 0, unhealthy: 0 },
  };
}

describe('status (human view)', () => {
  it('aligns the columns on the names', () => {
    const lines = renderStatus(view(['orders-sink', 'pg'])).split('\n');
    const typeColumn = lines.slice(1, 4).map((l) => l.search(/ {2}(TYPE|sink) /));
    expect(typeColumn[0]).toBeGreaterThan(0);
    expect(new Set(typeColumn).size).toBe(1);
  });

  it('one very long connector name (Connect accepts 9,000 characters) overflows its own row, not every row', () => {
    const long = 'x'.repeat(9000);
    const lines = renderStatus(view(['orders-sink', long, 'pg'])).split('\n');
    const pg = lines.find((l) => l.startsWith('pg '))!;
    expect(pg.length).toBeLessThan(200);
    expect(lines.find((l) => l.startsWith(long))).toContain('RUNNING');
  });
});
