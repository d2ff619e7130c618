/**
 * The Neon preset against the seeds: the primary seed's Neon `database:`
 * block and seed 001's Neon URL byte for byte, seed 003's endpoint and its
 * case-sensitive `honeyDue` database, the `-pooler` variants, the
 * ExternalPostgres arguments (direct admin, pooled clients) and the
 * ValidationErrors for what users paste wrongly.
 */
import { parse } from 'pg-connection-string';
import { PoolerMode, kratosDsn, libpqUrl, pgxUrl } from '../../../src/core/dsn';
import { buildGatewayDsn } from '../../../src/core/gateway';
import { quoteIdent } from '../../../src/core/identifiers';
import { planInstance } from '../../../src/core/plan';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { throughPooler } from '../../../src/managed/common';
import {
  NEON_DEFAULT_MAX_CONNECTIONS,
  neonConnectionString,
  neonGatewayConfig,
  neonPoolerHost,
  neonServer,
} from '../../../src/managed/neon';
import { expectFieldError, queryPairs } from '../core/helpers';

// Primary seed, "Neon".
const SEED_HOST = 'ep-cool-rain-12345.eu-central-1.aws.neon.tech';
const SEED_URL = 'postgres://vibewarden:${DB_PASSWORD}@ep-cool-rain-12345.eu-central-1.aws.neon.tech/neondb?sslmode=require';
// Seed 003: connection details of the honeyDue project.
const HONEYDUE_HOST = 'ep-floral-truth-amttbc5a.c-5.us-east-1.aws.neon.tech';
// Seed 001: `DATABASE_URL=postgres://[user]:[password]@[endpoint].neon.tech/[dbname]?sslmode=require`.
const SEED_001_TEMPLATE = 'postgres://[user]:[password]@[endpoint].neon.tech/[dbname]?sslmode=require';

describe('connection strings as the seeds and the dashboard write them', () => {
  // Neon's dashboard (Connect, 2025 on): sslmode and channel_binding, no port, the -pooler host by default.
  const DASHBOARD_POOLED = 'postgres://vibewarden:${DB_PASSWORD}@ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require';

  test("the dashboard's current form: sslmode=require&channel_binding=require, direct and -pooler", () => {
    expect(neonConnectionString({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}', pooled: true })).toBe(DASHBOARD_POOLED);
    expect(neonConnectionString({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}' })).toBe(`${SEED_URL}&channel_binding=require`);
    const p = parse(DASHBOARD_POOLED) as Record<string, unknown>;
    expect([p['sslmode'], p['channel_binding']]).toEqual(['require', 'require']);
  });

  test("the primary seed's Neon external_url byte for byte (the form before channel_binding)", () => {
    expect(
      neonConnectionString({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}', database: 'neondb', sslmode: SslMode.Require, channelBinding: false }),
    ).toBe(SEED_URL);
    expect(neonConnectionString({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}', channelBinding: false })).toBe(SEED_URL);
  });

  test("the primary seed's whole Neon database: block (tls_mode require, connect_timeout 15s, pool 10 / 1)", () => {
    expect(neonGatewayConfig({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}', channelBinding: false })).toEqual({
      externalUrl: SEED_URL,
      tlsMode: 'require',
      connectTimeout: '15s',
      maxConns: 10,
      minConns: 1,
    });
    expect(neonGatewayConfig({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}' }).externalUrl).toBe(`${SEED_URL}&channel_binding=require`);
  });

  test("seed 001's Neon URL template with its placeholders filled in the same way", () => {
    const expected = SEED_001_TEMPLATE.replace('[user]', 'alex').replace('[endpoint]', 'ep-cool-darkness-123456.us-east-2.aws').replace('[dbname]', 'dbname');
    expect(
      neonConnectionString({ host: 'ep-cool-darkness-123456.us-east-2.aws.neon.tech', user: 'alex', passwordPlaceholder: '[password]', database: 'dbname', channelBinding: false }),
    ).toBe(expected);
  });

  test('the pooled variant: -pooler on the first label, everything else unchanged', () => {
    expect(neonConnectionString({ host: SEED_HOST, user: 'vibewarden', passwordPlaceholder: '${DB_PASSWORD}', pooled: true, channelBinding: false })).toBe(
      'postgres://vibewarden:${DB_PASSWORD}@ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require',
    );
    expect(neonPoolerHost(HONEYDUE_HOST)).toBe('ep-floral-truth-amttbc5a-pooler.c-5.us-east-1.aws.neon.tech');
    expect(neonPoolerHost(SEED_HOST)).toBe('ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech');
  });

  test("seed 003's connection details: host, port 5432, neondb_owner, the case-sensitive honeyDue, require", () => {
    const url = neonConnectionString({ host: HONEYDUE_HOST, user: 'neondb_owner', password: 'pw', database: 'honeyDue' });
    expect(url).toBe('postgres://neondb_owner:pw@ep-floral-truth-amttbc5a.c-5.us-east-1.aws.neon.tech/honeyDue?sslmode=require&channel_binding=require');
    const p = parse(url);
    expect([p.host, p.port || '5432', p.user, p.database, (p as Record<string, unknown>)['sslmode']]).toEqual([
      HONEYDUE_HOST,
      '5432',
      'neondb_owner',
      'honeyDue', // not "honeydue": the seed's "database does not exist" came from the folded name
      'require',
    ]);
  });

  test('verify-full writes sslrootcert=system (libpq 16+), a real password is percent-encoded', () => {
    const url = neonConnectionString({ host: SEED_HOST, user: 'vibewarden', password: 'p@ss:w/rd+', sslmode: SslMode.VerifyFull });
    expect(url).toBe(
      'postgres://vibewarden:p%40ss%3Aw%2Frd%2B@ep-cool-rain-12345.eu-central-1.aws.neon.tech/neondb?sslmode=verify-full&sslrootcert=system&channel_binding=require',
    );
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss:w/rd+');
  });

  test("the seed's BuildDSN of the Neon block keeps the URL's sslmode and channel_binding and adds timeout and pool (pgx reads them all)", () => {
    expect(buildGatewayDsn(neonGatewayConfig({ host: SEED_HOST, user: 'vibewarden', password: 'pw', pooled: true }))).toBe(
      'postgres://vibewarden:pw@ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require&connect_timeout=15&pool_max_conns=10&pool_min_conns=1',
    );
  });
});

describe('ExternalPostgres arguments', () => {
  const preset = neonServer({ host: SEED_HOST, adminPassword: 'secret' });

  test('admin on the direct endpoint as neondb_owner (not a superuser), clients on the -pooler host in transaction mode', () => {
    expect(preset.server).toMatchObject({
      host: SEED_HOST,
      port: 5432,
      adminUser: 'neondb_owner',
      adminPassword: 'secret',
      adminDatabase: 'neondb',
      adminIsSuperuser: false,
      kind: ServerKind.Managed,
      sslmode: SslMode.VerifyFull,
      clientSslRootCert: 'system',
      maxConnections: NEON_DEFAULT_MAX_CONNECTIONS,
      reservedConnections: 7,
      connectTimeoutSeconds: 15,
      pooler: { host: 'ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech', port: 5432, mode: PoolerMode.Transaction, serverPoolSize: 93 },
    });
    // The provider (Go) checks against the system store when it is given no file.
    expect(preset.server.sslrootcert).toBeUndefined();
    expect(preset.server.pooler?.userSuffix).toBeUndefined();
  });

  test("the clients get the seed's Neon values: connect_timeout 15, pool 10 / 1", () => {
    expect(preset.clients).toEqual({ connectTimeoutSeconds: 15, gatewayPool: { maxConns: 10, minConns: 1 }, kratosPool: { maxConns: 10, maxIdleConns: 1 } });
  });

  test('pooled: false sends clients to the direct host; require and a CA path are honoured', () => {
    expect(neonServer({ host: SEED_HOST, adminPassword: 'x', pooled: false }).server.pooler).toBeUndefined();
    const req = neonServer({ host: SEED_HOST, adminPassword: 'x', sslmode: SslMode.Require });
    expect([req.server.sslmode, req.server.sslrootcert, req.server.clientSslRootCert]).toEqual([SslMode.Require, undefined, undefined]);
    const file = neonServer({ host: SEED_HOST, adminPassword: 'x', sslrootcert: '/etc/ssl/certs/ca-certificates.crt' });
    expect([file.server.sslrootcert, file.server.clientSslRootCert]).toEqual(['/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt']);
  });

  test('the pool per role and database is 90% of max_connections (Neon docs)', () => {
    expect(neonServer({ host: SEED_HOST, adminPassword: 'x', maxConnections: 419 }).server.pooler?.serverPoolSize).toBe(377);
  });

  test("an instance's outputs through the preset's pooler: -pooler host, exec mode for Kratos and pgx, the seed's timeout", () => {
    const p = preset.server.pooler!;
    const direct = {
      hosts: [{ host: SEED_HOST, port: 5432 }],
      database: 'vw_blog',
      user: 'vw_blog',
      password: 'pw',
      tls: { sslmode: SslMode.VerifyFull, sslrootcert: 'system' },
      connectTimeoutSeconds: preset.clients.connectTimeoutSeconds,
    };
    const pooled = throughPooler(direct, { host: p.host as string, port: p.port as number, mode: p.mode });
    expect(libpqUrl(pooled)).toBe('postgres://vw_blog:pw@ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech:5432/vw_blog?sslmode=verify-full&sslrootcert=system&connect_timeout=15');
    expect(queryPairs(kratosDsn(pooled, preset.clients.kratosPool))).toContainEqual(['default_query_exec_mode', 'exec']);
    expect(queryPairs(pgxUrl(pooled, preset.clients.gatewayPool))).toEqual(
      expect.arrayContaining([['default_query_exec_mode', 'exec'], ['pool_max_conns', '10'], ['pool_min_conns', '1']]),
    );
    // Migrations stay direct: no exec mode, no -pooler.
    expect(kratosDsn(direct, preset.clients.kratosPool)).not.toContain('default_query_exec_mode');
    expect(kratosDsn(direct, preset.clients.kratosPool)).not.toContain('-pooler');
  });
});

describe("seed 003's case-sensitive database", () => {
  test('an existing mixed-case database is connected to as is, and quoted in SQL', () => {
    const preset = neonServer({ host: HONEYDUE_HOST, adminPassword: 'x', database: 'honeyDue' });
    expect(preset.server.adminDatabase).toBe('honeyDue');
    const url = libpqUrl({ hosts: [{ host: HONEYDUE_HOST, port: 5432 }], database: 'honeyDue', user: 'neondb_owner', password: 'x', tls: { sslmode: SslMode.Require } });
    expect(new URL(url).pathname).toBe('/honeyDue');
    expect(parse(url).database).toBe('honeyDue');
    expect(quoteIdent('honeyDue')).toBe('"honeyDue"');
  });

  test('creating a new mixed-case database stays refused', () => {
    expectFieldError(() => planInstance({ name: 'honey', database: 'honeyDue' }), 'instance.database', 'upper-case', '"honeydue"');
  });
});

describe('bad input names the field', () => {
  test('hosts', () => {
    expectFieldError(() => neonServer({ host: 'ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech', adminPassword: 'x' }), 'host', 'already the pooled', SEED_HOST);
    expectFieldError(() => neonPoolerHost('ep-cool-rain-12345-pooler.eu-central-1.aws.neon.tech'), 'host', '-pooler');
    expectFieldError(() => neonServer({ host: 'db.example.com', adminPassword: 'x' }), 'host', 'not a Neon endpoint host');
    expectFieldError(() => neonServer({ host: `${SEED_HOST}:5432`, adminPassword: 'x' }), 'host', 'host:port');
    expectFieldError(() => neonServer({ host: SEED_URL, adminPassword: 'x' }), 'host', 'is a URL', `"${SEED_HOST}"`);
    expectFieldError(() => neonServer({ host: '10.0.0.5', adminPassword: 'x' }), 'host', 'IP address');
    expectFieldError(() => neonServer({ host: 'EP-COOL-RAIN-12345.eu-central-1.aws.neon.tech', adminPassword: 'x' }), 'host', 'upper-case');
    expectFieldError(() => neonServer({ host: '', adminPassword: 'x' }), 'host', 'empty');
    expectFieldError(() => neonConnectionString({ host: 'ep-x..neon.tech', user: 'u', password: 'p' }), 'host', 'not a valid host name');
  });

  test('TLS', () => {
    for (const mode of [SslMode.Disable, SslMode.Allow, SslMode.Prefer, SslMode.VerifyCa]) {
      expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', sslmode: mode }), 'sslmode', `"${mode}"`, 'verify-full');
    }
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', sslmode: 'verify_full' as SslMode }), 'sslmode', 'not a valid sslmode');
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', sslmode: SslMode.Require, sslrootcert: 'system' }), 'sslrootcert', 'require');
  });

  test('database, numbers and password parts', () => {
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', database: '' }), 'database', 'empty');
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', database: 'd'.repeat(64) }), 'database', '64 bytes');
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', maxConnections: 7 }), 'maxConnections');
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', adminUser: '' }), 'adminUser', 'empty');
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', gatewayPool: { maxConns: 1, minConns: 2 } }), 'gatewayPool.minConns');
    expectFieldError(() => neonServer({ host: SEED_HOST, adminPassword: 'x', connectTimeoutSeconds: 0 }), 'connectTimeoutSeconds');
    expectFieldError(() => neonConnectionString({ host: SEED_HOST, user: 'u', passwordPlaceholder: '$DB_PASSWORD' }), 'passwordPlaceholder', 'not a placeholder');
    expectFieldError(() => neonConnectionString({ host: SEED_HOST, user: 'u', password: 'p', passwordPlaceholder: '${P}' }), 'password', 'both');
    expectFieldError(() => neonConnectionString({ host: SEED_HOST, user: 'u' }), 'password', 'neither');
    expectFieldError(() => neonConnectionString({ host: SEED_HOST, user: '', password: 'p' }), 'user', 'empty');
  });
});
