/**
 * The second and tenth `pulumi up` of RdsPostgres, under the mock runtime:
 * what Pulumi is told about each resource decides what a later update or a
 * `destroy` does to the running instance.
 *
 * - A change that would replace the instance (`username`, `kmsKeyId`) must
 *   fail at preview and leave the instance in the state: the instance is
 *   `protect`ed (the engine refuses to replace a protected resource in
 *   preview), not merely retained (retain + deleteBeforeReplace dropped the
 *   old instance from the state and then failed with DBInstanceAlreadyExists).
 * - What the instance runs in is kept with it: subnet and security groups
 *   protected and retained, the parameter group retained (protected unless a
 *   major upgrade is allowed), the ingress rules deleted with their group
 *   (`deletedWith`), so a retained group keeps them while a removed source
 *   is still revoked, and the instance depends on them, so `pulumi destroy
 *   --exclude-protected` (which keeps the dependencies of what is protected)
 *   leaves them.
 * - A rename (`identifier`, in place with @pulumi/aws 7) or a port change
 *   replaces no group: the inputs that would (name prefix, description) are
 *   fixed at creation (ignoreChanges), so the engine diffs the state's.
 * - A defaulted identifier is fixed at creation too: a stack created by an
 *   older release (`<name>-<stack>`) keeps its instance, replica and final
 *   snapshot names under the new default (`<project>-<stack>-<name>`).
 * - `allowDeletion` lifts all of it; a `protect` given to the component
 *   still reaches every child.
 */
import { RecordedResource, installMocks, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from './fixture';
import * as pulumi from '@pulumi/pulumi';
import { RdsPostgres, RdsPostgresArgs } from '../../../src/rds/component';
import { ValidationError } from '../../../src/core/errors';
import { SslMode } from '../../../src/core/tls';
import { engineInputs, replaceReasons } from '../../compat/compat';

const base: RdsPostgresArgs = {
  vpcId: 'vpc-1',
  subnetIds: ['s-1', 's-2'],
  allowedSecurityGroupIds: ['sg-app'],
  allowedCidrs: ['10.0.0.0/16'],
  sslrootcert: 'global-bundle.pem',
  readReplica: {},
};

const GROUPS = ['subnets', 'security-group', 'parameters'];
const RULES = ['ingress-sg-0', 'ingress-cidr-0'];

/** Evaluates one RdsPostgres in a fresh mock runtime (one program run = one preview or update). */
async function evaluate(args: Partial<RdsPostgresArgs>, opts: pulumi.ComponentResourceOptions = {}, stack = 'prod', project = 'shop'): Promise<(suffix: string) => RecordedResource> {
  const rt = installMocks({ project, stack, state: rdsState });
  new RdsPostgres('app-db', { ...base, ...args }, opts);
  await settled();
  return (suffix) => rt.named(`app-db-${suffix}`);
}

describe('by default', () => {
  let r: (suffix: string) => RecordedResource;
  beforeAll(async () => {
    r = await evaluate({});
  });

  test('the instance is protected: a username or kmsKeyId change fails the preview and the state keeps it', () => {
    expect(r('instance')).toMatchObject({ protect: true, retainOnDelete: true, deleteBeforeReplace: true });
  });

  test('its subnet and security groups are protected and retained with it', () => {
    for (const g of ['subnets', 'security-group']) expect(r(g)).toMatchObject({ protect: true, retainOnDelete: true });
  });

  test('its parameter group is retained and protected (no family change without allowMajorVersionUpgrade)', () => {
    expect(r('parameters')).toMatchObject({ protect: true, retainOnDelete: true, deleteBeforeReplace: false });
  });

  test('each ingress rule leaves with its group: not retained (a removed source is revoked), deletedWith the security group', () => {
    const group = r('security-group');
    for (const name of RULES) {
      const rule = r(name);
      expect(rule.deletedWith).toBe(group.urn);
      expect(rule.retainOnDelete).not.toBe(true);
      expect(rule.protect).not.toBe(true);
    }
  });

  test('the instance depends on every group and rule, so what keeps it (--exclude-protected) keeps them', () => {
    const deps = r('instance').dependencies;
    for (const name of [...GROUPS, ...RULES]) expect(deps).toContain(r(name).urn);
  });

  test('the replica (no data of its own) is neither protected nor retained', () => {
    expect(r('replica').protect).not.toBe(true);
    expect(r('replica').retainOnDelete).not.toBe(true);
  });
});

test('allowDeletion lifts protect and retain on the instance and every group', async () => {
  const r = await evaluate({ allowDeletion: true, deletionProtection: false });
  for (const name of ['instance', ...GROUPS]) {
    expect(r(name).protect).not.toBe(true);
    expect(r(name).retainOnDelete).not.toBe(true);
  }
});

test('a protect given to the component still reaches every child, allowDeletion or not', async () => {
  const r = await evaluate({ allowDeletion: true }, { protect: true });
  for (const name of ['instance', ...GROUPS, ...RULES]) expect(r(name).protect).toBe(true);
});

test('allowMajorVersionUpgrade unprotects only the parameter group (its family changes), which stays retained', async () => {
  const r = await evaluate({ allowMajorVersionUpgrade: true });
  expect(r('parameters')).toMatchObject({ retainOnDelete: true });
  expect(r('parameters').protect).not.toBe(true);
  expect(r('instance')).toMatchObject({ protect: true, retainOnDelete: true });
});

describe('a rename, a new port or a new default changes the instance only', () => {
  /** The registrations of every group, the instance and replica, and the snapshot suffix, in one evaluation. */
  async function resources(args: Partial<RdsPostgresArgs>, project = 'shop'): Promise<Record<string, RecordedResource>> {
    const r = await evaluate(args, {}, 'prod', project);
    return Object.fromEntries(['instance', 'replica', 'final-snapshot-suffix', ...GROUPS].map((n) => [n, r(n)]));
  }
  /** What the engine would replace in each group when `after` is deployed over the state `before` left. */
  const replaced = (before: Record<string, RecordedResource>, after: Record<string, RecordedResource>): Record<string, string[]> =>
    Object.fromEntries(GROUPS.map((g) => [g, replaceReasons(after[g]!.type, before[g]!.inputs, engineInputs(before[g]!.inputs, after[g]!))]));

  test('identifier: no group is replaced (their names and descriptions are fixed at creation); the instance and replica are renamed', async () => {
    const before = await resources({});
    const after = await resources({ identifier: 'orders-db' });
    // Without ignoreChanges the groups would be replaced (their inputs name the identifier)...
    expect(replaceReasons(after['security-group']!.type, before['security-group']!.inputs, after['security-group']!.inputs)).toEqual(['description', 'namePrefix']);
    // ...with it, the engine keeps the state's values.
    expect(replaced(before, after)).toEqual({ subnets: [], 'security-group': [], parameters: [] });
    expect(before['subnets']!.inputs).toMatchObject({ namePrefix: 'shop-prod-app-db-' });
    expect(before['parameters']!.inputs).toMatchObject({ namePrefix: 'shop-prod-app-db-postgres17-' });
    // A given identifier renames (no ignoreChanges on it), with the replica.
    expect(after['instance']!.ignoreChanges).toEqual([]);
    expect([before['instance']!.inputs['identifier'], after['instance']!.inputs['identifier']]).toEqual(['shop-prod-app-db', 'orders-db']);
    expect([before['replica']!.inputs['identifier'], after['replica']!.inputs['identifier']]).toEqual(['shop-prod-app-db-replica', 'orders-db-replica']);
  });

  test('port: no group is replaced (the security group\'s description names the port, fixed at creation)', async () => {
    const before = await resources({});
    const after = await resources({ port: 6543 });
    expect(after['security-group']!.inputs['description']).not.toEqual(before['security-group']!.inputs['description']);
    expect(replaced(before, after)).toEqual({ subnets: [], 'security-group': [], parameters: [] });
  });

  test('a new default identifier (another project, or the next release\'s default) renames nothing an existing stack has', async () => {
    const before = await resources({}, 'shop');
    const after = await resources({}, 'blog');
    expect(after['instance']!.inputs['identifier']).toBe('blog-prod-app-db');
    // The engine diffs the state's identifier, keepers and group names: the instance, replica and snapshot keep theirs.
    expect(engineInputs(before['instance']!.inputs, after['instance']!)['identifier']).toBe('shop-prod-app-db');
    expect(engineInputs(before['final-snapshot-suffix']!.inputs, after['final-snapshot-suffix']!)).toEqual(before['final-snapshot-suffix']!.inputs);
    expect(replaced(before, after)).toEqual({ subnets: [], 'security-group': [], parameters: [] });
    for (const g of GROUPS) {
      const kept = engineInputs(before[g]!.inputs, after[g]!);
      expect([kept['namePrefix'], kept['description']]).toEqual([before[g]!.inputs['namePrefix'], before[g]!.inputs['description']]);
    }
  });

  test('allowMajorVersionUpgrade: the parameter group of the new family is named after it', async () => {
    const r = await evaluate({ allowMajorVersionUpgrade: true, engineVersion: '16' });
    expect(r('parameters').ignoreChanges).toEqual(['description']);
    expect(r('parameters').inputs).toMatchObject({ family: 'postgres16', namePrefix: 'shop-prod-app-db-postgres16-' });
  });
});

describe('refused before any resource exists', () => {
  async function error(args: Partial<RdsPostgresArgs>): Promise<ValidationError> {
    const rt = installMocks({ stack: 'prod', state: rdsState });
    let thrown: unknown;
    try {
      new RdsPostgres('bad', { ...base, ...args } as RdsPostgresArgs);
    } catch (e) {
      thrown = e;
    }
    await settled();
    expect(rt.resources).toHaveLength(0);
    expect(thrown).toBeInstanceOf(ValidationError);
    return thrown as ValidationError;
  }

  test('a minor pinned while RDS upgrades minors, naming both fixes', async () => {
    const e = await error({ engineVersion: '17.4' });
    expect(e.field).toBe('engineVersion');
    expect(e.fix).toContain('engineVersion: "17"');
    expect(e.fix).toContain('autoMinorVersionUpgrade: false');
  });

  test('no CA bundle for the default verify-full, naming where to get it', async () => {
    const e = await error({ sslrootcert: undefined });
    expect(e.field).toBe('sslrootcert');
    expect(e.fix).toContain('https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem');
    expect(e.fix).toContain('sslmode: SslMode.Require');
  });
});

test('a pinned minor with autoMinorVersionUpgrade off reaches the instance and the replica as given', async () => {
  const r = await evaluate({ engineVersion: '16.4', autoMinorVersionUpgrade: false });
  expect(r('instance').inputs).toMatchObject({ engineVersion: '16.4', autoMinorVersionUpgrade: false });
  expect(r('replica').inputs).toMatchObject({ autoMinorVersionUpgrade: false });
  expect(r('parameters').inputs).toMatchObject({ family: 'postgres16' });
});

test('require, chosen explicitly, is the only way to go without the CA bundle', async () => {
  const r = await evaluate({ sslrootcert: undefined, sslmode: SslMode.Require });
  expect(r('admin').inputs).toMatchObject({ sslmode: 'require' });
  expect(r('admin').inputs['sslrootcert']).toBeUndefined();
});
