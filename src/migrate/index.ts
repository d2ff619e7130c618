/**
 * `postgres-strategies/migrate`: copies an app instance's database to another
 * server and verifies the copy (`migrateDatabase`; the `migrate` command of
 * the package's CLI). Uses `pg` and the PostgreSQL client tools
 * (pg_dump/pg_restore); loads no `@pulumi/*` package.
 */
export { MIGRATE_EXIT_CODES, MIN_SOURCE_MAJOR, MigrateOutcome, MigrateStatus, migrateDatabase } from './migrate';
export type { MigrateOptions, MigrateProgress, MigrateResult, VerifyProgress } from './migrate';
export { MigrateError, MigrateErrorCode, MigrateNotVerifiedError } from './errors';
export { MIGRATE_APPLICATION_NAME, MIGRATE_URL_PARAMETERS } from './connection';
export type { EndpointSummary } from './connection';
export { MIGRATE_SOURCE_CONNECTIONS, MIGRATE_TARGET_CONNECTIONS, VERIFY_SESSIONS, checkServerBudget } from './budget';
export type { BudgetCheck, ServerConnections } from './budget';
export type { CopyProgress, CopyResult } from './copy';
export { RowHash } from './catalog';
export type { DbObject, SequenceState, TableSum } from './catalog';
export type { ExtensionComparison, SequenceComparison, TableComparison, Verification } from './verify';
export { findPgTools, parseToolVersion } from './tools';
export type { PgTools } from './tools';
export { renderReport } from './report';
