/**
 * The e2e suite's own source connector, `connectwatchdog.e2e.BlockerConnector` (Java, test/e2e/blocker/src):
 * its start() waits while a flag file exists and throws when another one does, which no shipped connector
 * does at will. global-setup.ts compiles it with `javac` against the stack's jars (`stack.sh build`) into
 * $STACK_DIR/e2e-plugins/blocker; every stack.sh call of stack.ts passes EXTRA_PLUGIN_PATH=$STACK_DIR/e2e-plugins.
 *
 *   const flags = new Flags(tempDir());
 *   flags.set('connector.block');               // its start() will wait
 *   await createConnector(name, blockerConfig(flags.dir));
 *   flags.set('connector.fail'); flags.clear('connector.block');   // start() returns by throwing
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { E2E_PLUGIN_PATH, run } from './stack.js';

export const BLOCKER_CLASS = 'connectwatchdog.e2e.BlockerConnector';
/** The root cause of a start() made to throw (BlockerConnector.FAILURE). */
export const BLOCKER_FAILURE = 'org.apache.kafka.connect.errors.ConnectException: e2e blocker: start() failed because its fail flag is set';
/** The directory on the workers' plugin.path (EXTRA_PLUGIN_PATH); the plugin itself is its `blocker/`. */
export const BLOCKER_PLUGIN_PATH = E2E_PLUGIN_PATH;

const SRC = fileURLToPath(new URL('./blocker/src/', import.meta.url));
const JAVA_FILES = ['connectwatchdog/e2e/BlockerConnector.java', 'connectwatchdog/e2e/BlockerTask.java'];
const SERVICES = 'META-INF/services/org.apache.kafka.connect.source.SourceConnector';

/** Connector config of a BlockerConnector whose flag files live in `flagDir`. */
export function blockerConfig(flagDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return { 'connector.class': BLOCKER_CLASS, 'tasks.max': '1', 'flag.dir': flagDir, ...overrides };
}

/** The flag files of one BlockerConnector: `connector.block`, `connector.fail`, `task-N.block`, `task-N.fail`. */
export class Flags {
  constructor(readonly dir: string) {}
  set(name: string): void {
    writeFileSync(join(this.dir, name), '');
  }
  clear(name: string): void {
    rmSync(join(this.dir, name), { force: true });
  }
  /** Frees any start() still waiting (a connector deleted while blocked keeps its thread until then). */
  clearAll(): void {
    for (const f of readdirSync(this.dir)) rmSync(join(this.dir, f), { force: true });
  }
}

/**
 * Compiles the plugin into BLOCKER_PLUGIN_PATH/blocker against the jars in `libDir` (connect-api and
 * kafka-clients), unless it is there already from the same sources and jars; returns BLOCKER_PLUGIN_PATH.
 * Throws with a clear message when javac is missing (a JRE alone is not enough).
 */
export async function buildBlocker(libDir: string): Promise<{ pluginPath: string; compiled: boolean }> {
  const jars = readdirSync(libDir).filter((f) => /^(connect-api|kafka-clients)-.*\.jar$/.test(f)).sort();
  if (jars.length !== 2) throw new Error(`e2e blocker: expected connect-api and kafka-clients jars in ${libDir}, found: ${jars.join(', ') || 'none'}`);
  const hash = createHash('sha256');
  for (const f of [...JAVA_FILES, SERVICES]) hash.update(f).update(readFileSync(join(SRC, f)));
  hash.update(jars.join(','));
  const stamp = hash.digest('hex');
  const out = join(BLOCKER_PLUGIN_PATH, 'blocker');
  const stampFile = join(out, '.sources.sha256');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return { pluginPath: BLOCKER_PLUGIN_PATH, compiled: false };

  try {
    await run('javac', ['-version'], { timeoutMs: 30_000 });
  } catch (e) {
    throw new Error(
      `e2e blocker: javac is needed to compile the suite's test connector (test/e2e/blocker) and did not run: install a JDK 17 (not only a JRE) and put javac on PATH (${(e as Error).message.split('\n')[0]})`,
    );
  }
  // Compiled beside, then swapped in: a half-written plugin never sits on the plugin path.
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'META-INF/services'), { recursive: true });
  await run(
    'javac',
    ['--release', '17', '-nowarn', '-proc:none', '-cp', jars.map((j) => join(libDir, j)).join(':'), '-d', tmp, ...JAVA_FILES.map((f) => join(SRC, f))],
    { timeoutMs: 120_000 },
  );
  copyFileSync(join(SRC, SERVICES), join(tmp, SERVICES));
  writeFileSync(join(tmp, '.sources.sha256'), stamp);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return { pluginPath: BLOCKER_PLUGIN_PATH, compiled: true };
}
