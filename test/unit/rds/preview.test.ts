/**
 * A first `pulumi preview` of RdsPostgres + SharedPostgres: the instance's
 * address and port, the generated password, the snapshot suffix and every
 * URL are unknown. Nothing may break: the same resources are declared as in
 * an update, the budget is checked from plain numbers, and the outputs stay
 * unknown and secret.
 */
import { installMocks, settle, settled } from '../../../lab/pulumi-mocks';
const rt = installMocks({ preview: true, stack: 'prod' });

import * as pulumi from '@pulumi/pulumi';
import { RdsPostgres } from '../../../src/rds/component';
import { SharedPostgres } from '../../../src/provisioning/shared';
import { seedInstances } from '../../../examples/shared/instances';

const db = new RdsPostgres('app-db', {
  vpcId: 'vpc-1',
  subnetIds: ['s-1', 's-2'],
  allowedSecurityGroupIds: ['sg-app'],
  instanceClass: 'db.t4g.medium',
  readReplica: {},
  sslrootcert: 'global-bundle.pem',
});
const shared = new SharedPostgres('shared', { server: db.handle, namePrefix: 'vw_', instances: seedInstances });

beforeAll(settled);

test('address, snapshot name and password are unknown, and the handle carries the instance outputs as they are', async () => {
  for (const o of [db.address, db.finalSnapshotIdentifier, db.readerAddress!, pulumi.output(db.handle.host)]) {
    expect((await settle(o as pulumi.Output<unknown>)).known).toBe(false);
  }
  // The port is the instance's output (the planned value of its input here), never a constant of ours.
  expect(db.handle.port).toBe(db.instance.port);
  expect(db.handle.host).toBe(db.instance.address);
  const pw = await settle(db.masterPassword!);
  expect(pw).toMatchObject({ known: false, secret: true });
});

test('every URL (direct and reader) is unknown and secret', async () => {
  for (const o of [shared.urls, shared.kratosDsns, shared.instances['blog']!.pgxUrl, shared.instances['api']!.readerUrl!]) {
    expect(await settle(o as pulumi.Output<unknown>)).toMatchObject({ known: false, secret: true });
  }
});

test('the same resources are declared as in an update; the budget comes from the class table', () => {
  const count = (type: string): number => rt.ofType(type).length;
  expect(count('aws:rds/instance:Instance')).toBe(2);
  expect(count('aws:rds/parameterGroup:ParameterGroup')).toBe(1);
  expect(count('aws:rds/subnetGroup:SubnetGroup')).toBe(1);
  expect(count('aws:ec2/securityGroup:SecurityGroup')).toBe(1);
  expect(count('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')).toBe(1);
  expect(count('random:index/randomId:RandomId')).toBe(1);
  expect(count('pulumi:providers:postgresql')).toBe(1);
  expect(count('postgresql:index/database:Database')).toBe(3);
  expect(count('postgresql:index/role:Role')).toBe(3);
  expect(rt.named('app-db-ingress-sg-0').inputs).toMatchObject({ fromPort: 5432, toPort: 5432, referencedSecurityGroupId: 'sg-app' });
  expect(shared.budget).toMatchObject({ maxConnections: 408, total: 30 });
});
