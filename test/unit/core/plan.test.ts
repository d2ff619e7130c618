import { ConnectionBudgetError } from '../../../src/core/budget';
import fc from 'fast-check';
import { PoolerMode } from '../../../src/core/dsn';
import { InstanceSpec, RolePurpose, RoleShape, SchemaObjectType, ServerClaims, grantsLikePublic, planInstance, planInstances, planServer, serverConsumers, validateInstanceName } from '../../../src/core/plan';
import { expectFieldError } from './helpers';

const CAPACITY = { maxConnections: 100, reservedConnections: 3 };

describe('planInstance: default (owner) shape', () => {
  test('one LOGIN owner role whose connection limit is Kratos + gateway, PUBLIC revoked with privileges []', () => {
    const p = planInstance({ name: 'blog' }, 'vw_');
    expect(p.instance).toBe('blog');
    expect(p.database).toBe('vw_blog');
    expect(p.shape).toBe(RoleShape.Owner);
    expect(p.owner).toEqual({ name: 'vw_blog', purpose: RolePurpose.Owner, login: true, connectionLimit: 20 });
    expect(p.login).toBe(p.owner);
    expect(p.readOnly).toBeUndefined();
    expect(p.roles).toEqual([p.owner]);
    expect(p.databaseGrants).toEqual([{ role: 'PUBLIC', privileges: [] }]);
    expect(p.schemaGrants).toEqual([]);
    expect(p.gatewayPool).toEqual({ maxConns: 10, minConns: 2 });
    expect(p.kratosPool).toEqual({ maxConns: 10, maxIdleConns: 2 });
    expect(p.consumers).toEqual([
      { name: 'kratos', maxConnections: 10 },
      { name: 'gateway', maxConnections: 10 },
    ]);
  });

  test('the connection limit is kratos + gateway + every extra consumer', () => {
    const p = planInstance(
      {
        name: 'api',
        kratosPool: { maxConns: 5, maxIdleConns: 1 },
        gatewayPool: { maxConns: 4, minConns: 1 },
        extraConsumers: [
          { name: 'worker', maxConnections: 3 },
          { name: 'cron', maxConnections: 1 },
        ],
      },
      'vw_',
    );
    expect(p.owner.connectionLimit).toBe(13);
    expect(p.consumers.map((c) => c.name)).toEqual(['kratos', 'gateway', 'worker', 'cron']);
  });

  test.each([
    ['blog', '', 'blog'],
    ['blog', 'vw_', 'vw_blog'],
    ['my-app', 'vw_', 'vw_my_app'],
    ['a-b-c', 'x_', 'x_a_b_c'],
    ['app_2', '', 'app_2'],
  ])('instance %s with prefix %j gets database %s ("-" becomes "_")', (name, prefix, database) => {
    expect(planInstance({ name }, prefix).database).toBe(database);
  });

  test('an explicit database name is used as given', () => {
    expect(planInstance({ name: 'blog', database: 'blog_auth' }, 'vw_').database).toBe('blog_auth');
  });

  test('an explicit "honeyDue" database is rejected naming <field>.database and suggesting "honeydue"', () => {
    expectFieldError(() => planInstance({ name: 'honey', database: 'honeyDue' }, '', 'instances[0]'), 'instances[0].database', 'Use "honeydue"');
  });

  test('a derived database name that is reserved is rejected naming the name and the prefix', () => {
    expectFieldError(() => planInstance({ name: 'user' }, '', 'instances[0]'), 'instances[0].name (with namePrefix "")', 'reserved SQL key word');
    expectFieldError(() => planInstance({ name: 'blog' }, 'pg_', 'instances[0]'), 'instances[0].name (with namePrefix "pg_")', 'starting with "pg_"');
  });

  test.each<[string, Partial<InstanceSpec>, string]>([
    ['a gateway pool with min > max', { gatewayPool: { maxConns: 2, minConns: 3 } }, 'instance.gatewayPool.minConns'],
    ['a Kratos pool with max 0', { kratosPool: { maxConns: 0, maxIdleConns: 0 } }, 'instance.kratosPool.maxConns'],
    ['an unnamed extra consumer', { extraConsumers: [{ name: '', maxConnections: 1 }] }, 'instance.extraConsumers[0].name'],
    ['an extra consumer with 0 connections', { extraConsumers: [{ name: 'w', maxConnections: 0 }] }, 'instance.extraConsumers[0].maxConnections'],
    ['an unknown shape', { shape: 'admin' as RoleShape }, 'instance.shape'],
    ['readOnlyConnections 0 (least-privilege)', { shape: RoleShape.LeastPrivilege, readOnlyConnections: 0 }, 'instance.readOnlyConnections'],
  ])('%s is rejected naming %s', (_what, patch, field) => {
    expectFieldError(() => planInstance({ name: 'blog', ...patch }, 'vw_'), field);
  });
});

describe('planInstance: least-privilege shape (seed 004)', () => {
  const p = planInstance({ name: 'x', shape: RoleShape.LeastPrivilege }, 'vw_');

  test('three roles: vw_x_owner NOLOGIN without limit, vw_x LOGIN with the app limit, vw_x_ro LOGIN with 2', () => {
    expect(p.database).toBe('vw_x');
    expect(p.roles).toEqual([
      { name: 'vw_x_owner', purpose: RolePurpose.Owner, login: false, connectionLimit: -1 },
      { name: 'vw_x', purpose: RolePurpose.App, login: true, connectionLimit: 20 },
      { name: 'vw_x_ro', purpose: RolePurpose.ReadOnly, login: true, connectionLimit: 2 },
    ]);
    expect(p.owner.name).toBe('vw_x_owner');
    expect(p.login.name).toBe('vw_x');
    expect(p.readOnly?.name).toBe('vw_x_ro');
  });

  test('readOnlyConnections sets the read-only role\'s limit and is counted as a consumer', () => {
    const q = planInstance({ name: 'x', shape: RoleShape.LeastPrivilege, readOnlyConnections: 3 }, 'vw_');
    expect(q.readOnly?.connectionLimit).toBe(3);
    expect(q.consumers).toContainEqual({ name: 'read-only', maxConnections: 3 });
    expect(q.consumers.reduce((s, c) => s + c.maxConnections, 0)).toBe(23);
  });

  test('database grants: PUBLIC none, app CONNECT+TEMPORARY, read-only CONNECT; nobody gets CREATE', () => {
    expect(p.databaseGrants).toEqual([
      { role: 'PUBLIC', privileges: [] },
      { role: 'vw_x', privileges: ['CONNECT', 'TEMPORARY'] },
      { role: 'vw_x_ro', privileges: ['CONNECT'] },
    ]);
  });

  test('schema grants: the owner may create in public, others only USAGE; app read-write on tables and sequences, read-only SELECT, with default privileges', () => {
    const find = (role: string, type: SchemaObjectType) => p.schemaGrants.filter((g) => g.role === role && g.objectType === type);
    expect(find('vw_x', SchemaObjectType.Table)).toEqual([
      { schema: 'public', role: 'vw_x', objectType: SchemaObjectType.Table, privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], defaults: true },
    ]);
    expect(find('vw_x', SchemaObjectType.Sequence)[0]?.privileges).toEqual(['SELECT', 'USAGE']);
    expect(find('vw_x_ro', SchemaObjectType.Table)[0]).toMatchObject({ privileges: ['SELECT'], defaults: true });
    expect(find('vw_x_ro', SchemaObjectType.Sequence)[0]).toMatchObject({ privileges: ['SELECT'], defaults: true });
    for (const role of ['PUBLIC', 'vw_x', 'vw_x_ro']) {
      expect(find(role, SchemaObjectType.Schema)).toEqual([{ schema: 'public', role, objectType: SchemaObjectType.Schema, privileges: ['USAGE'], defaults: false }]);
    }
    // Migrations run as the owner; on PostgreSQL 14 schema public is the bootstrap superuser's.
    expect(find('vw_x_owner', SchemaObjectType.Schema)).toEqual([
      { schema: 'public', role: 'vw_x_owner', objectType: SchemaObjectType.Schema, privileges: ['USAGE', 'CREATE'], defaults: false },
    ]);
    for (const g of p.schemaGrants.filter((x) => x.role !== 'vw_x_owner')) expect(g.privileges).not.toContain('CREATE');
    expect(p.schemaGrants.filter((g) => g.role === 'vw_x_owner')).toHaveLength(1);
  });

  test('grantsLikePublic: what the shape gives the app and read-only roles in public, for another schema (migrate\'s restored schemas)', () => {
    const billing = grantsLikePublic(p.schemaGrants, 'billing', 'vw_x_owner');
    const inPublic = p.schemaGrants.filter((g) => g.role !== 'PUBLIC' && g.role !== 'vw_x_owner');
    // the same roles, kinds, privileges and defaults as in public, nothing for PUBLIC or the owner
    expect(billing.map((g) => ({ ...g, schema: 'public' })).sort((a, b) => `${a.role}${a.objectType}`.localeCompare(`${b.role}${b.objectType}`))).toEqual(
      [...inPublic].sort((a, b) => `${a.role}${a.objectType}`.localeCompare(`${b.role}${b.objectType}`)),
    );
    expect(billing.every((g) => g.schema === 'billing')).toBe(true);
    // USAGE on the schema comes first (the renderer grants it before the objects)
    expect(billing.slice(0, 2).map((g) => [g.role, g.objectType])).toEqual([['vw_x', 'schema'], ['vw_x_ro', 'schema']]);
    // the owner shape gives nothing outside the owner
    expect(grantsLikePublic(planInstance({ name: 'y' }, 'vw_').schemaGrants, 'billing', 'vw_y')).toEqual([]);
  });

  test('a database name that leaves no room for the "_owner" suffix is rejected naming the role', () => {
    const database = 'a'.repeat(60); // 60 + "_owner" = 66 bytes
    expectFieldError(
      () => planInstance({ name: 'x', database, shape: RoleShape.LeastPrivilege }, '', 'instances[0]'),
      `instances[0].database (role "${database}_owner")`,
      '66 bytes',
    );
  });
});

describe('validateInstanceName', () => {
  test.each(['a', 'blog', 'my-app', 'app_2', 'a'.repeat(40)])('%s is a valid instance name', (name) => {
    expect(() => validateInstanceName(name, 'instances[0].name')).not.toThrow();
  });

  test.each(['', 'Blog', '1blog', '-blog', '_blog', 'blog.x', 'blog x', 'a'.repeat(41), 'blög'])('%j is rejected naming the field', (name) => {
    expectFieldError(() => validateInstanceName(name, 'instances[0].name'), 'instances[0].name', 'not a valid instance name');
    expectFieldError(() => planInstance({ name }, 'vw_', 'instances[0]'), 'instances[0].name');
  });
});

describe('planServer', () => {
  test('plans every instance and returns the budget', () => {
    const plan = planServer(
      [
        { name: 'blog', gatewayPool: { maxConns: 5, minConns: 1 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } },
        { name: 'admin', shape: RoleShape.LeastPrivilege },
      ],
      CAPACITY,
      { namePrefix: 'vw_' },
    );
    expect(plan.instances.map((p) => p.database)).toEqual(['vw_blog', 'vw_admin']);
    expect(plan.budget.total).toBe(10 + 20 + 2); // read-only role counted
    expect(plan.budget.shares.map((s) => [s.instance, s.connections])).toEqual([
      ['blog', 10],
      ['admin', 22],
    ]);
    expect(plan.budget.headroom).toBe(97 - 32);
  });

  test('no instance at all is rejected naming "instances"', () => {
    expectFieldError(() => planServer([], CAPACITY), 'instances', 'no instance');
  });

  test.each(['VW_', 'vw-', 'vw ', '$', 'vw.'])('namePrefix %j is rejected naming "namePrefix"', (prefix) => {
    expectFieldError(() => planServer([{ name: 'blog' }], CAPACITY, { namePrefix: prefix }), 'namePrefix');
  });

  test('a prefix starting with a digit never yields a database (rejected one way or another)', () => {
    expect(() => planServer([{ name: 'blog' }], CAPACITY, { namePrefix: '1x' })).toThrow();
  });

  // BUG (src/core/plan.ts, planServer): the namePrefix check
  // /^[a-z_]?[a-z0-9_]*$/ makes the first character optional, so it is
  // effectively /^[a-z0-9_]*$/ and "1x" passes although the message promises
  // "starting with a letter or _". The prefix is only caught later, per
  // instance, as 'instances[0].name (with namePrefix "1x")'. Expected: a
  // ValidationError on "namePrefix".
  test('a prefix starting with a digit is rejected naming "namePrefix"', () => {
    expectFieldError(() => planServer([{ name: 'blog' }], CAPACITY, { namePrefix: '1x' }), 'namePrefix');
  });

  test('an invalid instance is reported with its index', () => {
    expectFieldError(() => planServer([{ name: 'blog' }, { name: 'Bad' }], CAPACITY), 'instances[1].name');
  });

  test('two instances with the same name are rejected', () => {
    expectFieldError(
      () => planServer([{ name: 'blog' }, { name: 'blog', database: 'blog2' }], CAPACITY),
      'instances[1].name',
      'instance "blog" is used by both instances[0] and instances[1]',
    );
  });

  test('"my-app" and "my_app" both default to database vw_my_app and are rejected as a duplicate database', () => {
    expectFieldError(
      () => planServer([{ name: 'my-app' }, { name: 'my_app' }], CAPACITY, { namePrefix: 'vw_' }),
      'instances[1].database',
      'database "vw_my_app" is used by both instance "my-app" and instance "my_app"',
    );
  });

  test('a role created by one instance and named like another instance\'s role is rejected as a duplicate role', () => {
    // "x" (least-privilege) creates roles x_owner, x, x_ro; database "x_ro" (owner shape) creates role x_ro.
    expectFieldError(
      () => planServer([{ name: 'a', database: 'x', shape: RoleShape.LeastPrivilege }, { name: 'b', database: 'x_ro' }], CAPACITY),
      'instances[1].database',
      'role "x_ro" is used by both instance "a" and instance "b"',
    );
  });

  test('an instance role named like the admin role is rejected', () => {
    expectFieldError(
      () => planServer([{ name: 'blog' }], CAPACITY, { namePrefix: 'vw_', adminUser: 'vw_blog' }),
      'instances[0].database',
      'role "vw_blog" would be the admin role itself',
    );
    expectFieldError(
      () => planServer([{ name: 'x', shape: RoleShape.LeastPrivilege }], CAPACITY, { namePrefix: 'vw_', adminUser: 'vw_x_ro' }),
      'instances[0].database',
      'vw_x_ro',
    );
  });

  test('an admin named differently from every role is fine', () => {
    expect(() => planServer([{ name: 'blog' }], CAPACITY, { namePrefix: 'vw_', adminUser: 'vibewarden_admin' })).not.toThrow();
  });

  test('ten default instances overrun max_connections 100: ConnectionBudgetError from planServer', () => {
    const specs = Array.from({ length: 10 }, (_, i) => ({ name: `app${i}` }));
    let error: unknown;
    try {
      planServer(specs, CAPACITY, { namePrefix: 'vw_' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectionBudgetError);
    const e = error as ConnectionBudgetError;
    expect(e.field).toBe('instances');
    expect(e.message).toContain('app0 20 (kratos 10 + gateway 10)');
    expect(e.message).toContain('At most 9 connections per instance fit');
  });
});

describe('the admin\'s own database (issue 7 item 9)', () => {
  test('an instance may not take adminDatabase', () => {
    expectFieldError(
      () => planServer([{ name: 'blog' }, { name: 'main', database: 'vw_main' }], CAPACITY, { namePrefix: 'vw_', adminDatabase: 'vw_main' }),
      'instances[1].database',
      'database "vw_main" is the admin\'s own database (adminDatabase)',
    );
    expect(() => planServer([{ name: 'blog' }], CAPACITY, { namePrefix: 'vw_', adminDatabase: 'vw_main' })).not.toThrow();
  });
});

describe('serverConsumers: what reaches the server', () => {
  const plan = planInstance({ name: 'blog', gatewayPool: { maxConns: 8, minConns: 1 }, kratosPool: { maxConns: 6, maxIdleConns: 1 }, extraConsumers: [{ name: 'worker', maxConnections: 2 }] });

  test('without a pooler or behind a session pooler: the clients\' own pools', () => {
    expect(serverConsumers(plan)).toEqual(plan.consumers);
    expect(serverConsumers(plan, { mode: PoolerMode.Session, serverPoolSize: 3 })).toEqual(plan.consumers);
  });

  test('behind a transaction pooler without a known server pool: the clients\' pools (conservative)', () => {
    expect(serverConsumers(plan, { mode: PoolerMode.Transaction })).toEqual(plan.consumers);
  });

  test('behind a transaction pooler: min(serverPoolSize, Kratos + gateway), extra consumers direct', () => {
    expect(serverConsumers(plan, { mode: PoolerMode.Transaction, serverPoolSize: 3 })).toEqual([
      { name: 'pooler', maxConnections: 3 },
      { name: 'worker', maxConnections: 2 },
    ]);
    expect(serverConsumers(plan, { mode: PoolerMode.Transaction, serverPoolSize: 50 })[0]).toEqual({ name: 'pooler', maxConnections: 14 });
  });
});

describe('ServerClaims: one registry per server', () => {
  const capacity = { maxConnections: 60, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 };
  const plans = (prefix: string, ...names: string[]) => planInstances(names.map((name) => ({ name })), { namePrefix: prefix });

  test('claims accumulate across components; a failed check records nothing', () => {
    const claims = new ServerClaims(capacity, { user: 'admin', database: 'postgres' });
    expect(claims.claim('a', plans('a_', 'blog'))).toMatchObject({ available: 50, total: 20, headroom: 30 });
    expect(claims.claim('b', plans('b_', 'blog'))).toMatchObject({ total: 40, headroom: 10 });
    expect(() => claims.claim('c', plans('c_', 'blog'))).toThrow(ConnectionBudgetError);
    expect(() => claims.claim('d', plans('a_', 'blog'))).toThrow(/database "a_blog" is already claimed on this server by a \(instance "blog"\)/);
    expect(claims.claimed.map((s) => s.instance)).toEqual(['a/blog', 'b/blog']);
    expect(claims.report()).toMatchObject({ total: 40, headroom: 10, perInstanceMaxThatFits: 10 });
  });

  test('the same component name twice is refused', () => {
    const claims = new ServerClaims(capacity, { user: 'admin' });
    claims.claim('a', plans('a_', 'blog'));
    expectFieldError(() => claims.claim('a', plans('x_', 'blog')), 'name', 'a component named "a" already provisions on this server');
  });

  test('the admin\'s role and database are refused', () => {
    const claims = new ServerClaims(capacity, { user: 'a_blog', database: 'ops' });
    expectFieldError(() => claims.check('a', plans('a_', 'blog')), 'instances[0].database', 'would be the admin role itself');
    expectFieldError(() => claims.check('b', plans('', 'ops'), ['instance']), 'instance.database', 'admin\'s own database');
  });

  test('capacity that leaves app roles nothing is refused up front', () => {
    expectFieldError(() => new ServerClaims({ maxConnections: 10, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 }, { user: 'a' }), 'server.maxConnections', 'leaves no slot');
  });

  test('property: claims succeed exactly while the running total fits, and never exceed available', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        const claims = new ServerClaims(capacity, { user: 'admin' });
        let total = 0;
        sizes.forEach((n, i) => {
          const plan = planInstance({ name: `i${i}`, gatewayPool: { maxConns: n, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } });
          const fits = total + n + 1 <= 50;
          if (fits) {
            claims.claim(`c${i}`, [plan]);
            total += n + 1;
          } else {
            expect(() => claims.claim(`c${i}`, [plan])).toThrow(ConnectionBudgetError);
          }
        });
        expect(claims.report().total).toBe(total);
        expect(total).toBeLessThanOrEqual(50);
      }),
    );
  });
});

describe('previousNames: an instance renamed without a new database', () => {
  test('carried into the plan; absent when none are given', () => {
    expect(planInstance({ name: 'journal', previousNames: ['blog'] }, 'vw_').previousNames).toEqual(['blog']);
    expect(planInstance({ name: 'journal' }, 'vw_')).not.toHaveProperty('previousNames');
    expect(planInstance({ name: 'journal', shape: RoleShape.LeastPrivilege, previousNames: ['blog', 'posts'] }, 'vw_').previousNames).toEqual(['blog', 'posts']);
  });

  test('each must be a valid instance name other than the current one, listed once', () => {
    expectFieldError(() => planInstance({ name: 'journal', previousNames: ['Blog'] }, 'vw_', 'instances[0]'), 'instances[0].previousNames[0]', 'not a valid instance name');
    expectFieldError(() => planInstance({ name: 'journal', previousNames: ['journal'] }, 'vw_', 'instances[0]'), 'instances[0].previousNames[0]', "the instance's current name");
    expectFieldError(() => planInstance({ name: 'journal', previousNames: ['blog', 'blog'] }, 'vw_', 'instances[0]'), 'instances[0].previousNames[1]', 'listed twice');
  });

  test('a previous name may not be another instance\'s name (two instances would claim one state)', () => {
    expectFieldError(() => planInstances([{ name: 'blog' }, { name: 'journal', previousNames: ['blog'] }]), 'instances[1].previousNames[0]', 'instance "blog" is used by both');
    expectFieldError(() => planInstances([{ name: 'journal', previousNames: ['blog'] }, { name: 'blog' }]), 'instances[1].name', 'instance "blog" is used by both');
  });
});
