/**
 * examples/rds under the mock runtime with `pulumi config` values: one
 * RdsPostgres in the configured VPC subnets, admitting only the configured
 * security groups and networks, with the seed's three instances on it
 * through SharedPostgres, verify-full from the CA bundle path, a read
 * replica with reader URLs, and every URL secret.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from '../rds/fixture';
const rt = installMocks({
  stack: 'staging',
  state: rdsState,
  config: {
    'postgres-strategies:vpcId': 'vpc-0123456789abcdef0',
    'postgres-strategies:subnetIds': '["subnet-aaa","subnet-bbb","subnet-ccc"]',
    'postgres-strategies:allowedSecurityGroupIds': '["sg-app"]',
    'postgres-strategies:allowedCidrs': '["10.20.0.0/16"]',
    'postgres-strategies:sslrootcert': './global-bundle.pem',
    'postgres-strategies:instanceClass': 'db.t4g.small',
    'postgres-strategies:readReplica': 'true',
    'postgres-strategies:pgConfig': '{"log_min_duration_statement":"500ms"}',
  },
});

import * as pulumi from '@pulumi/pulumi';
import { multiLineExports } from './outputs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const program = require('../../../examples/rds/index') as typeof import('../../../examples/rds/index');

beforeAll(settled);

test('one RDS instance in the configured subnets, reachable only from the configured sources', () => {
  expect(rt.named('app-db-subnets').inputs['subnetIds']).toEqual(['subnet-aaa', 'subnet-bbb', 'subnet-ccc']);
  expect(rt.named('app-db-security-group').inputs).toMatchObject({ vpcId: 'vpc-0123456789abcdef0' });
  const rules = rt.ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs);
  expect(rules).toEqual([
    expect.objectContaining({ referencedSecurityGroupId: 'sg-app', fromPort: 5432, toPort: 5432 }),
    expect.objectContaining({ cidrIpv4: '10.20.0.0/16', fromPort: 5432, toPort: 5432 }),
  ]);
  expect(rt.named('app-db-instance').inputs).toMatchObject({
    identifier: 'postgres-strategies-staging-app-db',
    instanceClass: 'db.t4g.small',
    engineVersion: '17',
    publiclyAccessible: false,
    storageEncrypted: true,
    deletionProtection: true,
    performanceInsightsEnabled: false,
  });
  expect(rt.named('app-db-instance')).toMatchObject({ retainOnDelete: true, protect: true });
  expect(rt.named('app-db-parameters').inputs['parameters']).toContainEqual({ name: 'log_min_duration_statement', value: '500', applyMethod: 'immediate' });
});

test('the seed\'s blog, admin and api databases on the RDS admin provider, verify-full', () => {
  expect(rt.ofType('postgresql:index/database:Database').map((d) => d.inputs['name']).sort()).toEqual(['vw_admin', 'vw_api', 'vw_blog']);
  expect(rt.named('app-db-admin').inputs).toMatchObject({ host: 'postgres-strategies-staging-app-db.c9akciq32lmn.eu-central-1.rds.amazonaws.com', sslmode: 'verify-full', superuser: 'false' });
  expect(program.sslmode).toBe('verify-full');
  // db.t4g.small: 190 by the class table, 5 reserved by RDS, 4 for the admin provider, 3 kept free.
  expect(program.budget).toMatchObject({ maxConnections: 190, total: 30 });
});

test('secret URLs and reader URLs per instance; the final snapshot\'s name', async () => {
  const urls = await settle(program.urls);
  expect(urls.secret).toBe(true);
  expect(Object.keys(urls.value!).sort()).toEqual(['admin', 'api', 'blog']);
  expect(urls.value!['api']).toMatch(/^postgres:\/\/vw_api:[A-Za-z0-9]{32}@postgres-strategies-staging-app-db\.c9akciq32lmn\.eu-central-1\.rds\.amazonaws\.com:5432\/vw_api\?sslmode=verify-full&sslrootcert=\.\/global-bundle\.pem/);
  const readers = await settle(program.readerUrls as pulumi.Output<Record<string, string>>);
  expect(readers.secret).toBe(true);
  expect(readers.value!['blog']).toMatch(/@postgres-strategies-staging-app-db-replica\.[^,]+:5432,postgres-strategies-staging-app-db\.[^/]+:5432\/vw_blog\?.*target_session_attrs=prefer-standby/);
  expect(await pulumi.isSecret(program.kratosDsns)).toBe(true);
  expect((await settle(program.finalSnapshotIdentifier)).value).toMatch(/^postgres-strategies-staging-app-db-final-[0-9a-f]{8}$/);
});

test('every export is read at a glance (one line each)', async () => {
  expect(await multiLineExports(program)).toEqual([]);
});
