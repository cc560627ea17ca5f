/**
 * The external system a connector talks to (database, Elasticsearch, MongoDB ...), read from its config.
 * Pure. Only host and port ever leave this module: configs and URLs carry user names and passwords.
 * When unsure (no port and no safe default, DNS SRV, a TNS alias) the answer is undefined: a wrong
 * endpoint would make the dependency probe hold back restarts for nothing.
 */
import type { Endpoint } from './types.js';

/** Default ports by connector class (Debezium names its classes after the database; first match wins). */
const CLASS_PORTS: readonly (readonly [RegExp, number])[] = [
  [/postgres/i, 5432],
  [/mysql|mariadb/i, 3306],
  [/sqlserver/i, 1433],
  [/oracle/i, 1521],
  [/db2/i, 50000],
];

const JDBC_PORTS: Readonly<Record<string, number>> = {
  postgresql: 5432,
  pgsql: 5432,
  mysql: 3306,
  mariadb: 3306,
  sqlserver: 1433,
  oracle: 1521,
  db2: 50000,
};

const MONGO_PORT = 27017;

function port(text: string | undefined, fallback: number | undefined): number | undefined {
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function validHost(host: string): boolean {
  // Anything with separators or credentials left in it is a parse we do not trust.
  return host !== '' && !/[\s@/\\?#,;()=]/.test(host);
}

function endpoint(host: string | undefined, p: number | undefined): Endpoint | undefined {
  if (host === undefined || p === undefined) return undefined;
  const h = host.trim();
  return validHost(h) ? { host: h, port: p } : undefined;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address. */
export function parseHostPort(text: string, defaultPort: number | undefined): Endpoint | undefined {
  const s = text.trim();
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    const rest = s.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    return endpoint(s.slice(1, close), port(rest.slice(1) || undefined, defaultPort));
  }
  const colons = s.split(':').length - 1;
  if (colons > 1) return endpoint(s, defaultPort); // bare IPv6, no port
  const [host, p] = s.split(':');
  return endpoint(host, port(p, defaultPort));
}

/** Drop `user[:password]@` from an authority; the last `@` wins since passwords may hold one unescaped. */
function withoutUserInfo(authority: string): string {
  const at = authority.lastIndexOf('@');
  return at < 0 ? authority : authority.slice(at + 1);
}

function firstOfList(list: string): string {
  return (list.split(',')[0] ?? '').trim();
}

function classPort(connectorClass: string | undefined): number | undefined {
  if (connectorClass === undefined) return undefined;
  return CLASS_PORTS.find(([re]) => re.test(connectorClass))?.[1];
}

/** http(s)://[user:pw@]host[:port][/path], possibly a comma-separated list (first one taken). */
export function parseHttpUrl(text: string): Endpoint | undefined {
  const first = firstOfList(text);
  let url: URL;
  try {
    url = new URL(first);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return endpoint(host, port(url.port, url.protocol === 'https:' ? 443 : 80));
}

/** mongodb://[user:pw@]h1[:p1][,h2[:p2]...][/db][?opts]. mongodb+srv needs a DNS SRV lookup: undefined. */
export function parseMongoUri(text: string): Endpoint | undefined {
  const m = /^mongodb:\/\/([^/?#]*)/i.exec(text.trim());
  if (m === null) return undefined;
  return parseHostPort(firstOfList(withoutUserInfo(m[1] ?? '')), MONGO_PORT);
}

/** Debezium MongoDB `mongodb.hosts`: `rs0/h1:27017,h2:27017` or `h1:27017,...`. */
export function parseMongoHosts(text: string): Endpoint | undefined {
  const slash = text.indexOf('/');
  return parseHostPort(firstOfList(slash < 0 ? text : text.slice(slash + 1)), MONGO_PORT);
}

/** Key/values: Oracle `(ADDRESS=(HOST=h)(PORT=p))`, MySQL `address=(host=h)(port=p)` and `(host=h,port=p)`. */
function fromKeyValues(text: string, defaultPort: number | undefined): Endpoint | undefined {
  const host = /[(,]\s*host\s*=\s*([^(),\s]+)/i.exec(text)?.[1];
  const p = /[(,]\s*port\s*=\s*([^(),\s]+)/i.exec(text)?.[1];
  return endpoint(host, port(p, defaultPort));
}

function parseSqlServer(rest: string): Endpoint | undefined {
  // jdbc:sqlserver://[host[\instance][:port]][;prop=value;...]; host and port may also be properties.
  const [authority = '', ...props] = rest.split(';');
  const prop = (name: string): string | undefined => {
    for (const kv of props) {
      const eq = kv.indexOf('=');
      if (eq > 0 && kv.slice(0, eq).trim().toLowerCase() === name) return kv.slice(eq + 1).trim();
    }
    return undefined;
  };
  const server = authority.trim() !== '' ? authority.trim() : (prop('servername') ?? '');
  const m = /^([^\\:]+)(\\[^:]*)?(?::(\d+))?$/.exec(server);
  if (m === null) return undefined;
  const p = m[3] ?? prop('portnumber') ?? prop('port');
  // A named instance without a port listens on a dynamic one (SQL Browser): nothing safe to probe.
  if (m[2] !== undefined && p === undefined) return undefined;
  return endpoint(m[1], port(p, JDBC_PORTS['sqlserver']));
}

function parseOracle(rest: string): Endpoint | undefined {
  // thin:[user/pw]@host:port:SID | @host:port/service | @//host:port/service | @tcps://... | @(DESCRIPTION=...)
  const at = rest.lastIndexOf('@');
  if (at < 0) return undefined;
  let target = rest.slice(at + 1).trim();
  const defaultPort = JDBC_PORTS['oracle'];
  if (target.startsWith('(')) return fromKeyValues(target, defaultPort);
  target = target.replace(/^[a-z]+:\/\//i, '').replace(/^\/\//, '');
  // A bare word is a tnsnames alias: its host lives in a file on the worker.
  if (!target.includes(':') && !target.includes('/')) return undefined;
  const hostPort = target.split(/[/?]/)[0] ?? '';
  // host:port:SID keeps the first two parts.
  const parts = hostPort.startsWith('[') ? [hostPort] : hostPort.split(':').slice(0, 2);
  return parseHostPort(parts.join(':'), defaultPort);
}

/** A JDBC URL: postgresql, mysql, mariadb, sqlserver, oracle thin, db2; others only with an explicit port. */
export function parseJdbcUrl(text: string): Endpoint | undefined {
  const s = text.trim();
  const sub = /^jdbc:([a-z0-9]+):/i.exec(s)?.[1]?.toLowerCase();
  if (sub === undefined) return undefined;
  if (sub === 'oracle') return parseOracle(s.slice('jdbc:oracle:'.length));
  // The `//` may follow a sub-subprotocol (jdbc:mysql:loadbalance://, jdbc:mariadb:replication://).
  const m = /^jdbc:[a-z0-9]+(?::[a-z0-9-]+)*:\/\/(.*)$/is.exec(s);
  if (m === null) return undefined; // e.g. jdbc:postgresql:dbname (local socket defaults)
  const rest = m[1] ?? '';
  if (sub === 'sqlserver') return parseSqlServer(rest);
  const authority = withoutUserInfo(rest.split(/[/?#;]/)[0] ?? '');
  const defaultPort = JDBC_PORTS[sub];
  if (/^\(|^address=/i.test(authority)) return fromKeyValues(authority, defaultPort);
  return parseHostPort(firstOfList(authority), defaultPort);
}

function str(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = config[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/**
 * The host/port a connector depends on, from its config, or undefined. Order: Debezium relational
 * (`database.hostname`/`database.port`, `database.url`), JDBC or HTTP `connection.url`, MongoDB URIs,
 * Debezium MongoDB `mongodb.hosts`, HTTP sinks (`http.api.url`, `http.url`).
 */
export function deriveEndpoint(config: Readonly<Record<string, unknown>>): Endpoint | undefined {
  const connectorClass = str(config, 'connector.class');
  const dbHost = str(config, 'database.hostname');
  if (dbHost !== undefined) {
    const p = port(str(config, 'database.port'), classPort(connectorClass));
    return parseHostPort(firstOfList(dbHost), p);
  }
  const dbUrl = str(config, 'database.url');
  if (dbUrl !== undefined) return parseJdbcUrl(dbUrl);
  const connectionUrl = str(config, 'connection.url');
  if (connectionUrl !== undefined) {
    if (/^jdbc:/i.test(connectionUrl)) return parseJdbcUrl(connectionUrl);
    if (/^mongodb:/i.test(connectionUrl)) return parseMongoUri(connectionUrl);
    return parseHttpUrl(connectionUrl);
  }
  const mongoUri = str(config, 'connection.uri') ?? str(config, 'mongodb.connection.string');
  if (mongoUri !== undefined) return parseMongoUri(mongoUri);
  const mongoHosts = str(config, 'mongodb.hosts');
  if (mongoHosts !== undefined) return parseMongoHosts(mongoHosts);
  const httpUrl = str(config, 'http.api.url') ?? str(config, 'http.url');
  if (httpUrl !== undefined) return parseHttpUrl(httpUrl);
  return undefined;
}
