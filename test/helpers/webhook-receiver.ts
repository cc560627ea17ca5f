import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hook {
  event: string;
  connector: string;
  task: number | null;
  class: string;
  traceExcerpt: string;
}

export interface WebhookReceiver {
  url: string;
  /** Down, it answers 503 and records nothing (a pager that is not reachable). */
  up: boolean;
  received: Hook[];
  server: Server;
  onReceive?: (h: Hook) => void;
}

/** A webhook sink on loopback that records what it receives. */
export async function webhookReceiver(): Promise<WebhookReceiver> {
  const r: WebhookReceiver = { url: '', up: true, received: [], server: undefined as unknown as Server };
  r.server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (!r.up) return void res.writeHead(503).end();
      const hook = JSON.parse(body) as Hook;
      r.received.push(hook);
      r.onReceive?.(hook);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((done) => r.server.listen(0, '127.0.0.1', done));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}
