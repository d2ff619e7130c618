/**
 * examples/hetzner evaluated under the mock runtime with `pulumi config`
 * values: the hcloud graph, the seed's three instances on the Hetzner
 * server's handle (private IP, verify-full), secrets, S3 backups from
 * config, and the budget against the configured max_connections.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({
  config: {
    'postgres-strategies:serverType': 'cx23',
    'postgres-strategies:location': 'hel1',
    'postgres-strategies:sshAllowedCidrs': '["203.0.113.7/32"]',
    'postgres-strategies:pgConfig': '{"max_connections":60,"shared_buffers":"1GB"}',
    'postgres-strategies:backupKeep': '14',
    'postgres-strategies:backupS3Endpoint': 'https://hel1.your-objectstorage.com',
    'postgres-strategies:backupS3Bucket': 'vw-pg-dumps',
    'postgres-strategies:backupS3AccessKeyId': 'AKID',
    'postgres-strategies:backupS3SecretAccessKey': 'config-s3-secret',
  },
  secretKeys: ['postgres-strategies:backupS3AccessKeyId', 'postgres-strategies:backupS3SecretAccessKey'],
});

import * as pulumi from '@pulumi/pulumi';
import { unwrapSecret } from '../../support/graph';
import { userDataFiles } from '../hetzner/fixture';
import { multiLineExports } from './outputs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const program = require('../../../examples/hetzner/index') as typeof import('../../../examples/hetzner/index');

jest.setTimeout(30_000);
beforeAll(settled);

test('declares the network, server, volume and firewall from config, and the seed\'s three databases on the server\'s admin provider', () => {
  expect(rt.named('db-server').inputs).toMatchObject({ name: 'postgres-strategies-test-db', serverType: 'cx23', location: 'hel1', image: 'debian-12', deleteProtection: true });
  expect(rt.named('db-data').retainOnDelete).toBe(true);
  expect(rt.named('db-subnet').inputs).toMatchObject({ networkZone: 'eu-central' });
  const dbs = rt.ofType('postgresql:index/database:Database');
  expect(dbs.map((d) => d.inputs['name']).sort()).toEqual(['vw_admin', 'vw_api', 'vw_blog']);
  expect(dbs.every((d) => /::db-admin::/.test(d.provider))).toBe(true);
});

test('the budget is checked against pgConfig.max_connections: 3 × (5 + 5) of 60 − 3 reserved − 5 admin − 3 maintenance', () => {
  // the admin's default share: a tenth of 60 − 3
  expect(program.budget).toMatchObject({ maxConnections: 60, adminConnections: 5, total: 30, available: 49, headroom: 19 });
});

test('instance URLs go to the private IP with verify-full and are secrets; the S3 key is only in the secret user data', async () => {
  expect(await pulumi.isSecret(program.urls)).toBe(true);
  const urls = (await settle(program.urls)).value!;
  expect(Object.keys(urls).sort()).toEqual(['admin', 'api', 'blog']);
  expect(urls['blog']).toMatch(/^postgres:\/\/vw_blog:[A-Za-z0-9]{32}@10\.0\.1\.10:5432\/vw_blog\?sslmode=verify-full&sslrootcert=postgres-ca\.pem/);
  const userData = unwrapSecret(rt.named('db-server').inputs['userData']);
  expect(userData.secret).toBe(true);
  const backupConf = userDataFiles(userData.value as string).find((f) => f.path === '/etc/postgres-strategies/backup.conf')!.content;
  expect(backupConf).toContain('RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY=config-s3-secret\n');
  expect(backupConf).toContain('BACKUP_KEEP=14\n');
  expect(program.privateIp).toBe('10.0.1.10');
  // The later-deployment path: the setup payload is exported, as a secret.
  expect(await pulumi.isSecret(program.setupScript)).toBe(true);
  expect((await settle(program.setupScript)).value).toContain("put_file /etc/postgres-strategies/backup.conf 0600 '");
  expect((await settle(program.caPem)).value).toContain('BEGIN CERTIFICATE');
});

test('the only multi-line exports are the files a documented command reads by name (the CA, the setup script)', async () => {
  expect(await multiLineExports(program)).toEqual(['caPem', 'setupScript']);
});
