/**
 * The simulated Connect cluster of the scale bench: N tasks in connectors of 10 tasks, ~2% of the tasks
 * FAILED with real traces (2–4 KB), connector configs shaped like production ones (Debezium PostgreSQL
 * sources, JDBC and Elasticsearch sinks, with clear-text passwords as Connect returns them). Pure and
 * seeded: the same sizes give the same bodies on every run.
 */
import { SINK_TRACES, SOURCE_TRACES, traceFor, type RealTrace } from '../lib/real.js';
import { seeded } from '../lib/stats.js';

export const TASKS_PER_CONNECTOR = 10;
export const FAILED_RATIO = 0.02;

type Kind = 'debezium-postgres' | 'jdbc-sink' | 'elasticsearch-sink';

export interface SimCluster {
  readonly connectors: number;
  readonly tasks: number;
  readonly failedTasks: number;
  readonly failedByClass: Readonly<Record<RealTrace['expected'], number>>;
  /** `GET /connectors?expand=status&expand=info` */
  readonly expandBody: string;
  /** `GET /connectors?expand=status` (what the watchdog reads every poll) */
  readonly statusExpandBody: string;
  /** `GET /connectors?expand=info` (what the watchdog reads for new connectors and every few minutes) */
  readonly infoExpandBody: string;
  /** `GET /connectors` */
  readonly namesBody: string;
  /** `GET /connectors/{name}/status`, by connector name. */
  readonly statusBodies: ReadonlyMap<string, string>;
  /** `GET /` */
  readonly rootBody: string;
}

const WORKERS = ['10.20.1.11:8083', '10.20.1.12:8083', '10.20.1.13:8083', '10.20.1.14:8083', '10.20.1.15:8083', '10.20.1.16:8083'];

function password(random: () => number): string {
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%*+-_';
  let out = '';
  for (let i = 0; i < 24; i += 1) out += chars[Math.floor(random() * chars.length)];
  return out;
}

const converters = {
  'key.converter': 'io.confluent.connect.avro.AvroConverter',
  'key.converter.schema.registry.url': 'https://schema-registry.prod.internal:8081',
  'key.converter.basic.auth.credentials.source': 'USER_INFO',
  'value.converter': 'io.confluent.connect.avro.AvroConverter',
  'value.converter.schema.registry.url': 'https://schema-registry.prod.internal:8081',
  'value.converter.basic.auth.credentials.source': 'USER_INFO',
};

function configOf(kind: Kind, name: string, i: number, random: () => number): Record<string, string> {
  const n = String(i).padStart(5, '0');
  switch (kind) {
    case 'debezium-postgres':
      return {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'tasks.max': String(TASKS_PER_CONNECTOR),
        'database.hostname': `pg-${n}.db.prod.internal`,
        'database.port': '5432',
        'database.user': `cdc_${n}`,
        'database.password': password(random),
        'database.dbname': `shop_${n}`,
        'database.sslmode': 'require',
        'topic.prefix': `cdc.shop_${n}`,
        'plugin.name': 'pgoutput',
        'slot.name': `slot_${n}`,
        'publication.name': `pub_${n}`,
        'publication.autocreate.mode': 'disabled',
        'table.include.list': 'public.orders,public.order_lines,public.customers,public.payments',
        'snapshot.mode': 'initial',
        'heartbeat.interval.ms': '10000',
        'errors.max.retries': '0',
        ...converters,
        'key.converter.basic.auth.user.info': `sr-${n}:${password(random)}`,
        'value.converter.basic.auth.user.info': `sr-${n}:${password(random)}`,
        transforms: 'unwrap,route',
        'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
        'transforms.unwrap.drop.tombstones': 'false',
        'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
        'transforms.route.regex': '([^.]+)\\.([^.]+)\\.([^.]+)',
        'transforms.route.replacement': '$1.$3',
        name,
      };
    case 'jdbc-sink': {
      const pw = password(random);
      return {
        'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector',
        'tasks.max': String(TASKS_PER_CONNECTOR),
        'connection.url': `jdbc:postgresql://dwh-${n}.db.prod.internal:5432/warehouse?user=loader_${n}&password=${pw}&ssl=true`,
        'connection.user': `loader_${n}`,
        'connection.password': pw,
        topics: `cdc.shop_${n}.orders,cdc.shop_${n}.order_lines`,
        'insert.mode': 'upsert',
        'pk.mode': 'record_key',
        'auto.create': 'true',
        'auto.evolve': 'true',
        'batch.size': '3000',
        'errors.tolerance': 'none',
        ...converters,
        'value.converter.basic.auth.user.info': `sr-${n}:${password(random)}`,
        name,
      };
    }
    case 'elasticsearch-sink':
      return {
        'connector.class': 'io.confluent.connect.elasticsearch.ElasticsearchSinkConnector',
        'tasks.max': String(TASKS_PER_CONNECTOR),
        'connection.url': `https://es-${n}.search.prod.internal:9200`,
        'connection.username': `writer_${n}`,
        'connection.password': password(random),
        topics: `cdc.shop_${n}.customers`,
        'key.ignore': 'false',
        'schema.ignore': 'true',
        'behavior.on.null.values': 'delete',
        'errors.tolerance': 'none',
        ...converters,
        name,
      };
  }
}

const VERSION: Readonly<Record<Kind, string>> = { 'debezium-postgres': '3.7.0.Final', 'jdbc-sink': '10.8.4', 'elasticsearch-sink': '15.0.1' };

function kindOf(random: () => number): Kind {
  const r = random();
  return r < 0.5 ? 'debezium-postgres' : r < 0.85 ? 'jdbc-sink' : 'elasticsearch-sink';
}

/** Traces by class within a connector kind: sources 3/4 connection, 1/4 config; sinks 3/4 serialization, 1/4 config. */
function traceOf(kind: Kind, random: () => number): RealTrace {
  const r = random();
  if (kind === 'debezium-postgres') return (r < 0.375 ? SOURCE_TRACES[0] : r < 0.75 ? SOURCE_TRACES[1] : r < 0.875 ? SOURCE_TRACES[2] : SOURCE_TRACES[3]) as RealTrace;
  return (r < 0.375 ? SINK_TRACES[0] : r < 0.75 ? SINK_TRACES[1] : SINK_TRACES[2]) as RealTrace;
}

export function buildCluster(tasks: number, seed = 9): SimCluster {
  const random = seeded(seed + tasks);
  const connectors = Math.ceil(tasks / TASKS_PER_CONNECTOR);
  const failedTarget = Math.round(tasks * FAILED_RATIO);
  // Which tasks are FAILED: a seeded sample of exactly failedTarget task indexes.
  const failed = new Set<number>();
  while (failed.size < failedTarget) failed.add(Math.floor(random() * tasks));
  const failedByClass = { connection: 0, serialization: 0, config: 0 };

  const expand: Record<string, unknown> = {};
  const statusExpand: Record<string, unknown> = {};
  const infoExpand: Record<string, unknown> = {};
  const statusBodies = new Map<string, string>();
  const names: string[] = [];
  let taskIndex = 0;
  for (let i = 0; i < connectors; i += 1) {
    const kind = kindOf(random);
    const name = `${kind === 'debezium-postgres' ? 'cdc' : kind === 'jdbc-sink' ? 'dwh' : 'search'}-${String(i).padStart(5, '0')}`;
    const type = kind === 'debezium-postgres' ? 'source' : 'sink';
    const count = Math.min(TASKS_PER_CONNECTOR, tasks - taskIndex);
    const version = VERSION[kind];
    const statusTasks = [];
    for (let t = 0; t < count; t += 1, taskIndex += 1) {
      const worker = WORKERS[(i + t) % WORKERS.length] as string;
      if (failed.has(taskIndex)) {
        const trace = traceOf(kind, random);
        failedByClass[trace.expected] += 1;
        statusTasks.push({ id: t, state: 'FAILED', worker_id: worker, version, trace: traceFor(trace.text, name) });
      } else {
        statusTasks.push({ id: t, state: 'RUNNING', worker_id: worker, version });
      }
    }
    const status = { name, connector: { state: 'RUNNING', worker_id: WORKERS[i % WORKERS.length], version }, tasks: statusTasks, type };
    const info = { name, config: configOf(kind, name, i, random), tasks: statusTasks.map((t) => ({ connector: name, task: t.id })), type };
    expand[name] = { status, info };
    statusExpand[name] = { status };
    infoExpand[name] = { info };
    statusBodies.set(name, JSON.stringify(status));
    names.push(name);
  }
  return {
    connectors,
    tasks,
    failedTasks: failed.size,
    failedByClass,
    expandBody: JSON.stringify(expand),
    statusExpandBody: JSON.stringify(statusExpand),
    infoExpandBody: JSON.stringify(infoExpand),
    namesBody: JSON.stringify(names),
    statusBodies,
    rootBody: JSON.stringify({ version: '4.3.1', commit: 'c2b6b9e1a1e4f7d3', kafka_cluster_id: 'Jx7sQm0bT3u2y5Kp9w1ZcA' }),
  };
}
