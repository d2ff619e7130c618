/**
 * Issue 20 item 3's upgrade path on the real engine: a stack deployed with
 * the release before the change (commit 57e310f: lanes as `dependsOn`
 * between instances, the admin provider's pool 4) takes `pulumi up` with
 * this code without replacing or deleting anything: the preview shows one
 * change, the admin provider's `maxConnections` (4 → the server's
 * max_connections, an in-place update of the provider resource; nothing on
 * the server changes), `check-preview` finds nothing, every database and
 * role keeps its oid, and afterwards no resource of an instance depends on
 * another instance's in the state.
 *
 * The previous release is built from git (`git archive` of the commit into
 * `.cache/release-57e310f`, compiled with the repo's tsc) and its own
 * examples/shared runs the first `up`, as a user's program on the previous
 * package would.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExampleStack } from '../../../lab/engine';
import { withPg } from '../../../lab/inspect';
import { labPath } from '../../../lab/server';
import { checkPreview } from '../../../src/preview-guard';
import { STEP_TIMEOUT, changes, instancesConfig, sharedConfig, useDeployerBed } from './support';

/** The release with the lanes as dependencies between instances (issue 12). */
const PREVIOUS = '57e310fe766ccbd167c3d96142344b008912ffa1';

jest.setTimeout(STEP_TIMEOUT);

/** Builds the previous release's package (src + examples/shared) once; resolves to its folder. */
function buildPrevious(): string {
  const dir = labPath('.cache', `release-${PREVIOUS.slice(0, 7)}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['-C', labPath(), 'archive', PREVIOUS, 'package.json', 'src', 'examples/shared'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        lib: ['ES2022'],
        types: ['node'],
        strict: true,
        declaration: true,
        outDir: 'dist',
        rootDir: '.',
        esModuleInterop: true,
        skipLibCheck: true,
      },
      include: ['src'],
    }),
  );
  // node_modules resolve from the repo's (the folder is inside it); the package's self-name from its package.json
  execFileSync(process.execPath, [labPath('node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  writeFileSync(join(dir, 'complete'), PREVIOUS);
  return dir;
}

const { sandbox, server, admin } = useDeployerBed();
let previousDir = '';
beforeAll(() => {
  previousDir = buildPrevious();
}, STEP_TIMEOUT);

const instances = [
  ...['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } })),
  { name: 'lp', shape: 'least-privilege', gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } },
];

/** The oids of the stack's databases and roles, by name (as the superuser). */
async function oids(): Promise<Record<string, number>> {
  return withPg(server().admin(), async (c) => {
    const r = await c.query<{ name: string; oid: number }>(
      `SELECT 'database ' || datname AS name, oid::int AS oid FROM pg_catalog.pg_database WHERE starts_with(datname, 'u_')
       UNION ALL SELECT 'role ' || rolname, oid::int FROM pg_catalog.pg_roles WHERE starts_with(rolname, 'u_') ORDER BY 1`,
    );
    return Object.fromEntries(r.rows.map((row) => [row.name, row.oid]));
  });
}

/** Dependencies in the state that cross from one instance to another (`shared-<x>-…` → `shared-<y>-…`). */
async function crossInstanceDependencies(stack: ExampleStack): Promise<string[]> {
  const state = JSON.parse(await stack.exportState()) as { deployment: { resources: Array<{ urn: string; dependencies?: string[] }> } };
  const instanceOf = (urn: string): string | undefined => /::shared-([a-z]+)(-|$)/.exec(urn)?.[1];
  return state.deployment.resources.flatMap((r) =>
    (r.dependencies ?? []).filter((d) => instanceOf(d) !== undefined && instanceOf(r.urn) !== undefined && instanceOf(d) !== instanceOf(r.urn)).map((d) => `${r.urn} → ${d}`),
  );
}

test('a stack of the previous release upgrades with one in-place update of the admin provider and nothing else', async () => {
  const name = `upgrade-${Date.now().toString(36)}`;
  const before = new ExampleStack('shared', name, sandbox(), join(previousDir, 'examples', 'shared'));
  const after = new ExampleStack('shared', name, sandbox());
  try {
    await before.init();
    await before.config(sharedConfig(server(), admin(), { namePrefix: 'u_', instances: instancesConfig(instances) }));
    await before.up();
    // the previous release chained the instances in the state: c waited for a, d for b, …
    expect((await crossInstanceDependencies(before)).length).toBeGreaterThan(0);
    const kept = await oids();
    expect(Object.keys(kept).length).toBe(6 + 8); // six databases; five login roles + lp's owner, app and read-only roles

    // The same stack (its config file moves along), now with this code.
    copyFileSync(join(before.dir, `Pulumi.${name}.yaml`), join(after.dir, `Pulumi.${name}.yaml`));
    const preview = await after.preview();
    expect(changes(preview).map((c) => [c.op, c.type, c.name, c.diffReasons])).toEqual([['update', 'pulumi:providers:postgresql', 'shared-db-admin', ['maxConnections']]]);
    expect(checkPreview(preview)).toEqual([]);

    await after.up();
    expect(await oids()).toEqual(kept);
    expect(await crossInstanceDependencies(after)).toEqual([]);
    const again = await after.run(['preview', '--expect-no-changes']);
    expect({ code: again.code, out: again.code === 0 ? '' : again.stdout.slice(-3000) }).toEqual({ code: 0, out: '' });
  } finally {
    rmSync(join(before.dir, `Pulumi.${name}.yaml`), { force: true });
    await after.remove({ destroy: false });
  }
});
