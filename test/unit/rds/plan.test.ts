/**
 * The RDS plan, pure: every default in one place, identifiers, the
 * capacity the budget counts (max_connections from pgConfig or the class,
 * RDS's reserved slots), reader connections, and validation.
 */
import fc from 'fast-check';
import { TargetSessionAttrs, libpqUrl } from '../../../src/core/dsn';
import { SslMode } from '../../../src/core/tls';
import { defaultMaxConnections } from '../../../src/rds/instance-classes';
import { defaultInstanceIdentifier, finalSnapshotIdentifier, planRds, rdsCapacity, rdsIdentifier, readerConnection } from '../../../src/rds/plan';

const minimal = { allowedCidrs: ['10.0.0.0/16'] };

test('defaults', () => {
  expect(planRds('app-db', 'prod', minimal)).toEqual({
    identifier: 'app-db-prod',
    engineVersion: '17',
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
    sslmode: SslMode.Require,
  });
});

test('identifiers: <name>-<stack>, valid for RDS whatever the input, hash-suffixed when cut', () => {
  expect(defaultInstanceIdentifier('app-db', 'prod')).toBe('app-db-prod');
  expect(defaultInstanceIdentifier('AppDB', 'feature/X_1')).toBe('appdb-feature-x-1');
  expect(defaultInstanceIdentifier('1st', 'dev')).toBe('db-1st-dev');
  expect(finalSnapshotIdentifier('app-db-prod', '0a1b2c3d')).toBe('app-db-prod-final-0a1b2c3d');
  const valid = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 120 }), fc.string({ minLength: 1, maxLength: 60 }), (name, stack) => {
      const id = defaultInstanceIdentifier(name, stack);
      return valid.test(id) && valid.test(rdsIdentifier(`${id}-replica`)) && /^[a-z][a-z0-9-]*[0-9a-f]$/.test(finalSnapshotIdentifier(id, '0a1b2c3d'));
    }),
  );
  // Two long names that share their first 54 characters still differ.
  const long = 'x'.repeat(70);
  expect(defaultInstanceIdentifier(long, 'a')).not.toBe(defaultInstanceIdentifier(long, 'b'));
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
  expect(planRds('db', 'prod', { ...minimal, instanceClass: 'db.m7g.large', readReplica: {} }).replica).toEqual({
    identifier: 'db-prod-replica',
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

test('reader connection: the replica, then the primary, prefer-standby, same credentials and TLS', () => {
  const primary = {
    hosts: [{ host: 'db-prod.x.eu-central-1.rds.amazonaws.com', port: 5432 }],
    database: 'vw_blog',
    user: 'vw_blog',
    password: 'p@ss word',
    tls: { sslmode: SslMode.VerifyFull, sslrootcert: '/ca/global-bundle.pem' },
    applicationName: 'blog',
  };
  const reader = readerConnection(primary, { host: 'db-prod-replica.x.eu-central-1.rds.amazonaws.com', port: 5432 });
  expect(reader.targetSessionAttrs).toBe(TargetSessionAttrs.PreferStandby);
  expect(libpqUrl(reader)).toBe(
    'postgres://vw_blog:p%40ss%20word@db-prod-replica.x.eu-central-1.rds.amazonaws.com:5432,db-prod.x.eu-central-1.rds.amazonaws.com:5432/vw_blog' +
      '?sslmode=verify-full&sslrootcert=/ca/global-bundle.pem&connect_timeout=10&application_name=blog&target_session_attrs=prefer-standby',
  );
});
