#!/usr/bin/env node
/**
 * The `connect-watchdog` entry point. It checks the Node.js version before anything else is imported: on an
 * older Node, undici dies at import with a TypeError that names nothing an operator can act on.
 */
export const NODE_FLOOR = [22, 19] as const; // package.json engines.node

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < NODE_FLOOR[0] || (major === NODE_FLOOR[0] && minor < NODE_FLOOR[1])) {
  process.stderr.write(`connect-watchdog: needs Node.js ${NODE_FLOOR.join('.')} or newer; this is ${process.versions.node}\n`);
  process.exit(1);
}
await import('./commands.js');
