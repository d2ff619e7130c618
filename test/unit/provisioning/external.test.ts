/**
 * ExternalPostgres under the mock runtime: the admin provider it declares,
 * the handle it produces, and the TLS and connection-number rules enforced
 * before anything is created.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { unwrapSecret } from '../../support/graph';
import { TEST_CA_FILE } from '../../support/ca-file';

const rds = new ExternalPostgres('rds', {
  host: 'mydb.abc123.eu-west-1.rds.amazonaws.com',
  adminUser: 'vibewarden_admin',
  adminPassword: 'plain-input-becomes-secret',
  sslrootcert: TEST_CA_FILE,
  maxConnections: 200,
  reservedConnections: 5,
});

beforeAll(settled);

test('one provider resource, connected as the admin, not a superuser by default (RDS and other managed services)', () => {
  const p = rt.named('rds-admin');
  expect(p.type).toBe('pulumi:providers:postgresql');
  expect(p.inputs).toMatchObject({
    host: 'mydb.abc123.eu-west-1.rds.amazonaws.com',
    port: '5432',
    username: 'vibewarden_admin',
    database: 'postgres',
    sslmode: 'verify-full',
    sslrootcert: TEST_CA_FILE,
    superuser: 'false',
    connectTimeout: '15',
  });
});

test('the admin password reaches the provider as a secret even when given in plain text', () => {
  const { secret, value } = unwrapSecret(rt.named('rds-admin').inputs['password']);
  expect(secret).toBe(true);
  expect(value).toBe('plain-input-becomes-secret');
});

test('a root certificate makes verify-full the default; the handle carries the numbers for the budget', () => {
  expect(rds.handle).toMatchObject({
    kind: ServerKind.Managed,
    sslmode: SslMode.VerifyFull,
    sslrootcert: TEST_CA_FILE,
    maxConnections: 200,
    reservedConnections: 5,
    adminUser: 'vibewarden_admin',
    adminIsSuperuser: false,
    // the default share: a tenth of 200 − 5, at most 16 (8 instances provisioned at once)
    adminConnections: 16,
    maintenanceConnections: 3,
  });
  expect(rds.handle.lanes.count).toBe(8);
  expect(rds.handle.pooler).toBeUndefined();
  expect(rds.handle.provider).toBe(rds.provider);
});

test('without a root certificate the default is the seed\'s require', () => {
  const neon = new ExternalPostgres('neon', { host: 'ep-cool-rain-12345.eu-central-1.aws.neon.tech', adminUser: 'neondb_admin', adminPassword: pulumi.secret('x') });
  expect(neon.handle.sslmode).toBe(SslMode.Require);
});

test('clients may use a different CA path than the machine running Pulumi', () => {
  const s = new ExternalPostgres('split', { host: 'h', adminUser: 'a', adminPassword: 'p', sslrootcert: TEST_CA_FILE, clientSslRootCert: '/run/secrets/ca.pem' });
  expect(s.handle.sslrootcert).toBe('/run/secrets/ca.pem');
});

describe('rejected before anything is created', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['sslmode disable on a managed server', { sslmode: SslMode.Disable }, /ExternalPostgres\.sslmode: "disable" is not permitted for a managed server/],
    ['verify-full without a root certificate', { sslmode: SslMode.VerifyFull }, /ExternalPostgres\.sslrootcert: sslmode=verify-full verifies the server certificate but no root certificate is given/],
    ['an sslmode libpq does not know', { sslmode: 'verify' }, /sslmode: "verify" is not a valid sslmode/],
    ['reserved slots not below max_connections', { maxConnections: 10, reservedConnections: 10 }, /reservedConnections: 10 is not a whole number of connections between 0 and 9/],
    ['a fractional max_connections', { maxConnections: 99.5 }, /maxConnections: 99.5 is not a whole number/],
    ['an empty admin user', { adminUser: '' }, /adminUser: is empty/],
  ];
  test.each(cases)('%s', (_, overrides, message) => {
    const before = rt.resources.length;
    expect(() => new ExternalPostgres('bad', { host: 'h', adminUser: 'a', adminPassword: 'p', ...overrides } as never)).toThrow(message);
    expect(rt.resources.length).toBe(before);
  });

  test('a self-managed server may use disable (e.g. on a private network)', () => {
    const s = new ExternalPostgres('lan', { host: '10.0.0.5', adminUser: 'a', adminPassword: 'p', kind: ServerKind.SelfManaged, sslmode: SslMode.Disable });
    expect(s.handle.sslmode).toBe(SslMode.Disable);
  });
});

describe('sslrootcert, the CA file on the machine that runs Pulumi (issue 22 item 6)', () => {
  const make = (name: string, sslrootcert: string, extra: Partial<ConstructorParameters<typeof ExternalPostgres>[1]> = {}): ExternalPostgres =>
    new ExternalPostgres(name, { host: 'db.example.com', adminUser: 'a', adminPassword: 'p', sslrootcert, ...extra });

  test('a relative path is made absolute (from the project folder) for the provider and every client URL', async () => {
    const relativePath = relative(process.cwd(), TEST_CA_FILE);
    expect(isAbsolute(relativePath)).toBe(false);
    const s = make('relative-ca', relativePath);
    expect(s.handle.sslrootcert).toBe(TEST_CA_FILE);
    await settled();
    expect(rt.named('relative-ca-admin').inputs['sslrootcert']).toBe(TEST_CA_FILE);
  });

  test('a file that does not exist is refused before anything is registered, naming the absolute path looked at', () => {
    expect(() => make('missing-ca', './no-such-ca.pem')).toThrow(
      new RegExp(`^ExternalPostgres\\.sslrootcert: no file at ${join(process.cwd(), 'no-such-ca.pem').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\("\\./no-such-ca\\.pem" from `),
    );
    expect(rt.resources.filter((r) => r.name.startsWith('missing-ca'))).toEqual([]);
  });

  test('a file that is no CA certificate is refused for verify-full', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-ca-'));
    try {
      writeFileSync(join(dir, 'notes.txt'), 'not a certificate');
      expect(() => make('text-ca', join(dir, 'notes.txt'))).toThrow(/^ExternalPostgres\.sslrootcert: is not a PEM certificate/);
      expect(() => make('folder-ca', dir)).toThrow(/^ExternalPostgres\.sslrootcert: .* is a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('"system" (libpq 16+: the operating system\'s CAs) is no file and passes as it is', () => {
    expect(make('system-ca', 'system').handle.sslrootcert).toBe('system');
  });
});
