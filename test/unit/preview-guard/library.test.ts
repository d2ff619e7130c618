/**
 * The guard's marker contract with the components: every component is
 * registered under Pulumi's mock runtime, and each resource it registers is
 * put through `checkPreview` as a deleted resource (the step the engine
 * prints when it leaves the program).
 *
 * Proves:
 * - every resource a component retains on delete (the library's own "this
 *   holds data" flag) is recognised from its URN as the data it is, named
 *   after its component and instance: deleted, it is an error; retained, a
 *   warning that it leaves the stack;
 * - the owner role is told from the least-privilege shape's login and
 *   read-only roles, the RDS replica from the primary, LocalPostgres' data
 *   volume from its socket volume;
 * - no other resource of the library (passwords, salts, grants, networks,
 *   firewalls, images, certificates' keys) gives a finding when deleted;
 * - every entry of LIBRARY_CHILDREN names a resource some component really
 *   registers (no stale entry).
 */
import { installMocks, settled, RecordedResource } from '../../../lab/pulumi-mocks';
import { rdsState } from '../rds/fixture';
const rt = installMocks({ stack: 'prod', state: rdsState });

import { ExternalPostgres } from '../../../src/provisioning/external';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { LocalPostgres } from '../../../src/local/component';
import { RdsPostgres } from '../../../src/rds/component';
import { HetznerPostgres } from '../../../src/hetzner/component';
import { RoleShape } from '../../../src/core/plan';
import { FindingCode, LIBRARY_CHILDREN, Severity, SubjectKind, checkPreview } from '../../../src/preview-guard';
import { PreviewStep } from '../../../src/preview-guard/preview';
import { UrnIndex, subjectOf } from '../../../src/preview-guard/subjects';

jest.setTimeout(60_000);

const external = new ExternalPostgres('shared-db', { host: 'db.example.com', adminUser: 'admin', adminPassword: 'pw' });
new SharedPostgres('shared', {
  server: external.handle,
  namePrefix: 'vw_',
  instances: [{ name: 'blog' }, { name: 'api', shape: RoleShape.LeastPrivilege }, { name: 'web', loginRotation: { enabled: true } }],
});
new InstanceDatabase('solo', { server: external.handle, instance: { name: 'solo' } });
new LocalPostgres('auth', { tls: true, publishPort: 5432, instances: [{ name: 'kratos' }, { name: 'app', loginRotation: { enabled: true } }] });
new RdsPostgres('app-db', {
  sslrootcert: 'global-bundle.pem',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-a', 'subnet-b'],
  allowedSecurityGroupIds: ['sg-app'],
  readReplica: {},
});
new HetznerPostgres('pg', { serverType: 'cx23', location: 'nbg1', allowedCidrs: ['192.0.2.0/24'], instances: [{ name: 'blog' }] });

beforeAll(settled);

/** The step the engine prints for a resource that left the program. */
function deleted(r: RecordedResource, retain: boolean): PreviewStep {
  return { op: 'delete', urn: r.urn, oldState: { urn: r.urn, type: r.type, custom: r.custom, parent: r.parent, inputs: r.inputs, retainOnDelete: retain } };
}

const DATA_KINDS = new Set([SubjectKind.Database, SubjectKind.OwnerRole, SubjectKind.RdsInstance, SubjectKind.HetznerVolume, SubjectKind.DockerVolume]);

test('the recorder saw every component (sanity)', () => {
  const components = new Set(rt.resources.filter((r) => !r.custom).map((r) => r.type));
  expect([...components].sort()).toEqual([
    'postgres-strategies:index:ExternalPostgres',
    'postgres-strategies:index:HetznerPostgres',
    'postgres-strategies:index:InstanceDatabase',
    'postgres-strategies:index:LocalPostgres',
    'postgres-strategies:index:RdsPostgres',
    'postgres-strategies:index:SharedPostgres',
  ]);
});

/**
 * Retained by the components too, but holding no data of their own: what the
 * database grants, and what an RDS instance runs in (kept with it).
 */
const NOT_DATA = new Set([
  'postgresql:index/grant:Grant',
  'postgresql:index/grantRole:GrantRole',
  'postgresql:index/defaultPrivileges:DefaultPrivileges',
  'aws:rds/subnetGroup:SubnetGroup',
  'aws:ec2/securityGroup:SecurityGroup',
  'aws:rds/parameterGroup:ParameterGroup',
]);

/** The retained resources that hold data: everything retained but those and our login roles. */
const retainedData = (): RecordedResource[] =>
  rt.resources.filter((r) => r.retainOnDelete === true && !NOT_DATA.has(r.type) && subjectOf(deleted(r, true), new UrnIndex([]))?.kind !== SubjectKind.LoginRole);

test('every resource a component retains on delete is recognised, named after its component: data, a login role of ours, or no data (grants, RDS networking)', () => {
  const retained = rt.resources.filter((r) => r.retainOnDelete === true);
  // Sanity: the databases and owner roles of 3 instances, the RDS instance and the two volumes at least.
  expect(retainedData().length).toBeGreaterThanOrEqual(9);
  const index = new UrnIndex([]);
  for (const r of retained) {
    if (NOT_DATA.has(r.type)) continue;
    const subject = subjectOf(deleted(r, true), index);
    const recognised = DATA_KINDS.has(subject?.kind as SubjectKind) || subject?.kind === SubjectKind.LoginRole;
    expect({ name: r.name, recognised, component: subject?.owner?.component !== undefined }).toEqual({ name: r.name, recognised: true, component: true });
  }
});

test('deleted, a retained resource is a warning (it leaves the stack); without retainOnDelete it is an error', () => {
  for (const r of retainedData()) {
    const kept = checkPreview({ steps: [deleted(r, true)] });
    expect(kept.map((f) => [f.severity, f.code])).toEqual([[Severity.Warning, FindingCode.Retained]]);
    const dropped = checkPreview({ steps: [deleted(r, false)] });
    if (r.type === 'aws:rds/instance:Instance') {
      // RdsPostgres always takes a final snapshot: the data survives in it.
      expect(dropped.map((f) => [f.severity, f.code])).toEqual([[Severity.Warning, FindingCode.DeletedWithSnapshot]]);
      const unsnapshotted = deleted({ ...r, inputs: { ...r.inputs, skipFinalSnapshot: true } }, false);
      expect(checkPreview({ steps: [unsnapshotted] }).map((f) => [f.severity, f.code])).toEqual([[Severity.Error, FindingCode.Deleted]]);
    } else {
      expect({ name: r.name, findings: dropped.map((f) => [f.severity, f.code]) }).toEqual({ name: r.name, findings: [[Severity.Error, FindingCode.Deleted]] });
    }
  }
});

test.each([
  ['shared-blog-database', SubjectKind.Database, 'delete', 'database "vw_blog" (SharedPostgres instance "shared-blog")'],
  ['shared-blog-owner-role', SubjectKind.OwnerRole, 'delete', 'role "vw_blog" (SharedPostgres instance "shared-blog")'],
  ['shared-api-owner-role', SubjectKind.OwnerRole, 'delete', 'role "vw_api_owner" (SharedPostgres instance "shared-api")'],
  ['shared-api-app-role', SubjectKind.LoginRole, 'delete', 'login role "vw_api" (SharedPostgres instance "shared-api")'],
  ['shared-api-read-only-role', SubjectKind.LoginRole, 'delete', 'login role "vw_api_ro" (SharedPostgres instance "shared-api")'],
  ['shared-web-login-a-role', SubjectKind.LoginRole, 'delete', 'login role "vw_web_a" (SharedPostgres instance "shared-web")'],
  ['shared-web-login-b-role', SubjectKind.LoginRole, 'delete', 'login role "vw_web_b" (SharedPostgres instance "shared-web")'],
  ['shared-web-login-rotation', SubjectKind.LoginRotation, 'delete', 'login rotation (SharedPostgres instance "shared-web")'],
  ['solo-database', SubjectKind.Database, 'delete', 'database "solo" (InstanceDatabase "solo")'],
  ['auth-data', SubjectKind.DockerVolume, 'delete', 'Docker volume "postgres-strategies-prod-auth-postgres-data" (LocalPostgres "auth")'],
  ['auth-postgres', SubjectKind.ServerContainer, 'replace', 'PostgreSQL container "postgres-strategies-prod-auth-postgres" (LocalPostgres "auth")'],
  ['auth-ca', SubjectKind.CertificateAuthority, 'replace', 'CA certificate (LocalPostgres "auth")'],
  ['app-db-instance', SubjectKind.RdsInstance, 'replace', 'RDS instance "postgres-strategies-prod-app-db" (RdsPostgres "app-db")'],
  ['app-db-replica', SubjectKind.RdsReplica, 'delete', 'RDS read replica "postgres-strategies-prod-app-db-replica" (RdsPostgres "app-db")'],
  ['pg-data', SubjectKind.HetznerVolume, 'delete', 'Hetzner volume "postgres-strategies-prod-pg-data" (HetznerPostgres "pg")'],
  ['pg-server', SubjectKind.HetznerServer, 'delete', 'Hetzner server "postgres-strategies-prod-pg" (HetznerPostgres "pg")'],
  ['shared-db-admin', SubjectKind.AdminProvider, 'update', 'admin connection (ExternalPostgres "shared-db")'],
  ['auth-admin', SubjectKind.AdminProvider, 'update', 'admin connection (LocalPostgres "auth")'],
] as const)('%s is a %s, named %s', (name, kind, op, label) => {
  const r = rt.named(name);
  const state = { urn: r.urn, type: r.type, custom: r.custom, parent: r.parent, inputs: r.inputs };
  const step: PreviewStep = { op, urn: r.urn, ...(op === 'delete' ? { oldState: state } : { oldState: state, newState: state }), diffReasons: ['host', 'ports'], replaceReasons: ['ports'] };
  expect(subjectOf(step, new UrnIndex([step]))?.kind).toBe(kind);
  const findings = checkPreview({ steps: [step] });
  expect(findings.length).toBeGreaterThan(0);
  expect(findings[0]?.resource).toBe(label);
});

test('the SharedPostgres name and the instance are told apart when the preview shows the instance component', () => {
  const db = rt.named('shared-blog-database');
  const component = rt.named('shared-blog');
  const steps: PreviewStep[] = [
    { op: 'same', urn: component.urn, oldState: { urn: component.urn, type: component.type, parent: component.parent }, newState: { urn: component.urn, type: component.type, parent: component.parent } },
    deleted(db, false),
  ];
  const [finding] = checkPreview({ steps });
  expect(finding).toMatchObject({ resource: 'database "vw_blog" (SharedPostgres "shared", instance "blog")', component: 'SharedPostgres', componentName: 'shared', instance: 'blog' });
});

test('nothing else the library registers gives a finding when deleted', () => {
  const judged = new Set(LIBRARY_CHILDREN.map((c) => c.type));
  const others = rt.resources.filter((r) => r.custom && r.retainOnDelete !== true && !judged.has(r.type));
  expect(others.length).toBeGreaterThan(30);
  for (const r of others) expect({ name: r.name, findings: checkPreview({ steps: [deleted(r, false)] }) }).toEqual({ name: r.name, findings: [] });
  // LocalPostgres' socket volume holds no data.
  expect(checkPreview({ steps: [deleted(rt.named('auth-socket'), false)] })).toEqual([]);
});

test('every LIBRARY_CHILDREN entry names a resource a component registers', () => {
  for (const child of LIBRARY_CHILDREN) {
    const found = rt.resources.some((r) => r.type === child.type && r.name.endsWith(child.suffix) && rt.resources.some((p) => p.urn === r.parent && p.type === child.component));
    expect({ child, found }).toEqual({ child, found: true });
  }
});
