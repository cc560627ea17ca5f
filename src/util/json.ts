/** A parsed JSON object (not null, not an array): the first check on any input we do not trust. */
export function isJsonObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Why JSON.parse failed, without the text V8 quotes around the error (`Unexpected token 'h', ..."assword":
 * hunter2}" is not valid JSON`): the input may hold a secret, and the reason is logged or printed.
 */
export function jsonSyntaxReason(err: unknown): string {
  return (err as Error).message.replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, '');
}
