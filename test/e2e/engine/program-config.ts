/**
 * What the engine suites' own programs (two-handles.ts, guard-moves.ts)
 * share: an ExternalPostgres configured like examples/shared (`host`,
 * `port`, `adminUser`, `adminPassword`, `adminIsSuperuser`, `sslrootcert`).
 */
import * as pulumi from '@pulumi/pulumi';
import { ExternalPostgresArgs, ServerKind, SslMode } from '../../../src';

/** The args of an ExternalPostgres on the lab server, with `host` (default: the config's `host`). */
export function labServerArgs(cfg: pulumi.Config, host: string = cfg.require('host')): ExternalPostgresArgs {
  return {
    host,
    port: cfg.requireNumber('port'),
    adminUser: cfg.require('adminUser'),
    adminPassword: cfg.requireSecret('adminPassword'),
    adminIsSuperuser: cfg.requireBoolean('adminIsSuperuser'),
    kind: ServerKind.SelfManaged,
    sslmode: SslMode.VerifyFull,
    sslrootcert: cfg.require('sslrootcert'),
    maxConnections: 100,
  };
}
