/**
 * One end of a migration, from a libpq URL: parsed by `pg-connection-string`
 * with libpq's sslmode semantics (`useLibpqCompat`), turned into a `pg`
 * client configuration and into the environment `pg_dump` / `pg_restore`
 * run with, so that the checks, the copy and the verification all connect
 * exactly the same way.
 *
 * The password never reaches a command line: the tools read it from a
 * PGPASSFILE (mode 0600, in a private temporary directory, removed after
 * the run), and nothing inherited from the caller's environment (PGHOST,
 * PGPASSWORD, ~/.pgpass, PGSSLMODE, …) changes where or how they connect.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client, ClientConfig } from 'pg';
import { parse } from 'pg-connection-string';
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_PORT } from '../core/dsn';
import { GATEWAY_TLS_MODES, SslMode, sslModeVerifiesCertificate } from '../core/tls';
import { MigrateError, MigrateErrorCode, redact } from './errors';

/** What `application_name` the command's own sessions and its tools' sessions carry. */
export const MIGRATE_APPLICATION_NAME = 'postgres-strategies migrate';

/**
 * URL query parameters the command accepts (libpq keywords); any other is
 * refused. `application_name` is accepted and not used: the library's own
 * libpq URLs (`url` outputs) carry it, and the command's sessions always
 * carry {@link MIGRATE_APPLICATION_NAME} instead (a rerun finds a run still
 * going by it).
 */
export const MIGRATE_URL_PARAMETERS: readonly string[] = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name'];

/** One end of the migration. */
export interface Endpoint {
  /** The option it came from (`--from`, `--to`), for messages. */
  field: string;
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: SslMode;
  /** Absolute path of the root certificate (verify-ca/verify-full, or require with a CA). */
  sslrootcert?: string;
  /** The `pg` client configuration (TLS as libpq would do it). */
  client: ClientConfig;
  /** libpq environment variables for pg_dump/pg_restore, without the password. */
  libpqEnv: Record<string, string>;
  /** The password, if the URL has one (only ever written to the PGPASSFILE). */
  password?: string;
}

/** How an endpoint is shown: no password. */
export interface EndpointSummary {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: SslMode;
}

/** The endpoint without secrets, for reports. */
export function summarize(e: Endpoint): EndpointSummary {
  return { host: e.host, port: e.port, database: e.database, user: e.user, sslmode: e.sslmode };
}

function bad(field: string, problem: string, fix: string): MigrateError {
  return new MigrateError(MigrateErrorCode.BadInput, field, problem, fix);
}

/**
 * Parses a libpq URL (`postgres://user:password@host:port/database?sslmode=…`).
 *
 * Required: a host (one; no Unix socket, no multi-host list), a user, a
 * database and an `sslmode` of `disable`, `require`, `verify-ca` or
 * `verify-full` (libpq's default `prefer`, and `allow`, may silently fall
 * back to plain text; they are refused like everywhere in this library).
 * `verify-ca` and `verify-full` need `sslrootcert` (libpq would otherwise
 * read `~/.postgresql/root.crt`, node-postgres the system store: the two
 * must agree). Accepted parameters: {@link MIGRATE_URL_PARAMETERS}.
 *
 * @param field the option the URL came from, e.g. `--from`.
 * @throws MigrateError (`bad-input`) naming `field`; the message never holds the password.
 */
export function parseEndpoint(url: string, field: string): Endpoint {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(url, { useLibpqCompat: true });
  } catch (e) {
    // pg-connection-string removes the input from its errors ("Invalid URL").
    throw bad(field, `is not a libpq URL (${(e as Error).message})`, 'Give postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=ca.pem, with the password percent-encoded');
  }
  const known = new Set(['host', 'port', 'user', 'password', 'database', 'ssl', ...MIGRATE_URL_PARAMETERS]);
  const unknown = Object.keys(parsed).filter((k) => !known.has(k) && parsed[k] !== undefined);
  if (unknown.length > 0) {
    throw bad(field, `the URL parameter(s) ${unknown.map((k) => `"${k}"`).join(', ')} are not supported by migrate`, `Remove them; accepted: ${MIGRATE_URL_PARAMETERS.join(', ')}`);
  }
  const host = parsed.host ?? '';
  if (host === '' || host.startsWith('/') || host.includes(',')) {
    throw bad(field, host === '' ? 'the URL names no host' : `"${host}" is not one TCP host`, 'Give one host name or IP address (no Unix socket, no multi-host list): postgres://user@db.example.com:5432/app');
  }
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(field, `"${String(parsed.port)}" is not a TCP port`, 'Give a port from 1 to 65535');
  const user = parsed.user ?? '';
  if (user === '') throw bad(field, 'the URL names no user', 'Give the role to log in as: postgres://user:password@host/database');
  const database = parsed.database ?? '';
  if (database === '') throw bad(field, 'the URL names no database', 'Give the database: postgres://user@host:5432/<database>');
  const sslmodeText = typeof parsed['sslmode'] === 'string' ? (parsed['sslmode'] as string) : undefined;
  const sslmode = GATEWAY_TLS_MODES.find((m) => m === sslmodeText);
  if (sslmode === undefined) {
    throw bad(
      field,
      sslmodeText === undefined
        ? 'the URL has no sslmode (libpq would use "prefer", which falls back to plain text without telling)'
        : `sslmode "${sslmodeText}" is not accepted (it may fall back to plain text)`,
      `Add sslmode=verify-full&sslrootcert=<CA file> (or require, or disable for a local server); accepted: ${GATEWAY_TLS_MODES.join(', ')}`,
    );
  }
  const rootcert = typeof parsed['sslrootcert'] === 'string' ? resolve(parsed['sslrootcert'] as string) : undefined;
  if (sslModeVerifiesCertificate(sslmode) && rootcert === undefined) {
    throw bad(field, `sslmode=${sslmode} needs the CA that signed the server's certificate`, 'Add sslrootcert=<path of the CA bundle> to the URL (e.g. global-bundle.pem for RDS)');
  }
  const timeoutText = parsed['connect_timeout'];
  const connectTimeout = timeoutText === undefined ? DEFAULT_CONNECT_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isInteger(connectTimeout) || connectTimeout < 1) throw bad(field, `connect_timeout "${String(timeoutText)}" is not a whole number of seconds ≥ 1`, 'Give e.g. connect_timeout=10');
  const password = parsed.password ? parsed.password : undefined;

  const client: ClientConfig = {
    host,
    port,
    user,
    database,
    // Always explicit: pg reads PGSSLMODE and friends from the environment when ssl is undefined.
    ssl: typeof parsed.ssl === 'object' ? (parsed.ssl as ClientConfig['ssl']) : false,
    connectionTimeoutMillis: connectTimeout * 1000,
    application_name: MIGRATE_APPLICATION_NAME,
    // A function, so that pg never falls back to PGPASSWORD or ~/.pgpass (the tools cannot either).
    password: () => {
      if (password === undefined) {
        throw bad(field, 'the server asks for a password and the URL has none', 'Put the password in the URL (percent-encoded), or pass the URL through --from-env/--to-env');
      }
      return password;
    },
  };
  const libpqEnv: Record<string, string> = {
    PGHOST: host,
    PGPORT: String(port),
    PGUSER: user,
    PGDATABASE: database,
    PGSSLMODE: sslmode,
    PGCONNECT_TIMEOUT: String(connectTimeout),
    PGAPPNAME: MIGRATE_APPLICATION_NAME,
  };
  if (rootcert !== undefined) libpqEnv['PGSSLROOTCERT'] = rootcert;
  if (typeof parsed['sslcert'] === 'string') libpqEnv['PGSSLCERT'] = resolve(parsed['sslcert'] as string);
  if (typeof parsed['sslkey'] === 'string') libpqEnv['PGSSLKEY'] = resolve(parsed['sslkey'] as string);
  const endpoint: Endpoint = { field, host, port, database, user, sslmode, client, libpqEnv };
  if (rootcert !== undefined) endpoint.sslrootcert = rootcert;
  if (password !== undefined) endpoint.password = password;
  return endpoint;
}

/** The passwords of the endpoints, for {@link redact}. */
export function secretsOf(...endpoints: Endpoint[]): string[] {
  return endpoints.flatMap((e) => (e.password === undefined ? [] : [e.password]));
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
const TLS_VERIFY = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ALTNAME|HOSTNAME/;

/**
 * Turns a connection failure into a {@link MigrateError} with the next step.
 * Server errors keep their SQLSTATE meaning (28P01 wrong password, 28000
 * refused by pg_hba, 3D000 no such database).
 */
export function connectionError(e: unknown, endpoint: Endpoint, secrets: readonly string[]): MigrateError {
  if (e instanceof MigrateError) return e;
  const err = e as { code?: string; message?: string };
  const where = `${endpoint.host}:${endpoint.port}`;
  const message = redact(String(err.message ?? e), secrets);
  const code = err.code ?? '';
  const f = endpoint.field;
  if (code === '28P01') {
    return new MigrateError(MigrateErrorCode.Auth, f, `the server at ${where} refused the password of role "${endpoint.user}" (${message})`, 'Check the password in the URL (percent-encoded) and that the role may log in');
  }
  if (code === '28000') {
    return new MigrateError(MigrateErrorCode.Auth, f, `the server at ${where} refused the login (${message})`, `Check pg_hba.conf admits role "${endpoint.user}" to database "${endpoint.database}" from here with sslmode=${endpoint.sslmode}`);
  }
  if (code === '3D000') {
    return new MigrateError(MigrateErrorCode.NoDatabase, f, `database "${endpoint.database}" does not exist on ${where}`, 'Create it first (the stack does: InstanceDatabase/SharedPostgres), or fix the database in the URL');
  }
  if (/does not support SSL/i.test(message)) {
    return new MigrateError(MigrateErrorCode.Tls, f, `the server at ${where} does not offer TLS, and sslmode=${endpoint.sslmode} requires it`, 'Enable TLS on the server, or use sslmode=disable only for a server on this machine or a private network');
  }
  if (TLS_VERIFY.test(code) || /certificate|self.signed|Hostname\/IP does not match/i.test(message)) {
    return new MigrateError(
      MigrateErrorCode.Tls,
      f,
      `the TLS certificate of ${where} does not verify with sslmode=${endpoint.sslmode}${endpoint.sslrootcert ? ` and sslrootcert=${endpoint.sslrootcert}` : ''} (${message})`,
      'Give the CA that signed the server certificate as sslrootcert, and a host name the certificate names',
    );
  }
  if (UNREACHABLE.has(code) || /timeout|terminated unexpectedly/i.test(message)) {
    return new MigrateError(MigrateErrorCode.Unreachable, f, `cannot reach ${where} (${code || message})`, CHECK_HOST_PORT);
  }
  if (/error establishing an SSL connection/i.test(message)) {
    // pg's words when the answer to PostgreSQL's TLS request is neither "S" (yes) nor "N" (no).
    return new MigrateError(
      MigrateErrorCode.Unreachable,
      f,
      `the service at ${where} is not a PostgreSQL server: it did not answer the TLS request (sslmode=${endpoint.sslmode}) as PostgreSQL does`,
      CHECK_HOST_PORT,
    );
  }
  if (/^ERR_SSL_|^EPROTO$/.test(code) || /SSL routines|wrong version number|handshake/i.test(message)) {
    return new MigrateError(MigrateErrorCode.Tls, f, `the TLS handshake with ${where} failed (${code ? `${code}: ` : ''}${message})`, `Check that ${where} is a PostgreSQL server with TLS enabled, and the sslmode and certificates in the URL`);
  }
  if (!SQLSTATE.test(code)) {
    // Not an answer of a PostgreSQL server.
    return new MigrateError(MigrateErrorCode.Unreachable, f, `cannot connect to ${where} (${code ? `${code}: ` : ''}${message})`, CHECK_HOST_PORT);
  }
  return new MigrateError(MigrateErrorCode.Auth, f, `cannot connect to ${where} as "${endpoint.user}" (${code}: ${message})`, 'Check the URL');
}

const CHECK_HOST_PORT = 'Check the host and port, that the server runs and that a firewall admits this machine';
/** A server error's SQLSTATE (five digits or upper-case letters). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * A connected `pg` client for the endpoint (session settings left as the
 * server's); a server-side termination while idle is ignored.
 * @throws MigrateError classifying the failure (see {@link connectionError}).
 */
export async function connect(endpoint: Endpoint, secrets: readonly string[]): Promise<Client> {
  // Loaded on first use: requiring `pg` costs more than the rest of the package's root entry.
  const pg = require('pg') as typeof import('pg');
  const client = new pg.Client(endpoint.client);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw connectionError(e, endpoint, secrets);
  }
  return client;
}

/** A private directory holding one PGPASSFILE per endpoint; `remove()` deletes it. */
export interface PassFiles {
  /** The private (0700) directory holding them; the run's other private files go there too. */
  dir: string;
  /** The environment of a libpq tool for `endpoint`: PATH, a C locale, the endpoint's PG* variables and its PGPASSFILE. */
  envFor(endpoint: Endpoint): NodeJS.ProcessEnv;
  remove(): void;
}

/** Escapes a .pgpass field (`\` and `:`). */
function pgpassField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/** The directories of the PassFiles not removed yet (see {@link removeAllPassFiles}). */
const liveDirs = new Set<string>();
let exitHooked = false;

/**
 * Removes every password file this process wrote and has not removed yet,
 * synchronously: for a signal handler or an `exit` listener, when the run's
 * own cleanup cannot be awaited. Also runs on the process' `exit` once a
 * password file was written.
 */
export function removeAllPassFiles(): void {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

/**
 * Writes each endpoint's password to its own PGPASSFILE (`*:*:*:*:<password>`,
 * mode 0600, in a mode-0700 temporary directory `$TMPDIR/ps-migrate-*`). An
 * endpoint without a password gets an empty file, so ~/.pgpass is never read.
 */
export function writePassFiles(endpoints: Endpoint[]): PassFiles {
  const dir = mkdtempSync(join(tmpdir(), 'ps-migrate-'));
  if (!exitHooked) {
    process.on('exit', removeAllPassFiles);
    exitHooked = true;
  }
  liveDirs.add(dir);
  chmodSync(dir, 0o700);
  const files = new Map<Endpoint, string>();
  endpoints.forEach((e, i) => {
    const path = join(dir, `pgpass-${i}`);
    writeFileSync(path, e.password === undefined ? '' : `*:*:*:*:${pgpassField(e.password)}\n`, { mode: 0o600 });
    files.set(e, path);
  });
  return {
    dir,
    envFor: (endpoint) => ({
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      ...endpoint.libpqEnv,
      PGPASSFILE: files.get(endpoint) as string,
    }),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}
