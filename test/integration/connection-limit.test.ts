/**
 * Per-role connection limits from the connection budget, enforced by a real
 * server (PostgreSQL 14 and 18) whose max_connections is the plan's capacity.
 *
 * Proves:
 * - each login role's pg_authid.rolconnlimit equals the plan's budget share
 *   of its instance (owner shape: the whole share; least-privilege: app
 *   share + read-only share = the instance's share);
 * - the server enforces it: the limit's worth of connections open, one more
 *   fails with "too many connections for role", the superuser is unaffected,
 *   and once a connection closes a new one gets in again.
 */
import { Client } from 'pg';
import { libpqUrl } from '../../src/core/dsn';
import { RoleShape, planServer } from '../../src/core/plan';
import { catalogSnapshot, connectPg, withPg } from '../../lab/inspect';
import { SERVER_TIMEOUT, bootstrap, credentialsFor, loginDescription, roleNames, useLabServer } from './support';

const serverPlan = planServer(
  [
    { name: 'tiny', gatewayPool: { maxConns: 2, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } },
    {
      name: 'lp',
      shape: RoleShape.LeastPrivilege,
      gatewayPool: { maxConns: 1, minConns: 0 },
      kratosPool: { maxConns: 1, maxIdleConns: 0 },
      extraConsumers: [{ name: 'worker', maxConnections: 1 }],
      readOnlyConnections: 1,
    },
  ],
  { maxConnections: 20, reservedConnections: 3 },
  { namePrefix: 'cl_' },
);
const plans = serverPlan.instances;
const creds = credentialsFor(plans);
const share = (instance: string): number => serverPlan.budget.shares.find((s) => s.instance === instance)!.connections;

async function until<T>(fn: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe.each([14, 18] as const)('connection limits on PostgreSQL %i', (version) => {
  const server = useLabServer(
    // The server's max_connections is the plan's capacity.
    () => ({ version, conf: { max_connections: serverPlan.budget.maxConnections } }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), plans, creds);
    },
  );
  const open: Client[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  const connect = async (role: string, database: string): Promise<Client> => {
    const c = await connectPg(loginDescription(server(), database, role, creds.passwords[role] as string));
    open.push(c);
    return c;
  };

  test(
    'rolconnlimit of each login role is its budget share',
    async () => {
      const max = await withPg(server().admin(), async (c) => (await c.query('SHOW max_connections')).rows[0].max_connections);
      expect(Number(max)).toBe(serverPlan.budget.maxConnections);
      expect(share('tiny')).toBe(3);
      expect(share('lp')).toBe(4);
      const snap = await catalogSnapshot(server().admin(), { roles: roleNames(plans), databases: [] });
      expect(snap.roles['cl_tiny']?.rolconnlimit).toBe(share('tiny'));
      expect((snap.roles['cl_lp']?.rolconnlimit ?? 0) + (snap.roles['cl_lp_ro']?.rolconnlimit ?? 0)).toBe(share('lp'));
      expect(snap.roles['cl_lp']?.rolconnlimit).toBe(3);
      expect(snap.roles['cl_lp_ro']?.rolconnlimit).toBe(1);
      expect(snap.roles['cl_lp_owner']?.rolconnlimit).toBe(-1);
    },
    SERVER_TIMEOUT,
  );

  test.each([
    ['cl_tiny', 'cl_tiny', 3],
    ['cl_lp', 'cl_lp', 3],
    ['cl_lp_ro', 'cl_lp', 1],
  ] as const)(
    '%s on %s: %i connections open, one more is refused, the superuser still gets in, a freed slot is reusable',
    async (role, database, limit) => {
      const held: Client[] = [];
      for (let i = 0; i < limit; i++) held.push(await connect(role, database));
      for (const c of held) expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe(role);
      await expect(connect(role, database)).rejects.toThrow(`too many connections for role "${role}"`);
      const active = await withPg(server().admin(), async (c) =>
        Number((await c.query('SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1', [role])).rows[0].n),
      );
      expect(active).toBe(limit);
      await held[0]!.end();
      // The backend exits asynchronously; the slot frees within moments.
      const again = await until(() => connect(role, database));
      expect((await again.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    },
    SERVER_TIMEOUT,
  );
});

/**
 * The whole server's budget (issue 7 item 6): app roles at their limits, the
 * admin's share (4, the default of a server of 20) and the maintenance headroom (3), with a
 * non-superuser admin as on RDS/Neon/Supabase, fill exactly what
 * max_connections leaves after superuser_reserved_connections; the admin
 * cannot use the reserved slots, only a superuser can.
 */
describe('a server budgeted to the last slot, PostgreSQL 18', () => {
  const capacity = { maxConnections: 20, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 };
  const full = planServer(
    [
      { name: 'tiny', gatewayPool: { maxConns: 2, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } },
      { name: 'fill', gatewayPool: { maxConns: 2, minConns: 0 }, kratosPool: { maxConns: 2, maxIdleConns: 0 } },
      { name: 'lp', shape: RoleShape.LeastPrivilege, gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 }, readOnlyConnections: 1 },
    ],
    capacity,
    { namePrefix: 'bf_' },
  );
  const fullCreds = credentialsFor(full.instances);
  const ADMIN = 'bf_cloud_admin';
  const ADMIN_PASSWORD = 'bf-admin-pw';
  const server = useLabServer(
    () => ({ version: 18, conf: { max_connections: capacity.maxConnections, superuser_reserved_connections: capacity.reservedConnections } }),
    async (s) => {
      await bootstrap(libpqUrl(s.admin()), full.instances, fullCreds);
      await withPg(s.admin(), (c) => c.query(`CREATE ROLE ${ADMIN} LOGIN CREATEDB CREATEROLE PASSWORD '${ADMIN_PASSWORD}'`));
    },
  );
  const open: Client[] = [];
  afterAll(async () => {
    await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
  });

  test(
    'every app role at its limit + 4 admin + 3 maintenance connections fit at once; the next non-superuser is refused, a superuser is not',
    async () => {
      expect(full.budget).toMatchObject({ available: 10, total: 10, headroom: 0 });
      const s = server();
      for (const p of full.instances) {
        for (const role of p.roles.filter((r) => r.login)) {
          for (let i = 0; i < role.connectionLimit; i++) open.push(await connectPg(loginDescription(s, p.database, role.name, fullCreds.passwords[role.name] as string)));
        }
      }
      // The admin's share and the maintenance headroom: the non-superuser admin.
      for (let i = 0; i < capacity.adminConnections + capacity.maintenanceConnections; i++) {
        open.push(await connectPg({ ...s.admin('postgres'), user: ADMIN, password: ADMIN_PASSWORD }));
      }
      expect(open.length).toBe(capacity.maxConnections - capacity.reservedConnections);
      await expect(connectPg({ ...s.admin('postgres'), user: ADMIN, password: ADMIN_PASSWORD })).rejects.toThrow(/remaining connection slots are reserved/);
      const used = await withPg(s.admin(), async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'")).rows[0].n));
      expect(used).toBe(capacity.maxConnections - capacity.reservedConnections + 1);
    },
    SERVER_TIMEOUT,
  );
});
