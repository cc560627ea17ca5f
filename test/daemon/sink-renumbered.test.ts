/**
 * Sinks without a `name` are named `<type>-<index>`: removing or inserting one renumbers those after it. Pages
 * still undelivered in the state file must reach, after a restart, the sink they were queued for, not
 * whichever sink now has that name.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/log/logger.js';
import { TRACES } from '../heal/helpers.js';
import { FakeConnect } from '../helpers/fake-connect.js';

interface Receiver {
  url: string;
  up: boolean;
  received: { event: string; connector: string }[];
  server: Server;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', up: false, received: [], server: undefined as unknown as Server };
  r.server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (!r.up) return void res.writeHead(503).end();
      const hook = JSON.parse(body) as { event: string; connector: string };
      r.received.push({ event: hook.event, connector: hook.connector });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((done) => r.server.listen(0, '127.0.0.1', done));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

describe('pages in the state file when unnamed sinks are renumbered', () => {
  let fake: FakeConnect;
  let dbTeam: Receiver;
  let searchTeam: Receiver;
  let newTeam: Receiver;
  let dir: string;
  const clock = Date.parse('2026-11-25T10:00:00Z');

  beforeEach(async () => {
    fake = await new FakeConnect().start();
    [dbTeam, searchTeam, newTeam] = await Promise.all([receiver(), receiver(), receiver()]);
    dir = mkdtempSync(join(tmpdir(), 'cw-sinks-'));
    // Both fail for good (serialization pages at once, never restarted).
    fake.add('pg-orders', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: TRACES.serialization }] });
    fake.add('es-logs', { tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: TRACES.serialization }] });
  });
  afterEach(async () => {
    await fake.stop();
    for (const r of [dbTeam, searchTeam, newTeam]) r.server.close();
  });

  function daemon(sinks: readonly Receiver[], filters: readonly string[]): Daemon {
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'prod', url: fake.url, probe: false }],
        stateFile: join(dir, 'state.json'),
        metrics: { enabled: false },
        heal: { confirmDelay: 0 },
        delivery: { retries: 0 },
        sinks: sinks.map((r, i) => ({ type: 'webhook', url: r.url, filter: { connector: filters[i] } })),
      }),
    );
    return new Daemon({ config: loadConfig({ configFile: file, env: {} }), logger: silentLogger(), now: () => clock, random: () => 0.5 });
  }

  it('a sink removed from the top of the list: the sink after it gets its own pages, not the removed sink’s', async () => {
    // webhook-0 pages the database team, webhook-1 the search team; both receivers are down.
    const first = daemon([dbTeam, searchTeam], ['^pg-', '^es-']);
    await first.init();
    await first.runOnce();
    expect([...dbTeam.received, ...searchTeam.received]).toEqual([]);
    // The database team's sink is removed from the config: the search team's is webhook-0 now.
    dbTeam.up = true;
    searchTeam.up = true;
    const second = daemon([searchTeam], ['^es-']);
    await second.init();
    await second.runOnce();
    expect(searchTeam.received).toEqual([{ event: 'trigger', connector: 'es-logs' }]);
    expect(dbTeam.received).toEqual([]);
  });

  it('a sink inserted at the top of the list: the sinks after it keep their pages', async () => {
    const first = daemon([searchTeam], ['^es-']);
    await first.init();
    await first.runOnce();
    expect(searchTeam.received).toEqual([]);
    // A new sink goes first: the search team's is webhook-1 now.
    searchTeam.up = true;
    newTeam.up = true;
    const second = daemon([newTeam, searchTeam], ['^pg-', '^es-']);
    await second.init();
    await second.runOnce();
    expect(searchTeam.received).toEqual([{ event: 'trigger', connector: 'es-logs' }]);
    // The new sink gets what is paged from now on, not what was queued for another before it existed.
    expect(newTeam.received).toEqual([]);
  });
});
