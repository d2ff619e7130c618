/**
 * Changing the instances or their pools must never replace the PostgreSQL
 * container: the Docker provider replaces a container when any of its
 * inputs (uploads, environment, command, …) changes. The same stack is
 * evaluated under the mock runtime (one process per evaluation, see
 * stability-program.ts) before and after a change, and the server
 * container's recorded inputs are compared byte for byte; the bootstrap
 * container, which carries the instances, does change.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { tsProgramArgs } from '../../../lab/ts-program';
import type { LocalPostgresArgs } from '../../../src/local/component';

type Recorded = Record<string, { inputs: Record<string, unknown>; dependencies: string[] }>;

/** One evaluation of the stack `auth` with these arguments, in a fresh mock runtime. */
async function evaluate(args: LocalPostgresArgs): Promise<Recorded> {
  const r = await new Promise<{ stdout: string; stderr: string; error: Error | null }>((resolve) =>
    execFile(process.execPath, tsProgramArgs(join(__dirname, 'stability-program.ts')), { cwd: join(__dirname, '..', '..', '..'), encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20, env: { ...process.env, STACK_ARGS: JSON.stringify(args) } }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, error }),
    ),
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`the program printed no result (${r.error?.message ?? 'no error'}): ${r.stderr}`);
  return JSON.parse(line) as Recorded;
}

const server = (r: Recorded): string => JSON.stringify(r['auth-postgres']);
const bootstrap = (r: Recorded): string => JSON.stringify(r['auth-postgres-bootstrap']?.inputs);

const base: LocalPostgresArgs = { tls: true, publishPort: 5432, namePrefix: 'vw_', instances: [{ name: 'blog' }], kratos: { instance: 'blog' } };
let before: Recorded;
let added: Recorded;
let pool: Recorded;
beforeAll(async () => {
  [before, added, pool] = await Promise.all([
    evaluate(base),
    evaluate({ ...base, instances: [{ name: 'blog' }, { name: 'shop' }] }),
    evaluate({ ...base, instances: [{ name: 'blog', gatewayPool: { maxConns: 4, minConns: 1 } }] }),
  ]);
}, 120_000);

test('adding an instance leaves the server container\'s inputs byte-identical and re-runs only the bootstrap', () => {
  expect(server(added)).toBe(server(before));
  expect(bootstrap(added)).not.toBe(bootstrap(before));
  expect(bootstrap(added)).toContain('vw_shop');
  // Kratos uses blog only: its containers stay too.
  expect(JSON.stringify(added['auth-kratos']?.inputs)).toBe(JSON.stringify(before['auth-kratos']?.inputs));
});

test('changing a pool leaves the server container\'s inputs byte-identical', () => {
  expect(server(pool)).toBe(server(before));
  expect(bootstrap(pool)).not.toBe(bootstrap(before));
});
