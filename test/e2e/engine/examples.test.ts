/**
 * The engine itself and every example run the way a user runs it (issue 12,
 * defects 1, 2 and 4):
 * - `npm run engine` builds (or finds) the CLI, the Node.js language host and
 *   the postgresql/random/tls/docker plugins, prints their folder last, and their
 *   versions are exactly the npm SDKs' (else the engine warns on every
 *   command), with @pulumi/pulumi's dynamic-provider launcher beside them;
 * - `cd examples/<name> && pulumi preview` runs that example's own program
 *   in TypeScript (not the library's `main`, not a compile error of
 *   ../../src): examples/shared previews its resources; rds and hetzner
 *   run until the first provider plugin this machine cannot have (aws,
 *   hcloud), and the error names that plugin (local runs for real on the
 *   lab's Docker engine: local-*.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExampleName, ExampleStack, PreviewJson, urnName } from '../../../lab/engine';
import { labPath } from '../../../lab/server';
import { ENGINE_BUILD_TIMEOUT, STEP_TIMEOUT, newStack, useEngine } from './support';

jest.setTimeout(STEP_TIMEOUT);
const sandbox = useEngine();

const sdkVersion = (name: string): string => (JSON.parse(readFileSync(labPath('node_modules', '@pulumi', name, 'package.json'), 'utf8')) as { version: string }).version;

describe('npm run engine', () => {
  test(
    'prints the folder of the binaries as its last line, and finds the build again without rebuilding',
    () => {
      const out = execFileSync('bash', [labPath('lab', 'build-engine.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.trim().split('\n').pop()).toBe(sandbox().binDir);
    },
    ENGINE_BUILD_TIMEOUT,
  );

  test('the CLI reports the @pulumi/pulumi release it was built from', () => {
    expect(execFileSync(join(sandbox().binDir, 'pulumi'), ['version'], { encoding: 'utf8' }).trim()).toBe(`v${sdkVersion('pulumi')}`);
  });

  test.each(['postgresql', 'random', 'tls'])('pulumi-resource-%s has exactly the npm SDK\'s version', (name) => {
    const reported = execFileSync(join(sandbox().binDir, `pulumi-resource-${name}`), ['-version'], { encoding: 'utf8' }).trim();
    expect(reported).toBe(sdkVersion(name));
  });

  test('pulumi-resource-docker (which has no -version flag) reports exactly the npm SDK\'s version in its schema', () => {
    const schema = execFileSync(join(sandbox().binDir, 'pulumi'), ['package', 'get-schema', join(sandbox().binDir, 'pulumi-resource-docker')], { encoding: 'utf8', env: sandbox().env, maxBuffer: 64 * 1024 * 1024 });
    expect((JSON.parse(schema) as { name: string; version: string })).toMatchObject({ name: 'docker', version: sdkVersion('docker') });
  });

  test('the dynamic-provider launcher of @pulumi/pulumi sits beside them', () => {
    expect(existsSync(join(sandbox().binDir, 'pulumi-resource-pulumi-nodejs'))).toBe(true);
    expect(readFileSync(join(sandbox().binDir, 'pulumi-resource-pulumi-nodejs'), 'utf8')).toBe(readFileSync(labPath('node_modules', '@pulumi', 'pulumi', 'pulumi-resource-pulumi-nodejs'), 'utf8'));
  });
});

describe('cd examples/shared && pulumi preview', () => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }));

  test('runs the example\'s own program: its components and resources, no plugin version warning', async () => {
    stack = await newStack(sandbox(), 'shared', {
      host: 'shared-db.example.com',
      adminUser: 'vw_root',
      adminPassword: { value: 'not-used-by-a-preview', secret: true },
      sslmode: 'require',
    });
    const preview: PreviewJson = await stack.preview();
    const created = (preview.steps ?? []).filter((s) => s.op === 'create').map((s) => `${s.newState?.type} ${urnName(s.urn)}`);
    expect(created).toEqual(
      expect.arrayContaining([
        'postgres-strategies:index:ExternalPostgres shared-db',
        'postgres-strategies:index:SharedPostgres shared',
        'postgresql:index/database:Database shared-blog-database',
        'postgresql:index/database:Database shared-admin-database',
        'postgresql:index/database:Database shared-api-database',
      ]),
    );
    const human = await stack.must(['preview']);
    expect(human.stdout + human.stderr).not.toMatch(/is expected to have version/);
  });
});

// examples/local runs for real on the lab's Docker engine: test/e2e/engine/local-*.test.ts.
describe.each<[ExampleName, string, Record<string, string | { value: string; secret: boolean }>]>([
  [
    'rds',
    'aws',
    {
      'aws:region': 'eu-central-1',
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: '["subnet-aaa","subnet-bbb"]',
      allowedCidrs: '["10.0.0.0/16"]',
      sslrootcert: './global-bundle.pem',
    },
  ],
  ['hetzner', 'hcloud', { 'hcloud:token': { value: 'not-a-real-token', secret: true }, serverType: 'cx23' }],
])('cd examples/%s && pulumi preview', (example, plugin, config) => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }));

  test(`runs its own program up to the ${plugin} provider plugin, which this machine cannot have, and names it`, async () => {
    stack = await newStack(sandbox(), example, config);
    const r = await stack.run(['preview']);
    const text = r.stdout + r.stderr;
    expect(r.code).not.toBe(0);
    expect(text).toMatch(new RegExp(`no resource plugin 'pulumi-resource-${plugin}' found`));
    // the example's program ran (it declared its components), in TypeScript, without a compile error
    expect(text).not.toMatch(/TSError|Unable to compile TypeScript|Missing required configuration/);
    expect(text).toMatch(new RegExp(`postgres-strategies-${example}-${stack.stack}`));
  });
});
