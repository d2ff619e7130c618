/**
 * `postgres-strategies/backup`: backups of one database to an S3-compatible
 * object store with a manifest made in the dump's own snapshot
 * (`backupDatabase`), restores verified against it (`restoreDatabase`), the
 * restore drill (`restoreDrill`), listing and retention — the `backup`,
 * `backups list` and `restore` commands of the package's CLI. Uses `pg`,
 * the PostgreSQL client tools and the AWS SDK (loaded on first use); loads
 * no `@pulumi/*` package.
 */
export { backupDatabase, backupDumpArgs } from './backup';
export type { BackupOptions, BackupProgress, BackupResult } from './backup';
export { RestoreOutcome, loadManifest, restoreDatabase, restoreDrill } from './restore';
export type { DrillOptions, RestoreOptions, RestoreProgress, RestoreResult } from './restore';
export { backupsIn, listBackups, pruneBackups, resolveBackup, stampTime } from './list';
export type { BackupEntry, PruneResult } from './list';
export { DUMP_NAME, MANIFEST_FORMAT, MANIFEST_NAME, backupId, backupStamp, manifestReading, parseManifest, renderManifest } from './manifest';
export type { BackupManifest } from './manifest';
export { BackupError, BackupErrorCode } from './errors';
export { CIPHER, keyCheck, parseBackupKey } from './crypto';
export { openStore, storeError, storeSettingsFromEnv } from './store';
export type { ObjectStore, StoreSettings, StoredObject } from './store';
