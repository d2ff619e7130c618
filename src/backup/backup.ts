/**
 * `backupDatabase`: `pg_dump --format=custom` of one database, streamed to
 * the object store (encrypted on the way when a key is given), with a
 * manifest read in the dump's own snapshot by migrate's catalog code.
 *
 * Order of work (nothing is written to the bucket before step 3):
 * 1. the location and the source URL; the bucket reachable and listable,
 *    the source reachable with its TLS settings, a pg_dump new enough;
 * 2. one REPEATABLE READ transaction exports the snapshot pg_dump reads;
 *    the objects, tables and row-hash probes are read in it;
 * 3. pg_dump's archive goes through this process (SHA-256, size, AES-256-GCM
 *    when a key is given) into a multipart upload of `<id>/dump`, while
 *    `VERIFY_SESSIONS` sessions in the same snapshot sum every table;
 * 4. `<id>/manifest.json`, last: a backup without it is incomplete (an
 *    interrupted run leaves at most an aborted multipart upload or a
 *    dump without a manifest, which nothing restores) — running again is
 *    always safe;
 * 5. retention: older complete backups of the database beyond `keep` or
 *    older than `maxAgeDays` are deleted (never the new one).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { Client } from 'pg';
import { formatS3Location } from '../core/backup';
import { HASH_PROBE, RECORD_PROBE, RowHash, RowHashing, dataTables, inventory, pinOutputSettings, recordHashTables, sequenceStates, serverFacts } from '../migrate/catalog';
import { EndpointSummary, summarize, writePassFiles } from '../migrate/connection';
import { pgDumpArgs, watch } from '../migrate/copy';
import { redact } from '../migrate/errors';
import { MIN_SOURCE_MAJOR, read, readSnapshot, verifySessions } from '../migrate/migrate';
import { MigrateError, MigrateErrorCode } from '../migrate/errors';
import { findPgTools, pickPgTools } from '../migrate/tools';
import { encryptor, keyCheck, manifestMac, newNonce, CIPHER } from './crypto';
import { BackupError, BackupErrorCode } from './errors';
import { BackupManifest, DUMP_NAME, MANIFEST_FORMAT, MANIFEST_NAME, backupId, canonicalText, readingParts, renderManifest } from './manifest';
import { PruneResult, pruneBackups } from './list';
import { ObjectStore } from './store';
import { withSessions } from './session';

/** Options of {@link backupDatabase}. */
export interface BackupOptions {
  /** The database as a libpq URL (see migrate's `parseEndpoint`; `sslmode` required). */
  from: string;
  /** `s3://bucket/prefix`: the backup goes to `<prefix>/<database>/<stamp>/`. */
  to: string;
  /** Encrypt with this key (32 bytes; see crypto.ts). @default not encrypted */
  key?: Buffer;
  /** Complete backups of the database kept after this one, newest first; 0 keeps all. @default 0 */
  keep?: number;
  /** Backups older than this many days are deleted; 0 keeps them. @default 0 */
  maxAgeDays?: number;
  /** A directory holding pg_dump and pg_restore. @default the newest found */
  pgBin?: string;
  /** Hash every row's text with this instead of by column types (portable to any restore server). */
  rowHash?: RowHash;
  /** The store. @default opened from the AWS SDK variables */
  store?: ObjectStore;
  onProgress?: (p: BackupProgress) => void;
}

/** Progress of a backup. */
export type BackupProgress = { phase: 'check'; message: string } | { phase: 'dump'; bytes: number } | { phase: 'manifest'; done: number; total: number };

/** What a backup did. */
export interface BackupResult {
  ok: true;
  /** `s3://bucket/prefix/<database>/<stamp>`: what `restore --from` takes. */
  location: string;
  id: string;
  source: EndpointSummary & { serverVersion: string };
  manifest: BackupManifest;
  pruned: PruneResult;
  seconds: { checks: number; dump: number; total: number };
}

function since(t: number): number {
  return Math.round((Date.now() - t) / 10) / 100;
}

/** pg_dump's arguments for a backup: migrate's, with pg_dump's default compression (gzip) instead of none. */
export function backupDumpArgs(database: string, snapshot: string): string[] {
  return pgDumpArgs(database, snapshot).filter((a) => a !== '--compress=0');
}

/** A probe's value on one server, or null when the server cannot compute it. */
export async function probe(client: Client, sql: string): Promise<string | null> {
  try {
    return (await client.query<{ h: string }>(sql)).rows[0]!.h;
  } catch {
    return null;
  }
}

/**
 * Backs one database up to the object store.
 *
 * @throws BackupError / MigrateError before anything is written to the
 *   bucket for: a bad URL or location, an unreachable server or store,
 *   refused credentials, a missing bucket, no pg_dump new enough; and
 *   (`failed`) when pg_dump or the upload fails, in which case the upload
 *   was aborted and no manifest was written.
 */
export async function backupDatabase(options: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const progress = options.onProgress ?? ((): void => undefined);
  return withSessions({ url: options.to, field: '--to' }, { url: options.from, field: '--from' }, options.store, (message) => progress({ phase: 'check', message }), async (o) => {
    const { location, endpoint: source, secrets, store, client: src, sessions } = o;
    const sf = await serverFacts(src);
    if (sf.major < MIN_SOURCE_MAJOR) {
      throw new MigrateError(MigrateErrorCode.BadInput, '--from', `the server runs PostgreSQL ${sf.version}; backups are supported from PostgreSQL ${MIN_SOURCE_MAJOR} on`, 'Upgrade the server first');
    }
    const tools = pickPgTools(await findPgTools(options.pgBin), sf.major, sf.version, options.pgBin);
    await pinOutputSettings(src);
    const textProbe = (await probe(src, HASH_PROBE)) as string;
    const recordProbe = options.rowHash === undefined && sf.versionNum >= 140000 ? await probe(src, RECORD_PROBE) : null;

    const at = new Date();
    const id = backupId(sf.database, at);
    const folder = `${location.prefix}${id}/`;
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const snapshot = (await src.query<{ s: string }>('SELECT pg_catalog.pg_export_snapshot() AS s')).rows[0]!.s;
    const inv = await inventory(src);
    const tables = await dataTables(src);
    // Sequences are not covered by the snapshot: pg_dump reads a value between this one and the one read after the dump.
    const sequencesAtSnapshot = await sequenceStates(src);
    const hash: RowHashing = { text: options.rowHash ?? RowHash.HashTextExtended, recordTables: recordProbe !== null ? await recordHashTables(src, tables) : new Set() };
    const readers = await verifySessions(src, source, secrets, sessions, (c) => readSnapshot(c, snapshot));
    const checksSeconds = since(started);

    // The dump, through this process into the upload; the manifest's sums meanwhile.
    const dumpStarted = Date.now();
    const nonce = options.key ? newNonce() : undefined;
    const cipher = options.key && nonce ? encryptor(options.key, id, nonce) : undefined;
    const passFiles = writePassFiles([source]);
    const sha = createHash('sha256');
    let bytes = 0;
    let dumpSeconds = 0;
    let reading: Awaited<ReturnType<typeof read>>;
    try {
      const dump = spawn(tools.pgDump, backupDumpArgs(source.database, snapshot), { env: passFiles.envFor(source), stdio: ['ignore', 'pipe', 'pipe'] });
      const dumped = watch(dump, () => undefined);
      const out = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
      const upload = store.put(location.bucket, `${folder}${DUMP_NAME}`, out);
      upload.catch(() => {
        // The upload failed: stop feeding it.
        out.destroy();
        if (dump.exitCode === null) dump.kill('SIGTERM');
      });
      let lastReport = 0;
      const emit = async (data: Buffer): Promise<void> => {
        if (data.length === 0) return;
        sha.update(data);
        bytes += data.length;
        if (!out.write(data)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
        if (Date.now() - lastReport > 1000) {
          lastReport = Date.now();
          progress({ phase: 'dump', bytes });
        }
      };
      const pumping = (async (): Promise<void> => {
        for await (const chunk of dump.stdout as AsyncIterable<Buffer>) {
          if (out.destroyed) break;
          await emit(cipher ? cipher.update(chunk) : chunk);
        }
      })();
      let done = 0;
      const summing = read('source', readers, tables, sf.versionNum, hash, (p) => {
        if (p.phase === 'verify') progress({ phase: 'manifest', done: ++done, total: p.total });
      }, inv);
      summing.catch(() => undefined);
      const [d] = await Promise.all([dumped, pumping.catch(() => undefined)]);
      if (d.code !== 0 || out.destroyed) {
        out.destroy(new Error('pg_dump failed'));
        const uploadError = await upload.then(() => undefined, (e: unknown) => e);
        if (uploadError instanceof BackupError && !/pg_dump failed/.test(uploadError.message) && d.code === 0) throw uploadError;
        throw new BackupError(
          BackupErrorCode.Failed,
          '--from',
          `pg_dump ${d.code !== null ? `exited ${d.code}` : `was stopped (${d.signal})`}; the upload was aborted and no manifest written:\n  ${redact(d.errors.slice(-12).join('\n  '), secrets)}\n`,
          'Fix the cause shown above and run backup again',
        );
      }
      if (cipher) await emit(Buffer.concat([cipher.final(), cipher.getAuthTag()]));
      out.end();
      await upload;
      dumpSeconds = since(dumpStarted);
      reading = { ...(await summing), sequences: sequencesAtSnapshot, sequencesAfter: await sequenceStates(src) };
    } finally {
      passFiles.remove();
    }
    await Promise.all(readers.map((c) => c.query('COMMIT')));

    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      id,
      createdAt: at.toISOString(),
      source: { host: source.host, port: source.port, database: source.database, user: source.user, serverVersion: sf.version, serverVersionNum: sf.versionNum },
      tools: { pgDump: tools.version, major: tools.major },
      dump: {
        bytes,
        sha256: sha.digest('hex'),
        ...(options.key && nonce ? { encryption: { cipher: CIPHER, nonce, keyCheck: keyCheck(options.key, id) } } : {}),
      },
      hashing: { text: hash.text, recordTables: tables.filter((t) => hash.recordTables.has(t)), textProbe, recordProbe },
      ...readingParts(reading),
      seconds: { dump: dumpSeconds, total: since(started) },
    };
    if (options.key) manifest.mac = manifestMac(options.key, id, canonicalText(manifest));
    await store.put(location.bucket, `${folder}${MANIFEST_NAME}`, renderManifest(manifest));
    const pruned = await pruneBackups(store, location, sf.database, { keep: options.keep ?? 0, maxAgeDays: options.maxAgeDays ?? 0 }, id);
    return {
      ok: true,
      location: formatS3Location({ bucket: location.bucket, prefix: folder }),
      id,
      source: { ...summarize(source), serverVersion: sf.version },
      manifest,
      pruned,
      seconds: { checks: checksSeconds, dump: dumpSeconds, total: since(started) },
    };
  });
}
