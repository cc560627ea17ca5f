/** The patterns of a config (sink filters, maintenance windows, heal.stall) are few and fixed: each is compiled once. */
const compiled = new Map<string, RegExp>();

export function compiledRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** Why `pattern` is no regular expression (for a config error), or undefined when it is one. */
export function invalidRegExp(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
}
