/**
 * Bootstrap idempotence on a real server (PostgreSQL 14, 16, 17, 18).
 *
 * Proves that the psql script rendered by `renderBootstrapSql` for the
 * primary seed's Strategy 3 instances (blog and admin in the owner shape,
 * api in the least-privilege shape, namePrefix "vw_"):
 * - runs cleanly with the real psql client and creates every role and
 *   database of the plan, with the plan's owners, connection limits and
 *   SCRAM verifiers, and PUBLIC stripped of CONNECT/TEMPORARY;
 * - run a second time reports zero changes and leaves the catalogs
 *   (pg_authid, pg_auth_members, pg_database, schema/default/table ACLs, read
 *   by `catalogSnapshot`) exactly as they were;
 * - repairs drift (a changed role, a re-granted PUBLIC CONNECT, a changed
 *   password, a revoked default privilege) and then matches the first snapshot;
 * - does the same as a non-superuser admin made like the RDS/Neon/Supabase
 *   admins (`CREATE ROLE … LOGIN CREATEDB CREATEROLE`), which on 16+ exercises
 *   PostgreSQL 16's rule that creating a database owned by another role needs
 *   SET on that role. On 14 the one thing such an admin cannot do (revoke
 *   PUBLIC's CREATE on the superuser-owned schema public) is reported as a
 *   WARNING on every run, never as a change;
 * - and, as that admin, ends in the same catalog state as the Pulumi path:
 *   after the provider's revoke of its temporary membership (which leaves
 *   the admin unable even to connect to the instance databases), the
 *   statement InstanceDatabase's GrantRole runs restores exactly the
 *   script's pg_auth_members rows, and the admin can act as the owner again.
 */
import { ConnectionDescription, libpqUrl } from '../../src/core/dsn';
import { quoteIdent } from '../../src/core/identifiers';
import { InstancePlan, RoleShape, planServer } from '../../src/core/plan';
import { catalogSnapshot, withPg } from '../../lab/inspect';
import { psql, psqlOk } from '../../lab/psql';
import { ALL_VERSIONS, SERVER_TIMEOUT, asLogin, bootstrap, credentialsFor, roleNames, useLabServer } from './support';

function planFor(namePrefix: string): InstancePlan[] {
  return planServer(
    [{ name: 'blog' }, { name: 'admin' }, { name: 'api', shape: RoleShape.LeastPrivilege }],
    { maxConnections: 100, reservedConnections: 3 },
    { namePrefix },
  ).instances;
}

/** The change notices a fresh bootstrap must report at least. */
function expectedFirstRunChanges(plans: InstancePlan[]): string[] {
  return plans.flatMap((p) => [
    ...p.roles.map((r) => `created role ${r.name}`),
    `creating database ${p.database} owned by ${p.owner.name}`,
    `revoked CONNECT on database ${p.database} from PUBLIC`,
    `revoked TEMPORARY on database ${p.database} from PUBLIC`,
  ]);
}

describe.each(ALL_VERSIONS)('bootstrap on PostgreSQL %i', (version) => {
  const server = useLabServer(() => ({ version }));

  test(
    'as superuser: first run creates the plan, second run changes nothing, drift is repaired',
    async () => {
      const s = server();
      const plans = planFor('vw_');
      const creds = credentialsFor(plans);
      const adminUrl = libpqUrl(s.admin());
      const scope = { roles: roleNames(plans), databases: plans.map((p) => p.database) };

      const before = await catalogSnapshot(s.admin(), scope);
      expect(Object.values(before.roles).every((r) => r === null)).toBe(true);

      const first = await bootstrap(adminUrl, plans, creds);
      expect(first.changes).toEqual(expect.arrayContaining(expectedFirstRunChanges(plans)));
      expect(first.warnings).toEqual([]);
      const snap1 = await catalogSnapshot(s.admin(), scope);

      // The snapshot describes what the plan asked for (so its equality below is not vacuous).
      for (const p of plans) {
        for (const r of p.roles) {
          const role = snap1.roles[r.name];
          expect(role).toMatchObject({ rolcanlogin: r.login, rolconnlimit: r.connectionLimit, rolsuper: false, rolcreatedb: false, rolcreaterole: false });
          expect(role?.rolpassword).toBe(r.login ? creds.verifiers[r.name] : null);
        }
        const db = snap1.databases[p.database];
        expect(db?.owner).toBe(p.owner.name);
        // No ACL entry for PUBLIC ("=..." items) on any instance database.
        expect(db?.datacl).not.toBeNull();
        expect(db?.datacl).not.toMatch(/[{,]=/);
      }
      const api = snap1.databases['vw_api'];
      expect(api?.defaultAcls.map((d) => `${d.role}/${d.objtype}:${d.acl}`)).toEqual([
        'vw_api_owner/S:{vw_api=rU/vw_api_owner,vw_api_ro=r/vw_api_owner}',
        'vw_api_owner/r:{vw_api=arwd/vw_api_owner,vw_api_ro=r/vw_api_owner}',
      ]);
      // PUBLIC keeps USAGE but never CREATE on schema public (on 14 the script revoked it).
      expect(api?.publicSchema?.nspacl).toMatch(/(^|[{,])=U\//);
      expect(api?.publicSchema?.nspacl).not.toMatch(/(^|[{,])=U?C/);

      const second = await bootstrap(adminUrl, plans, creds);
      expect(second.changes).toEqual([]);
      expect(second.warnings).toEqual([]);
      expect(await catalogSnapshot(s.admin(), scope)).toEqual(snap1);

      // Drift: each change below is undone by the next run, which reports exactly it.
      await psqlOk(
        adminUrl,
        [
          'ALTER ROLE vw_blog CONNECTION LIMIT 1 CREATEDB;',
          'GRANT CONNECT ON DATABASE vw_admin TO PUBLIC;',
          "ALTER ROLE vw_api_ro PASSWORD 'changed-by-hand';",
          '\\connect vw_api',
          'ALTER DEFAULT PRIVILEGES FOR ROLE vw_api_owner IN SCHEMA public REVOKE SELECT ON TABLES FROM vw_api_ro;',
        ].join('\n'),
      );
      const drifted = await catalogSnapshot(s.admin(), scope);
      expect(drifted).not.toEqual(snap1);
      const repair = await bootstrap(adminUrl, plans, creds);
      expect([...repair.changes].sort()).toEqual(
        [
          'altered role vw_blog',
          'revoked CONNECT on database vw_admin from PUBLIC',
          'set the password of role vw_api_ro',
          'set default privileges SELECT on tables in schema public for vw_api_ro',
        ].sort(),
      );
      expect(await catalogSnapshot(s.admin(), scope)).toEqual(snap1);
      const third = await bootstrap(adminUrl, plans, creds);
      expect(third.changes).toEqual([]);
    },
    SERVER_TIMEOUT,
  );

  test(
    'as a non-superuser admin with CREATEDB CREATEROLE: first run creates, second run changes nothing',
    async () => {
      const s = server();
      const adminPassword = 'cloud-admin-pw';
      await psqlOk(libpqUrl(s.admin()), `CREATE ROLE cloud_admin LOGIN CREATEDB CREATEROLE PASSWORD '${adminPassword}';`);
      const cloudAdmin: ConnectionDescription = { ...s.admin(), user: 'cloud_admin', password: adminPassword };
      await withPg(cloudAdmin, async (c) => {
        const me = await c.query('SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user');
        expect(me.rows[0]).toEqual({ rolsuper: false, rolcreatedb: true, rolcreaterole: true });
      });

      const plans = planFor('ca_');
      const creds = credentialsFor(plans);
      const url = libpqUrl(cloudAdmin);
      const scope = { roles: [...roleNames(plans), 'cloud_admin'], databases: plans.map((p) => p.database) };

      const first = await bootstrap(url, plans, creds);
      expect(first.changes).toEqual(
        expect.arrayContaining([
          ...expectedFirstRunChanges(plans),
          ...plans.map((p) => `granted the admin membership in role ${p.owner.name}`),
        ]),
      );
      // Before 15, schema public belongs to the bootstrap superuser: a non-superuser cannot
      // revoke PUBLIC's CREATE there and the script says so (and only that).
      const expectedWarnings =
        version < 15
          ? [expect.stringContaining('PUBLIC holds CREATE on schema public of database ca_api, which the admin does not own')]
          : [];
      expect(first.warnings).toEqual(expectedWarnings);
      const snap1 = await catalogSnapshot(s.admin(), scope);
      for (const p of plans) {
        expect(snap1.databases[p.database]?.owner).toBe(p.owner.name);
        for (const r of p.roles.filter((role) => role.login)) expect(snap1.roles[r.name]?.rolpassword).toBe(creds.verifiers[r.name]);
        // The admin's own membership in each owner role, as the script grants it.
        const grants = snap1.memberships.filter((m) => m.role === p.owner.name && m.member === 'cloud_admin' && m.grantor === 'cloud_admin');
        expect(grants).toHaveLength(1);
        if (version >= 16) expect(grants[0]).toMatchObject({ inherit_option: true, set_option: true });
      }
      expect(snap1.roles['cloud_admin']).toMatchObject({ rolsuper: false, rolcreatedb: true, rolcreaterole: true });

      const second = await bootstrap(url, plans, creds);
      expect(second.changes).toEqual([]);
      expect(second.warnings).toEqual(expectedWarnings);
      // The non-superuser rewrites each verifier (it cannot read pg_authid), yet nothing changes.
      expect(await catalogSnapshot(s.admin(), scope)).toEqual(snap1);

      // The Pulumi path ends in the same catalog state. postgresql_database grants the admin a
      // temporary membership in the owner for CREATE DATABASE and revokes it afterwards; without
      // more, the admin could not even connect to the database any more (PUBLIC's CONNECT is
      // revoked), so the provider could neither read nor change the grants inside it:
      const apiAdmin = libpqUrl({ ...cloudAdmin, database: 'ca_api' });
      for (const p of plans) await psqlOk(url, `REVOKE ${quoteIdent(p.owner.name)} FROM ${quoteIdent('cloud_admin')};`);
      expect(await catalogSnapshot(s.admin(), scope)).not.toEqual(snap1);
      for (const p of plans) {
        const refused = await psql(libpqUrl({ ...cloudAdmin, database: p.database }), 'SELECT 1;');
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain(`permission denied for database "${p.database}"`);
      }
      // InstanceDatabase's GrantRole (admin → owner, created before the database) runs exactly
      // the provider's `GRANT "<owner>" TO "<admin>"`: the catalogs are then the script's.
      for (const p of plans) await psqlOk(url, `GRANT ${quoteIdent(p.owner.name)} TO ${quoteIdent('cloud_admin')};`);
      expect(await catalogSnapshot(s.admin(), scope)).toEqual(snap1);
      // The admin can act as the owner again (migrations as the owner), and what the owner
      // creates reaches the app role through the default privileges.
      await psqlOk(apiAdmin, 'SET ROLE ca_api_owner;\nCREATE TABLE after_grant (id int);\nRESET ROLE;');
      const insert = await asLogin(s, 'ca_api', 'ca_api', creds.passwords['ca_api'] as string, 'INSERT INTO after_grant VALUES (1);');
      expect(insert.code).toBe(0);
      expect((await bootstrap(url, plans, creds)).changes).toEqual([]);
    },
    SERVER_TIMEOUT,
  );
});
