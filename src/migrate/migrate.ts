/**
 * `migrateDatabase`: copies one database to another server with
 * pg_dump/pg_restore and verifies the copy — the seed's manual "Migrating
 * from local to external Postgres" as one checked, repeatable step.
 *
 * Order of work (nothing is written to the target before step 4):
 * 1. both ends: URLs, reachability with their TLS settings, server versions,
 *    not the same database, pg_dump/pg_restore new enough for the source;
 * 2. the target: the owner role exists, the URL's user may `SET ROLE` to it,
 *    it may create schemas (and in schema public when the source uses it)
 *    and the source's extensions; no other migrate is running there; the
 *    server's connection budget (budget.ts);
 * 3. the target database is empty — or holds exactly the source's objects
 *    (a previous run's copy, e.g. one interrupted after the restore
 *    committed): then nothing is copied and that copy is verified;
 * 4. the copy (copy.ts: one pg_restore transaction);
 * 5. in the least-privilege shape, the grants the owner's default
 *    privileges give the app and read-only roles in schema public, made in
 *    each restored schema outside public (`grantsLikePublic`);
 * 6. the verification (verify.ts) against the snapshot pg_dump read: the
 *    table checksums in parts ({@link VERIFY_SESSIONS} sessions per side in
 *    parallel; the source's start with the copy), then sequences (between
 *    their values at the snapshot and after the copy), large objects,
 *    extensions, ownership and the app and read-only roles' privileges.
 *
 * A failure in 1–4 writes nothing (a {@link MigrateError}: the restore is
 * one transaction); from the restore's commit on it is a
 * {@link MigrateNotVerifiedError}: the target holds the copy.
 */
import type { Client } from 'pg';
import { BudgetCheck, VERIFY_SESSIONS, checkServerBudget } from './budget';
import { DEFAULT_ADMIN_MAX_CONNECTIONS, engineParallelism } from '../core/budget';
import {
  DbObject,
  Inventory,
  RowHash,
  RowHashing,
  ServerFacts,
  agreedRowHash,
  agreeOnRecordHash,
  recordHashTables,
  dataTables,
  databaseOwner,
  extensions,
  inventory,
  largeObjectSum,
  missingPrivileges,
  otherMigrateSessions,
  pinOutputSettings,
  publicDefaultGrants,
  roleRights,
  sameDatabase,
  sequenceStates,
  serverConnections,
  serverFacts,
  setRole,
  sumUnits,
  tableSums,
  unavailableExtensions,
} from './catalog';
import { Endpoint, EndpointSummary, MIGRATE_APPLICATION_NAME, connect, parseEndpoint, secretsOf, summarize, writePassFiles } from './connection';
import { quoteIdent, quoteLiteral } from '../core/identifiers';
import { SchemaGrantPlan, grantsLikePublic } from '../core/plan';
import { CHANGE_NOTICE_PREFIX, renderSchemaGrantsSql } from '../core/render-sql';
import { CopyProgress, CopyResult, extensionCommentsNote, foreignExtensions, runCopy } from './copy';
import { MigrateError, MigrateErrorCode, MigrateNotVerifiedError, redact } from './errors';
import { findPgTools, pickPgTools } from './tools';
import { SequenceComparison, SideReading, Verification, compare, sameObjects } from './verify';

/** The oldest source major migrate supports (float output and the catalogs it reads). */
export const MIN_SOURCE_MAJOR = 12;

/** Options of {@link migrateDatabase}. */
export interface MigrateOptions {
  /**
   * The source database as a libpq URL, e.g.
   * `postgres://postgres:pw@127.0.0.1:5432/app?sslmode=disable`. Its user
   * must be able to read everything (what pg_dump needs). See
   * `parseEndpoint` for the accepted parameters (`sslmode` is required).
   */
  from: string;
  /**
   * The target database as a libpq URL: the empty database the stack created
   * for the instance, as its owner login (owner shape) or as the admin
   * (least-privilege shape, or any admin that may `SET ROLE` to the owner).
   */
  to: string;
  /** The role that will own everything restored. @default the target database's owner */
  role?: string;
  /** A directory holding pg_dump and pg_restore. @default the newest found (tools.ts) */
  pgBin?: string;
  /**
   * The 64-bit hash of each row's text that the table checksums sum. Given,
   * it is used for every table (no hashing by column types).
   * @default by column types (`hash_record_extended`) for the tables whose
   *   columns all have value-only hashes, when both servers are PostgreSQL
   *   14+ and agree on a probe; the others {@link RowHash.HashTextExtended}
   *   when both servers compute the same values for a probe, else
   *   {@link RowHash.Md5}
   */
  rowHash?: RowHash;
  /** Called with progress while checking, copying and verifying. @default nothing is reported */
  onProgress?: (p: MigrateProgress) => void;
  /**
   * Aborting it stops the run: pg_dump and pg_restore get SIGTERM (the
   * restore rolls back), the sessions are closed, the password files
   * removed; the promise then rejects (see {@link migrateDatabase}).
   */
  signal?: AbortSignal;
}

/** Progress of the verification on one side: checksum parts (tables, or block ranges of big tables) done. */
export interface VerifyProgress {
  phase: 'verify';
  side: 'source' | 'target';
  done: number;
  total: number;
}

/** Progress of a run. */
export type MigrateProgress = { phase: 'check'; message: string } | CopyProgress | VerifyProgress;

/** What a run did. */
export enum MigrateOutcome {
  /** The target was empty; the source was copied into it, then verified. */
  Copied = 'copied',
  /**
   * The target already held the source's objects (an earlier run's copy);
   * nothing was copied, the copy was verified.
   */
  AlreadyCopied = 'already-copied',
}

/**
 * How a run ended, and the command's exit code for it: the `status` of the
 * JSON the command prints.
 */
export enum MigrateStatus {
  /** Exit 0: copied (or already copied) and verified, no difference. */
  Verified = 'verified',
  /** Exit 1: the verification found differences (`nextStep` says what to do). */
  Differs = 'differs',
  /** Exit 2: refused by a check, or the copy failed and rolled back: nothing was written to the target. */
  Refused = 'refused',
  /** Exit 3: the target holds the copy (restored, or an earlier run's), but it was not verified. */
  NotVerified = 'not-verified',
  /** Exit 130 (SIGINT) or 143 (SIGTERM): the command was interrupted; it says whether the target holds the copy. */
  Interrupted = 'interrupted',
}

/** The command's exit code per {@link MigrateStatus} (interrupted: 128 + the signal's number). */
export const MIGRATE_EXIT_CODES: Readonly<Record<Exclude<MigrateStatus, MigrateStatus.Interrupted>, number>> = {
  [MigrateStatus.Verified]: 0,
  [MigrateStatus.Differs]: 1,
  [MigrateStatus.Refused]: 2,
  [MigrateStatus.NotVerified]: 3,
};

/** The result of {@link migrateDatabase}. */
export interface MigrateResult {
  /** True when the verification found no difference. */
  ok: boolean;
  /** `verified` (ok) or `differs`. */
  status: MigrateStatus.Verified | MigrateStatus.Differs;
  outcome: MigrateOutcome;
  source: EndpointSummary & { serverVersion: string };
  target: EndpointSummary & { serverVersion: string; role: string };
  tools: { pgDump: string; pgRestore: string; version: string; major: number };
  /** Notes that do not fail the run (e.g. pg_dump older than the target's major). */
  notes: string[];
  budget: BudgetCheck;
  /** The row-text hash both sides' checksums used (`hashtextextended` when both servers agree on a probe, else `md5`). */
  rowHash: RowHash;
  /**
   * The tables whose checksums hashed rows by their column types
   * (`hash_record_extended`) instead of their text; see `rowHash`.
   */
  recordHashTables: string[];
  /** The copy; absent for {@link MigrateOutcome.AlreadyCopied}. */
  copy?: CopyResult;
  verification: Verification;
  /** When not ok: what to do next. */
  nextStep?: string;
  /** Wall-clock seconds of each phase. */
  seconds: { checks: number; copy: number; verify: number; total: number };
}

function since(t: number): number {
  return Math.round((Date.now() - t) / 10) / 100;
}

function describeObjects(objects: DbObject[], largeObjects: number): string {
  const names = objects.map((o) => `${o.kind} ${o.name}`);
  if (largeObjects > 0) names.push(`${largeObjects} large object(s)`);
  const shown = names.slice(0, 8).join(', ');
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
}

/** The first `n` names, and how many more. */
function some(names: string[], n = 4): string {
  return names.length > n ? `${names.slice(0, n).join(', ')} and ${names.length - n} more` : names.join(', ');
}

/** What differs, in a sentence: the kinds of items and the first few names. */
function describeDifferences(v: Verification): string {
  const seq = (s: SequenceComparison): string => `${s.sequence} (source ${s.source?.lastValue ?? 'missing'}, target ${s.target?.lastValue ?? 'missing'})`;
  const parts = [
    [v.tables.filter((t) => !t.equal).map((t) => t.table), 'table(s)'],
    [v.sequences.filter((x) => !x.equal).map(seq), 'sequence(s)'],
    [v.largeObjects.equal ? [] : ['large objects'], ''],
    [v.extensions.filter((e) => !e.equal).map((e) => e.extension), 'extension(s)'],
    [[...v.objects.onlyInSource.map((o) => `${o} (source only)`), ...v.objects.onlyInTarget.map((o) => `${o} (target only)`)], 'object(s)'],
    [v.ownership.notOwned.map((o) => `${o.kind} ${o.name}`), `not owned by ${v.ownership.role}:`],
    [v.privileges.missing, 'missing privilege(s):'],
  ] as Array<[string[], string]>;
  return parts
    .filter(([names]) => names.length > 0)
    .map(([names, label]) => (label === '' ? some(names) : `${label} ${some(names)}`))
    .join('; ');
}

/**
 * Which side moved on, from the sequences: the target handed out values the
 * source has not (it took writes since the copy), or the source did.
 */
function whichSideMoved(v: Verification): string {
  const ahead = (side: 'source' | 'target'): string[] => v.sequences.filter((s) => s.ahead === side).map((s) => s.sequence);
  const [target, source] = [ahead('target'), ahead('source')];
  if (target.length > 0) {
    return `The target's sequence(s) ${some(target)} are ahead of the source's: the target has taken writes since the copy${source.length > 0 ? `, and the source too (${some(source)})` : ''}`;
  }
  if (source.length > 0) return `The source's sequence(s) ${some(source)} are ahead of the target's: the source has taken writes since the copy`;
  return 'The sequences do not tell which side changed';
}

/**
 * The SQL to empty a target (the exact next step of a refusal). The refresh
 * is not bounded by the stack's lanes: it runs at the `--parallel` that keeps
 * the smallest default admin share (`engineParallelism(4)` = 2; the stack's
 * own is `budget.adminParallel`), see test/e2e/engine/scale.test.ts.
 */
function emptyTargetStep(target: Endpoint): string {
  const db = quoteIdent(target.database);
  return (
    `empty the target database: as the server's admin run DROP DATABASE ${db} WITH (FORCE); ` +
    `then let the stack create it again (pulumi refresh --yes --parallel ${engineParallelism(DEFAULT_ADMIN_MAX_CONNECTIONS)} && pulumi up --yes re-creates it with its owner and grants), and run migrate again`
  );
}

/**
 * Reads one side's content with `clients` (the first one for the catalogs;
 * all of them for the table checksums, in parallel), sequences aside (the
 * caller reads them when their moment comes). `objects` is the side's
 * inventory: the source's was read in the copy's snapshot before the copy.
 */
export async function read(
  side: VerifyProgress['side'],
  clients: Client[],
  tables: string[],
  versionNum: number,
  hash: RowHashing,
  progress: (p: MigrateProgress) => void,
  objects: Inventory | Promise<Inventory>,
): Promise<SideReading> {
  const main = clients[0] as Client;
  const inv = await objects;
  const units = await sumUnits(main, tables, clients.length, versionNum);
  let done = 0;
  const sums = await tableSums(clients, units, hash, () => progress({ phase: 'verify', side, done: ++done, total: units.length }));
  return {
    inventory: inv,
    tables: sums,
    sequences: new Map(),
    largeObjects: await largeObjectSum(main, hash.text),
    extensions: await extensions(main),
  };
}

/** Opens `n` more sessions to `endpoint`, each prepared by `prepare`; closes them all if one fails. */
export async function moreSessions(n: number, endpoint: Endpoint, secrets: readonly string[], prepare: (c: Client) => Promise<void>): Promise<Client[]> {
  const opened = await Promise.allSettled(Array.from({ length: n }, () => connect(endpoint, secrets)));
  const ok = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await Promise.all(ok.map(prepare));
    return ok;
  } catch (e) {
    await Promise.all(ok.map((c) => c.end().catch(() => undefined)));
    throw e;
  }
}

/**
 * The sessions that sum one side's tables: `first` and
 * {@link VERIFY_SESSIONS} − 1 more to `endpoint`, each added to `opened`
 * (the caller closes them) with its output settings pinned, then made ready
 * by `prepare` (e.g. {@link readSnapshot}, or a SET ROLE).
 */
export async function verifySessions(first: Client, endpoint: Endpoint, secrets: readonly string[], opened: Client[], prepare: (c: Client) => Promise<void>): Promise<Client[]> {
  const more = await moreSessions(VERIFY_SESSIONS - 1, endpoint, secrets, async (c) => {
    opened.push(c);
    await pinOutputSettings(c);
    await prepare(c);
  });
  return [first, ...more];
}

/** Makes `c` read `snapshot` (exported by another session) in a read-only REPEATABLE READ transaction. */
export async function readSnapshot(c: Client, snapshot: string): Promise<void> {
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  await c.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
}

/**
 * After a failed copy: rethrows its error when the target is still empty
 * (the restore rolled back, as one transaction does); else, or when that
 * cannot be read, a {@link MigrateNotVerifiedError} (a failure at the very
 * commit may leave it committed).
 */
async function stillEmpty(e: unknown, tgt: Client, role: string, srcExtensions: string[], signal?: AbortSignal): Promise<never> {
  if (signal?.aborted || !(e instanceof MigrateError)) throw e;
  const after = await inventory(tgt, role).catch(() => undefined);
  const rest = after?.objects.filter((o) => !(o.kind === 'extension' && srcExtensions.includes(o.name)));
  if (after !== undefined && rest?.length === 0 && after.largeObjects === 0) throw e;
  throw new MigrateNotVerifiedError(
    MigrateOutcome.Copied,
    undefined,
    `${e.problem.trim()}; yet the target ${after !== undefined ? `holds ${describeObjects(rest ?? [], after.largeObjects)}` : 'could not be read afterwards'}, so the restore may have committed`,
    'Run migrate again with the same URLs: it verifies the copy if the target holds one, and copies into an empty target',
  );
}

/**
 * Makes, in each of `schemas` but public, the grants the owner's default
 * privileges give in schema public (`grantsLikePublic`, rendered by the
 * bootstrap's own renderer), as `owner`; idempotent.
 * @returns the changes made (the renderer's NOTICEs), e.g. `granted USAGE on schema billing to vw_app`.
 */
async function grantOutsidePublic(client: Client, owner: string, publicGrants: SchemaGrantPlan[], schemas: string[]): Promise<string[]> {
  const grants = schemas.filter((s) => s !== 'public').flatMap((schema) => grantsLikePublic(publicGrants, schema, owner));
  if (grants.length === 0) return [];
  const changes: string[] = [];
  const onNotice = (n: { message?: string }): void => {
    if (n.message?.startsWith(CHANGE_NOTICE_PREFIX)) changes.push(n.message.slice(CHANGE_NOTICE_PREFIX.length + 1));
  };
  client.on('notice', onNotice);
  try {
    await client.query(renderSchemaGrantsSql(owner, grants));
  } finally {
    client.off('notice', onNotice);
  }
  return changes;
}

/**
 * Copies the `from` database into the `to` database and verifies the copy.
 *
 * Safe to run again at any point: an interrupted copy leaves the target
 * empty (the restore is one transaction) or fully restored; a rerun copies
 * into an empty target, verifies a target that holds exactly the source's
 * objects, and refuses anything else. It reads the source through one
 * exported snapshot (pg_dump and the verification see the same data), so
 * writes made to the source after the snapshot are not in the copy: stop
 * the application's writes before migrating.
 *
 * Passwords go to pg_dump/pg_restore through a 0600 PGPASSFILE, never
 * through their arguments; no message holds a password.
 *
 * @returns the result; `ok` is false when the verification found a difference
 *   (the target then holds the copy as restored; `nextStep` says what to do,
 *   and never to drop a target that may hold newer data).
 * @throws MigrateError before anything is written to the target for: a bad
 *   URL, an unreachable server (or not a PostgreSQL server), TLS refused or
 *   not verifying, a wrong password, a missing database, `from` and `to`
 *   being the same database, no pg_dump new enough for the source, a missing
 *   target role or one that cannot own the restored objects, a non-empty
 *   target, an exhausted connection budget, another migrate running; and
 *   (`copy-failed`) when pg_dump or pg_restore fails, in which case the
 *   restore was rolled back (checked: the target is empty).
 * @throws MigrateNotVerifiedError when anything fails after the restore
 *   committed (or in an already-copied target): the target holds the copy,
 *   not verified; a rerun verifies it.
 * @throws Error named `AbortError` when `signal` aborted the run before the
 *   restore committed (nothing of it stays in the target).
 */
export async function migrateDatabase(options: MigrateOptions): Promise<MigrateResult> {
  const started = Date.now();
  const progress = options.onProgress ?? ((): void => undefined);
  const source = parseEndpoint(options.from, '--from');
  const target = parseEndpoint(options.to, '--to');
  const secrets = secretsOf(source, target);
  const interrupted = (): Error => Object.assign(new Error('migrate was interrupted before the restore committed: nothing of the copy stays in the target'), { name: 'AbortError' });
  if (options.signal?.aborted) throw interrupted();
  progress({ phase: 'check', message: `connecting to ${source.host}:${source.port}/${source.database} and ${target.host}:${target.port}/${target.database}` });
  const clients: Client[] = [];
  // Aborted: every session closes, so whatever query runs fails at once (pg_dump/pg_restore are stopped by runCopy).
  const closeAll = (): void => clients.forEach((c) => void c.end().catch(() => undefined));
  options.signal?.addEventListener('abort', closeAll);
  const [src, tgt] = await Promise.allSettled([connect(source, secrets), connect(target, secrets)]);
  clients.push(...[src, tgt].flatMap((c) => (c.status === 'fulfilled' ? [c.value] : [])));
  if (options.signal?.aborted) closeAll();
  try {
    if (src.status === 'rejected') throw src.reason;
    if (tgt.status === 'rejected') throw tgt.reason;
    return await run(src.value, tgt.value, source, target, secrets, options, progress, started, clients);
  } catch (e) {
    if (e instanceof MigrateNotVerifiedError) throw e;
    if (options.signal?.aborted) throw interrupted();
    if (e instanceof MigrateError) throw e;
    throw new Error(redact(e instanceof Error ? e.message : String(e), secrets));
  } finally {
    options.signal?.removeEventListener('abort', closeAll);
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

async function run(
  src: Client,
  tgt: Client,
  source: Endpoint,
  target: Endpoint,
  /** The passwords, kept out of every message. */
  secrets: string[],
  options: MigrateOptions,
  progress: (p: MigrateProgress) => void,
  started: number,
  /** Every session opened, closed by the caller. */
  sessions: Client[],
): Promise<MigrateResult> {
  const [sf, tf]: ServerFacts[] = await Promise.all([serverFacts(src), serverFacts(tgt)]);
  if (sf.major < MIN_SOURCE_MAJOR) {
    throw new MigrateError(MigrateErrorCode.BadInput, '--from', `the source runs PostgreSQL ${sf.version}; migrate supports sources from PostgreSQL ${MIN_SOURCE_MAJOR} on`, 'Upgrade the source first, or copy with pg_dump/pg_restore by hand');
  }
  if (await sameDatabase(src, sf, tgt, tf)) {
    throw new MigrateError(
      MigrateErrorCode.SameDatabase,
      '--to',
      `is the same database as --from (database "${tf.database}" on the same server${sf.systemIdentifier ? `, system identifier ${sf.systemIdentifier}` : ''}), however the URLs name it`,
      'Point --to at the new server\'s database for this instance',
    );
  }
  const tools = pickPgTools(await findPgTools(options.pgBin), sf.major, sf.version, options.pgBin);
  const notes: string[] = [];
  if (tools.major < tf.major) {
    notes.push(
      `pg_dump/pg_restore ${tools.version} are older than the target (PostgreSQL ${tf.version}); restoring into a newer major is supported, and PostgreSQL recommends the newer pg_dump when one is available (--pg-bin)`,
    );
  }

  const role = options.role ?? (await databaseOwner(tgt));
  const rights = await roleRights(tgt, role, tf.versionNum);
  if (!rights.exists) {
    throw new MigrateError(MigrateErrorCode.Role, options.role !== undefined ? '--role' : '--to', `role "${role}" does not exist on the target server`, 'Create the instance on the target first (the stack\'s InstanceDatabase/SharedPostgres creates its owner role), or name an existing owner role with --role');
  }
  if (!rights.canSetRole) {
    throw new MigrateError(
      MigrateErrorCode.Role,
      '--to',
      `role "${tf.currentUser}" may not SET ROLE "${role}", so pg_restore cannot create objects owned by it`,
      `Connect as "${role}" itself (owner shape) or as an admin that is a member of it${tf.versionNum >= 160000 ? ' WITH SET TRUE' : ''} (the library's bootstrap grants the admin that membership)`,
    );
  }
  if (!rights.createOnDatabase) {
    throw new MigrateError(MigrateErrorCode.Role, options.role !== undefined ? '--role' : '--to', `role "${role}" may not create schemas in database "${tf.database}"`, `Make "${role}" the database's owner (as the stack does) or GRANT CREATE ON DATABASE to it`);
  }
  const busy = await otherMigrateSessions(tgt, MIGRATE_APPLICATION_NAME);
  if (busy.length > 0) {
    throw new MigrateError(
      MigrateErrorCode.Busy,
      '--to',
      `another migrate is still connected to database "${tf.database}" (backend pid ${busy.map((b) => `${b.pid} ${b.state}`).join(', ')}); a killed run's pg_restore rolls back when it notices its input ended`,
      `Wait a moment and run migrate again; if it stays, end it as the admin: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${MIGRATE_APPLICATION_NAME}' AND datname = ${quoteLiteral(tf.database)}`,
    );
  }
  const budget = checkServerBudget(await serverConnections(tgt, tf.versionNum));
  if (!budget.ok) {
    throw new MigrateError(MigrateErrorCode.Budget, '--to', `the target server's connection budget does not allow it: ${budget.problems.join('; ')}`, 'Lower the pools of the instances on this server (their roles\' CONNECTION LIMIT), raise max_connections, or put a pooler in front, before moving another instance here');
  }

  await Promise.all([pinOutputSettings(src), pinOutputSettings(tgt)]);
  const agreed = await agreedRowHash(src, tgt);
  if (options.rowHash === RowHash.HashTextExtended && agreed !== RowHash.HashTextExtended) {
    throw new MigrateError(MigrateErrorCode.BadInput, '--row-hash', 'the two servers compute different hashtextextended values (another CPU byte order?)', 'Use --row-hash md5, or leave the option out');
  }
  const textHash = options.rowHash ?? agreed;
  // Probed before the snapshot's transaction: a failed probe there would abort it.
  const byTypes = options.rowHash === undefined && (await agreeOnRecordHash(src, tgt, [sf.versionNum, tf.versionNum]));
  // One snapshot for pg_dump and for the source side of the verification.
  await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  const snapshot = (await src.query<{ s: string }>('SELECT pg_catalog.pg_export_snapshot() AS s')).rows[0]!.s;
  const [srcInv, tgtInv] = await Promise.all([inventory(src), inventory(tgt, role)]);

  const srcExtensions = srcInv.objects.filter((o) => o.kind === 'extension').map((o) => o.name);
  const missing = await unavailableExtensions(tgt, srcExtensions, rights.superuser);
  if (missing.length > 0) {
    throw new MigrateError(
      MigrateErrorCode.Role,
      '--to',
      `the source uses extension(s) the target role "${role}" cannot create: ${missing.map((m) => `${m.name} (${m.reason})`).join(', ')}`,
      'Install the extension on the target server and have a superuser run CREATE EXTENSION in the target database first (the copy then keeps it), or drop it from the source',
    );
  }
  const usesPublic = srcInv.objects.some((o) => o.kind !== 'extension' && o.kind !== 'schema' && o.name.startsWith('public.')) || srcInv.largeObjects > 0;
  if (usesPublic && !rights.createOnPublic) {
    throw new MigrateError(MigrateErrorCode.Role, '--to', `the source has objects in schema public, and role "${role}" may not create objects in schema public of the target`, `As the admin: GRANT CREATE ON SCHEMA public TO "${role}" in the target database (PostgreSQL 15+ gives it to the database owner)`);
  }

  // Extensions the source also has may be there already (a superuser creates an untrusted one first).
  const tgtObjects = tgtInv.objects.filter((o) => !(o.kind === 'extension' && srcExtensions.includes(o.name)));
  // pg_dump comments on every extension it dumps; only the extension's owner may (copy.ts skips those comments).
  const skipComments = foreignExtensions(tgtInv, srcExtensions, role, rights.superuser);
  const empty = tgtObjects.length === 0 && tgtInv.largeObjects === 0;
  let outcome = MigrateOutcome.Copied;
  if (!empty) {
    if (!sameObjects(srcInv, tgtInv)) {
      throw new MigrateError(
        MigrateErrorCode.TargetNotEmpty,
        '--to',
        `database "${tf.database}" is not empty and is not a copy of the source: it holds ${describeObjects(tgtInv.objects, tgtInv.largeObjects)}`,
        `Point --to at the empty database the stack created for this instance, or ${emptyTargetStep(target)}`,
      );
    }
    outcome = MigrateOutcome.AlreadyCopied;
    progress({ phase: 'check', message: `the target already holds the source's ${srcInv.objects.length} objects (an earlier run's copy): verifying it` });
  }
  const tables = await dataTables(src);
  const hash: RowHashing = { text: textHash, recordTables: byTypes ? await recordHashTables(src, tables) : new Set() };
  // Least-privilege shape: what the owner's default privileges in public give the app and read-only roles.
  const publicGrants = await publicDefaultGrants(tgt, role);
  // Sequences are not covered by the snapshot: pg_dump reads a value between this one and the one read after the copy.
  const sequencesAtSnapshot = await sequenceStates(src);
  const checksSeconds = since(started);

  // More sessions for the checksums: on the source they read the copy's snapshot.
  const sourceSessions = await verifySessions(src, source, secrets, sessions, (c) => readSnapshot(c, snapshot));
  let copy: CopyResult | undefined;
  const copyStarted = Date.now();
  let sourceReading: Promise<SideReading>;
  if (outcome === MigrateOutcome.Copied) {
    const passFiles = writePassFiles([source, target]);
    try {
      // pg_dump imports the snapshot at its start; the source side of the verification reads it meanwhile.
      const copying = runCopy({
        tools,
        source,
        target,
        role,
        snapshot,
        tables: tables.length,
        passFiles,
        secrets,
        skipExtensionComments: skipComments,
        onProgress: progress,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      sourceReading = read('source', sourceSessions, tables, sf.versionNum, hash, progress, srcInv);
      sourceReading.catch(() => undefined);
      copy = await copying.catch((e: unknown) => stillEmpty(e, tgt, role, srcExtensions, options.signal));
    } finally {
      passFiles.remove();
    }
    if (skipComments.length > 0) notes.push(extensionCommentsNote(skipComments));
  } else {
    sourceReading = read('source', sourceSessions, tables, sf.versionNum, hash, progress, srcInv);
  }
  const copySeconds = since(copyStarted);
  // From here on the target holds the copy: a failure is "not verified", never "nothing written".
  try {
    return await verifyCopy();
  } catch (e) {
    const message = redact(e instanceof Error ? e.message : String(e), secrets);
    const what = outcome === MigrateOutcome.Copied ? 'the copy was restored into the target (its transaction committed)' : "the target holds an earlier run's copy";
    throw new MigrateNotVerifiedError(
      outcome,
      copy,
      `${what}, but ${options.signal?.aborted ? 'the run was interrupted before the verification finished' : `the verification did not finish: ${message}`}`,
      'Run migrate again with the same URLs once the cause is gone: it finds the copy and verifies it without copying (nothing is dropped)',
    );
  }

  async function verifyCopy(): Promise<MigrateResult> {
    const verifyStarted = Date.now();
    const asRole = async (c: Client): Promise<void> => {
      if (role !== tf.currentUser) await setRole(c, role);
    };
    await asRole(tgt);
    const schemas = ['public', ...srcInv.objects.filter((o) => o.kind === 'schema').map((o) => o.name)];
    const granted = await grantOutsidePublic(tgt, role, publicGrants, schemas);
    if (granted.length > 0) notes.push(`granted in the restored schemas outside public what the owner's default privileges give in public: ${some(granted, 6)}`);
    const targetSessions = await verifySessions(tgt, target, secrets, sessions, asRole);
    const [sr, tr] = await Promise.all([
      sourceReading.then(async (r): Promise<SideReading> => ({ ...r, sequences: sequencesAtSnapshot, sequencesAfter: await sequenceStates(src) })),
      read('target', targetSessions, tables, tf.versionNum, hash, progress, inventory(tgt, role)).then(async (r): Promise<SideReading> => {
        // In public (the stack's grants) and in each schema restored: what the shape gives the app and read-only roles.
        const expected = schemas.flatMap((schema) => grantsLikePublic(publicGrants, schema, role));
        return {
          ...r,
          sequences: await sequenceStates(tgt),
          privileges: { roles: [...new Set(publicGrants.map((g) => g.role))], missing: await missingPrivileges(tgt, role, expected) },
        };
      }),
    ]);
    await Promise.all(sourceSessions.map((c) => c.query('COMMIT')));
    const verification = compare(sr, tr, role);
    const ok = verification.differences === 0;
    const moved = verification.sequences.filter((x) => x.equal && x.moved !== undefined);
    if (moved.length > 0) {
      notes.push(
        `the source took writes during the run: ${moved.length} sequence(s) advanced after the copy's snapshot (${some(moved.map((x) => `${x.sequence} by ${x.moved}`))}); ` +
          "what was written after the snapshot is not in the copy (the copy is the snapshot's, verified): stop the application's writes to the source before the cutover",
      );
    }
    const result: MigrateResult = {
      ok,
      status: ok ? MigrateStatus.Verified : MigrateStatus.Differs,
      outcome,
      source: { ...summarize(source), serverVersion: sf.version },
      target: { ...summarize(target), serverVersion: tf.version, role },
      tools: { pgDump: tools.pgDump, pgRestore: tools.pgRestore, version: tools.version, major: tools.major },
      notes,
      budget,
      rowHash: hash.text,
      recordHashTables: tables.filter((t) => hash.recordTables.has(t)),
      verification,
      seconds: { checks: checksSeconds, copy: copySeconds, verify: since(verifyStarted), total: since(started) },
    };
    if (copy) result.copy = copy;
    if (!ok) {
      const what = describeDifferences(verification);
      const targetMoved = verification.sequences.some((x) => x.ahead === 'target');
      // Never a destructive step when the target may hold newer data: an earlier copy may have been in use since.
      const keep =
        'migrate does not drop or replace a target that may hold newer data: if the application already writes to the target, the target is the one to keep. ' +
        'Find out which side holds the data to keep before changing either';
      result.nextStep =
        outcome === MigrateOutcome.AlreadyCopied
          ? `Stop here: the target already held a copy (from an earlier run), and it differs from the source: ${what}. ${whichSideMoved(verification)}. This run copied nothing. ${keep}`
          : targetMoved
            ? `Stop here: the copy differs from the source: ${what}. ${whichSideMoved(verification)}: something wrote to the target during the run. ${keep}`
            : `The copy differs from the source: ${what}. Keep using the source; to copy again, ${emptyTargetStep(target)}`;
    }
    return result;
  }
}
