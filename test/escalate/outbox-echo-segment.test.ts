import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/escalate/outbox.js';
import { clock, delivery, event, memoryLogger, sinks } from './fixtures.js';
import { always, fakeSink } from './server.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('a rejection quoting one secret part of the sink URL', () => {
  it.each([
    ['the last path segment (n8n)', '/webhook/9f1c2e7a-5b3d-4c1e-8a2b-0d4e6f8a1b3c', '9f1c2e7a-5b3d-4c1e-8a2b-0d4e6f8a1b3c'],
    ['one query value', '/hooks/in?apiKey=Qv4lueS3cret&team=ops', 'Qv4lueS3cret'],
  ])('%s is not logged', async (_name, path, secret) => {
    const HOOK = 'https://n8n.example.com';
    fakeSink(HOOK, 'post', path, always(404, JSON.stringify({ code: 404, message: `The requested webhook "POST ${secret}" is not registered.` })));
    const { logger, lines } = memoryLogger();
    const c = clock();
    const outbox = new Outbox({ sinks: [{ ...sinks.webhook, url: `${HOOK}${path}` }], logger, delivery, now: c.now, backoff: { min: 1, max: 2 }, sleep: async () => {} });
    outbox.enqueue(event('trigger'));
    await outbox.drain();
    const rejected = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['outcome'] === 'rejected');
    expect(rejected?.['detail']).toContain('is not registered');
    expect(lines.join('')).not.toContain(secret);
  });
});
