/**
 * Issue 23 on a real server (PostgreSQL 14, 16, 17, 18): the rendered
 * bootstrap SQL's two-login shape through a rotation sequence, and the
 * `LoginRevocation` provider's SQL, as a superuser and as a CREATEDB
 * CREATEROLE admin (what RDS, Neon and Supabase give).
 *
 * Proves, with psql as the client:
 * - rotation 0: the base login (the owner, or the least-privilege app role)
 *   still logs in with its password, slot a logs in, slot b is NOLOGIN;
 *   the slots are members of the base (INHERIT and SET on 16+) and switch to
 *   it at login (`rolconfig` `role=<base>`): a table slot a creates belongs
 *   to the owner, `current_user` is the owner, also after `RESET ROLE`,
 *   `RESET ALL` and `DISCARD ALL` (what PgBouncer runs between clients);
 *   in the least-privilege shape the slot has the app role's rights and no
 *   more (it reads and writes the owner's table, cannot create one);
 * - rotation 1: the base is NOLOGIN with its password removed (pg_authid),
 *   slot a keeps its password, slot b logs in with its new one;
 * - rotation 2: slot a's old password is refused and its new one logs in,
 *   slot b's still works;
 * - every run after the first at a state changes nothing;
 * - an emergency revocation (rotation 3, revoked): slot a NOLOGIN, password
 *   removed; the sessions of the revoked logins and the current login's
 *   sessions from before the revocation are terminated, a session opened
 *   with the new password after it survives a rerun; the admin that had to
 *   grant itself the roles to signal them holds no extra membership after;
 * - `LoginRevocation`'s provider removes passwords and, on an update that
 *   made the revocation, terminates every session of the instance's logins.
 */
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { ConnectionDescription, libpqUrl } from '../../src/core/dsn';
import { InstancePlan, RoleShape, planServer } from '../../src/core/plan';
import { renderBootstrapSql } from '../../src/core/render-sql';
import { RotationState, rotatingRoles, statusLogsIn } from '../../src/core/rotation';
import { scramSha256Verifier } from '../../src/core/scram';
import { loginRevocationProvider } from '../../src/provisioning/rotation';
import { connectPg, withPg } from '../../lab/inspect';
import { psqlOk } from '../../lab/psql';
import { ALL_VERSIONS, SERVER_TIMEOUT, asLogin, useLabServer } from './support';

const TIMEOUT = 3 * SERVER_TIMEOUT;

function plansFor(prefix: string): InstancePlan[] {
  return planServer(
    [
      { name: 'blog', loginRotation: { enabled: true } },
      { name: 'api', shape: RoleShape.LeastPrivilege, loginRotation: { enabled: true } },
    ],
    { maxConnections: 100, reservedConnections: 3 },
    { namePrefix: prefix },
  ).instances;
}

/** The password a role holds at a generation (-1: the base's, and slot b before it is used). */
const passwordOf = (role: string, generation: number): string => `pw-${role}-g${generation}`;
/** A stable salt per (role, generation): the same verifier on every run at a state. */
const saltOf = (role: string, generation: number): string => createHash('sha256').update(`${role}:${generation}`).digest().subarray(0, 16).toString('base64');

function stateAt(counter: number, revokedBelow = -1, rotatedAt = '2026-01-01T00:00:00.000Z'): RotationState {
  return { counter, revokedBelow, rotatedAt, rotation: counter, revocation: revokedBelow > 0 ? 1 : 0 };
}

/** The script at `state` for every rotating instance: verifiers of the roles that log in, at their generations. */
function scriptAt(plans: InstancePlan[], state: RotationState): string {
  const verifiers: Record<string, string> = {};
  const rotations: Record<string, RotationState> = {};
  for (const p of plans) {
    for (const r of p.roles.filter((x) => x.login && x.memberOf === undefined)) verifiers[r.name] = scramSha256Verifier(passwordOf(r.name, -1), saltOf(r.name, -1));
    if (!p.rotation) continue;
    rotations[p.instance] = state;
    const roles = rotatingRoles(p.rotation, state);
    for (const r of [roles.base, ...roles.slots]) if (statusLogsIn(r.status)) verifiers[r.role] = scramSha256Verifier(passwordOf(r.role, r.generation), saltOf(r.role, r.generation));
  }
  return renderBootstrapSql(plans, { verifiers, rotations });
}

describe.each(ALL_VERSIONS)('alternating logins on PostgreSQL %i', (version) => {
  const server = useLabServer(() => ({ version }));

  describe.each([
    ['a superuser admin', 'su_', false],
    ['a CREATEDB CREATEROLE admin', 'ca_', true],
  ])('as %s', (_label, prefix, createRoleAdmin) => {
    let admin: ConnectionDescription;
    let adminUrl: string;
    const plans = plansFor(prefix);
    const blog = `${prefix}blog`;
    const api = `${prefix}api`;
    const login = (db: string, user: string, generation: number, sql: string) => asLogin(server(), db, user, passwordOf(user, generation), sql);
    const run = (state: RotationState) => psqlOk(adminUrl, scriptAt(plans, state));
    const authid = (role: string) =>
      withPg(server().admin(), async (c) => (await c.query('SELECT rolcanlogin, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = $1', [role])).rows[0]);

    beforeAll(async () => {
      admin = server().admin();
      if (createRoleAdmin) {
        await withPg(admin, (c) => c.query(`CREATE ROLE ${prefix}admin LOGIN CREATEDB CREATEROLE PASSWORD 'rotation-admin-pw'`));
        admin = { ...admin, user: `${prefix}admin`, password: 'rotation-admin-pw' };
      }
      adminUrl = libpqUrl(admin);
    }, SERVER_TIMEOUT);

    test(
      'rotation 0: the base and slot a log in, slot b does not; slot a acts as the base',
      async () => {
        const first = await run(stateAt(0));
        expect(first.changes).toEqual(expect.arrayContaining([`created role ${blog}_a`, `granted role ${blog} to ${blog}_a`, `made ${blog}_a switch to role ${blog} at login`]));
        expect((await run(stateAt(0))).changes).toEqual([]);

        expect((await login(blog, blog, -1, 'SELECT 1')).code).toBe(0);
        const a = await login(blog, `${blog}_a`, 0, 'CREATE TABLE t (id int); SELECT session_user, current_user, (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = \'t\');');
        expect(a.stdout.trim().split('\n').pop()).toBe(`${blog}_a|${blog}|${blog}`);
        // PgBouncer's server_reset_query and friends go back to the base, not to the login.
        const reset = await login(blog, `${blog}_a`, 0, 'RESET ROLE; SELECT current_user; RESET ALL; SELECT current_user; DISCARD ALL; SELECT current_user;');
        expect(reset.stdout.trim().split('\n').filter((l) => !/^[A-Z ]+$/.test(l))).toEqual([blog, blog, blog]);
        const b = await login(blog, `${blog}_b`, -1, 'SELECT 1');
        expect(b.code).not.toBe(0);
        expect(b.stderr).toMatch(/not permitted to log in|password authentication failed/);

        await withPg(server().admin(), async (c) => {
          const m = await c.query(
            `SELECT u.rolname AS member ${version >= 16 ? ', m.inherit_option, m.set_option' : ''} FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE m.roleid = $1::regrole ORDER BY 1`,
            [blog],
          );
          const slots = m.rows.filter((r) => r.member.startsWith(`${blog}_`));
          expect(slots.map((r) => r.member)).toEqual([`${blog}_a`, `${blog}_b`]);
          if (version >= 16) for (const r of slots) expect([r.inherit_option, r.set_option]).toEqual([true, true]);
          const cfg = await c.query('SELECT rolname, rolconfig FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1', [[`${blog}_a`, `${blog}_b`]]);
          expect(cfg.rows).toEqual([
            { rolname: `${blog}_a`, rolconfig: [`role=${blog}`] },
            { rolname: `${blog}_b`, rolconfig: [`role=${blog}`] },
          ]);
        });

        // Least privilege: the slot has the app role's rights (rows), not the owner's (tables).
        await psqlOk(libpqUrl({ ...server().admin(api) }), `SET ROLE ${api}_owner; CREATE TABLE items (id int);`);
        const rows = await login(api, `${api}_a`, 0, 'INSERT INTO items VALUES (1); SELECT current_user, count(*) FROM items;');
        expect(rows.stdout.trim().split('\n').pop()).toBe(`${api}|1`);
        // (Before 15 a non-superuser admin cannot revoke PUBLIC's CREATE on schema public: the bootstrap
        // warns about it on every run, and any role may create tables there. Not the slots' doing.)
        if (version >= 15 || !createRoleAdmin) {
          const ddl = await login(api, `${api}_a`, 0, 'CREATE TABLE nope (id int);');
          expect(ddl.code).not.toBe(0);
          expect(ddl.stderr).toContain('permission denied for schema public');
        }
      },
      TIMEOUT,
    );

    test(
      'rotation 1 retires the base (password removed), slot a keeps its password, slot b gets one; rotation 2 refuses slot a\'s old password',
      async () => {
        const one = await run(stateAt(1));
        expect(one.changes).toEqual(expect.arrayContaining([`altered role ${blog}`, `altered role ${blog}_b`]));
        if (!createRoleAdmin) expect(one.changes).toContain(`removed the password of role ${blog}`);
        expect((await run(stateAt(1))).changes).toEqual([]);
        expect(await authid(blog)).toEqual({ rolcanlogin: false, has_password: false });
        expect((await login(blog, blog, -1, 'SELECT 1')).code).not.toBe(0);
        expect((await login(blog, `${blog}_a`, 0, 'SELECT 1')).code).toBe(0);
        expect((await login(blog, `${blog}_b`, 1, 'SELECT current_user')).stdout.trim()).toBe(blog);

        await run(stateAt(2));
        expect((await run(stateAt(2))).changes).toEqual([]);
        const old = await login(blog, `${blog}_a`, 0, 'SELECT 1');
        expect(old.code).not.toBe(0);
        expect(old.stderr).toContain('password authentication failed');
        expect((await login(blog, `${blog}_a`, 2, 'SELECT 1')).code).toBe(0);
        expect((await login(blog, `${blog}_b`, 1, 'SELECT 1')).code).toBe(0);
        expect((await login(api, `${api}_b`, 1, 'SELECT count(*) FROM items')).stdout.trim()).toBe('1');
      },
      TIMEOUT,
    );

    test(
      'an emergency revocation removes slot a\'s password and cuts the old sessions; a new session survives a rerun; no membership is left behind',
      async () => {
        const members = () => withPg(server().admin(), async (c) => (await c.query('SELECT roleid::regrole::text, member::regrole::text FROM pg_auth_members ORDER BY 1, 2')).rows);
        const before = await members();
        // Sessions with the credentials of rotation 2 (slot a) and rotation 1 (slot b).
        const oldA = await connectPg({ ...server().admin(blog), user: `${blog}_a`, password: passwordOf(`${blog}_a`, 2) });
        const oldB = await connectPg({ ...server().admin(blog), user: `${blog}_b`, password: passwordOf(`${blog}_b`, 1) });
        const revokedAt = new Date(Date.now() + 1000).toISOString();
        await new Promise((r) => setTimeout(r, 1100));
        const cut = await run(stateAt(3, 3, revokedAt));
        expect(cut.changes).toEqual(expect.arrayContaining([`altered role ${blog}_a`, expect.stringMatching(new RegExp(`^terminated [2-9]\\d* session\\(s\\) of revoked logins \\(${blog}, ${blog}_a, ${blog}_b\\)$`))]));
        for (const c of [oldA, oldB]) await expect(c.query('SELECT 1')).rejects.toThrow();
        expect(await authid(`${blog}_a`)).toEqual({ rolcanlogin: false, has_password: false });
        expect((await login(blog, `${blog}_a`, 2, 'SELECT 1')).code).not.toBe(0);
        expect((await login(blog, `${blog}_b`, 1, 'SELECT 1')).code).not.toBe(0);

        const fresh = await connectPg({ ...server().admin(blog), user: `${blog}_b`, password: passwordOf(`${blog}_b`, 3) });
        try {
          const again = await run(stateAt(3, 3, revokedAt));
          expect(again.changes).toEqual([]);
          expect((await fresh.query('SELECT current_user AS u')).rows[0].u).toBe(blog);
        } finally {
          await fresh.end();
        }
        expect(await members()).toEqual(before);
      },
      TIMEOUT,
    );

    test(
      'LoginRevocation: removes passwords, and cuts every session of the logins on the update that revoked',
      async () => {
        // Back to a state where slot a logs in with rotation 4's password.
        await run(stateAt(4, 3));
        const session = await connectPg({ ...server().admin(blog), user: `${blog}_a`, password: passwordOf(`${blog}_a`, 4) });
        const inputs = { adminUrl, passwordless: [blog], roles: [blog, `${blog}_a`, `${blog}_b`], counter: 4, revokedBelow: 3 };
        // Not the revoking update: passwords only.
        await loginRevocationProvider.update('id', inputs, inputs);
        expect((await session.query('SELECT 1 AS one')).rows[0].one).toBe(1);
        // The update that revoked (revokedBelow 3 → 5 at counter 5): every session of the logins.
        await loginRevocationProvider.update('id', inputs, { ...inputs, passwordless: [blog, `${blog}_b`], counter: 5, revokedBelow: 5 });
        await expect(session.query('SELECT 1')).rejects.toThrow();
        expect(await authid(`${blog}_b`)).toEqual({ rolcanlogin: true, has_password: false });
        await (session as Client).end().catch(() => undefined);
      },
      TIMEOUT,
    );
  });
});
