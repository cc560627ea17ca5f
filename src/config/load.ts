import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import convict from 'convict';
import { validate as validateCron } from 'node-cron';
import { FAILURE_CLASSES, type CustomRule, type FailureClass } from '../classify/types.js';
import { ENV_PREFIX, FORMAT, LIST_FORMATS, SEVERITIES, SINK_TYPES, schema, type Severity, type SinkType } from './schema.js';
import type { ClusterConfig, MaintenanceWindow, ProxyConfig, SinkConfig, SinkFilter, WatchdogConfig } from './types.js';
import { INCIDENT_CLASSES } from '../escalate/types.js';
import { invalidRegExp } from '../util/regexp.js';
import { describeCertificates, tlsProblem } from './tls.js';
import { maskUserInfo, scrubSecrets } from '../secrets/scrub.js';
import type { SettingWarning } from './warnings.js';
import { MAX_TIMER_MS } from '../util/clock.js';
import { isJsonObject, jsonSyntaxReason } from '../util/json.js';

/** A configuration problem: always names the key, never echoes a secret. Exit code 78 (EX_CONFIG). */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export const CONFIG_FILE_ENV = `${ENV_PREFIX}CONFIG`;

export interface LoadOptions {
  /** Path given with --config; falls back to CONNECT_WATCHDOG_CONFIG. */
  readonly configFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values set on the command line (e.g. --dry-run), applied last. */
  readonly overrides?: { readonly dryRun?: boolean; readonly logLevel?: string };
  /** false: HTTPS_PROXY / HTTP_PROXY / NO_PROXY are not read (status and classify send no page); proxy is {}. */
  readonly proxy?: boolean;
}

function toNumber(v: unknown): unknown {
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return v;
}

function toBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : v;
}

function toInteger(v: unknown): unknown {
  return typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
}

function checkHttpUrl(value: unknown): void {
  if (typeof value !== 'string') throw new Error('must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
}

/** A Connect worker's base URL: REST paths are appended to it, so a query or fragment would be lost. */
function checkConnectUrl(value: unknown): void {
  checkHttpUrl(value);
  const url = new URL(value as string);
  if (url.search !== '' || url.hash !== '') throw new Error('must be the worker\'s base URL, without a query or fragment');
}

/**
 * What is wrong with a whole-number setting, or undefined. Whole: AbortSignal.timeout() refuses a fraction
 * of a millisecond (every request or delivery would fail). A duration waited on is at most MAX_TIMER_MS: a
 * longer Node timer fires after 1 ms (a month's poll interval would poll non-stop).
 */
function wholeNumberProblem(v: unknown, { zero, unit, timer }: { zero: boolean; unit: string; timer: boolean }): string | undefined {
  const ok = typeof v === 'number' && Number.isSafeInteger(v) && (zero ? v >= 0 : v > 0) && (!timer || v <= MAX_TIMER_MS);
  if (ok) return undefined;
  return `must be ${zero ? 'zero or ' : ''}a positive whole number${unit}${timer ? `, at most ${MAX_TIMER_MS} (24.8 days, the longest a timer holds)` : ''}`;
}

const MS = ' of milliseconds';
const WHOLE_NUMBER_FORMATS = [
  { name: FORMAT.positiveDuration, zero: false, unit: MS, timer: false },
  { name: FORMAT.nonNegativeDuration, zero: true, unit: MS, timer: false },
  { name: FORMAT.positiveTimer, zero: false, unit: MS, timer: true },
  { name: FORMAT.nonNegativeTimer, zero: true, unit: MS, timer: true },
  { name: FORMAT.positiveCount, zero: false, unit: '', timer: false },
] as const;

let formatsAdded = false;
function addFormats(): void {
  if (formatsAdded) return;
  formatsAdded = true;
  for (const { name, ...rule } of WHOLE_NUMBER_FORMATS) {
    convict.addFormat({
      name,
      coerce: toInteger,
      validate(v: unknown) {
        const problem = wholeNumberProblem(v, rule);
        if (problem !== undefined) throw new Error(problem);
      },
    });
  }
  convict.addFormat({
    name: FORMAT.positiveNumber,
    coerce: toNumber,
    validate(v: unknown) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error('must be a positive number');
    },
  });
  convict.addFormat({
    name: FORMAT.ratio,
    coerce: toNumber,
    validate(v: unknown) {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error('must be a number from 0 to 1');
    },
  });
  // convict's own coercion of a string (every environment variable, a quoted value in the file) is lax:
  // any boolean but "false" is true ("0", "no" and "off" included), and an integer is what parseInt reads
  // ("80x" is 80, "1.5" is 1). Only a string that means one value is converted; anything else stays a string
  // and fails validation (format Boolean is convict's 'boolean', checked by convict as a Boolean).
  convict.addFormat({
    name: 'boolean',
    coerce: toBoolean,
    validate(v: unknown) {
      if (typeof v !== 'boolean') throw new Error('must be true or false');
    },
  });
  convict.addFormat({
    name: 'nat',
    coerce: toInteger,
    validate(v: unknown) {
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error('must be an integer ≥ 0');
    },
  });
  convict.addFormat({
    name: 'port',
    coerce: toInteger,
    validate(v: unknown) {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) throw new Error('ports must be within range 0 - 65535');
    },
  });
  convict.addFormat({
    name: FORMAT.regExp,
    // Without a coerce, convict turns a custom format's '' default into {}.
    coerce: (v: unknown) => v,
    validate(v: unknown) {
      if (typeof v !== 'string') throw new Error('must be a regular expression (a string)');
      const invalid = invalidRegExp(v);
      if (invalid !== undefined) throw new Error(invalid);
    },
  });
  convict.addFormat({ name: FORMAT.httpUrl, validate: checkConnectUrl });
  convict.addFormat({
    name: FORMAT.optionalHttpUrl,
    validate(v: unknown) {
      if (v !== '') checkHttpUrl(v);
    },
  });
  // Lists are checked element by element in resolve*(), which can name the exact key (clusters[1].url).
  for (const name of LIST_FORMATS) {
    convict.addFormat({
      name,
      validate(v: unknown) {
        if (!Array.isArray(v)) throw new Error('must be a list');
      },
    });
  }
}

type Raw = Record<string, unknown>;

function allowOnly(obj: Raw, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ConfigError(`${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function optString(obj: Raw, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${path}.${key}`, 'must be a non-empty string');
  return v;
}

// An absolute path of at least two parts (/etc/connect-watchdog/secrets/x, /run/secrets/x), without spaces.
const SHOWN_PATH = /^\/[^\s/]+\/\S/;

function readSecretFile(file: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // A value that cannot be read may be the secret itself, given by mistake (a password as passwordFile, a
    // PEM key pasted as key): only what is plainly a path is quoted.
    if (!SHOWN_PATH.test(file)) throw new ConfigError(key, `cannot read the file it names (not quoted here: it is no absolute path, and may be the secret itself): ${code}`);
    throw new ConfigError(key, `cannot read file ${JSON.stringify(file)}: ${code}`);
  }
  // An empty inline secret is refused too; an empty password file made every request a 401.
  if (text === '') throw new ConfigError(key, `file ${JSON.stringify(file)} is empty`);
  return text;
}

/** A secret given inline or as a file (xFile), never both. */
function secret(obj: Raw, key: string, path: string): string | undefined {
  const inline = optString(obj, key, path);
  const file = optString(obj, `${key}File`, path);
  if (inline !== undefined && file !== undefined) throw new ConfigError(`${path}.${key}`, `give ${key} or ${key}File, not both`);
  return file !== undefined ? readSecretFile(file, `${path}.${key}File`) : inline;
}

function pemFile(obj: Raw, key: string, path: string): string | undefined {
  const file = optString(obj, key, path);
  return file === undefined ? undefined : readSecretFile(file, `${path}.${key}`);
}

/** A positive duration of a list item; `timer`: one the watchdog waits on (wholeNumberProblem). */
function positiveMilliseconds(obj: Raw, key: string, path: string, fallback: number, timer: boolean): number {
  const v = obj[key];
  if (v === undefined) return fallback;
  const problem = wholeNumberProblem(v, { zero: false, unit: MS, timer });
  if (problem !== undefined) throw new ConfigError(`${path}.${key}`, problem);
  return v as number;
}

function optBoolean(obj: Raw, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${path}.${key}`, 'must be true or false');
  return v;
}

const CLUSTER_KEYS = ['name', 'url', 'username', 'password', 'passwordFile', 'token', 'tokenFile', 'ca', 'cert', 'key', 'rejectUnauthorized', 'timeout', 'probe'] as const;

function resolveClusters(raw: unknown[], shortcut: { url: string; name: string }, defaults: { timeout: number; probe: boolean }): ClusterConfig[] {
  if (raw.length === 0) {
    return [{ name: shortcut.name, url: shortcut.url, rejectUnauthorized: true, timeout: defaults.timeout, probe: defaults.probe }];
  }
  const seen = new Set<string>();
  return raw.map((item, i) => {
    const path = `clusters[${i}]`;
    if (!isJsonObject(item)) throw new ConfigError(path, 'must be an object');
    allowOnly(item, path, CLUSTER_KEYS);
    const name = optString(item, 'name', path);
    if (name === undefined) throw new ConfigError(`${path}.name`, 'is required');
    if (seen.has(name)) throw new ConfigError(`${path}.name`, `duplicate cluster name "${name}"`);
    seen.add(name);
    const url = item['url'];
    try {
      checkConnectUrl(url);
    } catch (err) {
      throw new ConfigError(`${path}.url`, url === undefined ? 'is required' : (err as Error).message);
    }
    const username = optString(item, 'username', path);
    const password = secret(item, 'password', path);
    const token = secret(item, 'token', path);
    if ((username === undefined) !== (password === undefined)) throw new ConfigError(`${path}.username`, 'basic auth needs both username and password');
    if (token !== undefined && username !== undefined) throw new ConfigError(`${path}.token`, 'give basic auth or a bearer token, not both');
    const ca = pemFile(item, 'ca', path);
    const cert = pemFile(item, 'cert', path);
    const key = pemFile(item, 'key', path);
    if ((cert === undefined) !== (key === undefined)) throw new ConfigError(`${path}.cert`, 'a client certificate needs both cert and key');
    const tls = tlsProblem({ ...(ca !== undefined && { ca }), ...(cert !== undefined && { cert }), ...(key !== undefined && { key }) });
    if (tls !== undefined) throw new ConfigError(`${path}.${tls.key}`, tls.reason);
    const cluster: ClusterConfig = {
      name,
      url: (url as string).replace(/\/+$/, ''),
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      ...(token !== undefined && { token }),
      ...(ca !== undefined && { ca }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
      rejectUnauthorized: optBoolean(item, 'rejectUnauthorized', path, true),
      timeout: positiveMilliseconds(item, 'timeout', path, defaults.timeout, true),
      probe: optBoolean(item, 'probe', path, defaults.probe),
    };
    return cluster;
  });
}

function checkRegExp(pattern: string, key: string): void {
  const invalid = invalidRegExp(pattern);
  if (invalid !== undefined) throw new ConfigError(key, invalid);
}

function resolveRules(raw: unknown[]): CustomRule[] {
  return raw.map((item, i) => {
    const path = `rules[${i}]`;
    if (!isJsonObject(item)) throw new ConfigError(path, 'must be an object');
    allowOnly(item, path, ['name', 'pattern', 'class', 'hint']);
    const pattern = optString(item, 'pattern', path);
    if (pattern === undefined) throw new ConfigError(`${path}.pattern`, 'is required');
    checkRegExp(pattern, `${path}.pattern`);
    const cls = item['class'];
    if (!FAILURE_CLASSES.includes(cls as FailureClass)) throw new ConfigError(`${path}.class`, `must be one of ${FAILURE_CLASSES.join(', ')}`);
    const hint = optString(item, 'hint', path);
    return { name: optString(item, 'name', path) ?? `custom-${i}`, pattern, class: cls as FailureClass, ...(hint !== undefined && { hint }) };
  });
}

function stringList<T extends string>(obj: Raw, key: string, path: string, allowed?: readonly T[]): T[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new ConfigError(`${path}.${key}`, 'must be a list of strings');
  if (allowed) {
    const bad = v.find((s) => !allowed.includes(s as T));
    if (bad !== undefined) throw new ConfigError(`${path}.${key}`, `"${bad}" is not one of ${allowed.join(', ')}`);
  }
  return v as T[];
}

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

function resolveSinks(raw: unknown[], webhookUrl: string, webhookSecret: string): SinkConfig[] {
  const sinks = raw.map((item, i): SinkConfig => {
    const path = `sinks[${i}]`;
    if (!isJsonObject(item)) throw new ConfigError(path, 'must be an object');
    allowOnly(item, path, ['type', 'name', 'url', 'secret', 'secretFile', 'routingKey', 'routingKeyFile', 'filter']);
    const type = item['type'];
    if (!SINK_TYPES.includes(type as SinkType)) throw new ConfigError(`${path}.type`, `must be one of ${SINK_TYPES.join(', ')}`);
    const url = item['url'] ?? (type === 'pagerduty' ? PAGERDUTY_URL : undefined);
    try {
      checkHttpUrl(url);
    } catch (err) {
      throw new ConfigError(`${path}.url`, url === undefined ? 'is required' : (err as Error).message);
    }
    const routingKey = secret(item, 'routingKey', path);
    if (type === 'pagerduty' && routingKey === undefined) throw new ConfigError(`${path}.routingKey`, 'is required for a pagerduty sink');
    const sec = secret(item, 'secret', path);
    const rawFilter = item['filter'] ?? {};
    const fpath = `${path}.filter`;
    if (!isJsonObject(rawFilter)) throw new ConfigError(fpath, 'must be an object');
    allowOnly(rawFilter, fpath, ['classes', 'severities', 'clusters', 'connector']);
    const connector = optString(rawFilter, 'connector', fpath);
    if (connector !== undefined) checkRegExp(connector, `${fpath}.connector`);
    const classes = stringList(rawFilter, 'classes', fpath, INCIDENT_CLASSES);
    const severities = stringList<Severity>(rawFilter, 'severities', fpath, SEVERITIES);
    const clusters = stringList(rawFilter, 'clusters', fpath);
    const filter: SinkFilter = {
      ...(classes && { classes }),
      ...(severities && { severities }),
      ...(clusters && { clusters }),
      ...(connector !== undefined && { connector }),
    };
    return {
      type: type as SinkType,
      name: optString(item, 'name', path) ?? `${type as string}-${i}`,
      url: url as string,
      ...(sec !== undefined && { secret: sec }),
      ...(routingKey !== undefined && { routingKey }),
      filter,
    };
  });
  if (webhookUrl !== '') {
    sinks.push({ type: 'webhook', name: 'env-webhook', url: webhookUrl, ...(webhookSecret !== '' && { secret: webhookSecret }), filter: {} });
  }
  const names = new Set<string>();
  sinks.forEach((s, i) => {
    if (names.has(s.name)) throw new ConfigError(`sinks[${i}].name`, `duplicate sink name "${s.name}"`);
    names.add(s.name);
  });
  return sinks;
}

function resolveWindows(raw: unknown[], clusterNames: readonly string[]): MaintenanceWindow[] {
  return raw.map((item, i) => {
    const path = `maintenance[${i}]`;
    if (!isJsonObject(item)) throw new ConfigError(path, 'must be an object');
    allowOnly(item, path, ['cron', 'duration', 'cluster', 'connector', 'timezone']);
    const cron = optString(item, 'cron', path);
    if (cron === undefined) throw new ConfigError(`${path}.cron`, 'is required');
    if (!validateCron(cron)) throw new ConfigError(`${path}.cron`, `invalid cron expression "${cron}"`);
    const duration = item['duration'];
    if (duration === undefined) throw new ConfigError(`${path}.duration`, 'is required');
    const d = positiveMilliseconds(item, 'duration', path, 0, false);
    const cluster = optString(item, 'cluster', path);
    if (cluster !== undefined && !clusterNames.includes(cluster)) throw new ConfigError(`${path}.cluster`, `no cluster named "${cluster}"`);
    const connector = optString(item, 'connector', path);
    if (connector !== undefined) checkRegExp(connector, `${path}.connector`);
    const timezone = optString(item, 'timezone', path);
    if (timezone !== undefined) {
      try {
        new Intl.DateTimeFormat('en', { timeZone: timezone });
      } catch {
        throw new ConfigError(`${path}.timezone`, `unknown time zone "${timezone}"`);
      }
    }
    return { cron, duration: d, ...(cluster && { cluster }), ...(connector && { connector }), ...(timezone && { timezone }) };
  });
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // A password left unquoted, or a secret file given as the config, must not reach the journal.
    throw new ConfigError('config', `${file} is not valid JSON: ${jsonSyntaxReason(err)}`);
  }
}

/** What a dotted key (heal.backoff.initial) names in a nested object, or undefined. */
function valueAt(root: unknown, key: string): unknown {
  let node = root;
  for (const part of key.split('.')) node = isJsonObject(node) ? node[part] : undefined;
  return node;
}

/** The environment variable that sets a schema key, when it has one. */
function envVarOf(key: string): string | undefined {
  const node = valueAt(schema, key);
  return isJsonObject(node) && typeof node['env'] === 'string' ? node['env'] : undefined;
}

/** Every setting the schema reads from a variable: its key (heal.backoff.initial) and the variable. */
function schemaVariables(): { key: string; variable: string }[] {
  const found: { key: string; variable: string }[] = [];
  const walk = (node: unknown, path: string): void => {
    if (!isJsonObject(node)) return;
    if (typeof node['env'] === 'string') found.push({ key: path, variable: node['env'] });
    for (const [k, child] of Object.entries(node)) walk(child, path === '' ? k : `${path}.${k}`);
  };
  walk(schema, '');
  return found;
}

/** Every variable the schema reads, and CONNECT_WATCHDOG_CONFIG. */
function knownVariables(): Set<string> {
  return new Set([CONFIG_FILE_ENV, ...schemaVariables().map((s) => s.variable)]);
}

// Kubernetes gives every pod of a namespace variables for each Service (a Service "connect-watchdog":
// CONNECT_WATCHDOG_SERVICE_HOST, CONNECT_WATCHDOG_PORT_9847_TCP, ...): not ours, not typos.
const SERVICE_LINK = /^CONNECT_WATCHDOG_(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_PROTO|_PORT|_ADDR)?)?)$/;

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * CONNECT_WATCHDOG_* variables that are no setting (a typo such as POLL_INTERVALL is otherwise silently
 * ignored), each with the setting it most likely meant. A warning, not an error: a variable set for
 * something else must not stop the watchdog.
 */
export function unknownVariables(env: NodeJS.ProcessEnv = process.env): { variable: string; didYouMean?: string }[] {
  const known = knownVariables();
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.has(name) && !SERVICE_LINK.test(name))
    .sort()
    .map((variable) => {
      const near = [...known].map((k) => ({ k, d: editDistance(variable, k) })).sort((x, y) => x.d - y.d)[0];
      return near !== undefined && near.d <= 3 ? { variable, didYouMean: near.k } : { variable };
    });
}

/** Whether a variable's text means the value the file gives (TRUE is true, 0.20 is 0.2). */
function sameSetting(inFile: unknown, variable: string): boolean {
  if (typeof inFile === 'boolean') return toBoolean(variable) === inFile;
  if (typeof inFile === 'number') return toNumber(variable) === inFile;
  return String(inFile) === variable;
}

/**
 * Sinks whose filter.clusters names a cluster that is not configured (a cluster renamed, or a typo): that
 * sink gets nothing from it. A warning, not an error: one shared config may list the clusters of several
 * instances, each instance watching some of them.
 */
export function unknownFilterClusters(config: Pick<WatchdogConfig, 'clusters' | 'sinks'>): { sink: string; cluster: string }[] {
  const names = new Set(config.clusters.map((c) => c.name));
  return config.sinks.flatMap((sink) => (sink.filter.clusters ?? []).filter((cluster) => !names.has(cluster)).map((cluster) => ({ sink: sink.name, cluster })));
}

/** A host whose traffic never leaves the machine (a sidecar's worker). */
const isLoopback = (hostname: string): boolean => hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]';

/**
 * Clusters whose credentials (username and password, token, or user info in the URL) would go over plain
 * http:// to another machine: basic auth is base64, not encryption. A warning, not an error: a private
 * network may be trusted, and Kafka Connect's own listener is often plain HTTP.
 */
export function credentialsInClear(config: Pick<WatchdogConfig, 'clusters'>): { cluster: string; origin: string }[] {
  return config.clusters.flatMap((c) => {
    const url = new URL(c.url);
    const credentials = c.username !== undefined || c.token !== undefined || url.username !== '';
    return url.protocol === 'http:' && credentials && !isLoopback(url.hostname) ? [{ cluster: c.name, origin: url.origin }] : [];
  });
}

/** Keys set on the command line, and the flag that set each (logLevel: --log-level). */
type Flags = Readonly<Record<string, string>>;

/** convict's echo of a rejected value: `: value was "<JSON string>"`. */
const VALUE_WAS = /(: value was )("(?:[^"\\]|\\.)*")/;

/** A quoted string value with its user info masked (maskUserInfo); undefined when it is no JSON string. */
function echoed(quoted: string): string | undefined {
  try {
    const value: unknown = JSON.parse(quoted);
    return typeof value === 'string' ? JSON.stringify(maskUserInfo(value)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * convict's messages look like "key: reason: value was ..."; keep the first problem on one line. A value
 * that came from the environment (which wins over the file) is traced to its variable: that is what the
 * operator wrote, not the key.
 */
function convictError(err: Error, env: Readonly<Record<string, string | undefined>>, flags: Flags = {}): ConfigError {
  const first = err.message.split('\n').find((l) => l.trim() !== '') ?? err.message;
  const undeclared = /configuration param '([^']+)' not declared in the schema/.exec(first);
  if (undeclared) return new ConfigError(undeclared[1]!, 'unknown key');
  // "value was ..." echoes what was given: a Connect URL may carry user:password@ (sent as basic auth), also
  // where the scrubber sees no URL (the scheme forgotten), so the quoted value loses its user info first.
  const line = scrubSecrets(first.trim().replace(VALUE_WAS, (whole, head: string, quoted: string) => `${head}${echoed(quoted) ?? whole}`));
  const m = /^([\w.[\]]+): (.*)$/.exec(line);
  if (!m) return new ConfigError('config', line);
  return new ConfigError(m[1]!, `${m[2]!}${setBy(m[1]!, env, flags)}`);
}

/**
 * The flag or variable that gave the key its value (the command line wins over the environment, which wins
 * over the file), or undefined when the file or the default did.
 */
function setter(key: string, env: Readonly<Record<string, string | undefined>>, flags: Flags = {}): string | undefined {
  if (flags[key] !== undefined) return flags[key];
  const variable = envVarOf(key);
  return variable !== undefined && env[variable] !== undefined ? variable : undefined;
}

/** " (set by --flag)" or " (set by VARIABLE)" (see setter), else "". */
function setBy(key: string, env: Readonly<Record<string, string | undefined>>, flags: Flags = {}): string {
  const by = setter(key, env, flags);
  return by === undefined ? '' : ` (set by ${by})`;
}

/**
 * Refuses a duration below the one it must not undercut, with both values and the variables that set them:
 * either side may be the slip (seconds written for milliseconds in an env file).
 */
function notBelow(key: string, value: number, floorKey: string, floor: number, env: Readonly<Record<string, string | undefined>>): void {
  if (value >= floor) return;
  const floorSetter = setter(floorKey, env);
  throw new ConfigError(key, `must not be below ${floorKey} (${floor} ms${floorSetter === undefined ? '' : `, set by ${floorSetter}`}): value was ${value}${setBy(key, env)}`);
}

const LIST_KEYS = (Object.keys(schema) as (keyof typeof schema)[]).filter((k) => {
  const format = (schema[k] as { format?: unknown }).format;
  return typeof format === 'string' && LIST_FORMATS.has(format);
});

/** The schema's settings from its defaults, the file and the environment: not yet validated. */
function loadSettings(options: LoadOptions) {
  addFormats();
  const env = options.env ?? process.env;
  const conf = convict(schema, { env: env as Record<string, string>, args: [] });
  const file = options.configFile ?? env[CONFIG_FILE_ENV];
  let data: unknown;
  if (file) {
    data = readConfigFile(file);
    if (!isJsonObject(data)) throw new ConfigError('config', `${file} must hold a JSON object`);
    // convict merges an object given for a list key into its default and says nothing: clusters written
    // without the brackets would watch localhost, sinks would page no one.
    for (const key of LIST_KEYS) {
      if (data[key] !== undefined && !Array.isArray(data[key])) throw new ConfigError(key, 'must be a list: [ ... ], even of one');
    }
    try {
      conf.load(data);
    } catch (err) {
      throw convictError(err as Error, env);
    }
  }
  return { conf, env, data };
}

/**
 * Keys the config file sets that an environment variable overrides with another value (the variable wins):
 * the container image and the systemd unit set CONNECT_WATCHDOG_STATE_FILE (the image the metrics host and
 * port too), so a stateFile written in the file alone would be silently ignored. A warning: overriding a
 * file by the environment is also a deliberate, documented use. Names only, never a value (it may be a secret).
 */
function environmentOverrides({ env, data }: ReturnType<typeof loadSettings>): { key: string; variable: string }[] {
  if (data === undefined) return [];
  return schemaVariables().filter(({ key, variable }) => {
    const value = env[variable];
    const given = valueAt(data, key);
    return value !== undefined && given !== undefined && !sameSetting(given, value);
  });
}

/**
 * Settings that are valid but have no effect in the config given: accepted (refusing one would keep a service
 * from starting after an upgrade; they harm nothing), but warned about, since whoever set them expects them to
 * act. In the order of the schema's keys.
 */
function ignoredSettings({ conf, env, data }: ReturnType<typeof loadSettings>, sinks: readonly SinkConfig[]): SettingWarning[] {
  const props = conf.getProperties();
  const out: SettingWarning[] = [];
  // Given by the operator (file or variable), not a default left alone.
  const given = (key: string): boolean => valueAt(data, key) !== undefined || env[envVarOf(key) ?? ''] !== undefined;
  if (props.clusters.length > 0) {
    const lists = `(it lists ${props.clusters.length})`;
    if (given('connectUrl')) out.push({ key: 'connectUrl', reason: `the one-cluster shortcut is used only when clusters is empty ${lists}: it is ignored${setBy('connectUrl', env)}` });
    if (given('clusterName')) out.push({ key: 'clusterName', reason: `names the connectUrl cluster, used only when clusters is empty ${lists}: it is ignored${setBy('clusterName', env)}` });
  }
  if (props.ownership.mode === 'all' && props.ownership.workerId !== '') {
    out.push({
      key: 'ownership.workerId',
      reason: `is used only with ownership.mode worker, and the mode is all (every connector and task is acted on): it is ignored${setBy('ownership.workerId', env)}`,
    });
  }
  // The file only: the image sets CONNECT_WATCHDOG_METRICS_HOST and _PORT for every container, which cannot unset them.
  if (!props.metrics.enabled) {
    for (const key of ['metrics.host', 'metrics.port']) {
      if (valueAt(data, key) !== undefined) out.push({ key, reason: 'is used only while metrics.enabled is true, and it is false (no metrics server runs): it is ignored' });
    }
  }
  if (props.heal.stall.connectors === '') {
    for (const key of ['heal.stall.after', 'heal.stall.checkInterval']) {
      if (given(key)) out.push({ key, reason: `is used only for the sources heal.stall.connectors names, and it is empty (no source is watched for stalls): it is ignored${setBy(key, env)}` });
    }
  }
  if (props.heal.health.checkInterval === 0 && given('heal.health.after')) {
    out.push({
      key: 'heal.health.after',
      reason: `is used only while heal.health.checkInterval is above 0, and it is 0 (the worker's health is never read): it is ignored${setBy('heal.health.after', env)}`,
    });
  }
  for (const [i, sink] of sinks.entries()) {
    if (sink.secret !== undefined && sink.type !== 'webhook') {
      out.push({ key: `sinks[${i}].secret`, reason: `a ${sink.type} sink does not use it (only webhook sinks sign their payloads): it is ignored` });
    }
    if (sink.routingKey !== undefined && sink.type !== 'pagerduty') {
      out.push({ key: `sinks[${i}].routingKey`, reason: `a ${sink.type} sink does not use it (only pagerduty sinks send a routing key): it is ignored` });
    }
  }
  if (props.webhookSecret !== '' && props.webhookUrl === '') {
    out.push({
      key: 'webhookSecret',
      reason: `signs the webhookUrl sink, and no webhookUrl is set (${envVarOf('webhookUrl')!}; a sink in sinks takes its own secret): it is ignored${setBy('webhookSecret', env)}`,
    });
  }
  if (props.heartbeat.url === '' && given('heartbeat.interval')) {
    out.push({
      key: 'heartbeat.interval',
      reason: `paces the pings of heartbeat.url, and no heartbeat.url is set (${envVarOf('heartbeat.url')!}): it is ignored${setBy('heartbeat.interval', env)}`,
    });
  }
  return out;
}

/** Loads, validates and resolves the configuration. Throws ConfigError on the first problem. */
export function loadConfig(options: LoadOptions = {}): WatchdogConfig {
  return loadConfigWithWarnings(options).config;
}

/** What loadConfig resolves, with what start-up warns about the settings themselves, from one read of the file and environment. */
export interface LoadedConfig {
  readonly config: WatchdogConfig;
  /** Settings accepted that have no effect (ignoredSettings). */
  readonly ignored: SettingWarning[];
  /** Keys of the config file that a variable overrides with another value (environmentOverrides). */
  readonly overridden: { key: string; variable: string }[];
}

/** loadConfig, with the warnings about its settings (LoadedConfig). */
export function loadConfigWithWarnings(options: LoadOptions = {}): LoadedConfig {
  const settings = loadSettings(options);
  const { conf, env } = settings;
  if (options.overrides?.dryRun) conf.set('dryRun', true);
  if (options.overrides?.logLevel) conf.set('logLevel', options.overrides.logLevel);
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    throw convictError(err as Error, env, options.overrides?.logLevel ? { logLevel: '--log-level' } : {});
  }
  const props = conf.getProperties();
  // An empty string passes format String: an empty stateFile would persist nothing (each write failing), an
  // empty metrics.host listen on every interface. A variable left empty in an env file is the usual cause.
  for (const [key, value] of [['clusterName', props.clusterName], ['stateFile', props.stateFile], ['metrics.host', props.metrics.host]] as const) {
    if (value.trim() !== '') continue;
    throw new ConfigError(key, `must not be empty${setBy(key, env)}`);
  }
  // A directory named as the state file (its own directory, by mistake) would be moved aside as unreadable.
  if (isDirectory(props.stateFile)) {
    throw new ConfigError('stateFile', `is a directory: name a file in it, e.g. ${JSON.stringify(join(props.stateFile, 'state.json'))}${setBy('stateFile', env)}`);
  }
  const clusters = resolveClusters(props.clusters, { url: props.connectUrl, name: props.clusterName }, { timeout: props.requestTimeout, probe: props.heal.probe.enabled });
  if (props.ownership.mode === 'worker' && props.ownership.workerId === '') {
    throw new ConfigError('ownership.workerId', 'is required when ownership.mode is worker');
  }
  // Connect's worker_id is always host:port (the advertised URL's host and port): anything else (the URL
  // itself, a host without its port) matches no worker, and the sidecar would silently restart nothing.
  if (props.ownership.mode === 'worker' && !/^[^\s/]+:\d+$/.test(props.ownership.workerId)) {
    throw new ConfigError('ownership.workerId', `must be host:port as Connect reports worker_id (e.g. 10.0.0.5:8083), not a URL: value was ${JSON.stringify(maskUserInfo(props.ownership.workerId))}${setBy('ownership.workerId', env)}`);
  }
  notBelow('heal.backoff.max', props.heal.backoff.max, 'heal.backoff.initial', props.heal.backoff.initial, env);
  // Below it, one read finding the offsets as the read before would page: a single missed flush.
  notBelow('heal.stall.after', props.heal.stall.after, 'heal.stall.checkInterval', props.heal.stall.checkInterval, env);
  // Below it, the first unhealthy answer (a rebalance's few seconds) would page.
  notBelow('heal.health.after', props.heal.health.after, 'heal.health.checkInterval', props.heal.health.checkInterval, env);
  const config: WatchdogConfig = {
    clusters,
    pollInterval: props.pollInterval,
    pollJitter: props.pollJitter,
    requestTimeout: props.requestTimeout,
    requestRetries: props.requestRetries,
    statusConcurrency: props.statusConcurrency,
    infoRefresh: props.infoRefresh,
    logLevel: props.logLevel,
    stateFile: props.stateFile,
    dryRun: props.dryRun,
    shutdownTimeout: props.shutdownTimeout,
    ownership: props.ownership as WatchdogConfig['ownership'],
    metrics: props.metrics,
    heal: props.heal,
    maintenance: resolveWindows(props.maintenance, clusters.map((c) => c.name)),
    rules: resolveRules(props.rules),
    sinks: resolveSinks(props.sinks, props.webhookUrl, props.webhookSecret),
    delivery: props.delivery,
    alertmanager: props.alertmanager,
    heartbeat: props.heartbeat,
    proxy: options.proxy === false ? {} : resolveProxy(env),
  };
  return { config, ignored: ignoredSettings(settings, config.sinks), overridden: environmentOverrides(settings) };
}

/**
 * Whether the path is a directory; false when it cannot be looked at (EACCES: an operator's user running
 * `status` with the service's config may not search its 0700 state directory, and status, classify and
 * check-config need no state file; the daemon's state store reports what it cannot read or write).
 */
function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

// curl's names, lower case first as curl reads them. Not CONNECT_WATCHDOG_* variables: a host's or a
// cluster's proxy settings apply as they stand, as they do for every other tool there.
const PROXY_VARIABLES = { http: ['http_proxy', 'HTTP_PROXY'], https: ['https_proxy', 'HTTPS_PROXY'], noProxy: ['no_proxy', 'NO_PROXY'] } as const;

/**
 * The outbound proxy of pages and pings, from HTTPS_PROXY / HTTP_PROXY / NO_PROXY: PagerDuty and Slack are on
 * the internet, which a datacenter or cluster often reaches only through one. A proxy without a scheme is
 * http://, as curl takes it; anything that is no http(s) URL then fails here, naming its variable.
 */
export function resolveProxy(env: Readonly<Record<string, string | undefined>>): ProxyConfig {
  const proxy: { -readonly [K in keyof ProxyConfig]: string } = {};
  for (const key of ['http', 'https', 'noProxy'] as const) {
    const variable = PROXY_VARIABLES[key].find((name) => (env[name] ?? '').trim() !== '');
    if (variable === undefined) continue;
    const value = env[variable]!.trim();
    if (key === 'noProxy') {
      proxy.noProxy = value;
      continue;
    }
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
    const protocol = URL.canParse(url) ? new URL(url).protocol : undefined;
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new ConfigError(variable, `must be a proxy URL such as http://proxy.example:3128: value was ${JSON.stringify(maskUserInfo(value))}`);
    }
    proxy[key] = url;
  }
  return proxy;
}

const REDACTED = '[redacted]';

/** The effective config for printing: secrets and secret-bearing URLs replaced. */
export function redactConfig(config: WatchdogConfig): unknown {
  const hide = <T>(v: T | undefined): string | undefined => (v === undefined ? undefined : REDACTED);
  return {
    ...config,
    clusters: config.clusters.map((c) => ({
      ...c,
      url: urlForDisplay(c.url, { path: true }),
      password: hide(c.password),
      token: hide(c.token),
      key: hide(c.key),
      ca: c.ca === undefined ? undefined : describeCertificates(c.ca),
      cert: c.cert === undefined ? undefined : describeCertificates(c.cert),
    })),
    sinks: config.sinks.map((s) => ({ ...s, url: urlForDisplay(s.url, { path: false }), secret: hide(s.secret), routingKey: hide(s.routingKey) })),
    heartbeat: { ...config.heartbeat, url: config.heartbeat.url === '' ? '' : urlForDisplay(config.heartbeat.url, { path: false }) },
    proxy: {
      ...config.proxy,
      ...(config.proxy.http !== undefined && { http: urlForDisplay(config.proxy.http, { path: true }) }),
      ...(config.proxy.https !== undefined && { https: urlForDisplay(config.proxy.https, { path: true }) }),
    },
  };
}

/** Removes user:password@ from a URL (pages and logs, which need no user name). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return REDACTED;
  }
}

/**
 * A URL as check-config shows it. User info stays visible as the user with the password redacted, as an
 * explicit username and password are shown: the operator sees that basic auth is applied, and as whom. A
 * user without a password may be a token (https://TOKEN@host) and is hidden whole. `path: false` for sink
 * and heartbeat URLs, whose path often is the secret (Slack, webhooks, ping UUIDs): only the origin is shown.
 */
function urlForDisplay(url: string, { path }: { path: boolean }): string {
  try {
    const u = new URL(url);
    const userInfo = u.username === '' && u.password === '' ? '' : u.password === '' ? `${REDACTED}@` : `${u.username}:${REDACTED}@`;
    u.username = '';
    u.password = '';
    const shown = path ? u.toString().replace(/\/$/, '') : `${u.origin}/${REDACTED}`;
    return shown.replace('//', `//${userInfo}`);
  } catch {
    return REDACTED;
  }
}
