/**
 * The primary seed's Strategy 3: three app instances (blog, admin, api) on
 * one external PostgreSQL, one database and login role each, with the
 * connection budget checked and PUBLIC's CONNECT revoked on every database.
 *
 * Configure (namespace `postgres-strategies`):
 *   pulumi config set postgres-strategies:host shared-db.example.com
 *   pulumi config set postgres-strategies:adminUser vw_root
 *   pulumi config set --secret postgres-strategies:adminPassword '...'
 *   pulumi config set postgres-strategies:sslmode verify-full          # default: require
 *   pulumi config set postgres-strategies:sslrootcert ./ca.pem          # needed for verify-*
 *   pulumi config set postgres-strategies:maxConnections 100           # the server's max_connections
 *   pulumi config set postgres-strategies:instances '[{"name":"blog"},{"name":"admin"}]' --path=false
 * then `pulumi up`. Outputs are secrets: `pulumi stack output --show-secrets`.
 */
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres, InstanceSpec, ServerKind, SharedPostgres, SslMode, parseSslMode } from '../../src';
import { seedInstances } from './instances';

const cfg = new pulumi.Config('postgres-strategies');

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
});

const shared = new SharedPostgres('shared', {
  server: server.handle,
  namePrefix: cfg.get('namePrefix') ?? 'vw_',
  instances: cfg.getObject<InstanceSpec[]>('instances') ?? seedInstances,
  allowDeletion: cfg.getBoolean('allowDeletion') ?? false,
});

/** libpq URL per instance (secret). */
export const urls = shared.urls;
/** Kratos DSN per instance (secret). */
export const kratosDsns = shared.kratosDsns;
/** The checked connection budget. */
export const budget = shared.budget;
/** The whole setup as one idempotent psql script (secret: SCRAM verifiers). */
export const bootstrapSql = shared.bootstrapSql;
/** The sslmode clients use. */
export const sslmode: SslMode = server.handle.sslmode;
