/**
 * The RdsPostgres provisioning path on a real server (PostgreSQL 17, RDS's
 * default major here), with an admin made like RDS's master user: LOGIN
 * CREATEDB CREATEROLE, a member of a NOLOGIN group `rds_superuser` (which
 * holds pg_monitor and pg_signal_backend, as on RDS), not a superuser.
 *
 * The server runs with the RDS plan's own parameter-group settings (those
 * PostgreSQL knows: password_encryption=scram-sha-256) and TLS only, as
 * rds.force_ssl=1 does. Proves, with the real psql client:
 * - the admin is what RDS gives (not superuser, rds_superuser member);
 * - the bootstrap SQL rendered for the seed's three instances (blog, admin,
 *   api; the connection limits from the RDS capacity of db.t4g.micro) runs
 *   as that admin, creates every role and database, and a second run
 *   changes nothing;
 * - each login role connects over verify-full TLS to its own database only,
 *   is refused by every other instance database, and can neither create
 *   databases or roles nor act as rds_superuser;
 * - the admin still enters every instance database (membership in the
 *   owner role, granted by the script) to run migrations.
 */
import { ConnectionDescription, libpqUrl } from '../../src/core/dsn';
import { InstancePlan, planServer } from '../../src/core/plan';
import { catalogSnapshot, withPg } from '../../lab/inspect';
import { LabServer } from '../../lab/server';
import { psql, psqlOk } from '../../lab/psql';
import { planRds } from '../../src/rds/plan';
import { seedInstances } from '../../examples/shared/instances';
import { SERVER_TIMEOUT, asLogin, bootstrap, credentialsFor, loginRoles, roleNames, useLabServer } from './support';

const MASTER = 'app_master';
const MASTER_PASSWORD = 'master-pw-from-random';

const rds = planRds('app-db', 'it', { allowedCidrs: ['10.0.0.0/16'], sslrootcert: 'global-bundle.pem' });
// The parameter group's core settings, as the server would have them (rds.* are RDS's own).
const conf = Object.fromEntries(rds.parameters.filter((p) => !p.name.includes('.')).map((p) => [p.name, p.value]));
const plans: InstancePlan[] = planServer(seedInstances, rds.capacity, { namePrefix: 'vw_', adminUser: MASTER }).instances;
const creds = credentialsFor(plans);

describe('an RDS-like master user on PostgreSQL 17', () => {
  let master: ConnectionDescription;
  const server = useLabServer(
    () => ({ version: 17, tls: true, conf }),
    async (s: LabServer) => {
      await psqlOk(
        libpqUrl(s.admin()),
        [
          'CREATE ROLE rds_superuser NOLOGIN;',
          'GRANT pg_monitor, pg_signal_backend TO rds_superuser;',
          `CREATE ROLE ${MASTER} LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD '${MASTER_PASSWORD}' IN ROLE rds_superuser;`,
        ].join('\n'),
      );
      master = { ...s.admin(), user: MASTER, password: MASTER_PASSWORD };
    },
  );

  test('the server has the plan\'s settings and the admin is what RDS gives', async () => {
    expect(conf).toEqual({ password_encryption: 'scram-sha-256' });
    await withPg(master, async (c) => {
      const me = await c.query(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, pg_has_role(current_user, 'rds_superuser', 'MEMBER') AS rds, current_setting('password_encryption') AS enc, current_setting('ssl') AS ssl FROM pg_roles WHERE rolname = current_user",
      );
      expect(me.rows[0]).toEqual({ rolsuper: false, rolcreatedb: true, rolcreaterole: true, rds: true, enc: 'scram-sha-256', ssl: 'on' });
    });
  });

  test(
    'the seed\'s three instances: first run creates them as the master user, second run changes nothing',
    async () => {
      const s = server();
      const url = libpqUrl(master);
      const scope = { roles: [...roleNames(plans), MASTER], databases: plans.map((p) => p.database) };
      const first = await bootstrap(url, plans, creds);
      expect(first.changes).toEqual(
        expect.arrayContaining(plans.flatMap((p) => [`created role ${p.login.name}`, `creating database ${p.database} owned by ${p.owner.name}`, `revoked CONNECT on database ${p.database} from PUBLIC`])),
      );
      expect(first.warnings).toEqual([]);
      const snap = await catalogSnapshot(s.admin(), scope);
      for (const p of plans) {
        expect(snap.databases[p.database]?.owner).toBe(p.owner.name);
        expect(snap.roles[p.login.name]).toMatchObject({ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolconnlimit: 10, rolpassword: creds.verifiers[p.login.name] });
      }
      const second = await bootstrap(url, plans, creds);
      expect(second.changes).toEqual([]);
      expect(await catalogSnapshot(s.admin(), scope)).toEqual(snap);
    },
    SERVER_TIMEOUT,
  );

  const logins = loginRoles(plans).map((r) => [r.name, plans.find((p) => p.roles.includes(r))!.database] as const);
  const databases = plans.map((p) => p.database);

  test.each(logins)(
    '%s logs in over verify-full to %s only, and has none of the admin\'s powers',
    async (role, own) => {
      const s = server();
      const pw = creds.passwords[role] as string;
      const mine = await asLogin(s, own, role, pw, "SELECT current_user, current_database(), pg_has_role(current_user, 'rds_superuser', 'MEMBER');");
      expect(mine.stderr).toBe('');
      expect(mine.stdout.trim()).toBe(`${role}|${own}|f`);
      for (const other of databases.filter((d) => d !== own)) {
        const r = await asLogin(s, other, role, pw, 'SELECT 1;');
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`permission denied for database "${other}"`);
      }
      const createDb = await asLogin(s, own, role, pw, 'CREATE DATABASE intruder;');
      expect(createDb.stderr).toContain('permission denied to create database');
      const createRole = await asLogin(s, own, role, pw, 'CREATE ROLE intruder;');
      expect(createRole.stderr).toContain('permission denied to create role');
      const setRole = await asLogin(s, own, role, pw, 'SET ROLE rds_superuser;');
      expect(setRole.stderr).toContain('permission denied to set role "rds_superuser"');
    },
    SERVER_TIMEOUT,
  );

  test(
    'the master user enters every instance database and can act as its owner (migrations)',
    async () => {
      for (const p of plans) {
        const r = await psql(libpqUrl({ ...master, database: p.database }), `SET ROLE ${p.owner.name}; CREATE TABLE IF NOT EXISTS migrated (x int); SELECT current_user;`);
        expect(r.stderr).toBe('');
        expect(r.stdout.trim().split('\n')).toEqual(['SET', 'CREATE TABLE', p.owner.name]);
      }
    },
    SERVER_TIMEOUT,
  );
});
