/**
 * Catalog snapshots for the integration tests: what a bootstrap run leaves
 * in the catalogs (roles, memberships, database owners and ACLs, schema,
 * default and table privileges), as plain JSON, read with `pg` as a
 * superuser. Two snapshots deep-equal ⇔ nothing the bootstrap manages
 * changed between them.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Client, ClientConfig } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { ConnectionDescription } from '../src/core/dsn';
import { SslMode } from '../src/core/tls';

/**
 * A `pg` client configuration for a connection description, with the same
 * TLS semantics as libpq's sslmode: `disable` → no TLS; `allow`/`prefer`/
 * `require` → TLS without verification; `verify-ca` → chain checked against
 * the root certificate, host name not; `verify-full` → both. Only the first
 * host is used.
 */
export function pgClientConfig(c: ConnectionDescription, database: string = c.database): ClientConfig {
  const host = c.hosts[0];
  if (host === undefined) throw new Error('pgClientConfig: the connection has no host');
  const ca = c.tls.sslrootcert ? readFileSync(c.tls.sslrootcert, 'utf8') : undefined;
  let ssl: ClientConfig['ssl'];
  switch (c.tls.sslmode) {
    case SslMode.Disable:
      ssl = false;
      break;
    case SslMode.Allow:
    case SslMode.Prefer:
    case SslMode.Require:
      ssl = { rejectUnauthorized: false };
      break;
    case SslMode.VerifyCa:
      ssl = { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
      break;
    case SslMode.VerifyFull:
      // Node checks the certificate against `servername`, else `host`; an IP
      // address may not be sent as SNI server name (RFC 6066).
      ssl = isIP(host.host) ? { ca, rejectUnauthorized: true } : { ca, rejectUnauthorized: true, servername: host.host };
      break;
  }
  const config: ClientConfig = {
    host: host.host,
    port: host.port,
    database,
    user: c.user,
    ssl,
    connectionTimeoutMillis: (c.connectTimeoutSeconds ?? 10) * 1000,
  };
  if (c.password !== undefined) config.password = c.password;
  if (c.applicationName) config.application_name = c.applicationName;
  return config;
}

/** A connected `pg` client (a description, or a connection string `pg` understands). */
export async function connectPg(target: ConnectionDescription | string, database?: string): Promise<Client> {
  const client =
    typeof target === 'string'
      ? new Client({ ...(parseIntoClientConfig(target) as ClientConfig), ...(database ? { database } : {}) })
      : new Client(pgClientConfig(target, database));
  // A server-side termination while idle must not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs `fn` with a connected client and always closes it. */
export async function withPg<T>(target: ConnectionDescription | string, fn: (client: Client) => Promise<T>, database?: string): Promise<T> {
  const client = await connectPg(target, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** pg_authid attributes of one role (`null` when the role does not exist). */
export interface RoleSnapshot {
  rolcanlogin: boolean;
  rolconnlimit: number;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolsuper: boolean;
  rolinherit: boolean;
  rolpassword: string | null;
  /** Its settings for every database (`ALTER ROLE … SET`), e.g. `["role=vw_blog"]`; null when none. */
  rolconfig: string[] | null;
}

/** One pg_auth_members row, by names. */
export interface MembershipSnapshot {
  role: string;
  member: string;
  grantor: string | null;
  admin_option: boolean;
  /** PostgreSQL 16+ only. */
  inherit_option?: boolean;
  /** PostgreSQL 16+ only. */
  set_option?: boolean;
}

/** What one database looks like, from outside and inside. */
export interface DatabaseSnapshot {
  owner: string;
  datacl: string | null;
  datconnlimit: number;
  /** Schema public: owner and ACL (null = default privileges). */
  publicSchema: { owner: string; nspacl: string | null } | null;
  /** pg_default_acl rows. */
  defaultAcls: Array<{ role: string; schema: string | null; objtype: string; acl: string | null }>;
  /** Relations in schema public (tables, views, sequences). */
  relations: Array<{ name: string; relkind: string; owner: string; relacl: string | null }>;
}

export interface CatalogSnapshot {
  serverVersionNum: number;
  roles: Record<string, RoleSnapshot | null>;
  memberships: MembershipSnapshot[];
  databases: Record<string, DatabaseSnapshot | null>;
}

export interface CatalogSnapshotOptions {
  /** Roles to describe; memberships are those where one of them is role or member. */
  roles: string[];
  /** Databases to describe (each is connected to for its inside). */
  databases: string[];
}

/**
 * Reads a JSON-comparable snapshot of the given roles and databases.
 * @param admin a superuser's connection (description or `pg` connection string);
 *   pg_authid is readable only by superusers.
 */
export async function catalogSnapshot(admin: ConnectionDescription | string, opts: CatalogSnapshotOptions): Promise<CatalogSnapshot> {
  const roles = [...opts.roles].sort();
  const databases = [...opts.databases].sort();
  const snapshot: CatalogSnapshot = { serverVersionNum: 0, roles: {}, memberships: [], databases: {} };
  await withPg(admin, async (client) => {
    snapshot.serverVersionNum = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v);
    const pg16 = snapshot.serverVersionNum >= 160000;
    const roleRows = await client.query(
      `SELECT a.rolname, a.rolcanlogin, a.rolconnlimit, a.rolcreatedb, a.rolcreaterole, a.rolsuper, a.rolinherit, a.rolpassword, s.setconfig AS rolconfig
         FROM pg_catalog.pg_authid a
         LEFT JOIN pg_catalog.pg_db_role_setting s ON s.setrole = a.oid AND s.setdatabase = 0
        WHERE a.rolname = ANY($1::text[])`,
      [roles],
    );
    for (const name of roles) snapshot.roles[name] = null;
    for (const r of roleRows.rows) {
      snapshot.roles[r.rolname] = {
        rolcanlogin: r.rolcanlogin,
        rolconnlimit: r.rolconnlimit,
        rolcreatedb: r.rolcreatedb,
        rolcreaterole: r.rolcreaterole,
        rolsuper: r.rolsuper,
        rolinherit: r.rolinherit,
        rolpassword: r.rolpassword,
        rolconfig: r.rolconfig,
      };
    }
    const extra = pg16 ? ', m.inherit_option, m.set_option' : '';
    const members = await client.query(
      `SELECT r.rolname AS role, u.rolname AS member, g.rolname AS grantor, m.admin_option${extra}
         FROM pg_catalog.pg_auth_members m
         JOIN pg_catalog.pg_authid r ON r.oid = m.roleid
         JOIN pg_catalog.pg_authid u ON u.oid = m.member
         LEFT JOIN pg_catalog.pg_authid g ON g.oid = m.grantor
        WHERE r.rolname = ANY($1::text[]) OR u.rolname = ANY($1::text[])
        ORDER BY 1, 2, 3`,
      [roles],
    );
    snapshot.memberships = members.rows.map((m) => ({ ...m }) as MembershipSnapshot);
    const dbRows = await client.query(
      `SELECT datname, pg_catalog.pg_get_userbyid(datdba) AS owner, datacl::text AS datacl, datconnlimit
         FROM pg_catalog.pg_database WHERE datname = ANY($1::text[])`,
      [databases],
    );
    for (const name of databases) snapshot.databases[name] = null;
    for (const d of dbRows.rows) {
      snapshot.databases[d.datname] = {
        owner: d.owner,
        datacl: d.datacl,
        datconnlimit: d.datconnlimit,
        publicSchema: null,
        defaultAcls: [],
        relations: [],
      };
    }
  });
  for (const name of databases) {
    const db = snapshot.databases[name];
    if (!db) continue;
    await withPg(
      admin,
      async (client) => {
        const schema = await client.query(
          `SELECT pg_catalog.pg_get_userbyid(nspowner) AS owner, nspacl::text AS nspacl
             FROM pg_catalog.pg_namespace WHERE nspname = 'public'`,
        );
        db.publicSchema = schema.rows[0] ? { owner: schema.rows[0].owner, nspacl: schema.rows[0].nspacl } : null;
        const defaults = await client.query(
          `SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema, d.defaclobjtype AS objtype,
                  d.defaclacl::text AS acl
             FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
            ORDER BY 1, 2, 3`,
        );
        db.defaultAcls = defaults.rows.map((r) => ({ role: r.role, schema: r.schema, objtype: r.objtype, acl: r.acl }));
        const relations = await client.query(
          `SELECT c.relname AS name, c.relkind AS relkind, pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS relacl
             FROM pg_catalog.pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            ORDER BY 1`,
        );
        db.relations = relations.rows.map((r) => ({ name: r.name, relkind: r.relkind, owner: r.owner, relacl: r.relacl }));
      },
      name,
    );
  }
  return snapshot;
}

/** A running sample of how many sessions a role holds on a server. */
export interface ConnectionSampler {
  /** Stops sampling; resolves to the most sessions seen at once, and how many samples were taken. */
  stop(): Promise<{ peak: number; samples: number }>;
}

/**
 * Counts the sessions of `user` in pg_stat_activity every `intervalMs`
 * (through one extra connection of the superuser, not counted), until
 * stopped: the peak of what a deploy really holds.
 */
export async function sampleConnections(admin: ConnectionDescription | string, user: string, intervalMs = 25): Promise<ConnectionSampler> {
  const client = await connectPg(admin);
  let peak = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [user]);
      peak = Math.max(peak, Number(r.rows[0]?.n ?? 0));
      samples += 1;
      await new Promise((res) => setTimeout(res, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await client.end();
      return { peak, samples };
    },
  };
}
