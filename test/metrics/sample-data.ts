/** Sample data touching every watchdog metric, for lints of the exposition (promtool, check-metrics.sh). */
import { incident } from '../escalate/fixtures.js';
import { WatchdogMetrics } from '../../src/metrics/metrics.js';
import type { WatchdogMetricsOptions } from '../../src/metrics/metrics.js';

export function sampleMetrics(options: Pick<WatchdogMetricsOptions, 'defaultMetrics'> = {}): WatchdogMetrics {
  const m = new WatchdogMetrics({ ...options, clusters: ['prod', 'stage'], sinks: ['pagerduty', 'slack'] });
  const at = Date.now();
  m.observePoll('prod', 'ok', 0.042, at);
  m.observePoll('stage', 'error', 10);
  m.observeHealth('prod', 'healthy');
  m.observeSnapshot(
    {
      cluster: 'prod',
      at,
      connectors: [
        {
          name: 'orders-cdc',
          type: 'source',
          state: 'RUNNING',
          workerId: 'w1:8083',
          tasks: [
            { id: 0, state: 'RUNNING', workerId: 'w1:8083' },
            { id: 1, state: 'FAILED', workerId: 'w2:8083', trace: 'org.apache.kafka.connect.errors.ConnectException: refused' },
          ],
        },
        { name: 'users-sink', type: 'sink', state: 'PAUSED', workerId: 'w2:8083', tasks: [{ id: 0, state: 'PAUSED', workerId: 'w2:8083' }] },
      ],
    },
    new Map([['orders-cdc/1', 'connection']]),
  );
  m.countRestart({ cluster: 'prod', connector: 'orders-cdc', target: 'task', class: 'connection', outcome: 'ok' });
  m.countRestart({ cluster: 'prod', connector: 'orders-cdc', target: 'task', class: 'connection', outcome: 'skipped' });
  m.countRestart({ cluster: 'prod', connector: 'users-sink', target: 'connector', class: 'unknown', outcome: 'dry_run' });
  m.countEscalation('prod', 'orders-cdc', 'serialization');
  m.countEscalation('stage', '*', 'cluster-outage');
  const open = incident({ connector: 'orders-cdc', task: 1, firstSeen: at, lastSeen: at });
  m.setIncidentsOpen([open]);
  m.setCertificateExpiry('prod', 'client', Date.parse('2027-03-01T00:00:00Z'));
  m.setCertificateExpiry('prod', 'worker', Date.parse('2035-01-01T00:00:00Z'));
  m.countDelivery('pagerduty', 'ok');
  m.countDelivery('slack', 'rejected');
  return m;
}
