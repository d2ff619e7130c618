/**
 * The admin's lanes under Pulumi's mock runtime (issue 20 item 3): the
 * state records no dependency between instances, while the program starts
 * an instance only when the one before it in its lane has been answered —
 * so `pulumi up` provisions at most ⌊share / 2⌋ instances at once and
 * `destroy --target`, `state delete` and `--continue-on-error` concern one
 * instance. The real engine proves the same in test/e2e/engine/lanes.test.ts.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { RoleShape } from '../../../src/core/plan';
import { RecordedResource } from '../../../lab/pulumi-mocks';
import { depsOf } from '../../support/graph';

// A share of 4: 2 lanes; five instances, so the third, fourth and fifth wait for a turn.
const small = new ExternalPostgres('small', {
  host: 'small.example.com',
  adminUser: 'deployer',
  adminPassword: pulumi.secret('admin-secret'),
  maxConnections: 200,
  adminMaxConnections: 4,
});
const names = ['a', 'b', 'c', 'd', 'e'];
new SharedPostgres('s', {
  server: small.handle,
  namePrefix: 's_',
  instances: names.map((name) => ({ name, ...(name === 'c' ? { shape: RoleShape.LeastPrivilege } : {}) })),
});
// An InstanceDatabase on the same handle takes the next lane (after e, in a's lane).
new InstanceDatabase('lone', { server: small.handle, instance: { name: 'lone' } });

// The default share of a server of 100 (− 3 reserved): 9 connections, 4 lanes.
const hundred = new ExternalPostgres('hundred', { host: 'h.example.com', adminUser: 'deployer', adminPassword: pulumi.secret('p') });

beforeAll(async () => {
  await settled();
});

const onServer = (prefix: string): RecordedResource[] => rt.resources.filter((r) => r.type.startsWith('postgresql:index/') && r.name.startsWith(prefix));
const instanceOf = (name: string): string => names.find((n) => name.startsWith(`s-${n}-`)) ?? (name.startsWith('lone-') ? 'lone' : '?');
const first = (inst: string): RecordedResource => onServer(`s-${inst}-`).reduce((a, b) => (a.registeredAt < b.registeredAt ? a : b));
const last = (inst: string): RecordedResource => onServer(`s-${inst}-`).reduce((a, b) => (a.registeredAt > b.registeredAt ? a : b));

test('no resource on the server depends on another instance: the state has one chain per instance', () => {
  const all = [...onServer('s-'), ...onServer('lone-')];
  const byName = new Set(all.map((r) => r.name));
  const crossing = all.flatMap((r) => depsOf(r).filter((d) => byName.has(d) && instanceOf(d) !== instanceOf(r.name)).map((d) => `${r.name} → ${d}`));
  expect(crossing).toEqual([]);
  // one head per instance: its first role, which depends on nothing on the server
  const heads = all.filter((r) => depsOf(r).every((d) => !byName.has(d)));
  expect(heads.map((h) => h.name).sort()).toEqual(['lone-owner-role', ...names.map((n) => `s-${n}-owner-role`)].sort());
});

test('a share of 4 gives 2 lanes; the default share of max_connections 100 is 9 (4 lanes), counted in the budget', () => {
  expect(small.handle.lanes.count).toBe(2);
  expect(small.handle.adminConnections).toBe(4);
  expect(hundred.handle.adminConnections).toBe(9);
  expect(hundred.handle.lanes.count).toBe(4);
  expect(hundred.handle.claims.report().adminConnections).toBe(9);
});

test('an instance starts when the one before it in its lane has been answered: c after a, e after c, d after b, lone after d', () => {
  // round robin in construction order: a, c, e in one lane; b, d, lone in the other
  const after = (later: RecordedResource, earlier: RecordedResource): void => {
    expect(earlier.answeredAt).toBeGreaterThanOrEqual(0);
    expect(later.registeredAt).toBeGreaterThan(earlier.answeredAt);
  };
  after(first('c'), last('a'));
  after(first('e'), last('c'));
  after(first('d'), last('b'));
  const lone = onServer('lone-').reduce((x, y) => (x.registeredAt < y.registeredAt ? x : y));
  after(lone, last('d'));
});

test('inside an instance, every operation follows the one before it (grants never race)', () => {
  for (const inst of names) {
    const mine = onServer(`s-${inst}-`).sort((x, y) => x.registeredAt - y.registeredAt);
    for (let i = 1; i < mine.length; i++) expect(depsOf(mine[i] as RecordedResource)).toContain((mine[i - 1] as RecordedResource).name);
  }
});

test("the admin provider's pool is the server's max_connections (the share, not the pool, bounds the admin)", () => {
  // (provider config reaches the engine as strings)
  expect(rt.named('small-admin').inputs['maxConnections']).toBe('200');
  expect(rt.named('hundred-admin').inputs['maxConnections']).toBe('100');
});
