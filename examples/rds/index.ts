/**
 * Amazon RDS for PostgreSQL with the primary seed's Strategy 3 on it: one
 * `RdsPostgres` instance (private, encrypted, TLS only, SCRAM, backups,
 * deletion protection, a final snapshot) and the blog, admin and api app
 * instances on it through `SharedPostgres`, one database and login role each.
 *
 * Configure (namespace `postgres-strategies`):
 *   pulumi config set aws:region eu-central-1
 *   pulumi config set postgres-strategies:vpcId vpc-0123456789abcdef0
 *   pulumi config set postgres-strategies:subnetIds '["subnet-aaa","subnet-bbb"]'      # private, two AZs
 *   pulumi config set postgres-strategies:allowedSecurityGroupIds '["sg-app","sg-ci"]' # who may connect
 *   pulumi config set postgres-strategies:allowedCidrs '["10.0.0.0/16"]'                # and/or networks
 *   pulumi config set postgres-strategies:sslrootcert ./global-bundle.pem   # AWS's CA bundle: verify-full (required,
 *                                                                            #   unless sslmode is set to require)
 *   pulumi config set postgres-strategies:instanceClass db.t4g.small        # default db.t4g.micro
 *   pulumi config set postgres-strategies:engineVersion 17                   # default 17; a major.minor ("17.4")
 *   pulumi config set postgres-strategies:autoMinorVersionUpgrade false      #   only with minor upgrades off
 *   pulumi config set postgres-strategies:multiAz true                       # a standby (doubles the cost)
 *   pulumi config set postgres-strategies:readReplica true                   # a read replica + readerUrls
 *   pulumi config set postgres-strategies:manageMasterUserPassword true      # Secrets Manager keeps it
 *   pulumi config set postgres-strategies:pgConfig '{"log_min_duration_statement":"500ms"}'
 *   pulumi config set postgres-strategies:clientSslRootCert /etc/ssl/certs/global-bundle.pem  # the bundle's path on
 *                                                                            #   the apps' machines (default: sslrootcert)
 *   pulumi config set postgres-strategies:adminHost 127.0.0.1               # the admin provider through a tunnel…
 *   pulumi config set postgres-strategies:adminPort 15432                   # …on this port
 *   pulumi config set postgres-strategies:namePrefix vw_                    # default vw_
 *   pulumi config set postgres-strategies:instances '[{"name":"blog"},{"name":"api"}]'   # default blog, admin, api
 *   pulumi config set postgres-strategies:allowDeletion true                 # see below
 *   pulumi config set postgres-strategies:deletionProtection false           # see below
 * then `pulumi up` from a machine that reaches the VPC (the admin provider
 * connects to the instance). Outputs are secrets: `pulumi stack output --show-secrets`.
 * Fetch the CA bundle: curl -fsSLo global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
 * (or `pulumi config set postgres-strategies:sslmode require` to encrypt without checking the server).
 * The instance is protected: a change that would replace it fails at preview (docs/rds.md, "Replacing the
 * instance on purpose"); `allowDeletion` and `deletionProtection` config keys lift that.
 * In a shell without a terminal (CI, a script) every command needs what a prompt would ask:
 *   export PULUMI_CONFIG_PASSPHRASE='…'   # the passphrase of the stack's secrets (`pulumi login --local` stacks)
 *   pulumi up --yes                        # (and `pulumi destroy --yes`): no confirmation prompt
 */
import * as pulumi from '@pulumi/pulumi';
import { InstanceSpec, SharedPostgres, SslMode } from 'postgres-strategies';
import { RdsPostgres } from 'postgres-strategies/rds';
import { ConfValue } from 'postgres-strategies/core';
import { seedInstances } from '../shared/instances';

const cfg = new pulumi.Config('postgres-strategies');
const adminPort = cfg.getNumber('adminPort');

const db = new RdsPostgres('app-db', {
  vpcId: cfg.require('vpcId'),
  subnetIds: cfg.requireObject<string[]>('subnetIds'),
  allowedSecurityGroupIds: cfg.getObject<string[]>('allowedSecurityGroupIds') ?? [],
  allowedCidrs: cfg.getObject<string[]>('allowedCidrs') ?? [],
  instanceClass: cfg.get('instanceClass'),
  engineVersion: cfg.get('engineVersion'),
  autoMinorVersionUpgrade: cfg.getBoolean('autoMinorVersionUpgrade') ?? true,
  multiAz: cfg.getBoolean('multiAz') ?? false,
  ...(cfg.getBoolean('readReplica') ? { readReplica: {} } : {}),
  manageMasterUserPassword: cfg.getBoolean('manageMasterUserPassword') ?? false,
  pgConfig: cfg.getObject<Record<string, ConfValue>>('pgConfig') ?? {},
  sslrootcert: cfg.get('sslrootcert'),
  ...(cfg.get('sslmode') !== undefined ? { sslmode: cfg.require('sslmode') as SslMode } : {}),
  clientSslRootCert: cfg.get('clientSslRootCert'),
  ...(cfg.get('adminHost') !== undefined ? { adminHost: cfg.require('adminHost') } : {}),
  ...(adminPort !== undefined ? { adminPort } : {}),
  allowDeletion: cfg.getBoolean('allowDeletion') ?? false,
  deletionProtection: cfg.getBoolean('deletionProtection') ?? true,
});

const shared = new SharedPostgres('shared', {
  server: db.handle,
  namePrefix: cfg.get('namePrefix') ?? 'vw_',
  instances: cfg.getObject<InstanceSpec[]>('instances') ?? seedInstances,
});

/** The instance's host name (its `address`) and port. */
export const address = db.address;
export const port = db.port;
/** The read replica's host name, when there is one. */
export const readerAddress = db.readerAddress;
/** The name the final snapshot gets when the instance is deleted. */
export const finalSnapshotIdentifier = db.finalSnapshotIdentifier;
/** The Secrets Manager secret with the master password (with manageMasterUserPassword). */
export const masterUserSecretArn = db.masterUserSecretArn;
/** libpq URL per instance (secret). */
export const urls = shared.urls;
/** Kratos DSN per instance (secret). */
export const kratosDsns = shared.kratosDsns;
/** Reader URL per instance: replica first, then primary (secret; with readReplica). */
export const readerUrls = db.replica
  ? pulumi.secret(
      pulumi
        .all(Object.entries(shared.instances).map(([n, d]) => (d.readerUrl as pulumi.Output<string>).apply((u): [string, string] => [n, u])))
        .apply((pairs) => Object.fromEntries(pairs)),
    )
  : undefined;
/** The checked connection budget (max_connections from the class table or pgConfig). */
export const budget = shared.budget;
/** The sslmode clients use. */
export const sslmode: SslMode = db.handle.sslmode;
