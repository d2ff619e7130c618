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
 *   Its instances take turns in the same lanes as the component's
 *   (⌊share / 2⌋ of the server's default admin share: an instance's first
 *   resource is registered when the instance `lanes` before it has been
 *   answered, with no dependency between instances), and its provider's pool
 *   is the server's max_connections, as the components set them.
 * - `plain` (information only): the naive hand-written program that gives the
 *   Role the plain password (no salt, no verifier, no PBKDF2).
 * - `unchained` (information only, for the real-engine bench): the
 *   hand-written program without the lanes and with the pool of 4 — every
 *   instance in parallel, as the components were before issue 12 — which
 *   hangs on the real engine.
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
import { DEFAULT_ADMIN_MAX_CONNECTIONS, adminProviderLanes, adminProviderPoolSize, defaultAdminConnections } from '../src/core/budget';
import { labPath } from '../lab/server';

export const PROGRAMS = ['component', 'handwritten', 'plain'] as const;
export type ProgramName = (typeof PROGRAMS)[number];
/** The programs of the real-engine bench: the mock bench's and the unchained one. */
export type AnyProgramName = ProgramName | 'unchained';

/** What a program exports (its stack outputs), plus the objects it keeps alive. */
export interface ProgramExports {
  urls: pulumi.Output<Record<string, string>>;
  kratosDsns: pulumi.Output<Record<string, string>>;
  /** Keeps the program's objects reachable until the memory is measured. */
  keep: unknown;
}

/** The server a program provisions on and how its admin connects. */
export interface ProgramTarget {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: pulumi.Input<string>;
  /** libpq sslmode of the admin and the clients. */
  sslmode: SslMode;
  sslrootcert: string;
  /** Whether the admin is a superuser (no GrantRole then). */
  adminIsSuperuser: boolean;
  /** The server's max_connections. */
  maxConnections: number;
  /** Database and role name prefix. */
  namePrefix: string;
}

/** The server of the mock-runtime bench (nothing connects to it). */
export const MOCK_TARGET: ProgramTarget = {
  host: 'shared-db.example.com',
  port: 5432,
  adminUser: 'vw_root',
  adminPassword: 'admin-secret',
  sslmode: SslMode.VerifyFull,
  // A real CA file: ExternalPostgres reads and checks it at preview (the test CA, a public certificate).
  sslrootcert: labPath('test', 'support', 'fixtures', 'ca.pem'),
  adminIsSuperuser: false,
  /** Room for 1000 instances of 20 connections (default pools). */
  maxConnections: 25_000,
  namePrefix: 'vw_',
};
/** The max_connections the real-engine bench's program declares: room for 100 instances of 20 connections (declared, not opened). */
export const BENCH_MAX_CONNECTIONS = 2_500;
/** The server's max_connections in the mock bench. */
export const MAX_CONNECTIONS = MOCK_TARGET.maxConnections;
/** The components' reserved slots by default (ExternalPostgres `reservedConnections`). */
const RESERVED = 3;
/** The admin's share the components give a server of `maxConnections` by default. */
export function adminShare(maxConnections: number): number {
  return defaultAdminConnections(maxConnections, RESERVED);
}
/** The lanes (instances provisioned at once) of the components at that share (ProviderLanes). */
export function lanesOf(maxConnections: number): number {
  return adminProviderLanes(adminShare(maxConnections));
}
/** The lanes of the mock bench's server. */
export const LANES = lanesOf(MOCK_TARGET.maxConnections);
/** The pool of the unchained program: the components' pool before the lanes (it hangs). */
const UNCHAINED_POOL = DEFAULT_ADMIN_MAX_CONNECTIONS;

/** Instance names: i0, i1, ... */
export function instanceNames(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `i${k}`);
}

function component(n: number, t: ProgramTarget): ProgramExports {
  const server = new ExternalPostgres('db', {
    host: t.host,
    port: t.port,
    adminUser: t.adminUser,
    adminPassword: pulumi.secret(t.adminPassword),
    adminIsSuperuser: t.adminIsSuperuser,
    kind: ServerKind.Managed,
    sslmode: t.sslmode,
    sslrootcert: t.sslrootcert,
    maxConnections: t.maxConnections,
  });
  const shared = new SharedPostgres('shared', {
    server: server.handle,
    namePrefix: t.namePrefix,
    instances: instanceNames(n).map((name) => ({ name })),
  });
  return { urls: shared.urls, kratosDsns: shared.kratosDsns, keep: [server, shared] };
}

function handwritten(n: number, t: ProgramTarget, verifier: boolean, lanes: boolean): ProgramExports {
  const provider = new postgresql.Provider('db-admin', {
    host: t.host,
    port: t.port,
    username: t.adminUser,
    password: pulumi.secret(t.adminPassword),
    database: 'postgres',
    sslmode: t.sslmode,
    sslrootcert: t.sslrootcert,
    superuser: t.adminIsSuperuser,
    connectTimeout: 15,
    maxConnections: lanes ? adminProviderPoolSize(t.maxConnections) : UNCHAINED_POOL,
  });
  const urls: Record<string, pulumi.Output<string>> = {};
  const kratosDsns: Record<string, pulumi.Output<string>> = {};
  const keep: unknown[] = [provider];
  const laneCount = lanesOf(t.maxConnections);
  // Each lane's turn: resolves when the engine has answered the last resource of the lane's previous instance.
  const turns: Promise<void>[] = Array.from({ length: laneCount }, () => Promise.resolve());
  instanceNames(n).forEach((name, k) => {
    const db = `${t.namePrefix}${name}`;
    const password = new random.RandomPassword(`shared-${name}-owner-password`, { length: 32, special: false });
    let rolePassword: pulumi.Output<string>;
    if (verifier) {
      const salt = new random.RandomBytes(`shared-${name}-owner-scram-salt`, { length: 16 });
      rolePassword = pulumi.secret(pulumi.all([password.result, salt.base64]).apply(([p, s]) => scramSha256Verifier(p, s)));
      keep.push(salt);
    } else {
      rolePassword = password.result;
    }
    const lane = k % laneCount;
    // The instance's turn in its lane: the role is registered then, depending on nothing of another instance.
    const turn: pulumi.Input<pulumi.Resource[]> = lanes ? (turns[lane] as Promise<void>).then(() => []) : [];
    const role = new postgresql.Role(
      `shared-${name}-owner-role`,
      { name: db, login: true, connectionLimit: 20, createDatabase: false, createRole: false, inherit: true, password: rolePassword },
      { provider, dependsOn: turn, retainOnDelete: true, ignoreChanges: ['roles'] },
    );
    let previous: pulumi.Resource = role;
    // The admin is not a superuser: it keeps its membership in the owner role (as SharedPostgres does).
    if (!t.adminIsSuperuser) {
      previous = new postgresql.GrantRole(
        `shared-${name}-admin-membership`,
        { role: t.adminUser, grantRole: role.name, withAdminOption: false },
        { provider, dependsOn: [role], retainOnDelete: true, ignoreChanges: ['withAdminOption'] },
      );
    }
    const database = new postgresql.Database(`shared-${name}-database`, { name: db, owner: role.name }, { provider, dependsOn: [previous], retainOnDelete: true });
    const grant = new postgresql.Grant(
      `shared-${name}-revoke-public`,
      { database: database.name, role: 'public', objectType: 'database', privileges: [] },
      { provider, dependsOn: [database], deleteBeforeReplace: true, retainOnDelete: true },
    );
    turns[lane] = new Promise((resolve) => grant.urn.apply(() => resolve()));
    // Secret: it carries the password (RandomPassword.result is secret in a real
    // deployment anyway; the mock runtime does not apply additionalSecretOutputs).
    const base = pulumi.secret(
      pulumi
        .all([role.name, password.result, database.name])
        .apply(
          ([u, p, d]) =>
            `postgres://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${t.host}:${t.port}/${encodeURIComponent(d)}` +
            `?sslmode=${t.sslmode}&sslrootcert=${t.sslrootcert}&connect_timeout=10&application_name=${name}`,
        ),
    );
    urls[name] = base;
    kratosDsns[name] = base.apply((u) => `${u}&max_conns=10&max_idle_conns=2`);
    keep.push(password, role, previous, database, grant);
  });
  return { urls: pulumi.all(urls), kratosDsns: pulumi.all(kratosDsns), keep };
}

/** Constructs a program (its resources register asynchronously). */
export function runProgram(program: AnyProgramName, n: number, target: ProgramTarget = MOCK_TARGET): ProgramExports {
  switch (program) {
    case 'component':
      return component(n, target);
    case 'handwritten':
      return handwritten(n, target, true, true);
    case 'plain':
      return handwritten(n, target, false, true);
    case 'unchained':
      return handwritten(n, target, true, false);
  }
}
