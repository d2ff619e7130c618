/**
 * The Pulumi programs the bench evaluates under the mock runtime, for N app
 * instances on one server:
 *
 * - `component`: what a user of this library writes (README "Using it"):
 *   `ExternalPostgres` + `SharedPostgres`, exporting `urls` and `kratosDsns`.
 * - `handwritten`: what a careful engineer writes by hand with
 *   `@pulumi/postgresql` and `@pulumi/random` for the same instances: the same
 *   resources with the same names, inputs, options and dependencies
 *   (RandomPassword, RandomBytes salt, Role whose password is the SCRAM
 *   verifier of the two, Database owned by the role, Grant revoking PUBLIC),
 *   exporting the same libpq URL and Kratos DSN per instance, built with
 *   template strings and encodeURIComponent (not with the core).
 * - `plain` (information only): the naive hand-written program that gives the
 *   Role the plain password (no salt, no verifier, no PBKDF2).
 *
 * Resource names are the component's, so the mock runtime generates the same
 * passwords and salts and the programs' exports can be compared byte for byte.
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import * as random from '@pulumi/random';
import { ExternalPostgres } from '../src/provisioning/external';
import { SharedPostgres } from '../src/provisioning/shared';
import { scramSha256Verifier } from '../src/core/scram';
import { ServerKind, SslMode } from '../src/core/tls';

export const PROGRAMS = ['component', 'handwritten', 'plain'] as const;
export type ProgramName = (typeof PROGRAMS)[number];

/** What a program exports (its stack outputs), plus the objects it keeps alive. */
export interface ProgramExports {
  urls: pulumi.Output<Record<string, string>>;
  kratosDsns: pulumi.Output<Record<string, string>>;
  /** Keeps the program's objects reachable until the memory is measured. */
  keep: unknown;
}

const HOST = 'shared-db.example.com';
const PORT = 5432;
const SSLROOTCERT = '/etc/ssl/certs/shared-db-ca.pem';
const ADMIN_USER = 'vw_root';
/** The server's max_connections: room for 1000 instances of 20 connections (default pools). */
export const MAX_CONNECTIONS = 25_000;

/** Instance names: i0, i1, ... */
export function instanceNames(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `i${k}`);
}

function component(n: number): ProgramExports {
  const server = new ExternalPostgres('db', {
    host: HOST,
    adminUser: ADMIN_USER,
    adminPassword: pulumi.secret('admin-secret'),
    kind: ServerKind.Managed,
    sslmode: SslMode.VerifyFull,
    sslrootcert: SSLROOTCERT,
    maxConnections: MAX_CONNECTIONS,
  });
  const shared = new SharedPostgres('shared', {
    server: server.handle,
    namePrefix: 'vw_',
    instances: instanceNames(n).map((name) => ({ name })),
  });
  return { urls: shared.urls, kratosDsns: shared.kratosDsns, keep: [server, shared] };
}

function handwritten(n: number, verifier: boolean): ProgramExports {
  const provider = new postgresql.Provider('db-admin', {
    host: HOST,
    port: PORT,
    username: ADMIN_USER,
    password: pulumi.secret('admin-secret'),
    database: 'postgres',
    sslmode: 'verify-full',
    sslrootcert: SSLROOTCERT,
    superuser: false,
    connectTimeout: 15,
    maxConnections: 4,
  });
  const urls: Record<string, pulumi.Output<string>> = {};
  const kratosDsns: Record<string, pulumi.Output<string>> = {};
  const keep: unknown[] = [provider];
  for (const name of instanceNames(n)) {
    const db = `vw_${name}`;
    const password = new random.RandomPassword(`shared-${name}-owner-password`, { length: 32, special: false });
    let rolePassword: pulumi.Output<string>;
    if (verifier) {
      const salt = new random.RandomBytes(`shared-${name}-owner-scram-salt`, { length: 16 });
      rolePassword = pulumi.secret(pulumi.all([password.result, salt.base64]).apply(([p, s]) => scramSha256Verifier(p, s)));
      keep.push(salt);
    } else {
      rolePassword = password.result;
    }
    const role = new postgresql.Role(
      `shared-${name}-owner-role`,
      { name: db, login: true, connectionLimit: 20, createDatabase: false, createRole: false, inherit: true, password: rolePassword },
      { provider, retainOnDelete: true, ignoreChanges: ['roles'] },
    );
    // The admin is not a superuser: it keeps its membership in the owner role (as SharedPostgres does).
    const membership = new postgresql.GrantRole(
      `shared-${name}-admin-membership`,
      { role: ADMIN_USER, grantRole: role.name, withAdminOption: false },
      { provider, dependsOn: [role], retainOnDelete: true },
    );
    const database = new postgresql.Database(`shared-${name}-database`, { name: db, owner: role.name }, { provider, dependsOn: [role, membership], retainOnDelete: true });
    const grant = new postgresql.Grant(
      `shared-${name}-revoke-public`,
      { database: database.name, role: 'public', objectType: 'database', privileges: [] },
      { provider, dependsOn: [database], deleteBeforeReplace: true },
    );
    // Secret: it carries the password (RandomPassword.result is secret in a real
    // deployment anyway; the mock runtime does not apply additionalSecretOutputs).
    const base = pulumi.secret(
      pulumi
        .all([role.name, password.result, database.name])
        .apply(
          ([u, p, d]) =>
            `postgres://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${HOST}:${PORT}/${encodeURIComponent(d)}` +
            `?sslmode=verify-full&sslrootcert=${SSLROOTCERT}&connect_timeout=10&application_name=${name}`,
        ),
    );
    urls[name] = base;
    kratosDsns[name] = base.apply((u) => `${u}&max_conns=10&max_idle_conns=2`);
    keep.push(password, role, membership, database, grant);
  }
  return { urls: pulumi.all(urls), kratosDsns: pulumi.all(kratosDsns), keep };
}

/** Constructs a program (its resources register asynchronously). */
export function runProgram(program: ProgramName, n: number): ProgramExports {
  switch (program) {
    case 'component':
      return component(n);
    case 'handwritten':
      return handwritten(n, true);
    case 'plain':
      return handwritten(n, false);
  }
}
