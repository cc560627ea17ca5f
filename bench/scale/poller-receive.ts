/**
 * The floor under every poller that reads the status listing: `GET /connectors?expand=status` on one
 * keep-alive socket with no HTTP library (the request written by hand, the body framed by the sim's
 * Content-Length) and the body copied into one reused buffer; nothing parsed, nothing decided, nothing
 * written. No one would run this: it is what receiving the listing's bytes costs this machine by itself,
 * the part of the watchdog's poll that no code of its own can remove. It would not survive a real worker
 * (chunked bodies, errors, TLS).
 */
import { connect, type Socket } from 'node:net';
import { finish, MB, measure, parseArgs } from './protocol.js';

const args = parseArgs();
const url = new URL(args.url);
const REQUEST = `GET /connectors?expand=status HTTP/1.1\r\nhost: ${url.host}\r\naccept: application/json\r\n\r\n`;
const HEADER_END = Buffer.from('\r\n\r\n');

let body = Buffer.alloc(0);

function receive(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let length = -1;
    let got = 0;
    const onData = (chunk: Buffer) => {
      let data = chunk;
      if (length < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(HEADER_END);
        if (end < 0) return;
        const text = head.toString('latin1', 0, end);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
        const declared = /\r\ncontent-length: *(\d+)/i.exec(text)?.[1];
        if (status !== '200' || declared === undefined) {
          socket.off('data', onData);
          reject(new Error(`receive-only: HTTP ${status ?? '?'}, content-length ${declared ?? 'missing'}`));
          return;
        }
        length = Number(declared);
        if (body.length < length) body = Buffer.alloc(length);
        data = head.subarray(end + HEADER_END.length);
      }
      got += data.copy(body, got);
      if (got >= length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.write(REQUEST);
  });
}

const socket = connect(Number(url.port), url.hostname);
await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
const baselineRssMb = process.memoryUsage().rss / MB;
const samples = await measure(args, async () => {
  await receive(socket);
});
socket.destroy();
finish({ poller: 'receive-only', baselineRssMb, samples });
