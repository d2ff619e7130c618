/**
 * The primary seed's Strategy 1: PostgreSQL in a local Docker container,
 * `kratos migrate sql -e --yes` once it is healthy, and Kratos once the
 * migration exited 0 — in one Pulumi program, with the equivalent
 * docker-compose.yml as an output.
 *
 * Configure (namespace `postgres-strategies`; every key is optional):
 *   pulumi config set postgres-strategies:tls true                  # TLS only, verify-full (default false: the seed's sslmode=disable)
 *   pulumi config set postgres-strategies:publishPort 5432          # publish on 127.0.0.1 (default: not published)
 *   pulumi config set postgres-strategies:publishAddress 0.0.0.0    # every interface, on purpose only
 *   pulumi config set postgres-strategies:image postgres:17.2-alpine
 *   pulumi config set postgres-strategies:majorVersion 17           # the image's major, when its tag does not say
 *   pulumi config set postgres-strategies:kratosImage oryd/kratos:v1.3.1
 *   pulumi config set postgres-strategies:kratosPublicPort 4433     # publish Kratos' public API on 127.0.0.1
 *   pulumi config set postgres-strategies:kratosAdminPort 4434      # publish Kratos' admin API on 127.0.0.1 (no authentication)
 *   pulumi config set postgres-strategies:instances '[{"name":"blog"}]'   # app databases next to Kratos'
 *   pulumi config set postgres-strategies:pgConfig '{"shared_buffers":"256MB"}'   # postgresql.conf overrides
 *   pulumi config set postgres-strategies:allowDataDeletion true    # let `pulumi destroy` delete the volume
 *   pulumi config set postgres-strategies:volumeName auth-data      # the data volume's Docker name (default <prefix>auth-postgres-data)
 *   pulumi config set --secret postgres-strategies:kratosConfig "$(cat kratos.yml)"   # your Kratos config (cookie/cipher secrets)
 *   pulumi config set postgres-strategies:dockerNamePrefix dev-    # Docker names (default: <project>-<stack>-)
 *   pulumi config set postgres-strategies:loginRotation '{"enabled":true,"rotation":1}' --path=false   # alternating logins (docs/rotation.md)
 * then `pulumi up` (needs a Docker engine). Secrets: `pulumi stack output --show-secrets`.
 * With TLS, save the CA where hostUrl expects it: `pulumi stack output caPem > postgres-ca.pem`.
 * In a shell without a terminal (CI, a script) every command needs what a prompt would ask:
 *   export PULUMI_CONFIG_PASSPHRASE='…'   # the passphrase of the stack's secrets (`pulumi login --local` stacks)
 *   pulumi up --yes                        # (and `pulumi destroy --yes`): no confirmation prompt
 */
import * as pulumi from '@pulumi/pulumi';
import { InstanceSpec, LoginRotationSpec } from 'postgres-strategies';
import { LocalPostgres } from 'postgres-strategies/local';

const cfg = new pulumi.Config('postgres-strategies');
const kratosPublicPort = cfg.getNumber('kratosPublicPort');
const kratosAdminPort = cfg.getNumber('kratosAdminPort');

const local = new LocalPostgres('auth', {
  image: cfg.get('image'),
  majorVersion: cfg.getNumber('majorVersion'),
  tls: cfg.getBoolean('tls') ?? false,
  publishPort: cfg.getNumber('publishPort'),
  publishAddress: cfg.get('publishAddress'),
  pgConfig: cfg.getObject<Record<string, string | number | boolean>>('pgConfig'),
  // Kratos gets its own database and role ("kratos"), next to any app databases.
  instances: [{ name: 'kratos' }, ...(cfg.getObject<InstanceSpec[]>('instances') ?? [])],
  kratos: {
    instance: 'kratos',
    image: cfg.get('kratosImage'),
    ...(kratosPublicPort !== undefined ? { publishPublicPort: kratosPublicPort } : {}),
    ...(kratosAdminPort !== undefined ? { publishAdminPort: kratosAdminPort } : {}),
    // A secret config value stays secret: uploaded as a secret, never in the component's plan.
    config: cfg.getSecret('kratosConfig'),
  },
  dockerNamePrefix: cfg.get('dockerNamePrefix'),
  allowDataDeletion: cfg.getBoolean('allowDataDeletion') ?? false,
  volumeName: cfg.get('volumeName'),
  loginRotation: cfg.getObject<LoginRotationSpec>('loginRotation'),
});

/** Kratos' DSN (secret): host `postgres` on the stack's network. */
export const kratosDsn = local.kratosDsn;
/** The superuser's libpq URL through the published port (secret; only when published). */
export const hostUrl = local.hostUrl;
/** The CA certificate, with TLS. */
export const caPem = local.caPem;
/** The sslmode clients on the stack's network use. */
export const sslmode = local.sslmode;
/** The same stack as docker-compose.yml (no password in it). */
export const composeYaml = local.composeYaml;
/** The files it mounts, by path (secret: the superuser's password file, Kratos' config with its DSN, TLS key, SCRAM verifiers). */
export const composeFiles = local.composeFiles;
/** The app databases' libpq URLs from the stack's network (secret). */
export const urls = pulumi.secret(
  pulumi.all(Object.fromEntries(Object.entries(local.instances).map(([name, inst]) => [name, inst.url]))),
);
/** Login rotation per instance that has it: current login, last rotation, next due (no secrets). */
export const rotationStates = pulumi.all(
  Object.fromEntries(Object.entries(local.instances).flatMap(([name, inst]) => (inst.rotationState ? [[name, inst.rotationState]] : []))),
);
