/**
 * The guard on AWS RDS, Hetzner Cloud and Docker previews, where no
 * provider plugin can run here: each step is built from what our
 * components (and a user's own resources beside them) really register
 * under Pulumi's mock runtime, changed in one input, and made a `replace`
 * or an `update` by the provider's own ForceNew set (fixtures.ts names the
 * source of each).
 *
 * Proves, for RDS: a replacement (kmsKeyId, storageEncrypted, username)
 * fails — of RdsPostgres' protected instance, with the engine's failed
 * preview too —, a delete without a final snapshot fails, a delete with one
 * warns, a replaced or deleted replica warns, an in-place
 * identifier rename, a new port and a new CA warn, a switched-off
 * deletion protection or final snapshot warns, and a class, storage or
 * minor-version change gives nothing. For Hetzner: a new location replaces
 * the volume and the server (both fail), a new image or user data
 * replaces the server (fails), a removed volume fails unless retained, a
 * bigger volume or server type gives nothing. For Docker: a renamed data
 * volume fails, a removed one fails unless retained, a new published port
 * warns, a new pgConfig (the container replaced on the same volume) and
 * the socket volume give nothing; a user's own Docker volume counts as data.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from '../rds/fixture';
const rt = installMocks({ stack: 'prod', state: rdsState });

import * as aws from '@pulumi/aws';
import * as docker from '@pulumi/docker';
import * as hcloud from '@pulumi/hcloud';
import { RdsPostgres } from '../../../src/rds/component';
import { HetznerPostgres } from '../../../src/hetzner/component';
import { LocalPostgres } from '../../../src/local/component';
import { Finding, checkPreview } from '../../../src/preview-guard';
import { previewOf, stepFor } from './fixtures';

jest.setTimeout(60_000);

const network = { sslrootcert: 'global-bundle.pem', vpcId: 'vpc-0abc', subnetIds: ['subnet-a', 'subnet-b'], allowedSecurityGroupIds: ['sg-app'] };
// The default: the instance protected and retained.
new RdsPostgres('app-db', { ...network, readReplica: {} });
// allowDeletion: neither protected nor retained.
new RdsPostgres('old-db', { ...network, allowDeletion: true, deletionProtection: false });
// A user's own instance beside ours, judged by its type only.
new aws.rds.Instance('legacy', {
  identifier: 'legacy-db', engine: 'postgres', instanceClass: 'db.t4g.micro', allocatedStorage: 20, username: 'postgres', password: 'pw',
  storageEncrypted: true, skipFinalSnapshot: true, deletionProtection: true,
});
new HetznerPostgres('pg', { serverType: 'cx23', location: 'nbg1', allowedCidrs: ['192.0.2.0/24'], instances: [{ name: 'blog' }], reprovisionOnUserDataChange: true });
new hcloud.Volume('scratch', { name: 'scratch', size: 10, location: 'nbg1' });
new LocalPostgres('auth', { tls: true, publishPort: 5432, instances: [{ name: 'kratos' }] });
new docker.Volume('uploads', { name: 'uploads' });

beforeAll(settled);

/** [severity, code, op, properties, resource] of each finding. */
const summary = (findings: Finding[]): [string, string, string, string[], string][] => findings.map((f) => [f.severity, f.code, f.op, f.properties, f.resource]);
const check = (...steps: Parameters<typeof previewOf>): ReturnType<typeof summary> => summary(checkPreview(previewOf(...steps)));
const named = (name: string) => rt.named(name);

const PRIMARY = 'RDS instance "postgres-strategies-prod-app-db" (RdsPostgres "app-db")';
const UNPROTECTED = 'RDS instance "postgres-strategies-prod-old-db" (RdsPostgres "old-db")';
const REPLICA = 'RDS read replica "postgres-strategies-prod-app-db-replica" (RdsPostgres "app-db")';
const LEGACY = 'RDS instance "legacy-db" (Instance "legacy")';
const NEW_KEY = 'arn:aws:kms:eu-central-1:123456789012:key/2222';

describe('AWS RDS', () => {
  test('a new kmsKeyId replaces the primary (error) and its replica (a warning: a copy)', () => {
    expect(check(stepFor(named('old-db-instance'), { kmsKeyId: NEW_KEY }))).toEqual([['error', 'replaced', 'replace', ['kmsKeyId'], UNPROTECTED]]);
    // RdsPostgres protects its instance by default: the engine shows the step but fails the preview.
    const findings = checkPreview(previewOf(stepFor(named('app-db-instance'), { kmsKeyId: NEW_KEY }), stepFor(named('app-db-replica'), { kmsKeyId: NEW_KEY })));
    expect(summary(findings)).toEqual([
      ['error', 'replaced', 'replace', ['kmsKeyId'], PRIMARY],
      ['error', 'preview-incomplete', 'preview', [], 'the preview'],
      ['warning', 'replica-rebuilt', 'replace', ['kmsKeyId'], REPLICA],
    ]);
    expect(findings[0]?.effect).toMatch(/— it is protected \(`protect`\), so the preview fails and `pulumi up` refuses this until the protection is lifted$/);
  });

  test.each([
    ['storageEncrypted', false],
    ['username', 'admin'],
    ['engine', 'aurora-postgresql'],
  ])('a changed %s replaces the instance with an empty one: an error', (property, value) => {
    expect(check(stepFor(named('legacy'), { [property]: value }))).toEqual([['error', 'replaced', 'replace', [property], LEGACY]]);
  });

  test('a changed identifier is an in-place rename (terraform-provider-aws ≥ 5): a warning, the address changes', () => {
    const [finding] = checkPreview(previewOf(stepFor(named('app-db-instance'), { identifier: 'app-db-live' })));
    expect(finding).toMatchObject({ severity: 'warning', code: 'renamed', op: 'update', properties: ['identifier'], resource: PRIMARY });
    expect(finding?.effect).toContain('"postgres-strategies-prod-app-db" → "app-db-live"');
  });

  test('deleted without a final snapshot: an error; with RdsPostgres\' final snapshot: a warning; protected and retained: the preview fails', () => {
    expect(check(stepFor(named('legacy'), 'delete'))).toEqual([['error', 'deleted', 'delete', ['skipFinalSnapshot'], LEGACY]]);
    expect(check(stepFor(named('old-db-instance'), 'delete'))).toEqual([['warning', 'deleted-with-snapshot', 'delete', [], UNPROTECTED]]);
    expect(check(stepFor(named('app-db-instance'), 'delete'))).toEqual([
      ['error', 'preview-incomplete', 'preview', [], 'the preview'],
      ['warning', 'retained', 'delete', [], PRIMARY],
    ]);
  });

  test('a replica replaced or deleted is a warning', () => {
    expect(check(stepFor(named('app-db-replica'), { availabilityZone: 'eu-central-1b' }))).toEqual([['warning', 'replica-rebuilt', 'replace', ['availabilityZone'], REPLICA]]);
    expect(check(stepFor(named('app-db-replica'), 'delete'))).toEqual([['warning', 'replica-rebuilt', 'delete', [], REPLICA]]);
  });

  test('a new port or CA warns; switching deletion protection or the final snapshot off warns', () => {
    expect(check(stepFor(named('app-db-instance'), { port: 6543, caCertIdentifier: 'rds-ca-ecc384-g1' }))).toEqual([
      ['warning', 'endpoint-changed', 'update', ['port'], PRIMARY],
      ['warning', 'tls-changed', 'update', ['caCertIdentifier'], PRIMARY],
    ]);
    expect(check(stepFor(named('legacy'), { deletionProtection: false }))).toEqual([['warning', 'protection-removed', 'update', ['deletionProtection'], LEGACY]]);
    expect(check(stepFor(named('app-db-instance'), { skipFinalSnapshot: true }))).toEqual([['warning', 'protection-removed', 'update', ['skipFinalSnapshot'], PRIMARY]]);
  });

  test('rds.force_ssl switched off in the parameter group warns', () => {
    const group = named('app-db-parameters');
    const parameters = (group.inputs['parameters'] as { name: string; value: string }[]).map((p) => (p.name === 'rds.force_ssl' ? { ...p, value: '0' } : p));
    expect(check(stepFor(group, { parameters }))).toEqual([['warning', 'tls-changed', 'update', ['parameters'], 'RDS parameter group (RdsPostgres "app-db")']]);
  });

  test('harmless: a bigger class, more storage, a minor version, a new backup window', () => {
    const step = stepFor(named('app-db-instance'), { instanceClass: 'db.t4g.small', allocatedStorage: 50, engineVersion: '17.6', backupWindow: '02:00-03:00' });
    expect(step?.op).toBe('update');
    expect(check(step)).toEqual([]);
  });
});

describe('Hetzner Cloud', () => {
  const VOLUME = 'Hetzner volume "postgres-strategies-prod-pg-data" (HetznerPostgres "pg")';
  const SERVER = 'Hetzner server "postgres-strategies-prod-pg" (HetznerPostgres "pg")';

  test('a new location replaces the volume and the server that mounts it: two errors', () => {
    expect(check(stepFor(named('pg-data'), { location: 'fsn1' }), stepFor(named('pg-server'), { location: 'fsn1' }))).toEqual([
      ['error', 'replaced', 'replace', ['location'], VOLUME],
      ['error', 'replaced', 'replace', ['location'], SERVER],
    ]);
  });

  test.each([
    ['image', 'debian-13'],
    ['userData', '#cloud-config\n# changed\n'],
    ['sshKeys', ['ops', 'new-admin']],
  ])('a new %s replaces the server: an error', (property, value) => {
    expect(check(stepFor(named('pg-server'), { [property]: value }))).toEqual([['error', 'replaced', 'replace', [property], SERVER]]);
  });

  test('a removed volume: an error with allowDataDeletion, a warning when retained; a user\'s own volume counts', () => {
    expect(check(stepFor(named('pg-data'), 'delete', false))).toEqual([['error', 'deleted', 'delete', [], VOLUME]]);
    expect(check(stepFor(named('pg-data'), 'delete'))).toEqual([['warning', 'retained', 'delete', [], VOLUME]]);
    expect(check(stepFor(named('scratch'), 'delete'))).toEqual([['error', 'deleted', 'delete', [], 'Hetzner volume "scratch" (Volume "scratch")']]);
  });

  test('delete protection switched off warns; a bigger volume or server type gives nothing', () => {
    expect(check(stepFor(named('pg-data'), { deleteProtection: false }))).toEqual([['warning', 'protection-removed', 'update', ['deleteProtection'], VOLUME]]);
    const steps = [stepFor(named('pg-data'), { size: 40 }), stepFor(named('pg-server'), { serverType: 'cx33' })];
    expect(steps.map((s) => s?.op)).toEqual(['update', 'update']);
    expect(check(...steps)).toEqual([]);
  });
});

describe('Docker', () => {
  const VOLUME = 'Docker volume "postgres-strategies-prod-auth-postgres-data" (LocalPostgres "auth")';

  test('a renamed data volume is a new, empty one: an error (the old one is retained)', () => {
    expect(check(stepFor(named('auth-data'), { name: 'auth-pgdata' }))).toEqual([['error', 'replaced', 'replace', ['name'], VOLUME]]);
  });

  test('a removed data volume: an error with allowDataDeletion, a warning when retained; a user\'s own volume counts', () => {
    expect(check(stepFor(named('auth-data'), 'delete', false))).toEqual([['error', 'deleted', 'delete', [], VOLUME]]);
    expect(check(stepFor(named('auth-data'), 'delete'))).toEqual([['warning', 'retained', 'delete', [], VOLUME]]);
    expect(check(stepFor(named('uploads'), 'delete'))).toEqual([['error', 'deleted', 'delete', [], 'Docker volume "uploads" (Volume "uploads")']]);
  });

  test('a new published port replaces the container: a warning (clients\' port changes)', () => {
    const container = named('auth-postgres');
    const ports = (container.inputs['ports'] as Record<string, unknown>[]).map((p) => ({ ...p, external: 6543 }));
    expect(check(stepFor(container, { ports }))).toEqual([['warning', 'endpoint-changed', 'replace', ['ports'], 'PostgreSQL container "postgres-strategies-prod-auth-postgres" (LocalPostgres "auth")']]);
  });

  test('harmless: new server files (the container is replaced on the same volume), the socket volume', () => {
    const steps = [stepFor(named('auth-postgres'), { uploads: [] }), stepFor(named('auth-socket'), { name: 'other-socket' })];
    expect(steps.map((s) => s?.op)).toEqual(['replace', 'replace']);
    expect(check(...steps)).toEqual([]);
  });

  test('a new CA (renewed in its last year, or new settings) warns: clients need the new root certificate', () => {
    const CA = 'CA certificate (LocalPostgres "auth")';
    expect(check(stepFor(named('auth-ca'), { readyForRenewal: true }))).toEqual([['warning', 'tls-changed', 'replace', ['readyForRenewal'], CA]]);
    expect(check(stepFor(named('auth-ca'), { validityPeriodHours: 1 }))).toEqual([['warning', 'tls-changed', 'replace', ['validityPeriodHours'], CA]]);
  });
});
