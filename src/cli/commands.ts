import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createClassifier } from '../classify/classify.js';
import { ConnectClient, clientOptions } from '../connect/client.js';
import { ConfigError, type LoadedConfig, credentialsInClear, loadConfigWithWarnings, redactConfig, unknownFilterClusters, unknownVariables } from '../config/load.js';
import { tlsDateWarnings } from '../config/tls.js';
import { settingWarnings } from '../config/warnings.js';
import type { WatchdogConfig } from '../config/types.js';
import { Daemon } from '../daemon/daemon.js';
import { scrubSecrets } from '../secrets/scrub.js';
import { createLogger } from '../log/logger.js';
import { MetricsListenError } from '../metrics/server.js';
import { StateFileLockedError } from '../state/store.js';
import { ClassifyInputError, readClassifyInput, type ClassifyInput } from './classify-input.js';
import { EXIT } from './exit-codes.js';
import { buildStatusView, renderStatus } from './status-view.js';

/** From src/cli (tsx) or dist/src/cli (built): the nearest package.json above is ours. */
function readVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'connect-watchdog' && pkg.version) return pkg.version;
    } catch {
      // try the next level up
    }
  }
  return 'unknown';
}
const VERSION = readVersion();

const COMMON = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  pretty: { type: 'boolean' },
  'log-level': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const HELP: Record<string, string> = {
  main: `connect-watchdog ${VERSION}: an auto-healing watchdog for Apache Kafka Connect

Usage: connect-watchdog <command> [options]

Commands:
  run            watch every cluster: restart what a restart can fix, escalate the rest
  status         one look at every connector and task (exit 0 nothing FAILED, 2 something FAILED or unreadable, 1 unreachable)
  classify       classify one failure trace (file or stdin) as connection, serialization, config or unknown
  check-config   validate the configuration and print it with secrets redacted (exit 78 when invalid)

Options: --config FILE (or CONNECT_WATCHDOG_CONFIG), --help, --version
Run 'connect-watchdog <command> --help' (or 'connect-watchdog help <command>') for a command's options.`,
  run: `Usage: connect-watchdog run [--config FILE] [--once] [--dry-run] [--pretty] [--log-level LEVEL]

Polls every configured cluster every pollInterval, restarts FAILED connectors and tasks whose failure a
restart can fix (under backoff, budget and maintenance windows) and escalates the rest to the sinks.
  --once       poll every cluster once, deliver escalations, exit 0 if every cluster answered, 1 otherwise
  --dry-run    decide, log and count everything, but send no restart and no page, and write no state file
  --pretty     human-readable logs (default when stdout is a terminal)
  --log-level LEVEL  trace, debug, info, warn, error, fatal or silent; wins over logLevel and
               CONNECT_WATCHDOG_LOG_LEVEL
Logs are JSON lines on stdout. SIGTERM, SIGINT and SIGHUP stop it cleanly (exit 0).`,
  status: `Usage: connect-watchdog status [--config FILE] [--cluster NAME] [--json]

Prints, per cluster, each connector with its type, state, task states, worker, and the root cause and
class of anything FAILED, and the worker's own health (GET /health, Kafka Connect 3.9 or later) when it
is not healthy: a worker cut off from the Kafka brokers stops every task and still lists them RUNNING.
--cluster NAME looks at that configured cluster only; --json prints the same as one JSON document.
Exit codes: 0 nothing FAILED (PAUSED, STOPPED and UNASSIGNED included), 2 something FAILED (or a status that cannot be
read, or none yet), 1 a cluster could not be reached (whatever the others show), 78 bad config.`,
  classify: `Usage: connect-watchdog classify [FILE|-] [--config FILE]

Reads one Java stack trace (the 'trace' of a Connect status) from FILE, or from stdin with '-' or no
argument, and prints {"class","rootCause","rule","hint"} as one JSON object. Custom rules from the
config are tried first. Credentials in the trace are masked in the output.

It also reads Connect's JSON as curl prints it: a JSON string (the trace itself), a status body
(GET /connectors/NAME/status) or a listing (GET /connectors?expand=status). For a status or a listing
it prints one line per FAILED connector or task, {"connector","task",...}, task null for a connector;
nothing when nothing is FAILED. One task's status (GET /connectors/NAME/tasks/ID/status) names no
connector: its trace is classified as a trace is.
  curl -s http://localhost:8083/connectors/pg-orders/status | connect-watchdog classify
Exit codes: 0 classified, 64 unreadable input, 78 bad config.`,
  'check-config': `Usage: connect-watchdog check-config [--config FILE] [--log-level LEVEL]

Validates the configuration (file, CONNECT_WATCHDOG_* variables, CONNECT_URL) and prints the effective
configuration as JSON with secrets redacted. Exit 0 when valid, 78 with one line on stderr when not.
--log-level LEVEL is applied to the printed configuration (logLevel), as run applies it.`,
};

/** A start-up warning: one line on stderr, the prefix operators grep for; stdout stays the command's data. */
function warn(message: string): void {
  process.stderr.write(`connect-watchdog: warning: ${message}\n`);
}

function fail(code: number, message: string): never {
  process.stderr.write(`connect-watchdog: ${message}\n`);
  process.exit(code);
}

/** Only `classify` takes an argument (its FILE): a stray word (`run once`, dashes forgotten) is a usage error, not a daemon. */
function parse<const O extends NonNullable<ParseArgsConfig['options']>>(verb: string, argv: string[], extra: O, maxPositionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...extra }, allowPositionals: true, strict: true });
  } catch (err) {
    fail(EXIT.usage, `${(err as Error).message}\n${HELP[verb] ?? HELP['main']}`);
  }
  const extraWords = parsed.positionals.slice(maxPositionals);
  if (extraWords.length > 0) fail(EXIT.usage, `unexpected argument ${JSON.stringify(extraWords[0])}\n${HELP[verb] ?? HELP['main']}`);
  return parsed;
}

/** Every verb parses the common options; one that writes no log has no use for the log options. */
function warnUnusedLogOptions(verb: string, values: { pretty?: boolean | string | undefined; 'log-level'?: boolean | string | undefined }, logLevel: 'used' | 'unused'): void {
  if (values.pretty) warn(`--pretty: ${verb} writes no log to format: it is ignored`);
  if (logLevel === 'unused' && values['log-level'] !== undefined) warn(`--log-level: ${verb} writes no log: it is ignored`);
}

/**
 * The config of every verb: --log-level wins over the file and the environment, for check-config's print too.
 * `proxy: false` for the verbs that send no page: a proxy variable set for other tools (socks5h://) is no error there.
 */
function configFrom(
  values: { config?: string | boolean | undefined; 'log-level'?: string | boolean | undefined },
  overrides: { dryRun?: boolean } = {},
  options: { proxy?: false } = {},
): WatchdogConfig {
  let loaded: LoadedConfig;
  try {
    const logLevel = typeof values['log-level'] === 'string' ? { logLevel: values['log-level'] } : {};
    loaded = loadConfigWithWarnings({ ...(typeof values.config === 'string' && { configFile: values.config }), overrides: { ...overrides, ...logLevel }, ...options });
  } catch (err) {
    if (err instanceof ConfigError) fail(EXIT.config, `invalid config: ${err.message}`);
    throw err;
  }
  const { config, ignored, overridden } = loaded;
  for (const { key, reason } of settingWarnings(config)) warn(`${key}: ${reason}`);
  for (const { variable, didYouMean } of unknownVariables()) {
    warn(`${variable} is not a setting and is ignored${didYouMean === undefined ? '' : ` (did you mean ${didYouMean}?)`}`);
  }
  for (const { key, variable } of overridden) {
    warn(`${key} in the config file is overridden by ${variable} (the environment wins)`);
  }
  for (const { sink, cluster } of unknownFilterClusters(config)) {
    warn(`sink "${sink}" filters on cluster "${cluster}", which is not configured: it gets nothing from it`);
  }
  for (const { key, reason } of ignored) warn(`${key}: ${reason}`);
  for (const { cluster, origin } of credentialsInClear(config)) {
    warn(`cluster "${cluster}" sends its credentials to ${origin} in clear text (basic auth and tokens are not encrypted): use https://`);
  }
  for (const [i, cluster] of config.clusters.entries()) {
    for (const { key, reason } of tlsDateWarnings(cluster, Date.now())) warn(`clusters[${i}].${key}: ${reason}`);
  }
  return config;
}

async function runCommand(argv: string[]): Promise<number> {
  const { values } = parse('run', argv, { once: { type: 'boolean' }, 'dry-run': { type: 'boolean' } });
  if (values.help) return help('run');
  const config = configFrom(values, values['dry-run'] ? { dryRun: true } : {});
  const logger = createLogger({ level: config.logLevel, fd: 1, ...(values.pretty && { pretty: true }) });
  const daemon = new Daemon({ config, logger });
  await daemon.init();
  if (values.once) {
    const ok = await daemon.runOnce();
    return ok ? EXIT.ok : EXIT.unreachable;
  }
  await daemon.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'signal received');
      resolve();
    };
    // SIGHUP too (a closed terminal, `nohup` forgotten): Node's default would exit at once, losing the
    // deferred state write and pages in flight. There is no configuration reload to give it.
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => stop(signal));
  });
  await daemon.shutdown();
  return EXIT.ok;
}

/** status answers within this bound even when a cluster does not. */
const ONE_SHOT_DEADLINE_MS = 25_000;

async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parse('status', argv, { json: { type: 'boolean' }, cluster: { type: 'string' } });
  if (values.help) return help('status');
  const config = configFrom(values, {}, { proxy: false });
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, fd: 2 });
  const clusters = typeof values.cluster === 'string' ? config.clusters.filter((c) => c.name === values.cluster) : config.clusters;
  if (clusters.length === 0) fail(EXIT.usage, `no cluster named "${String(values.cluster)}"`);
  const classify = createClassifier(config.rules);
  const signal = AbortSignal.timeout(ONE_SHOT_DEADLINE_MS);
  const results = await Promise.all(
    clusters.map(async (cluster) => {
      const client = new ConnectClient(cluster, { ...clientOptions(config), logger, readInfo: false });
      try {
        // Without the info (it holds every connector's passwords), only GET /connectors names those without a status.
        const listed = client.snapshot(signal).then((snapshot) => client.withUnlisted(snapshot, signal));
        // The health is read beside the listing: a worker cut off from Kafka lists stale states, and only
        // GET /health says so. Not knowing it (an error other than no answer) leaves it out.
        const health = client.health(signal).catch((err: unknown) => {
          logger.debug({ cluster: cluster.name, err }, 'could not read the worker health');
          return undefined;
        });
        const [snapshot, said] = await Promise.all([listed, health]);
        return { cluster: cluster.name, snapshot, ...(said !== undefined && { health: said }) };
      } catch (err) {
        return { cluster: cluster.name, error: (err as Error).message };
      } finally {
        await client.close();
      }
    }),
  );
  const view = buildStatusView(results, classify);
  process.stdout.write(values.json ? `${JSON.stringify(view, null, 2)}\n` : `${renderStatus(view)}\n`);
  if (view.summary.unreachable > 0) return EXIT.unreachable;
  // A status that cannot be read may hide a FAILED one: not the "nothing FAILED" of exit 0.
  return view.summary.failed > 0 || view.summary.unreadable > 0 ? EXIT.failed : EXIT.ok;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function classifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('classify', argv, {}, 1);
  if (values.help) return help('classify');
  const config = configFrom(values, {}, { proxy: false });
  warnUnusedLogOptions('classify', values, 'unused');
  const file = positionals[0];
  let text: string;
  try {
    text = file === undefined || file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    fail(EXIT.usage, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let input: ClassifyInput;
  try {
    input = readClassifyInput(text);
  } catch (err) {
    if (!(err instanceof ClassifyInputError)) throw err;
    fail(EXIT.usage, err.message);
  }
  const classify = createClassifier(config.rules);
  // The output is pasted into tickets and chats: no password of the trace goes with it.
  const scrubbed = (trace: string) => {
    const c = classify(trace);
    return { ...c, rootCause: scrubSecrets(c.rootCause), rule: scrubSecrets(c.rule) };
  };
  if (input.kind === 'trace') {
    process.stdout.write(`${JSON.stringify(scrubbed(input.trace))}\n`);
    return EXIT.ok;
  }
  if (input.failed.length === 0) process.stderr.write('connect-watchdog: nothing is FAILED in this input: nothing to classify\n');
  for (const { connector, task, trace } of input.failed) process.stdout.write(`${JSON.stringify({ connector, task, ...scrubbed(trace) })}\n`);
  return EXIT.ok;
}

function checkConfigCommand(argv: string[]): number {
  const { values } = parse('check-config', argv, {});
  if (values.help) return help('check-config');
  const config = configFrom(values);
  // --log-level is applied to the printed logLevel.
  warnUnusedLogOptions('check-config', values, 'used');
  process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
  return EXIT.ok;
}

function help(verb: string): number {
  process.stdout.write(`${HELP[verb] ?? HELP['main']}\n`);
  return EXIT.ok;
}

/** `--config FILE` written before the command (the main help lists it as an option) goes after it. */
function commandFirst(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (argv[i] === '--config' || argv[i]?.startsWith('--config=') === true) {
    const width = argv[i] === '--config' ? 2 : 1;
    if (i + width > argv.length) fail(EXIT.usage, `--config needs a FILE\n${HELP['main']}`);
    leading.push(...argv.slice(i, i + width));
    i += width;
  }
  if (leading.length === 0) return [...argv];
  return i < argv.length ? [argv[i]!, ...leading, ...argv.slice(i + 1)] : [];
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = commandFirst(argv);
  switch (verb) {
    case 'run':
      return runCommand(rest);
    case 'status':
      return statusCommand(rest);
    case 'classify':
      return classifyCommand(rest);
    case 'check-config':
      return checkConfigCommand(rest);
    case '--version':
    case '-V':
    case 'version':
      // A stray word is a usage error as for every verb; the options every verb takes (a leading --config) are not.
      parse('main', rest, {});
      process.stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    case undefined:
      // Not 0: a container whose command was left empty would otherwise "complete" while watching nothing.
      fail(EXIT.usage, `a command is needed\n${HELP['main']}`);
    case '--help':
    case '-h':
    case 'help': {
      // `help run` is `run --help`; a word that is no command is the usage error it is everywhere else.
      const topic = parse('main', rest, {}, 1).positionals[0];
      if (topic !== undefined && (topic === 'main' || HELP[topic] === undefined)) fail(EXIT.usage, `unknown command "${topic}"\n${HELP['main']}`);
      return help(topic ?? 'main');
    }
    default:
      fail(EXIT.usage, `unknown command "${verb}"\n${HELP['main']}`);
  }
}

// A reader that stops early (`status --json | head -1`) closes the pipe: the rest of the output has nowhere to
// go, which is no failure of the command. Unhandled, the EPIPE would be a stack trace and exit 1 (unreachable).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Exit even if a library left a handle open; unref'd so a clean exit is not delayed.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    const known = err instanceof MetricsListenError || err instanceof StateFileLockedError;
    process.stderr.write(`connect-watchdog: ${known ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exitCode = 1;
  },
);
