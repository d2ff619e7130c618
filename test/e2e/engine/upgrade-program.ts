/**
 * The program of test/e2e/engine/upgrade.test.ts (run from upgrade-program/,
 * compiled by `npm run e2e`'s tsc): what the release of issue 20 changes in
 * an existing stack, with the providers that run here.
 *
 * - The admin connection (a `@pulumi/postgresql` provider) as
 *   HetznerPostgres makes it: `sslmode=require` (releases up to 2026-12-04,
 *   `admin: "require"`), or verifying the server against the CA itself,
 *   held in the provider's state (`createInlineAdminTls`, `admin: "inline"`;
 *   `caFile` is read here, by the program, never by the provider).
 * - A role and a random id whose name and `keepers.identifier` are
 *   defaults, fixed at creation with `ignoreChanges` exactly as the
 *   components fix a defaulted RDS identifier and Hetzner names
 *   (`fixedNames: true`), so a new default renames nothing in a stack that
 *   exists, while a new stack gets the new one.
 */
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import * as random from '@pulumi/random';
import { createInlineAdminTls } from '../../../src/provisioning/tls-certificates';

const cfg = new pulumi.Config('postgres-strategies');
const fixed = cfg.getBoolean('fixedNames') ?? false;

class Server extends pulumi.ComponentResource {
  constructor(name: string) {
    super('postgres-strategies-e2e:index:Server', name);
  }
}
const server = new Server('srv');
const tls = cfg.require('admin') === 'inline' ? { sslmode: 'verify-full', ...createInlineAdminTls('srv', readFileSync(cfg.require('caFile'), 'utf8'), server) } : { sslmode: 'require' };
const admin = new postgresql.Provider(
  'srv-admin',
  { host: cfg.require('host'), port: cfg.requireNumber('port'), username: cfg.require('adminUser'), password: cfg.requireSecret('adminPassword'), database: 'postgres', superuser: true, connectTimeout: 10, ...tls },
  { parent: server },
);
const role = new postgresql.Role('app-role', { name: cfg.require('roleName'), login: false }, { parent: server, provider: admin, ...(fixed ? { ignoreChanges: ['name'] } : {}) });
const suffix = new random.RandomId('suffix', { byteLength: 4, keepers: { identifier: cfg.require('identifier') } }, { parent: server, ...(fixed ? { ignoreChanges: ['keepers.identifier'] } : {}) });

/** The role's name in the state (the server's). */
export const roleName = role.name;
/** The identifier the random id was created with. */
export const identifier = suffix.keepers.apply((k) => k?.['identifier']);
