/**
 * The real daemon, healing and paging against a stand-in Connect worker, for scripts/check-metrics.sh:
 * prints `listening <port>` once every cluster has been polled, then serves until SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log/logger.js';
import { FakeConnect } from '../helpers/fake-connect.js';

const fake = await new FakeConnect().start();
fake.add('pg-orders', {});
fake.failTask('pg-orders', 0, 'org.apache.kafka.connect.errors.ConnectException: boom\nCaused by: java.net.ConnectException: Connection refused');
fake.add('sink-json', { type: 'sink' });
fake.failTask('sink-json', 0, 'org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error');
fake.add('paused', { state: 'PAUSED', tasks: [{ id: 0, state: 'PAUSED', worker_id: '127.0.0.1:8083' }] });

const pager = createServer((_req, res) => res.writeHead(202).end());
await new Promise<void>((r) => pager.listen(0, '127.0.0.1', r));

// check-metrics.sh hands in a folder of its own temp dir, which it removes whatever becomes of this process
// (signalled twice, by the group kill and again by tsx, it may die before any clean-up of its own runs).
const given = process.env['CW_CHECK_METRICS_DIR'];
const dir = given ?? mkdtempSync(join(tmpdir(), 'cw-check-metrics-'));
if (given === undefined) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.json');
writeFileSync(
  file,
  JSON.stringify({
    clusters: [{ name: 'prod', url: fake.url, probe: false }],
    pollInterval: 1000,
    stateFile: join(dir, 'state.json'),
    metrics: { host: '127.0.0.1', port: 0 },
    heal: { confirmDelay: 0 },
    sinks: [{ type: 'webhook', name: 'pager', url: `http://127.0.0.1:${(pager.address() as AddressInfo).port}/hook` }],
  }),
);
const daemon = new Daemon({ config: loadConfig({ configFile: file, env: {} }), logger: createLogger({ level: 'warn', fd: 2 }) });
await daemon.init();
await daemon.start();
// Wait until the first poll is in (readyz), so the exposition carries restarts and escalations.
for (let i = 0; i < 100; i++) {
  const res = await fetch(`http://127.0.0.1:${daemon.metricsPort!}/readyz`).catch(() => undefined);
  if (res?.status === 200) break;
  await new Promise((r) => setTimeout(r, 100));
}
process.stdout.write(`listening ${daemon.metricsPort!}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void daemon
      .shutdown()
      .then(() => Promise.all([fake.stop(), new Promise((r) => pager.close(r))]))
      .then(() => process.exit(0));
  });
}
