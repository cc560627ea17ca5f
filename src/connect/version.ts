/** Feature detection from the Connect version string of `GET /` (e.g. "3.9.1", "7.6.0-ccs", "4.3.1"). */

/** Major and minor of a version string, or undefined when it does not start with `N.N`. */
export function parseMajorMinor(version: string): { readonly major: number; readonly minor: number } | undefined {
  const m = /^\s*v?(\d+)\.(\d+)/.exec(version);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * Whether `POST /connectors/{name}/restart?includeTasks=&onlyFailed=` is understood (KIP-745, Connect 3.0).
 * Older workers ignore the flags and restart the Connector object only. An unknown or unparsable version
 * answers true: every maintained Connect understands the flags.
 */
export function supportsRestartFlags(version?: string): boolean {
  if (version === undefined) return true;
  const v = parseMajorMinor(version);
  if (v === undefined) return true;
  // Confluent Platform builds report their own numbering ("7.6.0-ccs", "6.2.1-ce"): CP 7.0 ships Kafka 3.0.
  if (/-(ccs|ce)\b/i.test(version)) return v.major >= 7;
  return v.major >= 3;
}
