/**
 * The one place where configuration keys, defaults, formats and environment variables live.
 * The README's config reference is generated from this file (scripts/gen-config-doc.ts).
 */
import { FAILURE_CLASSES } from '../classify/types.js';

export const ENV_PREFIX = 'CONNECT_WATCHDOG_';

export const HEAL_ACTIONS = ['restart', 'escalate', 'restart-then-escalate'] as const;
export type HealAction = (typeof HEAL_ACTIONS)[number];
export const SINK_TYPES = ['webhook', 'pagerduty', 'slack', 'alertmanager'] as const;
export type SinkType = (typeof SINK_TYPES)[number];
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Custom convict formats; their validators live in load.ts (addFormats). */
export const FORMAT = {
  positiveDuration: 'positive-duration',
  nonNegativeDuration: 'non-negative-duration',
  /** A duration the watchdog waits on (a timer): at most what a Node timer holds. */
  positiveTimer: 'positive-timer',
  nonNegativeTimer: 'non-negative-timer',
  httpUrl: 'http-url',
  optionalHttpUrl: 'optional-http-url',
  clusterList: 'cluster-list',
  sinkList: 'sink-list',
  ruleList: 'rule-list',
  windowList: 'window-list',
  positiveNumber: 'positive-number',
  positiveCount: 'positive-count',
  ratio: 'ratio',
  regExp: 'regexp',
} as const;

/** The formats of the list keys (clusters, sinks, rules, maintenance): config file only, checked item by item. */
export const LIST_FORMATS: ReadonlySet<string> = new Set([FORMAT.clusterList, FORMAT.sinkList, FORMAT.ruleList, FORMAT.windowList]);

const durationDoc = '(milliseconds)';

export const schema = {
  clusters: {
    doc:
      'The Kafka Connect clusters to watch: a list of objects {name, url, username?, password?, passwordFile?, token?, tokenFile?, ca?, cert?, key?, rejectUnauthorized?, timeout?, probe?} (ca, cert and key are PEM file paths). ' +
      'Empty: watch one cluster named "default" at connectUrl.',
    format: FORMAT.clusterList,
    default: [] as unknown[],
  },
  connectUrl: {
    doc: 'One-cluster shortcut, used only when clusters is empty.',
    format: FORMAT.httpUrl,
    default: 'http://localhost:8083',
    env: 'CONNECT_URL',
  },
  clusterName: {
    doc: 'The name of the connectUrl cluster: it is in every incident key, metric label and pager dedup key, so give each cluster its own.',
    format: String,
    default: 'default',
    env: `${ENV_PREFIX}CLUSTER_NAME`,
  },
  pollInterval: {
    doc: `How often each cluster is polled ${durationDoc}.`,
    format: FORMAT.positiveTimer,
    default: 10_000,
    env: `${ENV_PREFIX}POLL_INTERVAL`,
  },
  pollJitter: {
    doc: `Random delay up to this much added to each poll so that many clusters do not fire together ${durationDoc}.`,
    format: FORMAT.nonNegativeTimer,
    default: 500,
    env: `${ENV_PREFIX}POLL_JITTER`,
  },
  requestTimeout: {
    doc: `Default timeout of one HTTP request to Connect (connect, headers and body each) ${durationDoc}; clusters[].timeout overrides it.`,
    format: FORMAT.positiveTimer,
    default: 5_000,
    env: `${ENV_PREFIX}REQUEST_TIMEOUT`,
  },
  requestRetries: {
    doc: 'How many times an idempotent GET is retried (jittered backoff) before the poll fails.',
    format: 'nat',
    default: 2,
    env: `${ENV_PREFIX}REQUEST_RETRIES`,
  },
  infoRefresh: {
    doc: `How often the connector configs a decision needs (tasks.max, connector class, endpoint) are read again with GET /connectors?expand=info ${durationDoc}; a new connector, or a task beyond the cached tasks.max, has them read at once. It also bounds how long a connector created while its start() blocks (it has no status) goes unreported: this plus one pollInterval.`,
    format: FORMAT.positiveDuration,
    default: 300_000,
    env: `${ENV_PREFIX}INFO_REFRESH`,
  },
  statusConcurrency: {
    doc: 'How many per-connector status requests run at once on workers that ignore expand (Connect < 2.3).',
    format: FORMAT.positiveCount,
    default: 8,
    env: `${ENV_PREFIX}STATUS_CONCURRENCY`,
  },
  logLevel: {
    doc: 'pino log level.',
    format: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    default: 'info',
    env: `${ENV_PREFIX}LOG_LEVEL`,
  },
  stateFile: {
    doc: 'Where attempts, next-restart times, open incidents and the delivery outbox are persisted (written atomically and durably). One watchdog per file: <stateFile>.lock keeps a second one off it.',
    format: String,
    default: 'connect-watchdog-state.json',
    env: `${ENV_PREFIX}STATE_FILE`,
  },
  dryRun: {
    doc: 'Decide, log and count everything, but send no restart and no page, and leave the state file as it is: read, never written (the same as run --dry-run).',
    format: Boolean,
    default: false,
    env: `${ENV_PREFIX}DRY_RUN`,
  },
  shutdownTimeout: {
    doc: `How long in-flight polls and deliveries may take after SIGTERM, SIGINT or SIGHUP ${durationDoc}.`,
    format: FORMAT.positiveTimer,
    default: 10_000,
    env: `${ENV_PREFIX}SHUTDOWN_TIMEOUT`,
  },
  ownership: {
    mode: {
      doc: 'all: act on every connector and task. worker: act only on those whose worker_id is ownership.workerId (sidecar mode) and only observe the rest.',
      format: ['all', 'worker'],
      default: 'all',
      env: `${ENV_PREFIX}OWNERSHIP_MODE`,
    },
    workerId: {
      doc: 'The local worker id as Connect reports it: the host and port of rest.advertised.host.name/port (e.g. 10.0.0.5:8083; IPv6 in brackets, [fd00::5]:8083); required with ownership.mode=worker, where anything else is rejected.',
      format: String,
      default: '',
      env: `${ENV_PREFIX}OWNERSHIP_WORKER_ID`,
    },
  },
  metrics: {
    enabled: {
      doc: 'Serve /metrics, /healthz and /readyz.',
      format: Boolean,
      default: true,
      env: `${ENV_PREFIX}METRICS_ENABLED`,
    },
    host: {
      doc: 'Listen address of the metrics server.',
      format: String,
      default: '127.0.0.1',
      env: `${ENV_PREFIX}METRICS_HOST`,
    },
    port: {
      doc: 'Listen port of the metrics server (0 picks a free port).',
      format: 'port',
      default: 9847,
      env: `${ENV_PREFIX}METRICS_PORT`,
    },
  },
  heal: {
    actions: {
      connection: {
        doc: 'What to do about a FAILED subject whose trace is classified connection.',
        format: [...HEAL_ACTIONS],
        default: 'restart' as HealAction,
        env: `${ENV_PREFIX}HEAL_ACTIONS_CONNECTION`,
      },
      unknown: {
        doc: 'What to do about a FAILED subject whose trace is classified unknown.',
        format: [...HEAL_ACTIONS],
        default: 'restart' as HealAction,
        env: `${ENV_PREFIX}HEAL_ACTIONS_UNKNOWN`,
      },
      serialization: {
        doc: 'What to do about a FAILED subject whose trace is classified serialization.',
        format: [...HEAL_ACTIONS],
        default: 'escalate' as HealAction,
        env: `${ENV_PREFIX}HEAL_ACTIONS_SERIALIZATION`,
      },
      config: {
        doc: 'What to do about a FAILED subject whose trace is classified config.',
        format: [...HEAL_ACTIONS],
        default: 'escalate' as HealAction,
        env: `${ENV_PREFIX}HEAL_ACTIONS_CONFIG`,
      },
    },
    firstRestartDelay: {
      doc: `Wait this long after a subject is first seen FAILED before its first restart ${durationDoc}.`,
      format: FORMAT.nonNegativeDuration,
      default: 0,
      env: `${ENV_PREFIX}HEAL_FIRST_RESTART_DELAY`,
    },
    backoff: {
      initial: {
        doc: `Wait after the first restart before the second ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 10_000,
        env: `${ENV_PREFIX}HEAL_BACKOFF_INITIAL`,
      },
      factor: {
        doc: 'Each further wait is the previous one times this.',
        format: FORMAT.positiveNumber,
        default: 2,
        env: `${ENV_PREFIX}HEAL_BACKOFF_FACTOR`,
      },
      max: {
        doc: `The longest wait between restarts ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 600_000,
        env: `${ENV_PREFIX}HEAL_BACKOFF_MAX`,
      },
      jitter: {
        doc: 'Each wait is shortened by a random fraction up to this (0 to 1).',
        format: FORMAT.ratio,
        default: 0.2,
        env: `${ENV_PREFIX}HEAL_BACKOFF_JITTER`,
      },
      heldAfter: {
        doc: `A restart after which the subject ran this long worked: its next failure is restarted without the backoff wait (after heal.firstRestartDelay), while its counters still count toward escalation and reset only after heal.stablePeriod; 0 = always wait ${durationDoc}.`,
        format: FORMAT.nonNegativeDuration,
        default: 60_000,
        env: `${ENV_PREFIX}HEAL_BACKOFF_HELD_AFTER`,
      },
    },
    maxAttempts: {
      doc: 'Restarts of one subject before escalating (0 = unlimited); past it, restarts go on at the backoff cap.',
      format: 'nat',
      default: 0,
      env: `${ENV_PREFIX}HEAL_MAX_ATTEMPTS`,
    },
    stablePeriod: {
      doc: `A subject RUNNING this long after its recovery has its restart counters reset and its incident resolved ${durationDoc}.`,
      format: FORMAT.positiveDuration,
      default: 600_000,
      env: `${ENV_PREFIX}HEAL_STABLE_PERIOD`,
    },
    escalateAfter: {
      restarts: {
        doc: 'Escalate when this many restarts within escalateAfter.window have not fixed a subject.',
        format: FORMAT.positiveCount,
        default: 3,
        env: `${ENV_PREFIX}HEAL_ESCALATE_AFTER_RESTARTS`,
      },
      window: {
        doc: `The window of escalateAfter.restarts ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 1_800_000,
        env: `${ENV_PREFIX}HEAL_ESCALATE_AFTER_WINDOW`,
      },
    },
    unassignedAfter: {
      doc: `Escalate a connector or task UNASSIGNED, or RESTARTING (its start() has not returned), or a connector with no status at all (created, its start() not returned), this long. Connect reassigns a departed worker's tasks only after scheduled.rebalance.max.delay.ms (5 min by default), so keep this above it ${durationDoc}.`,
      format: FORMAT.positiveDuration,
      default: 600_000,
      env: `${ENV_PREFIX}HEAL_UNASSIGNED_AFTER`,
    },
    noTasksAfter: {
      doc: `Page (no-tasks, error) a connector that has read RUNNING with no task at all for this long: its task configs were never written, most often because its worker cannot forward them to the leader (a wrong rest.advertised.host.name or listener; the worker's log repeats "Failed to reconfigure connector's tasks"). Never restarted: a restart runs into the same wall. Some connectors make no task by design (a MirrorCheckpointConnector with no consumer group, a JDBC source whose table filter matches nothing), so it is off by default; keep it well above how long the connector's taskConfigs() takes, since Connect lists no task between a connector's start (a create, a resume from STOPPED) and its first task configs. 0: off ${durationDoc}.`,
      format: FORMAT.nonNegativeDuration,
      default: 0,
      env: `${ENV_PREFIX}HEAL_NO_TASKS_AFTER`,
    },
    rebalance: {
      maxMoves: {
        doc: 'Escalate a task whose worker_id changed more than this many times within rebalance.window.',
        format: FORMAT.positiveCount,
        default: 5,
        env: `${ENV_PREFIX}HEAL_REBALANCE_MAX_MOVES`,
      },
      window: {
        doc: `The window of rebalance.maxMoves ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 1_800_000,
        env: `${ENV_PREFIX}HEAL_REBALANCE_WINDOW`,
      },
    },
    budget: {
      perMinute: {
        doc: 'Restart budget per cluster (token bucket refilled at this rate, burst of the same size); restarts beyond it wait their turn.',
        format: FORMAT.positiveNumber,
        default: 10,
        env: `${ENV_PREFIX}HEAL_BUDGET_PER_MINUTE`,
      },
    },
    clusterOutageThreshold: {
      doc: 'When at least this many connectors of one cluster newly fail with connection in the same poll, or are failing with connection when the first of their own pages is due, one cluster-wide incident is escalated instead of one each.',
      format: FORMAT.positiveCount,
      default: 5,
      env: `${ENV_PREFIX}HEAL_CLUSTER_OUTAGE_THRESHOLD`,
    },
    probe: {
      enabled: {
        doc: 'Probe the external endpoint (database, Elasticsearch ...) of a connection-class failure by TCP and spend no restart while it refuses; clusters[].probe overrides it.',
        format: Boolean,
        default: true,
        env: `${ENV_PREFIX}HEAL_PROBE_ENABLED`,
      },
      timeout: {
        doc: `Timeout of one dependency probe ${durationDoc}.`,
        format: FORMAT.positiveTimer,
        default: 2_000,
        env: `${ENV_PREFIX}HEAL_PROBE_TIMEOUT`,
      },
    },
    confirmDelay: {
      doc: `After a restart, re-read that connector's status this much later to confirm the outcome ${durationDoc}.`,
      format: FORMAT.nonNegativeTimer,
      default: 2_000,
      env: `${ENV_PREFIX}HEAL_CONFIRM_DELAY`,
    },
    stall: {
      connectors: {
        doc:
          'The source connectors to watch for stalls: a regular expression on connector names (".*" for all); empty: none. A watched source connector that reads RUNNING, with every task RUNNING, while its committed offsets (GET /connectors/{name}/offsets, Kafka Connect 3.5 or later) have not moved for heal.stall.after is paged as stalled: a Debezium task retrying a lost database on its own reads RUNNING while nothing streams. ' +
          'Watch only sources whose offsets move even when their system is idle, such as Debezium with heartbeat.interval.ms and a heartbeat.action.query that updates a table in its publication: the offsets of an idle source without one do not move either.',
        format: FORMAT.regExp,
        default: '',
        env: `${ENV_PREFIX}HEAL_STALL_CONNECTORS`,
      },
      after: {
        doc: `Page a watched source whose offsets have not moved for this long. Keep it well above the worker's offset.flush.interval.ms (60 s by default) and the connector's heartbeat interval ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 900_000,
        env: `${ENV_PREFIX}HEAL_STALL_AFTER`,
      },
      checkInterval: {
        doc: `How often the offsets of the watched sources are read: one request per connector, which the worker answers with about 50 INFO lines of config in its own log (Kafka Connect 4.3.1) ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 60_000,
        env: `${ENV_PREFIX}HEAL_STALL_CHECK_INTERVAL`,
      },
    },
    health: {
      checkInterval: {
        doc: `How often the worker at each cluster's url is asked GET /health (Kafka Connect 3.9 or later; a worker without it is not asked again until its version changes), beside the polls (only a process's first poll waits for it, up to 15 s), and at every poll while the worker says it is not healthy, since restarts wait for its healthy answer: a worker cut off from the Kafka brokers stops every task while its status listing still reads RUNNING, and only its health says so. 0: never, and what an earlier run remembered is forgotten ${durationDoc}.`,
        format: FORMAT.nonNegativeDuration,
        default: 60_000,
        env: `${ENV_PREFIX}HEAL_HEALTH_CHECK_INTERVAL`,
      },
      after: {
        doc: `Page (worker-unhealthy, critical) a worker that has said it is not healthy (or not answered GET /health in 15 s) at every read for this long; resolved at its first healthy answer. A rebalance makes a worker unhealthy for seconds; a broker outage for as long as it lasts ${durationDoc}.`,
        format: FORMAT.positiveDuration,
        default: 300_000,
        env: `${ENV_PREFIX}HEAL_HEALTH_AFTER`,
      },
    },
  },
  maintenance: {
    doc:
      'Maintenance windows: a list of {cron, duration, cluster?, connector?, timezone?}. cron is a node-cron expression for the start (5 or 6 fields), duration in milliseconds, ' +
      'cluster a cluster name and connector a regular expression on connector names (both optional: global), timezone an IANA zone for the cron (default UTC). Inside a window the watchdog observes but neither restarts nor pages.',
    format: FORMAT.windowList,
    default: [] as unknown[],
  },
  rules: {
    doc: 'Custom classifier rules tried before the built-in ones: a list of {name, pattern, class, hint?}; pattern is a regular expression on the whole trace, class one of connection, serialization, config, unknown.',
    format: FORMAT.ruleList,
    default: [] as unknown[],
  },
  sinks: {
    doc:
      'Escalation sinks: a list of {type, name?, url?, secret?, secretFile?, routingKey?, routingKeyFile?, filter?}. type: webhook, pagerduty, slack or alertmanager. ' +
      'filter: {classes?, severities?, clusters?, connector?} (connector is a regular expression).',
    format: FORMAT.sinkList,
    default: [] as unknown[],
  },
  webhookUrl: {
    doc: 'Adds one generic webhook sink without a config file.',
    format: FORMAT.optionalHttpUrl,
    default: '',
    env: `${ENV_PREFIX}WEBHOOK_URL`,
    sensitive: true,
  },
  webhookSecret: {
    doc: 'HMAC-SHA256 key signing the webhookUrl sink payloads (X-Connect-Watchdog-Signature header).',
    format: String,
    default: '',
    env: `${ENV_PREFIX}WEBHOOK_SECRET`,
    sensitive: true,
  },
  delivery: {
    timeout: {
      doc: `Timeout of one delivery attempt to a sink ${durationDoc}.`,
      format: FORMAT.positiveTimer,
      default: 10_000,
      env: `${ENV_PREFIX}DELIVERY_TIMEOUT`,
    },
    retries: {
      doc: 'Retries of one delivery in one drain of the outbox (exponential, jittered, honouring Retry-After); an event that still fails stays in the outbox for the next drain.',
      format: 'nat',
      default: 3,
      env: `${ENV_PREFIX}DELIVERY_RETRIES`,
    },
    interval: {
      doc: `How often the outbox is drained when it holds undelivered events ${durationDoc}.`,
      format: FORMAT.positiveTimer,
      default: 5_000,
      env: `${ENV_PREFIX}DELIVERY_INTERVAL`,
    },
    maxAge: {
      doc: `An event that waited this long in the outbox is dropped (logged and counted as expired) ${durationDoc}; time the watchdog ran, neither its downtime nor a wall clock step.`,
      format: FORMAT.positiveDuration,
      default: 86_400_000,
      env: `${ENV_PREFIX}DELIVERY_MAX_AGE`,
    },
  },
  alertmanager: {
    resendInterval: {
      doc: `Open incidents are re-sent to Alertmanager sinks this often so that they do not time out ${durationDoc}.`,
      format: FORMAT.positiveDuration,
      default: 60_000,
      env: `${ENV_PREFIX}ALERTMANAGER_RESEND_INTERVAL`,
    },
  },
  heartbeat: {
    url: {
      doc: 'Dead man\'s switch: a URL pinged (GET) every heartbeat.interval while polls succeed, so that a dead watchdog pages too. Empty: off.',
      format: FORMAT.optionalHttpUrl,
      default: '',
      env: `${ENV_PREFIX}HEARTBEAT_URL`,
      sensitive: true,
    },
    interval: {
      doc: `How often the heartbeat URL is pinged ${durationDoc}.`,
      format: FORMAT.positiveDuration,
      default: 300_000,
      env: `${ENV_PREFIX}HEARTBEAT_INTERVAL`,
    },
  },
};

export { FAILURE_CLASSES };
