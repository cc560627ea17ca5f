import type { SinkFilter } from '../config/types.js';
import type { Incident } from './types.js';
import { compiledRegExp } from '../util/regexp.js';

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
    (filter.connector === undefined || incident.connector === '*' || compiledRegExp(filter.connector).test(incident.connector))
  );
}
