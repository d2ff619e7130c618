/**
 * The program of test/e2e/engine/preview-guard.test.ts's moves in the
 * program (run from guard-moves/, compiled by `npm run e2e`'s tsc): one
 * server handle (`ExternalPostgres`) and one `SharedPostgres` with two
 * instances on it, moved the ways a refactoring moves them:
 * - `serverName` (default `db`) renames the server component; with
 *   `serverAlias` it keeps its former name as an alias
 *   (`aliases: [{ name: serverAlias }]`, what check-preview advises);
 * - `wrapper` puts the SharedPostgres inside a component of the user's own
 *   (`acme:index:Platform` of that name); `wrapperAlias` true gives the
 *   SharedPostgres `aliases: [{ parent: pulumi.rootStackResource }]`, where
 *   it was before (what check-preview advises);
 * - `namePrefix` (default `gm_`).
 * Configured like examples/shared (`host`, `port`, `adminUser`,
 * `adminPassword`, `adminIsSuperuser`, `sslrootcert`).
 */
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres, SharedPostgres } from '../../../src';
import { labServerArgs } from './program-config';

const cfg = new pulumi.Config('postgres-strategies');
const serverAlias = cfg.get('serverAlias');
const server = new ExternalPostgres(cfg.get('serverName') ?? 'db', labServerArgs(cfg), serverAlias ? { aliases: [{ name: serverAlias }] } : undefined);

/** A component of the user's own, as a platform team would wrap the library's. */
class Platform extends pulumi.ComponentResource {
  constructor(name: string) {
    super('acme:index:Platform', name, {}, {});
  }
}

const wrapper = cfg.get('wrapper');
const options: pulumi.ComponentResourceOptions = wrapper
  ? { parent: new Platform(wrapper), ...(cfg.getBoolean('wrapperAlias') ? { aliases: [{ parent: pulumi.rootStackResource }] } : {}) }
  : {};
const apps = new SharedPostgres('apps', { server: server.handle, namePrefix: cfg.get('namePrefix') ?? 'gm_', instances: [{ name: 'one' }, { name: 'two' }] }, options);

/** The connections the instances count on the server. */
export const connections = apps.budget.total;
