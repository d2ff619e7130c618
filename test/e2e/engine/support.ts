/**
 * What the real-engine suites share: the engine built once per run
 * (`npm run engine`), a private sandbox around it, TLS lab servers, stacks
 * of `examples/shared` configured the way its README says, and readers of
 * what the server holds.
 */
import { randomBytes } from 'node:crypto';
import { ConfigValue, EngineSandbox, ExampleName, ExampleStack, PreviewJson, buildEngine, engineSandbox, urnName } from '../../../lab/engine';
import { LabServer, LabServerOptions, startLabServer } from '../../../lab/server';
import { withPg } from '../../../lab/inspect';

/** A cold engine build took ~15 min on 2 busy cores; the suites wait for it once. */
export const ENGINE_BUILD_TIMEOUT = 45 * 60_000;
/** One `pulumi up`/`preview`/`destroy` of a few instances, on a loaded machine. */
export const STEP_TIMEOUT = 5 * 60_000;

/** Builds the engine (once per process) and gives every suite its own sandbox. */
export function useEngine(): () => EngineSandbox {
  let sandbox: EngineSandbox | undefined;
  beforeAll(async () => {
    sandbox = engineSandbox(await buildEngine());
  }, ENGINE_BUILD_TIMEOUT);
  afterAll(() => sandbox?.remove());
  return () => {
    if (!sandbox) throw new Error('the engine sandbox is not ready (its beforeAll failed)');
    return sandbox;
  };
}

/** A TLS lab server (fsync off: CREATE DATABASE otherwise waits on the disk) for the enclosing describe block. */
export function useTlsServer(options: LabServerOptions = {}): () => LabServer {
  let server: LabServer | undefined;
  beforeAll(async () => {
    server = await startLabServer({ tls: true, ...options, conf: { fsync: false, max_connections: 100, ...options.conf } });
  }, 60_000);
  afterAll(async () => server?.stop(), 60_000);
  return () => {
    if (!server) throw new Error('the lab server is not running (its beforeAll failed)');
    return server;
  };
}

/** The admin a stack connects as. */
export interface StackAdmin {
  user: string;
  password: string;
  superuser: boolean;
}

/** The server's superuser as the stack's admin. */
export function superuserAdmin(server: LabServer): StackAdmin {
  return { user: server.superuser, password: server.superuserPassword, superuser: true };
}

/** A password with every character a URL, a shell or a .env file treats specially. */
export const HOSTILE_PASSWORD = `p@ss:w/rd?#%&=+ é'"$\\`;

/**
 * Creates a non-superuser admin with CREATEDB CREATEROLE (what RDS, Neon and
 * Supabase give), with a URL-hostile password.
 */
export async function createDeployer(server: LabServer, name = 'deployer'): Promise<StackAdmin> {
  const password = `${HOSTILE_PASSWORD}${randomBytes(6).toString('hex')}`;
  await withPg(server.admin(), async (c) => {
    await c.query(`CREATE ROLE ${name} LOGIN CREATEDB CREATEROLE PASSWORD '${password.replace(/'/g, "''")}'`);
  });
  return { user: name, password, superuser: false };
}

/**
 * The bed of most suites for the enclosing describe block: the engine's
 * sandbox, a TLS lab server and a CREATEDB CREATEROLE admin on it.
 */
export function useDeployerBed(options: LabServerOptions = {}): { sandbox: () => EngineSandbox; server: () => LabServer; admin: () => StackAdmin } {
  const sandbox = useEngine();
  const server = useTlsServer(options);
  let admin: StackAdmin | undefined;
  beforeAll(async () => {
    admin = await createDeployer(server());
  });
  return {
    sandbox,
    server,
    admin: () => {
      if (!admin) throw new Error('the deployer is not created (its beforeAll failed)');
      return admin;
    },
  };
}

/** `pulumi config` of examples/shared for a lab server, as its header documents. */
export function sharedConfig(server: LabServer, admin: StackAdmin, extra: Record<string, string | ConfigValue> = {}): Record<string, string | ConfigValue> {
  return {
    host: server.host,
    port: String(server.port),
    adminUser: admin.user,
    adminPassword: { value: admin.password, secret: true },
    adminIsSuperuser: String(admin.superuser),
    kind: 'self-managed',
    sslmode: 'verify-full',
    sslrootcert: server.caFile as string,
    maxConnections: '100',
    ...extra,
  };
}

/** A new stack of an example with a unique name, initialised and configured. */
export async function newStack(sandbox: EngineSandbox, example: ExampleName, config: Record<string, string | ConfigValue>, prefix = 'e2e'): Promise<ExampleStack> {
  const stack = new ExampleStack(example, `${prefix}-${randomBytes(4).toString('hex')}`, sandbox);
  await stack.init();
  await stack.config(config);
  return stack;
}

/** One changed resource of a preview: the operation, the resource's name and type. */
export interface Change {
  op: string;
  name: string;
  type: string;
  retain: boolean;
  diffReasons: string[];
  replaceReasons: string[];
}

/** The steps of a preview that change something (every op but `same`), sorted by name. */
export function changes(preview: PreviewJson): Change[] {
  return (preview.steps ?? [])
    .filter((s) => s.op !== 'same')
    .map((s) => ({
      op: s.op,
      name: urnName(s.urn),
      type: (s.newState ?? s.oldState)?.type ?? '',
      retain: Boolean((s.oldState ?? s.newState)?.retainOnDelete),
      diffReasons: s.diffReasons ?? [],
      replaceReasons: s.replaceReasons ?? [],
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.op.localeCompare(b.op));
}

/** The seed-shaped instance list of examples/shared's `instances` config, as JSON. */
export function instancesConfig(instances: Array<Record<string, unknown>>): string {
  return JSON.stringify(instances);
}

/** Databases and roles whose names start with `prefix`, with their owners (read as the superuser). */
export async function serverObjects(server: LabServer, prefix: string): Promise<{ databases: Record<string, string>; roles: string[] }> {
  return withPg(server.admin(), async (c) => {
    const dbs = await c.query<{ datname: string; owner: string }>(
      `SELECT datname, pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database WHERE starts_with(datname, $1) ORDER BY 1`,
      [prefix],
    );
    const roles = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_catalog.pg_roles WHERE starts_with(rolname, $1) ORDER BY 1`, [prefix]);
    return { databases: Object.fromEntries(dbs.rows.map((r) => [r.datname, r.owner])), roles: roles.rows.map((r) => r.rolname) };
  });
}
