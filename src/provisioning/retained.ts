/**
 * Roles and databases a new stack is about to create that already exist on
 * the server: retained by an earlier stack's `pulumi destroy` (every
 * resource on the server is retained on delete by default) or made by hand.
 * `pulumi up` would fail on them inside the provider (`pq: role "vw_blog"
 * already exists (42710)`); this finds them at preview, from the catalog the
 * admin can read, and says what to do: adopt them (`adopt: true`, the
 * `import` resource option with the names as IDs) or drop them.
 *
 * How it knows what this stack creates: at preview a resource the stack
 * already has carries its ID, one it is about to create does not (unknown).
 * Only then is the catalog read: one connection as the admin, from the
 * machine that runs Pulumi, with the admin provider's own TLS settings. A
 * failure to read it is a warning, never a failed preview: the provider
 * reports an unreachable server itself.
 */
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'pg-connection-string';
import { ConnectionDescription, libpqUrl } from '../core/dsn';
import { ValidationError } from '../core/errors';
import { SslMode } from '../core/tls';

/** What {@link ServerCatalog.existing} found of the names asked for. */
export interface ExistingObjects {
  roles: string[];
  databases: string[];
  /** `host:port`, for messages. */
  where: string;
}

/** Reads the server's catalog as the admin (only at preview, only when the stack creates something). */
export interface ServerCatalog {
  /** Which of these roles and databases exist on the server. @throws when it cannot connect. */
  existing(names: { roles: string[]; databases: string[] }): Promise<ExistingObjects>;
}

/** The admin connection of a {@link serverCatalog}, as the strategy's args give it. */
export interface CatalogConnection {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: string;
  password: pulumi.Input<string>;
  database: pulumi.Input<string>;
  sslmode: SslMode;
  /** Absolute path of the CA bundle (or `system`). */
  sslrootcert?: string;
  connectTimeoutSeconds: number;
}

/**
 * The value of an Output now, or `undefined` while it is unknown (at
 * preview, a resource about to be created). Uses the SDK's `isKnown` and
 * `promise()`, which every Output carries (the SDK's own tests and tooling
 * read them too); they are not in its typings.
 */
async function valueOf<T>(input: pulumi.Input<T>): Promise<{ known: boolean; value?: T }> {
  const o = pulumi.output(input) as unknown as { isKnown: Promise<boolean>; promise(): Promise<T> };
  if (!(await o.isKnown)) return { known: false };
  return { known: true, value: await o.promise() };
}

/** A {@link ServerCatalog} that connects with `pg` (loaded on first use) as the admin. */
export function serverCatalog(c: CatalogConnection): ServerCatalog {
  return {
    async existing(names) {
      const [host, port, password, database] = await Promise.all([valueOf(c.host), valueOf(c.port), valueOf(c.password), valueOf(c.database)]);
      if (!host.known || !port.known || !password.known || !database.known) throw new Error('the admin connection is not known yet');
      const where = `${String(host.value)}:${String(port.value)}`;
      const description: ConnectionDescription = {
        hosts: [{ host: host.value as string, port: Number(port.value) }],
        database: database.value as string,
        user: c.user,
        password: password.value as string,
        tls: { sslmode: c.sslmode, ...(c.sslrootcert !== undefined ? { sslrootcert: c.sslrootcert } : {}) },
        connectTimeoutSeconds: c.connectTimeoutSeconds,
      };
      // TLS exactly as libpq reads the URL (pg-connection-string's libpq compatibility, as migrate does).
      const parsed = parse(libpqUrl(description), { useLibpqCompat: true });
      const pg = require('pg') as typeof import('pg');
      const client = new pg.Client({
        host: description.hosts[0]!.host,
        port: description.hosts[0]!.port,
        user: c.user,
        password: description.password,
        database: description.database,
        ssl: typeof parsed.ssl === 'object' ? (parsed.ssl as import('pg').ClientConfig['ssl']) : false,
        connectionTimeoutMillis: c.connectTimeoutSeconds * 1000,
        application_name: 'postgres-strategies preview',
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const roles = await client.query<{ name: string }>('SELECT rolname AS name FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1', [names.roles]);
        const databases = await client.query<{ name: string }>('SELECT datname AS name FROM pg_catalog.pg_database WHERE datname = ANY($1::text[]) ORDER BY 1', [names.databases]);
        return { roles: roles.rows.map((r) => r.name), databases: databases.rows.map((r) => r.name), where };
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** What {@link checkNotRetained} looks at: one instance's planned objects and the resources that create them. */
export interface PlannedObjects {
  /** The component, for the message (`InstanceDatabase "shared-blog"`). */
  component: string;
  roles: { name: string; resource: pulumi.CustomResource }[];
  database: string;
}

/**
 * Looks for what this stack is about to create among the server's roles and
 * databases, and fails the program (the preview) with a ValidationError
 * naming what exists and what to do: adopt or drop. The returned promise
 * always resolves, so that the input waiting for it is not what fails. Runs
 * only at preview (`pulumi preview`, and the preview of
 * `pulumi up`), only when a role of the instance is about to be created,
 * and only with a catalog (servers the stack does not create) and a real
 * engine (never under the mock runtime).
 * @param parent the component, for a warning when the catalog cannot be read.
 */
export async function checkNotRetained(catalog: ServerCatalog | undefined, planned: PlannedObjects, parent: pulumi.Resource): Promise<void> {
  // Under the mock runtime (unit tests, the demo's offline preview) there is no engine and no server to read.
  if (!catalog || !pulumi.runtime.isDryRun() || !pulumi.runtime.hasEngine()) return;
  const ids = await Promise.all(planned.roles.map((r) => valueOf(r.resource.id)));
  if (ids.every((id) => id.known)) return;
  let found: ExistingObjects;
  try {
    found = await catalog.existing({ roles: planned.roles.map((r) => r.name), databases: [planned.database] });
  } catch (e) {
    await pulumi.log.warn(`could not read the server's catalog to look for roles and databases left by an earlier stack (${e instanceof Error ? e.message : String(e)})`, parent);
    return;
  }
  const error = retainedError(planned.component, found);
  if (!error) return;
  // The program fails with it as with any error it throws, but not from here: a rejection of this
  // promise would surface wrapped in the SDK's "error serializing property" of the input that waits for
  // the check. A rejection nobody awaits is the program's own failure: the SDK logs the message of this
  // ValidationError (a RunError to it: no stack trace) and the preview fails. A logged error diagnostic
  // alone would not fail it.
  void Promise.reject(error);
}

/**
 * With `adopt` still on once the roles are in the stack (their IDs known at
 * preview): a warning that they keep their old passwords, so the URL
 * outputs (this stack's passwords) do not work until adopt is turned off.
 */
export async function remindAdopted(planned: PlannedObjects, parent: pulumi.Resource): Promise<void> {
  if (!pulumi.runtime.isDryRun() || !pulumi.runtime.hasEngine()) return;
  const ids = await Promise.all(planned.roles.map((r) => valueOf(r.resource.id)));
  if (!ids.every((id) => id.known)) return;
  await pulumi.log.warn(
    `${planned.component}: adopt is still on, so its roles keep the passwords they had before this stack and the URL outputs do not work yet: set adopt to false and run \`pulumi up\` to give them this stack's passwords`,
    parent,
  );
}

/**
 * The error for objects found that the stack was about to create, or
 * undefined when none was found: what exists, where, and the two ways on
 * (adopt, or drop with the SQL given).
 */
export function retainedError(component: string, found: ExistingObjects): ValidationError | undefined {
  if (found.roles.length === 0 && found.databases.length === 0) return undefined;
  return new ValidationError(
    component,
    `${describe(found)} already exist${found.roles.length + found.databases.length === 1 ? 's' : ''} on ${found.where}, and this stack has not created ${found.roles.length + found.databases.length === 1 ? 'it' : 'them'} ` +
      '(left by an earlier stack\'s `pulumi destroy`, which retains them with their data, or made by hand — or this stack holds them under other URNs: ' +
      'a component moved under another parent or renamed without `aliases`): `pulumi up` would fail with "already exists"',
    'If a component of this program moved or was renamed, give it `aliases` with its old parent or name (nothing is created then). ' +
      'To keep the data of a stack destroyed earlier, adopt them into this stack: set adopt: true on the SharedPostgres or InstanceDatabase (examples/shared: ' +
      '`pulumi config set postgres-strategies:adopt true`) and run `pulumi up`; then set adopt back to false and run `pulumi up` again, which gives the roles this stack\'s passwords. ' +
      `To start empty instead, drop them as the admin first: ${dropSql(found)}`,
  );
}

function describe(found: ExistingObjects): string {
  const parts = [
    ...(found.databases.length ? [`database ${found.databases.map((d) => `"${d}"`).join(', ')}`] : []),
    ...(found.roles.length ? [`role${found.roles.length > 1 ? 's' : ''} ${found.roles.map((r) => `"${r}"`).join(', ')}`] : []),
  ];
  return parts.join(' and ');
}

function dropSql(found: ExistingObjects): string {
  const quote = (n: string): string => `"${n.replace(/"/g, '""')}"`;
  return [...found.databases.map((d) => `DROP DATABASE ${quote(d)};`), ...(found.roles.length ? [`DROP ROLE ${found.roles.map(quote).join(', ')};`] : [])].join(' ');
}
