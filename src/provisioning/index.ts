/**
 * Provisioning onto any server handle: the handle contract, `ExternalPostgres`
 * (an existing server), `InstanceDatabase` (one app instance's role and database)
 * and `SharedPostgres` (many instances on one server). Uses @pulumi/postgresql and
 * @pulumi/random only.
 */
export type { PostgresServerHandle, PoolerEndpoint, PoolerHandle, ServerHandleArgs } from './server-handle';
export { createServerHandle, validateServerHandleArgs, validatePoolerEndpoint, DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAINTENANCE_CONNECTIONS } from './server-handle';
export { ExternalPostgres, type ExternalPostgresArgs } from './external';
export { InstanceDatabase, type InstanceDatabaseArgs, type InstanceEnv } from './instance-database';
export type { InstanceOutputs } from './logins';
export { SharedPostgres, type SharedPostgresArgs } from './shared';
export { LoginRotation, LoginRevocation, type LoginRevocationArgs, type RotationLogins } from './rotation';
// Not re-exported: './tls-certificates' (createServerCertificates) loads
// @pulumi/tls, which the package root must not load (test/unit/packaging).
// The strategies that run their own server (local, hetzner) import it directly.
