import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordingProxy {
  url: string;
  /** `METHOD target` as the proxy was asked, with the Proxy-Authorization sent. */
  asked: { request: string; authorization?: string }[];
  server: Server;
  close(): void;
}

/**
 * An outbound HTTP proxy on loopback that records what it is asked: an http:// request in absolute form
 * (it answers 202 for the destination), and the CONNECT of an https:// one, whose tunnel it refuses (there
 * is no TLS pager on loopback).
 */
export async function recordingProxy(): Promise<RecordingProxy> {
  const asked: RecordingProxy['asked'] = [];
  const record = (req: IncomingMessage) =>
    asked.push({ request: `${req.method} ${req.url}`, ...(req.headers['proxy-authorization'] !== undefined && { authorization: req.headers['proxy-authorization'] }) });
  const server = createServer((req, res) => {
    record(req);
    req.resume().on('end', () => res.writeHead(202).end());
  });
  server.on('connect', (req: IncomingMessage, client: Socket) => {
    record(req);
    client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    server,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
