/**
 * Issue 12 defect 3, scenario 8 and issue 20 items 3–4 on the real engine:
 * `pulumi up` of examples/shared with 100 instances under a CREATEDB
 * CREATEROLE admin finishes at the engine's default parallelism and at
 * `--parallel 32`, and a no-op preview after it, while the admin never holds
 * more sessions than its share of the budget (`adminMaxConnections`; by
 * default a tenth of the server's usable slots, here 16 of 250 − 3).
 *
 * Before issue 12 the same program hung forever from ~25 instances on: the
 * provider held a transaction with an advisory lock on the admin role open
 * on one pooled connection while it waited for a second one, and every
 * other pooled connection waited on that lock. Now the provider's pool is
 * the server's max_connections (no operation waits for a pooled
 * connection), and `pulumi up` provisions ⌊share / 2⌋ instances at once
 * (ProviderLanes: the program starts an instance when the one before it in
 * its lane has finished; nothing between instances is in the state).
 *
 * Item 4: `pulumi refresh` is not driven by the program: it reads at the
 * engine's `--parallel`, one connection per read. On a server whose slots
 * are taken up to the budget (the apps' connections held open, so the
 * non-superuser admin has exactly its share left), refresh at an 8-core
 * machine's default parallelism (32) is refused slots, and the advice the
 * library gives — `--parallel <budget.adminParallel>`, half the share —
 * stays inside it, for `pulumi refresh` and `pulumi up --refresh` alike.
 * (At `--parallel` = the share, 16, the same refresh was refused slots in
 * two runs of three: the provider opens a new connection for every
 * statement while the server may still count the one just closed.)
 *
 * Times are printed for reading only; `npm run bench` measures them.
 */
import { Client } from 'pg';
import { ExampleStack } from '../../../lab/engine';
import { pgClientConfig, sampleConnections, withPg } from '../../../lab/inspect';
import { LabServer } from '../../../lab/server';
import { adminProviderLanes, defaultAdminConnections, engineParallelism } from '../../../src/core/budget';
import { STEP_TIMEOUT, instancesConfig, newStack, serverObjects, sharedConfig, useDeployerBed } from './support';

const INSTANCES = 100;
/** 100 instances on a loaded 2-core machine: several minutes per up. */
const SCALE_TIMEOUT = 30 * 60_000;
jest.setTimeout(SCALE_TIMEOUT);

const MAX_CONNECTIONS = 250;
/** The admin's default share of this server: ⌊(250 − 3) / 10⌋ capped at 16. */
const SHARE = defaultAdminConnections(MAX_CONNECTIONS, 3);
/** The `--parallel` the library advises for refresh (`budget.adminParallel`): 8. */
const PARALLEL = engineParallelism(SHARE);

// two stacks of 100 instances × 2 connections each, one after the other, each checked on its own
const { sandbox, server, admin } = useDeployerBed({ conf: { max_connections: MAX_CONNECTIONS } });

const instances = Array.from({ length: INSTANCES }, (_, i) => ({
  name: `app${i}`,
  gatewayPool: { maxConns: 1, minConns: 0 },
  kratosPool: { maxConns: 1, maxIdleConns: 0 },
}));

/** `pulumi <args>` while sampling the admin's sessions; prints the time and the peak. */
async function sampled(stack: ExampleStack, label: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; peak: number }> {
  const sampler = await sampleConnections(server().admin(), admin().user);
  const r = await stack.run(args, { timeoutMs: SCALE_TIMEOUT - 60_000, env });
  const { peak, samples } = await sampler.stop();
  process.stderr.write(`[scale] ${label}: ${r.ms} ms, exit ${r.code}, peak admin sessions ${peak} (${samples} samples)\n`);
  expect(samples).toBeGreaterThan(10);
  // All of it: the engine prints the errors before the stack's (long) outputs.
  return { code: r.code, out: `${r.stdout}\n${r.stderr}`, peak };
}

/**
 * Holds connections open as a non-superuser role (the apps' pools at their
 * budget) until a non-superuser can open exactly `leave` more: PostgreSQL
 * keeps `superuser_reserved_connections` (3) for superusers only.
 */
async function fillServer(lab: LabServer, leave: number): Promise<{ held: number; close(): Promise<void> }> {
  const password = 'filler-password';
  await withPg(lab.admin(), (c) => c.query(`CREATE ROLE filler LOGIN PASSWORD '${password}'`));
  const clients: Client[] = [];
  const open = async (): Promise<number> =>
    withPg(lab.admin(), async (c) => {
      const r = await c.query<{ free: number }>(
        `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                - (SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend')::int + 1 AS free`,
      );
      // + 1: this query's own session closes when it returns
      return r.rows[0]?.free as number;
    });
  let free = await open();
  while (free > leave) {
    const batch = Math.min(20, free - leave);
    const opened = await Promise.all(
      Array.from({ length: batch }, async () => {
        const c = new Client(pgClientConfig({ ...lab.admin(), user: 'filler', password }));
        await c.connect();
        return c;
      }),
    );
    clients.push(...opened);
    free = await open();
  }
  expect(free).toBe(leave);
  return { held: clients.length, close: async () => void (await Promise.all(clients.map((c) => c.end()))) };
}

describe.each([
  ['the engine\'s default parallelism', 'p', []],
  ['--parallel 32', 'q', ['--parallel', '32']],
])(`${INSTANCES} instances at %s`, (label, prefix, parallel) => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test(`up finishes with every database created, and the admin never holds more than its share (${SHARE})`, async () => {
    expect(adminProviderLanes(SHARE)).toBe(8);
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin(), { namePrefix: `${prefix}_`, maxConnections: String(MAX_CONNECTIONS), instances: instancesConfig(instances) }));
    const up = await sampled(stack, `up of ${INSTANCES} instances, ${label}`, ['up', '--yes', '--skip-preview', ...parallel]);
    expect(up.peak).toBeGreaterThan(0);
    expect(up.peak).toBeLessThanOrEqual(SHARE);
    expect({ code: up.code, tail: up.code === 0 ? '' : up.out }).toEqual({ code: 0, tail: '' });
    const objects = await serverObjects(server(), `${prefix}_`);
    expect(Object.keys(objects.databases)).toHaveLength(INSTANCES);
    expect(objects.roles).toHaveLength(INSTANCES);
    const budget = (await stack.outputs())['budget'] as { adminConnections: number; adminParallel: number };
    expect(budget).toMatchObject({ adminConnections: SHARE, adminParallel: PARALLEL });
  });

  test('a no-op preview finishes and changes nothing', async () => {
    const preview = await stack.run(['preview', '--expect-no-changes', ...parallel], { timeoutMs: SCALE_TIMEOUT - 60_000 });
    process.stderr.write(`[scale] no-op preview of ${INSTANCES} instances, ${label}: ${preview.ms} ms\n`);
    expect(preview.code).toBe(0);
  });

  if (prefix === 'p') {
    describe('refresh on a server at its budget, as a non-superuser admin', () => {
      let filled: { held: number; close(): Promise<void> } | undefined;
      beforeAll(async () => {
        filled = await fillServer(server(), SHARE);
      }, STEP_TIMEOUT);
      afterAll(async () => filled?.close());

      // An 8-core machine's default --parallel (4 × CPUs), whatever this machine has.
      const eightCores = { GOMAXPROCS: '8' };

      // Why the advice exists: at 32 the reads hold more than the admin's share at once, and on a server at its
      // budget that runs out of the slots a non-superuser may use (2 runs of 3 here; whether the server refuses
      // a slot in a given run depends on timing, exceeding the share does not).
      test('refresh at the default --parallel of an 8-core machine (32) holds more than the admin\'s share (and is refused slots when they run out)', async () => {
        const r = await sampled(stack, 'refresh, GOMAXPROCS=8 (--parallel 32 by default)', ['refresh', '--yes', '--skip-preview'], eightCores);
        if (r.code !== 0) expect(r.out).toContain('remaining connection slots are reserved');
        else expect(r.peak).toBeGreaterThan(SHARE);
      });

      test(`refresh --parallel ${PARALLEL} (the advice: budget.adminParallel) stays inside the share and finds no drift`, async () => {
        const r = await sampled(stack, `refresh --parallel ${PARALLEL}`, ['refresh', '--yes', '--skip-preview', '--parallel', String(PARALLEL)], eightCores);
        expect({ code: r.code, tail: r.code === 0 ? '' : r.out.slice(-4000) }).toEqual({ code: 0, tail: '' });
        expect(r.peak).toBeLessThanOrEqual(SHARE);
      });

      test(`up --refresh --parallel ${PARALLEL} (the recovery of a failed rename) stays inside the share`, async () => {
        const r = await sampled(stack, `up --refresh --parallel ${PARALLEL}`, ['up', '--refresh', '--yes', '--skip-preview', '--parallel', String(PARALLEL)], eightCores);
        expect({ code: r.code, tail: r.code === 0 ? '' : r.out.slice(-4000) }).toEqual({ code: 0, tail: '' });
        expect(r.peak).toBeLessThanOrEqual(SHARE);
      });
    });
  }
});
