/**
 * Issue 20 item 3 on the real engine: the admin's lanes bound how many
 * instances `pulumi up` provisions at once, yet no instance depends on
 * another in the state — so a user can act on one instance alone.
 *
 * examples/shared with six instances and `adminMaxConnections: 4` (two lanes:
 * i0, i2, i4 take turns in one, i1, i3, i5 in the other), a CREATEDB
 * CREATEROLE admin and `allowDeletion`, so that whatever the engine deletes
 * is dropped on the server and shows:
 * - `pulumi destroy --target` of every URN of i0 destroys i0 alone (its
 *   database dropped, i2 and i4 untouched); before, i2's first resource
 *   depended on i0's last and the engine refused ("Either include resource
 *   in --target list or pass --target-dependents");
 * - `--target <i1's component> --target-dependents` takes i1 and its
 *   children, nothing of i3 or i5 (before, it dropped i3's and i5's
 *   databases too);
 * - `pulumi state delete` of every URN of i2 forgets i2 alone (refused
 *   before: i4 depended on it);
 * - `pulumi up --continue-on-error` with i0 failing (its database name is
 *   taken) creates every other instance (before, i2 and i4 were skipped);
 *   without the flag the run fails and ends, it does not hang.
 */
import { ExampleStack, urnName } from '../../../lab/engine';
import { withPg } from '../../../lab/inspect';
import { STEP_TIMEOUT, instancesConfig, newStack, serverObjects, sharedConfig, useDeployerBed } from './support';

jest.setTimeout(STEP_TIMEOUT);

const { sandbox, server, admin } = useDeployerBed();

const NAMES = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'];
const instances = NAMES.map((name) => ({ name, gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } }));

/** The stack's URNs (`pulumi stack export`). */
async function urns(stack: ExampleStack): Promise<string[]> {
  const state = JSON.parse(await stack.exportState()) as { deployment: { resources?: Array<{ urn: string }> } };
  return (state.deployment.resources ?? []).map((r) => r.urn);
}

/** The URNs of one instance: its InstanceDatabase component (`shared-<instance>`) and its children (`shared-<instance>-…`). */
function urnsOf(all: string[], instance: string): string[] {
  return all.filter((u) => {
    const name = urnName(u);
    return name === `shared-${instance}` || name.startsWith(`shared-${instance}-`);
  });
}

/** The instance names that still have a resource in the state. */
function instancesIn(all: string[]): string[] {
  return NAMES.filter((n) => urnsOf(all, n).length > 0);
}

describe('one instance alone: destroy --target, state delete', () => {
  let stack: ExampleStack;
  afterAll(async () => stack?.remove({ destroy: false }), STEP_TIMEOUT);

  test('up with two lanes creates the six instances', async () => {
    stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin(), { namePrefix: 'l_', adminMaxConnections: '4', allowDeletion: 'true', instances: instancesConfig(instances) }));
    await stack.up();
    expect(Object.keys((await serverObjects(server(), 'l_')).databases)).toEqual(NAMES.map((n) => `l_${n}`));
  });

  test('destroy --target with every URN of i0 destroys i0 alone', async () => {
    // the component, its password and salt, role, the admin's membership, database, PUBLIC's revoke
    const mine = urnsOf(await urns(stack), 'i0');
    expect(mine.map(urnName).sort()).toEqual(
      ['shared-i0', 'shared-i0-admin-membership', 'shared-i0-database', 'shared-i0-owner-password', 'shared-i0-owner-role', 'shared-i0-owner-scram-salt', 'shared-i0-revoke-public'].sort(),
    );
    const r = await stack.run(['destroy', '--yes', '--skip-preview', ...mine.flatMap((u) => ['--target', u])]);
    expect({ code: r.code, out: r.code === 0 ? '' : r.stdout.slice(-3000) }).toEqual({ code: 0, out: '' });
    expect(instancesIn(await urns(stack))).toEqual(['i1', 'i2', 'i3', 'i4', 'i5']);
    // allowDeletion: i0's database is dropped; i2 and i4, which took turns after it, are untouched
    expect(Object.keys((await serverObjects(server(), 'l_')).databases)).toEqual(['l_i1', 'l_i2', 'l_i3', 'l_i4', 'l_i5']);
  });

  test('destroy --target <i1> --target-dependents takes i1 and its children, nothing of i3 or i5', async () => {
    const component = (await urns(stack)).find((u) => u.endsWith('::shared-i1')) as string;
    const r = await stack.run(['destroy', '--yes', '--skip-preview', '--target', component, '--target-dependents']);
    expect({ code: r.code, out: r.code === 0 ? '' : r.stdout.slice(-3000) }).toEqual({ code: 0, out: '' });
    expect(instancesIn(await urns(stack))).toEqual(['i2', 'i3', 'i4', 'i5']);
    expect(Object.keys((await serverObjects(server(), 'l_')).databases)).toEqual(['l_i2', 'l_i3', 'l_i4', 'l_i5']);
  });

  test('state delete of every URN of i2 forgets i2 alone (its database stays on the server)', async () => {
    const r = await stack.run(['state', 'delete', '--yes', ...urnsOf(await urns(stack), 'i2')]);
    expect({ code: r.code, out: r.code === 0 ? '' : `${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}` }).toEqual({ code: 0, out: '' });
    expect(instancesIn(await urns(stack))).toEqual(['i3', 'i4', 'i5']);
    expect(Object.keys((await serverObjects(server(), 'l_')).databases)).toEqual(['l_i2', 'l_i3', 'l_i4', 'l_i5']);
  });
});

describe('one failing instance', () => {
  test('--continue-on-error: i0 fails (its database name is taken), every other instance is created', async () => {
    await withPg(server().admin(), (c) => c.query('CREATE DATABASE f_i0'));
    const stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin(), { namePrefix: 'f_', adminMaxConnections: '4', instances: instancesConfig(instances) }));
    try {
      const r = await stack.run(['up', '--yes', '--skip-preview', '--continue-on-error']);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toContain('database "f_i0" already exists');
      const objects = await serverObjects(server(), 'f_');
      // f_i0 is the one created by hand (owned by the superuser); i2 and i4 took turns after i0 and were created
      expect(objects.databases).toEqual({ f_i0: server().superuser, f_i1: 'f_i1', f_i2: 'f_i2', f_i3: 'f_i3', f_i4: 'f_i4', f_i5: 'f_i5' });
    } finally {
      await stack.remove({ destroy: false });
    }
  });

  test('without --continue-on-error the run fails and ends (no instance waits forever for its turn)', async () => {
    await withPg(server().admin(), (c) => c.query('CREATE DATABASE g_i0'));
    const stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin(), { namePrefix: 'g_', adminMaxConnections: '4', instances: instancesConfig(instances) }));
    try {
      const r = await stack.run(['up', '--yes', '--skip-preview'], { timeoutMs: STEP_TIMEOUT - 30_000 });
      // -1 would be the time limit
      expect(r.code).toBeGreaterThan(0);
      expect(r.stdout).toContain('database "g_i0" already exists');
    } finally {
      await stack.remove({ destroy: false });
    }
  });
});

describe('many allowDeletion instances destroyed at once', () => {
  test('destroy --parallel 16 of 40 instances drops every database and never waits for a pooled connection', async () => {
    // Without dependencies between instances the engine deletes 16 databases at once; each drop
    // holds the provider's advisory lock on one pooled connection and needs a second. With the
    // components' old pool of 4 this hung (nothing dropped after 240 s: measured with the same
    // roles, memberships and databases declared by hand); the pool is now max_connections.
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `m${i}`, gatewayPool: { maxConns: 1, minConns: 0 }, kratosPool: { maxConns: 1, maxIdleConns: 0 } }));
    const stack = await newStack(sandbox(), 'shared', sharedConfig(server(), admin(), { namePrefix: 'm_', allowDeletion: 'true', instances: instancesConfig(many) }));
    try {
      await stack.up();
      expect(Object.keys((await serverObjects(server(), 'm_')).databases)).toHaveLength(40);
      const r = await stack.run(['destroy', '--yes', '--skip-preview', '--parallel', '16'], { timeoutMs: STEP_TIMEOUT - 30_000 });
      expect({ code: r.code, out: r.code === 0 ? '' : r.stdout.slice(-3000) }).toEqual({ code: 0, out: '' });
      expect(await serverObjects(server(), 'm_')).toEqual({ databases: {}, roles: [] });
    } finally {
      await stack.remove({ destroy: false });
    }
  });
});
