/**
 * postgres-strategies: Pulumi components that deploy PostgreSQL for an
 * application stack, and the pure core they are built on.
 */
export * from './core';
export type { PostgresServerHandle } from './components/server-handle';
export { ExternalPostgres, type ExternalPostgresArgs } from './components/external';
export { InstanceDatabase, type InstanceDatabaseArgs, type InstanceEnv } from './components/instance-database';
export { SharedPostgres, type SharedPostgresArgs } from './components/shared';
export { LocalPostgres, type LocalPostgresArgs, type LocalKratosArgs, type LocalInstance } from './components/local';
export { createServerCertificates, type ServerCertificates } from './components/tls-certificates';
