/**
 * SharedPostgres under Pulumi's mock runtime: the resource graph per
 * instance, dependencies and destroy order, retain-on-delete, secrets, the
 * SCRAM verifier given to the provider, and the budget error raised before
 * any resource is registered.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks();

import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres } from '../../../src/provisioning/external';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { ConnectionBudgetError } from '../../../src/core/budget';
import { RoleShape } from '../../../src/core/plan';
import { isScramVerifier, verifyScramPassword } from '../../../src/core/scram';
import { SslMode } from '../../../src/core/tls';
import { RecordedResource } from '../../../lab/pulumi-mocks';
import { depsOf, reachable, unwrapSecret } from '../../support/graph';
import { TEST_CA_FILE } from '../../support/ca-file';

const external = new ExternalPostgres('db', {
  host: 'shared-db.example.com',
  adminUser: 'vw_root',
  adminPassword: pulumi.secret('admin-secret'),
  sslmode: SslMode.VerifyFull,
  sslrootcert: TEST_CA_FILE,
});

const shared = new SharedPostgres('shared', {
  server: external.handle,
  namePrefix: 'vw_',
  instances: [
    { name: 'blog', gatewayPool: { maxConns: 5, minConns: 1 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } },
    { name: 'admin', gatewayPool: { maxConns: 5, minConns: 1 }, kratosPool: { maxConns: 5, maxIdleConns: 1 } },
    { name: 'api', shape: RoleShape.LeastPrivilege },
  ],
});

beforeAll(async () => {
  await settled();
});

describe('resources of one instance (owner shape)', () => {
  test('blog gets a password, a SCRAM salt, a login role, a database and a PUBLIC revoke, parented to its component', () => {
    const names = rt.resources.filter((r) => r.name.startsWith('shared-blog')).map((r) => `${r.type}|${r.name}`);
    expect(names.sort()).toEqual(
      [
        'postgres-strategies:index:InstanceDatabase|shared-blog',
        'random:index/randomPassword:RandomPassword|shared-blog-owner-password',
        'random:index/randomBytes:RandomBytes|shared-blog-owner-scram-salt',
        'postgresql:index/role:Role|shared-blog-owner-role',
        'postgresql:index/database:Database|shared-blog-database',
        'postgresql:index/grant:Grant|shared-blog-revoke-public',
        'postgresql:index/grantRole:GrantRole|shared-blog-admin-membership',
      ].sort(),
    );
    for (const r of rt.resources.filter((x) => x.name.startsWith('shared-blog-'))) {
      expect(r.parent).toMatch(/::shared-blog$/);
    }
  });

  test('role and database are created through the admin provider of the server handle', () => {
    for (const name of ['shared-blog-owner-role', 'shared-blog-database', 'shared-blog-revoke-public']) {
      expect(rt.named(name).provider).toMatch(/pulumi:providers:postgresql::db-admin::/);
    }
  });

  test('the role logs in with a connection limit equal to the instance\'s pools (kratos 5 + gateway 5)', () => {
    const role = rt.named('shared-blog-owner-role').inputs;
    expect(role['name']).toBe('vw_blog');
    expect(role['login']).toBe(true);
    expect(role['connectionLimit']).toBe(10);
    expect(role['createDatabase']).toBe(false);
    expect(role['createRole']).toBe(false);
  });

  test('the database is owned by the role and depends on it, so destroy drops the database first', () => {
    const db = rt.named('shared-blog-database');
    expect(db.inputs['name']).toBe('vw_blog');
    expect(db.inputs['owner']).toBe('vw_blog');
    expect(depsOf(db)).toContain('shared-blog-owner-role');
  });

  test('PUBLIC loses CONNECT and TEMPORARY on the database (privileges [] on objectType database)', () => {
    const g = rt.named('shared-blog-revoke-public');
    expect(g.inputs).toMatchObject({ database: 'vw_blog', role: 'public', objectType: 'database', privileges: [] });
    expect(depsOf(g)).toContain('shared-blog-database');
  });

  test('the provider receives a SCRAM-SHA-256 verifier, as a secret, that verifies the generated password', async () => {
    const { secret, value } = unwrapSecret(rt.named('shared-blog-owner-role').inputs['password']);
    expect(secret).toBe(true);
    expect(isScramVerifier(String(value))).toBe(true);
    const password = await settle(shared.instances['blog']!.password);
    expect(String(value)).not.toContain(password.value as string);
    expect(verifyScramPassword(password.value as string, String(value))).toBe(true);
  });

  test('generated passwords are 32 letters and digits (no characters that need quoting in .env files)', async () => {
    expect(rt.named('shared-blog-owner-password').inputs).toMatchObject({ length: 32, special: false });
  });
});

describe('retention', () => {
  test('every resource on the server (roles, memberships, database, grants) is retained on delete by default', () => {
    const onServer = rt.resources.filter((r) => r.type.startsWith('postgresql:index/') && r.type !== 'pulumi:providers:postgresql');
    expect(onServer.length).toBeGreaterThan(20);
    expect(onServer.filter((r) => r.retainOnDelete !== true).map((r) => r.name)).toEqual([]);
  });
});

describe('admin provider lanes', () => {
  const onServer = (): RecordedResource[] => rt.resources.filter((r) => r.type.startsWith('postgresql:index/'));
  const names = (): Set<string> => new Set(onServer().map((r) => r.name));
  const providerDeps = (r: RecordedResource): string[] => depsOf(r).filter((d) => names().has(d));
  const instanceOf = (name: string): string => name.split('-')[1] as string;

  test('each instance\'s provider operations form one chain, and nothing depends on another instance', () => {
    const followed = new Map<string, number>();
    for (const r of onServer()) {
      const deps = providerDeps(r);
      expect(deps.filter((d) => instanceOf(d) !== instanceOf(r.name))).toEqual([]);
      // every dependency but the latest (e.g. the database a grant names) comes earlier in the same chain
      const p = deps.find((c) => deps.every((d) => d === c || reachable(rt.resources, c).has(d)));
      expect(deps.length === 0 || p !== undefined).toBe(true);
      if (p) followed.set(p, (followed.get(p) ?? 0) + 1);
    }
    expect([...followed.entries()].filter(([, n]) => n > 1)).toEqual([]);
    const heads = onServer().filter((r) => providerDeps(r).length === 0);
    expect(heads.map((h) => h.name).sort()).toEqual(['shared-admin-owner-role', 'shared-api-owner-role', 'shared-blog-owner-role']);
  });

  test('the default share of max_connections 100 (9) gives ⌊9 / 2⌋ = 4 lanes: the three instances start at once', () => {
    expect(external.handle.adminConnections).toBe(9);
    expect(external.handle.lanes.count).toBe(4);
  });
});

describe('least-privilege instance', () => {
  test('api gets an owner (NOLOGIN), an app role and a read-only role', () => {
    expect(rt.named('shared-api-owner-role').inputs).toMatchObject({ name: 'vw_api_owner', login: false });
    expect(rt.named('shared-api-app-role').inputs).toMatchObject({ name: 'vw_api', login: true, connectionLimit: 20 });
    expect(rt.named('shared-api-read-only-role').inputs).toMatchObject({ name: 'vw_api_ro', login: true, connectionLimit: 2 });
    expect(rt.named('shared-api-database').inputs['owner']).toBe('vw_api_owner');
  });

  test('grants within the database form one chain (no two grants run concurrently)', () => {
    const grants = rt.resources.filter(
      (r) => r.name.startsWith('shared-api-') && (r.type === 'postgresql:index/grant:Grant' || r.type === 'postgresql:index/defaultPrivileges:DefaultPrivileges'),
    );
    expect(grants.length).toBe(15);
    const grantNames = new Set(grants.map((g) => g.name));
    // Each grant depends on at most one other grant, and exactly one (the first) on none.
    const heads = grants.filter((g) => depsOf(g).filter((d) => grantNames.has(d)).length === 0);
    expect(heads.map((h) => h.name)).toEqual(['shared-api-revoke-public']);
    for (const g of grants) expect(depsOf(g).filter((d) => grantNames.has(d)).length).toBeLessThanOrEqual(1);
    // and the chain visits every grant
    const last = grants.find((g) => !grants.some((o) => depsOf(o).includes(g.name)))!;
    expect([...reachable(rt.resources, last.name)].filter((d) => grantNames.has(d)).length).toBe(14);
  });

  test('default privileges are set for objects the owner creates', () => {
    const d = rt.named('shared-api-app-table-defaults').inputs;
    expect(d).toMatchObject({ database: 'vw_api', owner: 'vw_api_owner', role: 'vw_api', schema: 'public', objectType: 'table', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] });
  });

  test('the read-only URL logs in as vw_api_ro', async () => {
    const ro = await settle(shared.instances['api']!.readOnlyUrl!);
    expect(ro.secret).toBe(true);
    expect(new URL(ro.value as string).username).toBe('vw_api_ro');
  });
});

describe('outputs', () => {
  test('every output that carries a password is a secret', async () => {
    const blog = shared.instances['blog']!;
    const outputs: Record<string, pulumi.Output<unknown>> = {
      password: blog.password,
      connection: blog.connection,
      url: blog.url,
      pgxUrl: blog.pgxUrl,
      kratosDsn: blog.kratosDsn,
      'env.kratos': blog.env.kratos,
      'env.gateway': blog.env.gateway,
      'env.databaseUrl': blog.env.databaseUrl,
      'env.libpq': blog.env.libpq,
      bootstrapSql: blog.bootstrapSql,
      pooledUrl: blog.pooledUrl,
      kratosMigrateDsn: blog.kratosMigrateDsn,
      'shared.urls': shared.urls,
      'shared.pooledUrls': shared.pooledUrls,
      'shared.kratosDsns': shared.kratosDsns,
      'shared.kratosMigrateDsns': shared.kratosMigrateDsns,
      'shared.bootstrapSql': shared.bootstrapSql,
    };
    for (const [name, output] of Object.entries(outputs)) {
      expect([name, await pulumi.isSecret(output)]).toEqual([name, true]);
    }
  });

  test('the libpq URL reaches the instance\'s own database with verify-full and the client CA path', async () => {
    const url = (await settle(shared.instances['admin']!.url)).value as string;
    const password = (await settle(shared.instances['admin']!.password)).value as string;
    const u = new URL(url);
    expect([u.hostname, u.port, u.pathname, u.username, decodeURIComponent(u.password)]).toEqual(['shared-db.example.com', '5432', '/vw_admin', 'vw_admin', password]);
    expect(url).toContain(`sslmode=verify-full&sslrootcert=${TEST_CA_FILE}`);
  });

  test('the Kratos DSN carries Kratos\' pool keys and never pool_min_conns', async () => {
    const dsn = (await settle(shared.instances['blog']!.kratosDsn)).value as string;
    expect(dsn).toContain('max_conns=5&max_idle_conns=1');
    expect(dsn).not.toContain('pool_');
    const env = (await settle(shared.instances['blog']!.env.kratos)).value!;
    expect(env.DSN).toBe(dsn);
  });

  test('the gateway env map has the seed\'s five variables', async () => {
    const env = (await settle(shared.instances['blog']!.env.gateway)).value!;
    expect(Object.keys(env).sort()).toEqual([
      'VIBEWARDEN_DATABASE_CONNECT_TIMEOUT',
      'VIBEWARDEN_DATABASE_EXTERNAL_URL',
      'VIBEWARDEN_DATABASE_POOL_MAX_CONNS',
      'VIBEWARDEN_DATABASE_POOL_MIN_CONNS',
      'VIBEWARDEN_DATABASE_TLS_MODE',
    ]);
    expect(env).toMatchObject({ VIBEWARDEN_DATABASE_TLS_MODE: 'verify-full', VIBEWARDEN_DATABASE_POOL_MAX_CONNS: '5', VIBEWARDEN_DATABASE_CONNECT_TIMEOUT: '10s' });
  });

  test('the budget is reported: 10 + 10 + 22 of 100 − 3 reserved − 9 admin − 3 maintenance = 85 connections', () => {
    expect(shared.budget).toMatchObject({ maxConnections: 100, reservedConnections: 3, adminConnections: 9, maintenanceConnections: 3, available: 85, total: 42, headroom: 43, claimed: [] });
    expect(shared.budget.shares.map((x) => [x.instance, x.connections])).toEqual([
      ['shared/blog', 10],
      ['shared/admin', 10],
      ['shared/api', 22],
    ]);
  });
});

describe('validation before anything is created', () => {
  test('an over-budget server throws ConnectionBudgetError and registers no resource', () => {
    const before = rt.resources.length;
    const instances = Array.from({ length: 10 }, (_, i) => ({ name: `app${i}` }));
    let error: unknown;
    try {
      new SharedPostgres('too-many', { server: external.handle, instances });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectionBudgetError);
    // What SharedPostgres "shared" claimed on the same handle counts too.
    expect((error as Error).message).toContain(
      '10 instances need 200 connections but the server allows 43 (max_connections 100 − 3 reserved − 9 admin (deploys: 4 instances at once) − 3 maintenance headroom − 42 already claimed on this server by shared/blog 10, shared/admin 10, shared/api 22)',
    );
    // the admin's default share is named as something to give back
    expect((error as Error).message).toContain('At most 4 connections per instance fit');
    expect((error as Error).message).toContain('or give the admin a smaller share (adminMaxConnections: 4 deploys 2 instances at once)');
    expect(rt.resources.length).toBe(before);
  });

  test('two instances with the same database name are rejected before any resource', () => {
    const before = rt.resources.length;
    expect(() => new SharedPostgres('dup', { server: external.handle, instances: [{ name: 'a', database: 'same_db' }, { name: 'b', database: 'same_db' }] })).toThrow(
      /database "same_db" is used by both instance "a" and instance "b"/,
    );
    expect(rt.resources.length).toBe(before);
  });

  test('a case-folded database name is rejected with the fix', () => {
    expect(() => new SharedPostgres('fold', { server: external.handle, instances: [{ name: 'x', database: 'honeyDue' }] })).toThrow(/Use "honeydue"/);
  });

  test('an instance role named like the admin is rejected', () => {
    expect(() => new SharedPostgres('clash', { server: external.handle, instances: [{ name: 'root' }], namePrefix: 'vw_' })).toThrow(/would be the admin role itself/);
  });
});
