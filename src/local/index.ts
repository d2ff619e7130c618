/**
 * The local Docker strategy (seed Strategy 1): the pure stack plan and
 * docker-compose rendering, and the `LocalPostgres` component (@pulumi/docker).
 */
export * from './plan';
export * from './compose';
export { LocalPostgres, type LocalPostgresArgs, type LocalKratosArgs, type LocalInstance } from './component';
export { LocalBackup, type LocalBackupArgs, type LocalBackupOptions, type LocalBackupPlan, planLocalBackup, localBackupScript, LOCAL_BACKUP_CLI, LOCAL_BACKUP_MODULES, DEFAULT_LOCAL_BACKUP_IMAGE } from './backup';
