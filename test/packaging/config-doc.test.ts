/** The README's configuration reference is generated from the convict schema and covers every key. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  END_MARKER,
  NEW_README,
  START_MARKER,
  cell,
  collectKeys,
  humanDuration,
  renderReference,
  replaceBlock,
} from '../../scripts/gen-config-doc.js';
import { schema } from '../../src/config/schema.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LIST_KEYS = ['clusters', 'sinks', 'rules', 'maintenance'];

interface Leaf {
  path: string;
  env?: string;
}

/** An independent walk of the schema: an object with a `default` is a key. */
function leaves(tree: Record<string, unknown>, prefix = ''): Leaf[] {
  return Object.entries(tree).flatMap(([name, node]): Leaf[] => {
    const path = prefix ? `${prefix}.${name}` : name;
    const n = node as Record<string, unknown>;
    if ('default' in n) return [{ path, ...(typeof n['env'] === 'string' && { env: n['env'] }) }];
    return leaves(n, path);
  });
}

const LEAVES = leaves(schema);
const block = renderReference();
const keyTable = block.split('Environment variables that are not config keys')[0]!;
const rows = keyTable.split('\n').filter((l) => l.startsWith('| `'));

function rowOf(path: string): string | undefined {
  return rows.find((r) => r.startsWith(`| \`${path}\` |`));
}

describe('config reference', () => {
  it('has one row per leaf key of the schema, with its environment variable', () => {
    expect(LEAVES.length).toBeGreaterThan(40);
    expect(collectKeys().map((k) => k.path)).toEqual(LEAVES.map((l) => l.path));
    for (const leaf of LEAVES) {
      const row = rowOf(leaf.path);
      expect(row, leaf.path).toBeDefined();
      const env = row!.split(' | ')[1];
      if (leaf.env !== undefined) expect(env, leaf.path).toBe(`\`${leaf.env}\``);
    }
  });

  it('says that the list keys have no environment variable', () => {
    for (const key of LIST_KEYS) {
      expect(LEAVES.find((l) => l.path === key)?.env, key).toBeUndefined();
      expect(rowOf(key), key).toContain('| none (config file only) |');
    }
  });

  it('gives every scalar key a variable: CONNECT_WATCHDOG_ + the path in UPPER_SNAKE (CONNECT_URL aside)', () => {
    const upperSnake = (path: string) =>
      path
        .split('.')
        .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
        .join('_');
    for (const leaf of LEAVES.filter((l) => !LIST_KEYS.includes(l.path))) {
      const expected = leaf.path === 'connectUrl' ? 'CONNECT_URL' : `CONNECT_WATCHDOG_${upperSnake(leaf.path)}`;
      expect(leaf.env, leaf.path).toBe(expected);
    }
  });

  it('lists the variables that are not config keys', () => {
    expect(block).toMatch(/\| `CONNECT_WATCHDOG_CONFIG` \| .*config file/);
  });

  it('shows defaults, formats and readable durations', () => {
    expect(rowOf('heal.backoff.max')).toContain('`600000` (10 min)');
    expect(rowOf('ownership.mode')).toContain('one of `all`, `worker`');
    expect(rowOf('metrics.port')).toContain('`9847`');
    expect(rowOf('webhookUrl')).toContain('Secret');
    expect(humanDuration(86_400_000)).toBe('1 d');
    expect(humanDuration(500)).toBeUndefined();
  });

  it('keeps table cells intact', () => {
    expect(cell('a|b\nc')).toBe('a\\|b c');
    for (const row of rows) expect(row.replace(/\\\|/g, '').split('|').length, row).toBe(7);
  });
});

describe('README markers', () => {
  it('replaces only what is between the markers', () => {
    const readme = `# Title\n\nintro\n\n${START_MARKER}\nold table\n${END_MARKER}\n\n## After\n`;
    const next = replaceBlock(readme, 'NEW');
    expect(next).toBe(`# Title\n\nintro\n\n${START_MARKER}\nNEW\n${END_MARKER}\n\n## After\n`);
    expect(replaceBlock(next, 'NEW')).toBe(next);
  });

  it('refuses a README without the markers', () => {
    expect(() => replaceBlock('# no markers\n', 'x')).toThrow(/markers/);
  });

  it('starts a new README with the heading and the markers', () => {
    expect(NEW_README).toContain('## Configuration reference');
    expect(replaceBlock(NEW_README, 'x')).toContain(`${START_MARKER}\nx\n${END_MARKER}`);
  });

  it('README.md is up to date with the schema (npx tsx scripts/gen-config-doc.ts)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(replaceBlock(readme, block)).toBe(readme);
  });

  it('--check exits 0 on the current README', () => {
    const tsx = join(ROOT, 'node_modules/.bin/tsx');
    if (!existsSync(tsx)) return;
    const r = spawnSync(tsx, ['scripts/gen-config-doc.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
