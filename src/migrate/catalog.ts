/**
 * What migrate reads from a live server with `pg`: the server's identity and
 * version, the objects in a database (what "empty" means, what a copy must
 * contain, who owns what), the target role's rights, the connection budget,
 * and the content checksums of the verification.
 *
 * Every session first pins the settings that decide how values print
 * ({@link pinOutputSettings}), so that a row's text form, and so its
 * checksum, is the same on both servers whatever their defaults.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { quoteIdent, quoteLiteral } from '../core/identifiers';
import { SchemaGrantPlan, SchemaObjectType } from '../core/plan';
import { ServerConnections } from './budget';
import { serverMajor } from './tools';

/** A server's identity and version, as one session sees it. */
export interface ServerFacts {
  /** `server_version`, e.g. `"15.20 (Debian 15.20-0+deb12u1)"` → `"15.20"`. */
  version: string;
  versionNum: number;
  major: number;
  /** `pg_control_system().system_identifier`, when the role may read it. */
  systemIdentifier?: string;
  /** The database's oid. */
  databaseOid: number;
  database: string;
  currentUser: string;
}

/** Reads the facts of the session's server and database. */
export async function serverFacts(client: Client): Promise<ServerFacts> {
  const r = await client.query<{ v: string; n: string; db: string; oid: string; u: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n, current_database() AS db,
            (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())::text AS oid,
            current_user AS u`,
  );
  const row = r.rows[0]!;
  const versionNum = Number(row.n);
  const facts: ServerFacts = {
    version: row.v.split(' ')[0] as string,
    versionNum,
    major: serverMajor(versionNum),
    databaseOid: Number(row.oid),
    database: row.db,
    currentUser: row.u,
  };
  const id = await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()').then(
    (q) => q.rows[0]?.id,
    () => undefined,
  );
  if (id !== undefined) facts.systemIdentifier = id;
  return facts;
}

/**
 * Whether two sessions are connected to the same database of the same server
 * (however the URLs spell the host): the same `system_identifier` and database
 * oid; where a role may not read the identifier, a random application_name
 * set on `b` and looked for in `a`'s pg_stat_activity.
 */
export async function sameDatabase(a: Client, aFacts: ServerFacts, b: Client, bFacts: ServerFacts): Promise<boolean> {
  if (aFacts.systemIdentifier !== undefined && bFacts.systemIdentifier !== undefined) {
    return aFacts.systemIdentifier === bFacts.systemIdentifier && aFacts.databaseOid === bFacts.databaseOid;
  }
  const marker = `ps-migrate-${randomBytes(12).toString('hex')}`;
  const previous = (await b.query<{ n: string }>("SELECT current_setting('application_name') AS n")).rows[0]!.n;
  await b.query(`SET application_name = ${quoteLiteral(marker)}`);
  try {
    const seen = await a.query('SELECT 1 FROM pg_catalog.pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [marker]);
    return (seen.rowCount ?? 0) > 0;
  } finally {
    await b.query(`SET application_name = ${quoteLiteral(previous)}`);
  }
}

/**
 * Pins how values print: time zone, date/interval styles, float digits
 * (shortest exact, PostgreSQL 12+), bytea as hex, money in the C locale,
 * an empty search_path (every name in a query is qualified).
 */
export async function pinOutputSettings(client: Client): Promise<void> {
  await client.query(
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; " +
      "SET bytea_output = 'hex'; SET lc_monetary = 'C'; SET xmloption = 'content'; SET statement_timeout = 0; " +
      "SET search_path = pg_catalog",
  );
}

/** One object in a database. */
export interface DbObject {
  /** schema, table, view, materialized view, sequence, foreign table, type, function, procedure, aggregate, extension. */
  kind: string;
  /** Qualified name (functions with their argument types). */
  name: string;
  owner: string;
}

/** The objects of a database the copy is about. */
export interface Inventory {
  /** Everything but the system schemas, schema public, plpgsql and the members of extensions (by kind, then name). */
  objects: DbObject[];
  /** Number of large objects. */
  largeObjects: number;
  /** Large objects not owned by the role given to {@link inventory} (0 without a role). */
  largeObjectsNotOwned: number;
}

const USER_SCHEMA = (nsp: string): string =>
  `${nsp}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${nsp}.nspname NOT LIKE 'pg\\_toast%' AND ${nsp}.nspname NOT LIKE 'pg\\_temp\\_%'`;

const OBJECTS_SQL = `
SELECT o.kind, o.name, o.owner FROM (
  SELECT 'schema' AS kind, n.nspname::text AS name, pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner, n.oid, 'pg_catalog.pg_namespace'::regclass AS cls
    FROM pg_catalog.pg_namespace n WHERE ${USER_SCHEMA('n')} AND n.nspname <> 'public'
  UNION ALL
  SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'type' END,
         c.oid::regclass::text, pg_catalog.pg_get_userbyid(c.relowner)::text, c.oid, 'pg_catalog.pg_class'::regclass
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND ${USER_SCHEMA('n')}
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
         p.oid::regprocedure::text, pg_catalog.pg_get_userbyid(p.proowner)::text, p.oid, 'pg_catalog.pg_proc'::regclass
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA('n')}
  UNION ALL
  SELECT 'type', t.oid::regtype::text, pg_catalog.pg_get_userbyid(t.typowner)::text, t.oid, 'pg_catalog.pg_type'::regclass
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typtype IN ('d', 'e', 'r') AND ${USER_SCHEMA('n')}
  UNION ALL
  SELECT 'extension', e.extname::text, pg_catalog.pg_get_userbyid(e.extowner)::text, e.oid, 'pg_catalog.pg_extension'::regclass
    FROM pg_catalog.pg_extension e WHERE e.extname <> 'plpgsql'
) o
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = o.cls AND d.objid = o.oid AND d.deptype = 'e')
ORDER BY 1, 2`;

/**
 * Lists a database's objects (see {@link Inventory}).
 * @param role when given, also counts the large objects it does not own.
 */
export async function inventory(client: Client, role?: string): Promise<Inventory> {
  const objects = (await client.query<DbObject>(OBJECTS_SQL)).rows.map((r) => ({ kind: r.kind, name: r.name, owner: r.owner }));
  const lo = await client.query<{ n: string; other: string }>(
    `SELECT count(*)::text AS n, count(*) FILTER (WHERE pg_catalog.pg_get_userbyid(lomowner) IS DISTINCT FROM $1)::text AS other
       FROM pg_catalog.pg_largeobject_metadata`,
    [role ?? null],
  );
  const row = lo.rows[0]!;
  return { objects, largeObjects: Number(row.n), largeObjectsNotOwned: role === undefined ? 0 : Number(row.other) };
}

/** What the target role may do, from the target session's point of view. */
export interface RoleRights {
  exists: boolean;
  /** The session's user may `SET ROLE` to it (itself, a superuser, a member; on 16+ with the SET option). */
  canSetRole: boolean;
  /** It may create schemas in the database. */
  createOnDatabase: boolean;
  /** It may create objects in schema public (false when there is no schema public). */
  createOnPublic: boolean;
  superuser: boolean;
}

/** The owner of the session's database. */
export async function databaseOwner(client: Client): Promise<string> {
  const r = await client.query<{ o: string }>('SELECT pg_catalog.pg_get_userbyid(datdba)::text AS o FROM pg_catalog.pg_database WHERE datname = current_database()');
  return r.rows[0]!.o;
}

/** Reads what `role` may do in the session's database. */
export async function roleRights(client: Client, role: string, versionNum: number): Promise<RoleRights> {
  const setCheck = versionNum >= 160000 ? "pg_catalog.pg_has_role(current_user, r.oid, 'SET')" : "pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')";
  const r = await client.query<{ su: boolean; canset: boolean; dbcreate: boolean; pubcreate: boolean | null }>(
    `SELECT r.rolsuper AS su,
            (r.rolname = current_user OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) OR ${setCheck}) AS canset,
            pg_catalog.has_database_privilege(r.oid, current_database(), 'CREATE') AS dbcreate,
            CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public')
                 THEN pg_catalog.has_schema_privilege(r.oid, 'public', 'CREATE') END AS pubcreate
       FROM pg_catalog.pg_roles r WHERE r.rolname = $1`,
    [role],
  );
  const row = r.rows[0];
  if (!row) return { exists: false, canSetRole: false, createOnDatabase: false, createOnPublic: false, superuser: false };
  return { exists: true, canSetRole: row.canset, createOnDatabase: row.dbcreate, createOnPublic: row.pubcreate === true, superuser: row.su };
}

/** Extensions the target cannot create as `role`: not available there, or not trusted and the role is no superuser. */
export async function unavailableExtensions(client: Client, names: string[], roleIsSuperuser: boolean): Promise<Array<{ name: string; reason: string }>> {
  if (names.length === 0) return [];
  const r = await client.query<{ name: string; available: boolean; trusted: boolean; installed: boolean }>(
    `SELECT x.name,
            EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = x.name) AS available,
            COALESCE((SELECT bool_or(v.trusted) FROM pg_catalog.pg_available_extension_versions v WHERE v.name = x.name), false) AS trusted,
            EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = x.name) AS installed
       FROM unnest($1::text[]) AS x(name) ORDER BY 1`,
    [names],
  );
  return r.rows
    .filter((x) => !x.installed && (!x.available || (!x.trusted && !roleIsSuperuser)))
    .map((x) => ({ name: x.name, reason: x.available ? 'is not a trusted extension, so only a superuser may create it' : 'is not installed on the target server' }));
}

/** Reads the target server's connection facts (see budget.ts). */
export async function serverConnections(client: Client, versionNum: number): Promise<ServerConnections> {
  const reserved = versionNum >= 160000 ? "current_setting('superuser_reserved_connections')::int + current_setting('reserved_connections')::int" : "current_setting('superuser_reserved_connections')::int";
  const r = await client.query<{ max: number; reserved: number; inuse: number }>(
    `SELECT current_setting('max_connections')::int AS max, ${reserved} AS reserved,
            (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int AS inuse`,
  );
  const roles = await client.query<{ role: string; lim: number }>(
    'SELECT rolname::text AS role, rolconnlimit AS lim FROM pg_catalog.pg_roles WHERE rolcanlogin AND NOT rolsuper ORDER BY 1',
  );
  const row = r.rows[0]!;
  return { maxConnections: row.max, reservedConnections: row.reserved, inUse: row.inuse, loginRoles: roles.rows.map((x) => ({ role: x.role, connectionLimit: x.lim })) };
}

/** Sessions of another migrate run (or its pg_restore) in the session's database. */
export async function otherMigrateSessions(client: Client, applicationName: string): Promise<Array<{ pid: number; state: string }>> {
  const r = await client.query<{ pid: number; state: string | null }>(
    `SELECT pid, state FROM pg_catalog.pg_stat_activity
      WHERE datname = current_database() AND application_name = $1 AND pid <> pg_catalog.pg_backend_pid() ORDER BY pid`,
    [applicationName],
  );
  return r.rows.map((x) => ({ pid: x.pid, state: x.state ?? 'unknown' }));
}

/** A table's content, summarized. */
export interface TableSum {
  rows: number;
  /**
   * 32 hex digits: the exact sum, over every row, of a 64-bit hash of
   * the row ({@link RowHashing}: of its columns' values, or of `row::text`),
   * hashed together with the count.
   * Independent of row order and of any key, sensitive to duplicates (two
   * different multisets of rows give the same sum with a chance of about
   * 2⁻⁶⁴); additive, so a table can be summed in parts.
   */
  checksum: string;
}

/** The 64-bit hash of a row's text that the checksums sum. */
export enum RowHash {
  /** `hashtextextended(text COLLATE "C", 0)`: PostgreSQL's own 64-bit hash of the bytes; used when both servers compute the same values. */
  HashTextExtended = 'hashtextextended',
  /** The first 64 bits of `md5(text)`: portable everywhere, slower. */
  Md5 = 'md5',
}

/** SQL of the 64-bit hash of the text `expr`. */
function rowHashSql(expr: string, hash: RowHash): string {
  return hash === RowHash.HashTextExtended
    ? `pg_catalog.hashtextextended((${expr}) COLLATE "C", 0)`
    : `('x' || pg_catalog.left(pg_catalog.md5(${expr}), 16))::bit(64)::bigint`;
}

/** A probe of texts of every length from 0 to 40 bytes (every tail of the hash's 12-byte blocks). */
export const HASH_PROBE = "SELECT pg_catalog.array_agg(pg_catalog.hashtextextended(pg_catalog.repeat('ps', i) || pg_catalog.chr(65 + i % 26) COLLATE \"C\", 0) ORDER BY i)::text AS h FROM pg_catalog.generate_series(0, 20) i";

/**
 * The row hash for two servers: {@link RowHash.HashTextExtended} when they
 * compute the same values for a probe of texts (the function is the same
 * byte hash on every major since 11, but its results are not promised to
 * be the same across CPU byte orders), else {@link RowHash.Md5}.
 */
export async function agreedRowHash(a: Client, b: Client): Promise<RowHash> {
  return (await sameOnBoth(a, b, HASH_PROBE)) ? RowHash.HashTextExtended : RowHash.Md5;
}

/** Whether a probe (one row, one text column `h`) gives the same value on both servers. */
async function sameOnBoth(a: Client, b: Client, probe: string): Promise<boolean> {
  const [x, y] = await Promise.all([a.query<{ h: string }>(probe), b.query<{ h: string }>(probe)]);
  return x.rows[0]!.h === y.rows[0]!.h;
}

/** The additive parts of a {@link TableSum}: the row count and the sum. */
export interface PartialSum {
  rows: bigint;
  sum: bigint;
}

/** Adds partial sums. */
export function addSums(x: PartialSum, y: PartialSum): PartialSum {
  return { rows: x.rows + y.rows, sum: x.sum + y.sum };
}

/** The empty sum. */
export const NO_ROWS: PartialSum = { rows: 0n, sum: 0n };

/** The printed form of a whole table's sum (the same numbers give the same checksum on both sides). */
export function finishSum(p: PartialSum): TableSum {
  return { rows: Number(p.rows), checksum: createHash('md5').update(`${p.rows}:${p.sum}`).digest('hex') };
}

/** Regular tables (and partitions) with data, excluding extension members: `"schema"."name"` text of regclass. */
export async function dataTables(client: Client): Promise<string[]> {
  const r = await client.query<{ t: string }>(
    `SELECT c.oid::regclass::text AS t FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND ${USER_SCHEMA('n')}
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1`,
  );
  return r.rows.map((x) => x.t);
}

/**
 * The aggregate of the hashes of the texts `expr`: sum(bigint) is exact
 * (PostgreSQL accumulates it in 128 bits or numeric), so no overflow and no wrap.
 */
const SUM_OF = (expr: string, hash: RowHash): string => sumOfHashes(rowHashSql(expr, hash));
const sumOfHashes = (hashSql: string): string => `count(*)::text AS n, COALESCE(pg_catalog.sum(${hashSql}), 0)::text AS s`;

/**
 * How the table checksums hash rows: the text hash for every table, and the
 * tables whose rows are hashed by their column types instead.
 */
export interface RowHashing {
  /** The hash of `row::text`. */
  text: RowHash;
  /**
   * Tables (regclass text) whose rows are hashed with
   * `hash_record_extended(row, 0)` (PostgreSQL 14+): each column's own
   * 64-bit hash, combined — a third of the cost of printing the row as text.
   * Empty unless both servers are 14+, agree on {@link RECORD_PROBE}, and
   * the text hash was not forced.
   */
  recordTables: ReadonlySet<string>;
}

/**
 * Built-in types whose 64-bit hash depends only on the value (never on an
 * oid of the server, unlike enums, `oid` or `reg*`) and is the same on every
 * major that has `hash_record_extended`: bool, bytea, int8, int2, int4,
 * text, float4, float8, bpchar, varchar, date, time, timestamp, timestamptz,
 * interval, timetz, numeric, uuid, jsonb, inet, cidr, macaddr (oids are fixed
 * across majors). Arrays of them too. The hashes follow the types' equality,
 * so values a type calls equal hash the same (numeric `1.0` and `1.00`,
 * float8 `0` and `-0`, interval `1 day` and `24 hours`); pg_dump copies
 * values as they print, so a copy keeps them the same anyway.
 */
export const RECORD_HASH_TYPE_OIDS = [16, 17, 20, 21, 23, 25, 700, 701, 1042, 1043, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950, 3802, 869, 650, 829] as const;

/** A row of every type in {@link RECORD_HASH_TYPE_OIDS} (and arrays, NULLs), hashed as a record: equal on both servers or record hashing is off. */
export const RECORD_PROBE = `SELECT pg_catalog.hash_record_extended(ROW(true, '\\x00ff'::bytea, -9876543210::int8, 7::int2, 123456::int4, 'text é'::text,
  1.5::float4, -2.25::float8, 'c'::bpchar, 'v'::varchar, '2026-01-02'::date, '03:04:05'::time, '2026-01-02 03:04:05'::timestamp,
  '2026-01-02 03:04:05+00'::timestamptz, '1 day 2 hours'::interval, '03:04:05+02'::timetz, 12.3400::numeric,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{"a": [1, 2], "b": null}'::jsonb, '10.1.2.3/32'::inet, '10.0.0.0/8'::cidr,
  '08:00:2b:01:02:03'::macaddr, ARRAY[1, 2, 3]::int4[], ARRAY['x', NULL]::text[], NULL::text), 0)::text AS h`;

/**
 * Whether both servers can hash rows as records with the same results:
 * both PostgreSQL 14+ (`hash_record_extended`) and equal on {@link RECORD_PROBE}.
 */
export async function agreeOnRecordHash(a: Client, b: Client, versionNums: [number, number]): Promise<boolean> {
  if (versionNums.some((v) => v < 140000)) return false;
  try {
    return await sameOnBoth(a, b, RECORD_PROBE);
  } catch {
    return false;
  }
}

/**
 * The tables among `tables` whose every column (after one level of domain)
 * is of a type in {@link RECORD_HASH_TYPE_OIDS} or an array of one, with a
 * deterministic collation (a nondeterministic one hashes equal strings of
 * other bytes the same); read on the source, applied to both sides.
 */
export async function recordHashTables(client: Client, tables: string[]): Promise<Set<string>> {
  if (tables.length === 0) return new Set();
  const r = await client.query<{ t: string }>(
    `SELECT c.oid::regclass::text AS t FROM pg_catalog.pg_class c
      WHERE c.oid::regclass::text = ANY($1::text[])
        AND NOT EXISTS (
          SELECT 1 FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
            JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
            LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             AND (NOT (bt.oid = ANY($2::oid[]) OR (bt.typcategory = 'A' AND bt.typelem = ANY($2::oid[])))
                  OR (co.oid IS NOT NULL AND NOT co.collisdeterministic)))`,
    [tables, [...RECORD_HASH_TYPE_OIDS]],
  );
  return new Set(r.rows.map((x) => x.t));
}

function partial(row: { n: string; s: string }): PartialSum {
  return { rows: BigInt(row.n), sum: BigInt(row.s) };
}

/** A part of a table to sum: the whole table, or the rows in heap blocks [fromBlock, toBlock). */
export interface SumUnit {
  table: string;
  /** First heap block (inclusive); absent = from the start. */
  fromBlock?: number;
  /** Last heap block (exclusive); absent = to the end (rows added since the sizes were read included). */
  toBlock?: number;
  /** Heap pages in the unit, for ordering (largest first). */
  pages: number;
}

/** Tables smaller than this many heap pages (8 kB each) are summed whole. */
export const MIN_SPLIT_PAGES = 2048;

/**
 * Cuts each table into at most `parts` block ranges of its heap (PostgreSQL
 * 14+, where a ctid range is a TID range scan; before, each table is one
 * unit), largest units first. Each side cuts by its own sizes: the units of
 * one table cover all its rows whatever the physical layout.
 */
export async function sumUnits(client: Client, tables: string[], parts: number, versionNum: number): Promise<SumUnit[]> {
  const units: SumUnit[] = [];
  for (const table of tables) {
    const r = await client.query<{ p: string }>(`SELECT (pg_catalog.pg_relation_size($1::regclass) / current_setting('block_size')::int)::text AS p`, [table]);
    const pages = Number(r.rows[0]!.p);
    const n = versionNum >= 140000 && pages >= MIN_SPLIT_PAGES ? Math.max(1, parts) : 1;
    const step = Math.ceil(pages / n);
    for (let i = 0; i < n; i++) {
      const unit: SumUnit = { table, pages: n === 1 ? pages : Math.min(step, pages - i * step) };
      if (i > 0) unit.fromBlock = i * step;
      if (i < n - 1) unit.toBlock = (i + 1) * step;
      units.push(unit);
    }
  }
  return units.sort((x, y) => y.pages - x.pages);
}

/** The partial sum of one unit (`FROM ONLY`: a parent's own rows, as pg_dump copies them). */
export async function unitSum(client: Client, u: SumUnit, hash: RowHashing): Promise<PartialSum> {
  const where = [
    ...(u.fromBlock !== undefined ? [`t.ctid >= '(${u.fromBlock},0)'::tid`] : []),
    ...(u.toBlock !== undefined ? [`t.ctid < '(${u.toBlock},0)'::tid`] : []),
  ];
  // `t.*`, not `t`: in a table with a column named "t", a bare `t` is that column, not the row.
  const sum = hash.recordTables.has(u.table) ? sumOfHashes('pg_catalog.hash_record_extended(t.*, 0)') : SUM_OF('(t.*)::text', hash.text);
  const r = await client.query<{ n: string; s: string }>(
    `SELECT ${sum} FROM ONLY ${u.table} AS t${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`,
  );
  return partial(r.rows[0]!);
}

/**
 * Sums every unit with the given sessions working in parallel (one query
 * at a time each); `onUnit` is called after each unit.
 * @returns each table's sum.
 */
export async function tableSums(clients: Client[], units: SumUnit[], hash: RowHashing, onUnit: () => void): Promise<Map<string, TableSum>> {
  const totals = new Map<string, PartialSum>();
  for (const u of units) totals.set(u.table, NO_ROWS);
  const queue = [...units];
  await Promise.all(
    clients.map(async (client) => {
      for (let u = queue.shift(); u !== undefined; u = queue.shift()) {
        const p = await unitSum(client, u, hash);
        totals.set(u.table, addSums(totals.get(u.table) as PartialSum, p));
        onUnit();
      }
    }),
  );
  return new Map([...totals].map(([t, p]) => [t, finishSum(p)]));
}

/** Large objects are read in parts of this many bytes (`lo_get` of a whole object of 1 GB or more fails). */
export const LARGE_OBJECT_PART_BYTES = 1024 * 1024;

/**
 * The checksum of every large object: the sum of a hash of each part
 * ({@link LARGE_OBJECT_PART_BYTES}) as its oid, offset and md5; `rows` is the
 * number of large objects. Reads one part of an object at a time, so objects
 * of any size (up to 4 TB) are summed.
 */
export async function largeObjectSum(client: Client, hash: RowHash): Promise<TableSum> {
  const part = LARGE_OBJECT_PART_BYTES;
  const r = await client.query<{ n: string; s: string }>(
    `WITH RECURSIVE parts (oid, off, len, h) AS (
       SELECT l.oid, 0::bigint, pg_catalog.length(b), pg_catalog.md5(b)
         FROM pg_catalog.pg_largeobject_metadata l, pg_catalog.lo_get(l.oid, 0, ${part}) AS b
       UNION ALL
       SELECT p.oid, p.off + ${part}, pg_catalog.length(b), pg_catalog.md5(b)
         FROM parts p, pg_catalog.lo_get(p.oid, p.off + ${part}, ${part}) AS b WHERE p.len = ${part}
     )
     SELECT count(*) FILTER (WHERE off = 0)::text AS n, COALESCE(pg_catalog.sum(${rowHashSql("oid::text || ':' || off::text || ':' || h", hash)}), 0)::text AS s FROM parts`,
  );
  return finishSum(partial(r.rows[0]!));
}

/** A sequence's state. */
export interface SequenceState {
  lastValue: string;
  isCalled: boolean;
  /** The sequence's increment (negative: a descending sequence). */
  increment: string;
}

/**
 * Every sequence (not an extension member) and its last_value / is_called.
 * A sequence is not transactional: this is its state when it is read, even
 * inside a snapshot.
 */
export async function sequenceStates(client: Client): Promise<Map<string, SequenceState>> {
  const names = await client.query<{ s: string; inc: string }>(
    `SELECT c.oid::regclass::text AS s, q.seqincrement::text AS inc
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_sequence q ON q.seqrelid = c.oid
      WHERE c.relkind = 'S' AND ${USER_SCHEMA('n')}
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1`,
  );
  const out = new Map<string, SequenceState>();
  for (const { s, inc } of names.rows) {
    const r = await client.query<{ v: string; c: boolean }>(`SELECT last_value::text AS v, is_called AS c FROM ${s}`);
    out.set(s, { lastValue: r.rows[0]!.v, isCalled: r.rows[0]!.c, increment: inc });
  }
  return out;
}

/** Installed extensions and their versions. */
export async function extensions(client: Client): Promise<Map<string, string>> {
  const r = await client.query<{ n: string; v: string }>('SELECT extname::text AS n, extversion AS v FROM pg_catalog.pg_extension ORDER BY 1');
  return new Map(r.rows.map((x) => [x.n, x.v]));
}

/** `SET ROLE <role>` for the rest of the session. */
export async function setRole(client: Client, role: string): Promise<void> {
  await client.query(`SET ROLE ${quoteIdent(role)}`);
}

const ACL_OBJECT_TYPE: Record<string, SchemaObjectType> = { r: SchemaObjectType.Table, S: SchemaObjectType.Sequence };

/**
 * What `owner`'s default privileges in schema public give other roles (in
 * the least-privilege shape: the app and read-only roles' table and sequence
 * privileges), as grants with `defaults` (privileges sorted). `[]` when there
 * are none (the owner shape) or no schema public.
 */
export async function publicDefaultGrants(client: Client, owner: string): Promise<SchemaGrantPlan[]> {
  const r = await client.query<{ role: string; t: string; p: string[] }>(
    `SELECT pg_catalog.pg_get_userbyid(a.grantee)::text AS role, d.defaclobjtype::text AS t, pg_catalog.array_agg(a.privilege_type::text ORDER BY a.privilege_type) AS p
       FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace AND n.nspname = 'public'
            CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a
      WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND d.defaclobjtype IN ('r', 'S') AND a.grantee <> 0
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [owner],
  );
  return r.rows.map((x) => ({ schema: 'public', role: x.role, objectType: ACL_OBJECT_TYPE[x.t] as SchemaObjectType, privileges: x.p, defaults: true }));
}

const HAS_PRIVILEGE: Record<string, { fn: string; relkinds: string; what: string }> = {
  [SchemaObjectType.Table]: { fn: 'has_table_privilege', relkinds: "('r','p','v','m','f')", what: 'table' },
  [SchemaObjectType.Sequence]: { fn: 'has_sequence_privilege', relkinds: "('S')", what: 'sequence' },
};

/**
 * The privileges among `grants` that do not hold in the session's database,
 * as `"<role>: <privilege> on <kind> <name>"` (kind `schema`, `table` (views
 * too), `sequence`, or `default privileges for <kind>s in schema`).
 * Effective privileges (`has_*_privilege`: membership and PUBLIC count);
 * default privileges as the owner's `pg_default_acl` entries.
 */
export async function missingPrivileges(client: Client, owner: string, grants: readonly SchemaGrantPlan[]): Promise<string[]> {
  const missing: string[] = [];
  for (const g of grants) {
    if (g.objectType === SchemaObjectType.Schema) {
      const r = await client.query<{ p: string }>(
        `SELECT p FROM unnest($3::text[]) AS p WHERE NOT pg_catalog.has_schema_privilege($1::name, $2::text, p)`,
        [g.role, g.schema, g.privileges],
      );
      missing.push(...r.rows.map((x) => `${g.role}: ${x.p} on schema ${g.schema}`));
      continue;
    }
    const k = HAS_PRIVILEGE[g.objectType]!;
    const objects = await client.query<{ o: string; p: string }>(
      `SELECT c.oid::regclass::text AS o, p FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, unnest($3::text[]) AS p
        WHERE n.nspname = $2 AND c.relkind IN ${k.relkinds}
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
          AND NOT pg_catalog.${k.fn}($1::name, c.oid, p) ORDER BY 1, 2`,
      [g.role, g.schema, g.privileges],
    );
    missing.push(...objects.rows.map((x) => `${g.role}: ${x.p} on ${k.what} ${x.o}`));
    if (g.defaults) {
      const d = await client.query<{ p: string }>(
        `SELECT p FROM unnest($4::text[]) AS p
          WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
                                 CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a
                             WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND n.nspname = $3
                               AND d.defaclobjtype = $5 AND a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2) AND a.privilege_type = p)`,
        [owner, g.role, g.schema, g.privileges, g.objectType === SchemaObjectType.Table ? 'r' : 'S'],
      );
      missing.push(...d.rows.map((x) => `${g.role}: ${x.p} by default privileges for ${k.what}s in schema ${g.schema}`));
    }
  }
  return missing;
}
