/**
 * Shared helpers of the integration tests (not a test file itself): a lab
 * server per describe block, login URLs, verifiers for a plan, and a
 * bootstrap runner. See the header of each *.test.ts for what it proves.
 */
import { ConnectionDescription, libpqUrl } from '../../src/core/dsn';
import { InstancePlan, RolePlan } from '../../src/core/plan';
import { renderBootstrapSql } from '../../src/core/render-sql';
import { newScramSalt, scramSha256Verifier } from '../../src/core/scram';
import { LAB_VERSIONS, LabServer, LabServerOptions, LabVersion, startLabServer } from '../../lab/server';
import { join } from 'node:path';
import { PsqlResult, psql, psqlOk } from '../../lab/psql';
import { RunResult, run } from '../../lab/run';

/** Every PostgreSQL major the lab runs. */
export const ALL_VERSIONS: readonly LabVersion[] = LAB_VERSIONS;

/** Timeout of beforeAll/afterAll hooks and of tests that talk to a server. */
export const SERVER_TIMEOUT = 60_000;

/**
 * Starts a lab server (with fsync off, unless `conf` says otherwise) before
 * the tests of the enclosing describe block and stops it after them; `setup`
 * runs once it is up. Returns an accessor.
 */
export function useLabServer(options: () => LabServerOptions, setup?: (server: LabServer) => Promise<void>): () => LabServer {
  let server: LabServer | undefined;
  beforeAll(async () => {
    const o = options();
    // fsync off: CREATE DATABASE otherwise waits for the disk (seconds per database on 2 cores).
    server = await startLabServer({ ...o, conf: { fsync: false, ...o.conf } });
    if (setup) await setup(server);
  }, SERVER_TIMEOUT);
  afterAll(async () => {
    await server?.stop();
  }, SERVER_TIMEOUT);
  return () => {
    if (!server) throw new Error('the lab server did not start (see the beforeAll error)');
    return server;
  };
}

/** A login's connection description: the admin's host and TLS settings, another user and database. */
export function loginDescription(server: LabServer, database: string, user: string, password: string): ConnectionDescription {
  return { ...server.admin(database), user, password };
}

/** The libpq URL of a login (see {@link loginDescription}). */
export function loginUrl(server: LabServer, database: string, user: string, password: string): string {
  return libpqUrl(loginDescription(server, database, user, password));
}

/** Every login role of the plans. */
export function loginRoles(plans: InstancePlan[]): RolePlan[] {
  return plans.flatMap((p) => p.roles.filter((r) => r.login));
}

/** Every role name of the plans. */
export function roleNames(plans: InstancePlan[]): string[] {
  return plans.flatMap((p) => p.roles.map((r) => r.name));
}

/** Passwords and verifiers of every login role of the plans. */
export interface Credentials {
  passwords: Record<string, string>;
  verifiers: Record<string, string>;
}

/** Makes a password (by `passwordOf`) and its SCRAM verifier (fresh salt) for every login role. */
export function credentialsFor(plans: InstancePlan[], passwordOf: (role: string) => string = (r) => `pw-${r}-${newScramSalt()}`): Credentials {
  const passwords: Record<string, string> = {};
  const verifiers: Record<string, string> = {};
  for (const role of loginRoles(plans)) {
    passwords[role.name] = passwordOf(role.name);
    verifiers[role.name] = scramSha256Verifier(passwords[role.name] as string, newScramSalt());
  }
  return { passwords, verifiers };
}

/** Renders the bootstrap script of the plans and runs it with psql as `adminUrl`; throws unless psql exits 0. */
export async function bootstrap(adminUrl: string, plans: InstancePlan[], credentials: Credentials): Promise<PsqlResult> {
  return psqlOk(adminUrl, renderBootstrapSql(plans, { verifiers: credentials.verifiers }));
}

/** Runs `sql` as a login; returns the psql result (never throws for a refused login). */
export async function asLogin(server: LabServer, database: string, user: string, password: string, sql: string): Promise<PsqlResult> {
  return psql(loginUrl(server, database, user, password), sql);
}

/** psql's stderr without the "psql: error: connection to server at … failed:" noise, for messages. */
export function describeFailure(r: PsqlResult): string {
  return `exit ${r.code}: ${r.stderr.trim()}`;
}

/** The package's command line as shipped (dist/src/cli/main.js, built by `npm test`'s tsc step). */
export const CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

/**
 * Runs `postgres-strategies migrate <args>` in a child process with only
 * PATH, HOME and `env` in its environment (no PG* variables leak in).
 */
export function runMigrate(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, 'migrate', ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env } });
}
