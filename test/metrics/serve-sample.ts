/**
 * Serves sampleMetrics() on 127.0.0.1 (a free port) for scripts/check-metrics.sh: prints
 * `listening <port>` on stdout, then serves until SIGTERM/SIGINT.
 */
import { pino } from 'pino';
import { startMetricsServer } from '../../src/metrics/server.js';
import { sampleMetrics } from './sample-data.js';

const server = await startMetricsServer({
  host: '127.0.0.1',
  port: 0,
  metrics: sampleMetrics(),
  logger: pino({ level: 'error' }, process.stderr),
  health: () => ({ alive: true, ready: true }),
});
process.stdout.write(`listening ${server.port}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
