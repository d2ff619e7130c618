/**
 * The RDS plan, pure: every default in one place, identifiers, the
 * capacity the budget counts (max_connections from pgConfig or the class,
 * RDS's reserved slots), and validation: a minor pinned while RDS upgrades
 * minors, a verifying sslmode (the default) without AWS's CA bundle.
 */
import fc from 'fast-check';
import { SslMode } from '../../../src/core/tls';
import { expectFieldError } from '../core/helpers';
import { defaultMaxConnections } from '../../../src/rds/instance-classes';
import { defaultInstanceIdentifier, finalSnapshotIdentifier, planRds, rdsCapacity, rdsGroupNames, rdsIdentifier, replicaIdentifier } from '../../../src/rds/plan';

const minimal = { allowedCidrs: ['10.0.0.0/16'], sslrootcert: 'global-bundle.pem' };

test('defaults', () => {
  expect(planRds('app-db', 'prod', minimal, 'shop')).toEqual({
    identifier: 'shop-prod-app-db',
    identifierIsDefault: true,
    groups: {
      subnetGroup: { namePrefix: 'shop-prod-app-db-', description: 'postgres-strategies: shop-prod-app-db' },
      securityGroup: { namePrefix: 'shop-prod-app-db-', description: 'PostgreSQL 5432 of shop-prod-app-db (postgres-strategies)' },
      parameterGroup: { namePrefix: 'shop-prod-app-db-postgres17-', description: 'postgres-strategies: shop-prod-app-db (TLS only, SCRAM)' },
    },
    engineVersion: '17',
    autoMinorVersionUpgrade: true,
    major: 17,
    family: 'postgres17',
    instanceClass: 'db.t4g.micro',
    memoryGiB: 1,
    storageType: 'gp3',
    allocatedStorage: 20,
    maxAllocatedStorage: 100,
    backupRetentionPeriod: 7,
    multiAz: false,
    deletionProtection: true,
    caCertIdentifier: 'rds-ca-rsa2048-g1',
    performanceInsights: false,
    performanceInsightsRetentionPeriod: 7,
    username: 'postgres',
    port: 5432,
    publiclyAccessible: false,
    allowedCidrs: [{ cidr: '10.0.0.0/16', ipv6: false }],
    parameters: [
      { name: 'password_encryption', value: 'scram-sha-256', applyMethod: 'immediate' },
      { name: 'rds.force_ssl', value: '1', applyMethod: 'immediate' },
    ],
    capacity: { maxConnections: 81, maxConnectionsSource: 'instance class', reservedConnections: 5 },
    sslmode: SslMode.VerifyFull,
    sslrootcert: 'global-bundle.pem',
    clientSslRootCert: 'global-bundle.pem',
  });
});

test('identifiers: <project>-<stack>-<name>, valid for RDS whatever the input, hash-suffixed when cut', () => {
  expect(defaultInstanceIdentifier('app-db', 'prod', 'shop')).toBe('shop-prod-app-db');
  expect(defaultInstanceIdentifier('AppDB', 'feature/X_1', 'Shop')).toBe('shop-feature-x-1-appdb');
  expect(defaultInstanceIdentifier('db', 'dev', '1st')).toBe('db-1st-dev-db');
  expect(defaultInstanceIdentifier('app-db', 'prod')).toBe('prod-app-db');
  expect(replicaIdentifier('shop-prod-app-db')).toBe('shop-prod-app-db-replica');
  expect(finalSnapshotIdentifier('app-db-prod', '0a1b2c3d')).toBe('app-db-prod-final-0a1b2c3d');
  const valid = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 120 }), fc.string({ minLength: 1, maxLength: 60 }), fc.string({ minLength: 1, maxLength: 60 }), (name, stack, project) => {
      const id = defaultInstanceIdentifier(name, stack, project);
      return valid.test(id) && valid.test(replicaIdentifier(id)) && /^[a-z][a-z0-9-]*[0-9a-f]$/.test(finalSnapshotIdentifier(id, '0a1b2c3d'));
    }),
  );
  // Two long names that share their first 54 characters still differ; so do two projects' `prod` stacks.
  const long = 'x'.repeat(70);
  expect(defaultInstanceIdentifier(long, 'a', 'p')).not.toBe(defaultInstanceIdentifier(long, 'b', 'p'));
  expect(defaultInstanceIdentifier('db', 'prod', 'shop')).not.toBe(defaultInstanceIdentifier('db', 'prod', 'blog'));
  expect(rdsIdentifier('x')).toBe('x');
});

test('capacity: pgConfig.max_connections wins; reserved = superuser (3) + rds_superuser (2) + reserved_connections (16+)', () => {
  expect(rdsCapacity('db.t4g.micro', 17, { max_connections: 300 })).toEqual({ maxConnections: 300, maxConnectionsSource: 'pgConfig', reservedConnections: 5 });
  expect(rdsCapacity('db.t4g.micro', 17, { max_connections: '300' })).toMatchObject({ maxConnections: 300 });
  expect(rdsCapacity('db.m7g.large', 17, { superuser_reserved_connections: 5, reserved_connections: 4 })).toEqual({
    maxConnections: 846,
    maxConnectionsSource: 'instance class',
    reservedConnections: 11,
  });
  expect(rdsCapacity('db.m7g.large', 16, { 'rds.rds_superuser_reserved_connections': 0 }).reservedConnections).toBe(3);
  fc.assert(
    fc.property(fc.integer({ min: 20, max: 10000 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), (max, su, rds, res) => {
      const c = rdsCapacity('db.t4g.micro', 17, { max_connections: max, superuser_reserved_connections: su, 'rds.rds_superuser_reserved_connections': rds, reserved_connections: res });
      return c.maxConnections === max && c.reservedConnections === su + rds + res;
    }),
  );
  expect(() => rdsCapacity('db.t4g.micro', 17, { max_connections: '{DBInstanceClassMemory/9531392}' })).toThrow(/^pgConfig\.max_connections: .* is not a whole number of connections/);
  expect(() => rdsCapacity('db.t4g.micro', 17, { max_connections: 5 })).toThrow(/^pgConfig\.max_connections: max_connections 5 leaves no slot/);
});

test('an unknown class is fine when pgConfig fixes max_connections', () => {
  const plan = planRds('x', 'dev', { ...minimal, instanceClass: 'db.x2g.large', pgConfig: { max_connections: 500 } });
  expect(plan.capacity).toMatchObject({ maxConnections: 500 });
  expect(plan.memoryGiB).toBeUndefined();
  expect(plan.performanceInsights).toBe(true);
});

test('a read replica: its own identifier, the primary\'s class by default, insights only where offered', () => {
  expect(planRds('db', 'prod', { ...minimal, instanceClass: 'db.m7g.large', readReplica: {} }, 'shop').replica).toEqual({
    identifier: 'shop-prod-db-replica',
    instanceClass: 'db.m7g.large',
    multiAz: false,
    performanceInsights: true,
  });
  // A smaller replica is fine when pgConfig.max_connections fixes it for both.
  expect(planRds('db', 'prod', { ...minimal, instanceClass: 'db.m7g.large', pgConfig: { max_connections: 100 }, readReplica: { instanceClass: 'db.t4g.small' } }).replica).toMatchObject({
    instanceClass: 'db.t4g.small',
    performanceInsights: false,
  });
  expect(defaultMaxConnections('db.t4g.small')).toBeLessThan(defaultMaxConnections('db.m7g.large'));
});

test('a minor version is pinned only while RDS does not upgrade minors; the error names both fixes', () => {
  // Before: "17.4" with minor upgrades on was accepted, and after RDS's upgrade to 17.5 every update planned a refused downgrade.
  expectFieldError(
    () => planRds('db', 'prod', { ...minimal, engineVersion: '17.4' }),
    'engineVersion',
    '"17.4" pins a minor version while autoMinorVersionUpgrade is on',
    'plans a downgrade to 17.4, which RDS refuses',
    'engineVersion: "17"',
    'autoMinorVersionUpgrade: false',
  );
  expect(planRds('db', 'prod', { ...minimal, engineVersion: '17.4', autoMinorVersionUpgrade: false })).toMatchObject({
    engineVersion: '17.4',
    major: 17,
    autoMinorVersionUpgrade: false,
  });
  expect(planRds('db', 'prod', { ...minimal, engineVersion: '16' })).toMatchObject({ engineVersion: '16', autoMinorVersionUpgrade: true });
  expect(planRds('db', 'prod', { ...minimal, engineVersion: '16', autoMinorVersionUpgrade: false })).toMatchObject({ autoMinorVersionUpgrade: false });
  fc.assert(
    fc.property(fc.constantFrom(14, 15, 16, 17, 18), fc.option(fc.integer({ min: 0, max: 30 })), fc.boolean(), (major, minor, auto) => {
      const engineVersion = minor === null ? String(major) : `${major}.${minor}`;
      const ok = !auto || minor === null;
      let planned = true;
      try {
        planRds('db', 'prod', { ...minimal, engineVersion, autoMinorVersionUpgrade: auto });
      } catch {
        planned = false;
      }
      return planned === ok;
    }),
  );
});

test('TLS: verify-full by default, which needs AWS\'s CA bundle; require only when chosen', () => {
  // Before: no sslrootcert fell back to sslmode=require silently.
  const { sslrootcert: _, ...noCa } = minimal;
  expectFieldError(
    () => planRds('db', 'prod', noCa),
    'sslrootcert',
    'is not set, and sslmode=verify-full (the default)',
    'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem',
    'sslrootcert: "global-bundle.pem"',
    'sslmode: SslMode.Require',
  );
  expectFieldError(() => planRds('db', 'prod', { ...noCa, sslmode: SslMode.VerifyCa }), 'sslrootcert', 'sslmode=verify-ca checks');
  // The apps' own path does not make the admin's connection verifiable.
  expectFieldError(() => planRds('db', 'prod', { ...noCa, clientSslRootCert: '/run/ca.pem' }), 'sslrootcert', 'is not set');
  expect(planRds('db', 'prod', { ...noCa, sslmode: SslMode.Require })).toMatchObject({ sslmode: SslMode.Require });
  expect(planRds('db', 'prod', { ...noCa, sslmode: SslMode.Require }).sslrootcert).toBeUndefined();
  expect(planRds('db', 'prod', minimal)).toMatchObject({ sslmode: SslMode.VerifyFull, sslrootcert: 'global-bundle.pem' });
});

test('the groups are named as the release of 2026-11-27 named them, after the identifier and port', () => {
  // These strings are what existing stacks hold; the compatibility test (test/compat) keeps them too.
  expect(rdsGroupNames('orders-main', 6432, 'postgres16')).toEqual({
    subnetGroup: { namePrefix: 'orders-main-', description: 'postgres-strategies: orders-main' },
    securityGroup: { namePrefix: 'orders-main-', description: 'PostgreSQL 6432 of orders-main (postgres-strategies)' },
    parameterGroup: { namePrefix: 'orders-main-postgres16-', description: 'postgres-strategies: orders-main (TLS only, SCRAM)' },
  });
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), { minLength: 1, maxLength: 5 }), (words) => {
      const identifier = words.join('-');
      const plan = planRds('app-db', 'prod', { ...minimal, identifier }, 'shop');
      return plan.identifier === identifier && !plan.identifierIsDefault && JSON.stringify(plan.groups) === JSON.stringify(rdsGroupNames(identifier, 5432, 'postgres17'));
    }),
  );
});
