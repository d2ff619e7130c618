/**
 * `restoreDatabase`: a backup from the object store into an empty
 * database, then verified against its manifest; `restoreDrill`: the same
 * into a scratch database that is dropped afterwards (`restore
 * --verify-only`), the drill a schedule or CI runs and alerts on.
 *
 * Order of work (nothing is written to the target before step 4):
 * 1. the location and the target URL; the store and the target reachable;
 *    the backup (the one named, or the newest under the prefix) and its
 *    manifest: encrypted ones need the key that made them (a wrong key is
 *    refused before anything is downloaded) and a manifest whose HMAC
 *    verifies;
 * 2. the target: a pg_restore at least as new as the pg_dump that wrote the
 *    backup; the owner role exists and the URL's user may SET ROLE to it;
 *    the extensions can be created; the server hashes rows as the source
 *    did (the manifest's probes);
 * 3. the target database is empty — or holds exactly the backup's objects
 *    (an earlier run's restore): then nothing is restored, it is verified;
 * 4. the dump streams from the store through this process (SHA-256, size,
 *    AES-256-GCM) into `pg_restore --single-transaction`; its last bytes
 *    reach pg_restore only after the whole dump matched the manifest, so
 *    altered bytes are never committed (pg_restore is stopped, the
 *    transaction rolls back). Extensions a superuser created in the target
 *    first keep their own comments: the archive's table of contents goes
 *    to `pg_restore --list` and the restore skips pg_dump's `COMMENT ON
 *    EXTENSION` of those (`--use-list`, as migrate's copy does);
 * 5. the verification: the target's objects, per-table row counts and
 *    checksums, sequences, large objects, extensions and ownership against
 *    the manifest (migrate's `compare`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Client } from 'pg';
import { formatS3Location } from '../core/backup';
import { quoteIdent } from '../core/identifiers';
import { HASH_PROBE, RECORD_PROBE, RowHash, databaseOwner, inventory, pinOutputSettings, roleRights, sequenceStates, serverFacts, setRole, unavailableExtensions } from '../migrate/catalog';
import { Endpoint, EndpointSummary, connect, parseEndpoint, secretsOf, summarize, writePassFiles } from '../migrate/connection';
import { extensionCommentsNote, foreignExtensions, pgRestoreArgs, readToc, watch, withoutExtensionComments } from '../migrate/copy';
import { MigrateError, MigrateErrorCode, redact } from '../migrate/errors';
import { read, verifySessions } from '../migrate/migrate';
import { findPgTools } from '../migrate/tools';
import { Verification, compare, sameObjects } from '../migrate/verify';
import { probe } from './backup';
import { TAG_BYTES, decryptor, keyMatches, macMatches } from './crypto';
import { BackupError, BackupErrorCode } from './errors';
import { BackupEntry, resolveBackup } from './list';
import { BackupManifest, DUMP_NAME, MANIFEST_NAME, canonicalText, manifestReading, parseManifest } from './manifest';
import { ObjectStore } from './store';
import { withSessions } from './session';

/** Options of {@link restoreDatabase}. */
export interface RestoreOptions {
  /** `s3://bucket/prefix/<database>/<stamp>` (one backup) or `s3://bucket/prefix` (the newest there). */
  from: string;
  /** The empty target database as a libpq URL (as its owner, or an admin that may SET ROLE to it). */
  to: string;
  /** The role that owns what is restored. @default the target database's owner */
  role?: string;
  /** The key the backup was encrypted with. */
  key?: Buffer;
  /** A directory holding pg_restore. @default the newest found */
  pgBin?: string;
  store?: ObjectStore;
  onProgress?: (p: RestoreProgress) => void;
}

/** Progress of a restore. */
export type RestoreProgress = { phase: 'check'; message: string } | { phase: 'restore'; bytes: number; total: number } | { phase: 'verify'; done: number; total: number };

/** What a restore did. */
export enum RestoreOutcome {
  Restored = 'restored',
  /** The target already held the backup's objects (an earlier run's restore): verified only. */
  AlreadyRestored = 'already-restored',
}

/** The result of {@link restoreDatabase}. */
export interface RestoreResult {
  /** No difference between the target and the manifest. */
  ok: boolean;
  outcome: RestoreOutcome;
  /** The backup restored: `s3://…/<database>/<stamp>`. */
  backup: string;
  createdAt: string;
  target: EndpointSummary & { serverVersion: string; role: string };
  tools: { pgRestore: string; version: string };
  /** Notes that do not fail the run (e.g. extension comments not restored). */
  notes: string[];
  verification: Verification;
  nextStep?: string;
  seconds: { checks: number; restore: number; verify: number; total: number };
}

function since(t: number): number {
  return Math.round((Date.now() - t) / 10) / 100;
}

/**
 * Reads and checks the manifest of a backup (the key, the MAC).
 * @throws BackupError (`key`, `altered`).
 */
export async function loadManifest(store: ObjectStore, bucket: string, entry: BackupEntry, key: Buffer | undefined): Promise<BackupManifest> {
  const where = `s3://${bucket}/${entry.folder}${MANIFEST_NAME}`;
  const m = parseManifest(await store.getText(bucket, `${entry.folder}${MANIFEST_NAME}`), where);
  if (m.id !== entry.id) throw new BackupError(BackupErrorCode.Altered, '--from', `${where} names backup ${m.id}, not ${entry.id}`, 'Restore another backup; this manifest was moved or altered');
  const enc = m.dump.encryption;
  if (enc) {
    if (key === undefined) throw new BackupError(BackupErrorCode.Key, '--key-env', `backup ${m.id} is encrypted and no key was given`, 'Give the key it was made with: --key-env <VAR> or --key-file <path>');
    if (!keyMatches(key, m.id, enc.keyCheck)) throw new BackupError(BackupErrorCode.Key, '--key-env', `the key given is not the one backup ${m.id} was encrypted with`, 'Give the key the backup was made with (nothing was downloaded or written)');
    if (m.mac === undefined || !macMatches(key, m.id, canonicalText(m), m.mac)) {
      throw new BackupError(BackupErrorCode.Altered, '--from', `the manifest of backup ${m.id} does not match its HMAC: it was altered in the bucket`, 'Restore another backup (backups list); nothing was written');
    }
  }
  return m;
}

/**
 * Restores a backup into an empty database and verifies it.
 * @returns the result; `ok` false when the verification found a difference.
 * @throws BackupError / MigrateError before anything is written to the
 *   target (bad input, unreachable store or server, no backup, wrong or
 *   missing key, altered manifest, pg_restore older than the dump, a target
 *   that is not empty, a role that cannot own the objects); and (`altered`,
 *   `failed`) when the dump's bytes do not match the manifest or pg_restore
 *   fails, in which case the restore was rolled back.
 */
export async function restoreDatabase(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const progress = options.onProgress ?? ((): void => undefined);
  return withSessions({ url: options.from, field: '--from' }, { url: options.to, field: '--to' }, options.store, (message) => progress({ phase: 'check', message }), async (o) => {
    const { location, endpoint: target, secrets, store, client: tgt, sessions } = o;
    const entry = await resolveBackup(store, location);
    const m = await loadManifest(store, location.bucket, entry, options.key);
    const backupUrl = formatS3Location({ bucket: location.bucket, prefix: entry.folder });
    progress({ phase: 'check', message: `backup ${backupUrl} of ${m.createdAt} (${m.dump.bytes} bytes${m.dump.encryption ? ', encrypted' : ''})` });

    const tf = await serverFacts(tgt);
    const found = (await findPgTools(options.pgBin)).filter((t) => t.major >= m.tools.major);
    const tools = found[0];
    if (tools === undefined) {
      throw new BackupError(
        BackupErrorCode.Tools,
        options.pgBin !== undefined ? '--pg-bin' : '--to',
        `the backup was written by pg_dump ${m.tools.pgDump}, and pg_restore refuses archives of a newer pg_dump; no pg_restore ${m.tools.major} or newer was found${options.pgBin !== undefined ? ` in ${options.pgBin}` : ''}`,
        `Install the PostgreSQL ${m.tools.major} client tools or newer and pass --pg-bin <their bin directory> if they are not found`,
      );
    }
    const role = options.role ?? (await databaseOwner(tgt));
    const rights = await roleRights(tgt, role, tf.versionNum);
    if (!rights.exists) throw new MigrateError(MigrateErrorCode.Role, options.role !== undefined ? '--role' : '--to', `role "${role}" does not exist on the target server`, 'Create the instance first (the stack does), or name an existing owner role with --role');
    if (!rights.canSetRole || !rights.createOnDatabase) {
      throw new MigrateError(MigrateErrorCode.Role, '--to', `role "${tf.currentUser}" cannot restore objects owned by "${role}" (SET ROLE: ${rights.canSetRole}, CREATE on the database: ${rights.createOnDatabase})`, `Connect as "${role}" itself or as an admin that is a member of it, and make "${role}" the database's owner`);
    }
    await pinOutputSettings(tgt);
    const textProbe = await probe(tgt, HASH_PROBE);
    const recordProbe = m.hashing.recordTables.length > 0 ? await probe(tgt, RECORD_PROBE) : null;
    if ((m.hashing.text === RowHash.HashTextExtended && textProbe !== m.hashing.textProbe) || (m.hashing.recordTables.length > 0 && recordProbe !== m.hashing.recordProbe)) {
      throw new BackupError(
        BackupErrorCode.BadInput,
        '--to',
        `the target server (PostgreSQL ${tf.version}) hashes rows differently from the server the backup was taken on (PostgreSQL ${m.source.serverVersion}), so the restore could not be verified`,
        'Restore onto PostgreSQL 14 or newer on the same CPU architecture, or take the backup with --row-hash md5 (portable everywhere)',
      );
    }
    const exts = m.inventory.objects.filter((o) => o.kind === 'extension').map((o) => o.name);
    const missing = await unavailableExtensions(tgt, exts, rights.superuser);
    if (missing.length > 0) {
      throw new MigrateError(MigrateErrorCode.Role, '--to', `the backup uses extension(s) the target role "${role}" cannot create: ${missing.map((x) => `${x.name} (${x.reason})`).join(', ')}`, 'Install the extension on the server and have a superuser CREATE EXTENSION in the target database first');
    }
    const tgtInv = await inventory(tgt, role);
    const others = tgtInv.objects.filter((o) => !(o.kind === 'extension' && exts.includes(o.name)));
    // Extensions a superuser created there first: pg_dump's comments on them are skipped (only their owner may comment).
    const skipComments = foreignExtensions(tgtInv, exts, role, rights.superuser);
    const notes: string[] = [];
    let outcome = RestoreOutcome.Restored;
    if (others.length > 0 || tgtInv.largeObjects > 0) {
      if (!sameObjects(m.inventory, tgtInv)) {
        throw new BackupError(
          BackupErrorCode.TargetNotEmpty,
          '--to',
          `database "${tf.database}" is not empty and does not hold this backup's objects (${others.length} object(s), ${tgtInv.largeObjects} large object(s))`,
          `Restore into an empty database: as the server's admin, DROP DATABASE ${quoteIdent(tf.database)} WITH (FORCE); then let the stack create it again (pulumi refresh --yes --parallel 2 && pulumi up --yes), or restore --verify-only to check the backup without touching it`,
        );
      }
      outcome = RestoreOutcome.AlreadyRestored;
      progress({ phase: 'check', message: `the target already holds the backup's ${m.inventory.objects.length} objects (an earlier run's restore): verifying it` });
    }
    const checksSeconds = since(started);

    const restoreStarted = Date.now();
    if (outcome === RestoreOutcome.Restored) {
      await runRestore({ store, bucket: location.bucket, entry, manifest: m, key: options.key, target, role, pgRestore: tools.pgRestore, secrets, skipExtensionComments: skipComments, progress });
      if (skipComments.length > 0) notes.push(extensionCommentsNote(skipComments));
    }
    const restoreSeconds = since(restoreStarted);

    const verifyStarted = Date.now();
    const asRole = async (c: Client): Promise<void> => {
      if (role !== tf.currentUser) await setRole(c, role);
    };
    await asRole(tgt);
    const readers = await verifySessions(tgt, target, secrets, sessions, asRole);
    let done = 0;
    const hash = { text: m.hashing.text, recordTables: new Set(m.hashing.recordTables) };
    const reading = await read('target', readers, Object.keys(m.tables).sort(), tf.versionNum, hash, (p) => {
      if (p.phase === 'verify') progress({ phase: 'verify', done: ++done, total: p.total });
    }, inventory(tgt, role));
    reading.sequences = await sequenceStates(tgt);
    const verification = compare(manifestReading(m), reading, role);
    const ok = verification.differences === 0;
    const result: RestoreResult = {
      ok,
      outcome,
      backup: backupUrl,
      createdAt: m.createdAt,
      target: { ...summarize(target), serverVersion: tf.version, role },
      tools: { pgRestore: tools.pgRestore, version: tools.version },
      notes,
      verification,
      seconds: { checks: checksSeconds, restore: restoreSeconds, verify: since(verifyStarted), total: since(started) },
    };
    if (!ok) {
      result.nextStep = `The restored database differs from the backup's manifest (see the differences): do not use it. Restore an older backup into an empty database, and keep this one (${backupUrl}) for inspection`;
    }
    return result;
  });
}

interface RunRestore {
  store: ObjectStore;
  bucket: string;
  entry: BackupEntry;
  manifest: BackupManifest;
  key: Buffer | undefined;
  target: Endpoint;
  role: string;
  pgRestore: string;
  secrets: string[];
  /** Extensions whose `COMMENT ON EXTENSION` is skipped (created in the target by another role). */
  skipExtensionComments: string[];
  progress: (p: RestoreProgress) => void;
}

/**
 * The dump's plain bytes as they come from the store: hashed (SHA-256,
 * size) and decrypted on the way, the last chunk held back until all of
 * the stored bytes matched the manifest (and the GCM tag its key).
 * @throws BackupError (`altered`) instead of the last chunk when they do not,
 *   or when the store's own checksum or the read fails.
 */
async function* checkedDump(body: AsyncIterable<Buffer>, m: BackupManifest, decipher: ReturnType<typeof decryptor> | undefined, report: (bytes: number) => void): AsyncGenerator<Buffer> {
  const cipherBytes = m.dump.bytes - (decipher ? TAG_BYTES : 0);
  const sha = createHash('sha256');
  let seen = 0;
  let tag = Buffer.alloc(0);
  let held: Buffer | undefined;
  let problem: string | undefined;
  try {
    for await (const chunk of body) {
      sha.update(chunk);
      let data = chunk;
      if (decipher) {
        const cipherPart = chunk.subarray(0, Math.max(0, Math.min(chunk.length, cipherBytes - seen)));
        tag = Buffer.concat([tag, chunk.subarray(cipherPart.length)]);
        data = decipher.update(cipherPart);
      }
      seen += chunk.length;
      report(seen);
      if (data.length > 0) {
        if (held) yield held;
        held = data;
      }
    }
    const digest = sha.digest('hex');
    if (seen !== m.dump.bytes || digest !== m.dump.sha256) {
      problem = `the dump in the bucket is not the one the backup wrote (${seen} bytes, SHA-256 ${digest.slice(0, 16)}…; the manifest says ${m.dump.bytes} bytes, ${m.dump.sha256.slice(0, 16)}…)`;
    } else if (decipher) {
      try {
        decipher.setAuthTag(tag);
        const last = decipher.final();
        held = held ? Buffer.concat([held, last]) : last;
      } catch {
        problem = 'the dump does not decrypt with its tag (altered, or encrypted with another key)';
      }
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    problem = /checksum mismatch/i.test(message)
      ? `the dump in the bucket is not the one the backup wrote: the store's own checksum of it does not match (${message})`
      : `reading the dump failed (${message})`;
  }
  if (problem !== undefined) {
    throw new BackupError(BackupErrorCode.Altered, '--from', `${problem}; pg_restore was stopped before the end, so nothing of it stays in the target`, 'Restore another backup (backups list), and find out who can write to the bucket');
  }
  if (held && held.length > 0) yield held;
}

/**
 * Streams the dump into pg_restore (one transaction), its last chunk held
 * back until the stored bytes matched the manifest ({@link checkedDump}).
 * With extensions whose comments are skipped, the archive's table of
 * contents (its first bytes) goes to `pg_restore --list` first and the
 * restore runs every entry but those comments (`--use-list`), as migrate's
 * copy does.
 * @throws BackupError (`altered`, `failed`); the restore was rolled back then.
 */
async function runRestore(o: RunRestore): Promise<void> {
  const m = o.manifest;
  const enc = m.dump.encryption;
  const decipher = enc && o.key ? decryptor(o.key, m.id, enc.nonce) : undefined;
  const passFiles = writePassFiles([o.target]);
  try {
    const { body } = await o.store.get(o.bucket, `${o.entry.folder}${DUMP_NAME}`);
    let lastReport = 0;
    const plain = Readable.from(
      checkedDump(body as AsyncIterable<Buffer>, m, decipher, (bytes) => {
        if (Date.now() - lastReport < 1000) return;
        lastReport = Date.now();
        o.progress({ phase: 'restore', bytes, total: m.dump.bytes });
      }),
      { objectMode: false },
    );
    const env = passFiles.envFor(o.target);
    let head: Buffer[] = [];
    let useList: string | undefined;
    if (o.skipExtensionComments.length > 0) {
      const toc = await readToc(o.pgRestore, env, plain);
      head = toc.head;
      if (toc.list !== undefined) {
        useList = join(passFiles.dir, 'restore.list');
        writeFileSync(useList, withoutExtensionComments(toc.list, o.skipExtensionComments).list, { mode: 0o600 });
      }
    }
    const restore = spawn(o.pgRestore, pgRestoreArgs(o.target.database, o.role, true, useList), { env, stdio: ['pipe', 'ignore', 'pipe'] });
    const stdin = restore.stdin!;
    stdin.on('error', () => undefined);
    const restored = watch(restore, () => undefined);
    let exited = false;
    restored.then(() => (exited = true), () => (exited = true));
    const give = async (data: Buffer): Promise<void> => {
      if (data.length === 0 || exited) return;
      if (!stdin.write(data)) await Promise.race([once(stdin, 'drain'), restored]);
    };
    try {
      for (const chunk of head) await give(chunk);
      // pg_restore ending early (an error) stops the download: its error is the one to report.
      for await (const chunk of plain as AsyncIterable<Buffer>) {
        if (exited) break;
        await give(chunk);
      }
    } catch (e) {
      // pg_restore has not seen the last bytes: stopping it rolls its one transaction back.
      restore.kill('SIGTERM');
      await restored;
      throw e;
    }
    stdin.end();
    const r = await restored;
    if (r.code !== 0) {
      throw new BackupError(
        BackupErrorCode.Failed,
        '--to',
        `pg_restore ${r.code !== null ? `exited ${r.code}` : `was stopped (${r.signal})`}; it ran in one transaction, so nothing of it stays in the target:\n  ${redact(r.errors.slice(-12).join('\n  '), o.secrets)}\n`,
        'Fix the cause shown above and run restore again',
      );
    }
  } finally {
    passFiles.remove();
  }
}

/** Options of {@link restoreDrill}. */
export interface DrillOptions extends Omit<RestoreOptions, 'to' | 'role'> {
  /**
   * A libpq URL of the server as a role that may CREATE DATABASE (the
   * handle's admin): the drill creates a scratch database, restores into it
   * and drops it.
   */
  server: string;
}

/**
 * The restore drill: restores the backup into a new scratch database
 * (`ps_drill_<random>`, owned by the URL's user), verifies it against the
 * manifest and drops it, whatever the outcome.
 * @returns the restore's result (`ok` false: the backup does not restore to what it recorded).
 */
export async function restoreDrill(options: DrillOptions): Promise<RestoreResult & { scratchDatabase: string }> {
  const server = parseEndpoint(options.server, '--to');
  const secrets = secretsOf(server);
  const scratch = `ps_drill_${randomBytes(6).toString('hex')}`;
  const admin = await connect(server, secrets);
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
    try {
      const url = new URL(options.server);
      url.pathname = `/${scratch}`;
      const { server: _server, ...rest } = options;
      const result = await restoreDatabase({ ...rest, to: url.toString(), role: server.user });
      return { ...result, scratchDatabase: scratch };
    } finally {
      const force = (await serverFacts(admin)).versionNum >= 130000 ? ' WITH (FORCE)' : '';
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)}${force}`);
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}
