/**
 * Ready-made environment maps for one connection.
 *
 * - Kratos: `DSN` (Ory Kratos reads its DSN from this variable; provider-facts.md).
 * - Generic: `DATABASE_URL`, the libpq URL most frameworks read.
 * - libpq: `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`,
 *   `PGSSLMODE`, `PGSSLROOTCERT`, `PGCONNECT_TIMEOUT`, `PGAPPNAME`,
 *   `PGTARGETSESSIONATTRS` (libpq "Environment
 *   Variables", §32.15), for psql, pg_dump and other libpq tools.
 *
 * Every map carries the password: components wrap them in `pulumi.secret`.
 */
import { ConnectionDescription, DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_KRATOS_POOL, KratosPool, kratosDsn, libpqUrl } from './dsn';

/** Kratos' environment: its DSN. */
export function kratosEnv(c: ConnectionDescription, pool: KratosPool = DEFAULT_KRATOS_POOL, field = 'connection'): { DSN: string } {
  return { DSN: kratosDsn(c, pool, field) };
}

/** The conventional `DATABASE_URL` (a libpq URL). */
export function databaseUrlEnv(c: ConnectionDescription, field = 'connection'): { DATABASE_URL: string } {
  return { DATABASE_URL: libpqUrl(c, field) };
}

/** libpq's own environment variables; multi-host descriptions give comma-separated PGHOST/PGPORT. */
export function libpqEnv(c: ConnectionDescription, field = 'connection'): Record<string, string> {
  libpqUrl(c, field); // validates
  const env: Record<string, string> = {
    PGHOST: c.hosts.map((h) => h.host).join(','),
    PGPORT: c.hosts.map((h) => String(h.port)).join(','),
    PGDATABASE: c.database,
    PGUSER: c.user,
    PGSSLMODE: c.tls.sslmode,
    PGCONNECT_TIMEOUT: String(c.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS),
  };
  if (c.password !== undefined) env['PGPASSWORD'] = c.password;
  if (c.tls.sslrootcert) env['PGSSLROOTCERT'] = c.tls.sslrootcert;
  if (c.applicationName) env['PGAPPNAME'] = c.applicationName;
  if (c.targetSessionAttrs) env['PGTARGETSESSIONATTRS'] = c.targetSessionAttrs;
  return env;
}
