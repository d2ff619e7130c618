/**
 * The preset for Hetzner Managed Databases and any other provider that
 * enforces TLS: the primary seed's Hetzner `database:` block byte for byte
 * (placeholders filled), `require` or stronger enforced, an optional pooled
 * endpoint checked field by field.
 */
import { PoolerMode } from '../../../src/core/dsn';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { tlsEnforcedConnectionString, tlsEnforcedGatewayConfig, tlsEnforcedServer } from '../../../src/managed/tls-enforced';
import { expectFieldError } from '../core/helpers';

// Primary seed, "Hetzner Managed Databases".
const SEED_TEMPLATE = 'postgres://vibewarden:<password>@<db-host>.hc-<region>.hetzner.cloud:5432/vibewarden';
const HOST = 'pg-7f3a2c.hc-fsn1.hetzner.cloud';

test("the seed's Hetzner block with its host placeholders filled: URL, tls_mode require, 10s, pool 10 / 2", () => {
  const expected = SEED_TEMPLATE.replace('<db-host>', 'pg-7f3a2c').replace('<region>', 'fsn1');
  const args = { host: HOST, user: 'vibewarden', database: 'vibewarden', passwordPlaceholder: '<password>' };
  expect(tlsEnforcedConnectionString(args)).toBe(expected);
  expect(tlsEnforcedGatewayConfig(args)).toEqual({ externalUrl: expected, tlsMode: 'require', connectTimeout: '10s', maxConns: 10, minConns: 2 });
  expect(tlsEnforcedGatewayConfig(args, SslMode.VerifyFull).tlsMode).toBe('verify-full');
});

test('the primary seed\'s generic Strategy 2 URL (sslmode in the URL)', () => {
  // .env: VIBEWARDEN_DATABASE_EXTERNAL_URL=postgres://vibewarden:strongpassword@db.example.com:5432/vibewarden?sslmode=require
  expect(
    tlsEnforcedConnectionString({ host: 'db.example.com', user: 'vibewarden', password: 'strongpassword', database: 'vibewarden', sslmode: SslMode.Require }),
  ).toBe('postgres://vibewarden:strongpassword@db.example.com:5432/vibewarden?sslmode=require');
});

test('ExternalPostgres arguments: managed kind, require by default, verify-full with a CA, the seed\'s client values', () => {
  const plain = tlsEnforcedServer({ host: HOST, adminUser: 'vibewarden', adminPassword: 's' });
  expect(plain.server).toMatchObject({ host: HOST, port: 5432, kind: ServerKind.Managed, sslmode: SslMode.Require, adminIsSuperuser: false, adminDatabase: 'postgres' });
  expect(plain.server.pooler).toBeUndefined();
  expect(plain.clients).toEqual({ connectTimeoutSeconds: 10, gatewayPool: { maxConns: 10, minConns: 2 }, kratosPool: { maxConns: 10, maxIdleConns: 2 } });
  const verified = tlsEnforcedServer({ host: HOST, adminUser: 'vibewarden', adminPassword: 's', sslrootcert: 'ca.pem' });
  expect(verified.server.sslmode).toBe(SslMode.VerifyFull);
});

test('a pooled endpoint (the provider\'s PgBouncer) is passed on after its checks', () => {
  const preset = tlsEnforcedServer({
    host: HOST,
    adminUser: 'vibewarden',
    adminPassword: 's',
    pooler: { host: 'pool.example.com', port: 6432, mode: PoolerMode.Transaction, serverPoolSize: 20 },
  });
  expect(preset.server.pooler).toEqual({ host: 'pool.example.com', port: 6432, mode: PoolerMode.Transaction, serverPoolSize: 20 });
});

test('anything weaker than require is refused, naming sslmode', () => {
  for (const mode of [SslMode.Disable, SslMode.Allow, SslMode.Prefer]) {
    expectFieldError(() => tlsEnforcedServer({ host: HOST, adminUser: 'u', adminPassword: 's', sslmode: mode }), 'sslmode', `"${mode}"`, 'require, verify-ca, verify-full');
    expectFieldError(() => tlsEnforcedConnectionString({ host: HOST, user: 'u', password: 'p', database: 'd', sslmode: mode }), 'sslmode');
    expectFieldError(() => tlsEnforcedGatewayConfig({ host: HOST, user: 'u', password: 'p', database: 'd' }, mode), 'tlsMode');
  }
  expectFieldError(() => tlsEnforcedServer({ host: HOST, adminUser: 'u', adminPassword: 's', sslmode: SslMode.VerifyCa }), 'server.sslrootcert', 'no root certificate');
});

test('bad hosts, ports, poolers and databases name their field', () => {
  const ok = { host: HOST, adminUser: 'u', adminPassword: 's' };
  expectFieldError(() => tlsEnforcedServer({ ...ok, host: `${HOST}:5432` }), 'host', 'host:port');
  expectFieldError(() => tlsEnforcedServer({ ...ok, host: `postgres://${HOST}` }), 'host');
  expectFieldError(() => tlsEnforcedServer({ ...ok, port: 70000 }), 'port');
  expectFieldError(() => tlsEnforcedServer({ ...ok, adminUser: '' }), 'adminUser');
  expectFieldError(() => tlsEnforcedServer({ ...ok, adminDatabase: '' }), 'adminDatabase');
  expectFieldError(() => tlsEnforcedServer({ ...ok, pooler: { host: 'p:1', port: 6432, mode: PoolerMode.Transaction } }), 'pooler.host');
  expectFieldError(() => tlsEnforcedServer({ ...ok, pooler: { host: 'p', port: 0, mode: PoolerMode.Transaction } }), 'pooler.port');
  expectFieldError(() => tlsEnforcedServer({ ...ok, pooler: { host: 'p', port: 6432, mode: PoolerMode.None } }), 'pooler.mode');
  expectFieldError(() => tlsEnforcedServer({ ...ok, pooler: { host: 'p', port: 6432, mode: PoolerMode.Transaction, serverPoolSize: 0 } }), 'pooler.serverPoolSize');
  expectFieldError(() => tlsEnforcedServer({ ...ok, pooler: { host: 'p', port: 6432, mode: PoolerMode.Transaction, userSuffix: 'a b' } }), 'pooler.userSuffix');
});

test('an existing mixed-case admin database is accepted (connected to, never created)', () => {
  expect(tlsEnforcedServer({ host: HOST, adminUser: 'u', adminPassword: 's', adminDatabase: 'honeyDue' }).server.adminDatabase).toBe('honeyDue');
  expect(tlsEnforcedConnectionString({ host: '::1', user: 'u', password: 'p', database: 'honeyDue' })).toBe('postgres://u:p@[::1]:5432/honeyDue');
});
