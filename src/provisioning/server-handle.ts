/**
 * The one contract between "where the server runs" and "what lives inside
 * it": every strategy (external, local Docker, managed, self-managed)
 * produces a {@link PostgresServerHandle}, and databases and roles are
 * provisioned onto any handle by {@link InstanceDatabase} and
 * {@link SharedPostgres}.
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { PoolerMode } from '../core/dsn';
import { ServerKind, SslMode } from '../core/tls';

/** A PostgreSQL server, wherever it runs. */
export interface PostgresServerHandle {
  /** Host name app clients connect to (may differ from the admin provider's host, e.g. `postgres` on a Docker network). */
  host: pulumi.Input<string>;
  /** Port app clients connect to. */
  port: pulumi.Input<number>;
  /** Where the server runs; decides which sslmodes clients may use. */
  kind: ServerKind;
  /** The sslmode app clients use. */
  sslmode: SslMode;
  /** Path of the root certificate on the app clients (libpq `sslrootcert`); needed for verify-ca / verify-full. */
  sslrootcert?: string;
  /** The CA certificate (PEM) that signs the server certificate, when known. */
  rootCertPem?: pulumi.Input<string>;
  /** The server's `max_connections`, in connections. A plain number: the budget is checked before anything is created. */
  maxConnections: number;
  /** Connection slots app roles cannot use (superuser_reserved_connections + provider reserve + admin headroom). */
  reservedConnections: number;
  /** The admin role's name (no app role may take it). */
  adminUser: string;
  /** Whether the admin is a superuser (false on RDS, Neon, Supabase). */
  adminIsSuperuser: boolean;
  /** The `@pulumi/postgresql` provider connected as the admin. */
  provider: postgresql.Provider;
  /** What sits at the client endpoint (a transaction pooler changes the Kratos/pgx DSNs). */
  pooler: PoolerMode;
  /** Resources that must be ready before anything is created on the server (e.g. a healthy container). */
  dependsOn: pulumi.Resource[];
}
