/**
 * RdsPostgres' restore inputs under Pulumi's mock runtime (no AWS here):
 * `restoreFrom` becomes the instance's `snapshotIdentifier` or
 * `restoreToPointInTime` (create-time inputs, ForceNew in the AWS provider:
 * terraform-provider-aws `internal/service/rds/instance.go`, the set in
 * test/unit/preview-guard/fixtures.ts), with the automated backups and the
 * final snapshot as they were; bad inputs refused before any resource; and
 * what the guard says in a preview: a new instance restored beside the old
 * one is a create (nothing blocks), the same input set on the existing
 * instance replaces it — an error, and a failed preview (it is protected).
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from './fixture';
const rt = installMocks({ stack: 'prod', state: rdsState });

import { RdsPostgres } from '../../../src/rds/component';
import { planRdsRestore } from '../../../src/rds/plan';
import { ValidationError } from '../../../src/core/errors';
import { checkPreview } from '../../../src/preview-guard/check';
import { previewOf, stepFor } from '../preview-guard/fixtures';

const network = { vpcId: 'vpc-0abc', subnetIds: ['subnet-a', 'subnet-b'], allowedSecurityGroupIds: ['sg-app'], sslrootcert: 'global-bundle.pem' };
new RdsPostgres('app-db', network);
new RdsPostgres('restored', { ...network, restoreFrom: { sourceDbInstanceIdentifier: 'app-db-prod', restoreTime: '2026-05-01T14:03:00Z' } });
new RdsPostgres('from-snapshot', { ...network, restoreFrom: { snapshotIdentifier: 'app-db-prod-final-1a2b' } });
new RdsPostgres('latest', { ...network, restoreFrom: { sourceDbInstanceIdentifier: 'app-db-prod', useLatestRestorableTime: true } });

beforeAll(settled);

const inputs = (name: string): Record<string, unknown> => rt.named(name).inputs;

test('a point in time of another instance: restoreToPointInTime, automated backups and the final snapshot as always', () => {
  expect(inputs('restored-instance')).toMatchObject({
    restoreToPointInTime: { sourceDbInstanceIdentifier: 'app-db-prod', restoreTime: '2026-05-01T14:03:00Z' },
    backupRetentionPeriod: 7,
    deleteAutomatedBackups: false,
    skipFinalSnapshot: false,
  });
  expect(inputs('restored-instance')['snapshotIdentifier']).toBeUndefined();
  expect(inputs('latest-instance')['restoreToPointInTime']).toEqual({ sourceDbInstanceIdentifier: 'app-db-prod', useLatestRestorableTime: true });
  expect(inputs('from-snapshot-instance')).toMatchObject({ snapshotIdentifier: 'app-db-prod-final-1a2b', backupRetentionPeriod: 7 });
  expect(inputs('from-snapshot-instance')['restoreToPointInTime']).toBeUndefined();
  expect(inputs('app-db-instance')['snapshotIdentifier']).toBeUndefined();
  expect(inputs('app-db-instance')['restoreToPointInTime']).toBeUndefined();
});

test.each([
  [{ snapshotIdentifier: 's1', sourceDbInstanceIdentifier: 'a', restoreTime: '2026-01-01T00:00:00Z' }, 'restoreFrom', /both a snapshot and a point in time/],
  [{}, 'restoreFrom', /neither a snapshot nor a point in time/],
  [{ restoreTime: '2026-01-01T00:00:00Z' }, 'restoreFrom.sourceDbInstanceIdentifier', /is not a DB instance identifier/],
  [{ sourceDbInstanceIdentifier: 'app-db-prod' }, 'restoreFrom.restoreTime', /is missing/],
  [{ sourceDbInstanceIdentifier: 'app-db-prod', restoreTime: '2026-01-01T00:00:00Z', useLatestRestorableTime: true }, 'restoreFrom.restoreTime', /together with useLatestRestorableTime/],
  [{ sourceDbInstanceIdentifier: 'app-db-prod', restoreTime: '2026-01-01 00:00:00' }, 'restoreFrom.restoreTime', /not an RFC 3339 UTC time/],
  [{ sourceDbInstanceIdentifier: 'app-db-prod', restoreTime: '2999-01-01T00:00:00Z' }, 'restoreFrom.restoreTime', /in the future/],
  [{ snapshotIdentifier: 'snap shot' }, 'restoreFrom.snapshotIdentifier', /not a DB snapshot identifier/],
])('refused: %j', (restoreFrom, field, problem) => {
  let error: unknown;
  try {
    planRdsRestore(restoreFrom);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).field).toBe(field);
  expect((error as ValidationError).problem).toMatch(problem);
  expect(() => new RdsPostgres(`bad-${field.length}-${Math.random().toString(36).slice(2, 6)}`, { ...network, restoreFrom })).toThrow(ValidationError);
});

test('the guard: restoring into a new instance is a create; the same input on the existing instance replaces it (an error, and the preview fails)', () => {
  const created = rt.named('restored-instance');
  const create = checkPreview(previewOf({ op: 'create', urn: created.urn, newState: { urn: created.urn, type: created.type, custom: true, inputs: created.inputs } }));
  expect(create.filter((f) => f.severity === 'error')).toEqual([]);
  const findings = checkPreview(previewOf(stepFor(rt.named('app-db-instance'), { restoreToPointInTime: { sourceDbInstanceIdentifier: 'app-db-prod', useLatestRestorableTime: true } })));
  expect(findings.map((f) => [f.severity, f.code, f.op, f.properties])).toEqual([
    ['error', 'replaced', 'replace', ['restoreToPointInTime']],
    ['error', 'preview-incomplete', 'preview', []],
  ]);
  const snap = checkPreview(previewOf(stepFor(rt.named('app-db-instance'), { snapshotIdentifier: 'app-db-prod-final-1a2b' })));
  expect(snap[0]).toMatchObject({ severity: 'error', code: 'replaced', properties: ['snapshotIdentifier'] });
});
