import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { SinkConfig } from '../../src/config/types.js';
import type { EscalationEvent, Incident } from '../../src/escalate/types.js';
import { incidentKey } from '../../src/escalate/types.js';

export const T0 = Date.UTC(2026, 10, 25, 9, 30, 0);

/** A trace as Connect reports it, with credentials in three common shapes. */
export const SECRET_TRACE = [
  'org.apache.kafka.connect.errors.ConnectException: Could not connect to jdbc:postgresql://app:s3cret@db/x',
  '\tat io.confluent.connect.jdbc.util.CachedConnectionProvider.getConnection(CachedConnectionProvider.java:62)',
  '\tat io.confluent.connect.jdbc.sink.JdbcSinkTask.put(JdbcSinkTask.java:84)',
  'Caused by: org.apache.kafka.common.config.ConfigException: bad value password=s3cret for connection.password',
  '\tat org.apache.kafka.clients.ClientUtils(ClientUtils.java:1)',
  'Caused by: org.apache.kafka.common.KafkaException: sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="app" password="s3cret";',
  'Caused by: java.net.ConnectException: Connection refused (Authorization: Bearer s3cret)',
].join('\n');

export function incident(over: Partial<Incident> = {}): Incident {
  const base = {
    cluster: 'prod',
    connector: 'orders-sink',
    task: 0 as number | null,
    class: 'serialization' as Incident['class'],
    ...over,
  };
  return {
    key: incidentKey(base.cluster, base.connector, base.task, base.class),
    severity: 'error',
    reason: 'serialization failures are not fixed by a restart',
    rootCause: 'org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error',
    hint: 'Check the converter settings and what the producers write to the topic.',
    attempts: 2,
    firstSeen: T0 - 120_000,
    lastSeen: T0,
    workerId: '10.0.0.5:8083',
    traceExcerpt: 'org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error',
    ...base,
    ...over,
  };
}

export function event(kind: 'trigger' | 'resolve', inc: Incident = incident(), over: Partial<EscalationEvent> = {}): EscalationEvent {
  return {
    id: `${inc.key}#${inc.firstSeen}#${kind}`,
    event: kind,
    incident: kind === 'resolve' ? { resolvedAt: T0 + 60_000, ...inc } : inc,
    at: T0,
    clusterUrl: 'http://connect-1:8083',
    ...over,
  };
}

export const sinks = {
  webhook: { type: 'webhook', name: 'hook', url: 'https://hooks.example.com/connect/incidents', secret: 'hmac-key', filter: {} },
  pagerduty: { type: 'pagerduty', name: 'pd', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'R0UTINGKEY0123456789ABCDEFGHIJKL', filter: {} },
  slack: { type: 'slack', name: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXXSLACKPATHTOKEN', filter: {} },
  alertmanager: { type: 'alertmanager', name: 'am', url: 'http://alertmanager:9093/', filter: {} },
} as const satisfies Record<string, SinkConfig>;

/** A pino logger writing every line (debug and up) to memory, so tests can read what would be logged. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export const delivery = { retries: 2, interval: 5_000, maxAge: 3_600_000, timeout: 2_000 };

/** A settable clock. */
export function clock(start = T0): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}
