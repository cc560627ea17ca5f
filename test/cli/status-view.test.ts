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

  it('prints no terminal control sequence from the worker: a trace quotes record bytes, and ESC in it would drive the terminal', () => {
    const failed: StatusView = {
      clusters: [
        {
          cluster: 'prod',
          reachable: true,
          health: { status: 'unhealthy', message: 'down\u001b]0;title\u0007' },
          connectors: [
            {
              ...connector('sink\u009b31m'),
              failures: [{ task: 0, workerId: '10.0.0.5:8083', class: 'serialization', rootCause: "JsonParseException: Unrecognized token '\u001b[2J\u001b[31mx\r'" }],
            },
          ],
          unreadable: [{ name: 'odd\u0008', problem: 'unknown state "\u001b[5m"' }],
        },
        { cluster: 'other', reachable: false, error: 'HTTP 502 with a non-Connect body: <html>\u001b[2J</html>' },
      ],
      summary: { connectors: 1, failed: 1, unreadable: 1, unreachable: 1, unhealthy: 1 },
    };
    const out = renderStatus(failed);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain("Unrecognized token '\\x1b[2J\\x1b[31mx\\r'");
    expect(out).toContain('UNREADABLE odd\\x08: unknown state "\\x1b[5m"');
    expect(out).toContain('<html>\\x1b[2J</html>');
  });
});
