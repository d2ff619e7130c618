/**
 * The Pulumi pieces every strategy shares for its login roles: generated
 * passwords with their SCRAM verifiers, the connection strings and env maps
 * derived from a connection, and the bootstrap script from the verifiers.
 * Used by {@link InstanceDatabase} and {@link LocalPostgres}, so both give
 * the same outputs for the same plan.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { ConnectionDescription, GatewayPool, KratosPool, kratosDsn, libpqUrl, pgxUrl } from '../core/dsn';
import { databaseUrlEnv, kratosEnv, libpqEnv } from '../core/env';
import { GatewayEnv, gatewayEnv } from '../core/gateway';
import { InstancePlan } from '../core/plan';
import { renderBootstrapSql } from '../core/render-sql';
import { LoginRotationStatus, RotationState } from '../core/rotation';
import { SCRAM_SALT_BYTES, scramSha256VerifierAsync } from '../core/scram';

/** Environment maps of one login (every value carries the password; all secret). */
export interface InstanceEnv {
  /** Ory Kratos (`kratos serve`): `DSN`, through the pooler when there is one. */
  kratos: pulumi.Output<{ DSN: string }>;
  /** The auth gateway: `VIBEWARDEN_DATABASE_*`, through the pooler when there is one. */
  gateway: pulumi.Output<GatewayEnv>;
  /** `DATABASE_URL` (libpq URL, direct endpoint). */
  databaseUrl: pulumi.Output<{ DATABASE_URL: string }>;
  /** libpq's `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, ... (direct endpoint) */
  libpq: pulumi.Output<Record<string, string>>;
}

/**
 * One app instance that a server-creating strategy provisions itself (the
 * local bootstrap container, Hetzner's cloud-init): its names and outputs.
 * Everything that carries the password is secret.
 */
export interface InstanceOutputs {
  /** The database name. */
  database: string;
  /** The login role's name (with `loginRotation`: the current login's, `<login>_a` or `<login>_b`). */
  user: pulumi.Output<string>;
  password: pulumi.Output<string>;
  /** The connection as clients of the strategy reach it (host, port, TLS). */
  connection: pulumi.Output<ConnectionDescription>;
  /** libpq URL (psql, pg_dump, libpq drivers). */
  url: pulumi.Output<string>;
  /** pgx URL with the gateway's pool. */
  pgxUrl: pulumi.Output<string>;
  /** Ory Kratos DSN. */
  kratosDsn: pulumi.Output<string>;
  /** Environment maps. */
  env: InstanceEnv;
  /** The login rotation (with `loginRotation` on): current login, last rotation, next due (no secrets). */
  rotationState?: pulumi.Output<LoginRotationStatus>;
}

/** A generated password (secret) and its SCRAM-SHA-256 verifier (secret). */
export interface GeneratedLogin {
  password: pulumi.Output<string>;
  verifier: pulumi.Output<string>;
}

/**
 * A `random.RandomPassword` (letters and digits: safe in URLs, shells and
 * .env files) and a `random.RandomBytes` SCRAM salt named `<prefix>-password`
 * and `<prefix>-scram-salt`. Both are generated once and kept in state, so
 * the verifier — what the server stores — stays the same across runs.
 * @param keepers when given, both are generated anew whenever a value
 *   changes (a rotated login); absent, never.
 */
export function generateLogin(prefix: string, length: number, parent: pulumi.Resource, keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>): GeneratedLogin {
  const kept = keepers === undefined ? {} : { keepers };
  const password = new random.RandomPassword(`${prefix}-password`, { length, special: false, ...kept }, { parent });
  const salt = new random.RandomBytes(`${prefix}-scram-salt`, { length: SCRAM_SALT_BYTES, ...kept }, { parent });
  const secretPassword = pulumi.secret(password.result);
  return {
    password: secretPassword,
    // Computed from a secret, so a secret itself. PBKDF2 runs on the thread pool.
    verifier: pulumi.all([secretPassword, salt.base64]).apply(([p, s]) => scramSha256VerifierAsync(p, s)),
  };
}

/**
 * A generated login ({@link generateLogin}, named
 * `<prefix>-<instance>-<purpose>`) for every login role of `plans`, by role
 * name, and their SCRAM verifiers by role name for the bootstrap SQL: what a
 * strategy that provisions its instances itself (local bootstrap container,
 * Hetzner cloud-init) needs.
 */
export function generateInstanceLogins(
  prefix: string,
  plans: InstancePlan[],
  length: number,
  parent: pulumi.Resource,
): { logins: Map<string, GeneratedLogin>; verifiers: Map<string, pulumi.Output<string>> } {
  const logins = new Map<string, GeneratedLogin>();
  for (const inst of plans) {
    // The alternating logins of a rotating instance get theirs from rotationLogins (rotation.ts).
    for (const role of inst.roles.filter((r) => r.login && r.memberOf === undefined)) logins.set(role.name, generateLogin(`${prefix}-${inst.instance}-${role.purpose}`, length, parent));
  }
  return { logins, verifiers: new Map([...logins].map(([role, l]) => [role, l.verifier])) };
}

/** Connection strings in each dialect and env maps of one login. */
export interface ConnectionOutputs {
  /** libpq URL (psql, pg_dump, libpq drivers), always the direct endpoint. */
  url: pulumi.Output<string>;
  /** libpq URL through the pooler when there is one, else the direct {@link url}. */
  pooledUrl: pulumi.Output<string>;
  /** pgx URL with the gateway's pool, through the pooler when there is one. */
  pgxUrl: pulumi.Output<string>;
  /** Ory Kratos DSN for `kratos serve`, through the pooler when there is one. */
  kratosDsn: pulumi.Output<string>;
  /** Ory Kratos DSN for `kratos migrate sql`, always the direct endpoint. */
  kratosMigrateDsn: pulumi.Output<string>;
  env: InstanceEnv;
}

/**
 * Derives the dialects and env maps from a login's connections. `direct`
 * (and `pooled`, the same login through a pooler) must be secrets (they
 * carry the password); everything computed from them is one too.
 *
 * Direct: `url`, `kratosMigrateDsn`, `env.databaseUrl`, `env.libpq` (psql,
 * pg_dump, migrations). Pooled when a pooler is given: `pooledUrl`,
 * `pgxUrl`, `kratosDsn`, `env.kratos`, `env.gateway` (with
 * `default_query_exec_mode=exec` behind a transaction pooler).
 */
export function connectionOutputs(
  direct: pulumi.Output<ConnectionDescription>,
  pools: { gatewayPool: GatewayPool; kratosPool: KratosPool },
  pooled?: pulumi.Output<ConnectionDescription>,
): ConnectionOutputs {
  const viaPooler = pooled ?? direct;
  const derive = <T>(c: pulumi.Output<ConnectionDescription>, f: (c: ConnectionDescription) => T): pulumi.Output<T> => c.apply(f);
  return {
    url: derive(direct, (c) => libpqUrl(c)),
    pooledUrl: derive(viaPooler, (c) => libpqUrl(c)),
    pgxUrl: derive(viaPooler, (c) => pgxUrl(c, pools.gatewayPool)),
    kratosDsn: derive(viaPooler, (c) => kratosDsn(c, pools.kratosPool)),
    kratosMigrateDsn: derive(direct, (c) => kratosDsn(c, pools.kratosPool)),
    env: {
      kratos: derive(viaPooler, (c) => kratosEnv(c, pools.kratosPool)),
      gateway: derive(viaPooler, (c) => gatewayEnv(c, pools.gatewayPool)),
      databaseUrl: derive(direct, (c) => databaseUrlEnv(c)),
      libpq: derive(direct, (c) => libpqEnv(c)),
    },
  };
}

/**
 * The idempotent psql script of `plans` from their login roles' verifiers
 * (secret, since the verifiers are) and the rotation states of the
 * instances with alternating logins (by instance name); an empty string
 * without plans.
 */
export function bootstrapSqlOutput(
  plans: InstancePlan[],
  verifiers: Map<string, pulumi.Output<string>>,
  rotations: Map<string, pulumi.Output<RotationState>> = new Map(),
): pulumi.Output<string> {
  const names = [...verifiers.keys()];
  const instances = [...rotations.keys()];
  const render = (values: string[], states: RotationState[] = []): string =>
    plans.length === 0
      ? ''
      : renderBootstrapSql(plans, {
          verifiers: Object.fromEntries(names.map((n, i) => [n, values[i] as string])),
          ...(instances.length > 0 ? { rotations: Object.fromEntries(instances.map((n, i) => [n, states[i] as RotationState])) } : {}),
        });
  if (instances.length > 0) {
    return pulumi
      .all([pulumi.all(names.map((n) => verifiers.get(n) as pulumi.Output<string>)), pulumi.all(instances.map((n) => rotations.get(n) as pulumi.Output<RotationState>))])
      .apply(([values, states]) => render(values, states));
  }
  // One login (the default shape of one instance): a single apply instead of pulumi.all.
  const only = names.length === 1 ? (verifiers.get(names[0] as string) as pulumi.Output<string>) : undefined;
  return only ? only.apply((v) => render([v])) : pulumi.all(names.map((n) => verifiers.get(n) as pulumi.Output<string>)).apply((v) => render(v));
}
