/**
 * The AWS SDK this package takes, and what it prints (issue 21 follow-up):
 * the SDK warns once per process, on Node.js before 22, that its releases
 * after the first week of January 2027 require Node.js 22. The package
 * declares Node.js ≥ 20.19, so its range of the SDK stops at the locked
 * minor (releases that support Node 20), every SDK package in the lock
 * accepts Node 20.19, and the store is opened without the warning unless
 * the user's environment asks for it. Each case runs in a fresh Node
 * process (the SDK remembers the warning per process) on the built files.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SDK_NODE_WARNING_ENV } from '../../../src/backup/store';

const ROOT = join(__dirname, '..', '..', '..');
const STORE = join(ROOT, 'dist', 'src', 'backup', 'store.js');
const SDK = join(ROOT, 'node_modules', '@aws-sdk', 'client-s3');
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
/** Whether this Node.js gets the SDK's warning at all (the cases below prove something only there). */
const WARNED_NODE = NODE_MAJOR < 22;
const WARNING = /NodeVersionSupportWarning/;
jest.setTimeout(60_000);

/** Runs `script` in a fresh Node process with `env` (no AWS variables of this machine); its stdout and stderr. */
async function fresh(script: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  const r = await promisify(execFile)(process.execPath, ['-e', script], { env: { PATH: process.env['PATH'], AWS_REGION: 'us-east-1', ...env } });
  return { stdout: r.stdout, stderr: r.stderr };
}

const openStoreScript = `
const { openStore } = require(${JSON.stringify(STORE)});
const store = openStore({ region: 'us-east-1', endpoint: 'https://127.0.0.1:1', pathStyle: true });
store.close();
process.stdout.write(JSON.stringify({ variable: process.env[${JSON.stringify(SDK_NODE_WARNING_ENV)}] ?? null }));
`;

(WARNED_NODE ? test : test.skip)('a bare S3Client on this Node.js prints the SDK warning (what the store must not print)', async () => {
  const r = await fresh(`const { S3Client } = require(${JSON.stringify(SDK)}); new S3Client({ region: 'us-east-1' }).destroy();`);
  expect(r.stderr).toMatch(WARNING);
});

test('openStore prints no SDK warning and leaves the environment as it was', async () => {
  const r = await fresh(openStoreScript);
  expect(r.stderr).not.toMatch(WARNING);
  expect(JSON.parse(r.stdout)).toEqual({ variable: null });
});

(WARNED_NODE ? test : test.skip)(`a user who sets ${SDK_NODE_WARNING_ENV} gets what it says`, async () => {
  const asked = await fresh(openStoreScript, { [SDK_NODE_WARNING_ENV]: 'false' });
  expect(asked.stderr).toMatch(WARNING);
  expect(JSON.parse(asked.stdout)).toEqual({ variable: 'false' });
  const off = await fresh(openStoreScript, { [SDK_NODE_WARNING_ENV]: 'true' });
  expect(off.stderr).not.toMatch(WARNING);
  expect(JSON.parse(off.stdout)).toEqual({ variable: 'true' });
});

describe('the SDK range', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; dependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; engines?: { node?: string } }> };
  const sdkDeps = Object.keys(pkg.dependencies).filter((d) => d.startsWith('@aws-sdk/'));

  test.each(sdkDeps)('%s: patch releases of the locked minor only (~), the locked version inside', (dep) => {
    const locked = lock.packages[`node_modules/${dep}`]!.version;
    const [major, minor] = locked.split('.');
    expect(pkg.dependencies[dep]).toBe(`~${major}.${minor}.0`);
  });

  test('every AWS SDK and Smithy package in the lock accepts the Node.js the package declares', () => {
    const declared = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
    expect(declared).not.toBeNull();
    const minimum = [Number(declared![1]), Number(declared![2])];
    const refused = Object.entries(lock.packages)
      .filter(([path]) => /node_modules\/@(aws-sdk|smithy|aws-crypto)\//.test(path))
      .flatMap(([path, p]) => {
        const engines = p.engines?.node ?? '';
        const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.\d+)?$/.exec(engines);
        // Only ">=X.Y.Z" (what the SDK writes) is understood; anything else is for a person to read.
        const accepts = engines === '' || (m !== null && (Number(m[1]) < minimum[0]! || (Number(m[1]) === minimum[0] && Number(m[2] ?? 0) <= minimum[1]!)));
        return accepts ? [] : [`${path}@${p.version}: engines.node ${engines}`];
      });
    expect(refused).toEqual([]);
  });
});
