/**
 * Cross-instance isolation on a real server (PostgreSQL 14, 16, 17, 18).
 *
 * Proves, with the real psql client:
 * - the primary seed's Strategy 3 SQL as written (CREATE ROLE … LOGIN;
 *   CREATE DATABASE … OWNER …) lets vw_blog log into vw_admin and create
 *   temporary tables there, because PostgreSQL grants CONNECT and TEMPORARY
 *   on every new database to PUBLIC — the hole the plan's PUBLIC revoke closes;
 * - our bootstrap, run over that existing seed deployment (same role and
 *   database names, api converted to the least-privilege shape), closes it:
 *   afterwards every instance's login roles connect to their own database and
 *   get "permission denied for database" on every other instance's database;
 * - in the least-privilege instance, the read-only role can SELECT a table
 *   the owner created (via an admin's SET ROLE vw_api_owner) but cannot
 *   INSERT/UPDATE/DELETE, create tables or temporary tables; the app role can
 *   INSERT (using the serial's sequence)/SELECT/UPDATE/DELETE but cannot create
 *   tables, alter or drop the owner's table, or SET ROLE to the owner.
 */
import { libpqUrl } from '../../src/core/dsn';
import { InstancePlan, RoleShape, planServer } from '../../src/core/plan';
import { LabServer } from '../../lab/server';
import { PsqlResult, psql, psqlOk } from '../../lab/psql';
import { ALL_VERSIONS, SERVER_TIMEOUT, asLogin, bootstrap, credentialsFor, describeFailure, loginRoles, useLabServer } from './support';

/** The primary seed's Strategy 3 SQL, verbatim but for the password placeholders. */
const SEED_SQL = `
CREATE ROLE vw_blog WITH LOGIN PASSWORD '<pw-blog>';
CREATE ROLE vw_admin WITH LOGIN PASSWORD '<pw-admin>';
CREATE ROLE vw_api WITH LOGIN PASSWORD '<pw-api>';
CREATE DATABASE vw_blog OWNER vw_blog;
CREATE DATABASE vw_admin OWNER vw_admin;
CREATE DATABASE vw_api OWNER vw_api;
`;

const plans: InstancePlan[] = planServer(
  [{ name: 'blog' }, { name: 'admin' }, { name: 'api', shape: RoleShape.LeastPrivilege }],
  { maxConnections: 100, reservedConnections: 3 },
  { namePrefix: 'vw_' },
).instances;
const creds = credentialsFor(plans);
const pw = (role: string): string => creds.passwords[role] as string;

describe.each(ALL_VERSIONS)('isolation on PostgreSQL %i', (version) => {
  let seedBlogIntoAdmin: PsqlResult | undefined;
  let bootstrapRun: PsqlResult | undefined;
  let ownerCreate: PsqlResult | undefined;
  const server = useLabServer(
    () => ({ version }),
    async (s: LabServer) => {
      const adminUrl = libpqUrl(s.admin());
      // The seed's deployment, with the passwords our plan will keep.
      const seedSql = SEED_SQL.replace(/<pw-(\w+)>/g, (_, name: string) => pw(`vw_${name}`).replace(/'/g, "''"));
      await psqlOk(adminUrl, seedSql);
      seedBlogIntoAdmin = await asLogin(
        s,
        'vw_admin',
        'vw_blog',
        pw('vw_blog'),
        'SELECT current_user, current_database(); CREATE TEMP TABLE intruder(x int); SELECT 1;',
      );
      // Our bootstrap over the seed's roles and databases.
      bootstrapRun = await bootstrap(adminUrl, plans, creds);
      // Can the least-privilege owner create tables (run migrations) as the plan leaves it?
      ownerCreate = await psql(libpqUrl(s.admin('vw_api')), 'SET ROLE vw_api_owner; CREATE TABLE owner_probe (x int);');
      // A table the least-privilege owner creates (migrations run as the owner).
      await psqlOk(
        libpqUrl(s.admin('vw_api')),
        [
          'SET ROLE vw_api_owner;',
          'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);',
          "INSERT INTO items (name) VALUES ('seeded');",
        ].join('\n'),
      );
    },
  );

  test('the seed SQL as written lets vw_blog connect to vw_admin (and create temp tables there)', () => {
    expect(seedBlogIntoAdmin).toBeDefined();
    const r = seedBlogIntoAdmin as PsqlResult;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('vw_blog|vw_admin');
  });

  test('the bootstrap over the seed deployment revokes PUBLIC and hands vw_api to its owner role', () => {
    const changes = bootstrapRun?.changes ?? [];
    for (const db of ['vw_blog', 'vw_admin', 'vw_api']) {
      expect(changes).toContain(`revoked CONNECT on database ${db} from PUBLIC`);
      expect(changes).toContain(`revoked TEMPORARY on database ${db} from PUBLIC`);
    }
    expect(changes).toContain('made vw_api_owner the owner of database vw_api');
    expect(changes).toEqual(expect.arrayContaining(['set the password of role vw_blog', 'created role vw_api_owner', 'created role vw_api_ro']));
  });

  // On PostgreSQL 14 schema public belongs to the bootstrap superuser: the plan grants the owner CREATE on it.
  test('the least-privilege owner role can create tables in schema public (migrations)', () => {
    expect(ownerCreate).toBeDefined();
    expect(describeFailure(ownerCreate as PsqlResult)).toBe('exit 0: ');
  });

  const logins = loginRoles(plans).map((r) => [r.name, plans.find((p) => p.roles.includes(r))!.database] as const);
  const databases = plans.map((p) => p.database);

  test.each(logins)(
    '%s connects to its own database %s and is refused by every other instance database',
    async (role, own) => {
      const s = server();
      const mine = await asLogin(s, own, role, pw(role), 'SELECT current_user, current_database();');
      expect(mine.code).toBe(0);
      expect(mine.stdout.trim()).toBe(`${role}|${own}`);
      for (const other of databases.filter((d) => d !== own)) {
        const r = await asLogin(s, other, role, pw(role), 'SELECT 1;');
        expect({ other, code: r.code }).toEqual({ other, code: 2 });
        expect(r.stderr).toContain(`permission denied for database "${other}"`);
      }
    },
    SERVER_TIMEOUT,
  );

  const expectDenied = (r: PsqlResult, message: string | RegExp): void => {
    expect(r.code).not.toBe(0);
    if (typeof message === 'string') expect(r.stderr).toContain(message);
    else expect(r.stderr).toMatch(message);
  };

  test(
    'the read-only role reads the owner\'s table and nothing more',
    async () => {
      const s = server();
      const ro = (sql: string): Promise<PsqlResult> => asLogin(s, 'vw_api', 'vw_api_ro', pw('vw_api_ro'), sql);
      const select = await ro('SELECT name FROM items ORDER BY id;');
      expect(select.code).toBe(0);
      expect(select.stdout.split('\n')).toContain('seeded');
      expectDenied(await ro("INSERT INTO items (name) VALUES ('ro');"), 'permission denied for table items');
      expectDenied(await ro("UPDATE items SET name = 'ro';"), 'permission denied for table items');
      expectDenied(await ro('DELETE FROM items;'), 'permission denied for table items');
      expectDenied(await ro('CREATE TABLE ro_table (x int);'), 'permission denied for schema public');
      expectDenied(await ro('CREATE TEMP TABLE ro_temp (x int);'), 'permission denied to create temporary tables in database "vw_api"');
      expectDenied(await ro("SELECT nextval('items_id_seq');"), 'permission denied for sequence items_id_seq');
    },
    SERVER_TIMEOUT,
  );

  test(
    'the app role reads and writes rows but cannot change the schema',
    async () => {
      const s = server();
      const app = (sql: string): Promise<PsqlResult> => asLogin(s, 'vw_api', 'vw_api', pw('vw_api'), sql);
      const dml = await app(
        [
          "INSERT INTO items (name) VALUES ('from-app') RETURNING name;",
          "UPDATE items SET name = 'updated-by-app' WHERE name = 'from-app' RETURNING name;",
          "SELECT count(*) FROM items WHERE name = 'updated-by-app';",
          "DELETE FROM items WHERE name = 'updated-by-app' RETURNING name;",
          'CREATE TEMP TABLE scratch (x int);',
        ].join('\n'),
      );
      expect(dml.code).toBe(0);
      expect(dml.stdout.split('\n').filter((l) => l && !/^(INSERT|UPDATE|DELETE|CREATE)/.test(l))).toEqual([
        'from-app',
        'updated-by-app',
        '1',
        'updated-by-app',
      ]);
      expectDenied(await app('CREATE TABLE app_table (x int);'), 'permission denied for schema public');
      expectDenied(await app('ALTER TABLE items ADD COLUMN extra int;'), 'must be owner of table items');
      expectDenied(await app('DROP TABLE items;'), 'must be owner of table items');
      expectDenied(await app('SET ROLE vw_api_owner;'), /permission denied to set role "vw_api_owner"/);
    },
    SERVER_TIMEOUT,
  );

  test(
    'the owner-shape login owns its database and can create tables there',
    async () => {
      const s = server();
      const r = await asLogin(s, 'vw_blog', 'vw_blog', pw('vw_blog'), 'CREATE TABLE posts (id int); SELECT tableowner FROM pg_tables WHERE tablename = \'posts\';');
      expect(describeFailure(r)).toMatch(/^exit 0/);
      expect(r.stdout.trim().split('\n').pop()).toBe('vw_blog');
    },
    SERVER_TIMEOUT,
  );
});
