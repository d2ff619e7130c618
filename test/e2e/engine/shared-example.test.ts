/**
 * examples/shared on the real Pulumi engine (the CLI, the Node.js language
 * host and the postgresql/random plugins `npm run engine` builds), run the
 * way its README tells a user: `pulumi stack init`, `pulumi config set …`,
 * `pulumi up` in examples/shared, against an embedded PostgreSQL 17 with TLS
 * verify-full. Once with the server's superuser as admin (the owner shape),
 * once with a CREATEDB CREATEROLE admin with a URL-hostile password (what
 * RDS, Neon and Supabase give) and an instance in seed 004's least-privilege
 * shape.
 *
 * Issue 12's scenarios 1, 2, 3, 5, 6, 7 and the provider hazards of 9:
 * - `up` creates everything; every instance's libpq URL (psql), pgx URL and
 *   gateway env (the real pgx) and Kratos DSN (the real Kratos: `kratos
 *   migrate sql -e --yes`) from the stack outputs log in with verify-full;
 *   no instance reaches another's database;
 * - a second `preview` shows no change and `refresh` finds no drift; drift
 *   made by hand (a role's password, a re-granted CONNECT, a revoked grant)
 *   is found by `refresh` and repaired by `up`; a GrantRole membership
 *   survives refresh + up (#131); no perpetual diff of Grant or
 *   DefaultPrivileges (#72);
 * - adding an instance creates exactly its resources; removing one deletes
 *   nothing on the server and the preview says `delete[retain]`;
 * - `destroy` leaves every database with its data, owner and grants; with
 *   `allowDeletion` they are gone;
 * - no plain password anywhere in the checkpoint or the stack's config file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExampleStack } from '../../../lab/engine';
import { KRATOS_CONSUMER, PGX_CONSUMER, buildGoConsumer } from '../../../lab/go-consumers';
import { withPg } from '../../../lab/inspect';
import { psql } from '../../../lab/psql';
import { run } from '../../../lab/run';
import { LabServer } from '../../../lab/server';
import { libpqUrl } from '../../../src/core/dsn';
import { KRATOS_MIGRATE_COMMAND } from '../../../src/core/kratos';
import {
  ENGINE_BUILD_TIMEOUT,
  STEP_TIMEOUT,
  StackAdmin,
  changes,
  createDeployer,
  instancesConfig,
  newStack,
  serverObjects,
  sharedConfig,
  superuserAdmin,
  useEngine,
  useTlsServer,
} from './support';

jest.setTimeout(STEP_TIMEOUT);

let pgxBinary = '';
let kratosBinary = '';
beforeAll(async () => {
  pgxBinary = await buildGoConsumer(PGX_CONSUMER);
  kratosBinary = await buildGoConsumer(KRATOS_CONSUMER);
}, ENGINE_BUILD_TIMEOUT);

type Outputs = {
  urls: Record<string, string>;
  pooledUrls: Record<string, string>;
  pgxUrls: Record<string, string>;
  gatewayEnvs: Record<string, Record<string, string>>;
  kratosDsns: Record<string, string>;
  kratosMigrateDsns: Record<string, string>;
  bootstrapSql: string;
};

/** The URL with another database in its path. */
function onDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** psql as the URL's role: who, where, over TLS? */
async function whoAmI(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return psql(url, "SELECT current_user || ' ' || current_database() || ' ' || (SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid());");
}

/** Runs the real pgx (pgxpool.ParseConfig + one query through the pool). */
async function pgx(args: string[], env: Record<string, string> = {}): Promise<{ code: number; json: { query?: { current_user: string; current_database: string; ssl: boolean } }; out: string }> {
  const r = await run(pgxBinary, args, { env: { PATH: process.env['PATH'] ?? '', ...env } });
  let json = {};
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // left empty: the assertion on `code` says what happened
  }
  return { code: r.code, json, out: `${r.stdout}\n${r.stderr}` };
}

/** `kratos migrate sql -e --yes` with DSN = `dsn` (Kratos' own pgx, its own DSN rules). */
async function kratosMigrate(dsn: string): Promise<{ code: number; out: string }> {
  const r = await run(kratosBinary, [...KRATOS_MIGRATE_COMMAND], { env: { PATH: process.env['PATH'] ?? '', HOME: '/tmp', DSN: dsn, LOG_LEVEL: 'info' } });
  return { code: r.code, out: `${r.stdout}\n${r.stderr}` };
}

/**
 * The whole life of one stack of examples/shared: up, use, drift, grow,
 * shrink, destroy. `instances` is examples/shared's `instances` config.
 */
function stackLife(
  label: string,
  adminIsSuperuser: boolean,
  adminOf: (server: LabServer) => Promise<StackAdmin>,
  instances: Array<Record<string, unknown>>,
  kratosInstances: string[],
): void {
  describe(label, () => {
    const sandbox = useEngine();
    const server = useTlsServer();
    let admin: StackAdmin;
    let stack: ExampleStack;
    let out: Outputs;
    const names = instances.map((i) => i['name'] as string);
    const databaseOf = (name: string): string => new URL(out.urls[name] as string).pathname.slice(1);
    /** The admin's own libpq URL (verify-full), for the documented psql repairs. */
    const adminUrl = (): string => libpqUrl({ ...server().admin(), user: admin.user, password: admin.password });

    beforeAll(async () => {
      admin = await adminOf(server());
      // exportBootstrapSql: the documented repair below runs the stack's bootstrap script
      stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin, { namePrefix: 'vw_', instances: instancesConfig(instances), exportBootstrapSql: 'true' }));
    }, STEP_TIMEOUT);
    afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

    test('pulumi up creates every instance; the outputs are secret in the CLI\'s listing', async () => {
      await stack.up();
      out = (await stack.outputs()) as unknown as Outputs;
      expect(Object.keys(out.urls).sort()).toEqual([...names].sort());
      const listing = (await stack.must(['stack', 'output'])).stdout;
      for (const key of ['urls', 'pgxUrls', 'gatewayEnvs', 'kratosDsns', 'kratosMigrateDsns', 'bootstrapSql']) expect(listing).toMatch(new RegExp(`${key}\\s+\\[secret\\]`));
    });

    test('every libpq URL logs in with verify-full (psql) as its own role, in its own database', async () => {
      for (const name of names) {
        const url = out.urls[name] as string;
        expect(new URL(url).searchParams.get('sslmode')).toBe('verify-full');
        const r = await whoAmI(url);
        expect(r.stderr).toBe('');
        expect(r.stdout.trim()).toBe(`${decodeURIComponent(new URL(url).username)} ${databaseOf(name)} true`);
      }
    });

    test('no instance reaches another\'s database (PUBLIC has no CONNECT)', async () => {
      for (const name of names) {
        for (const other of names.filter((n) => n !== name)) {
          const r = await whoAmI(onDatabase(out.urls[name] as string, databaseOf(other)));
          expect(r.code).not.toBe(0);
          expect(r.stderr).toMatch(/permission denied for database/);
        }
      }
    });

    test('every pgx URL and gateway env map logs in through the real pgx with verify-full', async () => {
      for (const name of names) {
        const viaUrl = await pgx(['-url', out.pgxUrls[name] as string]);
        expect({ code: viaUrl.code, out: viaUrl.code === 0 ? '' : viaUrl.out }).toEqual({ code: 0, out: '' });
        expect(viaUrl.json.query).toMatchObject({ current_database: databaseOf(name), ssl: true });
        const viaEnv = await pgx(['-env'], out.gatewayEnvs[name] as Record<string, string>);
        expect(viaEnv.code).toBe(0);
        expect(viaEnv.json.query).toMatchObject({ current_database: databaseOf(name), ssl: true });
      }
    });

    test('every Kratos DSN migrates through the real Kratos (owner shape), twice: the second run is a no-op', async () => {
      for (const name of kratosInstances) {
        const first = await kratosMigrate(out.kratosMigrateDsns[name] as string);
        expect({ code: first.code, tail: first.code === 0 ? '' : first.out.slice(-2000) }).toEqual({ code: 0, tail: '' });
        const again = await kratosMigrate(out.kratosDsns[name] as string);
        expect({ code: again.code, tail: again.code === 0 ? '' : again.out.slice(-2000) }).toEqual({ code: 0, tail: '' });
      }
      // Kratos' tables belong to the instance's login role: the app owns its schema.
      const name = kratosInstances[0] as string;
      const owner = await withPg(server().admin(databaseOf(name)), async (c) => (await c.query<{ o: string }>("SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'identities'")).rows[0]?.o);
      expect(owner).toBe(decodeURIComponent(new URL(out.urls[name] as string).username));
    });

    test('a second preview changes nothing and refresh finds no drift', async () => {
      expect((await stack.run(['preview', '--expect-no-changes'])).code).toBe(0);
      const refresh = await stack.run(['refresh', '--yes', '--expect-no-changes']);
      expect({ code: refresh.code, out: refresh.code === 0 ? '' : refresh.stdout.slice(-3000) }).toEqual({ code: 0, out: '' });
    });

    test('drift made by hand is found by refresh and repaired by up', async () => {
      const first = names[0] as string;
      const role = decodeURIComponent(new URL(out.urls[first] as string).username);
      const db = databaseOf(first);
      const lp = instances.find((i) => i['shape'] === 'least-privilege')?.['name'] as string | undefined;
      const expected: string[] = [`update shared-${first}-revoke-public`];
      await withPg(server().admin(), async (c) => {
        // the revoke of PUBLIC's CONNECT undone: every role could connect again
        await c.query(`GRANT CONNECT ON DATABASE "${db}" TO PUBLIC`);
        if (admin.superuser) {
          // a superuser provider reads pg_authid: a changed password is drift
          await c.query(`ALTER ROLE "${role}" PASSWORD 'changed-by-hand'`);
          expected.push(`update shared-${first}-owner-role`);
        }
        if (lp) {
          // a grant of the least-privilege app role, revoked
          await c.query(`REVOKE CONNECT ON DATABASE "vw_${lp}" FROM "vw_${lp}"`);
          expected.push(`update shared-${lp}-app-database-grant`);
        }
      });
      const refresh = await stack.run(['refresh', '--yes', '--expect-no-changes']);
      expect(refresh.code).not.toBe(0); // drift found
      const preview = changes(await stack.preview());
      expect(preview.map((c) => `${c.op} ${c.name}`).sort()).toEqual(expected.sort());
      await stack.up();
      expect((await whoAmI(out.urls[first] as string)).stdout.trim()).toBe(`${role} ${db} true`);
      const other = names[1] as string;
      expect((await whoAmI(onDatabase(out.urls[other] as string, db))).stderr).toMatch(/permission denied for database/);
      if (lp) expect((await whoAmI(out.urls[lp] as string)).stdout.trim()).toBe(`vw_${lp} vw_${lp} true`);
      expect((await stack.run(['preview', '--expect-no-changes'])).code).toBe(0);
    });

    if (!adminIsSuperuser) {
      test('a password changed by hand is invisible to a non-superuser admin (pg_authid is not readable): documented, not repaired', async () => {
        const first = names[0] as string;
        const role = decodeURIComponent(new URL(out.urls[first] as string).username);
        await withPg(server().admin(), async (c) => c.query(`ALTER ROLE "${role}" PASSWORD 'changed-by-hand'`));
        expect((await stack.run(['refresh', '--yes', '--expect-no-changes'])).code).toBe(0);
        expect((await whoAmI(out.urls[first] as string)).code).not.toBe(0);
        // the documented repair: put the stack's verifier back with the bootstrap script
        await psql(adminUrl(), out.bootstrapSql);
        expect((await whoAmI(out.urls[first] as string)).stdout.trim()).toBe(`${role} ${databaseOf(first)} true`);
      });

      test('PostgreSQL 16+: the admin\'s own membership revoked by hand makes refresh fail on the database it can no longer enter; `up --replace` of the GrantRole repairs it', async () => {
        const first = names[0] as string;
        const role = decodeURIComponent(new URL(out.urls[first] as string).username);
        const memberships = (): Promise<string[]> =>
          withPg(server().admin(), async (c) =>
            (
              await c.query<{ g: string; set: boolean }>(
                'SELECT pg_get_userbyid(grantor) AS g, set_option AS set FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole ORDER BY 1',
                [`"${role}"`, `"${admin.user}"`],
              )
            ).rows.map((r) => `${r.g}${r.set ? ' SET' : ''}`),
          );
        expect(await memberships()).toEqual([`${admin.user} SET`, server().superuser].sort());
        await withPg(server().admin(), async (c) => c.query(`REVOKE "${role}" FROM "${admin.user}" GRANTED BY "${admin.user}"`));
        expect(await memberships()).toEqual([server().superuser]);
        // The provider reads the automatic ADMIN row (the GrantRole looks unchanged), but the admin can
        // no longer connect to the database to read its grants: refresh fails and says why.
        const refresh = await stack.run(['refresh', '--yes']);
        expect(refresh.code).not.toBe(0);
        expect(refresh.stdout).toMatch(new RegExp(`permission denied for database "${databaseOf(first)}"`));
        const urn = (await stack.must(['stack', '--show-urns'])).stdout.split('\n').map((l) => l.match(/URN: (\S+)/)?.[1]).find((u) => u?.endsWith(`::shared-${first}-admin-membership`));
        expect(urn).toBeDefined();
        await stack.up(['--replace', urn as string]);
        expect(await memberships()).toEqual([`${admin.user} SET`, server().superuser].sort());
        expect((await stack.run(['refresh', '--yes', '--expect-no-changes'])).code).toBe(0);
        expect((await stack.run(['preview', '--expect-no-changes'])).code).toBe(0);
      });
    }

    test('a changed pool updates the owner Role; refresh + up twice keeps the admin\'s GrantRole membership (#131), no perpetual diff (#72)', async () => {
      // #131: an update of a Role whose `roles` is unset revoked the memberships GrantRole made
      const grown = instances.map((i, k) => (k === 0 ? { ...i, gatewayPool: { maxConns: 7, minConns: 1 } } : i));
      await stack.config({ instances: instancesConfig(grown) });
      const preview = changes(await stack.preview());
      expect(preview.filter((c) => c.type !== 'pulumi:pulumi:Stack').map((c) => `${c.op} ${c.name}`)).toEqual([`update shared-${names[0]}-owner-role`]);
      await stack.must(['refresh', '--yes']);
      await stack.up();
      const limit = await withPg(server().admin(), async (c) => (await c.query<{ l: number }>('SELECT rolconnlimit AS l FROM pg_roles WHERE rolname = $1', [`vw_${names[0]}`])).rows[0]?.l);
      expect(limit).toBe(7 + 10); // the gateway's 7 + Kratos' default 10
      const second = await stack.run(['up', '--yes', '--expect-no-changes']);
      expect({ code: second.code, out: second.code === 0 ? '' : second.stdout.slice(-3000) }).toEqual({ code: 0, out: '' });
      if (!admin.superuser) {
        // ours: granted by the admin itself (PostgreSQL 16+ adds an automatic ADMIN row per role the admin created)
        const members = await withPg(server().admin(), async (c) =>
          (
            await c.query<{ r: string }>(
              "SELECT r.rolname AS r FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND m.grantor = u.oid AND r.rolname LIKE 'vw\\_%' ORDER BY 1",
              [admin.user],
            )
          ).rows
            .map((x) => x.r)
            .sort(),
        );
        // the owner role of every instance (vw_<name>, or vw_<name>_owner in the least-privilege shape)
        expect(members).toEqual(instances.map((i) => (i['shape'] === 'least-privilege' ? `vw_${i['name']}_owner` : `vw_${i['name']}`)).sort());
      }
      // back to the pools the later tests start from
      await stack.config({ instances: instancesConfig(instances) });
      await stack.up();
    });

    test('adding an instance creates exactly its resources and touches nothing else', async () => {
      await stack.config({ instances: instancesConfig([...instances, { name: 'extra' }]) });
      const preview = changes(await stack.preview());
      const others = preview.filter((c) => !c.name.startsWith('shared-extra'));
      // the stack's own outputs change (a new URL); no resource of another instance does
      expect(others.filter((c) => c.type !== 'pulumi:pulumi:Stack')).toEqual([]);
      const mine = preview.filter((c) => c.name.startsWith('shared-extra'));
      expect(mine.every((c) => c.op === 'create')).toBe(true);
      expect(mine.map((c) => c.type).sort()).toEqual(
        [
          'postgres-strategies:index:InstanceDatabase',
          'random:index/randomPassword:RandomPassword',
          'random:index/randomBytes:RandomBytes',
          'postgresql:index/role:Role',
          'postgresql:index/database:Database',
          'postgresql:index/grant:Grant',
          ...(admin.superuser ? [] : ['postgresql:index/grantRole:GrantRole']),
        ].sort(),
      );
      await stack.up();
      out = (await stack.outputs()) as unknown as Outputs;
      expect((await whoAmI(out.urls['extra'] as string)).stdout.trim()).toBe('vw_extra vw_extra true');
    });

    test('removing an instance deletes nothing on the server: the preview says delete[retain], data and logins stay', async () => {
      await psql(out.urls['extra'] as string, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'still here\');');
      await stack.config({ instances: instancesConfig(instances) });
      const preview = changes(await stack.preview());
      const onServer = preview.filter((c) => c.type.startsWith('postgresql:'));
      // role, database, PUBLIC revoke (+ the admin's membership under a non-superuser admin)
      expect(onServer.length).toBe(admin.superuser ? 3 : 4);
      expect(onServer.every((c) => c.op === 'delete' && c.retain)).toBe(true);
      const human = await stack.must(['preview']);
      expect(human.stdout).toMatch(/postgresql:index:Database\s+shared-extra-database\s+delete\[retain\]/);
      await stack.up();
      // the login still works with its password, on its database, with its data
      expect((await psql(out.urls['extra'] as string, 'SELECT v FROM kept')).stdout.trim()).toBe('still here');
      expect((await stack.run(['preview', '--expect-no-changes'])).code).toBe(0);
    });

    test('no plain password in the checkpoint or the stack\'s config file', async () => {
      const state = await stack.exportState();
      const config = readFileSync(join(stack.dir, `Pulumi.${stack.stack}.yaml`), 'utf8');
      const passwords = [admin.password, ...Object.values(out.urls).map((u) => decodeURIComponent(new URL(u).password))];
      for (const p of passwords) {
        expect(p.length).toBeGreaterThan(8);
        expect(state).not.toContain(p);
        expect(state).not.toContain(encodeURIComponent(p));
        expect(config).not.toContain(p);
      }
      // the secrets are there, encrypted
      expect(state).toContain('"ciphertext"');
    });

    test('the components keep only names in the state (the checkpoint does not grow with their secret outputs)', async () => {
      const resources = (JSON.parse(await stack.exportState()) as { deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] } })
        .deployment.resources;
      const instances = resources.filter((r) => r.type === 'postgres-strategies:index:InstanceDatabase');
      expect(instances.length).toBeGreaterThanOrEqual(2);
      for (const r of instances) expect(Object.keys(r.outputs ?? {}).sort()).toEqual(['database', 'user']);
      const shared = resources.filter((r) => r.type === 'postgres-strategies:index:SharedPostgres');
      expect(shared).toHaveLength(1);
      expect(shared[0]?.outputs ?? {}).toEqual({});
    });

    test('destroy leaves every database with its data, its owner and its logins', async () => {
      const first = names[0] as string;
      await psql(out.urls[first] as string, 'CREATE TABLE survives (v int); INSERT INTO survives VALUES (42);');
      const before = await serverObjects(server(), 'vw_');
      await stack.must(['destroy', '--yes', '--skip-preview']);
      const after = await serverObjects(server(), 'vw_');
      expect(after).toEqual(before);
      expect(Object.keys(after.databases)).toEqual(expect.arrayContaining(names.map((n) => databaseOf(n))));
      // owned by the instance's owner role, never by the admin (no REASSIGN OWNED ran)
      for (const owner of Object.values(after.databases)) expect(owner).not.toBe(admin.user);
      expect((await psql(out.urls[first] as string, 'SELECT v FROM survives')).stdout.trim()).toBe('42');
      const tableOwner = await withPg(server().admin(databaseOf(first)), async (c) => (await c.query("SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'survives'")).rows[0].o);
      expect(tableOwner).toBe(decodeURIComponent(new URL(out.urls[first] as string).username));
      // the admin → owner memberships are retained too: the admin can still reach what it created
      for (const owner of Object.values(after.databases)) {
        const member = await withPg(server().admin(), async (c) => (await c.query('SELECT pg_has_role($1, $2, $3) AS m', [admin.user, owner, 'USAGE'])).rows[0].m);
        expect(member).toBe(true);
      }
    });
  });
}

stackLife('superuser admin, owner shape (the seed\'s blog, admin, api)', true, async (server) => superuserAdmin(server), [{ name: 'blog' }, { name: 'admin' }, { name: 'api' }], ['blog', 'admin']);

stackLife(
  'CREATEDB CREATEROLE admin with a URL-hostile password, owner and least-privilege shapes',
  false,
  (server) => createDeployer(server),
  [{ name: 'blog' }, { name: 'api', shape: 'least-privilege' }],
  ['blog'],
);

describe('allowDeletion: destroy drops what the stack created, and nothing else', () => {
  const sandbox = useEngine();
  const server = useTlsServer();
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('with allowDeletion, destroy removes the databases and roles', async () => {
    const admin = await createDeployer(server());
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin, { namePrefix: 'gone_', allowDeletion: 'true', instances: instancesConfig([{ name: 'a' }, { name: 'b', shape: 'least-privilege' }]) }));
    await stack.up();
    expect(Object.keys((await serverObjects(server(), 'gone_')).databases)).toEqual(['gone_a', 'gone_b']);
    await stack.must(['destroy', '--yes', '--skip-preview']);
    expect(await serverObjects(server(), 'gone_')).toEqual({ databases: {}, roles: [] });
  });
});
