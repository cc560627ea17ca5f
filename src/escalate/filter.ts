import type { SinkFilter } from '../config/types.js';
import type { Incident } from './types.js';

// Filters come from validated config and are few; compile each pattern once.
const compiled = new Map<string, RegExp>();
function regexp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** An absent or empty list places no constraint: a misread filter should over-page, not go silent. */
function allows<T>(list: readonly T[] | undefined, value: T): boolean {
  return list === undefined || list.length === 0 || list.includes(value);
}

/**
 * Whether a sink wants this incident. Every given criterion must hold. `connector` is an unanchored
 * regular expression (anchor it with ^…$ for an exact name); a cluster-wide incident (connector `*`)
 * concerns every connector, so it passes any connector pattern.
 */
export function matches(filter: SinkFilter, incident: Incident): boolean {
  return (
    allows(filter.classes, incident.class) &&
    allows(filter.severities, incident.severity) &&
    allows(filter.clusters, incident.cluster) &&
    (filter.connector === undefined || incident.connector === '*' || regexp(filter.connector).test(incident.connector))
  );
}
