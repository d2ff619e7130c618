/**
 * Provisioning onto any server handle: the handle contract, `ExternalPostgres`
 * (an existing server), `InstanceDatabase` (one app instance's role and database)
 * and `SharedPostgres` (many instances on one server). Uses @pulumi/postgresql and
 * @pulumi/random only.
 */
export type { PostgresServerHandle } from './server-handle';
export { ExternalPostgres, type ExternalPostgresArgs } from './external';
export { InstanceDatabase, type InstanceDatabaseArgs, type InstanceEnv } from './instance-database';
export { SharedPostgres, type SharedPostgresArgs } from './shared';
export { createServerCertificates, type ServerCertificates } from './tls-certificates';
