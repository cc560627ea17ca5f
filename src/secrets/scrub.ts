/**
 * Secret scrubbing for text that leaves the process (payloads, logs). pino's redact works on object
 * paths only, so traces, URLs and messages are cleaned here. Over-masking is accepted; leaking is not.
 */

export const MASK = '***';

// A URL scheme starts where no scheme character precedes it (so "jdbc:postgresql://" yields "postgresql://"),
// which keeps the scan linear on long runs of letters and dots. JSON may escape the slashes ("postgres:\/\/").
const SCHEME = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:(?:\/\/|\\\/\\\/)/gi;
const TOKEN_END = /[\s"'<>]/g;
// A user name holds none of these; "\" is an escaped slash's.
const NOT_IN_USER = new Set([...'/?#@;&=[]\\']);
// What may follow host:port: the path, query, fragment, SQL Server's ;key=value, a MongoDB host list, "\/".
const AFTER_PORT = new Set([...'/?#;&,\\']);
// A bare value of the key=value rule ends at one of these (or where the URL's token does).
const VALUE_END = new Set([...',;&)]}']);
// Properties start after ";" (SQL Server's db:1433;password=…), a query after "?", a fragment after "#".
const QUERY_START = new Set([...'?;#']);
const PAIR_KEY = /(?<![\w.-])([\w.-]+)=/g;
const NOT_IN_HOST = new Set([...'/?#@;&=\\']);
// What follows an "@" that ends user info rather than a query value's: a host, then a port or a path.
const HOST_THEN_PORT_OR_PATH = /^[a-z0-9.-]+(?::\d{1,5}(?:[/?#;,]|\\\/|$)|\/|\\\/)/i;
// SQL Server's JDBC URLs (jTDS's too: jdbc:jtds:sqlserver://, jdbc:jtds:sybase://) put properties right after
// host:port with ";" (db:1433;password=…). No other URL does (DB2's, Derby's, Hive's come after a path), and a
// query's value elsewhere runs over ";" and "," to "&": PostgreSQL's and MySQL's drivers split it there only.
const PROPERTIES_AFTER_PORT = /^(?:sqlserver|sybase):/i;
// A query's value ends at these outside SQL Server's URLs, a property's in them (or where the URL's token does).
const QUERY_VALUE_END = new Set([...'&)]}']);
const PROPERTY_VALUE_END = new Set([...';)]}']);
// Where readUrlToken looks for the pair a property's value belongs to ("}" may be a braced value's).
const PROPERTY_BOUNDARY = new Set([...';)]']);
const QUERY_KEY = /[\w.-]+(?==)/y;

const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Whether the few characters before `at` end in `words` (a lookbehind would rescan a run of blanks at each of its positions). */
const precededBy = (words: RegExp, text: string, at: number): boolean => words.test(text.slice(Math.max(0, at - 16), at));

/**
 * scheme://user:password@host → scheme://user:***@host. It runs before the key=value rule, whose masks would hide
 * the "@" (u:p&token=x@db left "p&"). The password runs to the token's last "@", as it may hold "@" and "/"
 * (u:a/b@c@db), unless that "@" is in a key=value pair's bare value after the user's ":":
 * - the pair is the first of a secret's key there, as that bare value runs over "=", "?" and "@"
 *   (password=a=@b, password=?w=@b are password's), one after an earlier "@" first; else the last pair; but a
 *   secret's pair that starts a value of host[:port][/path]?query holds every "@" after it, over ";", "," and
 *   "#" (db:5432/app?password=@a;token=@b), as do SQL Server's properties, to ";" or the "}" of braces;
 * - a query, properties or fragment start at the last "?", ";" or "#" before the pair; when an "@" and a host
 *   come before them, the password runs to that "@" (u:p@db/app?password=P@ss), unless the pair's key is no
 *   secret's and a host with a port or path follows the last "@" (u:P@ss?w=rd@db:5432/app: that value is
 *   the password's, and the rule for key=value would not mask it);
 * - else host:port, then a query, properties or fragment, before a secret's pair (db:5432/app?password=P@ss,
 *   db:1433;password=P@ss) has no user info: the key=value rule masks the value whole; but digits then ";" are
 *   no port outside SQL Server's URLs when a host with a port or path follows the "@" (u:123;token=x@db/app);
 * - else the pair is the password's (u:a/b&token=x@db, u:5432/x&token=y@db).
 * What cannot be told apart, and leaks in part: a password holding "?", ";" or "#" then a secret's "key=" before
 * its "@": after 1 to 5 digits and "?", "#" or "/" it reads as host:port and a query, fragment or path
 * (u:123?token=x@db/app keeps "123"), so does one of digits and ";" in SQL Server's URLs or before a host without
 * port or path (u:123;password=x@db); after "@" and a word as user info, host and query (u:P@ss?token=x@db keeps
 * "ss"); and one holding "@", a word, "?" and a pair of no secret's key before a host without port or path
 * (u:P@ss?w=x@db.example keeps "ss?w=x").
 * A hand-written scan that reads each token a bounded number of times: regular expressions for this backtrack
 * quadratically on hostile input.
 */
function scrubUserInfo(text: string): string {
  let out = '';
  let copied = 0;
  let token: UrlToken | undefined;
  for (const m of text.matchAll(SCHEME)) {
    const start = m.index + m[0].length;
    if (start < copied) continue;
    if (token === undefined || start > token.end) token = readUrlToken(text, start, PROPERTIES_AFTER_PORT.test(m[0]));
    const { end, lastAt, keyStart, secretKey, queryStart, queryAt, properties, hostAfterAt } = token;
    // No "@": user info only when the line or text ends in it (a trace cut short, as in u:s3cr…).
    const cut = lastAt < start;
    if (cut && end < text.length && text[end] !== '\n' && text[end] !== '\r') continue;
    let colon = start;
    while (colon < (cut ? end : lastAt) && text[colon] !== ':' && !NOT_IN_USER.has(text[colon]!)) colon++;
    if (text[colon] !== ':') continue;
    if (cut) {
      if (colon + 1 === end || portEnd(text, colon, end) >= 0) continue;
      out += `${text.slice(copied, colon)}:${MASK}`;
      copied = end;
      continue;
    }
    let at = lastAt;
    if (queryAt > colon) {
      at = queryAt;
    } else if (keyStart > colon && secretKey) {
      const digits = portEnd(text, colon, end);
      // Digits then ";" are a port only where properties follow one: elsewhere they start the password
      // (postgresql://u:123;token=x@db:5432/app), when a host with a port or path follows the "@".
      const semicolonAfterDigits = text[digits] === ';' && !properties && hostAfterAt;
      if (digits >= 0 && digits < end && queryStart >= digits && !semicolonAfterDigits) continue;
    }
    out += `${text.slice(copied, colon)}:${MASK}@`;
    copied = at + 1;
  }
  return out + text.slice(copied);
}

/**
 * A secret's value in a URL's query, to "&" (password=ab;c,d → password=***), and in SQL Server's properties, to
 * ";" (password=ab&c,d → password=***; a {braced} one is the key=value rule's). That rule, which runs later,
 * ends a bare value at ";", "," and "&", as free text needs. The value stops where the URL's token does (before
 * the "\\" of an escaped closing quote, and a "," or "." that ends a sentence), or at ")", "]", "}".
 */
function scrubQueryValues(text: string): string {
  let out = '';
  let copied = 0;
  let tokenEnd = -1;
  for (const m of text.matchAll(SCHEME)) {
    const start = m.index + m[0].length;
    if (start < tokenEnd) continue;
    TOKEN_END.lastIndex = start;
    const end = TOKEN_END.exec(text)?.index ?? text.length;
    tokenEnd = end;
    const properties = PROPERTIES_AFTER_PORT.test(m[0]);
    const [open, valueEnd] = properties ? [';', PROPERTY_VALUE_END] : ['?', QUERY_VALUE_END];
    let q = start;
    while (q < end && text[q] !== open) q++;
    if (q >= end) continue;
    let skip = q + 1;
    for (const k of text.slice(q + 1, end).matchAll(PAIR_KEY)) {
      const valueStart = q + 1 + k.index + k[0].length;
      if (valueStart - k[0].length < skip || !SECRET_KEY.test(k[1]!) || text[valueStart] === '{') continue;
      let v = valueStart;
      while (v < end && !valueEnd.has(text[v]!)) v++;
      if (v === end) {
        if (text[end] === '"' || text[end] === "'") while (v > valueStart && text[v - 1] === '\\') v--;
        else if (text[v - 1] === ',' || text[v - 1] === '.') v--;
      }
      if (v === valueStart) continue;
      out += text.slice(copied, valueStart) + MASK;
      copied = skip = v;
    }
  }
  return out + text.slice(copied);
}

/** Where a port of 1 to 5 digits after `colon` ends (the token's end or one of AFTER_PORT), or -1. */
function portEnd(text: string, colon: number, end: number): number {
  let digits = colon + 1;
  while (digits < end && digits - colon <= 5 && isDigit(text[digits]!)) digits++;
  return digits > colon + 1 && (digits === end || AFTER_PORT.has(text[digits]!)) ? digits : -1;
}

/** What scrubUserInfo reads of the token a scheme starts, once for every scheme inside it. */
interface UrlToken {
  readonly end: number;
  /** The token's last "@" (before the scheme's end when there is none). */
  readonly lastAt: number;
  /** The key of the last pair whose bare value holds lastAt, or -1. */
  readonly keyStart: number;
  /** Whether the key=value rule masks that value. */
  readonly secretKey: boolean;
  /** The last "?", ";" or "#" before that key, or -1. */
  readonly queryStart: number;
  /**
   * The last "@" before the query or properties holding that pair, when a host follows it and, for a pair of no
   * secret's key, no host with a port or path follows the token's last "@"; else -1.
   */
  readonly queryAt: number;
  /** Whether the scheme puts ";" properties right after host:port (SQL Server's). */
  readonly properties: boolean;
  /** Whether a host with a port or path follows lastAt. */
  readonly hostAfterAt: boolean;
}

/** The first pair of a secret's key in text[from, to), else the last pair (keyStart -1 when there is none). */
function pairIn(text: string, from: number, to: number): { keyStart: number; secretKey: boolean } {
  let keyStart = -1;
  for (const k of text.slice(from, to).matchAll(PAIR_KEY)) {
    keyStart = from + k.index;
    if (SECRET_KEY.test(k[1]!)) return { keyStart, secretKey: true };
  }
  return { keyStart, secretKey: false };
}

/**
 * SQL Server's value in braces holds ";" and "@" (password={a;@b}, "}}" for "}"): the secret's pair whose "{" is
 * still open at `at`, after `from`.
 */
function bracedPair(text: string, from: number, at: number): { keyStart: number; secretKey: boolean } | undefined {
  let b = at - 1;
  while (b > from && !(text[b] === '{' && text[b - 1] === '=')) b--;
  if (b <= from) return undefined;
  for (let k = b + 1; k < at; k++) {
    if (text[k] !== '}') continue;
    if (text[k + 1] !== '}') return undefined;
    k++;
  }
  let keyStart = b - 1;
  while (keyStart > from && /[\w.-]/.test(text[keyStart - 1]!)) keyStart--;
  return SECRET_KEY.test(text.slice(keyStart, b - 1)) ? { keyStart, secretKey: true } : undefined;
}

function readUrlToken(text: string, start: number, properties: boolean): UrlToken {
  TOKEN_END.lastIndex = start;
  const end = TOKEN_END.exec(text)?.index ?? text.length;
  let lastAt = end - 1;
  while (lastAt >= start && text[lastAt] !== '@') lastAt--;
  let pair = { keyStart: -1, secretKey: false };
  let queryStart = -1;
  let queryAt = -1;
  const hostAfterAt = lastAt >= start && HOST_THEN_PORT_OR_PATH.test(text.slice(lastAt + 1, end));
  if (lastAt >= start) {
    // A "?" before the last "@" and no "@" before it: host[:port][/path]?query (no user info before the query),
    // where a value runs over ";" and "," to "&"; in SQL Server's URLs a ";" and properties, whose value runs to ";".
    const open = properties ? ';' : '?';
    let firstQuery = -1;
    let atFirst = false;
    for (let k = start; k < lastAt && firstQuery < 0 && !atFirst; k++) if (text[k] === open) firstQuery = k; else atFirst = text[k] === '@';
    const valueEnd = firstQuery < 0 ? VALUE_END : properties ? PROPERTY_BOUNDARY : QUERY_VALUE_END;
    let i = lastAt - 1;
    let at = -1;
    for (; i >= start && i !== firstQuery && !valueEnd.has(text[i]!); i--) if (at < 0 && text[i] === '@') at = i;
    // A pair's bare value runs over "=", "?" and "@" (password=a=@b, password=?w=@b, password=P@ss@w): the
    // key=value rule masks from the first secret's key on. One after an earlier "@" comes first: that "@" may end
    // user info, and the key be its query's (u:a&token=b@db/x?password=P@ss); but not in such a query, where a
    // secret's value starting there holds them all (db:5432/app?password=@a#token=@b, password=@a;token=@b).
    if (firstQuery >= 0 && i >= firstQuery) {
      QUERY_KEY.lastIndex = i + 1;
      const k = QUERY_KEY.exec(text);
      if (k !== null && SECRET_KEY.test(k[0])) pair = { keyStart: i + 1, secretKey: true };
      if (properties) pair = bracedPair(text, firstQuery, lastAt) ?? pair;
    }
    if (at > i && !pair.secretKey) pair = pairIn(text, at + 1, lastAt);
    if (!pair.secretKey) pair = pairIn(text, i + 1, lastAt);
    const { keyStart, secretKey } = pair;
    if (keyStart >= 0) {
      for (i = keyStart - 1; i >= start && !QUERY_START.has(text[i]!); i--);
      if (i >= start) queryStart = i;
      for (; i >= start && text[i] !== '@'; i--);
      // user info is followed by a host, unless the value is no secret's and the last "@" is followed by one
      if (!NOT_IN_HOST.has(text[i + 1]!) && (secretKey || !hostAfterAt)) queryAt = i;
    }
  }
  return { end, lastAt, ...pair, queryStart, queryAt, properties, hostAfterAt };
}

// Key names ending in one of these words: password=, database.password = , "password": "...", token:,
// client_secret=, X-Api-Key: ... A key must end right before the separator, so "password authentication
// failed" and "Unrecognized token 'x'" are left alone. Values: quoted (JSON, JAAS, escaped JSON), [bracketed]
// (Kafka's "[hidden]"), {braced} (SQL Server's JDBC URL, for a value holding ';' or '}', written '}}'), a quote
// not closed on its line (a trace cut short inside the value: the rest of the line), or bare up to a delimiter.
// Any number of "\" before a quote: JSON nested in JSON (in JSON) escapes it once more at each level; a bare
// value ends before the "\" of an escaped quote (password=x\" in escaped JSON becomes password=***\").
// A key starts only where a word starts: otherwise every position of a long run (a base64 blob) would start a
// scan, which is quadratic.
const SECRET_WORDS = String.raw`(?:password|passwd|passphrase|pwd|token|secret|api[_.-]?key|access[_.-]?key|secret[_.-]?key|private[_.-]?key|account[_.-]?key|user[_.-]?info|credentials?|sig|signature)`;
// "credentials: check the user", "Invalid signature: expected RS256" are prose in hints and messages: these
// words alone before ": " do not mask. A signature is a key=value (X-Amz-Signature=, SigV4's Signature=).
const PROSE_KEY = /^(?:credentials?|signature)$/i;
// DB2's German syntax errors list grammar tokens: "[SQL0104] Token ; ungültig. Gültige Token: + - AS <IDENTIFIER>."
// ("valid/expected/possible tokens:"); the list is the diagnosis.
const DB2_GRAMMAR_TOKENS = /\b(?:gültige|erwartete|mögliche)n?[ \t]+$/i;
// A key the key=value rule masks the value of (scrubUserInfo asks it of a pair before a URL's "@").
const SECRET_KEY = new RegExp(`${SECRET_WORDS}$`, 'i');
const KEY_VALUE = new RegExp(
  String.raw`(?<![\w.-])([\w.-]*?${SECRET_WORDS})(\\*["']?)(\s*[=:]\s*)(?:(\\*["'])(.*?)\4|\[[^\]\r\n]*\]|\{(?:\}\}|[^}\r\n])*\}|\\*["'][^\r\n]*|\\*["']?(?:[^\s,;&"'<>)\]}\\]|\\+(?![\\"']))+)`,
  'gi',
);

// XML/SOAP elements named like a secret: <password>x</password>, <wsse:Password Type="…">x</wsse:Password>,
// <clientSecret><![CDATA[x]]></clientSecret>, and the same escaped (&lt;password&gt;). Only with the closing tag
// (of any prefix) or at the very end of the text or a line, where a body was cut short (in the closing tag too:
// <password>x</pass), so generics (List<Token> tokens) stay.
// The escaped form's content stops at the next "&lt;": otherwise every opener would scan to the end.
const XML_OPEN = String.raw`((?:[\w.-]+:)?([\w.-]*?${SECRET_WORDS}))((?:\s[^<>]*?)?)`;
const XML_ELEMENT = new RegExp(
  String.raw`(<)${XML_OPEN}(>)(<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|[^<]*)(?=<\/(?:[\w.-]+:)?\3>|<(?:\/[\w.:-]*)?(?:…|\.{3})?(?:[\r\n]|$)|$)`,
  'gi',
);
const XML_ESCAPED = new RegExp(
  String.raw`(&lt;)${XML_OPEN}(&gt;)((?:[^<&]|&(?!lt;))*)(?=&lt;\/(?:[\w.-]+:)?\3&gt;|$)`,
  'gi',
);

function maskElement(m: string, open: string, name: string, _local: string, attrs: string, close: string, content: string): string {
  // <password /> is empty; whitespace alone is the indentation before a nested element.
  if (attrs.endsWith('/') || !/\S/.test(content)) return m;
  return `${open}${name}${attrs}${close}${MASK}`;
}

// Prose stating the secret: "password is hunter2", "token was 'x'": the one token after is/was. Most such
// sentences are the diagnosis instead ("token is expired", "password was specified", "password is not set"),
// so a plain word that reads as one is kept: see PROSE_VALUE. "password: x" is key=value's. Blanks only: the
// next line of a trace is no value.
const PROSE_SECRET = /(?<![\w.-])([\w.-]*?(?:password|passwd|passphrase|pwd|secret|token)[ \t]+(?:is|was)[ \t]+)(?:(["'])([^"'\r\n]*)\2|([^\s"',;)\]}]+))/gi;
const PROSE_VALUE =
  /^(?:[a-z]+(?:ed|ing|ly|able|ible)|not|no|never|now|still|also|already|only|just|a|an|the|this|that|its|in|on|at|of|for|to|by|with|from|as|and|or|set|unset|empty|null|nil|none|blank|missing|invalid|valid|wrong|incorrect|correct|right|required|optional|mandatory|too|incomplete|present|absent|unknown|stale|bad|weak|short|long|different|same|being|been|ok|true|false|yes|nowhere|there|here|known|new|old|given|taken|shown|hidden|redacted|masked|encrypted|plain|plaintext)$/i;

// The same with the value quoted right after the name ("login failed with password 'x'", escaped JSON's
// \"x\" too): a quote there starts a value. Not "secret", which names a stored secret ("secret 'db/creds' not
// found"), and not Jackson's grammar tokens ("Unrecognized token 'x'", "or token 'null'").
const PROSE_QUOTED = /(?<![\w.-])([\w.-]*?(?:password|passwd|passphrase|pwd|token)[ \t]+)(\\?["'])([^"'\\\r\n]*)\2/gi;
const GRAMMAR_TOKEN = /\b(?:unrecognized|unexpected|or)[ \t]+$/i;

function maskProseQuoted(m: string, head: string, quote: string, quoted: string, at: number, whole: string): string {
  if (precededBy(GRAMMAR_TOKEN, whole, at)) return m;
  return maskProseSecret(m, head, quote, quoted, undefined);
}

function maskProseSecret(m: string, head: string, quote: string | undefined, quoted: string | undefined, bare: string | undefined): string {
  if (quote !== undefined) return quoted === '' ? m : `${head}${quote}${MASK}${quote}`;
  if (bare === MASK || PROSE_VALUE.test(bare!.replace(/[.!?:]+$/, ''))) return m;
  return `${head}${MASK}`;
}

// user:password@host:port without a scheme ("connecting as admin:pw@connect:8083", a URL whose scheme was
// forgotten): only before a host with a port, so e-mail addresses, git@host:org/repo, image@sha256:… and
// Object@hash stay. The password may hold "@" and ":" (pa@ss:w); one ending in ":" is Oracle's
// jdbc:oracle:thin:@db:1521, no user info. A user starts where no URL, path or word runs on.
const SCHEMELESS_USER_INFO =
  /(?<![\w.:/@\\%+-])((?!jdbc:)[\w.-]+:)[^\s/@"'<>]*[^\s/@"'<>:](?:@[^\s/@"'<>]+)*(@[a-z0-9-]+(?:\.[a-z0-9-]+)*:\d{1,5})(?![\w.-]|:\d)/gi;

const SCHEME_ALREADY_MASKED = /^(?:basic|bearer)\s+\*\*\*/i;
const MYSQL_PASSWORD_SENT = /^password: (?:YES|NO)$/;
const USING = '(using ';

// Oracle's JDBC URLs carry credentials without "//": jdbc:oracle:thin:scott/tiger@db:1521:ORCL (also @//host).
// A password holding "@" or a space is written in double quotes (scott/"t@ g"@db), and so may the user be.
const ORACLE_URL_PASSWORD = /(\bjdbc:oracle:[a-z0-9]+:(?:"[^"\s]+"|[^\s/@"':]+)\/)(?:"[^"\r\n]*"|[^\s"']*)@/gi;
// The value may be a list: Java prints a Map<String, List<String>> of headers as {Authorization=[Basic …]}.
// "[", "]" and "}" are in no credential (token68, base64), so the list's and a map's end stay, and Apache's wire
// log's "[\r][\n]". On the header's line
// only: the next line of a trace ("Caused by: …") is no credential. Any number of "\" before a quote: JSON
// nested in JSON escapes it more than once. maskAuthHeaders reads the credential after it.
const AUTH_HEADER = /\b(?:proxy-)?authorization\\*["']?[ \t]*[:=][ \t]*(?:\[[ \t]*)?\\*["']?/gi;
// Schemes kept readable (which one was sent is the diagnosis); any other first word may be the credential itself.
const AUTH_SCHEME = /^(?:basic|bearer|digest|negotiate|ntlm|kerberos|token|apikey|geniekey|aws4-hmac-sha256|oauth|hoba|mutual|vapid|dpop|scram-sha-1|scram-sha-256|sharedkey|sharedkeylite)$/i;
// A word, then blanks before more of the header's value.
const AUTH_WORD = /([^\s"',;\\[\]}]+)([ \t]+)?/y;
// Auth-params (RFC 7235: Digest's username="u", response="…", SigV4's Credential=…, Signature=…, OAuth's): name=value
// pairs joined by ",", a value quoted (its quote escaped in JSON, once or more; the rest of the line when the
// quote is not closed, a trace cut short) or bare. The first "=" must be followed by a value, so token68's "="
// padding (czNj=, then the JSON string's end) is no pair.
const AUTH_PARAM = String.raw`[A-Za-z_][\w.-]*[ \t]*=[ \t]*(?:\\*"(?=[^"\\,;\]}\r\n])[^"\r\n]*(?:"|$)|\\*"\\*"|[^\s,"'\\[\]}=][^\s,"'\\[\]}]*)`;
const AUTH_PARAMS = new RegExp(`${AUTH_PARAM}(?:[ \\t]*,[ \\t]*${AUTH_PARAM})*`, 'ym');
// token68 (Basic's, Bearer's, Negotiate's base64), or what an unknown scheme sends (SharedKey's acme:sig=).
const AUTH_TOKEN = /[^\s"',;\\[\]}]+/y;

/** The end of the credential at `from` (auth-params or one token), or `from` when there is none. */
function authCredentialEnd(text: string, from: number, anyToken: boolean): number {
  AUTH_PARAMS.lastIndex = from;
  if (AUTH_PARAMS.test(text)) return AUTH_PARAMS.lastIndex;
  AUTH_TOKEN.lastIndex = from;
  const token = AUTH_TOKEN.exec(text);
  // After an unknown first word, a second only when it is no plain word (s3cr3t:ab, not "was rejected").
  return token !== null && (anyToken || /[^A-Za-z]/.test(token[0])) ? AUTH_TOKEN.lastIndex : from;
}

/**
 * Authorization / Proxy-Authorization: the whole credential after the scheme, as a header line, a JSON field or
 * Java's {Authorization=[…]}: "Digest ***" (its response= is a hash of the password an offline attack cracks),
 * "AWS4-HMAC-SHA256 ***". An unknown first word is masked too, with a credential after it ("*** ***").
 */
function maskAuthHeaders(text: string): string {
  let out = '';
  let copied = 0;
  AUTH_HEADER.lastIndex = 0;
  for (let m = AUTH_HEADER.exec(text); m !== null; m = AUTH_HEADER.exec(text)) {
    const at = m.index + m[0].length;
    AUTH_WORD.lastIndex = at;
    const word = AUTH_WORD.exec(text);
    if (word === null) continue;
    const [, first, blanks] = word;
    let end = AUTH_WORD.lastIndex;
    let masked: string;
    if (blanks !== undefined && AUTH_SCHEME.test(first!)) {
      const credential = authCredentialEnd(text, end, true);
      masked = credential > end ? `${first}${blanks}${MASK}` : `${first}${blanks}`;
      end = credential;
    } else {
      const credential = blanks === undefined ? end : authCredentialEnd(text, end, false);
      masked = credential > end ? `${MASK}${blanks}${MASK}` : `${MASK}${blanks ?? ''}`;
      end = credential;
    }
    out += text.slice(copied, at) + masked;
    copied = end;
    AUTH_HEADER.lastIndex = Math.max(end, at + 1);
  }
  return out + text.slice(copied);
}

// A scheme and its credentials without the header name in front, as HTTP clients print what they sent
// ("credentials Basic dXNlcjpwYXNz", "token=Bearer eyJ…"). The same words start prose ("Basic auth failed",
// "Bearer tokens") and challenges (WWW-Authenticate: Basic realm="x"): see bareCredential.
// Blanks only between the scheme and its value: the next line of a trace ("Caused by: …") is no credential.
const BARE_SCHEME = /\b(basic|bearer)[ \t]+([A-Za-z0-9._~+/=-]+)/gi;
// Words that follow "Basic"/"Bearer" in prose; a credential is never one of these.
const SCHEME_PROSE = /^(?:auth|authentication|authorization|authenticator|scheme|schemes|header|headers|credentials?|tokens?|realm|type|is|was|and|or|not|with|for|to|from|required|missing|only|access|login|http|https)$/i;
// Cookie / Set-Cookie headers, as a line, a JSON field or Java's {Cookie=[…]}: every name=value pair up to the end
// of the header's value has its value masked (a session cookie is a credential); names and Set-Cookie's
// attributes stay readable. On the header's line only: the next line of a trace is no cookie. A quote ends the
// value (the JSON string's or the shell's), except a quoted cookie value (name="v", escaped in JSON too), which
// ends before a separator or the value's end, or one cut off where the line ends, escaped too (a truncated log
// line: name=\"v; a quote before a blank closes a shell argument instead: sid=abc==' https://…). Quotes may be
// escaped more than once (JSON in JSON in JSON). A bare value runs over blanks to the next
// ";" or "," (session=a b: its second word was left).
const COOKIE_HEADER =
  /(?<![\w.-])((?:set-)?cookie2?\\*["']?[ \t]*[:=][ \t]*(?:\[[ \t]*)?\\*["']?)((?:=(?:"[^"\\\r\n]*"|'[^'\\\r\n]*'|\\+"[^"\\\r\n]*\\+")(?=[\s;,\]"'\\]|$)|=\\*["'](?=[^\s"'\\])[^"'\\\r\n]*\\*(?=[\r\n]|$)|[^\r\n"'\]\\])+)/gi;
// A name starts only after a separator: otherwise every position of a long run would start a scan, which is quadratic.
const COOKIE_PAIR = /(?<![^\s;,])([^\s=;,]+)=("[^"\\]*"|'[^'\\]*'|\\+"[^"\\]*\\+"|\\*["'](?=[^\s"'\\])[^"'\\]*\\*$|[^\s;,]*(?:[ \t]+[^\s;,]+)*)/g;
const COOKIE_ATTRIBUTE = /^(?:path|domain|expires|max-age|samesite|version|comment|priority)$/i;

function maskCookies(_m: string, head: string, value: string): string {
  return head + value.replace(COOKIE_PAIR, (pair: string, name: string) => (COOKIE_ATTRIBUTE.test(name) ? pair : `${name}=${MASK}`));
}

// AWS (OpenSearch Service, API Gateway) rejects a Basic header by quoting it twice, once without its scheme.
const AWS_AUTH_ECHO = /'[^'\s]+'(?= not a valid key=value pair \(missing equal-sign\) in Authorization header)/g;

/** "Basic x"/"Bearer x" → "Basic ***", unless x is a word of prose or the name of a challenge's auth-param. */
function bareCredential(m: string, word: string, value: string, at: number, whole: string): string {
  const next = whole.charAt(at + m.length);
  // realm="x", charset=UTF-8: a name, "=", then a value, where a credential's "=" padding ends it.
  if (/^[A-Za-z][\w-]*=$/.test(value) && (/\w/.test(next) || (next === '"' && /[^\s,;}\]"]/.test(whole.charAt(at + m.length + 1))))) return m;
  // A word ending a sentence keeps its full stop; base64 and JWTs never end in ".".
  const bare = value.replace(/\.+$/, '');
  if (SCHEME_PROSE.test(bare)) return m;
  // Basic's credentials are base64 of user:password. A bare word (letters only) is prose unless it decodes to that.
  if (word.toLowerCase() === 'basic' && /^[A-Za-z]+$/.test(bare) && !isBase64UserPass(bare)) return m;
  return `${word} ${MASK}`;
}

function isBase64UserPass(value: string): boolean {
  if (value.length % 4 !== 0) return false;
  const text = Buffer.from(value, 'base64').toString('utf8');
  return text.includes(':') && !/[\u0000-\u001f\u007f\ufffd]/.test(text);
}
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+/g;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/**
 * Masks credentials in free text: URL passwords (Oracle's user/password@ too), key=value and JSON secrets,
 * XML elements, Authorization headers and bare Basic/Bearer credentials, cookies, "password is x" prose,
 * JWTs, private keys; percent-encoded and Gson-escaped ones too. docs/escalation.md lists the forms.
 */
export function scrubSecrets(text: string): string {
  return scrubPercentEncoded(scrubPlain(scrubJsonEscaped(text)));
}

// Gson (HTML-safe by default) writes "=", "&", "'", "<" and ">" in JSON strings as \u003d, \u0026, \u0027, \u003c
// and \u003e, which hides key=value text, queries and elements from the rules (and the URL scan then took a query's
// "@" for user info). A line, not a token, is decoded: a header's name and value are apart. The scrubbed decoding
// needs no escape back: those characters are valid in a JSON string.
const LINE = /[^\r\n]+/g;
const JSON_ESCAPE = /\\u00(?:2[67]|3[cde])/i;
const JSON_ESCAPES = /\\u00(2[67]|3[cde])/gi;

function scrubJsonEscaped(text: string): string {
  return scrubDecoded(text, LINE, JSON_ESCAPE, (line) =>
    line.replace(JSON_ESCAPES, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
  );
}

// A URL or query string passed inside another (a redirect or callback parameter, a logged request body) carries
// its credentials percent-encoded: password%3Dx%26, http%3A%2F%2Fuser%3Apw%40host. A token is decoded, twice
// encoded too.
const TOKEN = /[^\s"'<>]+/g;
const PERCENT_ESCAPE = /%[0-9a-f]{2}/i;

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

function scrubPercentEncoded(text: string): string {
  return scrubDecoded(text, TOKEN, PERCENT_ESCAPE, (token) => {
    let decoded = token;
    for (let i = 0; i < 3 && PERCENT_ESCAPE.test(decoded); i++) decoded = percentDecode(decoded);
    return decoded;
  });
}

/** Each piece holding an escape is decoded and scrubbed; when that masks something, the scrubbed decoding replaces it. */
function scrubDecoded(text: string, pieces: RegExp, escape: RegExp, decode: (piece: string) => string): string {
  if (!escape.test(text)) return text;
  return text.replace(pieces, (piece) => {
    if (!escape.test(piece)) return piece;
    const decoded = decode(piece);
    const clean = scrubPlain(decoded);
    return clean === decoded ? piece : clean;
  });
}

// URL user info first: the later rules' masks would hide the "@" that ends it.
function scrubPlain(text: string): string {
  const masked = maskAuthHeaders(
    scrubQueryValues(scrubUserInfo(text))
      .replace(SCHEMELESS_USER_INFO, `$1${MASK}$2`)
      .replace(PEM_PRIVATE_KEY, `-----PRIVATE KEY ${MASK}-----`)
      .replace(ORACLE_URL_PASSWORD, `$1${MASK}@`),
  )
    .replace(BARE_SCHEME, bareCredential)
    .replace(AWS_AUTH_ECHO, `'${MASK}'`)
    .replace(COOKIE_HEADER, maskCookies)
    .replace(XML_ELEMENT, maskElement)
    .replace(XML_ESCAPED, maskElement)
    .replace(PROSE_SECRET, maskProseSecret)
    .replace(PROSE_QUOTED, maskProseQuoted)
    .replace(KEY_VALUE, (m: string, key: string, close: string, sep: string, quote: string | undefined, _value: unknown, at: number, whole: string) => {
      if (quote !== undefined) return `${key}${close}${sep}${quote}${MASK}${quote}`;
      // token=Bearer ***: the scheme's credentials are masked already, the scheme word is no secret.
      if (SCHEME_ALREADY_MASKED.test(whole.slice(at + key.length + close.length + sep.length, at + m.length + MASK.length + 8))) return m;
      if (close === '' && sep.trim() === ':' && PROSE_KEY.test(key)) return m;
      if (close === '' && sep.trim() === ':' && /^token$/i.test(key) && precededBy(DB2_GRAMMAR_TOKENS, whole, at)) return m;
      // MySQL's "Access denied for user 'u'@'h' (using password: NO)" says whether one was sent, not which.
      if (MYSQL_PASSWORD_SENT.test(m) && whole.slice(at - USING.length, at) === USING) return m;
      return `${key}${close}${sep}${MASK}`;
    });
  return masked.replace(JWT, MASK);
}

/**
 * One value meant as a URL, as an operator wrote it (a config error quotes it): everything before its last "@"
 * after the scheme is user info, masked. scrubSecrets cannot know that much of free text: without "//" and
 * without a port ("admin:pw@connect", the scheme forgotten) or with a space in the password it would leave it.
 */
export function maskUserInfo(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const scheme = value.indexOf('://');
  const start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
  const colon = value.indexOf(':', start);
  const user = colon >= 0 && colon < at ? value.slice(0, colon + 1) : value.slice(0, start);
  return `${user}${MASK}${value.slice(at)}`;
}

/**
 * `text` with every occurrence of each of `values` masked: the secrets we sent, which an answer may echo (a
 * gateway quoting the credentials, a receiver quoting its URL's token). Give the longest first, so that a
 * value containing another is masked whole.
 */
export function maskKnownValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) out = out.split(value).join(MASK);
  return out;
}

const ELLIPSIS = '…';

/** Cuts `text` to at most `max` UTF-16 units, ending with "…" when cut, never splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, ending with "…" when cut, on a code point boundary. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength(ELLIPSIS, 'utf8');
  if (budget < 0) return '';
  let used = 0;
  let out = '';
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > budget) break;
    used += n;
    out += ch;
  }
  return out + ELLIPSIS;
}

const HEAD_LINES = 4;
const GAP = '…';
const CAUSED_BY = /^\s*Caused by:/;
const MIN_CHOICE_BYTES = 64;

/**
 * A bounded, scrubbed excerpt of a trace for a page: the exception line, the root cause and the cause chain
 * between them, then the first frames, in that priority and in trace order, with "…" where lines were left
 * out. At most `maxBytes` UTF-8 bytes. Scrubbed before cutting, so a cut can never expose part of a secret.
 */
export function traceExcerpt(trace: string, rootCause: string, maxBytes = 2048): string {
  // Each line gets at most about half the budget, so the first line and the root cause always fit together.
  const lineCap = Math.max(0, Math.floor(maxBytes / 2) - 8);
  const whole = scrubSecrets(trace)
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const rootLine = scrubSecrets(rootCause).trim().split(/\r?\n/)[0] ?? '';
  // Too small for a choice of lines: the first line, cut.
  if (maxBytes < MIN_CHOICE_BYTES) return truncateBytes(whole[0] ?? rootLine, maxBytes);
  const lines = whole.map((l) => truncateBytes(l, lineCap));
  const root = truncateBytes(rootLine, lineCap);
  const rootIdx = root === '' ? -1 : lines.findIndex((l) => l.includes(root));
  const extra = rootIdx < 0 && root !== '' ? root : undefined;

  const render = (chosen: ReadonlySet<number>): string => {
    const out: string[] = [];
    let prev = -1;
    for (let i = 0; i < lines.length; i++) {
      if (!chosen.has(i)) continue;
      if (i > prev + 1) out.push(GAP);
      out.push(lines[i]!);
      prev = i;
    }
    if (prev < lines.length - 1 && out.length > 0) out.push(GAP);
    if (extra !== undefined) {
      if (out.length > 0 && out[out.length - 1] !== GAP) out.push(GAP);
      out.push(extra);
    }
    return out.join('\n');
  };

  const priority = [0, ...(rootIdx > 0 ? [rootIdx] : [])];
  lines.forEach((l, i) => CAUSED_BY.test(l) && priority.push(i));
  for (let i = 1; i < Math.min(HEAD_LINES, lines.length); i++) priority.push(i);
  const chosen = new Set<number>();
  for (const i of priority) {
    if (i >= lines.length || chosen.has(i)) continue;
    chosen.add(i);
    if (Buffer.byteLength(render(chosen), 'utf8') > maxBytes) chosen.delete(i);
  }
  return truncateBytes(render(chosen), maxBytes);
}
