/** A URL part percent-decoded, or as it is when it holds a malformed escape (a literal % in a password). */
export function decodeUrlPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** A URL's user-info (`https://user:password@host`) as a Basic Authorization header; undefined without one. */
export function userInfoAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return basicAuthorization(decodeUrlPart(url.username), decodeUrlPart(url.password));
}
