/**
 * The primary seed's Strategy 3: three app instances (blog, admin, api) on
 * one external PostgreSQL, one database and login role each, with the
 * connection budget checked and PUBLIC's CONNECT revoked on every database.
 *
 * Configure (namespace `postgres-strategies`; `npm run server` in the repository prints these lines
 * for a PostgreSQL with TLS to try it on):
 *   pulumi config set postgres-strategies:host shared-db.example.com
 *   pulumi config set postgres-strategies:port 5432                    # default 5432
 *   pulumi config set postgres-strategies:adminUser vw_root
 *   pulumi config set --secret postgres-strategies:adminPassword '...'
 *   pulumi config set postgres-strategies:adminDatabase postgres       # default postgres
 *   pulumi config set postgres-strategies:adminIsSuperuser true        # default false (RDS, Neon, Supabase admins are not)
 *   pulumi config set postgres-strategies:kind self-managed            # default managed (never sslmode=disable); or local
 *   pulumi config set postgres-strategies:sslmode verify-full          # default: verify-full with sslrootcert, else require
 *   pulumi config set postgres-strategies:sslrootcert ./ca.pem          # the CA on this machine, for verify-* (made absolute)
 *   pulumi config set postgres-strategies:clientSslRootCert /etc/ssl/certs/db-ca.pem   # the CA's path on the apps'
 *                                                                       #   machines, in every URL (default: sslrootcert)
 *   pulumi config set postgres-strategies:maxConnections 100           # the server's max_connections
 *   pulumi config set postgres-strategies:reservedConnections 3        # slots app roles cannot use (default 3)
 *   pulumi config set postgres-strategies:adminMaxConnections 4        # the admin's share (counted; default: a tenth of max_connections)
 *   pulumi config set postgres-strategies:maintenanceConnections 3     # kept free for psql / pg_dump
 *   pulumi config set postgres-strategies:namePrefix vw_               # default vw_: databases vw_blog, vw_admin, vw_api
 *   pulumi config set postgres-strategies:allowDeletion true           # let destroy drop the databases (default: retained)
 *   pulumi config set postgres-strategies:adopt true                   # take over the databases and roles an earlier stack
 *                                                                       #   left (`up`, then adopt false and `up` again)
 *   pulumi config set postgres-strategies:exportBootstrapSql true      # also export `bootstrapSql`, the whole setup as one
 *                                                                       #   idempotent psql script (long; default false)
 * Optional pooler (Neon -pooler host, Supavisor, PgBouncer): apps connect through it,
 * the admin provider and Kratos migrations stay on the direct endpoint:
 *   pulumi config set postgres-strategies:poolerHost pgbouncer.internal
 *   pulumi config set postgres-strategies:poolerPort 6432
 *   pulumi config set postgres-strategies:poolerMode transaction       # or session
 *   pulumi config set postgres-strategies:poolerUserSuffix .abcdefgh    # Supavisor only
 *   pulumi config set postgres-strategies:poolerServerPoolSize 3       # server connections per role
 *   pulumi config set postgres-strategies:instances '[{"name":"blog"},{"name":"admin"}]' --path=false
 * then `pulumi up`. Outputs are secrets: `pulumi stack output --show-secrets urls`.
 * In a shell without a terminal (CI, a script) every command needs what a prompt would ask:
 *   export PULUMI_CONFIG_PASSPHRASE='…'   # the passphrase of the stack's secrets (`pulumi login --local` stacks)
 *   pulumi up --yes                        # (and `pulumi destroy --yes`): no confirmation prompt
 */
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres, InstanceSpec, PoolerMode, ServerKind, SharedPostgres, SslMode, parseSslMode } from 'postgres-strategies';
import { seedInstances } from './instances';

const cfg = new pulumi.Config('postgres-strategies');
const poolerHost = cfg.get('poolerHost');

const server = new ExternalPostgres('shared-db', {
  host: cfg.require('host'),
  port: cfg.getNumber('port') ?? 5432,
  adminUser: cfg.require('adminUser'),
  adminPassword: cfg.requireSecret('adminPassword'),
  adminDatabase: cfg.get('adminDatabase') ?? 'postgres',
  adminIsSuperuser: cfg.getBoolean('adminIsSuperuser') ?? false,
  kind: (cfg.get('kind') as ServerKind | undefined) ?? ServerKind.Managed,
  sslmode: cfg.get('sslmode') === undefined ? undefined : parseSslMode(cfg.require('sslmode'), 'postgres-strategies:sslmode'),
  sslrootcert: cfg.get('sslrootcert'),
  clientSslRootCert: cfg.get('clientSslRootCert'),
  maxConnections: cfg.getNumber('maxConnections') ?? 100,
  reservedConnections: cfg.getNumber('reservedConnections') ?? 3,
  adminMaxConnections: cfg.getNumber('adminMaxConnections'),
  maintenanceConnections: cfg.getNumber('maintenanceConnections'),
  pooler:
    poolerHost === undefined
      ? undefined
      : {
          host: poolerHost,
          port: cfg.requireNumber('poolerPort'),
          mode: (cfg.get('poolerMode') as PoolerMode | undefined) ?? PoolerMode.Transaction,
          userSuffix: cfg.get('poolerUserSuffix'),
          serverPoolSize: cfg.getNumber('poolerServerPoolSize'),
        },
});

const shared = new SharedPostgres('shared', {
  server: server.handle,
  namePrefix: cfg.get('namePrefix') ?? 'vw_',
  instances: cfg.getObject<InstanceSpec[]>('instances') ?? seedInstances,
  allowDeletion: cfg.getBoolean('allowDeletion') ?? false,
  adopt: cfg.getBoolean('adopt') ?? false,
});

/** libpq URL per instance, direct endpoint (secret). */
export const urls = shared.urls;
/** libpq URL per instance through the pooler, if configured (secret). */
export const pooledUrls = shared.pooledUrls;
/** Kratos DSN (`kratos serve`) per instance, through the pooler if configured (secret). */
export const kratosDsns = shared.kratosDsns;
/** Kratos DSN for `kratos migrate sql -e --yes` per instance, direct (secret). */
export const kratosMigrateDsns = shared.kratosMigrateDsns;
/** pgx URL per instance with the gateway's pool, through the pooler if configured (secret). */
export const pgxUrls = shared.pgxUrls;
/** The auth gateway's env map (VIBEWARDEN_DATABASE_*) per instance (secret). */
export const gatewayEnvs = shared.gatewayEnvs;
/** The checked connection budget. */
export const budget = shared.budget;
/**
 * The whole setup as one idempotent psql script (secret: SCRAM verifiers), only with
 * `exportBootstrapSql`: pages long, it would bury the outputs above in `pulumi stack output`.
 */
export const bootstrapSql = cfg.getBoolean('exportBootstrapSql') ? shared.bootstrapSql : undefined;
/** The sslmode clients use. */
export const sslmode: SslMode = server.handle.sslmode;
