/**
 * The Node floor the package declares (engines.node, repeated in the README, docs/operations.md and the
 * systemd unit) must run every production dependency: undici 8 needs Node 22.19 (zlib's zstd), and on an
 * older Node the CLI dies at import with a TypeError, `--version` included.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

type Version = [number, number, number];

/** The lowest version a range admits: the least lower bound of its `||` alternatives (`*` admits any). */
function floorOf(range: string): Version {
  const floors = range.split('||').map((alt): Version => {
    const m = /(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?/.exec(alt);
    if (!m) return [0, 0, 0];
    const n = (s: string | undefined) => (s === undefined || s === 'x' ? 0 : Number(s));
    return [n(m[1]), n(m[2]), n(m[3])];
  });
  return floors.reduce((a, b) => (compare(a, b) <= 0 ? a : b));
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

describe('the declared Node version', () => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }> };
  const declared = floorOf(pkg.engines.node);

  it('runs every production dependency', () => {
    const tooOld = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.dev !== true && !Array.isArray(p.engines) && p.engines?.node !== undefined)
      .filter(([, p]) => compare(floorOf((p.engines as { node: string }).node), declared) > 0)
      .map(([path, p]) => `${path.replace(/^node_modules\//, '')} needs ${(p.engines as { node: string }).node}`);
    expect(tooOld, `engines.node ${pkg.engines.node}`).toEqual([]);
  });

  it('is the one the entry point checks before anything is imported', () => {
    const m = /NODE_FLOOR = \[(\d+), (\d+)\]/.exec(read('src/cli/main.ts'));
    expect(m && [Number(m[1]), Number(m[2])]).toEqual(declared.slice(0, 2));
  });

  it('is the one the lock file, the README, the operations guide and the systemd unit state', () => {
    expect(lock.packages['']!.engines).toEqual(pkg.engines);
    const [major, minor] = declared;
    for (const [file, pattern] of [
      ['README.md', /Node(?:\.js)? ≥ (\d+)(?:\.(\d+))?/g],
      ['docs/operations.md', /Node(?:\.js)? (?:≥ |>= )?(\d+)\.(\d+)(?: or newer)?/g],
      ['systemd/connect-watchdog.service', /Node >= (\d+)\.(\d+)/g],
    ] as const) {
      const found = [...read(file).matchAll(pattern)].map((m) => `${m[1]}.${m[2] ?? '0'}`);
      expect(found.length, file).toBeGreaterThan(0);
      for (const v of found) expect(v, file).toBe(`${major}.${minor}`);
    }
  });
});
