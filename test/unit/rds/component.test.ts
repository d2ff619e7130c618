/**
 * RdsPostgres under Pulumi's mock runtime: every input of the subnet group,
 * security group and ingress rules, parameter group and instance; the
 * master password as a secret; the final snapshot's identifier; the handle
 * (host = address, max_connections from the class or pgConfig, non-superuser
 * admin) with SharedPostgres provisioning the seed's three instances on it;
 * Secrets Manager passwords; the read replica and reader URLs; and
 * validation errors raised before any resource is registered.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from './fixture';
const rt = installMocks({ project: 'shop', stack: 'prod', state: rdsState });

import * as pulumi from '@pulumi/pulumi';
import { RdsPostgres } from '../../../src/rds/component';
import { RdsCaCertificate } from '../../../src/rds/plan';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { SslMode } from '../../../src/core/tls';
import { ValidationError } from '../../../src/core/errors';
import { seedInstances } from '../../../examples/shared/instances';
import { depsOf, unwrapSecret } from '../../support/graph';

const ADDRESS = 'shop-prod-app-db.c9akciq32lmn.eu-central-1.rds.amazonaws.com';

const db = new RdsPostgres('app-db', {
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-a', 'subnet-b'],
  allowedSecurityGroupIds: ['sg-app', pulumi.output('sg-ci')],
  allowedCidrs: ['10.0.0.0/16', 'fd00:10::/56'],
  instanceClass: 'db.m7g.large',
  engineVersion: '16.4',
  autoMinorVersionUpgrade: false,
  pgConfig: { max_connections: 200, shared_buffers: '256MB', log_min_duration_statement: '1s', log_connections: true },
  sslrootcert: '/etc/ssl/rds/global-bundle.pem',
  tags: { team: 'platform' },
});
const shared = new SharedPostgres('shared', { server: db.handle, namePrefix: 'vw_', instances: seedInstances });

beforeAll(settled);

const inputs = (name: string): Record<string, unknown> => rt.named(name).inputs;

test('a DB subnet group from the given subnets, named by prefix', () => {
  const sg = rt.named('app-db-subnets');
  expect(sg.type).toBe('aws:rds/subnetGroup:SubnetGroup');
  expect(sg.inputs).toMatchObject({ subnetIds: ['subnet-a', 'subnet-b'], namePrefix: 'shop-prod-app-db-', description: 'postgres-strategies: shop-prod-app-db', tags: { team: 'platform' } });
  expect(sg.inputs['name']).toBeUndefined();
  // Named at creation: a later identifier (or default) never renames it.
  expect(sg.ignoreChanges).toEqual(['namePrefix', 'description']);
});

test('a security group in the VPC with no inline rules and one TCP 5432 ingress rule per admitted source', () => {
  const group = rt.named('app-db-security-group');
  expect(group.type).toBe('aws:ec2/securityGroup:SecurityGroup');
  // The description of the release of 2026-11-27 (ForceNew: another one replaces the protected group), fixed at creation.
  expect(group.inputs).toMatchObject({ vpcId: 'vpc-0abc', namePrefix: 'shop-prod-app-db-', description: 'PostgreSQL 5432 of shop-prod-app-db (postgres-strategies)' });
  expect(group.ignoreChanges).toEqual(['namePrefix', 'description']);
  expect(group.inputs['ingress']).toBeUndefined();
  expect(group.inputs['egress']).toBeUndefined();
  const rules = rt.ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter((r) => r.name.startsWith('app-db-'));
  expect(rules).toHaveLength(4);
  expect(rules.map((r) => r.inputs)).toEqual(expect.arrayContaining([
    expect.objectContaining({ securityGroupId: 'app-db-security-group-id', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, referencedSecurityGroupId: 'sg-app' }),
    expect.objectContaining({ securityGroupId: 'app-db-security-group-id', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, referencedSecurityGroupId: 'sg-ci' }),
    expect.objectContaining({ securityGroupId: 'app-db-security-group-id', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIpv4: '10.0.0.0/16' }),
    expect.objectContaining({ securityGroupId: 'app-db-security-group-id', ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIpv6: 'fd00:10::/56' }),
  ]));
  for (const r of rules) {
    expect(r.inputs['cidrIpv4']).not.toBe('0.0.0.0/0');
    expect(r.inputs['cidrIpv6']).not.toBe('::/0');
  }
});

test('a parameter group for the major: TLS forced, SCRAM, pgConfig in base units, static parameters pending-reboot', () => {
  const pg = rt.named('app-db-parameters');
  expect(pg.type).toBe('aws:rds/parameterGroup:ParameterGroup');
  expect(pg.inputs).toMatchObject({ family: 'postgres16', namePrefix: 'shop-prod-app-db-postgres16-', description: 'postgres-strategies: shop-prod-app-db (TLS only, SCRAM)' });
  // Its name prefix follows a new family only while a major upgrade is allowed (then it is replaced anyway).
  expect(pg.ignoreChanges).toEqual(['namePrefix', 'description']);
  expect(pg.inputs['name']).toBeUndefined();
  expect(pg.inputs['parameters']).toEqual([
    { name: 'log_connections', value: '1', applyMethod: 'immediate' },
    { name: 'log_min_duration_statement', value: '1000', applyMethod: 'immediate' },
    { name: 'max_connections', value: '200', applyMethod: 'pending-reboot' },
    { name: 'password_encryption', value: 'scram-sha-256', applyMethod: 'immediate' },
    { name: 'rds.force_ssl', value: '1', applyMethod: 'immediate' },
    { name: 'shared_buffers', value: '32768', applyMethod: 'pending-reboot' },
  ]);
});

test('the instance: safe defaults, wired to its subnet group, security group and parameter group', () => {
  const inst = rt.named('app-db-instance');
  expect(inst.type).toBe('aws:rds/instance:Instance');
  expect(inst.inputs).toMatchObject({
    identifier: 'shop-prod-app-db',
    engine: 'postgres',
    engineVersion: '16.4',
    instanceClass: 'db.m7g.large',
    allocatedStorage: 20,
    maxAllocatedStorage: 100,
    storageType: 'gp3',
    storageEncrypted: true,
    username: 'postgres',
    port: 5432,
    publiclyAccessible: false,
    multiAz: false,
    backupRetentionPeriod: 7,
    deleteAutomatedBackups: false,
    deletionProtection: true,
    skipFinalSnapshot: false,
    copyTagsToSnapshot: true,
    caCertIdentifier: 'rds-ca-rsa2048-g1',
    autoMinorVersionUpgrade: false,
    allowMajorVersionUpgrade: false,
    applyImmediately: false,
    performanceInsightsEnabled: true,
    performanceInsightsRetentionPeriod: 7,
    vpcSecurityGroupIds: ['app-db-security-group-id'],
    tags: { team: 'platform' },
  });
  expect(inst.inputs['dbSubnetGroupName']).toMatch(/^shop-prod-app-db-[0-9a-f]{12}$/);
  expect(inst.inputs['parameterGroupName']).toMatch(/^shop-prod-app-db-postgres16-[0-9a-f]{12}$/);
  expect(inst.inputs['manageMasterUserPassword']).toBeUndefined();
  expect(inst.retainOnDelete).toBe(true);
  expect(inst.protect).toBe(true);
  expect(depsOf(inst)).toEqual(expect.arrayContaining(['app-db-subnets', 'app-db-security-group', 'app-db-parameters', 'app-db-final-snapshot-suffix']));
});

test('the master password is generated, reaches the instance and the admin provider only as a secret', async () => {
  const pw = unwrapSecret(inputs('app-db-instance')['password']);
  expect(pw.secret).toBe(true);
  expect(pw.value).toMatch(/^[A-Za-z0-9]{32}$/);
  expect(rt.named('app-db-master-password').inputs).toMatchObject({ length: 32, special: false });
  const admin = unwrapSecret(inputs('app-db-admin')['password']);
  expect(admin).toEqual({ secret: true, value: pw.value });
  const out = await settle(db.masterPassword as pulumi.Output<string>);
  expect(out).toMatchObject({ secret: true, value: pw.value });
});

test('the final snapshot is named <identifier>-final-<random hex keyed on what replaces the instance>', async () => {
  const suffix = rt.named('app-db-final-snapshot-suffix');
  expect(suffix.type).toBe('random:index/randomId:RandomId');
  expect(suffix.inputs).toEqual({ byteLength: 4, keepers: { identifier: 'shop-prod-app-db', username: 'postgres', kmsKeyId: '' } });
  // The defaulted identifier is fixed at creation, on the instance and in the keepers the snapshot is named from.
  expect(suffix.ignoreChanges).toEqual(['keepers.identifier']);
  expect(rt.named('app-db-instance').ignoreChanges).toEqual(['identifier']);
  expect(inputs('app-db-instance')['finalSnapshotIdentifier']).toMatch(/^shop-prod-app-db-final-[0-9a-f]{8}$/);
  expect((await settle(db.finalSnapshotIdentifier)).value).toBe(inputs('app-db-instance')['finalSnapshotIdentifier']);
});

test('the admin provider connects to the address (not the endpoint) as a non-superuser with verify-full', () => {
  const p = rt.named('app-db-admin');
  expect(p.type).toBe('pulumi:providers:postgresql');
  expect(p.inputs).toMatchObject({
    host: ADDRESS,
    port: '5432',
    username: 'postgres',
    database: 'postgres',
    sslmode: 'verify-full',
    sslrootcert: '/etc/ssl/rds/global-bundle.pem',
    superuser: 'false',
    // the server's max_connections: the provider's pool never makes an operation wait (issue 20)
    maxConnections: '200',
  });
  expect(String(p.inputs['host'])).not.toContain(':');
});

test('the handle: the instance\'s address and port, max_connections from pgConfig, RDS\'s reserved slots, rds_superuser admin', async () => {
  expect(db.handle).toMatchObject({
    sslmode: SslMode.VerifyFull,
    sslrootcert: '/etc/ssl/rds/global-bundle.pem',
    maxConnections: 200,
    reservedConnections: 5,
    // the default share: a tenth of 200 − 5, at most 16
    adminConnections: 16,
    maintenanceConnections: 3,
    adminUser: 'postgres',
    adminIsSuperuser: false,
  });
  expect(db.handle.provider).toBe(db.provider);
  expect((await settle(pulumi.output(db.handle.host))).value).toBe(ADDRESS);
  expect((await settle(pulumi.output(db.handle.port))).value).toBe(5432);
});

test('SharedPostgres provisions the seed\'s three instances on the RDS handle, through its admin provider', async () => {
  const databases = rt.ofType('postgresql:index/database:Database').filter((d) => d.name.startsWith('shared-'));
  expect(databases.map((d) => d.inputs['name']).sort()).toEqual(['vw_admin', 'vw_api', 'vw_blog']);
  const providerRef = databases.map((d) => d.provider);
  expect(providerRef.every((p) => p.includes('app-db-admin'))).toBe(true);
  const urls = await settle(shared.urls);
  expect(urls.secret).toBe(true);
  expect(urls.value?.['blog']).toMatch(new RegExp(`^postgres://vw_blog:[A-Za-z0-9]{32}@${ADDRESS.replace(/\./g, '\\.')}:5432/vw_blog\\?sslmode=verify-full&sslrootcert=/etc/ssl/rds/global-bundle\\.pem`));
  expect(shared.budget).toMatchObject({ maxConnections: 200, total: 30 });
});

describe('defaults that depend on the class', () => {
  const micro = new RdsPostgres('micro', { vpcId: 'vpc-1', subnetIds: ['s-1', 's-2'], allowedCidrs: ['10.0.0.0/16'], sslmode: SslMode.Require });
  beforeAll(settled);

  test('db.t4g.micro: max_connections from the class table, Performance Insights off, require when chosen', () => {
    expect(micro.plan.instanceClass).toBe('db.t4g.micro');
    expect(micro.handle.maxConnections).toBe(81);
    expect(micro.handle.sslmode).toBe(SslMode.Require);
    expect(inputs('micro-instance')).toMatchObject({ instanceClass: 'db.t4g.micro', engineVersion: '17', performanceInsightsEnabled: false });
    expect(inputs('micro-instance')['performanceInsightsRetentionPeriod']).toBeUndefined();
    expect(inputs('micro-parameters')).toMatchObject({ family: 'postgres17' });
  });
});

describe('Secrets Manager for the master password', () => {
  const managed = new RdsPostgres('managed', {
    vpcId: 'vpc-1',
    subnetIds: ['s-1', 's-2'],
    allowedSecurityGroupIds: ['sg-app'],
    manageMasterUserPassword: true,
    masterUserSecretKmsKeyId: 'alias/db-secrets',
    kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/abc',
    caCertIdentifier: RdsCaCertificate.Ecc384G1,
    sslrootcert: 'global-bundle.pem',
  });
  beforeAll(settled);

  test('no password is generated or given; the secret ARN is an output; the admin password is a secret', async () => {
    const inst = inputs('managed-instance');
    expect(inst).toMatchObject({ manageMasterUserPassword: true, masterUserSecretKmsKeyId: 'alias/db-secrets', kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/abc', caCertIdentifier: 'rds-ca-ecc384-g1' });
    expect(inst['password']).toBeUndefined();
    expect(rt.resources.some((r) => r.name === 'managed-master-password')).toBe(false);
    expect(managed.masterPassword).toBeUndefined();
    expect((await settle(managed.masterUserSecretArn as pulumi.Output<string>)).value).toMatch(/^arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-/);
    expect(unwrapSecret(inputs('managed-admin')['password']).secret).toBe(true);
    expect(rt.named('managed-final-snapshot-suffix').inputs['keepers']).toMatchObject({ kmsKeyId: 'arn:aws:kms:eu-central-1:123456789012:key/abc' });
  });
});

describe('a read replica', () => {
  const primary = new RdsPostgres('ha', {
    vpcId: 'vpc-1',
    subnetIds: ['s-1', 's-2'],
    allowedSecurityGroupIds: ['sg-app'],
    instanceClass: 'db.r7g.large',
    multiAz: true,
    readReplica: {},
    sslrootcert: '/ca/global-bundle.pem',
  });
  const blog = new SharedPostgres('ha-shared', { server: primary.handle, namePrefix: 'vw_', instances: [{ name: 'blog' }] });
  beforeAll(settled);

  test('replicates the primary by ARN in the same subnet, security and parameter groups, without a final snapshot', () => {
    const r = rt.named('ha-replica');
    expect(r.type).toBe('aws:rds/instance:Instance');
    expect(r.inputs).toMatchObject({
      identifier: 'shop-prod-ha-replica',
      instanceClass: 'db.r7g.large',
      replicateSourceDb: 'arn:aws:rds:eu-central-1:123456789012:db:shop-prod-ha',
      skipFinalSnapshot: true,
      storageEncrypted: true,
      storageType: 'gp3',
      publiclyAccessible: false,
      caCertIdentifier: 'rds-ca-rsa2048-g1',
      vpcSecurityGroupIds: ['ha-security-group-id'],
      performanceInsightsEnabled: true,
    });
    expect(r.inputs['dbSubnetGroupName']).toBe(inputs('ha-instance')['dbSubnetGroupName']);
    expect(r.inputs['parameterGroupName']).toBe(inputs('ha-instance')['parameterGroupName']);
    expect(r.inputs['username']).toBeUndefined();
    expect(r.inputs['password']).toBeUndefined();
    expect(r.inputs['finalSnapshotIdentifier']).toBeUndefined();
    expect(inputs('ha-instance')).toMatchObject({ multiAz: true });
  });

  test('readerUrl: the replica first, the primary second, prefer-standby, secret', async () => {
    const url = await settle(blog.instances['blog']!.readerUrl!);
    expect(url.secret).toBe(true);
    expect(url.value).toMatch(
      /^postgres:\/\/vw_blog:[A-Za-z0-9]{32}@shop-prod-ha-replica\.c9akciq32lmn\.eu-central-1\.rds\.amazonaws\.com:5432,shop-prod-ha\.c9akciq32lmn\.eu-central-1\.rds\.amazonaws\.com:5432\/vw_blog\?/,
    );
    expect(url.value).toContain('target_session_attrs=prefer-standby');
    expect(url.value).toContain('sslmode=verify-full');
  });

  test('the deprecated RdsPostgres.readerUrl() is the instance database\'s own readerUrl output, not a second implementation', () => {
    expect(primary.handle.standbys).toHaveLength(1);
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    expect(primary.readerUrl(blog.instances['blog']!)).toBe(blog.instances['blog']!.readerUrl);
  });

  test('readerUrl without a replica names the field to set, and instances have no readerUrl', () => {
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    expect(() => db.readerUrl(shared.instances['blog']!)).toThrow(/readReplica: is not set/);
    expect(db.handle.standbys).toEqual([]);
    expect(shared.instances['blog']!.readerUrl).toBeUndefined();
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    expect(() => primary.readerUrl({})).toThrow(/^database: has no readerUrl/);
  });
});

describe('admin through a tunnel, clients with their own CA path', () => {
  const tunneled = new RdsPostgres('tunneled', {
    vpcId: 'vpc-1',
    subnetIds: pulumi.output(['s-1', 's-2']),
    allowedCidrs: ['10.0.0.0/16'],
    sslrootcert: '/home/ci/global-bundle.pem',
    clientSslRootCert: '/run/secrets/rds-ca.pem',
    adminHost: '127.0.0.1',
    adminPort: 15432,
    port: 6543,
    allowMajorVersionUpgrade: true,
    applyImmediately: true,
  });
  beforeAll(settled);

  test('the provider goes through the tunnel with verify-ca; clients get the instance and their CA path', async () => {
    expect(inputs('tunneled-admin')).toMatchObject({ host: '127.0.0.1', port: '15432', sslmode: 'verify-ca', sslrootcert: '/home/ci/global-bundle.pem' });
    expect(tunneled.handle).toMatchObject({ sslmode: SslMode.VerifyFull, sslrootcert: '/run/secrets/rds-ca.pem' });
    expect((await settle(pulumi.output(tunneled.handle.port))).value).toBe(6543);
    expect(inputs('tunneled-instance')).toMatchObject({ port: 6543, allowMajorVersionUpgrade: true, applyImmediately: true });
    expect(inputs('tunneled-ingress-cidr-0')).toMatchObject({ fromPort: 6543, toPort: 6543 });
    expect(inputs('tunneled-subnets')['subnetIds']).toEqual(['s-1', 's-2']);
  });
});

describe('rejected before any resource is registered, naming the field', () => {
  const base = { vpcId: 'vpc-1', subnetIds: ['s-1', 's-2'], allowedCidrs: ['10.0.0.0/16'], sslrootcert: 'global-bundle.pem' };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['the whole internet without the flag', { allowedCidrs: ['0.0.0.0/0'] }, /^allowedCidrs\[0\]: "0\.0\.0\.0\/0" admits the whole internet/],
    ['IPv6 whole internet without the flag', { allowedCidrs: ['10.0.0.0/8', '::/0'] }, /^allowedCidrs\[1\]: "::\/0" admits the whole internet/],
    ['nothing admitted', { allowedCidrs: [] }, /^allowedSecurityGroupIds: no security group or CIDR block is admitted/],
    ['a malformed CIDR', { allowedCidrs: ['10.0.0.0/33'] }, /^allowedCidrs\[0\]: "10\.0\.0\.0\/33" is not a CIDR block/],
    ['one subnet', { subnetIds: ['s-1'] }, /^subnetIds: 1 subnet\(s\) given/],
    ['rds.force_ssl off', { pgConfig: { 'rds.force_ssl': 0 } }, /^pgConfig\.rds\.force_ssl: "rds\.force_ssl" is managed by this component/],
    ['md5 passwords', { pgConfig: { password_encryption: 'md5' } }, /^pgConfig\.password_encryption: "password_encryption" is managed/],
    ['a parameter the major does not have', { pgConfig: { shared_bufers: '1GB' } }, /^pgConfig\.shared_bufers: .*Did you mean "shared_buffers"/],
    ['a value out of range', { pgConfig: { max_connections: 0 } }, /^pgConfig\.max_connections: /],
    ['an unknown engine version', { engineVersion: '12' }, /^engineVersion: PostgreSQL 12 is not a major RDS offers/],
    ['an unknown class without max_connections', { instanceClass: 'db.x9.huge' }, /^instanceClass: "db\.x9\.huge" is not an RDS for PostgreSQL instance class this library knows/],
    ['Performance Insights on a micro class', { performanceInsights: true }, /^performanceInsights: db\.t4g\.micro does not offer Performance Insights/],
    ['too little storage', { allocatedStorageGiB: 10 }, /^allocatedStorageGiB: 10 is not a whole number of GiB between 20 and 65536/],
    ['an autoscaling ceiling below 110 %', { allocatedStorageGiB: 100, maxAllocatedStorageGiB: 105 }, /^maxAllocatedStorageGiB: 105 is not a whole number of GiB between 110 and 65536/],
    ['no backups', { backupRetentionDays: 0 }, /^backupRetentionDays: 0 is not a whole number of days between 1 and 35/],
    ['sslmode disable', { sslmode: SslMode.Disable }, /^RdsPostgres\.sslmode: "disable" is not permitted for a managed server/],
    ['verify-full without the CA bundle', { sslmode: SslMode.VerifyFull, sslrootcert: undefined }, /^sslrootcert: is not set, and sslmode=verify-full checks/],
    ['the default verify-full without the CA bundle', { sslrootcert: undefined }, /^sslrootcert: is not set, and sslmode=verify-full \(the default\)/],
    ['a minor pinned while minors are upgraded', { engineVersion: '16.4' }, /^engineVersion: "16\.4" pins a minor version while autoMinorVersionUpgrade is on/],
    ['a bad identifier', { identifier: 'App_DB' }, /^identifier: "App_DB" is not an RDS instance identifier/],
    ['an rds_ master user', { username: 'rds_admin' }, /^username: "rds_admin" is not a usable RDS master user name/],
    ['a replica too small for the primary', { instanceClass: 'db.m7g.large', readReplica: { instanceClass: 'db.t4g.small' } }, /^readReplica\.instanceClass: db\.t4g\.small's default max_connections \(190\) is below the primary's \(846\)/],
    ['admin connections beyond the budget', { pgConfig: { max_connections: 10 }, adminMaxConnections: 4, maintenanceConnections: 3 }, /^pgConfig\.max_connections: max_connections 10 leaves no slot for app roles after 5 reserved \+ 4 for the admin \(deploys\) \+ 3 maintenance/],
  ];
  test.each(cases)('%s', async (_, overrides, message) => {
    await settled();
    const before = rt.resources.length;
    let error: unknown;
    try {
      new RdsPostgres(`bad-${before}`, { ...base, ...overrides } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
    await settled();
    expect(rt.resources.length).toBe(before);
  });

  test('0.0.0.0/0 is accepted with allowAnyAddress', async () => {
    const open = new RdsPostgres('open', { ...base, allowedCidrs: ['0.0.0.0/0'], allowAnyAddress: true, publiclyAccessible: true });
    await settled();
    expect(open.plan.publiclyAccessible).toBe(true);
    expect(inputs('open-ingress-cidr-0')).toMatchObject({ cidrIpv4: '0.0.0.0/0' });
    expect(inputs('open-instance')).toMatchObject({ publiclyAccessible: true });
  });
});
