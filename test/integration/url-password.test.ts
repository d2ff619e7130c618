/**
 * URL-hostile passwords through every connection-string dialect, on a real
 * TLS server (PostgreSQL 17) with the real psql client.
 *
 * Proves:
 * - a password containing @ : / ? # % ' " spaces + & = (and a literal "%41",
 *   which must not be decoded twice) logs in through the URL `libpqUrl` builds;
 * - the pgx URL (`pgxUrl`, with a transaction pooler, so it carries
 *   default_query_exec_mode) and the Kratos DSN (`kratosDsn`, with
 *   max_conns, max_idle_conns, max_conn_lifetime, max_conn_idle_time) are
 *   refused by libpq as they are ("invalid URI query parameter") and, once
 *   their non-libpq keys are removed, log in through psql: their user,
 *   password, host, database and TLS parts are valid libpq;
 * - the seed's way of building the URL (`postgres://user:${PASSWORD}@host/db`,
 *   no encoding) fails with such a password — why the encoding matters;
 * - node-postgres (`pg`) reads the same libpq URL (sslrootcert file, encoded password).
 */
import { ConnectionDescription, PoolerMode, kratosDsn, libpqUrl, pgxUrl } from '../../src/core/dsn';
import { LIBPQ_KEYWORDS } from '../../src/core/params';
import { planServer } from '../../src/core/plan';
import { newScramSalt, scramSha256Verifier } from '../../src/core/scram';
import { withPg } from '../../lab/inspect';
import { psql } from '../../lab/psql';
import { SERVER_TIMEOUT, bootstrap, describeFailure, loginDescription, useLabServer } from './support';

const PASSWORD = `p@ss:w/o?r#d%41 'single' "double" sp ace+plus&amp=eq\\back`;
const plan = planServer(
  [{ name: 'hostile', kratosPool: { maxConns: 4, maxIdleConns: 1, maxConnLifetimeSeconds: 3600, maxConnIdleTimeSeconds: 90 } }],
  { maxConnections: 100, reservedConnections: 3 },
  { namePrefix: 'vw_' },
).instances[0]!;
const ROLE = plan.login.name;

/** The URL's query keys, in order. */
function queryKeys(url: string): string[] {
  const query = url.split('?')[1] ?? '';
  return query.split('&').map((kv) => kv.split('=')[0] as string);
}

/** Removes query parameters libpq does not know, leaving everything else byte for byte. */
function keepLibpqParams(url: string): string {
  const [base, query = ''] = url.split('?') as [string, string?];
  const kept = query.split('&').filter((kv) => LIBPQ_KEYWORDS.has(kv.split('=')[0] as string));
  return kept.length > 0 ? `${base}?${kept.join('&')}` : base;
}

describe('a URL-hostile password on PostgreSQL 17 over TLS', () => {
  const server = useLabServer(
    () => ({ version: 17, tls: true }),
    async (s) => {
      const salt = newScramSalt();
      await bootstrap(libpqUrl(s.admin()), [plan], { passwords: { [ROLE]: PASSWORD }, verifiers: { [ROLE]: scramSha256Verifier(PASSWORD, salt) } });
    },
  );
  const conn = (): ConnectionDescription => ({ ...loginDescription(server(), plan.database, ROLE, PASSWORD), pooler: PoolerMode.Transaction });
  const WHO = 'SELECT current_user, current_database(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();';

  test(
    'the libpq URL logs in with psql',
    async () => {
      const url = libpqUrl(conn());
      // user:password is all unreserved characters and %XX escapes, so the first '@' ends it.
      const userinfo = url.slice('postgres://'.length, url.indexOf('@'));
      expect(userinfo).toMatch(/^[A-Za-z0-9_.~-]+:(?:[A-Za-z0-9_.~-]|%[0-9A-F]{2})+$/);
      expect(decodeURIComponent(userinfo.split(':')[1] as string)).toBe(PASSWORD);
      const r = await psql(url, WHO);
      expect(describeFailure(r)).toBe('exit 0: ');
      expect(r.stdout.trim()).toBe(`${ROLE}|${plan.database}|t`);
    },
    SERVER_TIMEOUT,
  );

  const dialects: Array<[string, () => string, string[]]> = [
    ['the pgx URL', () => pgxUrl(conn(), plan.gatewayPool), ['default_query_exec_mode', 'pool_max_conns', 'pool_min_conns']],
    ['the Kratos DSN', () => kratosDsn(conn(), plan.kratosPool), ['default_query_exec_mode', 'max_conns', 'max_idle_conns', 'max_conn_lifetime', 'max_conn_idle_time']],
  ];
  test.each(dialects)(
    '%s is not libpq as is; without its non-libpq keys it logs in with psql',
    async (dialect, build, ownKeys) => {
      const url = build();
      const keys = queryKeys(url);
      expect(keys).toEqual(expect.arrayContaining(ownKeys));
      if (dialect === 'the Kratos DSN') expect(keys.filter((k) => k.startsWith('pool_'))).toEqual([]);
      const asIs = await psql(url, 'SELECT 1;');
      expect(asIs.code).not.toBe(0);
      expect(asIs.stderr).toContain(`invalid URI query parameter: "${keys.find((k) => !LIBPQ_KEYWORDS.has(k))}"`);
      const stripped = keepLibpqParams(url);
      expect(queryKeys(stripped)).toEqual(['sslmode', 'sslrootcert', 'connect_timeout']);
      const r = await psql(stripped, WHO);
      expect(describeFailure(r)).toBe('exit 0: ');
      expect(r.stdout.trim()).toBe(`${ROLE}|${plan.database}|t`);
    },
    SERVER_TIMEOUT,
  );

  test(
    'the seed\'s unencoded URL does not work with this password',
    async () => {
      const s = server();
      const naive = `postgres://${ROLE}:${PASSWORD}@${s.host}:${s.port}/${plan.database}?sslmode=verify-full&sslrootcert=${s.caFile}`;
      const r = await psql(naive, 'SELECT 1;');
      expect(r.code).not.toBe(0);
    },
    SERVER_TIMEOUT,
  );

  test(
    'node-postgres reads the same libpq URL',
    async () => {
      const who = await withPg(libpqUrl(conn()), async (c) => (await c.query('SELECT current_user AS u, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]);
      expect(who).toEqual({ u: ROLE, ssl: true });
    },
    SERVER_TIMEOUT,
  );
});
