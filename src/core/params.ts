/**
 * The connection-string parameters each client dialect accepts.
 *
 * Sources: libpq "Parameter Key Words" (§32.1.2, PostgreSQL 14–18) — libpq
 * rejects any other URI parameter (`invalid URI query parameter`); pgx's
 * pgconn/pgxpool `ParseConfig` (pool_* keys, default_query_exec_mode,
 * statement_cache_capacity, description_cache_capacity; any other key is
 * sent to the server as a run-time parameter); Ory Kratos via ory/x sqlcon
 * (strips max_conns, max_idle_conns, max_conn_lifetime, max_conn_idle_time
 * before handing the DSN to pgx). See provider-facts.md, "Connection-string
 * dialects".
 */

/** libpq connection keywords, with the first major version that knows each one. */
export const LIBPQ_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['host', 9], ['hostaddr', 9], ['port', 9], ['dbname', 9], ['user', 9], ['password', 9],
  ['passfile', 10], ['require_auth', 16], ['channel_binding', 13], ['connect_timeout', 9],
  ['client_encoding', 9], ['options', 9], ['application_name', 9], ['fallback_application_name', 9],
  ['keepalives', 9], ['keepalives_idle', 9], ['keepalives_interval', 9], ['keepalives_count', 9],
  ['tcp_user_timeout', 12], ['replication', 9], ['gssencmode', 12], ['sslmode', 9],
  ['sslnegotiation', 17], ['sslcompression', 9], ['sslcert', 9], ['sslkey', 9], ['sslkeylogfile', 18],
  ['sslpassword', 13], ['sslcertmode', 16], ['sslrootcert', 9], ['sslcrl', 9], ['sslcrldir', 14],
  ['sslsni', 14], ['requirepeer', 9], ['ssl_min_protocol_version', 12], ['ssl_max_protocol_version', 12],
  ['krbsrvname', 9], ['gsslib', 9], ['gssdelegation', 16], ['service', 9], ['target_session_attrs', 10],
  ['load_balance_hosts', 16], ['min_protocol_version', 18], ['max_protocol_version', 18],
  ['oauth_issuer', 18], ['oauth_client_id', 18], ['oauth_client_secret', 18], ['oauth_scope', 18],
]);

/** Keys only pgx/pgxpool understand (libpq would reject them). */
export const PGX_ONLY_KEYWORDS: ReadonlySet<string> = new Set([
  'default_query_exec_mode', 'statement_cache_capacity', 'description_cache_capacity',
  'pool_max_conns', 'pool_min_conns', 'pool_min_idle_conns', 'pool_max_conn_lifetime',
  'pool_max_conn_lifetime_jitter', 'pool_max_conn_idle_time', 'pool_health_check_period',
]);

/** Keys Kratos strips from its DSN for its own pool. */
export const KRATOS_POOL_KEYWORDS: ReadonlySet<string> = new Set([
  'max_conns', 'max_idle_conns', 'max_conn_lifetime', 'max_conn_idle_time',
]);

/** Keys the typed connection description sets; they may not be given as extra parameters. */
export const TYPED_KEYWORDS: ReadonlySet<string> = new Set([
  'host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'sslmode', 'sslrootcert',
  'connect_timeout', 'application_name', 'target_session_attrs',
]);

/** The transaction-pooler-safe query mode for pgx (no named prepared statements). */
export const PGX_POOLER_SAFE_EXEC_MODE = 'exec';
