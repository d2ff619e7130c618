/**
 * Issue 12 defect 3 and scenario 8 on the real engine: `pulumi up` of
 * examples/shared with 100 instances under a CREATEDB CREATEROLE admin
 * finishes at the engine's default parallelism and at `--parallel 32`, and
 * a no-op preview after it, while the admin provider never holds more
 * sessions than the budget counts for it (`adminMaxConnections`, default 4).
 *
 * Before the fix the same program hung forever from ~25 instances on: the
 * provider held a transaction with an advisory lock on the admin role open
 * on one pooled connection while it waited for a second one, and every
 * other pooled connection waited on that lock. The components now chain the
 * provider's operations into ⌊adminMaxConnections / 2⌋ lanes
 * (ProviderLanes), so the bound holds for any `--parallel`.
 *
 * Times are printed for reading only; `npm run bench` measures them.
 */
import { ExampleStack } from '../../../lab/engine';
import { sampleConnections } from '../../../lab/inspect';
import { STEP_TIMEOUT, StackAdmin, createDeployer, instancesConfig, newStack, serverObjects, sharedConfig, useEngine, useTlsServer } from './support';

const INSTANCES = 100;
/** 100 instances on a loaded 2-core machine: several minutes per up. */
const SCALE_TIMEOUT = 30 * 60_000;
jest.setTimeout(SCALE_TIMEOUT);

const sandbox = useEngine();
// two stacks of 100 instances × 2 connections each, one after the other, each checked on its own
const server = useTlsServer({ conf: { max_connections: 250 } });
let admin: StackAdmin;
beforeAll(async () => {
  admin = await createDeployer(server());
});

const instances = Array.from({ length: INSTANCES }, (_, i) => ({
  name: `app${i}`,
  gatewayPool: { maxConns: 1, minConns: 0 },
  kratosPool: { maxConns: 1, maxIdleConns: 0 },
}));

describe.each([
  ['the engine\'s default parallelism', 'p', []],
  ['--parallel 32', 'q', ['--parallel', '32']],
])(`${INSTANCES} instances at %s`, (_label, prefix, parallel) => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('up finishes with every database created, and the admin never holds more than adminMaxConnections sessions', async () => {
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin, { namePrefix: `${prefix}_`, maxConnections: '250', instances: instancesConfig(instances) }));
    const sampler = await sampleConnections(server().admin(), admin.user);
    let up;
    try {
      up = await stack.run(['up', '--yes', '--skip-preview', ...parallel], { timeoutMs: SCALE_TIMEOUT - 60_000 });
    } finally {
      const { peak, samples } = await sampler.stop();
      process.stderr.write(`[scale] ${INSTANCES} instances, ${parallel.join(' ') || 'default parallelism'}: up ${up?.ms ?? '?'} ms, peak admin sessions ${peak} (${samples} samples)\n`);
      expect(samples).toBeGreaterThan(10);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(4);
    }
    expect({ code: up.code, tail: up.code === 0 ? '' : up.stdout.slice(-3000) }).toEqual({ code: 0, tail: '' });
    const objects = await serverObjects(server(), `${prefix}_`);
    expect(Object.keys(objects.databases)).toHaveLength(INSTANCES);
    expect(objects.roles).toHaveLength(INSTANCES);
  });

  test('a no-op preview finishes and changes nothing', async () => {
    const preview = await stack.run(['preview', '--expect-no-changes', ...parallel], { timeoutMs: SCALE_TIMEOUT - 60_000 });
    process.stderr.write(`[scale] no-op preview of ${INSTANCES} instances, ${parallel.join(' ') || 'default parallelism'}: ${preview.ms} ms\n`);
    expect(preview.code).toBe(0);
  });
});
