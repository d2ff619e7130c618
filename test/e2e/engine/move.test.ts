/**
 * Issue 13's stack side on the real engine: examples/move, a stack whose
 * instances live on server A (Debian PostgreSQL 15), moves them to server B
 * (embedded PostgreSQL 17) in docs/moving.md's four steps, each a config change
 * reviewed with `pulumi preview`:
 * 1. server B and the same instances on it are added: the preview creates
 *    only B's resources and touches nothing of A;
 * 2. `postgres-strategies migrate` (the package's command, as a user runs
 *    it) copies and verifies each instance from A's URL to B's; the stack
 *    does not change;
 * 3. the outputs switch to B: no resource changes; the apps' URLs now reach
 *    the moved data on B;
 * 4. A's resources leave the stack: every one `delete[retain]`, and A still
 *    holds its data afterwards.
 * `check-preview` (issue 14) judges each step's preview: nothing to report for
 * steps 1 and 3, warnings and no error for step 4.
 */
import { ExampleStack } from '../../../lab/engine';
import { withPg } from '../../../lab/inspect';
import { psql } from '../../../lab/psql';
import { run } from '../../../lab/run';
import { blockingFindings, checkPreview } from '../../../src/preview-guard';
import { haveDebianPg15, labPath } from '../../../lab/server';
import { STEP_TIMEOUT, StackAdmin, changes, createDeployer, instancesConfig, newStack, serverObjects, superuserAdmin, useEngine, useTlsServer } from './support';

jest.setTimeout(STEP_TIMEOUT);

const sandbox = useEngine();
const serverA = useTlsServer({ version: 15 });
const serverB = useTlsServer({ version: 17 });
const INSTANCES = [{ name: 'blog' }, { name: 'api' }];

let stack: ExampleStack;
let adminB: StackAdmin;
afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

const outputs = async (): Promise<Record<string, Record<string, string> | undefined>> => (await stack.outputs()) as Record<string, Record<string, string> | undefined>;

test('Debian PostgreSQL 15 is here to be server A', () => {
  expect(haveDebianPg15()).toBe(true);
});

test('the stack as it was: instances on server A, with data', async () => {
  const adminA = superuserAdmin(serverA());
  stack = await newStack(sandbox(), 'move', {
    aHost: serverA().host,
    aPort: String(serverA().port),
    aAdminUser: adminA.user,
    aAdminPassword: { value: adminA.password, secret: true },
    aAdminIsSuperuser: 'true',
    aSslrootcert: serverA().caFile as string,
    instances: instancesConfig(INSTANCES),
  });
  await stack.up();
  const urls = (await outputs())['urls'] as Record<string, string>;
  for (const [name, url] of Object.entries(urls)) {
    const r = await psql(url, `CREATE TABLE notes (id serial PRIMARY KEY, v text); INSERT INTO notes (v) SELECT '${name} ' || g FROM generate_series(1, 500) g;`);
    expect(r.code).toBe(0);
  }
});

test('step 1: adding server B creates only B\'s databases and roles; nothing of A changes', async () => {
  adminB = await createDeployer(serverB());
  await stack.config({
    bHost: serverB().host,
    bPort: String(serverB().port),
    bAdminUser: adminB.user,
    bAdminPassword: { value: adminB.password, secret: true },
    bSslrootcert: serverB().caFile as string,
  });
  const json = await stack.preview();
  // the PR check passes: nothing here loses or breaks data
  expect(checkPreview(json)).toEqual([]);
  const preview = changes(json);
  const resources = preview.filter((c) => c.type !== 'pulumi:pulumi:Stack');
  expect(resources.length).toBeGreaterThan(10);
  expect(resources.filter((c) => c.op !== 'create' || !c.name.startsWith('new'))).toEqual([]);
  await stack.up();
  expect(Object.keys((await serverObjects(serverB(), 'vw_')).databases)).toEqual(['vw_api', 'vw_blog']);
});

test('step 2: migrate copies and verifies every instance from A to B (the package\'s command); the stack does not change', async () => {
  const out = await outputs();
  for (const name of INSTANCES.map((i) => i.name)) {
    const r = await run(process.execPath, [labPath('dist', 'src', 'cli', 'main.js'), 'migrate', '--from-env', 'FROM', '--to-env', 'TO', '--json'], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], FROM: (out['fromUrls'] as Record<string, string>)[name], TO: (out['toUrls'] as Record<string, string>)[name] },
    });
    expect({ code: r.code, err: r.code === 0 ? '' : `${r.stdout}\n${r.stderr}`.slice(-3000) }).toEqual({ code: 0, err: '' });
    const result = JSON.parse(r.stdout) as { ok: boolean; outcome: string; verification: { differences: number; tables: Array<{ table: string; equal: boolean }> } };
    expect(result).toMatchObject({ ok: true, outcome: 'copied', verification: { differences: 0 } });
    expect(result.verification.tables.map((t) => t.table)).toContain('public.notes');
  }
  expect((await stack.run(['preview', '--expect-no-changes'])).code).toBe(0);
});

test('step 3: switching the outputs to B changes no resource; the apps\' URLs reach the moved data on B', async () => {
  await stack.config({ activeServer: 'b' });
  const json = await stack.preview();
  expect(checkPreview(json)).toEqual([]);
  const preview = changes(json);
  expect(preview.filter((c) => c.type !== 'pulumi:pulumi:Stack')).toEqual([]);
  await stack.up();
  const out = await outputs();
  for (const [name, url] of Object.entries(out['urls'] as Record<string, string>)) {
    expect(new URL(url).port).toBe(String(serverB().port));
    expect((await psql(url, "SELECT count(*) || ' ' || max(v) FROM notes")).stdout.trim()).toBe(`500 ${name} 99`);
    // the moved rows belong to the instance's role on B, who can write them
    expect((await psql(url, "INSERT INTO notes (v) VALUES ('after the move') RETURNING id")).stdout.split('\n')[0]).toBe('501');
  }
});

test('step 4: A\'s resources leave the stack retained: delete[retain] only, and A keeps its data', async () => {
  await stack.config({ keepServerA: 'false' });
  const json = await stack.preview();
  // the PR check warns about each retained database and role leaving the stack, and blocks nothing
  const findings = checkPreview(json);
  expect(findings.length).toBeGreaterThan(0);
  expect(blockingFindings(findings)).toEqual([]);
  const preview = changes(json);
  const onServer = preview.filter((c) => c.type.startsWith('postgresql:index/'));
  expect(onServer.length).toBeGreaterThan(5);
  expect(onServer.filter((c) => !(c.op === 'delete' && c.retain && c.name.startsWith('old')))).toEqual([]);
  await stack.up();
  expect(Object.keys((await serverObjects(serverA(), 'vw_')).databases)).toEqual(['vw_api', 'vw_blog']);
  const rows = await withPg(serverA().admin('vw_blog'), async (c) => (await c.query<{ n: string }>('SELECT count(*) AS n FROM notes')).rows[0]?.n);
  expect(rows).toBe('500');
  expect((await stack.run(['preview', '--expect-no-changes'])).code).toBe(0);
});
