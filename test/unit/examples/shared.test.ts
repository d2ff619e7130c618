/**
 * examples/shared (the program the root Pulumi.yaml runs) evaluated under
 * the mock runtime with `pulumi config` values: the seed's three instances,
 * verify-full from config, secrets, and the budget it reports.
 */
import { TEST_CA_FILE } from '../../support/ca-file';
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({
  config: {
    'postgres-strategies:host': 'shared-db.example.com',
    'postgres-strategies:adminUser': 'vw_root',
    'postgres-strategies:adminPassword': 'config-secret',
    'postgres-strategies:sslmode': 'verify-full',
    'postgres-strategies:sslrootcert': TEST_CA_FILE,
    'postgres-strategies:maxConnections': '50',
    'postgres-strategies:poolerHost': 'pgbouncer.internal',
    'postgres-strategies:poolerPort': '6432',
    'postgres-strategies:poolerMode': 'transaction',
  },
  secretKeys: ['postgres-strategies:adminPassword'],
});

import * as pulumi from '@pulumi/pulumi';
import { multiLineExports } from './outputs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const program = require('../../../examples/shared/index') as typeof import('../../../examples/shared/index');

beforeAll(settled);

test('declares the seed\'s blog, admin and api databases on one provider configured from pulumi config', () => {
  expect(rt.ofType('postgresql:index/database:Database').map((d) => d.inputs['name']).sort()).toEqual(['vw_admin', 'vw_api', 'vw_blog']);
  expect(rt.named('shared-db-admin').inputs).toMatchObject({ host: 'shared-db.example.com', username: 'vw_root', sslmode: 'verify-full', sslrootcert: TEST_CA_FILE });
});

test('reports the budget against the configured max_connections: 3 × (5 + 5) of 50 − 3 reserved − 4 admin − 3 maintenance', () => {
  // the admin's default share of 50 − 3 is 4; the provider's pool is the server's max_connections
  expect(program.budget).toMatchObject({ maxConnections: 50, adminConnections: 4, maintenanceConnections: 3, available: 40, total: 30, headroom: 10 });
  expect(rt.named('shared-db-admin').inputs['maxConnections']).toBe('50');
});

test('exports secret URLs and DSNs per instance', async () => {
  expect(await pulumi.isSecret(program.urls)).toBe(true);
  expect(await pulumi.isSecret(program.kratosDsns)).toBe(true);
  const urls = (await settle(program.urls)).value!;
  expect(Object.keys(urls).sort()).toEqual(['admin', 'api', 'blog']);
  const dsns = (await settle(program.kratosDsns)).value!;
  const migrate = (await settle(program.kratosMigrateDsns)).value!;
  expect(await pulumi.isSecret(program.pooledUrls)).toBe(true);
  expect(await pulumi.isSecret(program.kratosMigrateDsns)).toBe(true);
  // Apps through the configured pooler, migrations direct.
  expect(dsns['blog']).toMatch(/@pgbouncer\.internal:6432\/vw_blog\?.*default_query_exec_mode=exec/);
  expect(migrate['blog']).toMatch(/@shared-db\.example\.com:5432\/vw_blog\?/);
  expect(urls['blog']).toMatch(/^postgres:\/\/vw_blog:[A-Za-z0-9]{32}@shared-db\.example\.com:5432\/vw_blog\?sslmode=verify-full&sslrootcert=/);
  expect(urls['blog']).toContain(`sslrootcert=${TEST_CA_FILE}`);
});

test('every export is read at a glance (one line each); the pages-long bootstrap SQL only with exportBootstrapSql', async () => {
  expect(program.bootstrapSql).toBeUndefined();
  expect(await multiLineExports(program)).toEqual([]);
  expect(Object.keys(program).sort()).toEqual(['bootstrapSql', 'budget', 'gatewayEnvs', 'kratosDsns', 'kratosMigrateDsns', 'pgxUrls', 'pooledUrls', 'sslmode', 'urls']);
});
