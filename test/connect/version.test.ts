import { describe, expect, it } from 'vitest';
import { supportsRestartFlags } from '../../src/connect/client.js';
import { parseMajorMinor } from '../../src/connect/version.js';

describe('supportsRestartFlags (KIP-745, Connect 3.0)', () => {
  it.each([
    ['4.3.1', true],
    ['3.0.0', true],
    ['3.9.1', true],
    ['2.8.2', false],
    ['2.3.0', false],
    ['1.1.1', false],
    ['7.6.0-ccs', true],
    ['7.0.1-ce', true],
    ['6.2.1-ccs', false],
    ['8.0.0-ccs', true],
  ])('%s → %s', (version, expected) => {
    expect(supportsRestartFlags(version)).toBe(expected);
  });

  it('assumes support when the version is unknown or unreadable', () => {
    expect(supportsRestartFlags(undefined)).toBe(true);
    expect(supportsRestartFlags()).toBe(true);
    expect(supportsRestartFlags('trunk-SNAPSHOT')).toBe(true);
  });

  it('reads major.minor', () => {
    expect(parseMajorMinor('3.9.1')).toEqual({ major: 3, minor: 9 });
    expect(parseMajorMinor('v4.0')).toEqual({ major: 4, minor: 0 });
    expect(parseMajorMinor('x')).toBeUndefined();
  });
});
