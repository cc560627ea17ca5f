/**
 * Loads an example configuration with the real loader. Secret files are named by their production
 * paths (/etc/connect-watchdog/secrets/NAME); here each is pointed at a dummy file `dummy-NAME` in a
 * scratch directory, or, for a PEM file (which the loader parses), at the test CA of test/fixtures/tls.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigWithWarnings } from '../../src/config/load.js';
import type { SettingWarning } from '../../src/config/warnings.js';
import type { WatchdogConfig } from '../../src/config/types.js';

export const SECRET_PATH = /\/etc\/connect-watchdog\/secrets\/([\w.-]+)/g;

export function loadExample(text: string, env: NodeJS.ProcessEnv = {}): { config: WatchdogConfig; ignored: SettingWarning[]; secrets: Map<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'cw-example-'));
  const secretsDir = join(dir, 'secrets');
  mkdirSync(secretsDir);
  const secrets = new Map<string, string>();
  const rewritten = text.replace(SECRET_PATH, (_m, name: string) => {
    const file = join(secretsDir, name);
    const content = name.endsWith('.pem') ? readFileSync(join(import.meta.dirname, '..', 'fixtures', 'tls', 'ca.pem'), 'utf8').trim() : `dummy-${name}`;
    writeFileSync(file, `${content}\n`);
    secrets.set(name, content);
    return file;
  });
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, rewritten);
  return { ...loadConfigWithWarnings({ configFile, env }), secrets };
}
