/**
 * Issue 12 scenario 4 and hazard #233 on the real engine: what renaming
 * `namePrefix` or an instance really does to a stack of examples/shared, and
 * that no path loses data.
 *
 * What the engine shows (and docs/reference.md's "Renames" documents):
 * - a new `namePrefix` updates the Role and Database names in place (the
 *   provider runs `ALTER ROLE/DATABASE … RENAME`) and replaces every Grant,
 *   DefaultPrivileges and the admin's GrantRole (their `database`/`role` are
 *   replace-only); data, passwords and privileges survive, every URL output
 *   changes;
 * - with a session open on the database the rename fails ("being accessed by
 *   other users") after the roles were renamed; nothing is lost, and once
 *   the session is gone the next `up` finishes the rename;
 * - a new instance `name` alone creates a new, empty database and retains
 *   the old one; with `previousNames` the same change is an in-place rename
 *   that keeps the data and the password.
 */
import { ExampleStack } from '../../../lab/engine';
import { withPg } from '../../../lab/inspect';
import { psql } from '../../../lab/psql';
import { STEP_TIMEOUT, StackAdmin, changes, createDeployer, instancesConfig, newStack, serverObjects, sharedConfig, useEngine, useTlsServer } from './support';

jest.setTimeout(STEP_TIMEOUT);

const sandbox = useEngine();
const server = useTlsServer();
let admin: StackAdmin;
beforeAll(async () => {
  admin = await createDeployer(server());
});

/** The stack's libpq URL of an instance. */
async function urlOf(stack: ExampleStack, instance: string): Promise<string> {
  return ((await stack.outputs())['urls'] as Record<string, string>)[instance] as string;
}

describe.each([
  ['retained (the default)', 'false'],
  ['allowDeletion', 'true'],
])('namePrefix renamed, %s', (_label, allowDeletion) => {
  let stack: ExampleStack;
  const prefix = allowDeletion === 'true' ? 'd' : 'r';
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('renames databases and roles in place, replaces grants; data, passwords and privileges survive', async () => {
    stack = await newStack(
      sandbox(),
      'shared',
      sharedConfig(server(), admin, { namePrefix: `${prefix}1_`, allowDeletion, instances: instancesConfig([{ name: 'blog' }, { name: 'api', shape: 'least-privilege' }]) }),
    );
    await stack.up();
    const before = { blog: await urlOf(stack, 'blog'), api: await urlOf(stack, 'api') };
    await psql(before.blog, "CREATE TABLE notes (v text); INSERT INTO notes VALUES ('kept');");
    // least-privilege: the owner creates the table (the app role may only use it)
    await withPg(server().admin(`${prefix}1_api`), async (c) => {
      await c.query(`SET ROLE ${prefix}1_api_owner`);
      await c.query("CREATE TABLE items (v text); INSERT INTO items VALUES ('kept')");
    });

    await stack.config({ namePrefix: `${prefix}2_` });
    const preview = changes(await stack.preview());
    const byOp = (op: string): string[] => preview.filter((c) => c.op === op).map((c) => c.type);
    // no Database or Role is created or deleted: they are renamed in place
    expect(preview.filter((c) => /\/(database:Database|role:Role)$/.test(c.type) && c.op !== 'update')).toEqual([]);
    expect(byOp('update').filter((t) => t.endsWith('Database'))).toHaveLength(2);
    expect(byOp('update').filter((t) => t.endsWith('/role:Role'))).toHaveLength(4);
    // grants are replaced, delete first (#233)
    expect(preview.filter((c) => c.op === 'replace' && c.type.endsWith('Grant')).length).toBeGreaterThan(5);

    await stack.up();
    expect(await serverObjects(server(), `${prefix}1_`)).toEqual({ databases: {}, roles: [] });
    const after = { blog: await urlOf(stack, 'blog'), api: await urlOf(stack, 'api') };
    expect(new URL(after.blog).pathname).toBe(`/${prefix}2_blog`);
    // the same password logs in under the new role name
    expect(decodeURIComponent(new URL(after.blog).password)).toBe(decodeURIComponent(new URL(before.blog).password));
    expect((await psql(after.blog, 'SELECT v FROM notes')).stdout.trim()).toBe('kept');
    // #233: the replaced grants are in force after the delete-then-create
    expect((await psql(after.api, 'SELECT v FROM items')).stdout.trim()).toBe('kept');
    expect((await psql(after.api, "INSERT INTO items VALUES ('app writes')")).code).toBe(0);
    // and PUBLIC still cannot connect
    const other = new URL(after.blog);
    other.pathname = `/${prefix}2_api`;
    expect((await psql(other.toString(), 'SELECT 1')).stderr).toMatch(/permission denied for database/);
    // the second up changes nothing
    expect((await stack.run(['up', '--yes', '--expect-no-changes'])).code).toBe(0);
  });
});

describe('namePrefix renamed while an app holds a session', () => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('up fails on the open session and loses nothing; once the session ends, `up --refresh` finishes the rename', async () => {
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin, { namePrefix: 's1_', instances: instancesConfig([{ name: 'blog' }]) }));
    await stack.up();
    const url = await urlOf(stack, 'blog');
    await psql(url, "CREATE TABLE notes (v text); INSERT INTO notes VALUES ('kept');");
    await stack.config({ namePrefix: 's2_' });
    await withPg(server().admin('s1_blog'), async () => {
      const failed = await stack.run(['up', '--yes', '--skip-preview']);
      expect(failed.code).not.toBe(0);
      expect(failed.stdout + failed.stderr).toMatch(/database "s1_blog" is being accessed by other users/);
    });
    // half-way: the login role already has the new name, the database still the old one; nothing is lost
    expect(await serverObjects(server(), 's1_')).toEqual({ databases: { s1_blog: 's2_blog' }, roles: [] });
    // The failed update left the new name in the Database's recorded outputs (the bridge keeps the
    // planned state): a plain `up` would not rename it. `--refresh` reads the real name first.
    await stack.up(['--refresh']);
    expect(await serverObjects(server(), 's2_')).toEqual({ databases: { s2_blog: 's2_blog' }, roles: ['s2_blog'] });
    expect(await serverObjects(server(), 's1_')).toEqual({ databases: {}, roles: [] });
    expect((await psql(await urlOf(stack, 'blog'), 'SELECT v FROM notes')).stdout.trim()).toBe('kept');
    expect((await stack.run(['up', '--yes', '--expect-no-changes'])).code).toBe(0);
  });
});

describe('instance renamed', () => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('without previousNames: a new, empty database is created and the old one is retained with its data', async () => {
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin, { namePrefix: 'i_', instances: instancesConfig([{ name: 'blog' }]) }));
    await stack.up();
    await psql(await urlOf(stack, 'blog'), "CREATE TABLE notes (v text); INSERT INTO notes VALUES ('kept');");
    await stack.config({ instances: instancesConfig([{ name: 'journal' }]) });
    const preview = changes(await stack.preview());
    const database = preview.filter((c) => c.type === 'postgresql:index/database:Database').map((c) => `${c.op} ${c.name}${c.op === 'delete' && c.retain ? ' [retain]' : ''}`);
    expect(database.sort()).toEqual(['create shared-journal-database', 'delete shared-blog-database [retain]']);
  });

  test('with previousNames: the same change renames in place and keeps data and password', async () => {
    await stack.config({ instances: instancesConfig([{ name: 'journal', previousNames: ['blog'] }]) });
    const before = await urlOf(stack, 'blog');
    const preview = changes(await stack.preview());
    expect(preview.filter((c) => c.op === 'create' || c.op === 'delete')).toEqual([]);
    expect(preview.filter((c) => c.type === 'postgresql:index/database:Database').map((c) => c.op)).toEqual(['update']);
    await stack.up();
    const after = await urlOf(stack, 'journal');
    expect(new URL(after).pathname).toBe('/i_journal');
    expect(decodeURIComponent(new URL(after).password)).toBe(decodeURIComponent(new URL(before).password));
    expect((await psql(after, 'SELECT v FROM notes')).stdout.trim()).toBe('kept');
    expect(await serverObjects(server(), 'i_')).toEqual({ databases: { i_journal: 'i_journal' }, roles: ['i_journal'] });
    expect((await stack.run(['up', '--yes', '--expect-no-changes'])).code).toBe(0);
  });
});
