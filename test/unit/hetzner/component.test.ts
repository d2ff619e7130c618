/**
 * HetznerPostgres under Pulumi's mock runtime (project "shop", stack
 * "test"): the hcloud graph (types, Hetzner names `<project>-<stack>-<name>`
 * fixed at creation, protections,
 * retain-on-delete, firewall rules, ignoreChanges on the user data and
 * sshKeys, delete-before-replace, the boot user data), secrets (user data,
 * setup payload, admin password, no plain password or private key in plain
 * state), the handle, SharedPostgres on the handle, the cloud-init
 * instances, and errors raised before any resource is registered.
 */
import { installMocks, settle, settled, RecordedResource } from '../../../lab/pulumi-mocks';
const rt = installMocks({ project: 'shop' });

import * as pulumi from '@pulumi/pulumi';
import { HetznerPostgres } from '../../../src/hetzner/component';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { ServerKind, SslMode } from '../../../src/core/tls';
import { isScramVerifier, verifyScramPassword } from '../../../src/core/scram';
import { unwrapSecret } from '../../support/graph';
import { renderSetupScript } from '../../../src/hetzner/cloud-init';
import { userDataFiles } from './fixture';

jest.setTimeout(30_000);

const db = new HetznerPostgres('db', {
  serverType: 'cx23',
  location: 'nbg1',
  allowedCidrs: ['192.0.2.0/24'],
  sshAllowedCidrs: ['203.0.113.7/32'],
  sshKeys: ['ops'],
  pgConfig: { max_connections: 80 },
  labels: { env: 'test' },
  backup: { keep: 14, s3: { endpoint: 'https://fsn1.your-objectstorage.com', bucket: 'pg-dumps', accessKeyId: 'AKID', secretAccessKey: pulumi.secret('s3-secret-key') } },
});
const apps = new SharedPostgres('apps', { server: db.handle, namePrefix: 'vw_', instances: [{ name: 'blog' }, { name: 'api' }] });
const boot = new HetznerPostgres('boot', {
  serverType: 'cx23',
  existingNetworkId: 1234,
  subnetIpRange: '10.9.1.0/24',
  instances: [{ name: 'blog' }],
  namePrefix: 'vw_',
  deleteProtection: false,
  allowDataDeletion: true,
  reprovisionOnUserDataChange: true,
});

const kept = new HetznerPostgres('kept', { serverType: 'cx23', serverName: 'kept', existingNetworkId: 99, subnetIpRange: '10.7.1.0/24' });
// The admin connection by the public name (in the certificate), through a tunnel (not in it), or with a CA file;
// and a server that does not renew its own certificate.
const named = new HetznerPostgres('named', { serverType: 'cx23', existingNetworkId: 7, subnetIpRange: '10.8.1.0/24', publicHostName: 'db.example.com', publicAccess: true, allowedCidrs: ['198.51.100.0/24'], adminHost: 'DB.example.com' });
new HetznerPostgres('tunnel', { serverType: 'cx23', existingNetworkId: 7, subnetIpRange: '10.8.2.0/24', adminHost: '127.0.0.1', renewCertificateOnServer: false });
new HetznerPostgres('file', { serverType: 'cx23', existingNetworkId: 7, subnetIpRange: '10.8.3.0/24', adminHost: pulumi.output('10.8.3.10'), adminSslRootCert: '/etc/ca/pg.pem' });
beforeAll(settled);

const mine = (prefix: string): RecordedResource[] => rt.resources.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));

test('declares network, subnet, firewall, volume, server, attachment, certificates, admin login and provider', () => {
  expect(mine('db').map((r) => `${r.type} ${r.name}`).sort()).toEqual(
    [
      'hcloud:index/firewall:Firewall db-firewall',
      'hcloud:index/network:Network db-network',
      'hcloud:index/networkSubnet:NetworkSubnet db-subnet',
      'hcloud:index/server:Server db-server',
      'hcloud:index/volume:Volume db-data',
      'hcloud:index/volumeAttachment:VolumeAttachment db-data-attachment',
      'postgres-strategies:index:HetznerPostgres db',
      'pulumi-nodejs:dynamic/postgres-strategies:BootUserData db-user-data',
      'pulumi-nodejs:dynamic/postgres-strategies:ServerReady db-ready',
      'pulumi:providers:postgresql db-admin',
      'random:index/randomBytes:RandomBytes db-admin-scram-salt',
      'random:index/randomPassword:RandomPassword db-admin-password',
      'tls:index/certRequest:CertRequest db-server-csr',
      'tls:index/locallySignedCert:LocallySignedCert db-server-cert',
      'tls:index/privateKey:PrivateKey db-admin-client-key',
      'tls:index/privateKey:PrivateKey db-ca-key',
      'tls:index/privateKey:PrivateKey db-server-key',
      'tls:index/selfSignedCert:SelfSignedCert db-admin-client-cert',
      'tls:index/selfSignedCert:SelfSignedCert db-ca',
    ].sort(),
  );
});

test('server: Debian 12, type and location, fixed private IP, firewall, protections on, user data and SSH keys ignored after creation, delete-first', () => {
  const s = rt.named('db-server');
  expect(s.inputs).toMatchObject({
    name: 'shop-test-db',
    serverType: 'cx23',
    image: 'debian-12',
    location: 'nbg1',
    sshKeys: ['ops'],
    backups: false,
    deleteProtection: true,
    rebuildProtection: true,
    labels: { 'managed-by': 'postgres-strategies', env: 'test' },
  });
  expect((s.inputs['networks'] as Array<Record<string, unknown>>)[0]).toMatchObject({ ip: '10.0.1.10' });
  // sshKeys: hcloud injects them at creation only and would replace the server for a change (its docs: ignore them).
  expect(s.ignoreChanges).toEqual(['userData', 'sshKeys', 'name']);
  expect(s.deleteBeforeReplace).toBe(true);
  expect(s.dependencies.some((d) => d.endsWith('::db-subnet'))).toBe(true);
});

test('Hetzner names default to <project>-<stack>-<name> (unique across stacks and projects), fixed at creation; serverName keeps the old names', () => {
  const defaulted = ['db-server', 'db-network', 'db-firewall', 'db-data'];
  expect(defaulted.map((n) => rt.named(n).inputs['name'])).toEqual(['shop-test-db', 'shop-test-db-network', 'shop-test-db-firewall', 'shop-test-db-data']);
  expect(db.plan.names).toEqual({ server: 'shop-test-db', network: 'shop-test-db-network', firewall: 'shop-test-db-firewall', volume: 'shop-test-db-data' });
  // Like Pulumi auto-names: a server created with another default (`<name>` or `<name>-<stack>`) keeps its names.
  for (const n of defaulted) expect(rt.named(n).ignoreChanges).toContain('name');
  // The certificate's common name follows the server name (the private IP stays its IP SAN), fixed at its first issue too.
  expect(rt.named('db-server-csr').inputs['subject']).toMatchObject({ commonName: 'shop-test-db' });
  expect(rt.named('db-server-csr').ignoreChanges).toEqual(['dnsNames', 'subject']);
  // A given serverName: the names and the certificate follow it (a change renames in place and re-issues).
  expect(['kept-server', 'kept-firewall', 'kept-data'].map((n) => rt.named(n).inputs['name'])).toEqual(['kept', 'kept-firewall', 'kept-data']);
  for (const n of ['kept-server', 'kept-firewall', 'kept-data', 'kept-server-csr']) expect(rt.named(n).ignoreChanges).not.toContain('name');
  expect(rt.named('kept-server-csr').ignoreChanges).toEqual([]);
  expect(kept.plan.names.network).toBe('kept-network');
});

test('the boot user data: BootUserData holds it (secret) with the generation it guards; the server boots it', () => {
  const b = rt.named('db-user-data');
  expect(b.inputs).toMatchObject({ image: 'debian-12', location: 'nbg1', postgresMajor: 15, reprovision: false, postgresMajorUpgradeFrom: 0 });
  // A hash of the (secret) user data: secret too.
  expect(unwrapSecret(b.inputs['rebuildKey'])).toEqual({ secret: true, value: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(unwrapSecret(b.inputs['userData']).secret).toBe(true);
  expect(b.additionalSecretOutputs).toEqual(['userData', 'bootUserData']);
  expect(unwrapSecret(rt.named('db-server').inputs['userData']).value).toBe(unwrapSecret(b.inputs['userData']).value);
  expect(rt.named('db-server').dependencies.some((d) => d.endsWith('::db-user-data'))).toBe(true);
  expect(rt.named('boot-user-data').inputs).toMatchObject({ reprovision: true });
});

test('setupScript: the user data\'s files and command as one sh program for the running server (secret)', async () => {
  const script = await settle(db.setupScript);
  expect(script.secret).toBe(true);
  const userData = unwrapSecret(rt.named('db-server').inputs['userData']).value as string;
  const files = userDataFiles(userData);
  expect(script.value).toBe(renderSetupScript(files, [['/usr/local/sbin/postgres-strategies-setup']]));
  expect(script.value!.trimEnd().split('\n').pop()).toBe('/usr/local/sbin/postgres-strategies-setup');
  expect(files.map((f) => f.path)).toContain('/etc/postgres-strategies/server.crt');
});

test('volume: ext4, automount off, delete protection, retained on delete, in the server\'s location', () => {
  const v = rt.named('db-data');
  expect(v.inputs).toMatchObject({ size: 20, format: 'ext4', automount: false, deleteProtection: true, location: 'nbg1' });
  expect(v.retainOnDelete).toBe(true);
  expect(rt.named('db-data-attachment').inputs).toMatchObject({ automount: false });
});

test('network and subnet: the private range in the location\'s zone', () => {
  expect(rt.named('db-network').inputs).toMatchObject({ ipRange: '10.0.0.0/16', deleteProtection: true });
  expect(rt.named('db-subnet').inputs).toMatchObject({ ipRange: '10.0.1.0/24', networkZone: 'eu-central', type: 'cloud' });
});

test('firewall: 5432 from the private subnet and allowed CIDRs, 22 from the SSH CIDRs only; nothing open to the world', () => {
  const rules = rt.named('db-firewall').inputs['rules'] as Array<Record<string, unknown>>;
  expect(rules.map((r) => [r['direction'], r['protocol'], r['port'], r['sourceIps']])).toEqual([
    ['in', 'tcp', '5432', ['10.0.1.0/24', '192.0.2.0/24']],
    ['in', 'tcp', '22', ['203.0.113.7/32']],
  ]);
  expect(JSON.stringify(rules)).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
});

test('the user data is a secret: it holds the TLS key; no plain password, and the admin gets a verifier', async () => {
  const recorded = unwrapSecret(rt.named('db-server').inputs['userData']);
  expect(recorded.secret).toBe(true);
  const userData = recorded.value as string;
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  const adminPassword = (await settle(db.adminPassword)).value!;
  expect(await pulumi.isSecret(db.adminPassword)).toBe(true);
  expect(userData).not.toContain(adminPassword);
  const files = userDataFiles(userData);
  const adminSql = files.find((f) => f.path.endsWith('admin.sql'))!.content;
  const verifier = /PASSWORD '(SCRAM-SHA-256[^']+)'/.exec(adminSql)![1]!;
  expect(isScramVerifier(verifier)).toBe(true);
  expect(verifyScramPassword(adminPassword, verifier)).toBe(true);
  expect(files.find((f) => f.path.endsWith('server.key'))!.content).toContain('PRIVATE KEY');
  expect(files.find((f) => f.path.endsWith('setup.conf'))!.content).toContain('VOLUME_DEVICE=/dev/disk/by-id/scsi-0HC_Volume_db-data-id\n');
  expect(files.find((f) => f.path.endsWith('backup.conf'))!.content).toContain('RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY=s3-secret-key\n');
  expect(files.find((f) => f.path.endsWith('backup.conf'))!.content).toContain('BACKUP_KEEP=14\n');
  expect(await pulumi.isSecret(db.userData)).toBe(true);
  // The config files alone carry no secret and are plain outputs (the config-change path).
  expect(await pulumi.isSecret(db.postgresqlConf)).toBe(false);
  expect((await settle(db.postgresqlConf)).value).toContain('max_connections = 80');
  expect((await settle(db.postgresqlConf)).value).toBe(files.find((f) => f.path === '/etc/postgres-strategies/postgresql.conf')!.content);
  expect((await settle(db.pgHba)).value).toBe(files.find((f) => f.path === '/etc/postgres-strategies/pg_hba.conf')!.content);
});

test('no recorded input anywhere holds a plain password or a private key outside a secret', async () => {
  const adminPassword = (await settle(db.adminPassword)).value!;
  for (const r of rt.resources) {
    for (const [key, value] of Object.entries(r.inputs)) {
      if (unwrapSecret(value).secret) continue;
      const text = JSON.stringify(value);
      expect({ resource: r.name, key, leaks: text.includes(adminPassword) || /PRIVATE KEY-----/.test(text) || text.includes('s3-secret-key') }).toEqual({ resource: r.name, key, leaks: false });
    }
  }
});

test('the handle: private IP, 5432, self-managed, verify-full with the CA PEM, non-superuser admin, dependent on server and volume', async () => {
  const h = db.handle;
  expect(h).toMatchObject({ host: '10.0.1.10', port: 5432, kind: ServerKind.SelfManaged, sslmode: SslMode.VerifyFull, sslrootcert: 'postgres-ca.pem', maxConnections: 80, reservedConnections: 3, adminUser: 'pgadmin', adminIsSuperuser: false });
  expect(h.provider).toBe(db.provider);
  expect((await settle(pulumi.output(h.rootCertPem!))).value).toContain('BEGIN CERTIFICATE');
  expect(h.dependsOn.length).toBe(3);
  expect(h.dependsOn[0]).toBe(db.server);
  expect(h.dependsOn[1]).toBe(db.volumeAttachment);
  expect(h.dependsOn[2]).toBe(db.ready);
  expect(rt.named('db-admin').inputs).toMatchObject({ host: '10.0.1.10', port: '5432', username: 'pgadmin', database: 'postgres', sslmode: 'verify-full', superuser: 'false' });
  expect(unwrapSecret(rt.named('db-admin').inputs['password']).secret).toBe(true);
});

describe('the admin provider verifies the server (an expired certificate fails the deployment, not only the apps)', () => {
  /** A provider's recorded TLS settings (the engine gets provider inputs as JSON strings). */
  const tlsOf = (name: string): { sslmode: unknown; sslrootcert: unknown; clientcert?: { cert: string; key: string; sslinline: boolean } } => {
    const inputs = rt.named(`${name}-admin`).inputs;
    const clientcert = unwrapSecret(inputs['clientcert']).value as string | undefined;
    return { sslmode: inputs['sslmode'], sslrootcert: inputs['sslrootcert'], ...(clientcert ? { clientcert: JSON.parse(clientcert) } : {}) };
  };

  test('against the CA itself, held in the state (no file: refresh and destroy verify too): verify-full on the private IP', async () => {
    const t = tlsOf('db');
    expect(t.sslmode).toBe('verify-full');
    expect(t.sslrootcert).toBe((await settle(db.caPem)).value);
    // lib/pq reads sslrootcert inline only with sslinline, which the provider passes with a client certificate.
    expect(t.clientcert).toMatchObject({ sslinline: true, cert: expect.stringContaining('BEGIN CERTIFICATE'), key: expect.stringContaining('PRIVATE KEY') });
    expect(unwrapSecret(rt.named('db-admin').inputs['clientcert']).secret).toBe(true);
    expect(rt.named('db-admin-client-cert').inputs).toMatchObject({ allowedUses: ['client_auth', 'digital_signature'] });
  });

  test('verify-full on the public host name (in the certificate), verify-ca on a host it does not hold; a CA file when given', () => {
    expect(named.plan.certificates.server.dnsNames).toEqual(['db.example.com']);
    expect(tlsOf('named').sslmode).toBe('verify-full');
    expect(tlsOf('tunnel').sslmode).toBe('verify-ca');
    expect(tlsOf('tunnel').clientcert?.sslinline).toBe(true);
    expect(tlsOf('file')).toEqual({ sslmode: 'verify-full', sslrootcert: '/etc/ca/pg.pem' });
    expect(rt.resources.some((r) => r.name === 'file-admin-client-key')).toBe(false);
  });
});

describe('the server renews its own certificate', () => {
  const filesOf = (name: string): ReturnType<typeof userDataFiles> => userDataFiles(unwrapSecret(rt.named(`${name}-server`).inputs['userData']).value as string);

  test('by default: the user data holds the CA key (a secret like the server key) and the daily renewal timer, 825 days from 30 days before expiry', async () => {
    const files = filesOf('db');
    const caKey = files.find((f) => f.path === '/etc/postgres-strategies/ca.key')!;
    expect(caKey).toMatchObject({ permissions: '0600', content: expect.stringContaining('PRIVATE KEY') });
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['/etc/systemd/system/postgres-strategies-renew-cert.service', '/etc/systemd/system/postgres-strategies-renew-cert.timer']));
    expect(files.find((f) => f.path.endsWith('setup.conf'))!.content).toMatch(/\nCERT_RENEW=1\nCERT_VALIDITY_DAYS=825\nCERT_RENEW_BEFORE_DAYS=30\n/);
    expect(unwrapSecret(rt.named('db-server').inputs['userData']).secret).toBe(true);
  });

  test('renewCertificateOnServer: false keeps the CA key off the server (renewal only through setupScript)', () => {
    const files = filesOf('tunnel');
    expect(files.map((f) => f.path)).not.toContain('/etc/postgres-strategies/ca.key');
    expect(files.map((f) => f.path)).not.toContain('/etc/systemd/system/postgres-strategies-renew-cert.timer');
    expect(files.find((f) => f.path.endsWith('setup.conf'))!.content).toContain('\nCERT_RENEW=0\n');
  });

  test('outputs: when the certificate this stack issued (825 days) and its CA (3650 days) expire', async () => {
    // The mock issues certificates on 2026-01-01.
    expect((await settle(db.serverCertificateExpiry)).value).toBe('2028-04-05T00:00:00.000Z');
    expect((await settle(db.caCertificateExpiry)).value).toBe('2035-12-30T00:00:00.000Z');
  });
});

test('the first deployment waits for cloud-init\'s PostgreSQL on the admin host before the provider connects', () => {
  const ready = rt.named('db-ready');
  expect(ready.inputs).toMatchObject({ host: '10.0.1.10', port: 5432, timeoutSeconds: 900, settleSeconds: 10, trigger: 'db-server-id' });
  expect(ready.dependencies.some((d) => d.endsWith('::db-server'))).toBe(true);
  expect(rt.named('db-admin').dependencies.some((d) => d.endsWith('::db-ready'))).toBe(true);
  expect(rt.resources.some((r) => r.name === 'boot-ready')).toBe(true);
});

test('SharedPostgres provisions on the handle through the admin provider, after the server', () => {
  const blog = rt.named('apps-blog-database');
  expect(blog.inputs['name']).toBe('vw_blog');
  expect(blog.provider).toMatch(/::db-admin::/);
  expect(Object.keys(apps.instances).sort()).toEqual(['api', 'blog']);
});

test('cloud-init instances: bootstrap SQL in the user data, URLs to the private IP with verify-full, claimed on the handle', async () => {
  const userData = unwrapSecret(rt.named('boot-server').inputs['userData']).value as string;
  const sql = userDataFiles(userData).find((f) => f.path.endsWith('bootstrap.sql'))!.content;
  expect(sql).toMatch(/CREATE ROLE "vw_blog" LOGIN/);
  const password = (await settle(boot.instances['blog']!.password)).value!;
  expect(sql).not.toContain(password);
  const url = await settle(boot.instances['blog']!.url);
  expect(url.secret).toBe(true);
  expect(url.value).toMatch(/^postgres:\/\/vw_blog:[A-Za-z0-9]{32}@10\.9\.1\.10:5432\/vw_blog\?sslmode=verify-full&sslrootcert=postgres-ca\.pem/);
  expect(() => new SharedPostgres('again', { server: boot.handle, namePrefix: 'vw_', instances: [{ name: 'blog' }] })).toThrow(/already claimed on this server by boot/);
});

test('an existing network: no network or subnet created; protections off and volume deletable when asked; re-provisioning on', () => {
  expect(rt.resources.filter((r) => r.name === 'boot-network' || r.name === 'boot-subnet')).toEqual([]);
  const s = rt.named('boot-server');
  expect((s.inputs['networks'] as Array<Record<string, unknown>>)[0]).toMatchObject({ networkId: 1234, ip: '10.9.1.10' });
  expect(s.inputs).toMatchObject({ deleteProtection: false, rebuildProtection: false });
  // Re-provisioning: user-data changes replace the server (through BootUserData); SSH keys never do.
  expect(s.ignoreChanges).toEqual(['sshKeys', 'name']);
  expect(rt.named('boot-data').retainOnDelete).toBe(false);
});

describe('rejected before anything is registered, naming the field', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a private IP outside the subnet', { privateIp: '10.0.9.9' }, /privateIp: 10\.0\.9\.9 is not a host address/],
    ['a managed pgConfig key', { pgConfig: { ssl: false } }, /pgConfig\.ssl: "ssl" is managed/],
    ['deletion with protection on', { allowDataDeletion: true }, /allowDataDeletion: is true while deleteProtection is on/],
    ['a bad bucket', { backup: { s3: { endpoint: 'https://x.example', bucket: 'A', accessKeyId: pulumi.secret('a'), secretAccessKey: pulumi.secret('b') } } }, /backup\.s3\.bucket: "A" is not a bucket name/],
    ['a short password length', { passwordLength: 8 }, /passwordLength: 8 is not a whole number of characters between 16 and 128/],
    ['a server name that is no host name', { serverName: 'My_DB' }, /serverName: "My_DB" is not a valid server name/],
    ['the whole internet without publicAccess', { allowedCidrs: ['0.0.0.0/0'] }, /allowedCidrs\[0\]: "0\.0\.0\.0\/0" admits the whole internet/],
    ['an upgrade from a major that is not older', { postgresMajorUpgradeFrom: 15 }, /postgresMajorUpgradeFrom: 15 is not a PostgreSQL major older than the image's 15/],
    ['a bad minFreePercent', { backup: { minFreePercent: 95 } }, /backup\.minFreePercent: 95 is not a whole percentage between 0 and 90/],
    ['an over-budget instance list', { instances: [{ name: 'a', gatewayPool: { maxConns: 90, minConns: 1 } }] }, /instances/],
  ];
  test.each(cases)('%s', (label, overrides, message) => {
    const before = rt.resources.length;
    const name = `bad-${label.replace(/\W+/g, '-').toLowerCase()}`;
    const { __name, ...rest } = overrides as { __name?: string };
    expect(() => new HetznerPostgres(__name ?? name, { serverType: 'cx23', ...rest } as never)).toThrow(message);
    expect(rt.resources.slice(before).filter((r) => r.name.startsWith(__name ?? name))).toEqual([]);
  });
});
