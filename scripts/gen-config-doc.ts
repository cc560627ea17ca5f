/**
 * Renders the configuration reference from the convict schema (src/config/schema.ts) into README.md,
 * between the markers <!-- config-reference:start --> and <!-- config-reference:end -->.
 *
 *   npx tsx scripts/gen-config-doc.ts          rewrite the block in README.md (creates README.md with
 *                                             only the markers under "## Configuration reference"
 *                                             when it does not exist)
 *   npx tsx scripts/gen-config-doc.ts --check  exit 1 when README.md is out of date (for CI)
 *   npx tsx scripts/gen-config-doc.ts --print  print the block on stdout
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_FILE_ENV } from '../src/config/load.js';
import { FORMAT, LIST_FORMATS, schema } from '../src/config/schema.js';

export const START_MARKER = '<!-- config-reference:start -->';
export const END_MARKER = '<!-- config-reference:end -->';
const GENERATOR = 'scripts/gen-config-doc.ts';

/** One configuration key as the table shows it. */
export interface ConfigKey {
  /** Dotted path, e.g. heal.backoff.initial. */
  readonly path: string;
  /** The environment variable that sets it; undefined for lists (config file only). */
  readonly env: string | undefined;
  readonly default: unknown;
  readonly format: unknown;
  readonly doc: string;
  readonly sensitive: boolean;
}

/** Environment variables read by the watchdog that are not schema keys. */
export const EXTRA_ENV: readonly { readonly name: string; readonly doc: string }[] = [
  {
    name: CONFIG_FILE_ENV,
    doc: 'Path of the JSON config file, used when `--config FILE` is not given. Unset: no file; defaults and environment variables only.',
  },
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** In a convict schema, an object with a `default` is a key (a leaf); any other object nests keys. */
function isLeaf(node: Record<string, unknown>): boolean {
  return 'default' in node;
}

/** Every key of the schema, depth first, in declaration order. */
export function collectKeys(tree: Record<string, unknown> = schema, prefix = ''): ConfigKey[] {
  const keys: ConfigKey[] = [];
  for (const [name, node] of Object.entries(tree)) {
    if (!isRecord(node)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    if (isLeaf(node)) {
      keys.push({
        path,
        env: typeof node['env'] === 'string' ? node['env'] : undefined,
        default: node['default'],
        format: node['format'],
        doc: typeof node['doc'] === 'string' ? node['doc'] : '',
        sensitive: node['sensitive'] === true,
      });
    } else {
      keys.push(...collectKeys(node, path));
    }
  }
  return keys;
}

const DURATION_FORMATS: ReadonlySet<string> = new Set([FORMAT.positiveDuration, FORMAT.nonNegativeDuration, FORMAT.positiveTimer, FORMAT.nonNegativeTimer]);

const FORMAT_TEXT: Readonly<Record<string, string>> = {
  [FORMAT.positiveDuration]: 'milliseconds > 0',
  [FORMAT.nonNegativeDuration]: 'milliseconds ≥ 0',
  [FORMAT.positiveTimer]: 'milliseconds > 0, ≤ 24.8 days',
  [FORMAT.nonNegativeTimer]: 'milliseconds ≥ 0, ≤ 24.8 days',
  [FORMAT.httpUrl]: 'http(s) URL',
  [FORMAT.optionalHttpUrl]: 'http(s) URL or empty',
  [FORMAT.clusterList]: 'list of cluster objects',
  [FORMAT.sinkList]: 'list of sink objects',
  [FORMAT.ruleList]: 'list of rule objects',
  [FORMAT.windowList]: 'list of window objects',
  [FORMAT.positiveNumber]: 'number > 0',
  [FORMAT.positiveCount]: 'integer > 0',
  [FORMAT.ratio]: 'number from 0 to 1',
  nat: 'integer ≥ 0',
  int: 'integer',
  port: 'port (0–65535)',
  url: 'URL',
  ipaddress: 'IP address',
  duration: 'duration',
};

export function isListKey(key: ConfigKey): boolean {
  return (typeof key.format === 'string' && LIST_FORMATS.has(key.format)) || Array.isArray(key.default);
}

export function describeFormat(format: unknown): string {
  if (Array.isArray(format)) return `one of ${format.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (format === String) return 'string';
  if (format === Boolean) return 'boolean';
  if (format === Number) return 'number';
  if (typeof format === 'string') return FORMAT_TEXT[format] ?? format;
  if (typeof format === 'function') return format.name || 'custom';
  return 'any';
}

/** 600000 → "10 min"; only whole units, otherwise undefined. */
export function humanDuration(ms: number): string | undefined {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  if (!Number.isInteger(ms) || ms <= 0) return undefined;
  for (const [size, unit] of units) {
    if (ms % size === 0) return `${ms / size} ${unit}`;
  }
  return undefined;
}

function describeDefault(key: ConfigKey): string {
  if (key.default === '') return '`""` (empty)';
  const json = `\`${JSON.stringify(key.default)}\``;
  if (typeof key.default === 'number' && typeof key.format === 'string' && DURATION_FORMATS.has(key.format)) {
    const human = humanDuration(key.default);
    if (human !== undefined) return `${json} (${human})`;
  }
  return json;
}

/** Text safe inside a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();
}

export function renderRow(key: ConfigKey): string {
  const env = key.env !== undefined ? `\`${key.env}\`` : isListKey(key) ? 'none (config file only)' : 'none';
  const doc = key.sensitive ? `${key.doc} Secret: check-config prints it redacted.` : key.doc;
  return `| \`${key.path}\` | ${env} | ${describeDefault(key)} | ${cell(describeFormat(key.format))} | ${cell(doc)} |`;
}

/** The Markdown that goes between the markers (without them). */
export function renderReference(keys: readonly ConfigKey[] = collectKeys()): string {
  const lines = [
    `<!-- Generated by ${GENERATOR} from src/config/schema.ts: edit the schema, then run \`npx tsx ${GENERATOR}\`. -->`,
    '',
    'Every key can be set in the JSON config file (`--config FILE` or `CONNECT_WATCHDOG_CONFIG`), nested as',
    'the dots show (`heal.backoff.initial` is `{"heal": {"backoff": {"initial": 10000}}}`). Every key that is',
    'not a list can also be set by its environment variable. Precedence, lowest first: default, config file,',
    'environment variable, command line (`run --dry-run`, `--log-level`); a variable overriding a value the',
    'file sets is warned about on stderr (the image and the systemd unit set some). Unknown keys are an error (exit 78).',
    'Durations are whole milliseconds; those the watchdog waits on are at most 2147483647 (24.8 days, the longest a Node timer holds). Lists',
    '(`clusters`, `sinks`, `rules`, `maintenance`) have no environment variable: put them in the config file,',
    'as a list even of one (`"sinks": [{…}]`).',
    '',
    '| Key | Environment variable | Default | Format | Description |',
    '| --- | --- | --- | --- | --- |',
    ...keys.map(renderRow),
    '',
    'Environment variables that are not config keys:',
    '',
    '| Environment variable | Description |',
    '| --- | --- |',
    ...EXTRA_ENV.map((e) => `| \`${e.name}\` | ${cell(e.doc)} |`),
  ];
  return lines.join('\n');
}

export const NEW_README = `## Configuration reference\n\n${START_MARKER}\n${END_MARKER}\n`;

/** README text with the block between the markers replaced; throws when the markers are missing. */
export function replaceBlock(readme: string, block: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README.md lacks the markers ${START_MARKER} ... ${END_MARKER}`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n${block}\n${readme.slice(end)}`;
}

function main(argv: readonly string[]): number {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const readmePath = resolve(root, 'README.md');
  const block = renderReference();
  if (argv.includes('--print')) {
    process.stdout.write(`${block}\n`);
    return 0;
  }
  const check = argv.includes('--check');
  const exists = existsSync(readmePath);
  const current = exists ? readFileSync(readmePath, 'utf8') : undefined;
  let next: string;
  try {
    next = replaceBlock(current ?? NEW_README, block);
  } catch (err) {
    process.stderr.write(`gen-config-doc: ${(err as Error).message}\n`);
    return 1;
  }
  if (check) {
    if (current === next) {
      process.stdout.write('gen-config-doc: README.md configuration reference is up to date\n');
      return 0;
    }
    const why = exists ? 'is out of date with src/config/schema.ts' : 'is missing (no README.md)';
    process.stderr.write(`gen-config-doc: the configuration reference in README.md ${why}; run: npx tsx ${GENERATOR}\n`);
    return 1;
  }
  if (current !== next) writeFileSync(readmePath, next);
  process.stdout.write(`gen-config-doc: ${current === next ? 'README.md already up to date' : exists ? 'updated README.md' : 'created README.md'}\n`);
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = main(process.argv.slice(2));
