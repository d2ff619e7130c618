/**
 * The Supabase preset against the seeds: the primary seed's two Supabase
 * `database:` blocks (Supavisor session 5432, pool 5 / 1; transaction 6543,
 * pool 10 / 2) and seed 001's direct URL byte for byte, the ExternalPostgres
 * arguments (direct admin, `postgres.<ref>`-style pooled clients) and the
 * ValidationErrors for a bad reference, region, pooler host or TLS setting.
 */
import { PoolerMode, kratosDsn, libpqUrl } from '../../../src/core/dsn';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { throughPooler } from '../../../src/managed/common';
import {
  SupabaseEndpoint,
  supabaseConnectionString,
  supabaseDirectHost,
  supabaseGatewayConfig,
  supabaseServer,
} from '../../../src/managed/supabase';
import { expectFieldError, queryPairs } from '../core/helpers';

// Primary seed, "Supabase".
const SEED_SESSION = 'postgres://postgres.abcdefgh:${DB_PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres';
const SEED_TRANSACTION = 'postgres://postgres.abcdefgh:${DB_PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres';
// Seed 001: `DATABASE_URL=postgres://postgres:[password]@db.[project].supabase.co:5432/postgres?sslmode=require`.
const SEED_001_TEMPLATE = 'postgres://postgres:[password]@db.[project].supabase.co:5432/postgres?sslmode=require';
// The pooler host as the dashboard's Connect dialog shows it (the seed's project is on cluster aws-0).
const POOLER = 'aws-0-eu-central-1.pooler.supabase.com';
const seed = { projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, passwordPlaceholder: '${DB_PASSWORD}' };

describe('connection strings as the seeds write them', () => {
  test("the primary seed's session-pooler block (its 'direct connection' example): URL, require, 10s, free-tier pool 5 / 1", () => {
    expect(supabaseConnectionString({ ...seed, endpoint: SupabaseEndpoint.SessionPooler })).toBe(SEED_SESSION);
    expect(supabaseGatewayConfig({ ...seed, endpoint: SupabaseEndpoint.SessionPooler })).toEqual({
      externalUrl: SEED_SESSION,
      tlsMode: 'require',
      connectTimeout: '10s',
      maxConns: 5,
      minConns: 1,
    });
  });

  test("the primary seed's transaction-pooler block: port 6543, pool 10 / 2", () => {
    expect(supabaseConnectionString({ ...seed, endpoint: SupabaseEndpoint.TransactionPooler })).toBe(SEED_TRANSACTION);
    expect(supabaseConnectionString(seed)).toBe(SEED_TRANSACTION); // the default endpoint
    expect(supabaseGatewayConfig(seed)).toEqual({ externalUrl: SEED_TRANSACTION, tlsMode: 'require', connectTimeout: '10s', maxConns: 10, minConns: 2 });
  });

  test("seed 001's direct URL with its placeholders filled in the same way", () => {
    const ref = 'abcdefghijklmnopqrst';
    expect(
      supabaseConnectionString({ projectRef: ref, region: 'eu-central-1', endpoint: SupabaseEndpoint.Direct, passwordPlaceholder: '[password]', sslmode: SslMode.Require }),
    ).toBe(SEED_001_TEMPLATE.replace('[project]', ref));
  });

  test('hosts: db.<ref>.supabase.co, and the pooler host exactly as the dashboard gives it (aws-0, aws-1, …)', () => {
    expect(supabaseDirectHost('abcdefgh')).toBe('db.abcdefgh.supabase.co');
    expect(supabaseConnectionString({ ...seed, poolerHost: 'aws-1-eu-central-1.pooler.supabase.com' })).toBe(SEED_TRANSACTION.replace('aws-0', 'aws-1'));
    // the region is optional: the pooler host carries it
    const { region: _, ...noRegion } = seed;
    expect(supabaseConnectionString(noRegion)).toBe(SEED_TRANSACTION);
  });

  test('verify-full with the Supabase CA file in the URL; a real password is percent-encoded', () => {
    expect(
      supabaseConnectionString({ projectRef: 'abcdefgh', poolerHost: POOLER, password: 'a b#c', sslmode: SslMode.VerifyFull, sslrootcert: '/etc/ssl/supabase/prod-ca-2021.crt' }),
    ).toBe('postgres://postgres.abcdefgh:a%20b%23c@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=verify-full&sslrootcert=/etc/ssl/supabase/prod-ca-2021.crt');
  });
});

describe('ExternalPostgres arguments', () => {
  test('admin on db.<ref>.supabase.co:5432 as postgres; clients through Supavisor transaction mode as <role>.<ref>', () => {
    const preset = supabaseServer({ projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's' });
    expect(preset.server).toMatchObject({
      host: 'db.abcdefgh.supabase.co',
      port: 5432,
      adminUser: 'postgres',
      adminDatabase: 'postgres',
      adminIsSuperuser: false,
      kind: ServerKind.Managed,
      sslmode: SslMode.Require,
      maxConnections: 60,
      connectTimeoutSeconds: 10,
      pooler: { host: 'aws-0-eu-central-1.pooler.supabase.com', port: 6543, mode: PoolerMode.Transaction, userSuffix: '.abcdefgh', serverPoolSize: 15 },
    });
    expect(preset.clients).toEqual({ connectTimeoutSeconds: 10, gatewayPool: { maxConns: 10, minConns: 2 }, kratosPool: { maxConns: 10, maxIdleConns: 2 } });
  });

  test("session pooler and direct clients get the seed's free-tier pool 5 / 1", () => {
    const session = supabaseServer({ projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's', clientEndpoint: SupabaseEndpoint.SessionPooler });
    expect(session.server.pooler).toMatchObject({ port: 5432, mode: PoolerMode.Session, userSuffix: '.abcdefgh' });
    expect(session.clients.gatewayPool).toEqual({ maxConns: 5, minConns: 1 });
    expect(session.clients.kratosPool).toEqual({ maxConns: 5, maxIdleConns: 1 });
    const direct = supabaseServer({ projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's', clientEndpoint: SupabaseEndpoint.Direct });
    expect(direct.server.pooler).toBeUndefined();
    expect(direct.clients.gatewayPool).toEqual({ maxConns: 5, minConns: 1 });
  });

  test('an IPv4-only admin goes through the session pooler as postgres.<ref>', () => {
    const preset = supabaseServer({ projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's', adminEndpoint: SupabaseEndpoint.SessionPooler });
    expect([preset.server.host, preset.server.port, preset.server.adminUser]).toEqual(['aws-0-eu-central-1.pooler.supabase.com', 5432, 'postgres.abcdefgh']);
  });

  test('the Supabase CA makes verify-full the default, for the provider and the clients', () => {
    const preset = supabaseServer({ projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's', sslrootcert: 'prod-ca-2021.crt' });
    expect([preset.server.sslmode, preset.server.sslrootcert]).toEqual([SslMode.VerifyFull, 'prod-ca-2021.crt']);
  });

  test("an instance's pooled outputs: vw_blog.<ref> on 6543, exec mode for Kratos; direct outputs unchanged", () => {
    const preset = supabaseServer({ projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's' });
    const p = preset.server.pooler!;
    const direct = { hosts: [{ host: 'db.abcdefgh.supabase.co', port: 5432 }], database: 'vw_blog', user: 'vw_blog', password: 'pw', tls: { sslmode: SslMode.Require } };
    const pooled = throughPooler(direct, { host: p.host as string, port: p.port as number, mode: p.mode, userSuffix: p.userSuffix });
    expect(libpqUrl(pooled)).toBe('postgres://vw_blog.abcdefgh:pw@aws-0-eu-central-1.pooler.supabase.com:6543/vw_blog?sslmode=require&connect_timeout=10');
    expect(queryPairs(kratosDsn(pooled, preset.clients.kratosPool))).toContainEqual(['default_query_exec_mode', 'exec']);
    expect(libpqUrl(direct)).toBe('postgres://vw_blog:pw@db.abcdefgh.supabase.co:5432/vw_blog?sslmode=require&connect_timeout=10');
  });
});

describe('bad input names the field', () => {
  const ok = { projectRef: 'abcdefgh', region: 'eu-central-1', poolerHost: POOLER, adminPassword: 's' };
  test('project reference', () => {
    expectFieldError(() => supabaseServer({ ...ok, projectRef: '' }), 'projectRef', 'empty');
    expectFieldError(() => supabaseServer({ ...ok, projectRef: 'postgres.abcdefgh' }), 'projectRef', 'pooler user name', '"abcdefgh"');
    expectFieldError(() => supabaseServer({ ...ok, projectRef: 'db.abcdefgh.supabase.co' }), 'projectRef', 'host name');
    expectFieldError(() => supabaseServer({ ...ok, projectRef: 'AbcDefgh' }), 'projectRef', 'not a Supabase project reference');
    expectFieldError(() => supabaseServer({ ...ok, projectRef: 'ab-cd' }), 'projectRef', 'not a Supabase project reference');
    expectFieldError(() => supabaseConnectionString({ ...seed, projectRef: '[project]' }), 'projectRef');
  });

  test('region and pooler host', () => {
    expectFieldError(() => supabaseServer({ ...ok, region: 'aws-0-eu-central-1' }), 'region', 'host prefix', '"eu-central-1"');
    expectFieldError(() => supabaseServer({ ...ok, region: 'eu-central' }), 'region', 'not an AWS region');
    expectFieldError(() => supabaseServer({ ...ok, region: 'Frankfurt' }), 'region', 'not an AWS region');
    expectFieldError(() => supabaseServer({ ...ok, region: '' }), 'region', 'empty');
    expectFieldError(() => supabaseServer({ ...ok, poolerHost: 'aws-0-eu-central-1.pooler.supabase.com:6543' }), 'poolerHost', 'host:port');
    expectFieldError(() => supabaseServer({ ...ok, poolerHost: 'db.abcdefgh.supabase.co' }), 'poolerHost', 'not a Supavisor host');
  });

  test('the pooler host is required wherever a pooler is used, with the fix "copy it from Connect"', () => {
    // The default client endpoint is the transaction pooler: no guessed aws-0 host any more.
    const { poolerHost: _, ...noPooler } = ok;
    for (const f of [
      () => supabaseServer(noPooler),
      () => supabaseServer({ ...noPooler, clientEndpoint: SupabaseEndpoint.SessionPooler }),
      () => supabaseServer({ ...noPooler, clientEndpoint: SupabaseEndpoint.Direct, adminEndpoint: SupabaseEndpoint.SessionPooler }),
      () => supabaseConnectionString({ projectRef: 'abcdefgh', region: 'eu-central-1', passwordPlaceholder: '${DB_PASSWORD}' }),
      () => supabaseGatewayConfig({ projectRef: 'abcdefgh', region: 'eu-central-1', passwordPlaceholder: '${DB_PASSWORD}', endpoint: SupabaseEndpoint.SessionPooler }),
    ]) {
      expectFieldError(f, 'poolerHost', 'is not set', 'cannot be derived from the region', 'Tenant or user not found', 'Connect → Transaction pooler or Session pooler');
    }
    // Direct everywhere needs no pooler host.
    expect(supabaseServer({ ...noPooler, clientEndpoint: SupabaseEndpoint.Direct }).server.pooler).toBeUndefined();
    expect(supabaseConnectionString({ projectRef: 'abcdefgh', endpoint: SupabaseEndpoint.Direct, passwordPlaceholder: '[password]' })).toBe(
      'postgres://postgres:[password]@db.abcdefgh.supabase.co:5432/postgres',
    );
    // A host of another region than the one given is refused (a project's pooler host, copied from another project).
    expectFieldError(() => supabaseServer({ ...ok, poolerHost: 'aws-1-us-east-1.pooler.supabase.com' }), 'poolerHost', 'in us-east-1', 'region is "eu-central-1"');
  });

  test('endpoints and TLS', () => {
    expectFieldError(() => supabaseServer({ ...ok, adminEndpoint: SupabaseEndpoint.TransactionPooler }), 'adminEndpoint', 'transaction pooler');
    expectFieldError(() => supabaseServer({ ...ok, clientEndpoint: 'pooled' as SupabaseEndpoint }), 'clientEndpoint', 'not a Supabase endpoint');
    expectFieldError(() => supabaseServer({ ...ok, sslmode: SslMode.Disable }), 'supabase.sslmode', 'enforces TLS');
    expectFieldError(() => supabaseServer({ ...ok, sslmode: SslMode.VerifyFull }), 'supabase.sslrootcert', 'no root certificate');
    expectFieldError(() => supabaseServer({ ...ok, sslmode: SslMode.VerifyFull, sslrootcert: 'system' }), 'sslrootcert', 'prod-ca-2021.crt');
    expectFieldError(() => supabaseConnectionString({ ...seed, sslrootcert: 'ca.crt' }), 'sslrootcert', 'without an sslmode');
    expectFieldError(() => supabaseConnectionString({ ...seed, user: 'postgres.abcdefgh' }), 'user', 'added for you');
  });

  test('numbers', () => {
    expectFieldError(() => supabaseServer({ ...ok, poolSize: 0 }), 'poolSize');
    expectFieldError(() => supabaseServer({ ...ok, maxConnections: 2 }), 'maxConnections');
    expectFieldError(() => supabaseServer({ ...ok, kratosPool: { maxConns: 0, maxIdleConns: 0 } }), 'kratosPool.maxConns');
  });
});
