import { describe, expect, it } from 'vitest';
import { ClassifyInputError, readClassifyInput } from '../../src/cli/classify-input.js';

describe('classify: input that is not JSON', () => {
  it('the error names the problem without quoting the input (it may hold a password)', () => {
    const input = '{"connector":{"state":"FAILED","trace":"x"},"tasks":[],"database.password": Hunt3rBare}';
    let err: unknown;
    try {
      readClassifyInput(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClassifyInputError);
    expect((err as Error).message).toContain('not JSON');
    expect((err as Error).message).not.toContain('Hunt3rBare');
  });
});
