/** A parsed JSON object (not null, not an array): the first check on any input we do not trust. */
export function isJsonObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
