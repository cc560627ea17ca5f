import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { innermost, innermostFirst, parseChain } from '../../src/classify/chain.js';
import { classify, compileRules, createClassifier, MATCHED_LINE_MAX_CHARS, ROOT_CAUSE_MAX_CHARS, ruleNameOf } from '../../src/classify/classify.js';
import { BUILTIN_RULES, CLASS_HINTS } from '../../src/classify/rules.js';
import type { CustomRule } from '../../src/classify/types.js';

const T = '\t';
/** Join lines with \n (traces below are written line by line, tabs explicit). */
const lines = (...ls: string[]) => ls.join('\n');

describe('parseChain', () => {
  it('reads the headline, every Caused by, multi-line messages, frames and depths', () => {
    const chain = parseChain(
      lines(
        'org.apache.kafka.connect.errors.ConnectException: Non-retriable failure obtaining database encoding; failing task.',
        `${T}at io.debezium.connector.postgresql.PostgresConnectorTask.start(PostgresConnectorTask.java:120)`,
        `${T}at java.base/java.lang.Thread.run(Thread.java:840)`,
        'Caused by: io.debezium.DebeziumException: Couldn\'t obtain encoding for database shop',
        'second line of the message',
        `${T}at io.debezium.connector.postgresql.connection.PostgresConnection.getDatabaseCharset(PostgresConnection.java:645)`,
        `${T}... 13 more`,
        'Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "app"',
        `${T}at org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:837)`,
        `${T}... 14 more`,
      ),
    );
    expect(chain.links.map((l) => [l.type, l.depth, l.relation])).toEqual([
      ['org.apache.kafka.connect.errors.ConnectException', 0, 'headline'],
      ['io.debezium.DebeziumException', 1, 'cause'],
      ['org.postgresql.util.PSQLException', 2, 'cause'],
    ]);
    expect(chain.links[1]?.message).toBe("Couldn't obtain encoding for database shop\nsecond line of the message");
    expect(chain.links[1]?.simpleName).toBe('DebeziumException');
    expect(chain.links[0]?.frames).toHaveLength(2);
    expect(chain.links[1]?.frames).toHaveLength(1); // "... 13 more" is not a frame
    expect(innermost(chain)?.line).toBe('org.postgresql.util.PSQLException: FATAL: password authentication failed for user "app"');
    expect(chain.main.map((l) => l.index)).toEqual([0, 1, 2]);
  });

  it('reads Suppressed blocks (tab-indented, with their own nested Caused by) beside the main chain', () => {
    const chain = parseChain(
      lines(
        'java.io.IOException: write failed',
        `${T}at com.example.Sink.put(Sink.java:10)`,
        `${T}Suppressed: java.lang.IllegalStateException: close failed`,
        `${T}${T}at com.example.Sink.close(Sink.java:20)`,
        `${T}Caused by: java.net.SocketException: Broken pipe`,
        `${T}${T}at java.base/sun.nio.ch.NioSocketImpl.write(NioSocketImpl.java:1)`,
        `${T}${T}... 3 more`,
        `${T}${T}Suppressed: java.lang.RuntimeException: nested suppressed`,
        `${T}${T}${T}at com.example.Deep.x(Deep.java:1)`,
        'Caused by: java.nio.file.NoSuchFileException: /data/out.txt',
        `${T}at java.base/sun.nio.fs.UnixException.translateToIOException(UnixException.java:92)`,
      ),
    );
    const byType = Object.fromEntries(chain.links.map((l) => [l.simpleName, l]));
    expect(byType.IllegalStateException).toMatchObject({ relation: 'suppressed', parent: 0, depth: 1 });
    expect(byType.SocketException).toMatchObject({ relation: 'cause', parent: byType.IllegalStateException?.index, depth: 2 });
    expect(byType.RuntimeException).toMatchObject({ relation: 'suppressed', parent: byType.SocketException?.index, depth: 3 });
    expect(byType.NoSuchFileException).toMatchObject({ relation: 'cause', parent: 0, depth: 1 });
    // The main chain is headline -> Caused by, not through the suppressed branch.
    expect(chain.main.map((l) => l.simpleName)).toEqual(['IOException', 'NoSuchFileException']);
    // Weighing order: main chain innermost first, then the side branches.
    expect(innermostFirst(chain).map((l) => l.simpleName).slice(0, 2)).toEqual(['NoSuchFileException', 'IOException']);
  });

  it('reads one-line nesting "Type: Type: msg" as a chain, but not host names as types', () => {
    const chain = parseChain(
      'org.apache.kafka.connect.errors.ConnectException: java.sql.SQLRecoverableException: IO Error: Connection reset by peer, Authentication lapse 196586 ms.',
    );
    expect(chain.main.map((l) => l.type)).toEqual([
      'org.apache.kafka.connect.errors.ConnectException',
      'java.sql.SQLRecoverableException',
    ]);
    expect(chain.main[1]).toMatchObject({ inline: true, depth: 1, message: 'IO Error: Connection reset by peer, Authentication lapse 196586 ms.' });

    const host = parseChain('Caused by: java.net.UnknownHostException: pgrunner.blob.core.windows.net: Name or service not known');
    expect(host.links).toHaveLength(1);
    expect(host.links[0]?.message).toBe('pgrunner.blob.core.windows.net: Name or service not known');
  });

  it('prefers an explicit Caused by over the inline copy of the same cause', () => {
    const chain = parseChain(
      lines(
        'org.apache.kafka.connect.errors.ConnectException: java.net.SocketTimeoutException: Read timed out',
        `${T}at a.B.c(B.java:1)`,
        'Caused by: java.net.SocketTimeoutException: Read timed out',
        `${T}at java.base/java.net.SocketInputStream.read(SocketInputStream.java:1)`,
      ),
    );
    expect(chain.main.map((l) => [l.simpleName, l.inline])).toEqual([
      ['ConnectException', false],
      ['SocketTimeoutException', false],
    ]);
  });

  it('tolerates Windows newlines, no at lines, a cut "Caused by", log text before the headline and undecoded JSON escapes', () => {
    const crlf = parseChain('org.apache.kafka.connect.errors.DataException: bad\r\n\tat x.Y.z(Y.java:1)\r\nCaused by: java.io.EOFException\r\n');
    expect(crlf.main.map((l) => l.line)).toEqual(['org.apache.kafka.connect.errors.DataException: bad', 'java.io.EOFException']);

    const noFrames = parseChain('Caused by: a.B: one\nCaused by: c.DException: two');
    expect(noFrames.main.map((l) => l.type)).toEqual(['a.B', 'c.DException']);

    const cut = parseChain('org.apache.kafka.connect.errors.ConnectException: Exiting\nat x.Y.z(Y.java:1)\nused by: java.lang.ClassCastException: java.util.HashMap cannot be cast to org.apache.kafka.connect.data.Struct');
    expect(innermost(cut)?.type).toBe('java.lang.ClassCastException');

    const logged = parseChain('[2017-06-03 13:44:41,895] ERROR Task threw (org.apache.kafka.connect.runtime.WorkerTask:142)\norg.apache.kafka.connect.errors.DataException: topic-x\n\tat a.B.c(B.java:1)');
    expect(logged.links[0]?.type).toBe('org.apache.kafka.connect.errors.DataException');

    const atLeast = parseChain('com.example.SchemaException: table must have\nat least one column\n\tat a.B.c(B.java:1)');
    expect(atLeast.links[0]?.message).toBe('table must have\nat least one column');
    expect(atLeast.links[0]?.frames).toEqual(['a.B.c(B.java:1)']);

    const escaped = parseChain(String.raw`org.apache.kafka.connect.errors.ConnectException: Exiting\n\tat a.B.c(B.java:1)\nCaused by: java.net.ConnectException: Connection refused\n\tat d.E.f(E.java:2)`);
    expect(escaped.main.map((l) => l.simpleName)).toEqual(['ConnectException', 'ConnectException']);
    expect(innermost(escaped)?.type).toBe('java.net.ConnectException');
  });

  it('returns an empty chain for empty input and one untyped link for text without an exception', () => {
    expect(parseChain('').links).toEqual([]);
    expect(parseChain('   \n\t\n').links).toEqual([]);
    const garbage = parseChain('something went wrong\nplease retry');
    expect(garbage.links).toHaveLength(1);
    expect(garbage.links[0]).toMatchObject({ type: '', line: 'something went wrong', message: 'something went wrong\nplease retry' });
  });
});

describe('classify: built-in rules', () => {
  it('weighs the chain innermost-first: the innermost cause a rule recognises decides', () => {
    const unreachableRegistry = classify(
      lines(
        'org.apache.kafka.connect.errors.DataException: Failed to deserialize data for topic t to Avro:',
        `${T}at io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:148)`,
        'Caused by: org.apache.kafka.common.errors.SerializationException: Error retrieving Avro schema for id 3',
        'Caused by: java.net.SocketTimeoutException: Read timed out',
        `${T}at java.base/java.net.SocketInputStream.socketRead0(Native Method)`,
      ),
    );
    expect(unreachableRegistry.class).toBe('connection');
    expect(ruleNameOf(unreachableRegistry)).toBe('socket-timeout');

    const missingSubject = classify(
      lines(
        'org.apache.kafka.connect.errors.DataException: Failed to deserialize data for topic t to Avro:',
        'Caused by: org.apache.kafka.common.errors.SerializationException: Error retrieving Avro schema for id 3',
        'Caused by: io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException: Subject not found.; error code: 40401',
      ),
    );
    expect(missingSubject.class).toBe('serialization');
    expect(ruleNameOf(missingSubject)).toBe('schema-registry-subject-not-found');

    // An unrecognised innermost cause does not stop the walk: the next link outwards decides.
    const truncated = classify('org.apache.kafka.connect.errors.DataException: x\nCaused by: org.apache.kafka.common.errors.SerializationException: Error retrieving Avro schema for id 4511\nCaused by: io.confluent.kafk');
    expect(truncated.class).toBe('serialization');
  });

  it('classes authentication and permission failures as config even when worded or wrapped as connection failures', () => {
    const wrapped = classify(
      lines(
        'io.debezium.DebeziumException: Unexpected error while connecting to MySQL and looking at BINLOG_FORMAT mode: ',
        `${T}at io.debezium.connector.mysql.MySqlConnection.isBinlogFormatRow(MySqlConnection.java:385)`,
        "Caused by: java.sql.SQLException: Access denied for user 'app'@'10.0.0.1' (using password: YES)",
      ),
    );
    expect(wrapped.class).toBe('config');
    expect(ruleNameOf(wrapped)).toBe('mysql-access-denied');

    const worded = classify(
      'org.apache.kafka.connect.errors.ConnectException: java.sql.SQLException: [Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to server. Reason: HTTP Response code: 403, Error message: Unknown.',
    );
    expect(worded.class).toBe('config');

    // The auth failure wins even over a connection-looking innermost cause.
    const authOverEof = classify(
      'org.postgresql.util.PSQLException: FATAL: password authentication failed for user "app"\nCaused by: java.io.EOFException',
    );
    expect(authOverEof.class).toBe('config');

    const sasl = classify(
      lines(
        "org.apache.kafka.connect.errors.ConnectException: Failed to connect to and describe Kafka cluster. Check worker's broker connection and security properties.",
        'Caused by: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      ),
    );
    expect(sasl.class).toBe('config');
    expect(ruleNameOf(sasl)).toBe('kafka-sasl-authentication');
  });

  it.each([
    // MongoDB: error 13 (Unauthorized) and 18 (AuthenticationFailed), the latter even inside a server-selection timeout
    ['mongodb-auth', 'config', "com.mongodb.MongoCommandException: Command failed with error 13 (Unauthorized): 'not authorized on config to execute command { find: \"shards\" }' on server mongo:27017"],
    ['mongodb-auth', 'config', "com.mongodb.MongoTimeoutException: Timed out after 30000 ms while waiting for a server. Client view of cluster state is {servers=[{address=mongo:27017, exception={com.mongodb.MongoSecurityException: Exception authenticating MongoCredential{mechanism=SCRAM-SHA-256, userName='app'}}, caused by {com.mongodb.MongoCommandException: Command failed with error 18 (AuthenticationFailed): 'Authentication failed.'}}]"],
    ['permission-denied', 'config', 'com.google.api.gax.rpc.PermissionDeniedException: io.grpc.StatusRuntimeException: PERMISSION_DENIED: User not authorized to perform this action.'],
    // a 403 that is a full disk, not a permission: the hint must say disk
    ['elasticsearch-index-read-only', 'config', 'org.elasticsearch.client.ResponseException: method [POST], host [http://es:9200], URI [/_bulk], status line [HTTP/1.1 403 Forbidden]\n{"error":{"root_cause":[{"type":"cluster_block_exception","reason":"index [orders] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];"}],"status":403}'],
    // the source offset points at a log the database no longer has: every restart reads it again
    ['debezium-offset-no-longer-available', 'config', 'com.github.shyiko.mysql.binlog.network.ServerException: Could not find first log file name in binary log index file'],
    ['debezium-offset-no-longer-available', 'config', 'io.debezium.DebeziumException: Online REDO LOG files or archive log files do not contain the offset scn 1339160. Please perform a new snapshot.'],
    ['debezium-offset-no-longer-available', 'config', 'org.postgresql.util.PSQLException: ERROR: requested WAL segment 00000001000000000000000A has already been removed'],
    // a permanent SQL error inside Connect's RetriableException is still config
    ['jdbc-sql-syntax', 'config', 'org.apache.kafka.connect.errors.RetriableException: java.sql.SQLException: java.sql.BatchUpdateException: Batch entry 0 INSERT INTO "t" ("id") VALUES (1) ON CONFLICT ("id") DO UPDATE SET  was aborted: ERROR: syntax error at end of input'],
    // Schema Registry's own 5xx (error code 500xx) is its server failing, not a bad record
    ['http-server-error', 'connection', 'org.apache.kafka.common.errors.SerializationException: Error registering Avro schema\nCaused by: io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException: Error while forwarding register schema request to the master; error code: 50003'],
    // a batch expired by the producer during a broker outage decides before the send-callback wrapper
    ['kafka-producer-batch-expired', 'connection', 'org.apache.kafka.connect.errors.ConnectException: Unrecoverable exception from producer send callback\nCaused by: org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for orders-0:120001 ms has passed since batch creation'],
  ])('%s: %s', (rule, cls, trace) => {
    const c = classify(trace);
    expect([ruleNameOf(c), c.class]).toEqual([rule, cls]);
  });

  it('does not take a cluster block of a starting Elasticsearch for a read-only index', () => {
    const c = classify('org.elasticsearch.client.ResponseException: status line [HTTP/1.1 503 Service Unavailable]\n{"error":{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},"status":503}');
    expect(c.class).toBe('connection');
  });

  it('does not class 501 Not Implemented or 505 as a transient server error: the same request fails the same way', () => {
    for (const status of [501, 505]) {
      const c = classify(`software.amazon.awssdk.services.s3.model.S3Exception: A header you provided implies functionality that is not implemented (Service: S3, Status Code: ${status}, Request ID: X)`);
      expect(c.class).not.toBe('connection');
    }
    expect(classify('software.amazon.awssdk.services.s3.model.S3Exception: We encountered an internal error (Service: S3, Status Code: 500, Request ID: X)').class).toBe('connection');
  });

  it('does not mistake Oracle\'s "Authentication lapse" timing note for an authentication failure', () => {
    const c = classify('org.apache.kafka.connect.errors.ConnectException: java.sql.SQLRecoverableException: IO Error: Connection reset by peer, Authentication lapse 196586 ms.');
    expect(c.class).toBe('connection');
  });

  it('classes a ConnectException wrapping a SerializationException or DataException as serialization', () => {
    expect(classify('org.apache.kafka.connect.errors.ConnectException: org.apache.kafka.common.errors.SerializationException: Unknown magic byte!').class).toBe('serialization');
    const dataInside = classify(
      lines(
        'org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler',
        `${T}at org.apache.kafka.connect.runtime.errors.RetryWithToleranceOperator.execAndHandleError(RetryWithToleranceOperator.java:259)`,
        'Caused by: org.apache.kafka.connect.errors.DataException: Struct schemas do not match.',
        `${T}at org.apache.kafka.connect.data.ConnectSchema.validateValue(ConnectSchema.java:252)`,
      ),
    );
    expect(dataInside.class).toBe('serialization');
    expect(ruleNameOf(dataInside)).toBe('connect-data-exception');
  });

  it('lets generic wrappers decide nothing by themselves', () => {
    const producer = 'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.';
    const bare = classify(`${producer}\n${T}at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)`);
    expect(bare.class).toBe('unknown');
    expect(bare.rule).toMatch(/^no-rule-matched: the chain holds only generic wrappers/);

    expect(classify(`${producer}\nCaused by: java.io.EOFException`).class).toBe('connection');
    expect(classify(`${producer}\nCaused by: org.postgresql.util.PSQLException: ERROR: publication "dbz" does not exist`).class).toBe('config');
    expect(classify('org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\nCaused by: java.lang.NullPointerException').class).toBe('unknown');

    // "Tolerance exceeded" with a cause: the cause decides.
    expect(classify('org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\nCaused by: java.net.ConnectException: Connection refused').class).toBe('connection');
  });

  it('falls back: bare Retriable/Timeout exceptions are connection, a bare "Tolerance exceeded" is serialization', () => {
    expect(classify('org.apache.kafka.connect.errors.RetriableException: something odd').class).toBe('connection');
    expect(classify('org.apache.kafka.common.errors.TimeoutException: Expiring 3 record(s) for t-0').class).toBe('connection');
    // ...but only when nothing more specific is in the chain.
    expect(classify('org.apache.kafka.connect.errors.RetriableException: x\nCaused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "a"').class).toBe('config');
    expect(classify('org.apache.kafka.connect.errors.RetriableException: x\nCaused by: java.lang.ClassNotFoundException: com.example.Missing').class).toBe('config');

    const tolerance = classify('org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\tat org.apache.kafka.connect.runtime.WorkerSourceTask.convertTransformedRecord(WorkerSourceTask.java:314)');
    expect(tolerance.class).toBe('serialization');
    expect(ruleNameOf(tolerance)).toBe('connect-error-handler-exhausted');
  });

  it('decides the ambiguous causes as documented', () => {
    const dns = classify('org.apache.kafka.connect.errors.ConnectException: x\nCaused by: java.net.UnknownHostException: postgres.db.svc.cluster.local');
    expect(dns.class).toBe('connection');
    expect(dns.rule).toMatch(/^unknown-host: .*under the default heal.actions.connection \(restart\) is paged once restarts did not fix it/);

    const slotActive = classify('org.postgresql.util.PSQLException: ERROR: replication slot "debezium" is active for PID 974');
    expect(slotActive.class).toBe('connection');
    expect(classify('org.postgresql.util.PSQLException: ERROR: replication slot "debezium" already exists').class).toBe('config');

    const tooLarge = classify('org.apache.kafka.common.errors.RecordTooLargeException: The message is 7222162 bytes when serialized which is larger than 1048576, which is the value of the max.request.size configuration.');
    expect(tooLarge.class).toBe('config');

    expect(classify('org.apache.kafka.connect.errors.ConnectException: Unrecoverable exception from producer send callback').class).toBe('config');
    expect(classify('java.lang.OutOfMemoryError: Java heap space').class).toBe('unknown');
  });

  it('tells certificate problems (config) from handshakes cut by the network (connection)', () => {
    expect(classify('org.apache.kafka.common.errors.SslAuthenticationException: SSL handshake failed\nCaused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target').class).toBe('config');
    expect(classify('org.apache.kafka.common.errors.SslAuthenticationException: SSL handshake failed\nCaused by: javax.net.ssl.SSLHandshakeException: Remote host terminated the handshake\nCaused by: java.io.EOFException: SSL peer shut down incorrectly').class).toBe('connection');
    // TLS spoken to a plaintext port: the protocol setting is wrong, not the network.
    expect(classify('javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?').class).toBe('config');
  });

  it('knows the common database, plugin and file-system failures', () => {
    const cases: [string, string][] = [
      ['org.postgresql.util.PSQLException: Connection to db:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.', 'connection'],
      ['org.postgresql.util.PSQLException: ERROR: permission denied for table orders', 'config'],
      ['org.postgresql.util.PSQLException: ERROR: relation "public.orders" does not exist', 'config'],
      ['com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure', 'connection'],
      ["java.sql.SQLSyntaxErrorException: Unknown database 'inventory'", 'config'],
      ["com.microsoft.sqlserver.jdbc.SQLServerException: Login failed for user 'sa'. ClientConnectionId:1", 'config'],
      ['com.microsoft.sqlserver.jdbc.SQLServerException: The TCP/IP connection to the host mssql, port 1433 has failed. Error: "Connection refused".', 'connection'],
      ['org.apache.kafka.connect.errors.ConnectException: The db history topic is missing. You may attempt to recover it by reconfiguring the connector to SCHEMA_ONLY_RECOVERY', 'config'],
      ['java.lang.ClassNotFoundException: io.confluent.connect.avro.AvroConverter', 'config'],
      ['java.lang.NoClassDefFoundError: org/apache/avro/Schema', 'config'],
      ['java.nio.file.AccessDeniedException: /var/lib/out.txt', 'config'],
      ['org.apache.http.NoHttpResponseException: es:9200 failed to respond', 'connection'],
      ['org.elasticsearch.client.ResponseException: method [POST], host [http://es:9200], URI [/_bulk], status line [HTTP/1.1 503 Service Unavailable]', 'connection'],
      ['org.elasticsearch.client.ResponseException: method [POST], host [http://es:9200], URI [/_bulk], status line [HTTP/1.1 401 Unauthorized]', 'config'],
      ['java.net.SocketException: Connection reset', 'connection'],
      ['java.net.NoRouteToHostException: No route to host (Host unreachable)', 'connection'],
      ['org.apache.kafka.connect.errors.DataException: JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.', 'serialization'],
    ];
    for (const [trace, expected] of cases) expect(classify(trace).class, trace).toBe(expected);
  });

  it('classes a connector failed for generating more tasks than tasks.max (KIP-1004, Connect 3.8+) as config', () => {
    // Kafka 4.3.1, a connector that ignores maxTasks: its tasks.max lowered below what it generates
    // (test/fixtures/traces/real-worker-life.jsonl). A restart generates the same task configs again.
    const trace =
      'org.apache.kafka.connect.runtime.TooManyTasksException: The connector fl-many has generated 3 tasks, which is greater than 2, the maximum number of tasks it is configured to create. This behaviour should be considered a bug and is disallowed. If necessary, it can be permitted by reconfiguring the connector with \'tasks.max.enforce\' set to false; however, this option will be removed in a future release of Kafka Connect.\n' +
      '\tat org.apache.kafka.connect.runtime.Worker.checkTasksMax(Worker.java:441)\n';
    expect(classify(trace)).toMatchObject({ class: 'config', rule: expect.stringContaining('connect-too-many-tasks') });
  });

  it('classes topics Kafka refuses to create or that do not exist as config (Kafka 4.3.1 traces)', () => {
    // test/fixtures/traces/real-worker-topics.jsonl: topic.creation.default.replication.factor=3 on one
    // broker, and a source whose topic does not exist with auto.create.topics.enable=false.
    const replication =
      "org.apache.kafka.connect.errors.ConnectException: Unable to create topic(s) 'rf-topic': Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.\n" +
      '\tat org.apache.kafka.connect.util.TopicAdmin.createOrFindTopics(TopicAdmin.java:444)\n' +
      'Caused by: org.apache.kafka.common.errors.InvalidReplicationFactorException: Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.\n';
    expect(classify(replication)).toMatchObject({ class: 'config', rule: expect.stringContaining('kafka-replication-factor') });
    expect(classify(replication).hint).toContain('topic.creation.default.replication.factor');
    const deadLetterTopic =
      'org.apache.kafka.connect.errors.ConnectException: Could not initialize dead letter queue with topic=dlq-topic\n' +
      '\tat org.apache.kafka.connect.runtime.errors.DeadLetterQueueReporter.createAndSetup(DeadLetterQueueReporter.java:93)\n' +
      'Caused by: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.InvalidReplicationFactorException: Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.\n' +
      'Caused by: org.apache.kafka.common.errors.InvalidReplicationFactorException: Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered or some brokers have all their log directories cordoned.\n';
    expect(classify(deadLetterTopic)).toMatchObject({ class: 'config', rule: expect.stringContaining('kafka-replication-factor') });
    expect(classify(deadLetterTopic).hint).toContain('errors.deadletterqueue.topic.replication.factor');
    const partitions =
      'org.apache.kafka.connect.errors.ConnectException: Unable to create topic(s) \'t\'\nCaused by: org.apache.kafka.common.errors.InvalidPartitionsException: Number of partitions must be larger than 0.\n';
    expect(classify(partitions)).toMatchObject({ class: 'config', rule: expect.stringContaining('kafka-config-exception') });
    const missingTopic =
      'org.apache.kafka.connect.errors.ConnectException: Unrecoverable exception from producer send callback\n' +
      '\tat org.apache.kafka.connect.runtime.WorkerSourceTask.maybeThrowProducerSendException(WorkerSourceTask.java:348)\n' +
      'Caused by: org.apache.kafka.common.errors.TimeoutException: Topic missing-topic not present in metadata after 10000 ms.\n' +
      'Caused by: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n';
    expect(classify(missingTopic)).toMatchObject({ class: 'config' });
    // Without the UnknownTopicOrPartitionException the broker did not answer: the same timeout is connection.
    const unanswered = missingTopic.slice(0, missingTopic.indexOf('Caused by: org.apache.kafka.common.errors.UnknownTopicOrPartitionException'));
    expect(classify(unanswered)).toMatchObject({ class: 'connection', rule: expect.stringContaining('kafka-broker-unavailable') });
  });

  it('classes a publication dropped under a live pgoutput slot as config with its own advice, a missing one as a missing object', () => {
    // Debezium PostgreSQL 3.7.0 on Kafka 4.3.1 (test/fixtures/traces/real-worker-postgres.jsonl): DROP PUBLICATION
    // under a streaming connector. Re-creating the publication did not heal it: the restart failed at the same LSN.
    const dropped = lines(
      'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.',
      `${T}at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)`,
      'Caused by: org.postgresql.util.PSQLException: ERROR: publication "e2e_hpg_pub4a" does not exist',
      '  Where: slot "e2e_hpg_pubdrop0", output plugin "pgoutput", in the change callback, associated LSN 0/21B0588',
      `${T}at org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2993)`,
    );
    const c = classify(dropped);
    expect(c).toMatchObject({ class: 'config', rule: expect.stringMatching(/^pgoutput-publication-missing: /) });
    expect(c.hint).toContain('slot.name');
    // Without the walsender's context it is a name that does not exist, nothing about a slot.
    expect(classify('org.postgresql.util.PSQLException: ERROR: publication "p" does not exist')).toMatchObject({
      class: 'config',
      rule: expect.stringMatching(/^postgres-undefined-object: /),
    });
  });

  it('classes no free replication slot as config with advice on max_replication_slots, a slot name clash as a clash', () => {
    // Debezium PostgreSQL 3.7.0 on Kafka 4.3.1 (test/fixtures/traces/real-worker-postgres.jsonl): a new connector when
    // the 10 slots of max_replication_slots were held by inactive slots.
    const exhausted = lines(
      'io.debezium.DebeziumException: Creation of replication slot failed',
      `${T}at io.debezium.connector.postgresql.PostgresConnectorTask.tryToCreateSlot(PostgresConnectorTask.java:329)`,
      'Caused by: org.postgresql.util.PSQLException: ERROR: all replication slots are in use',
      '  Hint: Free one or increase max_replication_slots.',
      `${T}... 13 more`,
    );
    const c = classify(exhausted);
    expect(c).toMatchObject({ class: 'config', rule: expect.stringMatching(/^postgres-replication-slots-exhausted: /) });
    expect(c.hint).toContain('max_replication_slots');
    expect(classify('org.postgresql.util.PSQLException: ERROR: replication slot "s" already exists')).toMatchObject({
      class: 'config',
      rule: expect.stringMatching(/^debezium-replication-slot-conflict: /),
    });
  });

  it('classes a MySQL/MariaDB account lacking a privilege (error 1227) and a server without binlog as config', () => {
    // Debezium MariaDB 3.5.0 on Kafka 4.3.1 (test/fixtures/traces/real-worker-mysql-jdbc.jsonl): REPLICATION SLAVE
    // revoked, then the task restarted: the binlog client's ServerException, no type a rule knows.
    const noReplication = lines(
      'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.',
      `${T}at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)`,
      'Caused by: io.debezium.DebeziumException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation Error code: 1227; SQLSTATE: 42000.',
      `${T}... 6 more`,
      'Caused by: com.github.shyiko.mysql.binlog.network.ServerException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation',
      `${T}at com.github.shyiko.mysql.binlog.BinaryLogClient.listenForEventPackets(BinaryLogClient.java:1132)`,
    );
    expect(classify(noReplication)).toMatchObject({ class: 'config', rule: expect.stringContaining('mysql-access-denied') });
    // Without BINLOG MONITOR the MariaDB driver words it as a SQLSyntaxErrorException (SQLSTATE 42000): a grant to
    // add, not a query to fix.
    const noBinlogMonitor =
      'java.sql.SQLSyntaxErrorException: (conn=9) Access denied; you need (at least one of) the SUPER, BINLOG MONITOR privilege(s) for this operation';
    expect(classify(noBinlogMonitor)).toMatchObject({ class: 'config', rule: expect.stringContaining('mysql-access-denied') });
    // log_bin off (binlog_format=ROW set alone): SHOW MASTER STATUS answers no row.
    const binlogOff = lines(
      "Caused by: io.debezium.DebeziumException: io.debezium.DebeziumException: Cannot read the binlog filename and position via 'SHOW MASTER STATUS'. Make sure your server is correctly configured",
      `${T}at io.debezium.pipeline.source.AbstractSnapshotChangeEventSource.execute(AbstractSnapshotChangeEventSource.java:111)`,
      "Caused by: io.debezium.DebeziumException: Cannot read the binlog filename and position via 'SHOW MASTER STATUS'. Make sure your server is correctly configured",
    );
    expect(classify(binlogOff)).toMatchObject({ class: 'config', rule: expect.stringContaining('database-server-settings') });
  });

  it('classes the Debezium JDBC sink\'s write failures: a value the column refuses, a duplicate key, a missing table', () => {
    // Debezium JDBC sink 3.6.0 on Kafka 4.3.1 (test/fixtures/traces/real-worker-mysql-jdbc.jsonl), innermost causes.
    const cases: [string, string, string][] = [
      ['org.postgresql.util.PSQLException: ERROR: column "qty" is of type integer but expression is of type character varying\n  Hint: You will need to rewrite or cast the expression.\n  Position: 65', 'serialization', 'jdbc-column-type-mismatch'],
      // SQLSTATE 22007, thrown as a SQLSyntaxErrorException by MariaDB's driver: not jdbc-sql-syntax.
      ["java.sql.SQLSyntaxErrorException: (conn=27) Incorrect integer value: 'many' for column `tr_sinkdb`.`tr_sink_type`.`qty` at row 1", 'serialization', 'jdbc-column-type-mismatch'],
      ['org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "tr_sink_pk_pkey"\n  Detail: Key (id)=(1) already exists.', 'config', 'jdbc-unique-violation'],
      ["java.sql.SQLIntegrityConstraintViolationException: (conn=33) Duplicate entry '1' for key 'PRIMARY'", 'config', 'jdbc-unique-violation'],
      ['java.sql.SQLException: Could not find table: tr_sink_notable', 'config', 'jdbc-object-missing'],
    ];
    for (const [trace, expected, rule] of cases) expect(classify(trace), trace).toMatchObject({ class: expected, rule: expect.stringContaining(rule) });
    // A real SQL syntax error is still one.
    expect(classify('java.sql.SQLSyntaxErrorException: You have an error in your SQL syntax; check the manual near \'FROM\' at line 1')).toMatchObject({ class: 'config', rule: expect.stringContaining('jdbc-sql-syntax') });
  });

  it('classes a sink\'s NullPointerException on a Connect Struct (schemaless records) as serialization, other NPEs not', () => {
    // Debezium JDBC sink 3.6.0, topic of plain JSON read with value.converter.schemas.enable=false.
    const schemaless = lines(
      'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.',
      'Caused by: org.apache.kafka.connect.errors.ConnectException: JDBC sink connector failure',
      `${T}at io.debezium.connector.jdbc.JdbcSinkConnectorTask.put(JdbcSinkConnectorTask.java:155)`,
      'Caused by: java.lang.NullPointerException: Cannot invoke "org.apache.kafka.connect.data.Struct.schema()" because "data" is null',
      `${T}at io.debezium.bindings.kafka.KafkaDebeziumSinkRecord.filterFields(KafkaDebeziumSinkRecord.java:302)`,
    );
    expect(classify(schemaless)).toMatchObject({ class: 'serialization', rule: expect.stringContaining('connect-struct-null') });
    expect(classify('java.lang.NullPointerException: Cannot invoke "java.util.Map.get(Object)" because "cfg" is null').class).toBe('unknown');
    // The message alone, under another type, is no NPE on a Struct.
    expect(classify('java.lang.IllegalStateException: Cannot invoke "org.apache.kafka.connect.data.Struct.schema()" twice').class).toBe('unknown');
  });

  it('keeps the Debezium JDBC sink\'s "Unable to determine Dialect" unknown, with a hint to the worker log', () => {
    // Byte-identical on the real worker for a refused connection, an unknown PostgreSQL role and a wrong
    // MariaDB password: Hibernate drops the cause. Neither connection nor config may be read into it.
    const trace = lines(
      "org.hibernate.service.spi.ServiceException: Unable to create requested service [org.hibernate.engine.jdbc.env.spi.JdbcEnvironment] due to: Unable to determine Dialect without JDBC metadata (please set 'jakarta.persistence.jdbc.url' for common cases or 'hibernate.dialect' when a custom Dialect implementation must be provided)",
      `${T}at io.debezium.connector.jdbc.JdbcSinkConnectorTask.start(JdbcSinkConnectorTask.java:128)`,
      "Caused by: org.hibernate.HibernateException: Unable to determine Dialect without JDBC metadata (please set 'jakarta.persistence.jdbc.url' for common cases or 'hibernate.dialect' when a custom Dialect implementation must be provided)",
      `${T}at org.hibernate.engine.jdbc.dialect.internal.DialectFactoryImpl.determineDialect(DialectFactoryImpl.java:190)`,
    );
    const c = classify(trace);
    expect(c).toMatchObject({ class: 'unknown', rule: expect.stringContaining('hibernate-no-jdbc-metadata') });
    expect(c.hint).toContain('HHH100046');
    // With hibernate.dialect set, the same refused connection reaches the trace and decides.
    expect(
      classify(
        lines(
          'org.hibernate.service.spi.ServiceException: Unable to create requested service [org.hibernate.engine.jdbc.env.spi.JdbcEnvironment] due to: Could not create connection',
          'Caused by: org.hibernate.exception.JDBCConnectionException: Could not create connection',
          'Caused by: org.postgresql.util.PSQLException: Connection to 127.0.0.1:5999 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.',
          'Caused by: java.net.ConnectException: Connection refused',
        ),
      ).class,
    ).toBe('connection');
  });
});

describe('classify: rules from the held-out probe of 2026-12-05 (probe2)', () => {
  it('classes the MongoDB driver\'s socket failures as connection, its timeout around an authentication failure as config', () => {
    // EthVM/EthVM#226 (a MongoDB sink), cut.
    const cut = lines(
      'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.',
      `${T}at org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:586)`,
      'Caused by: com.mongodb.MongoSocketReadException: Prematurely reached end of stream',
      `${T}at com.mongodb.internal.connection.SocketStream.read(SocketStream.java:112)`,
    );
    expect(classify(cut)).toMatchObject({ class: 'connection', rule: expect.stringContaining('mongodb-network') });
    expect(classify('com.mongodb.MongoSocketOpenException: Exception opening socket').class).toBe('connection');
    expect(classify('com.mongodb.MongoSocketReadTimeoutException: Timeout while receiving message').class).toBe('connection');
    // RADAR-base/MongoDb-Sink-Connector#12: a server-selection timeout whose cluster view holds error 18.
    const auth =
      "com.mongodb.MongoTimeoutException: Timed out after 30000 ms while waiting for a server that matches ReadPreferenceServerSelector{readPreference=primary}. Client view of cluster state is {type=UNKNOWN, servers=[{address=hotstorage:27017, type=UNKNOWN, state=CONNECTING, exception={com.mongodb.MongoSecurityException: Exception authenticating MongoCredential{mechanism=null, userName='restapi', source='hotstorage', password=<hidden>, mechanismProperties={}}}, caused by {com.mongodb.MongoCommandException: Command failed with error 18: 'Authentication failed.' on server hotstorage:27017.}}]";
    expect(classify(auth)).toMatchObject({ class: 'config', rule: expect.stringContaining('mongodb-auth') });
  });

  it('classes the S3 sink\'s failed multipart upload as connection, unless the chain shows a credentials or permission cause', () => {
    // confluentinc/kafka-connect-storage-cloud#235: S3OutputStream wraps the S3 call's failure in a DataException.
    const upload = lines(
      'org.apache.kafka.connect.errors.DataException: Multipart upload failed to complete.',
      `${T}at io.confluent.connect.s3.storage.S3OutputStream.commit(S3OutputStream.java:159)`,
      `${T}at io.confluent.connect.s3.TopicPartitionWriter.commitFile(TopicPartitionWriter.java:503)`,
    );
    expect(classify(upload)).toMatchObject({ class: 'connection', rule: expect.stringContaining('s3-multipart-upload') });
    const denied = lines(
      upload,
      'Caused by: com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 21722BC29BCED4A8)',
    );
    expect(classify(denied).class).toBe('config');
    // Any other DataException is still a record that could not be converted.
    expect(classify('org.apache.kafka.connect.errors.DataException: Failed to deserialize data to Avro:').class).toBe('serialization');
  });

  it('classes the Snowflake connector\'s configuration error codes as config, not its record or registry codes', () => {
    // snowflakedb/snowflake-kafka-connector#133 (a status trace whose \n stayed escaped) and #1089 (no prefix).
    const key0018 =
      'com.snowflake.kafka.connector.internal.SnowflakeKafkaConnectorException: \\n[SF_KAFKA_CONNECTOR] Exception: Invalid encrypted private key or passphrase\\n[SF_KAFKA_CONNECTOR] Error Code: 0018\\n[SF_KAFKA_CONNECTOR] Detail: failed to decrypt private key.';
    expect(classify(key0018)).toMatchObject({ class: 'config', rule: expect.stringContaining('snowflake-connector-config') });
    const key0002 = lines(
      'Exception: Invalid private key',
      'Error Code: 0002',
      'Detail: private key should be a valid PEM RSA private key',
    );
    expect(classify(key0002).class).toBe('config');
    // 0010 is a record the connector cannot parse, 5014 an internal error: not configuration.
    const record0010 = lines(
      'com.snowflake.kafka.connector.internal.SnowflakeKafkaConnectorException:',
      '[SF_KAFKA_CONNECTOR] Exception: Invalid input record',
      '[SF_KAFKA_CONNECTOR] Error Code: 0010',
      "[SF_KAFKA_CONNECTOR] Detail: Input record value can't be parsed",
    );
    expect(classify(record0010).class).not.toBe('config');
    expect(classify(record0010.replace('0010', '5014')).class).not.toBe('config');
    // Another product's "Error Code: 0002" without Snowflake's Detail line is not read as Snowflake's.
    expect(classify('com.example.ClientException: request rejected, Error Code: 0002').class).toBe('unknown');
  });

  it('classes the JDBC sink\'s missing table with auto.create=false as config, but not a table missing fields', () => {
    // confluentinc/kafka-connect-jdbc#899.
    const missing = lines(
      'org.apache.kafka.connect.errors.ConnectException: Table full.test.ccc-smt is missing and auto-creation is disabled',
      `${T}at io.confluent.connect.jdbc.sink.DbStructure.create(DbStructure.java:87)`,
    );
    expect(classify(missing)).toMatchObject({ class: 'config', rule: expect.stringContaining('jdbc-object-missing') });
    // kafka-connect-jdbc#1193: columns added to the table by hand, the sink's cached table definition stale;
    // a restart re-reads it, so this must not be read as configuration.
    const fields =
      'io.confluent.connect.jdbc.sink.TableAlterOrCreateException: Table "purchase_item" is missing fields ([SinkRecordField{schema=Schema{BOOLEAN}, name=\'void\', isPrimaryKey=false}]) and auto-evolution is disabled';
    expect(classify(fields).class).toBe('unknown');
  });
});

describe('classify: rules from the held-out probe of 2026-12-05 (probe3)', () => {
  it('classes Snowflake\'s invalid key-pair JWT as config, although the connector words it as a connection issue', () => {
    // vdesabou/kafka-docker-playground#8726: error code 1001 "Snowflake connection issue" around the JWT refusal.
    const jwt = lines(
      '[2026-07-31 19:19:26,468] ERROR [SF_KAFKA_CONNECTOR] Validate: Error connecting to snowflake:[SF_KAFKA_CONNECTOR] Exception: Failed to connect to Snowflake Server',
      'Error Code: 1001',
      'Detail: Snowflake connection issue, reported by Snowflake JDBC',
      'Message: JWT token is invalid.  [ca0d7780-24ac-43b9-915b-b64a37dedf0b]',
      'net.snowflake.client.internal.core.SessionUtil.newSession(SessionUtil.java:940)',
    );
    expect(classify(jwt)).toMatchObject({ class: 'config', rule: expect.stringContaining('jwt-authentication') });
    // Without the JWT refusal the same words are an unreachable service.
    expect(classify(jwt.replace('JWT token is invalid.', 'Connection timed out.')).class).toBe('connection');
  });

  it('does not take the JDBC sink\'s RetriableException around an SQL error for a transient condition', () => {
    // confluentinc/kafka-connect-jdbc#379: the sink throws every SQLException as retriable while retries remain.
    const ddl = lines(
      "org.apache.kafka.connect.errors.RetriableException: com.microsoft.sqlserver.jdbc.SQLServerException: Column 'AC_NO' in table 'CUSTOMERS' is of a type that is invalid for use as a key column in an index.",
      '        at io.confluent.connect.jdbc.sink.JdbcSinkTask.put(JdbcSinkTask.java:84)',
    );
    expect(classify(ddl).class).toBe('unknown');
    expect(classify('org.apache.kafka.connect.errors.RetriableException: java.sql.SQLException: Exception chain:\nERROR: permission denied for table orders').class).toBe('config');
    // A recognised transient SQL cause inside it is still connection, and a bare RetriableException still falls back to connection.
    expect(classify('org.apache.kafka.connect.errors.RetriableException: java.sql.SQLException: Exception chain:\norg.postgresql.util.PSQLException: The connection attempt failed.').class).toBe('connection');
    expect(classify('org.apache.kafka.connect.errors.RetriableException: Topic: [t], Partition: [0], MinOffset: [1], MaxOffset: [2]')).toMatchObject({
      class: 'connection',
      rule: expect.stringContaining('kafka-retriable'),
    });
  });

  it('classes a PostgreSQL library the server cannot load (a logical decoding plugin not installed) as config', () => {
    // xstevens/decoderbufs#8: Debezium throws it as a JdbcConnectionException.
    const plugin = 'Caused by: io.debezium.jdbc.JdbcConnectionException: ERROR: could not access file "decoderbufs": No such file or directory';
    expect(classify(plugin)).toMatchObject({ class: 'config', rule: expect.stringContaining('postgres-plugin-file-missing') });
    expect(classify('org.postgresql.util.PSQLException: ERROR: could not access file "wal2json": No such file or directory').class).toBe('config');
  });

  it('classes SQL Server\'s "Database \'x\' does not exist" (error 911) as a missing object', () => {
    // confluentinc/kafka-connect-jdbc#1406: the topic name read as database.schema.table.
    expect(classify("com.microsoft.sqlserver.jdbc.SQLServerException: Database 'mysql-server' does not exist")).toMatchObject({
      class: 'config',
      rule: expect.stringContaining('jdbc-object-missing'),
    });
  });

  it('classes a Camel endpoint URI that cannot be resolved as config', () => {
    // apache/camel-kafka-connector#1508: a kamelet missing from the connector package.
    const kamelet =
      'org.apache.camel.ResolveEndpointFailedException: Failed to resolve endpoint: kamelet://mail-sink due to: org.apache.camel.component.kamelet.KameletNotFoundException: Kamelet with id mail-sink not found in locations: classpath:/kamelets';
    expect(classify(kamelet)).toMatchObject({ class: 'config', rule: expect.stringContaining('camel-endpoint-unresolvable') });
    // A Camel delivery that failed on a refused connection stays connection.
    expect(classify(lines('org.apache.kafka.connect.errors.ConnectException: Exchange delivery has failed!', 'Caused by: java.net.ConnectException: Connection refused')).class).toBe('connection');
  });

  it('classes writes to a closed Elasticsearch index as config', () => {
    // confluentinc/kafka-connect-elasticsearch#380.
    const closed =
      'WARN Failed to execute batch 245 of 500 records with attempt 5/6, will attempt retry after 100681 ms. Failure reason: Bulk request failed: [{"type":"index_closed_exception","reason":"closed","index_uuid":"MBEQZTyCSKSwEolBzExBYw","index":"index_XXX_2018-02"}]';
    expect(classify(closed)).toMatchObject({ class: 'config', rule: expect.stringContaining('elasticsearch-index-closed') });
  });

  it('classes a missing bucket as config, also when the S3 sink throws it as a DataException', () => {
    // confluentinc/kafka-connect-storage-cloud#61.
    const s3 = lines(
      'org.apache.kafka.connect.errors.DataException: No-existent S3 bucket: develop/phase1',
      '        at io.confluent.connect.s3.S3SinkTask.start(S3SinkTask.java:96)',
    );
    expect(classify(s3)).toMatchObject({ class: 'config', rule: expect.stringContaining('storage-bucket-missing') });
    expect(classify('com.amazonaws.services.s3.model.AmazonS3Exception: The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket)').class).toBe('config');
    // Other DataExceptions stay records that could not be converted.
    expect(classify('org.apache.kafka.connect.errors.DataException: Invalid protobuf data').class).toBe('serialization');
  });

  it('classes the Redis clients\' connection failures and command timeouts as connection', () => {
    // redis-field-engineering/redis-kafka-connect#26.
    const lettuce = lines(
      'org.apache.kafka.connect.errors.ConnectException: Could not read messages from stream',
      'at com.redis.kafka.connect.source.RedisSourceTask.poll(RedisSourceTask.java:113)',
      'Caused by: io.lettuce.core.RedisCommandTimeoutException: Command timed out after 1 minute',
    );
    expect(classify(lettuce)).toMatchObject({ class: 'connection', rule: expect.stringContaining('redis-connection') });
    expect(classify('io.lettuce.core.RedisConnectionException: Unable to connect to redis:6379').class).toBe('connection');
    expect(classify('redis.clients.jedis.exceptions.JedisConnectionException: Failed to connect to any host resolved for DNS name.').class).toBe('connection');
    // A Redis authentication failure is not an outage.
    expect(classify('io.lettuce.core.RedisCommandExecutionException: WRONGPASS invalid username-password pair or user is disabled.').class).not.toBe('connection');
  });

  it('classes a Redis login refused as config, also inside the clients\' connection exceptions', () => {
    // Lettuce reports a refused AUTH at connect as RedisConnectionException "Unable to connect", Jedis 3's pool
    // as JedisConnectionException "Could not get a resource from the pool": the redis-connection type, while
    // every restart is refused the same way.
    const lettuce = lines(
      'io.lettuce.core.RedisConnectionException: Unable to connect to redis:6379',
      '\tat io.lettuce.core.RedisConnectionException.create(RedisConnectionException.java:78)',
      'Caused by: io.lettuce.core.RedisCommandExecutionException: WRONGPASS invalid username-password pair or user is disabled.',
      '\tat io.lettuce.core.internal.ExceptionFactory.createExecutionException(ExceptionFactory.java:147)',
    );
    const jedisPool = lines(
      'org.apache.kafka.connect.errors.ConnectException: redis.clients.jedis.exceptions.JedisConnectionException: Could not get a resource from the pool',
      'Caused by: redis.clients.jedis.exceptions.JedisConnectionException: Could not get a resource from the pool',
      '\tat redis.clients.jedis.util.Pool.getResource(Pool.java:59)',
      'Caused by: redis.clients.jedis.exceptions.JedisDataException: ERR invalid password',
      '\tat redis.clients.jedis.Protocol.processError(Protocol.java:132)',
    );
    expect(classify(lettuce)).toMatchObject({ class: 'config', rule: expect.stringContaining('redis-authentication') });
    expect(classify(jedisPool)).toMatchObject({ class: 'config', rule: expect.stringContaining('redis-authentication') });
    expect(classify('io.lettuce.core.RedisCommandExecutionException: NOAUTH Authentication required.').class).toBe('config');
    expect(classify("redis.clients.jedis.exceptions.JedisAccessControlException: NOPERM this user has no permissions to run the 'xadd' command").class).toBe('config');
    // Unreachable is still connection.
    expect(classify(lines('io.lettuce.core.RedisConnectionException: Unable to connect to redis:6379', 'Caused by: java.net.ConnectException: Connection refused')).class).toBe('connection');
  });

  it('classes a write that timed out as connection', () => {
    // ClickHouse/clickhouse-kafka-connect#109.
    const write = lines(
      'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.',
      'Caused by: java.lang.RuntimeException: java.io.IOException: Write timed out after 30000 ms',
    );
    expect(classify(write)).toMatchObject({ class: 'connection', rule: expect.stringContaining('socket-timeout') });
  });

  it('classes a transaction the database rolled back as a deadlock victim as connection', () => {
    // confluentinc/kafka-connect-jdbc#385 (MySQL); PostgreSQL and SQL Server word it their own way.
    const mysql = 'Caused by: com.mysql.jdbc.exceptions.jdbc4.MySQLTransactionRollbackException: Deadlock found when trying to get lock; try restarting transaction ';
    expect(classify(mysql)).toMatchObject({ class: 'connection', rule: expect.stringContaining('jdbc-transaction-rollback') });
    expect(classify('java.sql.BatchUpdateException: Batch entry 0 INSERT INTO "t" was aborted: ERROR: deadlock detected').class).toBe('connection');
    expect(classify('com.microsoft.sqlserver.jdbc.SQLServerException: Transaction (Process ID 61) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.').class).toBe('connection');
  });

  it('classes a lock wait timeout and a serialization failure as connection, also inside the JDBC sink\'s RetriableException', () => {
    // The sink's RetriableException quotes the driver's exceptions as text (no "Caused by" link to type-match),
    // and since the fallback leaves SQL errors to their own rules, only their words are left to go on: MySQL's
    // error 1205 read unknown there (connection at 53e1075, by the retriable fallback).
    const lockWait = lines(
      'org.apache.kafka.connect.errors.RetriableException: java.sql.SQLException: Exception chain:',
      'java.sql.BatchUpdateException: Lock wait timeout exceeded; try restarting transaction',
      'com.mysql.cj.jdbc.exceptions.MySQLTransactionRollbackException: Lock wait timeout exceeded; try restarting transaction',
    );
    expect(classify(lockWait)).toMatchObject({ class: 'connection', rule: expect.stringContaining('jdbc-transaction-rollback') });
    // PostgreSQL's SQLSTATE 40001 comes as a plain PSQLException.
    expect(classify('org.postgresql.util.PSQLException: ERROR: could not serialize access due to concurrent update').class).toBe('connection');
    expect(classify('org.postgresql.util.PSQLException: ERROR: could not serialize access due to read/write dependencies among transactions').class).toBe('connection');
  });

  it('classes Cassandra\'s refusal of a record\'s JSON as serialization', () => {
    // lensesio/stream-reactor#577 and #610.
    const date = "com.datastax.driver.core.exceptions.InvalidQueryException: Error decoding JSON value for date: Unable to coerce '2018-12-03T00:00:00.000Z' to a formatted date (long)";
    expect(classify(date)).toMatchObject({ class: 'serialization', rule: expect.stringContaining('cassandra-json-insert-rejected') });
    expect(classify('Caused by: java.lang.RuntimeException: com.datastax.driver.core.exceptions.InvalidQueryException: JSON values map contains unrecognized column: source_appx').class).toBe('serialization');
    // A missing keyspace is configuration, not the record.
    expect(classify('com.datastax.driver.core.exceptions.InvalidQueryException: Keyspace \'ks\' does not exist').class).not.toBe('serialization');
  });
});

describe('classify: rules from the held-out probe of 2026-12-06 (probe4)', () => {
  it('classes gRPC UNAVAILABLE and DEADLINE_EXCEEDED as connection, and no other gRPC status', () => {
    // GoogleCloudPlatform/pubsub#206 (a network link failed over) and googleapis/google-cloud-java#3071 (GOAWAY).
    const deadline = lines(
      'java.lang.RuntimeException: java.util.concurrent.ExecutionException: com.google.api.gax.rpc.DeadlineExceededException: io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED: deadline exceeded after 9924109178ns',
      '        at com.google.pubsub.kafka.sink.CloudPubSubSinkTask.flush(CloudPubSubSinkTask.java:255)',
    );
    expect(classify(deadline)).toMatchObject({ class: 'connection', rule: expect.stringContaining('grpc-unavailable') });
    const goaway = lines(
      'java.lang.RuntimeException: java.util.concurrent.ExecutionException: io.grpc.StatusRuntimeException: UNAVAILABLE: HTTP/2 error code: NO_ERROR',
      `${T}Received Goaway`,
      `${T}${T}at com.google.pubsub.kafka.sink.CloudPubSubSinkTask.flush(CloudPubSubSinkTask.java:293)`,
    );
    expect(classify(goaway)).toMatchObject({ class: 'connection', rule: expect.stringContaining('grpc-unavailable') });
    // A shaded gRPC says the same.
    expect(classify('Caused by: com.google.cloud.spanner.shaded.io.grpc.StatusRuntimeException: UNAVAILABLE: io exception').class).toBe('connection');
    // Other statuses are not transient in general (Vitess's UNKNOWN/CANCELLED stay unknown, see unresolved/).
    expect(classify('io.grpc.StatusRuntimeException: UNKNOWN: vstream ended unexpectedly').class).toBe('unknown');
    expect(classify('io.grpc.StatusRuntimeException: INVALID_ARGUMENT: bad request').class).toBe('unknown');
    // And the words alone, outside a gRPC status, decide nothing.
    expect(classify('java.lang.IllegalStateException: UNAVAILABLE: the widget').class).toBe('unknown');
  });

  it('reads "Status code 403" (Azure Storage\'s wording) as a refusal of the credentials', () => {
    // vdesabou/kafka-docker-playground#957: the account key does not sign the request.
    const azure =
      'Caused by: com.microsoft.azure.storage.blob.StorageException: Status code 403, "<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.';
    expect(classify(azure)).toMatchObject({ class: 'config', rule: expect.stringContaining('http-unauthorized-forbidden') });
    expect(classify('com.microsoft.azure.storage.StorageException: Status code 401, Unauthorized').class).toBe('config');
    // Another status in the same words is not a credentials problem.
    expect(classify('com.microsoft.azure.storage.StorageException: Status code 409, "BlobAlreadyExists"').class).not.toBe('config');
  });

  it('classes a table or namespace the Iceberg catalog does not have as config', () => {
    // databricks/iceberg-kafka-connect#343 (a Glue database name with hyphens) and #100 (auto-create off).
    expect(
      classify(lines(
        'Caused by: org.apache.iceberg.exceptions.NoSuchTableException: Invalid table identifier: kafka-iceberg-test-db.selection',
        '  at org.apache.iceberg.BaseMetastoreCatalog.loadTable(BaseMetastoreCatalog.java:66)',
      )),
    ).toMatchObject({ class: 'config', rule: expect.stringContaining('iceberg-no-such-table') });
    expect(classify('org.apache.iceberg.exceptions.NoSuchTableException: Table does not exist: db.events').class).toBe('config');
    expect(classify('org.apache.iceberg.exceptions.NoSuchNamespaceException: Namespace does not exist: db').class).toBe('config');
    // Iceberg's other exceptions are not a missing table.
    expect(classify('org.apache.iceberg.exceptions.CommitFailedException: Cannot commit: stale table metadata').class).not.toBe('config');
  });

  it('classes Debezium\'s recovery snapshot without a stored offset as config', () => {
    // airbytehq/airbyte#73326 (SQL Server: "redo log"); MySQL's wording says "binlog".
    const redo = 'io.debezium.DebeziumException: Could not find existing redo log information while attempting schema only recovery snapshot';
    expect(classify(redo)).toMatchObject({ class: 'config', rule: expect.stringContaining('debezium-recovery-snapshot-without-offset') });
    expect(classify('org.apache.kafka.connect.errors.ConnectException: Could not find existing binlog information while attempting schema only recovery snapshot').class).toBe('config');
  });

  it('classes Debezium\'s "Error configuring an instance of …" as config, not as a wrapper that decides nothing', () => {
    // sohangp/embedded-debezium#4: the reasons ("The '…' value is invalid") are only in the worker log.
    const task = 'org.apache.kafka.connect.errors.ConnectException: Error configuring an instance of SqlServerConnectorTask; check the logs for details';
    expect(classify(task)).toMatchObject({ class: 'config', rule: expect.stringContaining('connect-missing-configuration') });
    expect(classify('org.apache.kafka.connect.errors.ConnectException: Error configuring an instance of KafkaSchemaHistory; check the logs for details').class).toBe('config');
  });

  it('classes the Connect data API\'s DataException subclasses like DataException', () => {
    // confluentinc/kafka-connect-hdfs#374: AvroData could not build the Connect schema of a record.
    const builder = lines(
      'org.apache.kafka.connect.errors.SchemaBuilderException: Invalid default value',
      `${T}at org.apache.kafka.connect.data.SchemaBuilder.defaultValue(SchemaBuilder.java:131)`,
      `${T}at io.confluent.connect.avro.AvroData.toConnectSchema(AvroData.java:1562)`,
      `${T}at io.confluent.connect.avro.AvroConverter.toConnectData(AvroConverter.java:88)`,
    );
    expect(classify(builder)).toMatchObject({ class: 'serialization', rule: expect.stringContaining('connect-data-exception') });
    expect(classify('org.apache.kafka.connect.errors.SchemaProjectorException: Schema type mismatch. source type: STRING and target type: INT32').class).toBe('serialization');
  });
});

describe('classify: rules from the held-out probe of 2026-12-06 (probe5)', () => {
  it('classes an SSH login the server refused (JSch "Auth fail") as config, other JSch failures not', () => {
    // mmolimar/kafka-connect-fs#96. JSch's Session.connect throws "Auth fail" (or "Auth cancel") when every
    // authentication method was refused; the SFTP connectors (spooldir, kafka-connect-fs, Camel) wrap it.
    expect(classify(lines(
      'ERROR FsSourceTask Cannot retrieve files to process from the FS: [[]]. There was an error executing the policy but the task tolerates this and continues: com.jcraft.jsch.JSchException: Auth fail',
      '        at com.jcraft.jsch.Session.connect(Session.java:519)',
    ))).toMatchObject({ class: 'config', rule: expect.stringContaining('jsch-authentication') });
    expect(classify(lines(
      'org.apache.kafka.connect.errors.ConnectException: Can not get connection to SFTP:',
      'Caused by: com.jcraft.jsch.JSchException: Auth cancel',
    )).class).toBe('config');
    expect(classify("com.jcraft.jsch.JSchException: Auth fail for methods 'publickey,password'").class).toBe('config');
    expect(classify('com.jcraft.jsch.JSchException: java.net.ConnectException: Connection refused').class).toBe('connection');
  });
  it('classes ClickHouse server errors its Java client retries (memory limit, too many queries, parts) as connection', () => {
    // ClickHouse/clickhouse-kafka-connect#587; clickhouse-java client-v2 Utils.isRetryable lists these server codes.
    const memory = lines(
      'java.util.concurrent.ExecutionException: com.clickhouse.client.ClickHouseException: Code: 241. DB::Exception: Memory limit (total) exceeded: would use 30.11 GiB (attempt to allocate chunk of 4444852 bytes), maximum: 28.80 GiB. (MEMORY_LIMIT_EXCEEDED) (version 24.8.14.10459.altinitystable (altinity build))',
      `${T}at com.clickhouse.kafka.connect.sink.db.ClickHouseWriter.doInsertJsonV1(ClickHouseWriter.java:861)`,
    );
    expect(classify(memory)).toMatchObject({ class: 'connection', rule: expect.stringContaining('clickhouse-transient-server-error') });
    expect(classify('com.clickhouse.client.ClickHouseException: Code: 202. DB::Exception: Too many simultaneous queries. Maximum: 100. (TOO_MANY_SIMULTANEOUS_QUERIES) (version 23.3.1.1)').class).toBe('connection');
    expect(classify('com.clickhouse.client.ClickHouseException: Code: 252. DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS) (version 23.3.1.1)').class).toBe('connection');
    // READONLY is retried by the client (a replica in read-only mode) but is also a user whose readonly setting
    // forbids inserts, which no restart fixes: it is left to the other rules
    expect(classify('com.clickhouse.client.ClickHouseException: Code: 164. DB::Exception: kafka_sink: Cannot execute query in readonly mode. (READONLY) (version 23.3.1.1)').class).not.toBe('connection');
    // a server error the client does not retry stays with the other rules
    expect(classify('com.clickhouse.client.ClickHouseException: Code: 60. DB::Exception: Table default.events does not exist. (UNKNOWN_TABLE) (version 23.3.1.1)').class).not.toBe('connection');
  });
  it('classes ClickHouse\'s refusal to parse or convert a value of the record as serialization', () => {
    // ClickHouse/clickhouse-kafka-connect#164: a string where a materialized view casts to Float64.
    const mv = "[2023-08-23 15:36:30,944] WARN [clickhouse|task-0] Deciding how to handle exception: com.clickhouse.client.ClickHouseException: Code: 6. DB::Exception: Cannot parse string 'aa' as Float64: syntax error at begin of string. Note: there are toFloat64OrZero and toFloat64OrNull functions, which returns zero/NULL instead of throwing exception.: while executing 'FUNCTION CAST(JSON_VALUE(data, '$.duration_ms') :: 5, 'Float64' :: 7) -> CAST(JSON_VALUE(data, '$.duration_ms'), 'Float64') Float64 : 6': while pushing to view default.om_pmarton_local_m1 (a15975fe-3ec0-4f91-92cd-bfdbad2b5332). (CANNOT_PARSE_TEXT) (version 23.7.1.2470 (official build))";
    expect(classify(mv)).toMatchObject({ class: 'serialization', rule: expect.stringContaining('clickhouse-record-rejected') });
    expect(classify("com.clickhouse.client.ClickHouseException: Code: 53. DB::Exception: Type mismatch in IN or VALUES section. Expected: UInt32. Got: String. (TYPE_MISMATCH) (version 23.3.1.1)").class).toBe('serialization');
    expect(classify('com.clickhouse.client.ClickHouseException: Code: 349. DB::Exception: Cannot convert NULL value to non-Nullable type: while converting source column. (CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN) (version 23.3.1.1)').class).toBe('serialization');
    expect(classify('com.clickhouse.client.ClickHouseException: Code: 60. DB::Exception: Table default.events does not exist. (UNKNOWN_TABLE) (version 23.3.1.1)').class).not.toBe('serialization');
  });
  it('classes an Envoy/Istio proxy\'s "upstream connect error or disconnect/reset before headers" as connection', () => {
    // ClickHouse/clickhouse-kafka-connect#502: Envoy's local reply when it could not reach or lost the upstream.
    const reset = lines(
      'com.clickhouse.client.ClickHouseException: upstream connect error or disconnect/reset before headers. reset reason: connection termination',
      `${T}at com.clickhouse.client.ClickHouseException.of(ClickHouseException.java:151)`,
      'Caused by: java.io.IOException: upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    );
    expect(classify(reset)).toMatchObject({ class: 'connection', rule: expect.stringContaining('proxy-upstream-reset') });
    expect(classify('java.io.IOException: upstream connect error or disconnect/reset before headers. reset reason: overflow').class).toBe('connection');
  });
  it('classes Solr\'s refusal of a document ("possible analysis error") as serialization', () => {
    // jcustenborder/kafka-connect-solr#36; Solr's DirectUpdateHandler2 words every document it cannot index so.
    const route = lines(
      'org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.',
      `${T}at org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:560)`,
      'Caused by: org.apache.solr.client.solrj.impl.CloudSolrClient$RouteException: Error from server at http://localhost/solr/realtimeindexing_shard6_replica_n7: Exception writing document id 12345678 to the index; possible analysis error:',
    );
    expect(classify(route)).toMatchObject({ class: 'serialization', rule: expect.stringContaining('solr-document-rejected') });
    expect(classify('org.apache.solr.client.solrj.impl.HttpSolrClient$RemoteSolrException: Error from server at http://solr:8983/solr/c1: Exception writing document id 7 to the index; possible analysis error: Document contains at least one immense term in field="body"').class).toBe('serialization');
  });
  it('classes Debezium\'s "internal schema representation is probably out of sync" as config', () => {
    // wso2/product-integrator-si#148 (SQL Server, CDC on a subset of columns); Debezium's TableSchemaBuilder words
    // every mismatch between a change row and the schema it holds so, Flink CDC's SchemaOutOfSyncException too.
    const row = lines(
      '[2020-08-28 19:33:13,592] ERROR {io.debezium.pipeline.ErrorHandler} - Producer failure org.apache.kafka.connect.errors.ConnectException: Data row is smaller than a column index, internal schema representation is probably out of sync with real database schema',
      `${T}at io.debezium.relational.TableSchemaBuilder.validateIncomingRowToInternalMetadata(TableSchemaBuilder.java:217)`,
    );
    expect(classify(row)).toMatchObject({ class: 'config', rule: expect.stringContaining('debezium-schema-out-of-sync') });
    expect(classify('org.apache.kafka.connect.errors.ConnectException: Column indexing array is larger than number of converters, internal schema represantion is probably out of sync with real database schema').class).toBe('config');
  });
  it('classes an SQS queue that does not exist as config', () => {
    // vdesabou/kafka-docker-playground#8747 (AWS SDK v2); SDK v1 names the same class, its error code is NonExistentQueue.
    const queue = lines(
      'org.apache.kafka.connect.errors.ConnectException: java.util.concurrent.ExecutionException: software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException: The specified queue does not exist. (Service: Sqs, Status Code: 400, Request ID: b12f23b7-dc53-5bed-bff4-415a4829023d) (SDK Attempt Count: 1)',
      `${T}at io.confluent.connect.sqs.source.SqsSourceTask.receiveMessages(SqsSourceTask.java:200)`,
    );
    expect(classify(queue)).toMatchObject({ class: 'config', rule: expect.stringContaining('sqs-queue-missing') });
    expect(classify('com.amazonaws.services.sqs.model.QueueDoesNotExistException: The specified queue does not exist for this wsdl version. (Service: AmazonSQS; Status Code: 400; Error Code: AWS.SimpleQueueService.NonExistentQueue)').class).toBe('config');
  });
});

describe('classify: result contents', () => {
  const trace = lines(
    'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.',
    `${T}at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)`,
    'Caused by: org.postgresql.util.PSQLException: Database connection failed when reading from copy',
    `${T}at org.postgresql.core.v3.QueryExecutorImpl.readFromCopy(QueryExecutorImpl.java:1368)`,
    'Caused by: java.io.EOFException',
    `${T}at org.postgresql.core.PGStream.receiveChar(PGStream.java:482)`,
  );

  it('masks a credential before cutting rootCause and the matched line: a cut through it exposes no part of it', () => {
    const password = 'S3cretMongoPassw0rd';
    for (const max of [ROOT_CAUSE_MAX_CHARS, MATCHED_LINE_MAX_CHARS]) {
      const head = 'com.mongodb.MongoTimeoutException: Timed out after 30000 ms while waiting for a server, connecting to ';
      // the cut falls inside the password, before the "@" that shows it is one
      const pad = 'x'.repeat(max - head.length - 'mongodb://admin:S3cret'.length - 1);
      const c = classify(`${head}${pad} mongodb://admin:${password}@mongo:27017/?authSource=admin connection refused`);
      expect(c.rootCause.length).toBeLessThanOrEqual(ROOT_CAUSE_MAX_CHARS);
      expect(`${c.rootCause} ${c.rule}`).not.toMatch(/S3cret/);
    }
  });

  it('gives the innermost exception as rootCause and "<rule>: <why> (matched: "<line>")" as rule', () => {
    const c = classify(trace);
    expect(c).toMatchObject({ class: 'connection', rootCause: 'java.io.EOFException' });
    expect(c.rule).toBe(
      'connection-dropped: the connection was cut mid-use (EOF, reset, broken pipe) (matched: "java.io.EOFException")',
    );
    expect(c.hint).toBe(CLASS_HINTS.connection);
  });

  it('quotes the line a message rule matched, even past the first line of a message', () => {
    const c = classify(
      'io.debezium.DebeziumException: Error while starting\nMySQL said: A slave with the same server_uuid/server_id as this slave has connected to the master',
    );
    expect(c.class).toBe('config');
    expect(c.rule).toMatch(/\(matched: "MySQL said: A slave with the same server_uuid\/server_id as this slave has connected to the master"\)$/);
  });

  it('keeps rootCause to the first line of the message, trimmed, at most 300 characters, and the matched line to 160', () => {
    const long = 'x'.repeat(1000);
    const c = classify(`org.apache.kafka.connect.errors.DataException:   Failed to deserialize data ${long}  \nsecond line\n${T}at a.B.c(B.java:1)`);
    expect(c.rootCause.startsWith('org.apache.kafka.connect.errors.DataException: Failed to deserialize data xxx')).toBe(true);
    expect(c.rootCause.length).toBeLessThanOrEqual(300);
    expect(c.rootCause.endsWith('…')).toBe(true);
    const matched = /\(matched: "(.*)"\)$/.exec(c.rule)?.[1] ?? '';
    expect(matched.length).toBeLessThanOrEqual(160);
    expect(c.rootCause).not.toContain('second line');
  });

  it('gives a serialization hint about schema, converters and the dead-letter topic, and a config hint about what to check', () => {
    const ser = classify('org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error: ');
    expect(ser.hint).toMatch(/schema/);
    expect(ser.hint).toMatch(/value\.converter/);
    expect(ser.hint).toMatch(/schemas\.enable/);
    expect(ser.hint).toMatch(/errors\.tolerance=all/);
    expect(ser.hint).toMatch(/errors\.deadletterqueue\.topic\.name/);
    const cfg = classify('org.postgresql.util.PSQLException: FATAL: password authentication failed for user "a"');
    expect(cfg.hint).toMatch(/password/);
  });

  it('returns unknown with a sensible rootCause for empty, blank and garbage input', () => {
    for (const empty of ['', '   ', '\n\n']) {
      const c = classify(empty);
      expect(c.class).toBe('unknown');
      expect(c.rootCause).toBe('(empty trace)');
      expect(c.rule).toMatch(/^empty-trace: /);
    }
    const garbage = classify('the task died, no idea why');
    expect(garbage).toMatchObject({ class: 'unknown', rootCause: 'the task died, no idea why' });
    expect(garbage.rule).toMatch(/^no-rule-matched: no exception type could be read/);
    // Not a string at run time (a caller bypassing the types) is treated as empty.
    expect(classify(undefined as unknown as string).class).toBe('unknown');
  });

  it('is pure: the same trace gives the same result, whatever came before', () => {
    const first = classify(trace);
    classify('java.lang.ClassNotFoundException: x.Y');
    expect(classify(trace)).toEqual(first);
  });

  it('has unique built-in rule names with a why and a hint each', () => {
    const names = BUILTIN_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of BUILTIN_RULES) {
      expect(r.type ?? r.message, r.name).toBeDefined();
      expect(r.why.length, r.name).toBeGreaterThan(10);
      expect(r.hint.length, r.name).toBeGreaterThan(10);
      expect(r.type?.global ?? false, r.name).toBe(false);
      expect(r.message?.global ?? false, r.name).toBe(false);
    }
  });

  it('gives hints that say what is wrong and what to check, never what the watchdog does about it', () => {
    // The classifier does not know heal.actions: under escalate (or a maintenance window) nothing is restarted,
    // so a hint promising restarts would be false on the page. The policy's reason says what the watchdog did.
    const hints = [...Object.entries(CLASS_HINTS).map(([c, h]) => [`class ${c}`, h] as const), ...BUILTIN_RULES.map((r) => [r.name, r.hint] as const)];
    for (const [name, hint] of hints) expect(hint, name).not.toMatch(/\bwatchdog\b|\bunder backoff\b|\bif restarts keep failing\b|\bescalates?\b/i);
  });
});

describe('custom rules', () => {
  const refused = 'org.apache.kafka.connect.errors.ConnectException: x\nCaused by: java.net.ConnectException: Connection refused';

  it('are tried before the built-in rules, in order, on the whole trace', () => {
    const rules: CustomRule[] = [
      { name: 'legacy-db-decommissioned', pattern: 'Caused by: java\\.net\\.ConnectException', class: 'config', hint: 'The legacy DB is gone; delete this connector.' },
      { name: 'never-reached', pattern: 'Connection refused', class: 'unknown' },
    ];
    const c = classify(refused, compileRules(rules));
    expect(c.class).toBe('config');
    expect(c.hint).toBe('The legacy DB is gone; delete this connector.');
    expect(c.rule).toBe(
      'legacy-db-decommissioned: custom rule from the configuration, pattern /Caused by: java\\.net\\.ConnectException/ (matched: "Caused by: java.net.ConnectException: Connection refused")',
    );
    expect(c.rootCause).toBe('java.net.ConnectException: Connection refused');
  });

  it('fall through to the built-in rules when they do not match, use the class hint when they have none, and support (?i) and ^', () => {
    const classifier = createClassifier([
      { name: 'acme-quota', pattern: '(?i)acme quota exceeded', class: 'config' },
      { name: 'line-start', pattern: '^Caused by: com\\.acme\\.', class: 'serialization' },
    ]);
    expect(classifier(refused).class).toBe('connection');
    const quota = classifier('com.acme.ApiException: ACME QUOTA EXCEEDED for tenant 7');
    expect(quota.class).toBe('config');
    expect(quota.hint).toBe(CLASS_HINTS.config);
    expect(classifier('java.lang.RuntimeException: x\nCaused by: com.acme.Broken: y').class).toBe('serialization');
  });

  it('reject an invalid regex with an error naming the rule', () => {
    expect(() => compileRules([{ name: 'ok', pattern: 'fine', class: 'config' }, { name: 'broken-one', pattern: 'unclosed(group', class: 'config' }]))
      .toThrow(/classifier rule "broken-one": pattern "unclosed\(group" is not a valid regular expression/);
    expect(() => createClassifier([{ name: 'broken-two', pattern: '[z-a]', class: 'unknown' }])).toThrow(/"broken-two"/);
  });

  it('reject other malformed rules, naming them', () => {
    expect(() => compileRules([{ name: 'bad-class', pattern: 'x', class: 'fatal' as never }])).toThrow(/"bad-class": "class" must be one of connection, serialization, config, unknown/);
    expect(() => compileRules([{ name: 'matches-all', pattern: '.*', class: 'config' }])).toThrow(/"matches-all".*matches the empty string/);
    expect(() => compileRules([{ name: 'dup', pattern: 'a', class: 'config' }, { name: 'dup', pattern: 'b', class: 'config' }])).toThrow(/"dup": duplicate/);
    expect(() => compileRules([{ name: '', pattern: 'a', class: 'config' }])).toThrow(/#1: "name"/);
    expect(() => compileRules([{ name: 'no-pattern', pattern: '', class: 'config' }])).toThrow(/"no-pattern": "pattern"/);
  });
});

describe('docs/classifier.md', () => {
  it('lists every built-in rule', () => {
    const doc = readFileSync(new URL('../../docs/classifier.md', import.meta.url), 'utf8');
    const missing = BUILTIN_RULES.map((r) => r.name).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
