/**
 * The built-in rules: what we know about Kafka Connect failure traces, as an ordered table.
 *
 * Each rule is a predicate on ONE link of the cause chain (its exception type and/or its message).
 * The classifier (classify.ts) weighs them in tiers:
 *   1. `precedence` rules (authentication, authorization, permissions) are looked for in every link
 *      first: a wrong password is `config` even when a driver words it as a communication failure
 *      or a wrapper calls it a connection error; a restart will not fix it.
 *   2. `specific` rules: the chain is walked from the innermost cause outwards and the first link
 *      that any specific rule matches decides; within one link, table order decides (message rules
 *      about a concrete condition come before rules on the type alone).
 *   3. `fallback` rules: weak signals used only when no specific rule matched anywhere.
 * Generic wrappers (see WRAPPER_MESSAGES) match no rule, so they never decide by themselves.
 *
 * Rules name types and messages that real drivers and frameworks print; none names a trace.
 */
import type { FailureClass } from './types.js';

export type RuleTier = 'precedence' | 'specific' | 'fallback';

export interface BuiltinRule {
  readonly name: string;
  readonly class: FailureClass;
  readonly tier: RuleTier;
  /** Tested against the link's type as printed (usually fully qualified). */
  readonly type?: RegExp;
  /** Tested against the link's whole message (all its lines). */
  readonly message?: RegExp;
  /**
   * With both `type` and `message`: 'any' (default) matches when either does, 'all' only when
   * both do (e.g. a ClassCastException whose message names Connect's Struct).
   */
  readonly match?: 'any' | 'all';
  /** When it matches the link's message, the rule does not match the link (a known exception to the rule). */
  readonly unless?: RegExp;
  /** Why this rule puts the trace in its class (shown to the operator). */
  readonly why: string;
  /** One sentence telling the operator what to check. */
  readonly hint: string;
}

/** Default hint per class, for custom rules without one and for the no-match result. */
export const CLASS_HINTS: Readonly<Record<FailureClass, string>> = {
  connection:
    'A system the task talks to was unreachable or dropped the connection: check that the named host is up and reachable from the worker.',
  serialization:
    'A record could not be converted: check the recent schema change and the converter settings (key.converter / value.converter, value.converter.schemas.enable, schema registry URL), or consider errors.tolerance=all with a dead-letter topic (errors.deadletterqueue.topic.name) to route bad records aside.',
  config:
    'A restart will not fix this: correct the connector or environment configuration named in the root cause (credentials, permissions, the named object, the plugin path), then restart the task.',
  unknown:
    'No known cause: read the full trace and the worker log around it.',
};

/** Wrapper messages that say nothing about the cause; listed so that explanations can name them. */
export const WRAPPER_MESSAGES: readonly RegExp[] = [
  /^Tolerance exceeded in error handler/,
  /^An exception occurred in the change event producer/,
  /^Exiting WorkerSinkTask due to unrecoverable exception/,
  /^Exiting WorkerSourceTask due to unrecoverable exception/,
  /^Task threw an uncaught and unrecoverable exception/,
  /^Non-retriable failure obtaining database encoding/,
  /^Couldn't obtain encoding for database/,
  /^Failed to transition connector [^\n]{0,300}? to state/,
];

const SERIALIZATION_HINT = CLASS_HINTS.serialization;

export const BUILTIN_RULES: readonly BuiltinRule[] = [
  // ───────────── precedence: authentication, authorization, permissions → config ─────────────
  {
    name: 'postgres-authentication',
    class: 'config',
    tier: 'precedence',
    message: /password authentication failed for user|no pg_hba\.conf entry for|must be superuser or replication role to start walsender|role "[^"]*" is not permitted to log in|SCRAM authentication failed|The server requested (?:SCRAM-based|password-based) authentication, but no password was provided/,
    why: 'PostgreSQL rejected the login (SQLSTATE class 28, or a role without the REPLICATION attribute); it will reject it again after a restart',
    hint: 'Check the connector\'s database.user / database.password (or connection.user / connection.password) against the role in PostgreSQL, the role\'s LOGIN/REPLICATION attributes and pg_hba.conf.',
  },
  {
    name: 'mysql-access-denied',
    class: 'config',
    tier: 'precedence',
    message: /Access denied for user|Access denied; you need \(at least one of\) the|Public Key Retrieval is not allowed|Error code: 1045\b|Error code: 1227\b/,
    why: 'MySQL/MariaDB refused the account (error 1044/1045: wrong password, host not allowed) or an operation it lacks the privilege for (error 1227, e.g. REPLICATION SLAVE for the binlog, BINLOG MONITOR for SHOW MASTER STATUS)',
    hint: 'Check database.user / database.password, the account\'s allowed host (\'user\'@\'host\') and its grants (REPLICATION SLAVE, REPLICATION CLIENT (BINLOG MONITOR on MariaDB), SELECT, RELOAD for Debezium).',
  },
  {
    name: 'jdbc-sqlstate-28',
    class: 'config',
    tier: 'precedence',
    message: /SQLSTATE[:=]?\s*\(?28[0-9A-Z]{3}\b|\(SQLSTATE 28P01\)/,
    why: 'the driver reports SQLSTATE class 28 (invalid authorization specification)',
    hint: 'Check the database user name and password the connector uses, and whether the account is locked or expired.',
  },
  {
    name: 'sqlserver-login-failed',
    class: 'config',
    tier: 'precedence',
    message: /Login failed for user|Cannot open database "[^"]*" requested by the login/,
    why: 'SQL Server refused the login (error 18456) or the login cannot open the database',
    hint: 'Check the SQL Server login, its password and its access to the configured database.',
  },
  {
    name: 'oracle-authentication',
    class: 'config',
    tier: 'precedence',
    message: /ORA-01017|ORA-28000|ORA-01045|ORA-01031/,
    why: 'Oracle refused the account (invalid username/password, locked account, or missing privilege)',
    hint: 'Check the Oracle user, password, account status and the privileges the connector needs.',
  },
  {
    name: 'mongodb-auth',
    class: 'config',
    tier: 'precedence',
    type: /(?:^|\.)MongoSecurityException$/,
    message: /Command failed with error (?:13|18)\b|not authorized on \S+ to execute command|Exception authenticating MongoCredential|"codeName" ?: ?"(?:Unauthorized|AuthenticationFailed)"/,
    why: 'MongoDB rejected the credentials (error 18) or the user lacks a role for the command (error 13)',
    hint: 'Check the connector\'s MongoDB user, password and authSource, and grant the roles it needs (read on the databases, changeStream/find on local/config, listDatabases).',
  },
  {
    // Redis's own error replies to AUTH and to a command the ACL user may not run. Lettuce and Jedis 3's pool
    // wrap them in their connection exceptions (redis-connection), which would restart for good.
    name: 'redis-authentication',
    class: 'config',
    tier: 'precedence',
    message: /\b(?:WRONGPASS|NOAUTH|NOPERM) |\bERR (?:invalid password|AUTH <password> called without any password configured|Client sent AUTH, but no password is set)/,
    why: 'Redis refused the login (WRONGPASS, NOAUTH, invalid password) or the ACL user may not run the command (NOPERM); every restart is refused the same way',
    hint: 'Check the connector\'s Redis user and password (the redis URI or its password setting) against the server\'s requirepass / ACL user, and the commands and keys that user is allowed.',
  },
  {
    name: 'kafka-sasl-authentication',
    class: 'config',
    tier: 'precedence',
    type: /(?:^|\.)(?:SaslAuthenticationException|IllegalSaslStateException|UnsupportedSaslMechanismException|AuthenticationException)$/,
    why: 'the Kafka broker (or another service) rejected the client\'s credentials or SASL mechanism',
    hint: 'Check the SASL mechanism and sasl.jaas.config (including producer./consumer./admin. overrides and the connector\'s own client overrides) against the broker\'s listener.',
  },
  {
    name: 'kafka-authorization',
    class: 'config',
    tier: 'precedence',
    type: /AuthorizationException$/,
    message: /Not authorized to access (?:topics|group|cluster)|Topic authorization failed|Group authorization failed|Cluster authorization failed/,
    why: 'the Kafka principal lacks an ACL for the topic, group or cluster operation',
    hint: 'Grant the connector\'s principal the ACLs it needs (topic read/write/create, consumer group read, cluster describe) or fix the topic name.',
  },
  {
    // Before the 401/403 rule, whose hint (credentials) would send the operator the wrong way: this 403 is a
    // full disk, not a permission.
    name: 'elasticsearch-index-read-only',
    class: 'config',
    tier: 'precedence',
    // FORBIDDEN blocks only: SERVICE_UNAVAILABLE/1/state not recovered is a cluster starting, which a restart outlasts.
    message: /FORBIDDEN\/\d+\/index (?:read-only|write)/,
    why: 'Elasticsearch blocks writes to the index (read-only: a disk above the flood-stage watermark, or a write block set on it); writes fail until a person frees disk or lifts the block',
    hint: 'Free disk space on the Elasticsearch data nodes (or raise cluster.routing.allocation.disk.watermark.flood_stage), then check that index.blocks.read_only_allow_delete / index.blocks.write is lifted.',
  },
  {
    name: 'http-unauthorized-forbidden',
    class: 'config',
    tier: 'precedence',
    message: /HTTP Response code:?\s*40[13]\b|\b[Ss]tatus [Cc]ode:?\s*40[13]\b|"status"\s*:\s*40[13]\b|\b40[13] (?:Unauthorized|Forbidden)\b|\bUnauthorized; error code: 401\d{0,2}\b|error code: 403\d{2}\b|\bsecurity_exception\b|\bstatus(?:Code)?[=:]\s*40[13]\b/,
    why: 'the remote service answered 401/403: the credentials or the permissions are wrong',
    hint: 'Check the credentials or token the connector sends (user/password, API key, basic.auth.user.info for the schema registry) and the permissions granted to it.',
  },
  {
    name: 'permission-denied',
    class: 'config',
    tier: 'precedence',
    message: /permission denied for (?:table|relation|schema|database|sequence|function|view|publication)|must be superuser|must be owner of|insufficient privilege|Access Denied \(Service:|\bAccessDenied\b|does not have (?:the )?(?:required )?permission|\bPERMISSION_DENIED: |\bPermission denied: user=\S+, access=/,
    why: 'the account is authenticated but lacks a privilege on the object it uses (SQLSTATE 42501, an access-denied answer, or HDFS refusing the user access to a path)',
    hint: 'Grant the connector\'s account the privilege named in the root cause (or use an account that has it).',
  },
  {
    name: 'file-access-denied',
    class: 'config',
    tier: 'precedence',
    type: /(?:^|\.)AccessDeniedException$/,
    why: 'the worker process may not read or write that path',
    hint: 'Check the owner and mode of the path (and its directory) for the user the Connect worker runs as.',
  },
  {
    name: 'cloud-credentials',
    class: 'config',
    tier: 'precedence',
    message: /Unable to load (?:AWS )?credentials|The security token included in the request is (?:invalid|expired)|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|The AWS Access Key Id you provided does not exist|invalid_grant|Request had invalid authentication credentials/,
    why: 'the cloud SDK found no valid credentials',
    hint: 'Provide valid cloud credentials to the worker or connector (access key, role, credentials file, workload identity) and check they have not expired.',
  },

  {
    // Snowflake's JDBC driver and ingest SDK (key-pair authentication, error 390144). The connector reports it
    // under its code 1001, "Failed to connect to Snowflake Server ... connection issue", which would otherwise
    // read as an unreachable service.
    name: 'jwt-authentication',
    class: 'config',
    tier: 'precedence',
    message: /\bJWT token is invalid\b/,
    why: 'the service refused the client\'s key-pair JWT (for Snowflake: the private key does not match the public key registered for the user, or the user or account in the token is wrong); every retry is refused the same way',
    hint: 'Check the connector\'s user name, account URL and private key (snowflake.user.name, snowflake.url.name, snowflake.private.key) against the RSA public key set on the user (DESC USER ... RSA_PUBLIC_KEY_FP).',
  },
  {
    // JSch (com.jcraft.jsch and its fork com.github.mwiede) throws "Auth fail" from Session.connect when the server
    // refused every authentication method, "Auth cancel" when the user cancelled; the SFTP connectors (spooldir,
    // kafka-connect-fs, Camel sftp) wrap it as a connection error ("Can not get connection to SFTP").
    name: 'jsch-authentication',
    class: 'config',
    tier: 'precedence',
    type: /(?:^|\.)JSchException$/,
    message: /^Auth (?:fail|cancel)\b/,
    match: 'all',
    why: 'the SSH/SFTP server refused the login (JSch "Auth fail"): a wrong user, password or private key, or a key the server does not accept; every retry is refused the same way',
    hint: 'Check the connector\'s SFTP user, password or private key (and its passphrase) against the server, e.g. with sftp -i KEY USER@HOST from the worker.',
  },

  // ───────────── specific: concrete conditions named in a message ─────────────
  // Schema registry and converters.
  {
    name: 'avro-unknown-magic-byte',
    class: 'serialization',
    tier: 'specific',
    message: /Unknown magic byte/,
    why: 'the record is not in the schema-registry wire format (magic byte 0 + schema id): it was written by another serializer, or the converter is the wrong one',
    hint: 'Check which serializer produced the topic and set key.converter / value.converter to match (e.g. StringConverter or JsonConverter instead of AvroConverter), or route such records to a dead-letter topic with errors.tolerance=all and errors.deadletterqueue.topic.name.',
  },
  {
    name: 'schema-registry-subject-not-found',
    class: 'serialization',
    tier: 'specific',
    message: /Subject (?:'[^']*' |"[^"]*" )?not found|Schema (?:\d+ )?not found|error code: 4040[1-3]\b|Version \d+ not found/,
    why: 'the schema registry has no such subject/schema (40401-40403): the subject name strategy, the registry, or the data does not match',
    hint: 'Check the converter\'s schema.registry.url and key/value.subject.name.strategy against the subjects that exist, or whether the schema was deleted.',
  },
  {
    name: 'schema-registry-incompatible',
    class: 'serialization',
    tier: 'specific',
    message: /incompatible with (?:an earlier|the latest) schema|Schema being registered is incompatible|error code: 409\b|failed to register a new schema [^\n]{0,300}?incompatible/,
    why: 'the schema registry refused the new schema as incompatible (409) with the subject\'s compatibility setting',
    hint: 'Review the schema change against the subject\'s compatibility level (or evolve the schema compatibly); a restart will only hit the same 409.',
  },
  {
    name: 'jsonconverter-envelope',
    class: 'serialization',
    tier: 'specific',
    message: /JsonConverter with schemas\.enable requires "schema" and "payload"/,
    why: 'JsonConverter with schemas.enable=true got JSON without the {schema, payload} envelope',
    hint: 'Set value.converter.schemas.enable=false (and key.converter.schemas.enable) for plain JSON, or have producers write the envelope; errors.tolerance=all with errors.deadletterqueue.topic.name can park bad records.',
  },
  {
    name: 'converter-failed',
    class: 'serialization',
    tier: 'specific',
    message: /Converting byte\[\] to Kafka Connect data failed due to serialization error|Failed to (?:de)?serialize (?:data|Avro data|JSON data|Protobuf data)|Error (?:de)?serializing (?:Avro|JSON|Json|Protobuf) (?:message|data)|Failed to access (?:Avro|JSON|Protobuf) data|Converting Kafka Connect data to byte\[\] failed/,
    why: 'the converter could not turn the record bytes into Connect data (or back), and no inner cause says a service was unreachable',
    hint: SERIALIZATION_HINT,
  },
  {
    name: 'schema-registry-lookup-failed',
    class: 'serialization',
    tier: 'specific',
    message: /Error retrieving (?:Avro|JSON|Json|Protobuf) (?:schema|unknown schema)|Error registering (?:Avro|JSON|Protobuf) schema/,
    why: 'the converter could not get the record\'s schema from the registry and no inner cause says the registry was unreachable (an unreachable registry is classed by that inner cause as connection)',
    hint: 'Check that the schema id/subject exists in the registry the converter points at (schema.registry.url) and the subject name strategy.',
  },
  {
    name: 'connect-struct-expected',
    class: 'serialization',
    tier: 'specific',
    type: /ClassCastException$/,
    message: /cannot be cast to (?:class )?org\.apache\.kafka\.connect\.data\.Struct/,
    match: 'all',
    why: 'the sink needs records with a schema (Struct) but got schemaless data (a Map): a converter or schemas.enable mismatch',
    hint: 'Use a converter that carries a schema (AvroConverter, JsonConverter with schemas.enable=true and the envelope) for this sink, or route such records to a dead-letter topic.',
  },
  {
    // The NullPointerException twin of connect-struct-expected: a sink that reads the value as a Struct without
    // checking (the Debezium JDBC sink's KafkaDebeziumSinkRecord.filterFields) gets null for a schemaless Map.
    name: 'connect-struct-null',
    class: 'serialization',
    tier: 'specific',
    type: /NullPointerException$/,
    message: /Cannot invoke "org\.apache\.kafka\.connect\.data\.Struct\.[A-Za-z]+\(/,
    match: 'all',
    why: 'the sink called a method of a Connect Struct that was null: the record (or a field it needs) carries no Struct, typically schemaless records (JSON with value.converter.schemas.enable=false) given to a sink that needs a schema; the same record fails again after a restart',
    hint: 'Give this sink records with a schema (AvroConverter, or JsonConverter with schemas.enable=true and the {schema, payload} envelope) and check what produces the topic.',
  },
  {
    name: 'connect-schema-required',
    class: 'serialization',
    tier: 'specific',
    message: /requires records with a non-null (?:Struct value and non-null Struct schema|schema)|doesn't have a mapping to the SQL database column type|Value schema must be of type Struct|Cannot list fields on non-struct type|Invalid value: null used for required field|Expected Struct but|schema is required/,
    why: 'the record\'s schema does not fit what the sink or the target table needs',
    hint: SERIALIZATION_HINT,
  },
  {
    name: 'elasticsearch-mapping',
    class: 'serialization',
    tier: 'specific',
    message: /mapper_parsing_exception|document_parsing_exception|strict_dynamic_mapping_exception|illegal_argument_exception[^\n]*mapper|Cannot create mapping/,
    why: 'Elasticsearch/OpenSearch refused the document or mapping: the record does not fit the index mapping',
    hint: 'Compare the record with the index mapping (or the mapping the connector generates, schema.ignore / key.ignore), or set behavior.on.malformed.documents=warn or route bad records to a dead-letter topic.',
  },
  {
    // Solr's DirectUpdateHandler2 words every document it cannot index "Exception writing document id … to the index;
    // possible analysis error" (an immense term, a value the field type refuses); SolrJ passes it on in a
    // RemoteSolrException/RouteException.
    name: 'solr-document-rejected',
    class: 'serialization',
    tier: 'specific',
    message: /Exception writing document id [^\n]{0,300}? to the index; possible analysis error/,
    why: 'Solr refused to index the record\'s document (a value its field type or analyzer cannot take); the same document fails again',
    hint: 'Compare the record with the Solr schema (field types, immense terms in string fields), or route such records to a dead-letter topic.',
  },
  {
    // Elasticsearch refuses every write to a closed index; its bulk answer names the error type.
    name: 'elasticsearch-index-closed',
    class: 'config',
    tier: 'specific',
    message: /\bindex_closed_exception\b/,
    why: 'Elasticsearch refuses writes to a closed index; the writes fail until someone reopens the index or the connector writes elsewhere',
    hint: 'Reopen the index (POST /<index>/_open) if it should take writes, or route the records to an open index (topic.index.map / a RegexRouter or TimestampRouter transform).',
  },
  {
    // Cassandra's answers to INSERT ... JSON (used by Cassandra sinks) for a value or a field the table cannot take.
    name: 'cassandra-json-insert-rejected',
    class: 'serialization',
    tier: 'specific',
    message: /Error decoding JSON value for \S|JSON values map contains unrecognized column/,
    why: 'Cassandra refused the record\'s JSON: a value not in the form the column type takes, or a field the table has no column for; the same record fails again after a restart',
    hint: 'Compare the record with the Cassandra table (column types and names), and map or cast the field (the connector\'s field mapping/KCQL, or a transform), or route such records to a dead-letter topic.',
  },
  {
    name: 'kafka-record-too-large',
    class: 'config',
    tier: 'specific',
    type: /RecordTooLargeException$/,
    message: /when serialized which is larger than|max\.request\.size|message\.max\.bytes|max\.message\.bytes/,
    why: 'the record exceeds the producer\'s max.request.size or the topic/broker message size limit; the same record fails again after a restart, so a size setting (or the data) must change',
    hint: 'Raise producer.override.max.request.size (with max.message.bytes on the topic and the broker) or make the records smaller.',
  },
  // PostgreSQL.
  {
    name: 'postgres-connection',
    class: 'connection',
    tier: 'specific',
    message: /The connection attempt failed|Connection to \S+ refused|terminating connection due to administrator command|Database connection failed when reading from copy|An I\/O error occurred while sending to the backend|This connection has been closed|the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections)|server closed the connection unexpectedly|Connection attempt timed out|terminating connection due to (?:idle-session timeout|conflict with recovery)|(?:SQLSTATE[:=]?\s*\(?|\(Error: )(?:08\d{3}|57P0[1-3])\b/,
    why: 'PostgreSQL was unreachable or ended the session (SQLSTATE class 08 or 57P01-57P03: refused, reset, shut down, restarted)',
    hint: 'Check that PostgreSQL is up and reachable from the worker (host, port, network policy).',
  },
  {
    name: 'pgoutput-publication-missing',
    class: 'config',
    tier: 'specific',
    message: /publication "[^"\n]{1,200}" does not exist[^\n]{0,100}\n[^\n]{0,20}Where: slot "[^"\n]{1,200}", output plugin "pgoutput"/,
    why: 'the publication was dropped while the replication slot still had changes to decode: pgoutput reads it with the catalog as it was at each change, so re-creating the publication does not heal the slot\'s position and every restart fails at the same LSN',
    hint: 'Re-create the publication (publication.name) if it is meant to exist, then move the connector to a fresh slot: a new slot.name (drop the old one with pg_drop_replication_slot) with snapshot.mode=when_needed, which snapshots the tables again; snapshot.mode=when_needed alone does not help while the old slot exists.',
  },
  {
    name: 'postgres-undefined-object',
    class: 'config',
    tier: 'specific',
    message: /(?:relation|table|column|schema|database|role|function|publication|type) "[^"]+"(?: of relation "[^"]+")? does not exist/,
    why: 'the database has no object by that name (SQLSTATE class 42/3D): a wrong name in the configuration or an object not created yet',
    hint: 'Check the object named in the root cause against the connector configuration (table/schema/database/publication names, table.include.list, topic-to-table mapping) and create it if it is meant to exist.',
  },
  {
    // SQLSTATE 58P01: the server cannot load the library, typically a logical decoding output plugin
    // (decoderbufs, wal2json) not installed. Debezium throws it as a JdbcConnectionException. A server
    // whose output_plugin_libraries leaves the plugin out (PostgreSQL 15.20 on the real stack) refuses it
    // under Debezium's "Creation of replication slot failed", which alone would read as a slot clash.
    name: 'postgres-plugin-file-missing',
    class: 'config',
    tier: 'specific',
    message: /could not access file "[^"\n]{1,200}": No such file or directory|library "[^"\n]{1,200}" may not be used as an output plugin/,
    why: 'PostgreSQL cannot load, or may not use, a library the connector asks for (SQLSTATE 58P01, or a plugin output_plugin_libraries does not list), typically a logical decoding output plugin; a restart asks for it again',
    hint: 'Set the connector\'s plugin.name to an output plugin the server has and allows (pgoutput is built in from PostgreSQL 10), or install the plugin on the database server (and add it to output_plugin_libraries where the server has that setting).',
  },
  {
    name: 'debezium-publication',
    class: 'config',
    tier: 'specific',
    message: /Publication autocreation is disabled|must be superuser to create FOR ALL TABLES publication|Unable to (?:create|update) filtered publication/,
    why: 'Debezium needs a publication that does not exist and may not create it (publication.autocreate.mode)',
    hint: 'Create the publication named by publication.name (CREATE PUBLICATION ... FOR TABLE ...) or set publication.autocreate.mode=filtered/all_tables for a role allowed to create it.',
  },
  {
    name: 'postgres-replication-slots-exhausted',
    class: 'config',
    tier: 'specific',
    message: /all replication slots are in use/,
    why: 'PostgreSQL has no free replication slot (max_replication_slots), typically held by inactive slots of deleted connectors; PostgreSQL does not free them by itself, so a restart asks again and fails',
    hint: 'Drop the replication slots nothing uses any more (pg_replication_slots where active is false; SELECT pg_drop_replication_slot(...)) or raise max_replication_slots (a PostgreSQL restart).',
  },
  {
    name: 'debezium-replication-slot-conflict',
    class: 'config',
    tier: 'specific',
    message: /replication slot "[^"]+" already exists|Creation of replication slot failed/,
    why: 'the replication slot name is already taken, typically by another connector on the same database',
    hint: 'Give each connector its own slot.name, or drop the stale slot (SELECT pg_drop_replication_slot(...)) if nothing uses it.',
  },
  {
    name: 'postgres-replication-slot-active',
    class: 'connection',
    tier: 'specific',
    message: /replication slot "[^"]+" is active for PID/,
    why: 'another backend still holds the replication slot. Classed as connection: most often it is the task\'s own previous walsender that PostgreSQL has not reaped yet (wal_sender_timeout), which clears by itself; a second connector sharing the slot fails every restart, and under the default heal.actions.connection (restart) is paged once restarts did not fix it',
    hint: 'If it keeps failing, look at pg_replication_slots / pg_stat_replication for the active_pid holding the slot and make sure only one connector uses this slot.name.',
  },
  {
    name: 'database-server-settings',
    class: 'config',
    tier: 'specific',
    message: /requires GTID_MODE to be ON|binlog_format|binlog_row_image|The MySQL server is not configured to use a (?:ROW|FULL)|Cannot read the binlog filename and position|logical decoding requires wal_level|wal_level must be|is not configured for CDC|Change data capture is not enabled|supplemental logging/i,
    why: 'the database server is not set up for change data capture (binlog off or not ROW, GTID, wal_level, CDC/supplemental logging)',
    hint: 'Enable the database setting named in the root cause (MySQL/MariaDB log_bin with binlog_format=ROW/binlog_row_image=FULL/GTID, PostgreSQL wal_level=logical, SQL Server CDC, Oracle supplemental logging).',
  },
  {
    name: 'debezium-schema-history-missing',
    class: 'config',
    tier: 'specific',
    message: /db history topic is missing|(?:db|schema) history topic or its content is fully or partially missing|The db history topic or its content|database schema history (?:topic )?(?:is )?(?:missing|not present)|whose schema isn't known to this connector/i,
    why: 'Debezium\'s schema history topic is missing or incomplete; it cannot resume without it and a restart reads the same topic',
    hint: 'Check schema.history.internal.kafka.topic (database.history.kafka.topic) and its retention (it must be infinite), then recover with a schema-only/recovery snapshot as the Debezium docs describe.',
  },
  {
    // Debezium's TableSchemaBuilder: a change row does not fit the table schema the connector holds ("Data row is
    // smaller than a column index", "Too few schema fields", …; "represantion" in older releases): the schema history
    // or the capture setup no longer matches the table, and every restart replays the same change.
    name: 'debezium-schema-out-of-sync',
    class: 'config',
    tier: 'specific',
    message: /internal schema repres(?:entation|antion) is probably out of sync with (?:the )?real database schema/i,
    why: 'Debezium\'s schema of the table no longer matches the change rows it reads (the table changed after the stored position, or the capture covers other columns than the table); a restart replays the same change',
    hint: 'Recover the schema history (a schema-only recovery snapshot, or a new snapshot), and check that CDC captures the whole table (SQL Server: the capture instance\'s column list).',
  },
  {
    name: 'debezium-offset-no-longer-available',
    class: 'config',
    tier: 'specific',
    message: /is trying to read (?:change stream|binlog|the transaction log)[\s\S]*no longer available on the server|no longer available on the server\. Reconfigure the connector|Could not find first log file name in binary log index file|do not contain the offset scn|requested WAL segment \S+ has already been removed|ResumeToken not found|\bChangeStreamHistoryLost\b|resume point may no longer be in the oplog/i,
    why: 'the stored source offset points at a log position the database no longer has (purged binlog/WAL/oplog, a PostgreSQL replication slot dropped under the connector, or a connector name reused with old offsets); every restart reads the same offset',
    hint: 'Reconfigure the connector with a snapshot mode that can recover (e.g. snapshot.mode=when_needed), or give a recreated connector a new name so it does not inherit the old offsets.',
  },
  {
    // Debezium (every relational connector) in a recovery snapshot mode (schema_only_recovery, recovery) with
    // no stored offset for the connector's partition: MySQL says "binlog", the others "redo log".
    name: 'debezium-recovery-snapshot-without-offset',
    class: 'config',
    tier: 'specific',
    message: /Could not find existing (?:binlog|redo log) information while attempting schema only recovery snapshot/,
    why: 'the connector runs a recovery snapshot mode (schema_only_recovery / recovery), which rebuilds the schema history from a stored offset, but it has no stored offset (a new or renamed connector, deleted offsets, or an offset key that no longer matches); every restart finds none',
    hint: 'For a connector without offsets use snapshot.mode=initial or no_data (schema_only) instead of a recovery mode; to recover an existing one, keep its name and topic.prefix so it finds its stored offsets.',
  },
  {
    name: 'mysql-duplicate-server-id',
    class: 'config',
    tier: 'specific',
    message: /A (?:slave|replica) with the same server_uuid\/server_id/,
    why: 'another binlog client uses the same database.server.id, so MySQL drops one of them (error 1236)',
    hint: 'Give every MySQL connector (and any other replica client) a unique database.server.id.',
  },
  {
    name: 'debezium-ddl-unparseable',
    class: 'unknown',
    tier: 'specific',
    message: /DDL statement couldn't be parsed|Parsing failed for DDL|Cannot parse DDL/i,
    why: 'Debezium could not parse a DDL statement from the log: a parser limitation, neither a connection nor a setting the operator got wrong',
    hint: 'Report the statement to Debezium; schema.history.internal.skip.unparseable.ddl=true skips it at the risk of a wrong schema.',
  },
  // MySQL / MariaDB, SQL Server, Oracle, generic JDBC.
  {
    name: 'mysql-communications-failure',
    class: 'connection',
    tier: 'specific',
    type: /CommunicationsException$/,
    message: /Communications link failure|The last packet sent successfully to the server|Could not create connection to database server|Lost connection to MySQL server|MySQL server has gone away/,
    why: 'the MySQL/MariaDB driver lost or could not open its connection',
    hint: 'Check that the MySQL/MariaDB server is up and reachable from the worker (host, port, firewall, max_connections).',
  },
  {
    name: 'sqlserver-tcp-connection',
    class: 'connection',
    tier: 'specific',
    message: /The TCP\/IP connection to the host .{0,200}has failed|SQL Server did not return a response|Connection reset ClientConnectionId|The connection is closed\./,
    why: 'the SQL Server driver could not reach the server or lost the connection',
    hint: 'Check that SQL Server is up and accepts TCP/IP connections on the configured host and port (firewall, instance name).',
  },
  {
    name: 'oracle-connection',
    class: 'connection',
    tier: 'specific',
    type: /SQLRecoverableException$/,
    message: /IO Error:|ORA-03113|ORA-03114|ORA-12541|ORA-12170|ORA-12537|ORA-01033|ORA-01089|Closed Connection|No more data to read from socket/,
    why: 'the Oracle driver lost or could not open its connection (a recoverable SQL exception, listener/network errors)',
    hint: 'Check that the Oracle listener and instance are up and reachable from the worker.',
  },
  {
    // Before jdbc-sql-syntax: MariaDB's driver throws error 1366 (SQLSTATE 22007, a data exception) as a
    // SQLSyntaxErrorException; it is a value the column refuses, not a query to fix.
    name: 'jdbc-column-type-mismatch',
    class: 'serialization',
    tier: 'specific',
    message: /column "[^"\n]{1,200}" is of type [^\n]{1,100}? but expression is of type|Incorrect [a-z]+ value: '[^\n]{0,300}?' for column/,
    why: 'a column of the target table does not take the record\'s value (PostgreSQL 42804 datatype mismatch, MySQL/MariaDB 1366 incorrect value): the record\'s field type and the table disagree, and the same record fails again after a restart',
    hint: 'Compare the record\'s schema with the target table (a field type changed upstream, or a table created by hand): alter the column, or cast the field with a transform (e.g. org.apache.kafka.connect.transforms.Cast).',
  },
  {
    name: 'postgres-invalid-text',
    class: 'serialization',
    tier: 'specific',
    message: /invalid byte sequence for encoding "[^"\n]{1,40}"/,
    why: 'PostgreSQL refuses a character of the record\'s text (a NUL byte, or bytes not valid in the database encoding, SQLSTATE 22021): the same record fails again after a restart',
    hint: 'Strip or replace the character upstream or with a transform (PostgreSQL text cannot hold NUL bytes), or route such records to a dead-letter topic (errors.tolerance=all).',
  },
  {
    name: 'jdbc-unique-violation',
    class: 'config',
    tier: 'specific',
    message: /duplicate key value violates unique constraint|Duplicate entry '[^\n]{0,300}?' for key/,
    why: 'the sink inserts a row whose key already exists in the target table (PostgreSQL 23505, MySQL/MariaDB 1062): in insert mode a redelivered or repeated record fails this way, and a restart re-sends the same record',
    hint: 'Use insert.mode=upsert with primary.key.mode / primary.key.fields, so that redelivered records are idempotent, or remove the conflicting row if it should not be there.',
  },
  {
    // Snowflake's own error table (SnowflakeErrors.java): 0xxx are connector configuration errors, and
    // 1005/1006 an authorization error or a key it cannot use. Only the codes that name configuration:
    // 0010/0011/0012/0019/0024/0025 (a record, a registry lookup, an unreachable registry) and 0008 are left out.
    // The code must be followed by Snowflake's `Detail:` line, so another product's "Error Code: 0002" does not match.
    name: 'snowflake-connector-config',
    class: 'config',
    tier: 'specific',
    message: /Error Code: (?:000[1-79]|001[3-8]|002[0-3]|002[6-9]|003[01]|100[56])(?:\\n|\s)+(?:\[SF_KAFKA_CONNECTOR\] )?Detail: /,
    why: 'the Snowflake connector reports one of its configuration error codes (0xxx: an invalid or missing setting, a private key or passphrase it cannot read; 1005/1006: an authorization error or an unusable key)',
    hint: 'Fix the Snowflake connector setting named in the message (snowflake.private.key / snowflake.private.key.passphrase, snowflake.url.name, user, database, schema, topic2table map, proxy), then restart the connector.',
  },
  {
    name: 'jdbc-object-missing',
    class: 'config',
    tier: 'specific',
    message: /ORA-00942|ORA-00904|Unknown database '[^']*'|Table '[^']+' doesn't exist|Unknown column '[^']+'|Invalid object name '[^']+'|Invalid column name '[^']+'|Could not find table: \S| is missing and auto-creation is disabled|\bDatabase '[^'\n]{1,200}' does not exist/,
    why: 'the database has no table, column or database by that name: a wrong name in the configuration or a missing object',
    hint: 'Check the table/database/column named in the root cause against the connector configuration and the database (a sink with schema.evolution=none / auto.create=false does not create it).',
  },
  {
    name: 'jdbc-sql-syntax',
    class: 'config',
    tier: 'specific',
    type: /SQLSyntaxErrorException$/,
    message: /syntax error at (?:or near|end of input)|You have an error in your SQL syntax|ORA-00933|Incorrect syntax near/,
    why: 'the database rejected the SQL (SQLSTATE class 42): a query or a name in the connector configuration is wrong for this database',
    hint: 'Check the query / table names in the connector configuration (query, table.whitelist, quote.sql.identifiers, dialect) against the database.',
  },
  {
    name: 'hibernate-no-jdbc-metadata',
    class: 'unknown',
    tier: 'specific',
    message: /Unable to determine Dialect without JDBC metadata/,
    why: 'Hibernate (in the Debezium JDBC sink) could not open a connection to read the database metadata and the trace keeps no cause: a database that is down, a wrong password and an unknown user read the same. Classed as unknown: a database that comes back heals with a restart, and under the default heal.actions.unknown (restart) a credential problem is paged once restarts did not fix it',
    hint: 'The cause is only in the worker log, in the warning logged just before (Hibernate 7: "HHH100046: Could not obtain connection to query JDBC database metadata", with the driver\'s exception). Check connection.url / connection.username / connection.password and that the database is up; with hibernate.dialect set in the connector (e.g. org.hibernate.dialect.PostgreSQLDialect) the task trace carries the driver\'s exception.',
  },
  {
    name: 'jdbc-no-driver',
    class: 'config',
    tier: 'specific',
    message: /No suitable driver found for/,
    why: 'no JDBC driver on the plugin path accepts that connection URL',
    hint: 'Put the database\'s JDBC driver jar next to the connector in plugin.path (and restart the worker) or fix the connection URL.',
  },
  // Kafka Connect and Kafka client conditions.
  {
    name: 'connect-missing-configuration',
    class: 'config',
    tier: 'specific',
    // Debezium checks its task, sink and schema history settings with validateAndRecord and, when one fails,
    // logs each problem ("The '…' value is invalid: …") and throws only "Error configuring an instance of
    // <class>; check the logs for details".
    message: /Missing required configuration|Missing (?:[\w.]+ )?config\b|Connector configuration is invalid|The '[^']+' value is invalid|Invalid value [^\n]{0,300}? for configuration|Unknown configuration '[^']+'|^Error configuring an instance of /,
    why: 'the connector or worker configuration is missing a setting or has an invalid value',
    hint: 'Set the configuration key named in the root cause; for Debezium\'s "Error configuring an instance of …" the worker log names it ("The \'…\' value is invalid"). GET /connector-plugins/<class>/config/validate lists every problem.',
  },
  {
    name: 'connect-plugin-missing',
    class: 'config',
    tier: 'specific',
    message: /Failed to find any class that implements (?:Connector|Converter|Transformation|HeaderConverter|Predicate)|Class [\w.$]+ could not be found|Could not initialize class/,
    why: 'a connector, converter or transform class (or a library it needs) is not on the worker\'s plugin path',
    hint: 'Install the plugin with all its jars in a directory on plugin.path on every worker, then restart the workers.',
  },
  {
    // Apache Camel (camel-kafka-connector) could not build the endpoint from its URI: an unknown component or
    // kamelet, an invalid URI or option. Creating an endpoint does not connect, so this is not an outage.
    name: 'camel-endpoint-unresolvable',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)ResolveEndpointFailedException$/,
    why: 'Camel could not resolve the endpoint URI (an unknown component or kamelet, an invalid URI or option): an installation or configuration problem that a restart repeats',
    hint: 'Check the camel.* settings that build the endpoint URI and that the connector package (with its kamelets and component jars) is complete on plugin.path.',
  },
  {
    name: 'connect-too-many-tasks',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)TooManyTasksException$/,
    message: /has generated \d+ tasks, which is greater than \d+, the maximum number of tasks/,
    why: 'the connector generated more task configs than its tasks.max (Connect 3.8+ fails it, KIP-1004); a restart generates the same ones again',
    hint: "Raise tasks.max to what the connector generates (or fix the connector, which ignores it); 'tasks.max.enforce=false' lets it run meanwhile.",
  },
  {
    name: 'filesystem-missing-path',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)(?:NoSuchFileException|NotDirectoryException|FileNotFoundException|FileSystemNotFoundException)$/,
    message: /Couldn't find or create file/,
    why: 'a configured file or directory does not exist (or cannot be created)',
    hint: 'Check the path in the connector configuration (file, topics.dir, keystore/truststore locations) and that it exists on every worker.',
  },
  {
    name: 'tls-certificate',
    class: 'config',
    tier: 'specific',
    type: /(?:SunCertPathBuilderException|CertPathValidatorException|CertificateExpiredException|CertificateNotYetValidException)$/,
    message: /PKIX path building failed|unable to find valid certification path|No subject alternative (?:DNS )?names? |No name matching [^\n]{0,300}? found|certificate_unknown|bad_certificate|unknown_ca|certificate (?:has )?expired|CertificateExpired|No appropriate protocol|selected protocol version \S+ is not accepted|Received fatal alert: handshake_failure|Unrecognized SSL message, plaintext connection|Keystore was tampered with|keystore password was incorrect/,
    why: 'the TLS handshake failed on the certificate, the trust store or the protocol: a configuration problem that a restart repeats',
    hint: 'Check the truststore/keystore the client uses (ssl.truststore.location, the CA that signed the server certificate, host name in the certificate, allowed TLS versions).',
  },
  {
    name: 'kafka-ssl-handshake',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)SslAuthenticationException$/,
    why: 'the SSL handshake with the broker failed and no inner cause says the connection was merely cut',
    hint: 'Check security.protocol and the ssl.* settings of the worker and of the connector\'s client overrides against the broker listener.',
  },
  {
    name: 'tls-handshake-interrupted',
    class: 'connection',
    tier: 'specific',
    type: /(?:SSLHandshakeException|SSLException)$/,
    message: /Remote host terminated the handshake|SSL peer shut down incorrectly|Connection reset|Broken pipe|Read timed out/,
    match: 'all',
    why: 'the TLS handshake was cut by the network (EOF/reset/timeout) rather than refused on a certificate',
    hint: CLASS_HINTS.connection,
  },
  {
    // Innermost first, so it decides before the send-callback wrapper around it: with delivery.timeout.ms
    // overridden (Connect's own is infinite), a broker outage expires batches, and a restart re-sends them.
    name: 'kafka-producer-batch-expired',
    class: 'connection',
    tier: 'specific',
    type: /(?:^|\.)TimeoutException$/,
    message: /Expiring \d+ record\(s\) for /,
    match: 'all',
    why: 'the producer could not deliver a batch within delivery.timeout.ms: the brokers or the partition leader were unreachable',
    hint: 'Check the Kafka brokers and the partition leaders. A delivery.timeout.ms overridden below Connect\'s default makes this likelier.',
  },
  {
    name: 'kafka-producer-send-unrecoverable',
    class: 'config',
    tier: 'specific',
    message: /Unrecoverable exception from producer send callback/,
    why: 'Connect gives its producer infinite retries, so only non-retriable send errors reach this callback (KAFKA-8586): authorization, a missing or invalid topic, a record too large; a restart re-sends the same record',
    hint: 'Look in the worker log for the producer error just before this (TopicAuthorizationException, UnknownTopicOrPartition, RecordTooLargeException) and fix the ACL, topic or size setting.',
  },
  {
    name: 'kafka-client-construction',
    class: 'config',
    tier: 'specific',
    message: /Failed to construct kafka (?:producer|consumer|admin client)|Failed to create new KafkaAdminClient|No resolvable bootstrap urls given in bootstrap\.servers/,
    why: 'a Kafka client could not even be built from its configuration (bootstrap.servers, serializers, security settings)',
    hint: 'Check the client settings the connector uses (bootstrap.servers and the security.* / sasl.* / ssl.* overrides).',
  },
  {
    name: 'kafka-broker-unavailable',
    class: 'connection',
    tier: 'specific',
    message: /Timeout expired while fetching topic metadata|Failed to update metadata after|not present in metadata after|Broker may not be available|Failed to connect to and describe Kafka cluster|Disconnected from node|Node -?\d+ disconnected|Connection to node -?\d+ .{0,80}could not be established/,
    why: 'the Kafka brokers were unreachable or did not answer in time',
    hint: 'Check the Kafka brokers and the network between them and the Connect worker.',
  },
  // HTTP clients (Elasticsearch/OpenSearch, REST sinks, cloud SDKs).
  {
    name: 'http-server-error',
    class: 'connection',
    tier: 'specific',
    message: /\bHTTP(?:\/\d(?:\.\d)?)?\s+5(?!01|05)\d\d\b|\b(?:Status Code|Response code|status code):?\s*5(?!01|05)\d\d\b|"status"\s*:\s*5(?!01|05)\d\d\b|; error code: 50\d{3}\b|\b50[234] (?:Bad Gateway|Service Unavailable|Gateway Time-?out)\b|es_rejected_execution_exception|\b429 Too Many Requests\b|SlowDown/,
    why: 'the remote service answered 5xx/429: it is failing or overloaded on its side',
    hint: 'Check the health and load of the remote service.',
  },
  {
    // Envoy's local reply (Istio and other service meshes, gateways) when it could not connect to the upstream or the
    // upstream reset the stream before answering; the reason (connection failure/termination, overflow) is transient.
    name: 'proxy-upstream-reset',
    class: 'connection',
    tier: 'specific',
    message: /upstream connect error or disconnect\/reset before headers/,
    why: 'a proxy in front of the service (Envoy, an Istio sidecar or gateway) could not reach it or lost the connection before it answered',
    hint: 'Check the service behind the proxy and the proxy (sidecar) itself.',
  },
  {
    // ClickHouse server errors end with their name from ErrorCodes.cpp: "Code: 241. DB::Exception: … (MEMORY_LIMIT_EXCEEDED)".
    // These are the codes ClickHouse's Java client (client-v2 Utils.isRetryable) and Kafka sink (Utils.handleException)
    // retry: the server is busy, short of memory or replicas, or lost the connection; a later attempt goes through.
    // Not READONLY, which they retry too: it is also a user whose readonly setting forbids inserts, for good.
    // The message before the name can be long (the query, the view), hence the wider bounded gap.
    name: 'clickhouse-transient-server-error',
    class: 'connection',
    tier: 'specific',
    message: /\bDB::Exception: [^\n]{0,2000}?\((?:UNEXPECTED_END_OF_FILE|TIMEOUT_EXCEEDED|TOO_MANY_SIMULTANEOUS_QUERIES|NO_FREE_CONNECTION|SOCKET_TIMEOUT|NETWORK_ERROR|MEMORY_LIMIT_EXCEEDED|TABLE_IS_READ_ONLY|TOO_MANY_PARTS|TOO_FEW_LIVE_REPLICAS|UNKNOWN_STATUS_OF_INSERT|KEEPER_EXCEPTION)\)/,
    why: 'ClickHouse refused the insert for a condition on its side that its own client retries (busy, short of memory or live replicas, too many parts, a lost connection); a later attempt goes through',
    hint: 'Check the ClickHouse server\'s load, memory and replicas (system.errors, system.query_log); if it recurs, send smaller or fewer batches.',
  },
  {
    // ClickHouse's names (ErrorCodes.cpp) for a value it cannot parse or convert into the column's type: the record's
    // data, not the server; the same rows fail again after a restart.
    name: 'clickhouse-record-rejected',
    class: 'serialization',
    tier: 'specific',
    message: /\bDB::Exception: [^\n]{0,2000}?\((?:CANNOT_PARSE_[A-Z_]+|TYPE_MISMATCH|CANNOT_CONVERT_TYPE|INCORRECT_DATA|CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN|VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE)\)/,
    why: 'ClickHouse could not parse or convert a value of the record into the column\'s type (CANNOT_PARSE_…, TYPE_MISMATCH, a NULL into a non-Nullable column); the same rows fail again',
    hint: 'Compare the record with the table (and any materialized view reading it): fix the data or the column types, or route such records to a dead-letter topic (errors.tolerance=all).',
  },
  {
    name: 'http-client-connection',
    class: 'connection',
    tier: 'specific',
    type: /(?:ConnectionClosedException|NoHttpResponseException|ConnectTimeoutException|HttpHostConnectException|ConnectionPoolTimeoutException|ConnectionRequestTimeoutException|HttpTimeoutException)$/,
    message: /failed to respond|Connection is closed|Unable to execute HTTP request|Connection pool shut down/,
    why: 'the HTTP client could not connect, timed out, or the server closed the connection without an answer',
    hint: CLASS_HINTS.connection,
  },
  {
    // gRPC (Google Cloud clients such as Pub/Sub, Spanner, Bigtable; shaded copies too): UNAVAILABLE is the
    // status gRPC defines as transient and retryable with backoff, DEADLINE_EXCEEDED a call that ran out of
    // time. Other statuses (UNKNOWN, CANCELLED, INVALID_ARGUMENT, NOT_FOUND, ...) are not transient in general.
    name: 'grpc-unavailable',
    class: 'connection',
    tier: 'specific',
    type: /(?:^|\.)io\.grpc\.Status(?:Runtime)?Exception$/,
    message: /^(?:UNAVAILABLE|DEADLINE_EXCEEDED)\b/,
    match: 'all',
    why: 'the gRPC call failed with UNAVAILABLE (the service or the connection to it is down, which gRPC defines as transient) or DEADLINE_EXCEEDED (it did not answer in time)',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'unreachable-service',
    class: 'connection',
    tier: 'specific',
    message: /due to connection error|Could not reach any contact point|All host\(s\) tried for query failed|NoNodeAvailableException|No (?:live|available) (?:nodes|hosts|connections)|Could not connect to (?:Elasticsearch|OpenSearch|server)|Failed to connect to |Unable to connect to |Connection is not available, request timed out|Cannot get a connection/,
    why: 'the task could not reach the system it reads from or writes to',
    hint: CLASS_HINTS.connection,
  },
  {
    // The MongoDB Java driver's MongoSocketException family: its socket to the server failed to open, was
    // cut, or timed out (the same types in every connector that embeds the driver: mongo-kafka, Debezium).
    name: 'mongodb-network',
    class: 'connection',
    tier: 'specific',
    type: /(?:^|\.)MongoSocket(?:Read|Write|Open|Closed|ReadTimeout)?Exception$/,
    why: 'the MongoDB driver\'s connection to the server failed or was cut (MongoSocketException: open, read, write, closed, read timeout)',
    hint: CLASS_HINTS.connection,
  },
  {
    // The two Java Redis clients: Lettuce (RedisConnectionException, RedisCommandTimeoutException) and Jedis.
    name: 'redis-connection',
    class: 'connection',
    tier: 'specific',
    type: /(?:^|\.)(?:RedisConnectionException|RedisCommandTimeoutException|JedisConnectionException)$/,
    why: 'the Redis client could not connect to Redis, lost the connection, or a command timed out',
    hint: 'Check that Redis is up and reachable from the worker (host, port, TLS).',
  },
  {
    // Confluent's S3 sink (S3OutputStream) wraps any failure of a multipart upload to S3 in a DataException;
    // the record was already formatted, so it is the call to S3 that failed. A credentials or permission
    // cause in the chain is still config (precedence).
    name: 's3-multipart-upload',
    class: 'connection',
    tier: 'specific',
    message: /^(?:Multipart upload failed to complete\.|Part upload failed: |Unable to initiate MultipartUpload: )/,
    why: 'the S3 sink could not upload a file part to S3 or complete the upload (its DataException wraps an S3 call, not a bad record)',
    hint: 'Check that S3 (or the S3-compatible endpoint) is reachable from the worker and healthy.',
  },
  {
    // S3's error code and message for a missing bucket (also GCS's wording), and Confluent's S3 sink's own
    // start-up check, which it throws as a DataException (read as a bad record without this rule).
    name: 'storage-bucket-missing',
    class: 'config',
    tier: 'specific',
    message: /\bNoSuchBucket\b|The specified bucket does not exist|\b(?:Non-?|No-)existent S3 bucket\b/,
    why: 'the bucket the connector is configured to use does not exist; every restart looks for it again',
    hint: 'Check the bucket name (s3.bucket.name / gcs.bucket.name, without a path), its region and endpoint, or create the bucket.',
  },
  {
    // The AWS SDK (v1 com.amazonaws…, v2 software.amazon.awssdk…) throws QueueDoesNotExistException, error code
    // AWS.SimpleQueueService.NonExistentQueue, for a queue URL or name that does not exist in that account and region.
    name: 'sqs-queue-missing',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)QueueDoesNotExistException$/,
    why: 'the SQS queue the connector is configured to use does not exist (in that account and region); every poll looks for it again',
    hint: 'Check the queue URL or name (sqs.url, camel.kamelet.aws-sqs-source.queueNameOrArn) and its region, or create the queue.',
  },
  {
    // Apache Iceberg's catalogs (Glue, Hive, REST, Nessie, JDBC) throw these when the named table or namespace
    // does not exist, and for a name they cannot take (Glue: "Invalid table identifier").
    name: 'iceberg-no-such-table',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)iceberg\.exceptions\.NoSuch(?:Table|Namespace|View)Exception$/,
    why: 'the Iceberg catalog has no table or namespace by that name, or cannot take the name as an identifier; every restart looks it up again',
    hint: 'Check the table names in iceberg.tables (namespace.table, in a form the catalog accepts: Glue takes no hyphens) and create the table or namespace, or set iceberg.tables.auto-create-enabled=true.',
  },
  // java.net / java.io.
  {
    name: 'unknown-host',
    class: 'connection',
    tier: 'specific',
    type: /UnknownHostException$/,
    message: /UnknownHostException|Name or service not known|Temporary failure in name resolution|nodename nor servname provided|No address associated with hostname/,
    why: 'the host name did not resolve. Classed as connection: DNS blips and services not yet registered are common in Kubernetes and cloud networks and clear by themselves; a misspelt host fails every restart the same way, and under the default heal.actions.connection (restart) is paged once restarts did not fix it',
    hint: 'If it keeps failing, check the host name in the connector configuration and the worker\'s DNS.',
  },
  {
    name: 'connection-refused',
    class: 'connection',
    tier: 'specific',
    message: /Connection refused|ECONNREFUSED|No route to host|Network is unreachable|Host is unreachable/,
    why: 'nothing accepted the connection: the service is down, restarting, or not reachable from the worker',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'socket-timeout',
    class: 'connection',
    tier: 'specific',
    type: /(?:SocketTimeoutException|InterruptedIOException|HttpConnectTimeoutException)$/,
    message: /Read timed out|Write timed out|connect timed out|Connection timed out|timeout on connection|timed out waiting for/,
    why: 'the connection, or a read or write on it, timed out',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'connection-dropped',
    class: 'connection',
    tier: 'specific',
    type: /^(?:java\.io\.)?EOFException$|(?:^|\.)(?:SocketException|ClosedChannelException|AsynchronousCloseException|ConnectionResetException)$/,
    message: /Connection reset|reset by peer|Broken pipe|Socket closed|Connection closed by|connection was closed|Connection is closed|SSL peer shut down incorrectly/,
    why: 'the connection was cut mid-use (EOF, reset, broken pipe)',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'java-net-connect',
    class: 'connection',
    tier: 'specific',
    type: /^java\.net\.(?:ConnectException|NoRouteToHostException|PortUnreachableException|SocketException|HttpRetryException)$/,
    why: 'a java.net connection failure',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'jdbc-transient-connection',
    class: 'connection',
    tier: 'specific',
    type: /(?:SQLTransientConnectionException|SQLRecoverableException|SQLTimeoutException)$/,
    why: 'the JDBC driver reports a transient or recoverable connection failure',
    hint: CLASS_HINTS.connection,
  },
  {
    // JDBC's SQLTransactionRollbackException (SQLSTATE class 40, a SQLTransientException) and the drivers'
    // own names for it: the database rolled the transaction back as a deadlock victim or serialization failure.
    name: 'jdbc-transaction-rollback',
    class: 'connection',
    tier: 'specific',
    type: /TransactionRollbackException$/,
    message: /Deadlock found when trying to get lock|\bdeadlock detected\b|was deadlocked on lock|Lock wait timeout exceeded; try restarting transaction|could not serialize access due to (?:concurrent update|read\/write dependencies among transactions)/,
    why: 'the database rolled the transaction back as a deadlock victim, a serialization failure (SQLSTATE class 40) or after a lock wait timeout (MySQL 1205): a transient conflict with another transaction; retrying it succeeds',
    hint: 'If it keeps happening, look for concurrent writers to the same rows (several sink tasks on one table, batch.size) in the database\'s deadlock log.',
  },
  {
    name: 'kafka-retriable-broker-error',
    class: 'connection',
    tier: 'specific',
    type: /(?:NetworkException|DisconnectException|NotEnoughReplicasException|NotEnoughReplicasAfterAppendException|LeaderNotAvailableException|NotLeaderOrFollowerException|NotLeaderForPartitionException|CoordinatorNotAvailableException|BrokerNotAvailableException|NotCoordinatorException)$/,
    why: 'a transient broker-side condition (leader election, replicas catching up, disconnect)',
    hint: 'Check the Kafka brokers\' health (under-replicated partitions, leader elections).',
  },

  // ───────────── specific: exception types alone ─────────────
  {
    name: 'jvm-out-of-memory',
    class: 'unknown',
    tier: 'specific',
    type: /OutOfMemoryError$/,
    why: 'the worker JVM ran out of memory: not a property of the connector\'s inputs that the classes above describe; a restart may relieve it for a while',
    hint: 'Check the worker heap (KAFKA_HEAP_OPTS), the batch/buffer sizes of the connector (batch.size, max.poll.records, flush sizes) and how many tasks share the worker.',
  },
  {
    name: 'plugin-class-missing',
    class: 'config',
    tier: 'specific',
    type: /(?:ClassNotFoundException|NoClassDefFoundError|NoSuchMethodError|AbstractMethodError|IncompatibleClassChangeError|UnsatisfiedLinkError|ServiceConfigurationError)$/,
    why: 'a class the plugin needs is missing or a different version is on the class path: a missing jar or a version clash in plugin.path',
    hint: 'Install the plugin with all its dependency jars in its own directory on plugin.path (no copies of Kafka or Connect jars inside it), on every worker, then restart the workers.',
  },
  {
    name: 'kafka-replication-factor',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)InvalidReplicationFactorException$/,
    why: 'a topic could not be created with its replication factor: fewer brokers are usable than it asks for. Classed as config: a factor above the cluster\'s size (a sink\'s dead-letter topic, whose factor defaults to 3, on a smaller cluster; topic.creation.default.replication.factor copied from a bigger one) fails every restart the same way. The same error while brokers are down (a rolling restart) clears once they are back, after one page',
    hint: 'Compare the replication factor in the root cause with the brokers the cluster has, and lower the setting that asked for it: errors.deadletterqueue.topic.replication.factor (default 3) for a sink\'s dead-letter topic, topic.creation.default.replication.factor for a source (-1 takes the brokers\' default.replication.factor); then restart the task. If brokers were down, restart the task once they are back.',
  },
  {
    name: 'kafka-config-exception',
    class: 'config',
    tier: 'specific',
    type: /(?:^|\.)(?:ConfigException|InvalidConfigurationException|InvalidTopicException|UnknownTopicOrPartitionException|TopicExistsException|PolicyViolationException|InvalidPartitionsException|InvalidReplicaAssignmentException)$/,
    why: 'Kafka or Connect rejected a configuration value or a topic',
    hint: 'Fix the setting or topic named in the root cause (GET /connector-plugins/<class>/config/validate lists configuration problems).',
  },
  {
    name: 'avro-schema-error',
    class: 'serialization',
    tier: 'specific',
    type: /^org\.apache\.avro\.(?:AvroRuntimeException|AvroTypeException|SchemaParseException|UnresolvedUnionException)$/,
    why: 'Avro could not read or write the record with the schema at hand',
    hint: SERIALIZATION_HINT,
  },
  {
    name: 'json-parse',
    class: 'serialization',
    tier: 'specific',
    type: /(?:JsonParseException|JsonMappingException|MismatchedInputException|JsonEOFException|InvalidFormatException|JsonProcessingException)$/,
    why: 'the record bytes are not the JSON the converter expects',
    hint: 'Check what produces the topic: value.converter=JsonConverter needs JSON (use StringConverter or ByteArrayConverter otherwise), or route bad records to a dead-letter topic with errors.tolerance=all and errors.deadletterqueue.topic.name.',
  },
  {
    name: 'connect-data-exception',
    class: 'serialization',
    tier: 'specific',
    // SchemaBuilderException and SchemaProjectorException are DataException subclasses of the Connect data API.
    type: /(?:^|\.)(?:DataException|SchemaBuilderException|SchemaProjectorException)$/,
    why: 'Kafka Connect\'s DataException (or its SchemaBuilderException/SchemaProjectorException): a record or its schema could not be converted or validated',
    hint: SERIALIZATION_HINT,
  },
  {
    name: 'kafka-serialization-exception',
    class: 'serialization',
    tier: 'specific',
    type: /(?:^|\.)(?:SerializationException|RecordDeserializationException)$/,
    why: 'a serializer/deserializer failed on the record and no inner cause says a service was unreachable',
    hint: SERIALIZATION_HINT,
  },

  // ───────────── fallback: weak signals, used only when nothing specific matched ─────────────
  {
    name: 'kafka-retriable',
    class: 'connection',
    tier: 'fallback',
    type: /(?:^|\.)RetriableException$/,
    // The JDBC sinks (Confluent's, Aiven's) throw every SQLException as a RetriableException while retries
    // remain, whatever its cause: there the flag says nothing about transience, so the SQL error is left to
    // the other rules and an unrecognised one stays unknown.
    unless: /^(?:java\.sql\.\w+|(?:[a-z_][\w$]*\.)+[\w$]*(?:SQL|Sql)[\w$]*Exception)\b/,
    why: 'the exception is marked retriable (a transient condition) and nothing more specific was found',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'kafka-timeout',
    class: 'connection',
    tier: 'fallback',
    type: /(?:^|\.)TimeoutException$/,
    why: 'an operation timed out (a broker or service too slow or unreachable) and nothing more specific was found',
    hint: CLASS_HINTS.connection,
  },
  {
    name: 'connect-error-handler-exhausted',
    class: 'serialization',
    tier: 'fallback',
    message: /^Tolerance exceeded in error handler/,
    why: 'Connect\'s error handler gave up on a record and the trace does not show why. Its operator only wraps the conversion and transformation stages, so this is a record that could not be converted or transformed; the same record fails again after a restart',
    hint: SERIALIZATION_HINT,
  },
];

/** Rules of one tier, in table order. */
export function rulesOfTier(tier: RuleTier): readonly BuiltinRule[] {
  return BUILTIN_RULES.filter((r) => r.tier === tier);
}
