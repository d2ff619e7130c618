/**
 * The local Docker strategy (seed Strategy 1): the pure stack plan and
 * docker-compose rendering, and the `LocalPostgres` component (@pulumi/docker).
 */
import './peers'; // first: names a missing optional peer dependency (@pulumi/…) before anything loads it
export * from './plan';
export * from './compose';
export * from './kratos-compose';
export { LocalPostgres, type LocalPostgresArgs, type LocalKratosArgs, type LocalInstance } from './component';
export { LocalBackup, type LocalBackupArgs, type LocalBackupOptions, type LocalBackupPlan, planLocalBackup, localBackupScript, LOCAL_BACKUP_CLI, LOCAL_BACKUP_MODULES, LOCAL_BACKUP_STORE_CA, DEFAULT_LOCAL_BACKUP_IMAGE } from './backup';
