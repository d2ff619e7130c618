/**
 * Moving a stack's app instances from server A to server B without losing
 * data (docs/moving.md, "The stack procedure"): the same instances on both
 * servers while `postgres-strategies migrate` copies and verifies, then the
 * outputs switched to B, then A's resources out of the stack — retained on
 * A, with their data, until removed by hand. Each step is one config change
 * (one pull request), so each `pulumi preview` shows exactly that step.
 *
 * Server A (namespace `postgres-strategies`, the stack as it was):
 *   pulumi config set postgres-strategies:aHost old-db.example.com
 *   pulumi config set postgres-strategies:aAdminUser vw_root
 *   pulumi config set --secret postgres-strategies:aAdminPassword '...'
 *   pulumi config set postgres-strategies:aSslrootcert ./old-ca.pem        # verify-full
 *   pulumi config set postgres-strategies:instances '[{"name":"blog"},{"name":"api"}]'
 * Step 1 — add server B and the same instances on it (new, empty databases):
 *   pulumi config set postgres-strategies:bHost new-db.example.com
 *   pulumi config set postgres-strategies:bAdminUser postgres
 *   pulumi config set --secret postgres-strategies:bAdminPassword '...'
 *   pulumi config set postgres-strategies:bSslrootcert ./global-bundle.pem
 * Step 2 — stop the apps, then per instance (no stack change):
 *   FROM="$(pulumi stack output --show-secrets fromUrls | jq -r .blog)" \
 *   TO="$(pulumi stack output --show-secrets toUrls | jq -r .blog)" \
 *   npx postgres-strategies migrate --from-env FROM --to-env TO
 * Step 3 — switch the outputs the apps read to B:
 *   pulumi config set postgres-strategies:activeServer b
 * Step 4 — take A's resources out of the stack (retained on A with their data):
 *   pulumi config set postgres-strategies:keepServerA false
 * Optional for each server (a… for A, b… for B):
 *   pulumi config set postgres-strategies:aPort 5432                  # default 5432; and bPort
 *   pulumi config set postgres-strategies:bPort 5432
 *   pulumi config set postgres-strategies:aAdminIsSuperuser true      # default false; and bAdminIsSuperuser
 *   pulumi config set postgres-strategies:bAdminIsSuperuser true
 *   pulumi config set postgres-strategies:aMaxConnections 100         # default 100; and bMaxConnections
 *   pulumi config set postgres-strategies:bMaxConnections 100
 * In a shell without a terminal (CI, a script) every command needs what a prompt would ask:
 *   export PULUMI_CONFIG_PASSPHRASE='…'   # the passphrase of the stack's secrets (`pulumi login --local` stacks)
 *   pulumi up --yes                        # (and `pulumi destroy --yes`): no confirmation prompt
 */
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres, InstanceSpec, ServerKind, SharedPostgres, SslMode } from 'postgres-strategies';

const cfg = new pulumi.Config('postgres-strategies');
const instances = cfg.getObject<InstanceSpec[]>('instances') ?? [{ name: 'blog' }, { name: 'api' }];

/** One server and the instances on it; `key` is `a` or `b` (the config keys' prefix). */
function serverWithInstances(key: 'a' | 'b', component: string): SharedPostgres {
  const server = new ExternalPostgres(`${component}-server`, {
    host: cfg.require(`${key}Host`),
    port: cfg.getNumber(`${key}Port`) ?? 5432,
    adminUser: cfg.require(`${key}AdminUser`),
    adminPassword: cfg.requireSecret(`${key}AdminPassword`),
    adminIsSuperuser: cfg.getBoolean(`${key}AdminIsSuperuser`) ?? false,
    kind: ServerKind.SelfManaged,
    sslmode: SslMode.VerifyFull,
    sslrootcert: cfg.require(`${key}Sslrootcert`),
    maxConnections: cfg.getNumber(`${key}MaxConnections`) ?? 100,
  });
  // The same instance names (so the same database and role names) on both servers.
  return new SharedPostgres(component, { server: server.handle, namePrefix: 'vw_', instances });
}

const keepA = cfg.getBoolean('keepServerA') ?? true;
const oldServer = keepA ? serverWithInstances('a', 'old') : undefined;
const newServer = cfg.get('bHost') !== undefined ? serverWithInstances('b', 'new') : undefined;
const active = (cfg.get('activeServer') ?? 'a') === 'b' ? newServer : oldServer;
if (!active) {
  throw new Error(
    'postgres-strategies:activeServer names a server this program no longer declares: set activeServer to b (with server B configured) before keepServerA false',
  );
}

/** What the apps use: libpq URL per instance (secret). */
export const urls = active.urls;
/** Kratos DSN per instance (secret). */
export const kratosDsns = active.kratosDsns;
/** The auth gateway's env map per instance (secret). */
export const gatewayEnvs = active.gatewayEnvs;
/** `migrate --from`: server A's URL per instance, while A is in the stack, else none (secret). */
export const fromUrls = oldServer ? oldServer.urls : pulumi.secret({});
/** `migrate --to`: server B's URL per instance, once B is declared, else none (secret). */
export const toUrls = newServer ? newServer.urls : pulumi.secret({});
