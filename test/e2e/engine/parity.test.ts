/**
 * Issue 12 scenario 10 — one plan, two paths, one result: the resources
 * `pulumi up` creates through the real engine and the stack's own rendered
 * bootstrap SQL (`bootstrapSql` output, run with psql) end in the same
 * catalog state: roles with their attributes and SCRAM verifiers,
 * memberships with their grantors (and INHERIT/SET on 16+), databases with
 * owners, ACLs and connection limits, schema public, default privileges.
 *
 * For a superuser admin and for a CREATEDB CREATEROLE admin, with an owner
 * and a least-privilege instance:
 * - the SQL run after `pulumi up` on the same server changes nothing (no
 *   change notice, the same snapshot);
 * - the SQL alone on a fresh server of the same major gives the snapshot
 *   `pulumi up` gave.
 */
import { ExampleStack } from '../../../lab/engine';
import { CatalogSnapshot, catalogSnapshot } from '../../../lab/inspect';
import { psqlOk } from '../../../lab/psql';
import { libpqUrl } from '../../../src/core/dsn';
import { LabServer } from '../../../lab/server';
import { STEP_TIMEOUT, StackAdmin, createDeployer, instancesConfig, newStack, sharedConfig, superuserAdmin, useEngine, useTlsServer } from './support';

jest.setTimeout(STEP_TIMEOUT);
const sandbox = useEngine();

const INSTANCES = [{ name: 'blog' }, { name: 'api', shape: 'least-privilege' }];
const ROLES = ['vw_blog', 'vw_api', 'vw_api_owner', 'vw_api_ro'];
const DATABASES = ['vw_blog', 'vw_api'];

describe.each<[string, (s: LabServer) => Promise<StackAdmin>]>([
  ['superuser admin', async (s) => superuserAdmin(s)],
  ['CREATEDB CREATEROLE admin', (s) => createDeployer(s)],
])('%s', (_label, adminOf) => {
  const pulumiServer = useTlsServer();
  const sqlServer = useTlsServer();
  let stack: ExampleStack;
  let admin: StackAdmin;
  let bootstrapSql: string;
  let afterPulumi: CatalogSnapshot;
  const adminUrl = (s: LabServer, a: StackAdmin): string => libpqUrl({ ...s.admin(), user: a.user, password: a.password });
  const snapshot = (s: LabServer): Promise<CatalogSnapshot> => catalogSnapshot(s.admin(), { roles: ROLES, databases: DATABASES });

  beforeAll(async () => {
    admin = await adminOf(pulumiServer());
    stack = await newStack(sandbox(), 'shared', sharedConfig(pulumiServer(), admin, { namePrefix: 'vw_', instances: instancesConfig(INSTANCES), exportBootstrapSql: 'true' }));
    await stack.up();
    bootstrapSql = (await stack.outputs())['bootstrapSql'] as string;
    afterPulumi = await snapshot(pulumiServer());
  }, STEP_TIMEOUT);
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('pulumi up made every role and database of the plan', () => {
    for (const r of ROLES) expect(afterPulumi.roles[r]).not.toBeNull();
    for (const d of DATABASES) expect(afterPulumi.databases[d]).not.toBeNull();
  });

  test('the stack\'s bootstrap SQL, run after pulumi up on the same server, changes nothing', async () => {
    const r = await psqlOk(adminUrl(pulumiServer(), admin), bootstrapSql);
    expect(r.changes).toEqual([]);
    expect(await snapshot(pulumiServer())).toEqual(afterPulumi);
  });

  test('the same SQL alone on a fresh server ends in the catalog state pulumi up made', async () => {
    // the same admin on the second server
    const sqlAdmin = admin.superuser ? superuserAdmin(sqlServer()) : await createDeployer(sqlServer(), admin.user);
    const r = await psqlOk(adminUrl(sqlServer(), sqlAdmin), bootstrapSql);
    expect(r.changes.length).toBeGreaterThan(0);
    const viaSql = await snapshot(sqlServer());
    // the lab servers' superusers are both `postgres`; everything else must be the same, to the letter
    expect(viaSql).toEqual(afterPulumi);
  });
});
