/**
 * What a location holds: the backups under an `s3://bucket/prefix` (each a
 * `<database>/<stamp>/` folder; complete when its manifest is there), the
 * newest one a restore takes, and retention by count and by age.
 */
import { S3Location, formatS3Location } from '../core/backup';
import { BackupError, BackupErrorCode } from './errors';
import { DUMP_NAME, MANIFEST_NAME } from './manifest';
import { ObjectStore, StoredObject } from './store';

/** One backup found under a location. */
export interface BackupEntry {
  /** `<database>/<stamp>`. */
  id: string;
  database: string;
  /** From the stamp. */
  createdAt: Date;
  /** Bytes of the dump object (0 when missing). */
  bytes: number;
  /** The manifest is there (only complete backups are restored). */
  complete: boolean;
  /** The folder's key prefix in the bucket. */
  folder: string;
}

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/;

/** The time of a stamp (`YYYYMMDDTHHMMSSmmmZ`), or undefined when it is not one. */
export function stampTime(stamp: string): Date | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])));
}

/**
 * Groups a listing into backups (pure): keys under `prefix` of the form
 * `[<folders>/]<database>/<stamp>/{dump,manifest.json}`.
 * Newest first.
 */
export function backupsIn(prefix: string, objects: StoredObject[]): BackupEntry[] {
  const byFolder = new Map<string, BackupEntry>();
  for (const o of objects) {
    if (!o.key.startsWith(prefix)) continue;
    // The key's own folders (the prefix may end inside a backup's folder, or name its database).
    const parts = o.key.split('/');
    const name = parts.pop() as string;
    if (name !== DUMP_NAME && name !== MANIFEST_NAME) continue;
    const stamp = parts.pop();
    const database = parts.pop();
    const createdAt = stamp === undefined ? undefined : stampTime(stamp);
    if (database === undefined || database === '' || createdAt === undefined) continue;
    const folder = `${[...parts, database, stamp].join('/')}/`;
    const entry = byFolder.get(folder) ?? { id: `${database}/${stamp}`, database, createdAt, bytes: 0, complete: false, folder };
    if (name === MANIFEST_NAME) entry.complete = true;
    else entry.bytes = o.bytes;
    byFolder.set(folder, entry);
  }
  return [...byFolder.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.folder.localeCompare(a.folder));
}

/** Every backup under a location, newest first. */
export async function listBackups(store: ObjectStore, location: S3Location): Promise<BackupEntry[]> {
  return backupsIn(location.prefix, await store.list(location.bucket, location.prefix));
}

/**
 * The backup `--from` names: the folder itself when it is one backup's
 * (`s3://bucket/prefix/<database>/<stamp>`), else the newest complete
 * backup under the prefix.
 * @throws BackupError (`not-found`) when there is none; (`bad-input`) when
 *   the prefix holds backups of several databases.
 */
export async function resolveBackup(store: ObjectStore, location: S3Location): Promise<BackupEntry> {
  const all = await listBackups(store, location);
  const exact = all.find((b) => b.folder === location.prefix);
  if (exact) {
    if (!exact.complete) throw new BackupError(BackupErrorCode.NotFound, '--from', `${formatS3Location(location)} has no manifest: that backup did not finish`, 'Restore a complete backup (backups list shows them)');
    return exact;
  }
  const complete = all.filter((b) => b.complete);
  if (complete.length === 0) {
    throw new BackupError(
      BackupErrorCode.NotFound,
      '--from',
      `no complete backup under ${formatS3Location(location)}${all.length > 0 ? ` (${all.length} without a manifest)` : ''}`,
      'Check the location (backups list s3://<bucket>/<prefix>) and AWS_ENDPOINT_URL_S3, or take a backup first',
    );
  }
  const databases = [...new Set(complete.map((b) => b.database))].sort();
  if (databases.length > 1) {
    throw new BackupError(
      BackupErrorCode.BadInput,
      '--from',
      `${formatS3Location(location)} holds backups of ${databases.length} databases (${databases.join(', ')}), so "the newest" is ambiguous`,
      `Name the database: ${formatS3Location(location)}/${databases[0]} (or one backup: …/<database>/<stamp>)`,
    );
  }
  return complete[0] as BackupEntry;
}

/** What retention removed. */
export interface PruneResult {
  /** Ids of the deleted backups. */
  deleted: string[];
}

/**
 * Deletes complete backups of `database` under the location beyond the
 * newest `keep` (0: no count limit) or older than `maxAgeDays` (0: no age
 * limit); `spare` (the backup just taken) is never deleted. The manifest
 * goes first, so an interrupted prune leaves incomplete backups, never a
 * manifest without its dump.
 */
export async function pruneBackups(store: ObjectStore, location: S3Location, database: string, retention: { keep: number; maxAgeDays: number }, spare?: string, now = new Date()): Promise<PruneResult> {
  if (retention.keep === 0 && retention.maxAgeDays === 0) return { deleted: [] };
  const mine = (await listBackups(store, location)).filter((b) => b.database === database && b.complete);
  const oldest = now.getTime() - retention.maxAgeDays * 86_400_000;
  const doomed = mine.filter((b, i) => b.id !== spare && ((retention.keep > 0 && i >= retention.keep) || (retention.maxAgeDays > 0 && b.createdAt.getTime() < oldest)));
  for (const b of doomed) {
    await store.delete(location.bucket, [`${b.folder}${MANIFEST_NAME}`]);
    await store.delete(location.bucket, [`${b.folder}${DUMP_NAME}`]);
  }
  return { deleted: doomed.map((b) => b.id) };
}
