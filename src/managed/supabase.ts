/**
 * Supabase: `ExternalPostgres` arguments and connection strings from what
 * Supabase's dashboard shows (the project's Reference ID and region, the
 * database password, the CA certificate under Database Settings → SSL
 * Configuration).
 *
 * Endpoints of a project `<ref>`:
 * - direct: `db.<ref>.supabase.co:5432`, user `postgres` (migrations and
 *   admin work; IPv6 only unless the project has the IPv4 add-on);
 * - Supavisor session mode: the project's pooler host
 *   `aws-<N>-<region>.pooler.supabase.com:5432`, user `postgres.<ref>` (IPv4
 *   and IPv6; transparent to clients);
 * - Supavisor transaction mode: the same host, port 6543, user
 *   `postgres.<ref>` (no named prepared statements: pgx and Kratos get
 *   `default_query_exec_mode=exec`).
 *
 * The pooler host must be copied from the dashboard (Connect → Session or
 * Transaction pooler): `<N>` is the index of the Supavisor cluster the project
 * was placed on (`aws-0`, `aws-1`, …), which the region does not tell, and a
 * wrong one fails only at connect time with "Tenant or user not found".
 *
 * Sources: primary seed, "Supabase" (`postgres://postgres.abcdefgh:${DB_PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres`
 * with pool 5 / 1 on the free tier and the `:6543` variant with pool 10 / 2,
 * `tls_mode: require`, `connect_timeout: "10s"`); seed 001
 * (`postgres://postgres:[password]@db.[project].supabase.co:5432/postgres?sslmode=require`);
 * provider-facts.md; Supabase docs "Connect to your database", "Connection
 * pooling and limits" (one Pool Size per role and database, shared by the
 * session and transaction ports) and "Postgres SSL Enforcement"
 * (`prod-ca-2021.crt`, enforcement covers Postgres and Supavisor);
 * Supabase's compute table (Nano, the free tier: 60 direct connections, 200
 * pooler clients, default pool size 15; supabase/supabase PR #22313);
 * Supabase's "Supavisor FAQ" ("Tenant or user not found": a pooler host of
 * another cluster than the project's).
 */
import type * as pulumi from '@pulumi/pulumi';
import { GatewayPool, KratosPool, PoolerMode } from '../core/dsn';
import { ValidationError, check, checkInteger } from '../core/errors';
import { GatewayDatabaseConfig } from '../core/gateway';
import { ServerKind, SslMode, parseSslMode, validateClientTls } from '../core/tls';
import { validateServerPoolSize } from '../core/pooler';
import {
  ManagedPreset,
  PasswordPart,
  checkHostName,
  formatProviderUrl,
  gatewayDatabaseConfig,
  validateClientDefaults,
} from './common';

/** Which Supabase endpoint a connection uses. */
export enum SupabaseEndpoint {
  /** `db.<ref>.supabase.co:5432` as `postgres`. */
  Direct = 'direct',
  /** Supavisor session mode, the pooler host's port 5432, as `postgres.<ref>`. */
  SessionPooler = 'session',
  /** Supavisor transaction mode, port 6543, as `postgres.<ref>`. */
  TransactionPooler = 'transaction',
}

/** Port of the direct endpoint `db.<ref>.supabase.co`. */
export const SUPABASE_DIRECT_PORT = 5432;
/** Supavisor's session-mode port. */
export const SUPABASE_SESSION_PORT = 5432;
/** Supavisor's transaction-mode port. */
export const SUPABASE_TRANSACTION_PORT = 6543;
/** Supabase's admin role (CREATEDB, CREATEROLE; not a superuser). */
export const SUPABASE_ADMIN_USER = 'postgres';
/** The database every Supabase project has. */
export const SUPABASE_DATABASE = 'postgres';
/** `max_connections` of the free tier's Nano compute (Supabase's compute table). */
export const SUPABASE_FREE_MAX_CONNECTIONS = 60;
/** Supavisor's Pool Size on the free tier (Database Settings → Connection pooling). */
export const SUPABASE_FREE_POOL_SIZE = 15;
/** The seed's connect_timeout for Supabase. */
export const SUPABASE_CONNECT_TIMEOUT_SECONDS = 10;
/** The seed's free-tier pool on the direct / session endpoint ("Supabase free tier limits concurrent connections"). */
export const SUPABASE_FREE_GATEWAY_POOL: Readonly<GatewayPool> = { maxConns: 5, minConns: 1 };
/** The seed's pool through the transaction pooler. */
export const SUPABASE_POOLED_GATEWAY_POOL: Readonly<GatewayPool> = { maxConns: 10, minConns: 2 };

const REF = /^[a-z][a-z0-9]{2,39}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const POOLER_HOST_EXAMPLE = 'aws-0-eu-central-1.pooler.supabase.com';

/**
 * Checks a project reference (Project Settings → General → Reference ID;
 * 20 lower-case letters on real projects, `abcdefgh` in the seed).
 * @throws ValidationError naming `field`.
 */
export function checkProjectRef(ref: string, field = 'projectRef'): string {
  check(typeof ref === 'string' && ref.length > 0, field, 'is empty', 'Give the Reference ID from Project Settings → General');
  if (ref.startsWith('postgres.')) {
    throw new ValidationError(field, `"${ref}" is the pooler user name, not the reference`, `Give the reference alone ("${ref.slice('postgres.'.length)}")`);
  }
  if (ref.includes('.')) {
    throw new ValidationError(field, `"${ref}" looks like a host name`, 'Give the Reference ID alone (the part between "db." and ".supabase.co")');
  }
  check(
    REF.test(ref),
    field,
    `"${ref}" is not a Supabase project reference`,
    'Give the Reference ID: lower-case letters and digits (Supabase shows 20 letters)',
  );
  return ref;
}

/** Checks an AWS region name (`eu-central-1`). @throws ValidationError naming `field`. */
export function checkRegion(region: string, field = 'region'): string {
  check(typeof region === 'string' && region.length > 0, field, 'is empty', 'Give the project\'s region, e.g. "eu-central-1"');
  if (/^aws-\d+-/.test(region)) {
    throw new ValidationError(field, `"${region}" is the pooler's host prefix, not the region`, `Give the region alone ("${region.replace(/^aws-\d+-/, '')}")`);
  }
  check(REGION.test(region), field, `"${region}" is not an AWS region name`, 'Give the region as Supabase shows it, e.g. "eu-central-1" or "us-east-1"');
  return region;
}

/** The direct host of a project: `db.<ref>.supabase.co`. @throws ValidationError for a bad ref. */
export function supabaseDirectHost(projectRef: string): string {
  return directHost(checkProjectRef(projectRef));
}

function directHost(ref: string): string {
  return `db.${ref}.supabase.co`;
}

const POOLER_HOST = /^aws-\d+-([a-z0-9-]+)\.pooler\.supabase\.com$/;

/**
 * Checks a Supavisor host as the dashboard shows it (Connect → Session or
 * Transaction pooler): `aws-<N>-<region>.pooler.supabase.com`.
 * @param region when given, the host must be in it.
 * @throws ValidationError naming `field`: not set (the host cannot be
 *   derived from the region), not a Supavisor host, or in another region.
 */
export function checkPoolerHost(host: string | undefined, field = 'poolerHost', region?: string): string {
  check(
    host !== undefined && host !== '',
    field,
    'is not set, and the Supavisor host cannot be derived from the region: its "aws-<N>-" prefix is the pooler cluster the project was placed on (aws-0, aws-1, …), and a wrong one fails only at connect time with "Tenant or user not found"',
    `Copy the host from the dashboard (Connect → Transaction pooler or Session pooler), e.g. poolerHost: "${POOLER_HOST_EXAMPLE}"`,
  );
  checkHostName(host, field, POOLER_HOST_EXAMPLE);
  const m = POOLER_HOST.exec(host);
  check(m !== null, field, `"${host}" is not a Supavisor host`, `Copy the pooler host from the dashboard's Connect dialog, e.g. "${POOLER_HOST_EXAMPLE}"`);
  check(
    region === undefined || m[1] === region,
    field,
    `"${host}" is a pooler host in ${m[1]}, but region is "${region}"`,
    'Copy the pooler host of this project (Connect in its dashboard), or correct region',
  );
  return host;
}

/** Where one Supabase endpoint is: host, port, the pooler mode, and the suffix on role names. */
interface EndpointAddress {
  host: string;
  port: number;
  mode: PoolerMode;
  userSuffix: string;
}

/** The one table of Supabase endpoints (inputs already checked; `poolerHost` is set when `endpoint` is a pooler). */
function endpointAddress(endpoint: SupabaseEndpoint, ref: string, poolerHost: string | undefined): EndpointAddress {
  switch (endpoint) {
    case SupabaseEndpoint.Direct:
      return { host: directHost(ref), port: SUPABASE_DIRECT_PORT, mode: PoolerMode.None, userSuffix: '' };
    case SupabaseEndpoint.SessionPooler:
      return { host: poolerHost as string, port: SUPABASE_SESSION_PORT, mode: PoolerMode.Session, userSuffix: `.${ref}` };
    case SupabaseEndpoint.TransactionPooler:
      return { host: poolerHost as string, port: SUPABASE_TRANSACTION_PORT, mode: PoolerMode.Transaction, userSuffix: `.${ref}` };
  }
}

/** The seed's gateway pool for an endpoint: 10 / 2 through the transaction pooler, 5 / 1 on the direct or session endpoint (free tier). */
function seedGatewayPool(endpoint: SupabaseEndpoint): GatewayPool {
  return { ...(endpoint === SupabaseEndpoint.TransactionPooler ? SUPABASE_POOLED_GATEWAY_POOL : SUPABASE_FREE_GATEWAY_POOL) };
}

/** The project's checked reference and, where a pooler endpoint is used, its checked pooler host. */
function checkProject(args: { projectRef: string; region?: string; poolerHost?: string }, endpoints: SupabaseEndpoint[]): { ref: string; poolerHost?: string } {
  const ref = checkProjectRef(args.projectRef);
  const region = args.region !== undefined ? checkRegion(args.region) : undefined;
  const pooled = endpoints.some((e) => e !== SupabaseEndpoint.Direct);
  if (!pooled && args.poolerHost === undefined) return { ref };
  return { ref, poolerHost: checkPoolerHost(args.poolerHost, 'poolerHost', region) };
}

/** Arguments of {@link supabaseServer}. */
export interface SupabaseServerArgs {
  /** The project's Reference ID, e.g. `abcdefghijklmnopqrst`. */
  projectRef: string;
  /**
   * The project's region, e.g. `eu-central-1`: optional, checked against
   * the pooler host when given.
   */
  region?: string;
  /** The database password (role `postgres`); pass a secret. */
  adminPassword: pulumi.Input<string>;
  /**
   * The Supavisor host, copied from the dashboard (Connect → Transaction
   * pooler or Session pooler), e.g. `aws-0-eu-central-1.pooler.supabase.com`
   * or `aws-1-us-east-1.pooler.supabase.com`. Required whenever clients or
   * the admin go through the pooler (the default): its `aws-<N>-` cluster
   * index cannot be derived from the region.
   */
  poolerHost?: string;
  /**
   * Where app clients connect. The direct endpoint and the session pooler
   * count every client connection; the transaction pooler counts its Pool Size.
   * @default SupabaseEndpoint.TransactionPooler
   */
  clientEndpoint?: SupabaseEndpoint;
  /**
   * Where the admin provider connects: direct (IPv6 only without the IPv4
   * add-on) or the session pooler (IPv4). Never the transaction pooler.
   * @default SupabaseEndpoint.Direct
   */
  adminEndpoint?: SupabaseEndpoint;
  /**
   * sslmode of the admin and the clients: require, or verify-full with the
   * Supabase CA (`sslrootcert`).
   * @default SslMode.VerifyFull when `sslrootcert` is given, else SslMode.Require
   */
  sslmode?: SslMode;
  /** Path of Supabase's CA certificate (`prod-ca-2021.crt`, from Database Settings) on the machine running Pulumi and on the clients. */
  sslrootcert?: string;
  /** The compute's `max_connections`. @default 60 (free tier, Nano) */
  maxConnections?: number;
  /** Supavisor's Pool Size (per role and database). @default 15 (free tier) */
  poolSize?: number;
  /** Clients' `connect_timeout`, in seconds. @default 10 (the seed's) */
  connectTimeoutSeconds?: number;
  /** The gateway's pool. @default 10 / 2 through the transaction pooler, else 5 / 1 (the seed's free-tier values) */
  gatewayPool?: GatewayPool;
  /** Kratos' pool. @default 10 / 2 through the transaction pooler, else 5 / 1 */
  kratosPool?: KratosPool;
}

function supabaseSslMode(sslmode: SslMode | undefined, sslrootcert: string | undefined): SslMode {
  const mode = parseSslMode(sslmode ?? (sslrootcert ? SslMode.VerifyFull : SslMode.Require), 'sslmode');
  validateClientTls({ sslmode: mode, sslrootcert }, ServerKind.Managed, 'supabase');
  check(
    sslrootcert !== 'system',
    'sslrootcert',
    'Supabase\'s certificates are signed by its own CA, not one in the system store',
    'Download prod-ca-2021.crt from Database Settings → SSL Configuration and give its path',
  );
  return mode;
}

function parseEndpoint(value: SupabaseEndpoint, field: string): SupabaseEndpoint {
  check(Object.values(SupabaseEndpoint).includes(value), field, `"${String(value)}" is not a Supabase endpoint`, `Use one of: ${Object.values(SupabaseEndpoint).join(', ')}`);
  return value;
}

/**
 * `ExternalPostgres` arguments for a Supabase project, and the seed's
 * free-tier client defaults.
 *
 * - Admin: `postgres` on the direct host (or `postgres.<ref>` on the session
 *   pooler with `adminEndpoint: SessionPooler`), not a superuser.
 * - App clients: the transaction pooler by default (user suffix `.<ref>`,
 *   server pool = Pool Size); the session pooler or the direct host on request.
 * - TLS: require, or verify-full with the Supabase CA file.
 * - Budget: `max_connections` 60 on the free tier.
 *
 * @throws ValidationError naming the field: bad reference or region, no
 *   `poolerHost` while a pooler endpoint is used (the default), a pooler host
 *   that is not a Supavisor host or lies in another region than `region`,
 *   the transaction pooler as admin endpoint, an sslmode Supabase refuses,
 *   verify-full without the CA, impossible numbers.
 */
export function supabaseServer(args: SupabaseServerArgs): ManagedPreset {
  const clientEndpoint = parseEndpoint(args.clientEndpoint ?? SupabaseEndpoint.TransactionPooler, 'clientEndpoint');
  const adminEndpoint = parseEndpoint(args.adminEndpoint ?? SupabaseEndpoint.Direct, 'adminEndpoint');
  check(
    adminEndpoint !== SupabaseEndpoint.TransactionPooler,
    'adminEndpoint',
    'the transaction pooler cannot run provisioning (CREATE DATABASE, session settings) or migrations',
    'Use SupabaseEndpoint.Direct, or SupabaseEndpoint.SessionPooler from an IPv4-only network',
  );
  const { ref, poolerHost } = checkProject(args, [clientEndpoint, adminEndpoint]);
  const sslmode = supabaseSslMode(args.sslmode, args.sslrootcert);
  const maxConnections = args.maxConnections ?? SUPABASE_FREE_MAX_CONNECTIONS;
  checkInteger(maxConnections, 'maxConnections', 4, 262143, 'connections');
  const poolSize = validateServerPoolSize(args.poolSize ?? SUPABASE_FREE_POOL_SIZE, 'poolSize');
  const seedPool = seedGatewayPool(clientEndpoint);
  const clients = validateClientDefaults({
    connectTimeoutSeconds: args.connectTimeoutSeconds ?? SUPABASE_CONNECT_TIMEOUT_SECONDS,
    gatewayPool: { ...(args.gatewayPool ?? seedPool) },
    kratosPool: { ...(args.kratosPool ?? { maxConns: seedPool.maxConns, maxIdleConns: seedPool.minConns }) },
  });
  const admin = endpointAddress(adminEndpoint, ref, poolerHost);
  const client = endpointAddress(clientEndpoint, ref, poolerHost);
  return {
    server: {
      host: admin.host,
      port: admin.port,
      adminUser: `${SUPABASE_ADMIN_USER}${admin.userSuffix}`,
      adminPassword: args.adminPassword,
      adminDatabase: SUPABASE_DATABASE,
      adminIsSuperuser: false,
      kind: ServerKind.Managed,
      sslmode,
      sslrootcert: args.sslrootcert,
      maxConnections,
      connectTimeoutSeconds: SUPABASE_CONNECT_TIMEOUT_SECONDS,
      pooler:
        client.mode === PoolerMode.None
          ? undefined
          : { host: client.host, port: client.port, mode: client.mode, userSuffix: client.userSuffix, serverPoolSize: poolSize },
    },
    clients,
  };
}

/** Arguments of {@link supabaseConnectionString}. */
export interface SupabaseConnectionStringArgs extends PasswordPart {
  projectRef: string;
  /** The project's region: optional, checked against the pooler host when given. */
  region?: string;
  /** Which endpoint. @default SupabaseEndpoint.TransactionPooler */
  endpoint?: SupabaseEndpoint;
  /** The role; through a pooler `.<ref>` is appended. @default "postgres" */
  user?: string;
  /** @default "postgres" */
  database?: string;
  /** The Supavisor host from the dashboard; required for the pooler endpoints (see {@link SupabaseServerArgs.poolerHost}). */
  poolerHost?: string;
  /** sslmode written into the URL; absent = none (the dashboard's URI has none; tls_mode carries it). */
  sslmode?: SslMode;
  /** sslrootcert in the URL (verify-full / verify-ca). */
  sslrootcert?: string;
}

/**
 * Supabase's connection string as its dashboard shows it (Connect → URI):
 * with the placeholder `${DB_PASSWORD}` and the seed's pooler host the
 * primary seed's two `external_url`s (session and transaction pooler) byte
 * for byte; with `endpoint: Direct` and `sslmode: require` seed 001's direct URL.
 * @throws ValidationError for a bad reference or region, a missing or bad
 *   pooler host (for the pooler endpoints), a bad sslmode or password part.
 */
export function supabaseConnectionString(args: SupabaseConnectionStringArgs): string {
  const endpoint = parseEndpoint(args.endpoint ?? SupabaseEndpoint.TransactionPooler, 'endpoint');
  const { ref, poolerHost } = checkProject(args, [endpoint]);
  const user = args.user ?? SUPABASE_ADMIN_USER;
  check(typeof user === 'string' && user.length > 0 && !user.includes('.'), 'user', `"${user}" is not a role name`, 'Give the role alone; the pooler\'s ".<ref>" is added for you');
  const params: Array<[string, string]> = [];
  if (args.sslmode !== undefined) {
    const mode = supabaseSslMode(args.sslmode, args.sslrootcert);
    params.push(['sslmode', mode]);
    if (args.sslrootcert !== undefined) params.push(['sslrootcert', args.sslrootcert]);
  } else {
    check(args.sslrootcert === undefined, 'sslrootcert', 'is given without an sslmode', 'Give sslmode verify-full with it');
  }
  const address = endpointAddress(endpoint, ref, poolerHost);
  return formatProviderUrl({
    host: address.host,
    port: address.port,
    user: `${user}${address.userSuffix}`,
    database: args.database ?? SUPABASE_DATABASE,
    password: args.password,
    passwordPlaceholder: args.passwordPlaceholder,
    params,
  });
}

/**
 * The primary seed's `database:` block for Supabase: the connection string,
 * `tls_mode` (default require), `connect_timeout: "10s"`, and the seed's
 * pool: 5 / 1 on the direct or session endpoint (free tier), 10 / 2 through
 * the transaction pooler.
 * @throws ValidationError as {@link supabaseConnectionString}.
 */
export function supabaseGatewayConfig(args: SupabaseConnectionStringArgs, tlsMode: SslMode = args.sslmode ?? SslMode.Require, pool?: GatewayPool): GatewayDatabaseConfig {
  const url = supabaseConnectionString(args);
  return gatewayDatabaseConfig(url, tlsMode, SUPABASE_CONNECT_TIMEOUT_SECONDS, { ...(pool ?? seedGatewayPool(args.endpoint ?? SupabaseEndpoint.TransactionPooler)) });
}
