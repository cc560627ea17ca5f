import { describe, expect, it } from 'vitest';
import { scrubSecrets, traceExcerpt } from '../../src/escalate/scrub.js';

describe('percent-encoded credentials', () => {
  it.each([
    ['a query string passed as a parameter', 'POST failed: body=user%3Du%26password%3DEnc0dedPw%26db%3Dx'],
    ['a key=value pair', 'redirect rejected: password%3DEnc0dedPw%26'],
    ['lower-case escapes', 'password%3dEnc0dedPw'],
    ['a URL with user:password@', 'callback=https%3A%2F%2Fsvc%3AEnc0dedPw%40api.example.com%2Fhook'],
    ['twice encoded', 'next=https%253A%252F%252Fsvc%253AEnc0dedPw%2540api.example.com'],
    ['a bearer header', 'h=Authorization%3A%20Bearer%20Enc0dedPw'],
  ])('%s', (_name, text) => {
    expect(scrubSecrets(text)).not.toContain('Enc0dedPw');
    const trace = `org.apache.kafka.connect.errors.ConnectException: ${text}\n\tat a.B.c(B.java:1)`;
    expect(traceExcerpt(trace, text)).not.toContain('Enc0dedPw');
  });

  it('leaves encoded text without credentials as it is', () => {
    const text = 'GET /search?q=a%20b%26c and 100%25 done, path%2Fto%2Ffile';
    expect(scrubSecrets(text)).toBe(text);
  });

  it('stays fast on a long run of escapes', () => {
    const text = `${'%41'.repeat(200_000)} ${'a%'.repeat(200_000)}`;
    const t0 = performance.now();
    scrubSecrets(text);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
