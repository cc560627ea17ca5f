import { describe, expect, it } from 'vitest';
import { deriveEndpoint, parseHostPort, parseHttpUrl, parseJdbcUrl, parseMongoHosts, parseMongoUri } from '../../src/connect/endpoint.js';

const PG = 'io.debezium.connector.postgresql.PostgresConnector';

describe('deriveEndpoint: Debezium relational connectors', () => {
  it('takes database.hostname and database.port', () => {
    expect(deriveEndpoint({ 'connector.class': PG, 'database.hostname': 'db.internal', 'database.port': '6543' })).toEqual({ host: 'db.internal', port: 6543 });
  });

  it.each([
    ['io.debezium.connector.postgresql.PostgresConnector', 5432],
    ['io.debezium.connector.mysql.MySqlConnector', 3306],
    ['io.debezium.connector.mariadb.MariaDbConnector', 3306],
    ['io.debezium.connector.sqlserver.SqlServerConnector', 1433],
    ['io.debezium.connector.oracle.OracleConnector', 1521],
    ['io.debezium.connector.db2.Db2Connector', 50000],
  ])('defaults the port by connector class %s → %i', (cls, port) => {
    expect(deriveEndpoint({ 'connector.class': cls, 'database.hostname': 'h' })).toEqual({ host: 'h', port });
  });

  it('gives nothing when neither the port nor a known class says which port', () => {
    expect(deriveEndpoint({ 'connector.class': 'com.example.Custom', 'database.hostname': 'h' })).toBeUndefined();
  });

  it('rejects a port that is not a port', () => {
    expect(deriveEndpoint({ 'connector.class': PG, 'database.hostname': 'h', 'database.port': 'abc' })).toBeUndefined();
    expect(deriveEndpoint({ 'connector.class': PG, 'database.hostname': 'h', 'database.port': '70000' })).toBeUndefined();
  });

  it('never returns the password, whatever else the config holds', () => {
    const ep = deriveEndpoint({ 'connector.class': PG, 'database.hostname': '127.0.0.1', 'database.port': '5432', 'database.password': 's3cret', 'database.user': 'u' });
    expect(ep).toEqual({ host: '127.0.0.1', port: 5432 });
    expect(JSON.stringify(ep)).not.toContain('s3cret');
  });

  it('reads an Oracle database.url', () => {
    expect(deriveEndpoint({ 'connector.class': 'io.debezium.connector.oracle.OracleConnector', 'database.url': 'jdbc:oracle:thin:@ora.example:1522/ORCLPDB1' })).toEqual({
      host: 'ora.example',
      port: 1522,
    });
  });
});

describe('parseJdbcUrl', () => {
  it.each([
    ['jdbc:postgresql://pg.example:5433/shop?sslmode=require', 'pg.example', 5433],
    ['jdbc:postgresql://pg.example/shop', 'pg.example', 5432],
    ['jdbc:postgresql://pg1:5432,pg2:5432/shop?targetServerType=primary', 'pg1', 5432],
    ['jdbc:postgresql://[::1]:5433/shop', '::1', 5433],
    ['jdbc:mysql://my.example:3307/shop', 'my.example', 3307],
    ['jdbc:mysql://my.example/shop', 'my.example', 3306],
    ['jdbc:mysql://user:pw@my.example:3306/shop', 'my.example', 3306],
    ['jdbc:mysql:loadbalance://m1:3306,m2:3306/shop', 'm1', 3306],
    ['jdbc:mysql://address=(host=m3)(port=3308)(user=u)/shop', 'm3', 3308],
    ['jdbc:mysql://(host=m4,port=3309,user=u)/shop', 'm4', 3309],
    ['jdbc:mariadb://maria.example/shop', 'maria.example', 3306],
    ['jdbc:mariadb:replication://ma1:3310,ma2/shop', 'ma1', 3310],
    ['jdbc:sqlserver://ms.example:1434;databaseName=shop;encrypt=true', 'ms.example', 1434],
    ['jdbc:sqlserver://ms.example;databaseName=shop', 'ms.example', 1433],
    ['jdbc:sqlserver://;serverName=ms2.example;portNumber=1435;databaseName=shop', 'ms2.example', 1435],
    ['jdbc:sqlserver://ms.example\\inst:1436;databaseName=shop', 'ms.example', 1436],
    ['jdbc:oracle:thin:@ora.example:1521:ORCL', 'ora.example', 1521],
    ['jdbc:oracle:thin:@//ora.example:1523/svc', 'ora.example', 1523],
    ['jdbc:oracle:thin:@ora.example/svc', 'ora.example', 1521],
    ['jdbc:oracle:thin:scott/tiger@ora.example:1524:ORCL', 'ora.example', 1524],
    ['jdbc:oracle:thin:@tcps://ora.example:2484/svc', 'ora.example', 2484],
    ['jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora-tns.example)(PORT=1525))(CONNECT_DATA=(SERVICE_NAME=svc)))', 'ora-tns.example', 1525],
    ['jdbc:db2://db2.example:50001/SHOP', 'db2.example', 50001],
    ['jdbc:redshift://rs.example:5439/dev', 'rs.example', 5439],
  ])('%s → %s:%i', (url, host, port) => {
    expect(parseJdbcUrl(url)).toEqual({ host, port });
  });

  it.each([
    ['jdbc:postgresql:shop', 'no host: local defaults on the worker'],
    ['jdbc:sqlserver://ms.example\\inst;databaseName=shop', 'named instance without a port: dynamic port'],
    ['jdbc:oracle:thin:@shop_high', 'tnsnames alias'],
    ['jdbc:redshift://rs.example/dev', 'unknown subprotocol without a port'],
    ['jdbc:sqlite:/tmp/x.db', 'a file'],
    ['postgresql://pg:5432/x', 'not JDBC'],
  ])('%s → undefined (%s)', (url) => {
    expect(parseJdbcUrl(url)).toBeUndefined();
  });

  it('keeps user and password out of the answer', () => {
    const ep = parseJdbcUrl('jdbc:mysql://admin:hunter2@my.example:3306/shop');
    expect(JSON.stringify(ep)).not.toMatch(/admin|hunter2/);
  });
});

describe('deriveEndpoint: connection.url', () => {
  it('reads a JDBC sink connection.url', () => {
    expect(deriveEndpoint({ 'connector.class': 'io.confluent.connect.jdbc.JdbcSinkConnector', 'connection.url': 'jdbc:postgresql://pg.example:5432/dw', 'connection.password': 'x' })).toEqual({
      host: 'pg.example',
      port: 5432,
    });
  });

  it.each([
    ['http://es.example:9200', 'es.example', 9200],
    ['https://es.example', 'es.example', 443],
    ['http://es.example', 'es.example', 80],
    ['http://es1.example:9200,http://es2.example:9200', 'es1.example', 9200],
    [' https://elastic:changeme@es.example:9243/prefix ', 'es.example', 9243],
    ['http://[fd00::5]:9200', 'fd00::5', 9200],
  ])('Elasticsearch/OpenSearch/HTTP %s → %s:%i', (url, host, port) => {
    expect(deriveEndpoint({ 'connector.class': 'io.confluent.connect.elasticsearch.ElasticsearchSinkConnector', 'connection.url': url })).toEqual({ host, port });
  });

  it('ignores a URL of another scheme', () => {
    expect(parseHttpUrl('ftp://files.example')).toBeUndefined();
    expect(parseHttpUrl('es.example:9200')).toBeUndefined();
  });

  it('reads http.api.url of an HTTP sink', () => {
    expect(deriveEndpoint({ 'connector.class': 'io.confluent.connect.http.HttpSinkConnector', 'http.api.url': 'https://api.example/v1/events' })).toEqual({ host: 'api.example', port: 443 });
  });

  it('reads a MongoDB URI given as connection.url', () => {
    expect(deriveEndpoint({ 'connection.url': 'mongodb://m.example:27018/db' })).toEqual({ host: 'm.example', port: 27018 });
  });
});

describe('MongoDB', () => {
  it.each([
    ['mongodb://user:p%40ss@m1.example:27018,m2.example:27019/db?replicaSet=rs0', 'm1.example', 27018],
    ['mongodb://m1.example/db', 'm1.example', 27017],
    ['mongodb://user:p@ss@m1.example', 'm1.example', 27017],
    ['mongodb://[::1]:27020', '::1', 27020],
  ])('connection.uri %s → %s:%i', (uri, host, port) => {
    expect(deriveEndpoint({ 'connector.class': 'com.mongodb.kafka.connect.MongoSinkConnector', 'connection.uri': uri })).toEqual({ host, port });
    expect(parseMongoUri(uri)).toEqual({ host, port });
  });

  it('reads Debezium mongodb.connection.string', () => {
    expect(deriveEndpoint({ 'connector.class': 'io.debezium.connector.mongodb.MongoDbConnector', 'mongodb.connection.string': 'mongodb://dbz:pw@mongo.example:27017/?replicaSet=rs0' })).toEqual({
      host: 'mongo.example',
      port: 27017,
    });
  });

  it('gives nothing for mongodb+srv (needs a DNS SRV lookup)', () => {
    expect(deriveEndpoint({ 'connection.uri': 'mongodb+srv://user:pw@cluster0.example.net/db' })).toBeUndefined();
  });

  it('keeps credentials out of the answer', () => {
    expect(JSON.stringify(parseMongoUri('mongodb://root:topsecret@m.example:27017'))).not.toMatch(/root|topsecret/);
  });

  it.each([
    ['rs0/mongo1:27017,mongo2:27017', 'mongo1', 27017],
    ['mongo3:27018', 'mongo3', 27018],
    ['mongo4', 'mongo4', 27017],
  ])('Debezium mongodb.hosts %s → %s:%i', (hosts, host, port) => {
    expect(parseMongoHosts(hosts)).toEqual({ host, port });
    expect(deriveEndpoint({ 'mongodb.hosts': hosts })).toEqual({ host, port });
  });
});

describe('parseHostPort and configs without an endpoint', () => {
  it.each([
    ['h', 5, { host: 'h', port: 5 }],
    ['h:6', 5, { host: 'h', port: 6 }],
    ['[::1]', 7, { host: '::1', port: 7 }],
    ['[::1]:8', 7, { host: '::1', port: 8 }],
    ['fe80::1', 9, { host: 'fe80::1', port: 9 }],
    ['h:', 5, { host: 'h', port: 5 }],
    ['h', undefined, undefined],
    ['h:0', 5, undefined],
    ['', 5, undefined],
    ['[::1', 5, undefined],
  ] as const)('%s (default %s)', (text, dflt, expected) => {
    expect(parseHostPort(text, dflt)).toEqual(expected);
  });

  it('FileStream connectors have no endpoint', () => {
    expect(deriveEndpoint({ 'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector', file: '/tmp/out.txt', topics: 't' })).toBeUndefined();
  });
});
