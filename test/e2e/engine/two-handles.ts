/**
 * The program of test/e2e/engine/preview-guard.test.ts's move between servers
 * (run from two-handles/, compiled by `npm run e2e`'s tsc): two server
 * handles (`ExternalPostgres` `db-a` and `db-b`) and one `SharedPostgres` on
 * the handle that `postgres-strategies:handle` names (`a` by default).
 * Moving it to the other handle is what a move between servers looks like
 * to the engine. Configured like examples/shared (`host`, `port`,
 * `adminUser`, `adminPassword`, `adminIsSuperuser`, `sslrootcert`), plus
 * `hostB`, db-b's host (default: `host`).
 */
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgres, PostgresServerHandle, SharedPostgres } from '../../../src';
import { labServerArgs } from './program-config';

const cfg = new pulumi.Config('postgres-strategies');
const handle = (name: string, host: string): PostgresServerHandle => new ExternalPostgres(name, labServerArgs(cfg, host)).handle;

const a = handle('db-a', cfg.require('host'));
const b = handle('db-b', cfg.get('hostB') ?? cfg.require('host'));
const apps = new SharedPostgres('apps', { server: cfg.get('handle') === 'b' ? b : a, namePrefix: 'mv_', instances: [{ name: 'one' }] });

/** The connections the instance counts on its server. */
export const connections = apps.budget.total;
