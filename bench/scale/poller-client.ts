/**
 * The watchdog's Connect client alone: `ConnectClient.snapshot()` each poll, as ClusterLoop calls it (undici,
 * the listing compared with the last one, the connector info refreshed every 5 min of the watchdog's clock),
 * and nothing more: nothing classified, decided, counted, logged or written. No one would run this either:
 * it is what the watchdog pays before its policy does anything, so its ratio to the naive poller is the
 * most any decide() and state file on top of this client could reach.
 */
import { ConnectClient, clientOptions } from '../../src/connect/client.js';
import { loadConfig } from '../../src/config/load.js';
import { finish, MB, measure, parseArgs } from './protocol.js';

const args = parseArgs();
const config = loadConfig({ env: { CONNECT_URL: args.url } });
const cluster = config.clusters[0];
if (cluster === undefined) throw new Error('no cluster');

// As in poller-watchdog.ts: the clock moves one poll interval per poll, so the info refresh falls where it would.
let clock = Date.now();
const client = new ConnectClient(cluster, { ...clientOptions(config), now: () => clock });

const baselineRssMb = process.memoryUsage().rss / MB;
const samples = await measure(args, async () => {
  clock += config.pollInterval;
  await client.snapshot();
});
await client.close();
finish({ poller: 'client-only', baselineRssMb, samples });
