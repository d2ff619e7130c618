/**
 * The final snapshot's identifier across evaluations of the same program:
 * a second evaluation of one stack keeps the same identifier (nothing is
 * replaced, nothing is renamed), another stack gets another one (its own
 * instance identifier and its own random suffix), so two stacks in one
 * account and region — or two destroys — never collide on a snapshot name.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
import { rdsState } from './fixture';
import { RdsPostgres } from '../../../src/rds/component';

async function evaluate(stack: string): Promise<{ identifier: string; snapshot: string; suffixKeepers: unknown }> {
  const rt = installMocks({ project: 'shop', stack, state: rdsState });
  const db = new RdsPostgres('app-db', { vpcId: 'vpc-1', subnetIds: ['s-1', 's-2'], allowedCidrs: ['10.0.0.0/16'], sslrootcert: 'global-bundle.pem' });
  await settled();
  const snapshot = (await settle(db.finalSnapshotIdentifier)).value as string;
  const instance = rt.named('app-db-instance').inputs;
  expect(instance['finalSnapshotIdentifier']).toBe(snapshot);
  return { identifier: String(instance['identifier']), snapshot, suffixKeepers: rt.named('app-db-final-snapshot-suffix').inputs['keepers'] };
}

test('same stack: same identifier; another stack: another identifier', async () => {
  const dev1 = await evaluate('dev');
  const dev2 = await evaluate('dev');
  const prod = await evaluate('prod');
  expect(dev1.identifier).toBe('shop-dev-app-db');
  expect(dev1.snapshot).toMatch(/^shop-dev-app-db-final-[0-9a-f]{8}$/);
  expect(dev2).toEqual(dev1);
  expect(prod.identifier).toBe('shop-prod-app-db');
  expect(prod.snapshot).toMatch(/^shop-prod-app-db-final-[0-9a-f]{8}$/);
  expect(prod.snapshot).not.toBe(dev1.snapshot);
  // The random suffix is keyed on the identifier: a new identifier (a replacement) draws a new suffix.
  expect(prod.suffixKeepers).not.toEqual(dev1.suffixKeepers);
  expect(prod.suffixKeepers).toMatchObject({ identifier: 'shop-prod-app-db' });
});
