/**
 * The Kratos DSN against its real consumer: Ory Kratos v1.3.1 itself, built
 * from the Go module proxy (test/consumers/kratos, lab/go-consumers.ts), on
 * PostgreSQL 17 with TLS verify-full, an instance provisioned by the rendered
 * bootstrap SQL and a URL-hostile password.
 *
 * Proves:
 * - `kratos migrate sql -e --yes` with `DSN` = `kratosDsn(...)` (Kratos' pool
 *   keys max_conns, max_idle_conns, max_conn_lifetime, max_conn_idle_time
 *   included) exits 0 and creates Kratos' tables in the instance's database,
 *   owned by the instance's login, over TLS;
 * - `kratos serve` with the rendered minimal config (`renderKratosConfig`)
 *   and the transaction-pooler DSN (with `default_query_exec_mode=exec`)
 *   answers `/health/ready` (which pings the database) on its admin and
 *   public ports, then stops on SIGTERM;
 * - verify-full is in force: a wrong CA and a host name the certificate does
 *   not name make the migration fail;
 * - the dialect rule: Kratos strips exactly its own pool keys (the migration
 *   succeeding proves it: pgx would send any key it does not know to the
 *   server as a run-time parameter, and PostgreSQL refuses those at login),
 *   so `pool_min_conns` reaches the server and is refused ("unrecognized
 *   configuration parameter"); the library never emits it;
 * - the keys pgx 5.12 reads but Kratos' pgx 5.6 forwards (KRATOS_REFUSED_LIBPQ_KEYWORDS:
 *   `channel_binding`, which Neon's dashboard strings carry, and five more)
 *   are refused by the server at login, and by kratosDsn before that;
 * - `default_query_exec_mode=exec` (transaction-pooler DSN) is read by
 *   Kratos' pgx, not passed on to the server;
 * - in seed 004's least-privilege shape the login cannot migrate (permission
 *   denied for schema public): Kratos needs the owner shape, as documented;
 * - the migration and `/health/ready` also work on PostgreSQL 14, 16 and 18;
 * - `postgres-strategies migrate` moves Kratos' database from Debian's
 *   PostgreSQL 15 to PostgreSQL 17 (verify-full, URL-hostile passwords):
 *   identities created through Kratos before the move are listed by Kratos
 *   after it with the same ids and traits, and `kratos migrate sql -e --yes`
 *   on the target changes nothing (applied migrations, columns, indexes and
 *   owners stay as they were);
 * - Kratos prints neither the password nor its encoded form.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionDescription, KRATOS_REFUSED_LIBPQ_KEYWORDS, PoolerMode, kratosDsn, libpqUrl } from '../../src/core/dsn';
import { planServerCertificates } from '../../src/core/certificates';
import { KRATOS_IDENTITY_SCHEMA, KRATOS_MIGRATE_COMMAND, kratosDsnToLibpq, kratosServeCommand, renderKratosConfig } from '../../src/core/kratos';
import { RoleShape, planServer } from '../../src/core/plan';
import { SslMode } from '../../src/core/tls';
import { makeCertificates } from '../../lab/certs';
import { KRATOS_CONSUMER, buildGoConsumer } from '../../lab/go-consumers';
import { psqlOk } from '../../lab/psql';
import { LAB_VERSIONS, freePorts } from '../../lab/server';
import { MigrateResult } from '../../src/migrate/migrate';
import { bootstrap, credentialsFor, loginDescription, runMigrate, useLabServer } from '../integration/support';

/** A cold Kratos build took ~15 min on 2 shared, busy cores. */
const BUILD_TIMEOUT = 40 * 60_000;
const KRATOS_TIMEOUT = 180_000;
const PASSWORD = 'p@ss:w/rd?#%&=+ é';
const plan = planServer(
  [{ name: 'kratos-e2e', kratosPool: { maxConns: 5, maxIdleConns: 1, maxConnLifetimeSeconds: 3600, maxConnIdleTimeSeconds: 90 } }],
  { maxConnections: 100, reservedConnections: 3 },
  { namePrefix: 'vw_' },
).instances[0]!;
const ROLE = plan.login.name;
/** The same pool in seed 004's least-privilege shape, where the login role owns nothing. */
const leastPrivilege = planServer(
  [{ name: 'kratos-lp', shape: RoleShape.LeastPrivilege, kratosPool: plan.kratosPool }],
  { maxConnections: 100, reservedConnections: 3 },
  { namePrefix: 'vw_' },
).instances[0]!;

let binary = '';
let scratch = '';

beforeAll(async () => {
  binary = await buildGoConsumer(KRATOS_CONSUMER);
  scratch = mkdtempSync(join(tmpdir(), 'ps-kratos-e2e-'));
}, BUILD_TIMEOUT);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface KratosRun {
  code: number | null;
  /** Killed because it ran past the time limit. */
  timedOut: boolean;
  /** Stopped because its output matched `until`. */
  matched: boolean;
  output: string;
}

function kratosEnv(dsn: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Only what Kratos needs: no PG* variables, no proxy settings from the test's environment.
  return { PATH: process.env['PATH'] ?? '', HOME: scratch, DSN: dsn, LOG_LEVEL: 'info', ...extra };
}

function expectNoPassword(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
  expect(text).not.toContain('p@ss');
}

/**
 * Runs Kratos to its end, or until its output matches `until` (then it is
 * stopped), or until `limitMs` passes (then it is killed).
 */
function runKratos(args: readonly string[], env: NodeJS.ProcessEnv, limitMs = 120_000, until?: RegExp): Promise<KratosRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    let matched = false;
    const collect = (d: Buffer): void => {
      output += d;
      if (until && !matched && until.test(output)) {
        matched = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      expectNoPassword(output);
      resolve({ code, timedOut, matched, output });
    });
  });
}

async function migrate(dsn: string, limitMs?: number, until?: RegExp): Promise<KratosRun> {
  return runKratos(KRATOS_MIGRATE_COMMAND, kratosEnv(dsn), limitMs, until);
}

/**
 * A migration that cannot connect: Kratos logs the driver's error ("Unable
 * to ping database, retrying.") and retries with backoff for up to 5
 * minutes before exiting non-zero, so the run is stopped at the first
 * logged refusal (or after 60 s, which fails the test).
 */
async function migrateRefused(dsn: string, refusal: RegExp): Promise<KratosRun> {
  const r = await migrate(dsn, 60_000, refusal);
  if (!r.matched) throw new Error(`expected ${refusal} from kratos migrate (exit ${r.code}, timed out: ${r.timedOut}):\n${r.output.slice(-3000)}`);
  expect(r.output).not.toContain('Successfully applied');
  return r;
}

/** Polls `url` until it answers 200 or `limitMs` passes; returns the last status and body. */
async function waitForHealth(url: string, child: ChildProcess, limitMs: number): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + limitMs;
  let last = { status: 0, body: '' };
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = { status: r.status, body: await r.text() };
      if (r.status === 200) return last;
    } catch (e) {
      last = { status: 0, body: (e as Error).message };
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  return last;
}

/**
 * Runs `kratos serve` with the rendered minimal config and `dsn`, waits for
 * `/health/ready` (which pings the database) on the admin and public ports,
 * runs `fn` with the admin API's base URL, then stops it with SIGTERM.
 */
async function withKratosServe<T>(dsn: string, fn: (adminBase: string) => Promise<T>): Promise<T> {
  const [publicPort, adminPort] = await freePorts(2);
  const dir = mkdtempSync(join(scratch, 'serve-'));
  const schemaPath = join(dir, 'identity.schema.json');
  writeFileSync(schemaPath, KRATOS_IDENTITY_SCHEMA);
  const configPath = join(dir, 'kratos.yml');
  writeFileSync(
    configPath,
    renderKratosConfig({
      publicBaseUrl: `http://127.0.0.1:${publicPort}/`,
      adminBaseUrl: `http://127.0.0.1:${adminPort}/`,
      returnUrl: 'http://127.0.0.1:3000/',
      identitySchemaPath: schemaPath,
    }),
  );
  const child = spawn(binary, kratosServeCommand(configPath, true), {
    env: kratosEnv(dsn, {
      SERVE_PUBLIC_HOST: '127.0.0.1',
      SERVE_PUBLIC_PORT: String(publicPort),
      SERVE_ADMIN_HOST: '127.0.0.1',
      SERVE_ADMIN_PORT: String(adminPort),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((res) => child.once('close', res));
  let result: T;
  try {
    const admin = await waitForHealth(`http://127.0.0.1:${adminPort}/admin/health/ready`, child, 120_000);
    if (admin.status !== 200) throw new Error(`kratos serve did not become ready (${admin.status} ${admin.body}):\n${output.slice(-4000)}`);
    expect(JSON.parse(admin.body)).toEqual({ status: 'ok' });
    const pub = await waitForHealth(`http://127.0.0.1:${publicPort}/health/ready`, child, 10_000);
    expect(pub.status).toBe(200);
    result = await fn(`http://127.0.0.1:${adminPort}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  expectNoPassword(output);
  return result;
}

/** Creates an identity with `email` through Kratos' admin API; returns its id. */
async function createIdentity(adminBase: string, email: string): Promise<string> {
  // Kratos' identity API reads and writes through its database connection.
  const created = await fetch(`${adminBase}/admin/identities`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ schema_id: 'default', traits: { email } }),
  });
  const text = await created.text();
  expect([created.status, text]).toEqual([201, expect.stringContaining(email)]);
  return (JSON.parse(text) as { id: string }).id;
}

/** The identities Kratos lists, as id → email. */
async function listIdentities(adminBase: string): Promise<Map<string, string>> {
  const list = await fetch(`${adminBase}/admin/identities`);
  expect(list.status).toBe(200);
  return new Map(((await list.json()) as Array<{ id: string; traits: { email: string } }>).map((i) => [i.id, i.traits.email]));
}

/** `kratos serve` becomes ready, stores an identity with `email`, and lists exactly that one. */
async function serveUntilReady(dsn: string, email: string): Promise<void> {
  await withKratosServe(dsn, async (admin) => {
    await createIdentity(admin, email);
    expect([...(await listIdentities(admin)).values()]).toEqual([email]);
  });
}

describe('Ory Kratos v1.3.1 with the Kratos DSN on PostgreSQL 17 over TLS (certificate for "localhost" only)', () => {
  const server = useLabServer(
    () => ({ version: 17, tls: true, certificates: planServerCertificates({ dnsNames: ['localhost'], ipAddresses: [] }) }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), [plan, leastPrivilege], credentialsFor([plan, leastPrivilege], () => PASSWORD));
    },
  );
  const conn = (overrides: Partial<ConnectionDescription> = {}): ConnectionDescription => ({
    ...loginDescription(server(), plan.database, ROLE, PASSWORD),
    applicationName: 'kratos-e2e',
    ...overrides,
  });
  /** The login's tables in the public schema, with their owners. */
  const tables = async (): Promise<Map<string, string>> => {
    const r = await psqlOk(
      kratosDsnToLibpq(kratosDsn(conn(), plan.kratosPool)),
      "SELECT tablename || '|' || tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1;",
    );
    return new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('|') as [string, string]));
  };

  test(
    'verify-full: a wrong CA or a host name the certificate does not name fails the migration, which creates nothing',
    async () => {
      const other = await makeCertificates(planServerCertificates({ dnsNames: ['localhost'], ipAddresses: [] }));
      const otherCa = join(scratch, 'other-ca.pem');
      writeFileSync(otherCa, other.caCertPem);
      await migrateRefused(
        kratosDsn(conn({ tls: { sslmode: SslMode.VerifyFull, sslrootcert: otherCa } }), plan.kratosPool),
        /certificate signed by unknown authority/,
      );
      await migrateRefused(
        kratosDsn(conn({ hosts: [{ host: '127.0.0.1', port: server().port }] }), plan.kratosPool),
        /cannot validate certificate for 127\.0\.0\.1/,
      );
      expect([...(await tables()).keys()]).toEqual([]);
    },
    KRATOS_TIMEOUT,
  );

  test(
    'Kratos rejects pool_min_conns in its DSN; the library never puts it there',
    async () => {
      const dsn = kratosDsn(conn(), plan.kratosPool);
      expect(dsn).not.toMatch(/[?&]pool_/);
      // Kratos strips only its own pool keys; pgx sends any other unknown key to the server as a
      // run-time parameter, which PostgreSQL refuses at login.
      await migrateRefused(`${dsn}&pool_min_conns=2`, /FATAL: unrecognized configuration parameter "pool_min_conns"/);
      expect([...(await tables()).keys()]).toEqual([]);
    },
    KRATOS_TIMEOUT,
  );

  test(
    "keys pgx 5.12 reads but Kratos' pgx 5.6 forwards (channel_binding, as in Neon's dashboard strings, …): the server refuses the login; kratosDsn refuses them first",
    async () => {
      const samples: Record<string, string> = {
        channel_binding: 'require',
        require_auth: 'scram-sha-256',
        sslcertmode: 'allow',
        sslnegotiation: 'postgres',
        min_protocol_version: '3.0',
        max_protocol_version: '3.0',
      };
      expect(Object.keys(samples).sort()).toEqual([...KRATOS_REFUSED_LIBPQ_KEYWORDS].sort());
      const dsn = kratosDsn(conn(), plan.kratosPool);
      for (const [key, value] of Object.entries(samples)) {
        expect(() => kratosDsn(conn({ params: { [key]: value } }), plan.kratosPool)).toThrow(`connection.params.${key}`);
        await migrateRefused(`${dsn}&${key}=${value}`, new RegExp(`FATAL: unrecognized configuration parameter "${key}"`));
      }
      expect([...(await tables()).keys()]).toEqual([]);
    },
    KRATOS_TIMEOUT,
  );

  test(
    'kratos migrate sql -e --yes with the Kratos DSN creates Kratos\' tables, owned by the login',
    async () => {
      const dsn = kratosDsn(conn(), plan.kratosPool);
      expect(dsn).toMatch(/[?&]max_conns=5&max_idle_conns=1&max_conn_lifetime=3600s&max_conn_idle_time=90s$/);
      const r = await migrate(dsn);
      if (r.code !== 0) throw new Error(`kratos migrate exited ${r.code}:\n${r.output.slice(-4000)}`);
      expect(r.output).toContain('Successfully applied SQL migrations!');
      const owned = await tables();
      for (const t of ['schema_migration', 'networks', 'identities', 'identity_credentials', 'identity_credential_identifiers', 'sessions', 'selfservice_login_flows', 'courier_messages']) {
        expect([t, owned.get(t)]).toEqual([t, ROLE]);
      }
      expect(owned.size).toBeGreaterThan(20);
      expect(new Set(owned.values())).toEqual(new Set([ROLE]));
      // Idempotent: a second run finds nothing to apply and exits 0.
      const again = await migrate(dsn);
      expect(again.code).toBe(0);
      expect((await tables()).size).toBe(owned.size);
    },
    KRATOS_TIMEOUT,
  );

  test(
    'in the least-privilege shape the login may not create tables, so Kratos cannot migrate with it (why Kratos needs the owner shape)',
    async () => {
      const lp = { ...loginDescription(server(), leastPrivilege.database, leastPrivilege.login.name, PASSWORD) };
      const r = await migrate(kratosDsn(lp, leastPrivilege.kratosPool), 120_000);
      expect(r.timedOut).toBe(false);
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/permission denied for schema public/);
    },
    KRATOS_TIMEOUT,
  );

  test(
    'kratos serve with the rendered config and the transaction-pooler DSN answers /health/ready and stores an identity, then stops',
    async () => {
      const dsn = kratosDsn(conn({ pooler: PoolerMode.Transaction }), plan.kratosPool);
      expect(dsn).toContain('default_query_exec_mode=exec');
      await serveUntilReady(dsn, 'lead@example.com');
      // psql reads the same database through the direct DSN's libpq form.
      const ids = await psqlOk(kratosDsnToLibpq(kratosDsn(conn(), plan.kratosPool)), "SELECT traits->>'email' FROM identities;");
      expect(ids.stdout.trim()).toBe('lead@example.com');
    },
    KRATOS_TIMEOUT,
  );
});

describe.each(LAB_VERSIONS.filter((v) => v !== 17))('Ory Kratos v1.3.1 on PostgreSQL %i over TLS', (version) => {
  const server = useLabServer(
    () => ({ version, tls: true }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), [plan], credentialsFor([plan], () => PASSWORD));
    },
  );

  test(
    'kratos migrate sql -e --yes exits 0 and creates its tables, owned by the login; kratos serve becomes ready',
    async () => {
      const dsn = kratosDsn(loginDescription(server(), plan.database, ROLE, PASSWORD), plan.kratosPool);
      const r = await migrate(dsn);
      if (r.code !== 0) throw new Error(`kratos migrate exited ${r.code}:\n${r.output.slice(-4000)}`);
      const owners = await psqlOk(kratosDsnToLibpq(dsn), "SELECT count(*) || '|' || string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public';");
      const [count, owner] = owners.stdout.trim().split('|');
      expect(Number(count)).toBeGreaterThan(20);
      expect(owner).toBe(ROLE);
      await serveUntilReady(dsn, `pg${version}@example.com`);
    },
    KRATOS_TIMEOUT,
  );
});

/**
 * What `kratos migrate sql` would change: Kratos' applied migrations and the
 * shape of its tables and indexes (a digest of information_schema.columns
 * and pg_indexes), read as the login.
 */
async function kratosSchemaState(libpq: string): Promise<string> {
  const r = await psqlOk(
    libpq,
    [
      "SELECT count(*) || '|' || md5(string_agg(version, ',' ORDER BY version)) FROM schema_migration;",
      "SELECT md5(string_agg(table_name || ':' || column_name || ':' || data_type || ':' || is_nullable || ':' || coalesce(column_default, ''), ',' ORDER BY table_name, ordinal_position)) FROM information_schema.columns WHERE table_schema = 'public';",
      "SELECT count(*) || '|' || md5(string_agg(indexdef, ',' ORDER BY indexdef)) FROM pg_indexes WHERE schemaname = 'public';",
      "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public';",
    ].join('\n'),
  );
  return r.stdout.trim();
}

describe('moving Kratos\' database with `postgres-strategies migrate`: Debian PostgreSQL 15 → PostgreSQL 17, TLS verify-full', () => {
  const TARGET_PASSWORD = `${PASSWORD} new`;
  const source = useLabServer(
    () => ({ version: 15, tls: true }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), [plan], credentialsFor([plan], () => PASSWORD));
    },
  );
  const target = useLabServer(
    () => ({ version: 17, tls: true }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), [plan], credentialsFor([plan], () => TARGET_PASSWORD));
    },
  );

  test(
    'identities created through Kratos before the move are read back through Kratos after it, and kratos migrate sql -e --yes on the target changes nothing',
    async () => {
      const from = loginDescription(source(), plan.database, ROLE, PASSWORD);
      const to = loginDescription(target(), plan.database, ROLE, TARGET_PASSWORD);
      const fromDsn = kratosDsn(from, plan.kratosPool);
      const toDsn = kratosDsn(to, plan.kratosPool);
      const first = await migrate(fromDsn);
      if (first.code !== 0) throw new Error(`kratos migrate exited ${first.code}:\n${first.output.slice(-4000)}`);
      const emails = ['ada@example.com', 'grace@example.com', 'edsger@example.com'];
      const before = await withKratosServe(fromDsn, async (admin) => {
        for (const e of emails) await createIdentity(admin, e);
        return listIdentities(admin);
      });
      expect([...before.values()].sort()).toEqual([...emails].sort());

      // The move, as the instance's login on both ends; the target's URL through the environment.
      const moved = await runMigrate(['--from', libpqUrl(from), '--to-env', 'MIGRATE_TO', '--json'], { MIGRATE_TO: libpqUrl(to) });
      for (const text of [moved.stdout, moved.stderr]) expectNoPassword(text);
      const result = JSON.parse(moved.stdout) as MigrateResult;
      expect([moved.code, result.ok, result.outcome, result.verification.differences, result.target.role]).toEqual([0, true, 'copied', 0, ROLE]);
      expect(result.verification.tables.length).toBeGreaterThan(20);
      expect(result.verification.tables.find((t) => t.table === 'public.identities')?.target?.rows).toBe(3);

      // Kratos finds every migration applied on the target: nothing changes.
      const state = await kratosSchemaState(kratosDsnToLibpq(toDsn));
      expect(state.split('\n')[3]).toBe(ROLE);
      const again = await migrate(toDsn);
      if (again.code !== 0) throw new Error(`kratos migrate on the target exited ${again.code}:\n${again.output.slice(-4000)}`);
      expect(await kratosSchemaState(kratosDsnToLibpq(toDsn))).toBe(state);
      expect(state).toBe(await kratosSchemaState(kratosDsnToLibpq(fromDsn)));

      // Kratos on the target serves the same identities (same ids, same traits).
      const after = await withKratosServe(toDsn, listIdentities);
      expect(after).toEqual(before);
    },
    KRATOS_TIMEOUT,
  );
});
