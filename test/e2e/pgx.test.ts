/**
 * The pgx dialect against its real consumer: pgx v5 (test/consumers/pgx,
 * built from the Go module proxy by lab/go-consumers.ts), on PostgreSQL 17
 * with TLS, an instance provisioned by the rendered bootstrap SQL and a
 * URL-hostile password.
 *
 * Proves:
 * - `pgxpool.ParseConfig` reads the pgx URL (`pgxUrl`) as meant: host, port,
 *   user, database, MaxConns/MinConns = the rendered gateway pool, the
 *   connect timeout, TLS with host-name verification and our CA only
 *   (verify-full, no plain-text fallback), and a query through the pool logs
 *   in over TLS as the instance's login;
 * - the gateway env map (`gatewayEnv`, VIBEWARDEN_DATABASE_*), merged by the
 *   seed's BuildDSN rule (re-implemented in Go in the consumer), gives pgx
 *   the same config;
 * - a transaction-pooler description puts `default_query_exec_mode=exec` into
 *   both, and pgx reads it as QueryExecModeExec;
 * - verify-full is in force: a wrong CA and a host name missing from the
 *   certificate are both refused (and verify-ca, which skips the name, is not);
 * - the pgx URL and the env map also log in on PostgreSQL 14, 16 and 18;
 * - every other libpq keyword a description's `params` may carry either logs
 *   in through pgx, or is one pgx forwards to the server, which refuses the
 *   login — and those (PGX_REFUSED_LIBPQ_KEYWORDS) are refused by pgxUrl,
 *   gatewayEnv and kratosDsn with a ValidationError;
 * - `channel_binding=require` (Neon's dashboard strings) logs in through
 *   pgx 5.12 and psql (SCRAM-SHA-256-PLUS over TLS);
 * - the password never shows in the consumer's output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionDescription, PGX_REFUSED_LIBPQ_KEYWORDS, PoolerMode, kratosDsn, libpqUrl, pgxBaseUrl, pgxUrl } from '../../src/core/dsn';
import { ValidationError } from '../../src/core/errors';
import { LIBPQ_KEYWORDS, TYPED_KEYWORDS } from '../../src/core/params';
import { GatewayEnv, gatewayEnv } from '../../src/core/gateway';
import { planServerCertificates } from '../../src/core/certificates';
import { planServer } from '../../src/core/plan';
import { SslMode } from '../../src/core/tls';
import { makeCertificates } from '../../lab/certs';
import { LAB_VERSIONS } from '../../lab/server';
import { PGX_CONSUMER, buildGoConsumer } from '../../lab/go-consumers';
import { run, RunResult } from '../../lab/run';
import { psqlOk } from '../../lab/psql';
import { SERVER_TIMEOUT, bootstrap, credentialsFor, loginDescription, useLabServer } from '../integration/support';

const BUILD_TIMEOUT = 15 * 60_000;
const PASSWORD = 'p@ss:w/rd?#%&=+ é';
const ENCODED_PASSWORD = encodeURIComponent(PASSWORD);
const plan = planServer(
  [{ name: 'pgx-e2e', gatewayPool: { maxConns: 7, minConns: 3 } }],
  { maxConnections: 100, reservedConnections: 3 },
  { namePrefix: 'vw_' },
).instances[0]!;
const ROLE = plan.login.name;

/** A plausible value for each libpq keyword (files that need not exist are not opened by pgx). */
const SAMPLE_VALUES: Record<string, string> = {
  passfile: '/nonexistent/pgpass', require_auth: 'scram-sha-256', channel_binding: 'prefer', client_encoding: 'UTF8',
  options: '-c statement_timeout=5s', fallback_application_name: 'fallback', keepalives: '1', keepalives_idle: '30',
  keepalives_interval: '5', keepalives_count: '3', tcp_user_timeout: '5000', gssencmode: 'disable', sslnegotiation: 'postgres',
  sslcompression: '0', sslkeylogfile: '/nonexistent/keylog', sslpassword: 'unused', sslcertmode: 'allow', sslcrl: '/nonexistent/crl.pem',
  sslcrldir: '/nonexistent', sslsni: '1', requirepeer: 'postgres', ssl_min_protocol_version: 'TLSv1.2',
  ssl_max_protocol_version: 'TLSv1.3', krbsrvname: 'postgres', gsslib: 'gssapi', gssdelegation: '0', load_balance_hosts: 'disable',
  min_protocol_version: '3.0', max_protocol_version: '3.0', oauth_issuer: 'https://issuer.example.com', oauth_client_id: 'id',
  oauth_client_secret: 'secret', oauth_scope: 'openid',
};
/** Keywords left out: they need a client certificate (sslcert, sslkey), a service file (service) or change the protocol (replication). */
const NOT_SAMPLED = new Set(['sslcert', 'sslkey', 'service', 'replication']);

interface TlsInfo {
  enabled: boolean;
  verify: 'full' | 'ca' | 'none';
  server_name: string;
  insecure_skip_verify: boolean;
  has_root_cas: boolean;
}
interface ConsumerOutput {
  source: 'url' | 'env';
  dsn_keys: string[];
  config: {
    host: string;
    port: number;
    user: string;
    database: string;
    password_set: boolean;
    max_conns: number;
    min_conns: number;
    default_query_exec_mode: string;
    connect_timeout_seconds: number;
    tls: TlsInfo;
    fallbacks: unknown[];
  };
  query?: { current_user: string; current_database: string; ssl: boolean; ssl_version: string; pool_max_conns: number };
}

let binary = '';
let scratch = '';

beforeAll(async () => {
  binary = await buildGoConsumer(PGX_CONSUMER);
  scratch = mkdtempSync(join(tmpdir(), 'ps-pgx-e2e-'));
}, BUILD_TIMEOUT);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs the consumer with only the given variables in its environment. */
async function consume(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const r = await run(binary, args, { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/', ...env } });
  // Whatever happens, the password is not printed, raw or encoded.
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(ENCODED_PASSWORD);
    expect(text).not.toContain('p@ss');
  }
  return r;
}

async function consumeOk(args: string[], env: Record<string, string> = {}): Promise<ConsumerOutput> {
  const r = await consume(args, env);
  if (r.code !== 0) throw new Error(`pgx consumer exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as ConsumerOutput;
}

describe('pgx v5 reads our dialects on PostgreSQL 17 over TLS (certificate for "localhost" only)', () => {
  // The certificate names localhost and no IP address, so 127.0.0.1 — the same
  // server — is a host name the certificate does not cover.
  const server = useLabServer(
    () => ({ version: 17, tls: true, certificates: planServerCertificates({ dnsNames: ['localhost'], ipAddresses: [] }) }),
    async (s) => {
      // the admin connects to "localhost" with verify-full (lab/server.ts)
      await bootstrap(libpqUrl(s.admin()), [plan], credentialsFor([plan], () => PASSWORD));
    },
  );
  const conn = (overrides: Partial<ConnectionDescription> = {}): ConnectionDescription => ({
    ...loginDescription(server(), plan.database, ROLE, PASSWORD),
    applicationName: 'pgx-e2e',
    ...overrides,
  });

  function expectParsedLogin(out: ConsumerOutput, execMode: string): void {
    const s = server();
    expect(out.config).toMatchObject({
      host: 'localhost',
      port: s.port,
      user: ROLE,
      database: plan.database,
      password_set: true,
      max_conns: plan.gatewayPool.maxConns,
      min_conns: plan.gatewayPool.minConns,
      default_query_exec_mode: execMode,
      connect_timeout_seconds: 10,
      tls: { enabled: true, verify: 'full', server_name: 'localhost', insecure_skip_verify: false, has_root_cas: true },
      // verify-full has no plain-text (or unverified) fallback
      fallbacks: [],
    });
  }

  test(
    'the pgx URL: ParseConfig gives the rendered pool and verify-full; a query logs in over TLS',
    async () => {
      const url = pgxUrl(conn(), plan.gatewayPool);
      const out = await consumeOk(['-url', url]);
      expect(out.source).toBe('url');
      expect(out.dsn_keys).toEqual(['sslmode', 'sslrootcert', 'connect_timeout', 'application_name', 'pool_max_conns', 'pool_min_conns']);
      expectParsedLogin(out, 'cache_statement');
      expect(out.query).toMatchObject({ current_user: ROLE, current_database: plan.database, ssl: true, pool_max_conns: plan.gatewayPool.maxConns });
      expect(out.query!.ssl_version).toMatch(/^TLSv1\.[23]$/);
    },
    SERVER_TIMEOUT,
  );

  test(
    'the gateway env map, merged by the seed\'s BuildDSN, gives pgx the same config',
    async () => {
      const env = gatewayEnv(conn(), plan.gatewayPool);
      expect(env.VIBEWARDEN_DATABASE_POOL_MAX_CONNS).toBe('7');
      const out = await consumeOk(['-env'], { ...env });
      expect(out.source).toBe('env');
      // external_url carries sslmode, so tls_mode is not appended; the pool comes from its own variables
      expect(out.dsn_keys).toEqual(['sslmode', 'sslrootcert', 'connect_timeout', 'application_name', 'pool_max_conns', 'pool_min_conns']);
      expectParsedLogin(out, 'cache_statement');
      expect(out.query).toMatchObject({ current_user: ROLE, current_database: plan.database, ssl: true });
    },
    SERVER_TIMEOUT,
  );

  test(
    'a transaction-pooler description: pgx reads default_query_exec_mode=exec from the URL and from the env map',
    async () => {
      const pooled = conn({ pooler: PoolerMode.Transaction });
      const fromUrl = await consumeOk(['-url', pgxUrl(pooled, plan.gatewayPool)]);
      expectParsedLogin(fromUrl, 'exec');
      expect(fromUrl.dsn_keys).toContain('default_query_exec_mode');
      // exec mode also works straight against the server
      expect(fromUrl.query).toMatchObject({ current_user: ROLE, ssl: true });
      const env: GatewayEnv = gatewayEnv(pooled, plan.gatewayPool);
      const fromEnv = await consumeOk(['-env', '-parse-only'], { ...env });
      expectParsedLogin(fromEnv, 'exec');
      expect(fromEnv.query).toBeUndefined();
    },
    SERVER_TIMEOUT,
  );

  test(
    'verify-full: a CA that did not sign the server certificate is refused',
    async () => {
      const other = await makeCertificates(planServerCertificates({ dnsNames: ['localhost'], ipAddresses: [] }));
      const otherCa = join(scratch, 'other-ca.pem');
      writeFileSync(otherCa, other.caCertPem);
      const wrongCa = conn({ tls: { sslmode: SslMode.VerifyFull, sslrootcert: otherCa } });
      const r = await consume(['-url', pgxUrl(wrongCa, plan.gatewayPool)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/certificate signed by unknown authority/);
      const viaEnv = await consume(['-env'], { ...gatewayEnv(wrongCa, plan.gatewayPool) });
      expect(viaEnv.code).toBe(2);
      expect(viaEnv.stderr).toMatch(/certificate signed by unknown authority/);
    },
    SERVER_TIMEOUT,
  );

  test(
    'verify-full: a host name the certificate does not name is refused; verify-ca (no name check) is not',
    async () => {
      const s = server();
      const byIp = conn({ hosts: [{ host: '127.0.0.1', port: s.port }] });
      const r = await consume(['-url', pgxUrl(byIp, plan.gatewayPool)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/x509: cannot validate certificate for 127\.0\.0\.1 because it doesn.t contain any IP SANs/);
      const viaEnv = await consume(['-env'], { ...gatewayEnv(byIp, plan.gatewayPool) });
      expect(viaEnv.code).toBe(2);
      expect(viaEnv.stderr).toMatch(/cannot validate certificate for 127\.0\.0\.1/);
      // The same address with verify-ca logs in: the refusal above is the host-name check.
      const verifyCa = await consumeOk(['-url', pgxUrl({ ...byIp, tls: { ...byIp.tls, sslmode: SslMode.VerifyCa } }, plan.gatewayPool)]);
      expect(verifyCa.config.tls.verify).toBe('ca');
      expect(verifyCa.query).toMatchObject({ current_user: ROLE, ssl: true });
    },
    SERVER_TIMEOUT,
  );

  test(
    'each extra libpq keyword either logs in through pgx, or is refused by the server and so by pgxUrl, gatewayEnv and kratosDsn',
    async () => {
      const keys = [...LIBPQ_KEYWORDS.keys()].filter((k) => !TYPED_KEYWORDS.has(k) && !NOT_SAMPLED.has(k));
      expect(keys.filter((k) => SAMPLE_VALUES[k] === undefined)).toEqual([]);
      const refusedByServer: string[] = [];
      for (const key of keys) {
        const c = conn({ params: { [key]: SAMPLE_VALUES[key] as string } });
        if (PGX_REFUSED_LIBPQ_KEYWORDS.has(key)) {
          for (const build of [() => pgxUrl(c, plan.gatewayPool), () => gatewayEnv(c, plan.gatewayPool), () => kratosDsn(c, plan.kratosPool)]) {
            expect(build).toThrow(ValidationError);
            expect(build).toThrow(`connection.params.${key}`);
          }
          // libpq URLs keep it
          expect(libpqUrl(c)).toContain(`${key}=`);
          // what pgx would do with it: send it to the server, which refuses the login
          const forced = `${pgxUrl(conn(), plan.gatewayPool)}&${key}=${encodeURIComponent(SAMPLE_VALUES[key] as string)}`;
          const r = await consume(['-url', forced]);
          if (r.code === 2 && /server error: FATAL/.test(r.stderr)) refusedByServer.push(key);
        } else {
          const r = await consume(['-url', pgxUrl(c, plan.gatewayPool)]);
          expect([key, r.code, r.stderr.trim()]).toEqual([key, 0, '']);
        }
      }
      expect(refusedByServer).toEqual(keys.filter((k) => PGX_REFUSED_LIBPQ_KEYWORDS.has(k)));
    },
    SERVER_TIMEOUT,
  );

  test(
    "channel_binding=require (Neon's dashboard strings): pgx and psql (libpq) log in, which they do only with SCRAM-SHA-256-PLUS over TLS",
    async () => {
      const bound = conn({ params: { channel_binding: 'require' } });
      const out = await consumeOk(['-url', pgxUrl(bound, plan.gatewayPool)]);
      expect(out.dsn_keys).toContain('channel_binding');
      expect(out.query).toMatchObject({ current_user: ROLE, current_database: plan.database, ssl: true });
      const viaEnv = await consumeOk(['-env'], { ...gatewayEnv(bound, plan.gatewayPool) });
      expect(viaEnv.query).toMatchObject({ current_user: ROLE, ssl: true });
      const r = await psqlOk(libpqUrl(bound), 'SELECT current_user;');
      expect(r.stdout).toContain(ROLE);
    },
    SERVER_TIMEOUT,
  );

  test(
    'the gateway applies tls_mode only when the URL has no sslmode (the seed\'s merge rule)',
    async () => {
      // external_url without sslmode: tls_mode verify-full is appended; with sslrootcert in the URL it verifies.
      const env = gatewayEnv(conn(), plan.gatewayPool);
      const base = pgxBaseUrl(conn()).replace(/sslmode=verify-full&/, '');
      expect(base).not.toContain('sslmode=');
      const out = await consumeOk(['-env'], { ...env, VIBEWARDEN_DATABASE_EXTERNAL_URL: base });
      expect(out.dsn_keys).toEqual(['sslrootcert', 'connect_timeout', 'application_name', 'sslmode', 'pool_max_conns', 'pool_min_conns']);
      expectParsedLogin(out, 'cache_statement');
      // a tls_mode the gateway does not accept is an error before any connection
      const bad = await consume(['-env'], { ...env, VIBEWARDEN_DATABASE_TLS_MODE: 'prefer' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('tls_mode');
    },
    SERVER_TIMEOUT,
  );
});

describe.each(LAB_VERSIONS.filter((v) => v !== 17))('pgx v5 on PostgreSQL %i over TLS', (version) => {
  const server = useLabServer(
    () => ({ version, tls: true }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), [plan], credentialsFor([plan], () => PASSWORD));
    },
  );
  const conn = (): ConnectionDescription => loginDescription(server(), plan.database, ROLE, PASSWORD);

  test(
    'the pgx URL and the gateway env map log in with verify-full and the rendered pool',
    async () => {
      for (const out of [await consumeOk(['-url', pgxUrl(conn(), plan.gatewayPool)]), await consumeOk(['-env'], { ...gatewayEnv(conn(), plan.gatewayPool) })]) {
        expect(out.config).toMatchObject({ max_conns: plan.gatewayPool.maxConns, min_conns: plan.gatewayPool.minConns, tls: { verify: 'full' } });
        expect(out.query).toMatchObject({ current_user: ROLE, current_database: plan.database, ssl: true });
      }
    },
    SERVER_TIMEOUT,
  );
});
