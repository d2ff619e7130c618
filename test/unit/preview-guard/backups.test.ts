/**
 * The guard's backup checks (src/preview-guard/backups.ts) on the resources
 * the components really register (Pulumi's mock runtime): RdsPostgres'
 * instance and LocalBackup's container, changed the way the engine shows it
 * (fixtures.ts). A removed backup schedule and a retention below 7 days are
 * warnings (the check does not fail); a longer retention says nothing.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from '../rds/fixture';
const rt = installMocks({ stack: 'prod', state: rdsState });

import { RdsPostgres } from '../../../src/rds/component';
import { LOCAL_BACKUP_STORE_CA, LocalBackup, localBackupScript, planLocalBackup } from '../../../src/local/backup';
import { blockingFindings } from '../../../src/preview-guard/findings';
import { checkPreview } from '../../../src/preview-guard/check';
import { GUARD_MIN_RETENTION_DAYS, commandRetention } from '../../../src/preview-guard/backups';
import { MIN_RETENTION_DAYS, retentionDays } from '../../../src/core/backup';
import { previewOf, stepFor } from './fixtures';

new RdsPostgres('app-db', { vpcId: 'vpc-0abc', subnetIds: ['subnet-a', 'subnet-b'], allowedSecurityGroupIds: ['sg-app'], sslrootcert: 'global-bundle.pem', backupRetentionDays: 14 });
const backupArgs = { network: 'db-network', instances: ['blog'], urls: { blog: 'postgres://x' }, location: 's3://backups/dev', accessKeyId: 'k', secretAccessKey: 's', nodeModulesDir: '/app/node_modules' };
new LocalBackup('db-backup', backupArgs);
new LocalBackup('ca-backup', { ...backupArgs, storeCaPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' });

beforeAll(settled);

const summary = (steps: Parameters<typeof previewOf>): Array<[string, string, string, string[]]> =>
  checkPreview(previewOf(...steps)).map((f) => [f.severity, f.code, f.op, f.properties]);

test('RDS: backupRetentionDays below 7 warns; 14 → 10 says nothing; never blocking', () => {
  const instance = rt.named('app-db-instance');
  expect(summary([stepFor(instance, { backupRetentionPeriod: 3 })])).toEqual([['warning', 'backup-retention-shortened', 'update', ['backupRetentionPeriod']]]);
  expect(checkPreview(previewOf(stepFor(instance, { backupRetentionPeriod: 3 })))[0]?.effect).toMatch(/reach back 3 days instead of 14 days: less than the 7 days/);
  expect(summary([stepFor(instance, { backupRetentionPeriod: 10 })])).toEqual([]);
  expect(blockingFindings(checkPreview(previewOf(stepFor(instance, { backupRetentionPeriod: 1 }))))).toEqual([]);
});

test('LocalBackup: storeCaPem is uploaded and named by AWS_CA_BUNDLE; without it the container has no uploads', () => {
  const withCa = rt.named('ca-backup-backup');
  expect(withCa.inputs['uploads']).toEqual([{ file: LOCAL_BACKUP_STORE_CA, content: expect.stringContaining('BEGIN CERTIFICATE') }]);
  // The environment is a secret (the store's keys): the mock runtime keeps it wrapped, `{ <sig>, value }`.
  const envs = (r: { inputs: Record<string, unknown> }): string[] => (r.inputs['envs'] as { value: string[] }).value;
  expect(envs(withCa)).toContain(`AWS_CA_BUNDLE=${LOCAL_BACKUP_STORE_CA}`);
  const plain = rt.named('db-backup-backup');
  expect(plain.inputs['uploads']).toBeUndefined();
  expect(envs(plain).some((e) => e.startsWith('AWS_CA_BUNDLE='))).toBe(false);
});

test('LocalBackup: its container removed warns; a retention below 7 days warns; a longer one says nothing', () => {
  const container = rt.named('db-backup-backup');
  expect(commandRetention(container.inputs['command'])).toEqual({ days: 14 });
  expect(summary([stepFor(container, 'delete')])).toEqual([['warning', 'backup-schedule-removed', 'delete', []]]);
  const script = (o: Partial<Parameters<typeof planLocalBackup>[0]>): string[] => ['sh', '-c', localBackupScript(planLocalBackup({ instances: ['blog'], location: 's3://backups/dev', ...o }))];
  expect(summary([stepFor(container, { command: script({ keep: 3 }) })])).toEqual([['warning', 'backup-retention-shortened', 'replace', ['command']]]);
  expect(summary([stepFor(container, { command: script({ keep: 3, intervalSeconds: 86400 * 7 }) })])).toEqual([]);
  expect(summary([stepFor(container, { command: script({ keep: 30, maxAgeDays: 60 }) })])).toEqual([]);
  expect(summary([stepFor(container, { command: ['sleep', 'infinity'] })])).toEqual([['warning', 'backup-schedule-removed', 'replace', ['command']]]);
});

test("the guard's 7 days and its reading of a retention are the core's", () => {
  expect(GUARD_MIN_RETENTION_DAYS).toBe(MIN_RETENTION_DAYS);
  for (const [keep, maxAgeDays, interval] of [[14, 30, 86400], [3, 0, 86400 * 7], [0, 5, 3600], [0, 0, 86400], [2, 9, 86400 * 3]] as const) {
    const script = localBackupScript(planLocalBackup({ instances: ['blog'], location: 's3://backups/dev', keep, maxAgeDays, intervalSeconds: interval }));
    expect(commandRetention(['sh', '-c', script])).toEqual({ days: retentionDays({ keep, maxAgeDays }, interval / 86400) });
  }
});
