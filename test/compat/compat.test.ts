/**
 * The comparison of compatibility records, on hand-made records: what
 * counts as a replacement, a recreation or a rename, what ignoreChanges
 * and aliases excuse, and how CHANGELOG.md's exceptions are read.
 */
import { RecordedAlias } from '../../lab/pulumi-mocks';
import { CompatRecord, CurrentChild, IGNORED, changelogExceptions, compare, covers, engineInputs, replaceReasons } from './compat';

const SG = 'aws:ec2/securityGroup:SecurityGroup';
const urn = (type: string, name: string): string => `urn:pulumi:prod::shop::postgres-strategies:index:RdsPostgres$${type}::${name}`;
const PARENT = 'urn:pulumi:prod::shop::postgres-strategies:index:RdsPostgres::app-db';

const old: CompatRecord = {
  release: 'r1',
  programs: { p: { 'app-db-security-group': { type: SG, urn: urn(SG, 'app-db-security-group'), forceNew: { description: 'a', vpcId: 'vpc' }, renames: {} } } },
};

function now(forceNew: Record<string, unknown>, name = 'app-db-security-group', aliases: RecordedAlias[] = []): Parameters<typeof compare>[1] {
  const child: CurrentChild = { type: SG, urn: urn(SG, name), forceNew, renames: {}, parent: PARENT, aliases };
  return { p: { children: { [name]: child }, components: new Map([[PARENT, { parent: '', aliases: [] }]]) } };
}

test('the same inputs: nothing; another value of a ForceNew input: a replacement keyed program/child.input', () => {
  expect(compare(old, now({ description: 'a', vpcId: 'vpc' }))).toEqual([]);
  expect(compare(old, now({ description: 'b', vpcId: 'vpc' }))).toEqual([
    { key: 'p/app-db-security-group.description', release: 'r1', what: expect.stringContaining('replaces') },
  ]);
  // A value given now and not then (or the reverse) differs too.
  expect(compare(old, now({ description: 'a' })).map((d) => d.key)).toEqual(['p/app-db-security-group.vpcId']);
});

test('ignoreChanges now excuses any value; ignored then and given now does not', () => {
  expect(compare(old, now({ description: IGNORED, vpcId: 'vpc' }))).toEqual([]);
  const wasIgnored: CompatRecord = { ...old, programs: { p: { 'app-db-security-group': { ...old.programs['p']!['app-db-security-group']!, forceNew: { description: IGNORED, vpcId: 'vpc' } } } } };
  expect(compare(wasIgnored, now({ description: 'a', vpcId: 'vpc' })).map((d) => d.key)).toEqual(['p/app-db-security-group.description']);
});

test('a child under another URN is recreated, unless an alias (its own or its parent\'s) names the old URN', () => {
  expect(compare(old, now({ description: 'a', vpcId: 'vpc' }, 'app-db-sg')).map((d) => d.key)).toEqual(['p/app-db-security-group']);
  expect(compare(old, now({ description: 'a', vpcId: 'vpc' }, 'app-db-sg', [{ name: 'app-db-security-group' }]))).toEqual([]);
  // The component renamed with an alias: its children answer to their URNs under the old parent.
  const renamedParent = 'urn:pulumi:prod::shop::postgres-strategies:index:RdsPostgres::main-db';
  const child: CurrentChild = { type: SG, urn: `urn:pulumi:prod::shop::postgres-strategies:index:RdsPostgres$${SG}::app-db-security-group`, forceNew: { description: 'a', vpcId: 'vpc' }, renames: {}, parent: renamedParent, aliases: [] };
  const components = new Map([[renamedParent, { parent: '', aliases: [{ name: 'app-db' }] }]]);
  expect(compare(old, { p: { children: { 'app-db-security-group': child }, components } })).toEqual([]);
  // A program that no longer runs.
  expect(compare(old, { p: null }).map((d) => d.key)).toEqual(['p']);
});

test('engineInputs: each ignored path (nested too) takes the state\'s value, as the engine diffs it', () => {
  const next = { inputs: { name: 'new', keepers: { identifier: 'new-id', username: 'u2' } }, ignoreChanges: ['keepers.identifier'] };
  expect(engineInputs({ name: 'old', keepers: { identifier: 'old-id', username: 'u1' } }, next)).toEqual({ name: 'new', keepers: { identifier: 'old-id', username: 'u2' } });
  expect(engineInputs({}, { inputs: { description: 'x' }, ignoreChanges: ['description'] })).toEqual({});
  expect(replaceReasons(SG, { description: 'a', namePrefix: 'p-' }, { description: 'b', namePrefix: 'p-' })).toEqual(['description']);
});

test('CHANGELOG.md exceptions: compat code spans; one covers its key and everything below it', () => {
  expect(changelogExceptions('- x (`compat: local/auth-data.name`) and `compat: rds` but not `compat:` or compat: bare/x')).toEqual(['local/auth-data.name', 'rds']);
  expect(covers('rds', 'rds/app-db-security-group.description')).toBe(true);
  expect(covers('rds/app-db-security-group', 'rds/app-db-security-group.description')).toBe(true);
  expect(covers('rds/app-db', 'rds/app-db-security-group.description')).toBe(false);
  expect(covers('rds-custom', 'rds/x')).toBe(false);
});
