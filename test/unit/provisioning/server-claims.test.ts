/**
 * One server, several components (issue 7 items 6, 9, 15; issue 6's
 * provider hazards) under the mock recorder:
 * - the handle's claims registry checks the budget, database and role names
 *   across every SharedPostgres / InstanceDatabase on one handle, before any
 *   resource is registered, and records nothing for a component that fails;
 * - the admin provider's own connections (its `maxConnections`, set to 4) and
 *   a maintenance headroom are counted; no instance takes the admin's role or
 *   database;
 * - `instances['x']` names the instances that exist;
 * - GrantRole (admin → owner) under a non-superuser admin, `ignoreChanges:
 *   ["roles"]` on every Role, `deleteBeforeReplace` on every Grant and
 *   DefaultPrivileges.
 */
import { installMocks, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import * as pulumi from '@pulumi/pulumi';
import { ConnectionBudgetError } from '../../../src/core/budget';
import { ValidationError } from '../../../src/core/errors';
import { RoleShape } from '../../../src/core/plan';
import { SslMode } from '../../../src/core/tls';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { InstanceDatabase } from '../../../src/provisioning/instance-database';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { depsOf } from '../../support/graph';

const small = { gatewayPool: { maxConns: 5, minConns: 1 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } };

const server = new ExternalPostgres('db', {
  host: 'db.example.com',
  adminUser: 'platform_admin',
  adminPassword: pulumi.secret('pw'),
  adminDatabase: 'ops',
  sslmode: SslMode.Require,
  maxConnections: 50,
});
// 50 − 3 reserved − 4 admin provider − 3 maintenance = 40 for app roles.
const first = new SharedPostgres('first', { server: server.handle, namePrefix: 'a_', instances: [{ name: 'blog', ...small }, { name: 'shop', ...small }] });
const second = new InstanceDatabase('second', { server: server.handle, instance: { name: 'wiki', database: 'b_wiki', ...small } });

const superServer = new ExternalPostgres('su', { host: 'su.example.com', adminUser: 'postgres', adminPassword: 'pw', adminIsSuperuser: true, sslmode: SslMode.Require });
const superShared = new SharedPostgres('su-shared', { server: superServer.handle, instances: [{ name: 'lp', shape: RoleShape.LeastPrivilege }] });
// 3 + 3 + 2 read-only = 8: 20 + 10 + 8 = 38 of 40.
const lpShared = new SharedPostgres('lp', {
  server: server.handle,
  namePrefix: 'c_',
  instances: [{ name: 'api', shape: RoleShape.LeastPrivilege, gatewayPool: { maxConns: 3, minConns: 1 }, kratosPool: { maxConns: 3, maxIdleConns: 1 } }],
});

beforeAll(settled);

/** Runs `make` and returns what it threw, asserting no resource was registered meanwhile. */
function refused(make: () => unknown): Error {
  const before = rt.resources.length;
  let error: unknown;
  try {
    make();
  } catch (e) {
    error = e;
  }
  expect(rt.resources.length).toBe(before);
  if (!(error instanceof Error)) throw new Error('expected an error');
  return error;
}

describe('the admin provider is counted and bounded', () => {
  test('ExternalPostgres counts the admin\'s default share (4 of 50 − 3) and sets the provider\'s pool to max_connections', () => {
    // the pool never makes an operation wait (issue 20): the share bounds the admin, through the lanes
    expect(rt.named('db-admin').inputs['maxConnections']).toBe('50');
    expect(server.handle).toMatchObject({ maxConnections: 50, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3, adminDatabase: 'ops' });
    expect(server.handle.lanes.count).toBe(2);
  });

  test('adminMaxConnections and maintenanceConnections are taken from the args and counted', async () => {
    const s = new ExternalPostgres('tuned', { host: 'h.example.com', adminUser: 'a', adminPassword: 'p', maxConnections: 30, adminMaxConnections: 2, maintenanceConnections: 0 });
    await settled();
    expect(rt.named('tuned-admin').inputs['maxConnections']).toBe('30');
    expect(s.handle.claims.report()).toMatchObject({ adminConnections: 2, available: 25, total: 0 });
    expect(s.handle.lanes.count).toBe(1);
  });

  test('numbers that leave app roles nothing are refused before the provider exists', () => {
    const e = refused(() => new ExternalPostgres('full', { host: 'h', adminUser: 'a', adminPassword: 'p', maxConnections: 10, reservedConnections: 3, adminMaxConnections: 4 }));
    expect(e.message).toMatch(/^maxConnections: max_connections 10 leaves no slot for app roles after 3 reserved \+ 4 for the admin \(deploys\) \+ 3 maintenance headroom/);
    expect(rt.resources.some((r) => r.name === 'full-admin')).toBe(false);
    expect(() => new ExternalPostgres('zero', { host: 'h', adminUser: 'a', adminPassword: 'p', adminMaxConnections: 0 })).toThrow(/^adminMaxConnections: 0 is not a whole number of connections between 1 and 1000/);
  });
});

describe('one budget per server, across components', () => {
  test('each component sees what the earlier ones claimed', () => {
    expect(first.budget).toMatchObject({ available: 40, total: 20, headroom: 20, claimed: [] });
    expect(lpShared.budget.claimed.map((c) => [c.instance, c.connections])).toEqual([
      ['first/blog', 10],
      ['first/shop', 10],
      ['second/wiki', 10],
    ]);
    expect(lpShared.budget).toMatchObject({ available: 40, total: 38, headroom: 2 });
  });

  test('a component that fits alone but not next to the others is refused, naming what is claimed', () => {
    const e = refused(() => new SharedPostgres('late', { server: server.handle, namePrefix: 'd_', instances: [{ name: 'x', ...small }] }));
    expect(e).toBeInstanceOf(ConnectionBudgetError);
    expect(e.message).toContain(
      '1 instance needs 10 connections but the server allows 2 (max_connections 50 − 3 reserved − 4 admin (deploys: 2 instances at once) − 3 maintenance headroom − 38 already claimed on this server by first/blog 10, first/shop 10, second/wiki 10, lp/api 8)',
    );
    expect(e.message).toContain('At most 2 connections per instance fit');
    // Alone on a fresh handle of the same size, it fits.
    const fresh = new ExternalPostgres('fresh', { host: 'h.example.com', adminUser: 'a', adminPassword: 'p', maxConnections: 50 });
    expect(() => new SharedPostgres('late', { server: fresh.handle, namePrefix: 'd_', instances: [{ name: 'x', ...small }] })).not.toThrow();
  });

  test('a refused component claims nothing: its names and share stay free for the next one', () => {
    const s = new ExternalPostgres('retry', { host: 'h.example.com', adminUser: 'a', adminPassword: 'p', maxConnections: 30 });
    refused(() => new SharedPostgres('big', { server: s.handle, instances: [{ name: 'app' }, { name: 'web' }] })); // 40 > 20
    expect(s.handle.claims.claimed).toEqual([]);
    const ok = new SharedPostgres('big2', { server: s.handle, instances: [{ name: 'app' }] }); // 20 of 20
    expect(ok.budget).toMatchObject({ total: 20, headroom: 0 });
  });
});

describe('names across components', () => {
  test('a database another component manages is refused before any resource', () => {
    const e = refused(() => new SharedPostgres('dup-db', { server: server.handle, instances: [{ name: 'blog2', database: 'a_blog', gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } }] }));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toMatch(/^instances\[0\]\.database: database "a_blog" is already claimed on this server by first \(instance "blog"\)/);
  });

  test('an InstanceDatabase may not take a role of a SharedPostgres either', () => {
    const e = refused(() => new InstanceDatabase('dup-role', { server: server.handle, instance: { name: 'x', database: 'c_api_ro', gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } } }));
    expect(e.message).toMatch(/^instance\.database: role "c_api_ro" is already claimed on this server by lp \(instance "api"\)/);
  });

  test('no instance may take the admin\'s own database (adminDatabase) or role', () => {
    const tiny = { gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } };
    expect(refused(() => new SharedPostgres('ops', { server: server.handle, instances: [{ name: 'ops', ...tiny }] })).message).toMatch(
      /^instances\[0\]\.database: database "ops" is the admin's own database \(adminDatabase\)/,
    );
    expect(refused(() => new InstanceDatabase('ops2', { server: server.handle, instance: { name: 'x', database: 'ops', ...tiny } })).message).toMatch(
      /^instance\.database: database "ops" is the admin's own database/,
    );
    expect(refused(() => new InstanceDatabase('adm', { server: server.handle, instance: { name: 'platform', database: 'platform_admin', ...tiny } })).message).toMatch(
      /^instance\.database: role "platform_admin" would be the admin role itself/,
    );
    expect(refused(() => new InstanceDatabase('tpl', { server: server.handle, instance: { name: 'tpl', database: 'template1', ...tiny } })).message).toMatch(/"template1" is reserved/);
  });
});

describe('instances by name', () => {
  test('a known instance is returned; an unknown one throws a ValidationError naming those that exist', () => {
    expect(first.instances['blog']).toBeInstanceOf(InstanceDatabase);
    expect(Object.keys(first.instances)).toEqual(['blog', 'shop']);
    expect('wiki' in first.instances).toBe(false);
    let error: unknown;
    try {
      void first.instances['wiki']!.url;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe('instances["wiki"]: SharedPostgres "first" has no instance "wiki". Use one of: blog, shop');
  });
});

describe('provider hazards', () => {
  const onServer = (types: string[]) => rt.resources.filter((r) => types.includes(r.type));

  test('a non-superuser admin keeps its membership in each owner role: GrantRole before the database', () => {
    expect(second.plan.owner.name).toBe('b_wiki');
    for (const [prefix, owner] of [
      ['first-blog', 'a_blog'],
      ['second', 'b_wiki'],
      ['lp-api', 'c_api_owner'],
    ] as const) {
      const g = rt.named(`${prefix}-admin-membership`);
      expect(g.type).toBe('postgresql:index/grantRole:GrantRole');
      expect(g.inputs).toMatchObject({ role: 'platform_admin', grantRole: owner, withAdminOption: false });
      expect(g.provider).toMatch(/pulumi:providers:postgresql::db-admin::/);
      expect(depsOf(g)).toContain(`${prefix}-owner-role`);
      expect(depsOf(rt.named(`${prefix}-database`))).toContain(`${prefix}-admin-membership`);
      expect(g.retainOnDelete).toBe(true);
    }
  });

  test('a superuser admin needs no membership: no GrantRole', () => {
    expect(superShared.instances['lp']).toBeDefined();
    expect(rt.resources.some((r) => r.name.startsWith('su-shared-') && r.type === 'postgresql:index/grantRole:GrantRole')).toBe(false);
  });

  test('no Role sets `roles` and every Role ignores changes to it (#131)', () => {
    const roles = onServer(['postgresql:index/role:Role']);
    expect(roles.length).toBeGreaterThanOrEqual(8);
    for (const r of roles) {
      expect([r.name, r.inputs['roles']]).toEqual([r.name, undefined]);
      expect([r.name, r.ignoreChanges]).toEqual([r.name, ['roles']]);
    }
  });

  test('every Grant and DefaultPrivileges is deleteBeforeReplace (#233); other resources are not', () => {
    const grants = onServer(['postgresql:index/grant:Grant', 'postgresql:index/defaultPrivileges:DefaultPrivileges']);
    expect(grants.length).toBeGreaterThanOrEqual(15 + 3);
    for (const g of grants) expect([g.name, g.deleteBeforeReplace]).toEqual([g.name, true]);
    expect(rt.named('first-blog-database').deleteBeforeReplace).toBe(false);
  });
});
