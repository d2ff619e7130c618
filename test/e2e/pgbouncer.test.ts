/**
 * The pooled path for real: Debian's PgBouncer 1.18 in transaction mode on a
 * loopback port in front of an embedded PostgreSQL 17 (see lab/pgbouncer.ts).
 *
 * Set-up: the instance is provisioned with the rendered bootstrap SQL (psql,
 * as the superuser), its password stored as a SCRAM verifier; PgBouncer's
 * auth_file holds the same verifier and nothing else (no plain password in
 * any file). TLS on both legs: clients → PgBouncer with verify-full against
 * the lab CA, PgBouncer → PostgreSQL with verify-full. The connection
 * description comes from the TLS-enforcing preset with PgBouncer as its
 * pooler; the pooled one is derived from it as InstanceDatabase derives
 * `pooledUrl` / `kratosDsn` / `pgxUrl`.
 *
 * Proves:
 * - the rendered pooled libpq URL works with psql through PgBouncer and
 *   reaches the instance's database as its role (wrong passwords are
 *   refused by PgBouncer's SCRAM check);
 * - the Kratos DSN, the gateway's pgx URL and its env through the pooler
 *   carry `default_query_exec_mode=exec` and PgBouncer's host and port,
 *   while the direct ones (migrations) do not; their libpq part works
 *   through the pooler;
 * - the connection budget agrees with the server under load: 20 pgbench
 *   clients for 5 s through PgBouncer (pool size 4) show 20 clients in
 *   `SHOW POOLS` but never more than the budget's 4 server connections in
 *   `SHOW POOLS` and `pg_stat_activity`; counted as direct clients the same
 *   instance does not fit the server at all;
 * - an existing mixed-case database (seed 003's `"honeyDue"`) is reached
 *   by its exact name, directly and through the pooler;
 * - the real pgx v5 (lab/go-consumers.ts, built before the suite) reads the
 *   pooled pgx URL, the gateway env and the Kratos DSN as Kratos hands it to
 *   pgx with QueryExecModeExec and runs a query through PgBouncer over TLS.
 */
import { Client } from 'pg';
import { parse } from 'pg-connection-string';
import { ConnectionBudgetError } from '../../src/core/budget';
import { ConnectionDescription, PoolerMode, kratosDsn, libpqUrl, pgxUrl } from '../../src/core/dsn';
import { gatewayEnv } from '../../src/core/gateway';
import { KRATOS_POOL_KEYWORDS, PGX_ONLY_KEYWORDS } from '../../src/core/params';
import { ServerClaims, planInstance } from '../../src/core/plan';
import { newScramSalt, scramSha256Verifier } from '../../src/core/scram';
import { ManagedPreset, throughPooler } from '../../src/managed/common';
import { tlsEnforcedConnectionString, tlsEnforcedServer } from '../../src/managed/tls-enforced';
import { PGX_CONSUMER, buildGoConsumer } from '../../lab/go-consumers';
import { connectPg } from '../../lab/inspect';
import { LabPgBouncer, havePgBouncer, renderAuthFile, startPgBouncer } from '../../lab/pgbouncer';
import { psql, psqlOk } from '../../lab/psql';
import { run } from '../../lab/run';
import { LabServer, startLabServer } from '../../lab/server';
import { SERVER_TIMEOUT, bootstrap, credentialsFor } from '../integration/support';

const POOL_SIZE = 4;
const CLIENTS = 20;
const SECONDS = 5;
const MAX_CONNECTIONS = 20;

// Kratos 10 + gateway 10 = 20 client connections for the instance.
const plan = planInstance({ name: 'blog', gatewayPool: { maxConns: 10, minConns: 2 }, kratosPool: { maxConns: 10, maxIdleConns: 2 } }, 'pb_');
const creds = credentialsFor([plan]);
const role = plan.login.name;
const password = creds.passwords[role] as string;
const consolePassword = `console-${newScramSalt()}`;

/** A URL without the keys a consumer takes for itself: what it hands to libpq-compatible code. */
function withoutKeys(url: string, drop: (key: string) => boolean): string {
  const u = new URL(url);
  for (const key of [...u.searchParams.keys()]) if (drop(key)) u.searchParams.delete(key);
  return u.toString();
}

describe('PgBouncer 1.18 in transaction mode in front of PostgreSQL 17', () => {
  let server: LabServer;
  let bouncer: LabPgBouncer;
  let preset: ManagedPreset;
  let direct: ConnectionDescription;
  let pooled: ConnectionDescription;
  let pgxBinary: string;

  beforeAll(async () => {
    if (!havePgBouncer()) throw new Error('pgbouncer is needed (Debian: apt-get install pgbouncer; .ci/run installs it)');
    pgxBinary = await buildGoConsumer(PGX_CONSUMER);
    server = await startLabServer({ version: 17, tls: true, conf: { fsync: false, max_connections: MAX_CONNECTIONS } });
    await bootstrap(libpqUrl(server.admin()), [plan], creds);
    // An existing database created with a quoted mixed-case name, as Neon's dashboard does (seed 003).
    await psqlOk(libpqUrl(server.admin()), `CREATE DATABASE "honeyDue" OWNER ${role};\nREVOKE ALL ON DATABASE "honeyDue" FROM PUBLIC;`);
    bouncer = await startPgBouncer({
      server,
      defaultPoolSize: POOL_SIZE,
      users: { [role]: creds.verifiers[role] as string, pgb_console: scramSha256Verifier(consolePassword, newScramSalt()) },
      adminUsers: ['pgb_console'],
    });
    preset = tlsEnforcedServer({
      host: server.host,
      port: server.port,
      adminUser: server.superuser,
      adminPassword: server.superuserPassword,
      sslrootcert: server.caFile,
      maxConnections: MAX_CONNECTIONS,
      pooler: { host: bouncer.host, port: bouncer.port, mode: PoolerMode.Transaction, serverPoolSize: POOL_SIZE },
    });
    const s = preset.server;
    direct = {
      hosts: [{ host: s.host as string, port: s.port as number }],
      database: plan.database,
      user: role,
      password,
      tls: { sslmode: s.sslmode!, sslrootcert: s.clientSslRootCert ?? s.sslrootcert },
      connectTimeoutSeconds: preset.clients.connectTimeoutSeconds,
      applicationName: 'blog',
    };
    const p = s.pooler!;
    pooled = throughPooler(direct, { host: p.host as string, port: p.port as number, mode: p.mode, userSuffix: p.userSuffix });
  }, 15 * 60_000); // a cold Go build of the pgx consumer included

  afterAll(async () => {
    await bouncer?.stop();
    await server?.stop();
  }, SERVER_TIMEOUT);

  const consoleConnection = (): ConnectionDescription => ({
    hosts: [{ host: bouncer.host, port: bouncer.port }],
    database: 'pgbouncer',
    user: 'pgb_console',
    password: consolePassword,
    tls: { sslmode: direct.tls.sslmode, sslrootcert: server.caFile },
  });

  test('the auth_file holds SCRAM verifiers only; a plain password is refused', () => {
    const text = renderAuthFile({ [role]: creds.verifiers[role] as string });
    expect(text).toMatch(/^"pb_blog" "SCRAM-SHA-256\$4096:[^"]+"\n$/);
    expect(text).not.toContain(password);
    expect(() => renderAuthFile({ [role]: password })).toThrow('not a SCRAM-SHA-256 verifier');
    expect(bouncer.ini).toContain('auth_type = scram-sha-256');
    expect(bouncer.ini).toContain('pool_mode = transaction');
  });

  test(
    'the rendered pooled libpq URL works with psql through PgBouncer (TLS verify-full on both legs)',
    async () => {
      const url = libpqUrl(pooled);
      expect(parse(url).port).toBe(String(bouncer.port));
      expect(url).toContain('sslmode=verify-full');
      const r = await psqlOk(url, "SELECT current_user, current_database(), current_setting('port'), (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid());");
      // The server's own port: the session went through PgBouncer to PostgreSQL, over TLS.
      expect(r.stdout.trim()).toBe(`${role}|${plan.database}|${server.port}|t`);
      const wrong = await psql(libpqUrl({ ...pooled, password: 'not-the-password' }), 'SELECT 1;');
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/password authentication failed|SASL authentication failed/);
      expect(bouncer.log()).toContain(`login attempt: db=${plan.database} user=${role} tls=`);
    },
    SERVER_TIMEOUT,
  );

  test(
    'the Kratos DSN, pgx URL and gateway env through the pooler carry default_query_exec_mode=exec; the direct ones do not; both work',
    async () => {
      const kratos = kratosDsn(pooled, plan.kratosPool);
      const pgx = pgxUrl(pooled, plan.gatewayPool);
      const env = gatewayEnv(pooled, plan.gatewayPool).VIBEWARDEN_DATABASE_EXTERNAL_URL;
      for (const url of [kratos, pgx, env]) {
        const u = new URL(url);
        expect([u.hostname, u.port, u.searchParams.get('default_query_exec_mode')]).toEqual([bouncer.host, String(bouncer.port), 'exec']);
      }
      expect(new URL(kratos).searchParams.get('pool_min_conns')).toBeNull(); // Kratos refuses it
      const migrate = kratosDsn(direct, plan.kratosPool); // kratosMigrateDsn: migrations go direct
      expect(new URL(migrate).searchParams.get('default_query_exec_mode')).toBeNull();
      expect(new URL(migrate).port).toBe(String(server.port));

      // What Kratos and pgx leave for the connection after taking their own keys reaches the database through PgBouncer.
      const kratosRest = withoutKeys(kratos, (k) => KRATOS_POOL_KEYWORDS.has(k) || PGX_ONLY_KEYWORDS.has(k));
      const pgxRest = withoutKeys(pgx, (k) => PGX_ONLY_KEYWORDS.has(k));
      for (const url of [kratosRest, pgxRest]) {
        expect((await psqlOk(url, 'SELECT current_user;')).stdout.trim()).toBe(role);
      }
    },
    SERVER_TIMEOUT,
  );

  test(
    `the budget agrees with SHOW POOLS and pg_stat_activity: ${CLIENTS} pgbench clients for ${SECONDS} s, at most ${POOL_SIZE} server connections`,
    async () => {
      // The budget as the components check it: the server's numbers with the handle's default
      // admin (4) and maintenance (3) connections, the pooler's pool per role and database.
      const capacity = { maxConnections: MAX_CONNECTIONS, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 };
      const report = new ServerClaims(capacity, { user: server.superuser }, { mode: PoolerMode.Transaction, serverPoolSize: POOL_SIZE }).check('shared', [plan]);
      expect(report.shares.map((s) => [s.instance, s.connections])).toEqual([['shared/blog', POOL_SIZE]]);
      expect(report.headroom).toBeGreaterThanOrEqual(0);
      // Counted as direct clients, the same instance needs 20 of the 10 app slots.
      expect(() => new ServerClaims(capacity, { user: server.superuser }).check('shared', [plan])).toThrow(ConnectionBudgetError);

      // Tables for pgbench, created as the instance's role on the direct endpoint (migrations go direct).
      const init = await run('pgbench', ['-i', '-q', '-s', '1', libpqUrl(direct)], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'] } });
      expect(init.code).toBe(0);

      const consoleClient = await connectPg(consoleConnection());
      const monitor: Client = await connectPg(server.admin());
      const samples: Array<{ clients: number; poolServers: number; backends: number }> = [];
      try {
        const bench = run('pgbench', ['-n', '-S', '-c', String(CLIENTS), '-j', '2', '-T', String(SECONDS), libpqUrl(pooled)], {
          env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
        });
        let done = false;
        void bench.finally(() => (done = true));
        while (!done) {
          const pools = await consoleClient.query('SHOW POOLS');
          const row = pools.rows.find((r) => r.database === plan.database && r.user === role);
          const n = (k: string): number => Number(row?.[k] ?? 0);
          const backends = await monitor.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'",
            [role],
          );
          samples.push({
            clients: n('cl_active') + n('cl_waiting'),
            poolServers: n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login'),
            backends: backends.rows[0].n as number,
          });
          await new Promise((r) => setTimeout(r, 100));
        }
        const result = await bench;
        expect(result.code).toBe(0);
        const processed = Number(/number of transactions actually processed: (\d+)/.exec(result.stdout)?.[1] ?? 0);
        expect(processed).toBeGreaterThan(0);
        expect(result.stdout).toContain(`number of clients: ${CLIENTS}`);
      } finally {
        await consoleClient.end();
        await monitor.end();
      }
      const max = (k: 'clients' | 'poolServers' | 'backends'): number => Math.max(...samples.map((s) => s[k]));
      expect(samples.length).toBeGreaterThan(10);
      // PgBouncer held all 20 clients at once ...
      expect(max('clients')).toBe(CLIENTS);
      // ... and the server saw exactly the budget's share of them, never more.
      expect(max('poolServers')).toBe(report.shares[0]!.connections);
      expect(max('backends')).toBe(report.shares[0]!.connections);
      expect(samples.every((s) => s.backends <= POOL_SIZE && s.poolServers <= POOL_SIZE)).toBe(true);
    },
    SERVER_TIMEOUT,
  );

  test(
    'the real pgx v5 (e2e consumer) reads the pooled URLs with exec mode and queries through PgBouncer',
    async () => {
      const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/' };
      const kratos = kratosDsn(pooled, plan.kratosPool);
      // Kratos strips its own pool keys and hands the rest to pgx.
      const kratosToPgx = withoutKeys(kratos, (k) => KRATOS_POOL_KEYWORDS.has(k));
      const runs = [
        await run(pgxBinary, ['-url', pgxUrl(pooled, plan.gatewayPool)], { env }),
        await run(pgxBinary, ['-env'], { env: { ...env, ...gatewayEnv(pooled, plan.gatewayPool) } }),
        await run(pgxBinary, ['-url', kratosToPgx], { env }),
      ];
      for (const r of runs) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).not.toContain(password);
        const out = JSON.parse(r.stdout) as { config: { host: string; port: number; default_query_exec_mode: string }; query: { current_user: string; current_database: string; ssl: boolean } };
        expect(out.config).toMatchObject({ host: bouncer.host, port: bouncer.port, default_query_exec_mode: 'exec' });
        // ssl: PgBouncer's own server connection to PostgreSQL (pg_stat_ssl of the backend)
        expect(out.query).toMatchObject({ current_user: role, current_database: plan.database, ssl: true });
      }
    },
    SERVER_TIMEOUT,
  );

  test(
    'an existing mixed-case database ("honeyDue") is reached by its exact name, directly and through the pooler',
    async () => {
      const exact = tlsEnforcedConnectionString({ host: server.host, port: server.port, user: role, password, database: 'honeyDue', sslmode: direct.tls.sslmode });
      expect(exact).toContain('/honeyDue?');
      // The provider form has no sslrootcert; psql gets it as PGSSLROOTCERT-equivalent through the typed URL below.
      const viaDirect = libpqUrl({ ...direct, database: 'honeyDue' });
      const viaPooler = libpqUrl({ ...pooled, database: 'honeyDue' });
      expect(new URL(exact).pathname).toBe(new URL(viaDirect).pathname);
      for (const url of [viaDirect, viaPooler]) {
        expect((await psqlOk(url, 'SELECT current_database();')).stdout.trim()).toBe('honeyDue');
      }
      // Seed 003's mistake: the folded name does not exist.
      const folded = await psql(libpqUrl({ ...direct, database: 'honeydue' }), 'SELECT 1;');
      expect(folded.code).not.toBe(0);
      expect(folded.stderr).toContain('database "honeydue" does not exist');
    },
    SERVER_TIMEOUT,
  );
});
