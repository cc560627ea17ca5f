import { describe, expect, it } from 'vitest';
import { matches } from '../../src/escalate/filter.js';
import { incident } from './fixtures.js';

describe('sink filter', () => {
  const inc = incident({ cluster: 'prod', connector: 'orders-sink', class: 'serialization', severity: 'error' });

  it('an empty filter takes everything', () => {
    expect(matches({}, inc)).toBe(true);
  });

  it('each criterion must hold', () => {
    expect(matches({ classes: ['serialization', 'config'] }, inc)).toBe(true);
    expect(matches({ classes: ['connection'] }, inc)).toBe(false);
    expect(matches({ severities: ['critical'] }, inc)).toBe(false);
    expect(matches({ severities: ['error', 'critical'] }, inc)).toBe(true);
    expect(matches({ clusters: ['staging'] }, inc)).toBe(false);
    expect(matches({ clusters: ['prod'] }, inc)).toBe(true);
    expect(matches({ classes: ['serialization'], clusters: ['staging'] }, inc)).toBe(false);
    expect(matches({ classes: ['serialization'], severities: ['error'], clusters: ['prod'], connector: '^orders-' }, inc)).toBe(true);
  });

  it('connector is an unanchored regular expression', () => {
    expect(matches({ connector: 'orders' }, inc)).toBe(true);
    expect(matches({ connector: '^orders$' }, inc)).toBe(false);
    expect(matches({ connector: '^payments-' }, inc)).toBe(false);
    expect(matches({ connector: '-sink$' }, inc)).toBe(true);
  });

  it('a cluster-wide incident passes any connector pattern but not other criteria', () => {
    const outage = incident({ connector: '*', task: null, class: 'cluster-outage', severity: 'critical' });
    expect(matches({ connector: '^payments-' }, outage)).toBe(true);
    expect(matches({ connector: '^payments-', clusters: ['staging'] }, outage)).toBe(false);
    expect(matches({ classes: ['serialization'] }, outage)).toBe(false);
  });

  it('an empty list places no constraint', () => {
    expect(matches({ classes: [], severities: [], clusters: [] }, inc)).toBe(true);
  });
});
